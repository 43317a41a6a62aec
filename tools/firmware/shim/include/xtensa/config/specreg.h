/* firmware-check shim (environment only): special register numbers from the
 * Xtensa ISA, as app/esp-gdbstub/gdbstub-entry.S uses them (`EPC +
 * level` style bases included). See corebits.h for why this exists. */
#ifndef FWCHECK_XTENSA_SPECREG_H
#define FWCHECK_XTENSA_SPECREG_H

#define SAR             3
#define LITBASE         5
#define IBREAKENABLE    96
#define DDR             104
#define IBREAKA         128
#define IBREAKA_0       128
#define IBREAKA_1       129
#define DBREAKA         144
#define DBREAKA_0       144
#define DBREAKA_1       145
#define DBREAKC         160
#define DBREAKC_0       160
#define DBREAKC_1       161
#define EPC             176
#define EPC_1           177
#define EPC_2           178
#define EPC_3           179
#define DEPC            192
#define EPS             192
#define EPS_2           194
#define EPS_3           195
#define EXCSAVE         208
#define EXCSAVE_1       209
#define EXCSAVE_2       210
#define EXCSAVE_3       211
#define INTERRUPT       226
#define INTCLEAR        227
#define INTENABLE       228
#define PS              230
#define VECBASE         231
#define EXCCAUSE        232
#define DEBUGCAUSE      233
#define CCOUNT          234
#define PRID            235
#define ICOUNT          236
#define ICOUNTLEVEL     237
#define EXCVADDR        238
#define CCOMPARE_0      240

#endif
