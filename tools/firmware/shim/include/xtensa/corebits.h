/* firmware-check shim (environment only): NodeMCU's app/user and
 * app/esp-gdbstub include <xtensa/corebits.h> from the Xtensa HAL that ships
 * with the firmware's own toolchain; Debian's gcc-xtensa-lx106 has no HAL
 * headers. These are the architectural constants they use, written from the
 * Xtensa ISA (EXCCAUSE codes, PS register fields). Reached only through
 * -idirafter, so a toolchain that has the real header uses it instead. */
#ifndef FWCHECK_XTENSA_COREBITS_H
#define FWCHECK_XTENSA_COREBITS_H

#define EXCCAUSE_ILLEGAL                0
#define EXCCAUSE_SYSCALL                1
#define EXCCAUSE_INSTR_ERROR            2
#define EXCCAUSE_LOAD_STORE_ERROR       3
#define EXCCAUSE_LEVEL1_INTERRUPT       4
#define EXCCAUSE_ALLOCA                 5
#define EXCCAUSE_DIVIDE_BY_ZERO         6
#define EXCCAUSE_PRIVILEGED             8
#define EXCCAUSE_UNALIGNED              9
#define EXCCAUSE_INSTR_DATA_ERROR       12
#define EXCCAUSE_LOAD_STORE_DATA_ERROR  13
#define EXCCAUSE_INSTR_ADDR_ERROR       14
#define EXCCAUSE_LOAD_STORE_ADDR_ERROR  15
#define EXCCAUSE_ITLB_MISS              16
#define EXCCAUSE_ITLB_MULTIHIT          17
#define EXCCAUSE_INSTR_RING             18
#define EXCCAUSE_INSTR_PROHIBITED       20
#define EXCCAUSE_DTLB_MISS              24
#define EXCCAUSE_DTLB_MULTIHIT          25
#define EXCCAUSE_LOAD_STORE_RING        26
#define EXCCAUSE_LOAD_PROHIBITED        28
#define EXCCAUSE_STORE_PROHIBITED       29

/* PS fields: INTLEVEL [3:0], EXCM [4], UM [5], RING [7:6], OWB [11:8],
 * CALLINC [17:16], WOE [18]. */
#define PS_INTLEVEL_SHIFT   0
#define PS_INTLEVEL_MASK    0x0000000F
#define PS_EXCM_SHIFT       4
#define PS_EXCM_MASK        0x00000010
#define PS_UM_SHIFT         5
#define PS_UM_MASK          0x00000020
#define PS_RING_SHIFT       6
#define PS_RING_MASK        0x000000C0
#define PS_OWB_SHIFT        8
#define PS_OWB_MASK         0x00000F00
#define PS_CALLINC_SHIFT    16
#define PS_CALLINC_MASK     0x00030000
#define PS_WOE_SHIFT        18
#define PS_WOE_MASK         0x00040000

#endif
