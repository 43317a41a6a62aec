/* Start-up code and exception vectors for the LX106 core of
 * `qemu-system-xtensa -M sim -cpu lx106` (call0 ABI, no OS).
 *
 * - The core resets at 0x50000000 (the sim machine's system ROM, which QEMU
 *   backs with RAM and fills from the ELF). The stub there loads the address
 *   of _start from a literal and jumps (L32R only reaches backwards, so the
 *   stub first jumps over its own literal).
 * - PS stays as reset left it (EXCM=1, INTLEVEL=15): no interrupts, and any
 *   exception is taken at the double-exception vector. Every vector reports
 *   through emu_fault(vector, EXCCAUSE, PC) in semihost.c, which prints and
 *   exits with a non-zero status, so a fault can never look like a pass.
 * - _start sets the stack pointer (a1), zeroes .bss, runs main and passes
 *   its status to exit(). */

	.section .reset.text, "ax"
	.global _reset
_reset:
	j	1f
	.align	4
.Lstart_addr:
	.word	_start
1:	l32r	a2, .Lstart_addr
	jx	a2

/* Vectors at VECBASE (0x40000000, instruction RAM 0). Each one sets a2 to
 * its number and the PC register that holds the faulting address in a4,
 * then jumps to the common handler placed right after the vectors. */
	.section .vectors.text, "ax"
	.global _vectors
_vectors:
	.org	0x10			/* debug / level-2 interrupt */
	movi	a2, 2
	rsr	a4, epc2
	j	.Lfault
	.org	0x20			/* NMI / level-3 interrupt */
	movi	a2, 3
	rsr	a4, epc3
	j	.Lfault
	.org	0x30			/* kernel exception */
	movi	a2, 4
	rsr	a4, epc1
	j	.Lfault
	.org	0x50			/* user exception */
	movi	a2, 5
	rsr	a4, epc1
	j	.Lfault
	.org	0x70			/* double exception: every fault with PS.EXCM=1 */
	movi	a2, 6
	rsr	a4, depc
	j	.Lfault
	.org	0x80
	.align	4
.Lfault_fn:
	.word	emu_fault
.Lfault_stack:
	.word	__fault_stack_top
.Lfault:
	rsr	a3, exccause
	l32r	a1, .Lfault_stack
	l32r	a0, .Lfault_fn
	callx0	a0
1:	j	1b

	.section .text._start, "ax"
	.global _start
	.align	4
.Lstack_top:
	.word	__stack
.Lbss_start:
	.word	__bss_start
.Lbss_end:
	.word	__bss_end
.Lmain:
	.word	main
.Lexit:
	.word	exit
_start:
	l32r	a1, .Lstack_top
	l32r	a2, .Lbss_start
	l32r	a3, .Lbss_end
	movi	a4, 0
2:	bgeu	a2, a3, 3f
	s32i	a4, a2, 0
	addi	a2, a2, 4
	j	2b
3:	movi	a2, 0			/* argc */
	movi	a3, 0			/* argv */
	l32r	a0, .Lmain
	callx0	a0
	l32r	a0, .Lexit
	callx0	a0			/* exit(main's status); does not return */
4:	j	4b
