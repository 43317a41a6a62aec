/* Probe for tools/size/rodata-loads.py (rodata-loads-test.sh), written in
 * assembly for an exact shape: a register holds a .rodata address on one
 * path (loaded first in program order), but the half-word load in the loop
 * is reached only on the path that replaced it with a stack value. A
 * program-order scan flags that load; the control-flow analysis must not. */
	.section .rodata.probe_halves,"a"
	.align 4
	.type probe_halves, @object
probe_halves:
	.short 1, 2, 3, 4
	.size probe_halves, 8

	.section .text.probe_decode_restored,"ax",@progbits
	.literal_position
	.literal .LCprobe0, probe_halves
	.align 4
	.global probe_decode_restored
	.type probe_decode_restored, @function
probe_decode_restored:
	addi a1, a1, -16
	s32i a2, a1, 0
	l32r a15, .LCprobe0
	l32i a8, a15, 0
	j .Lprobe_after
.Lprobe_back:
	l16ui a8, a15, 2
	addi a3, a3, -1
.Lprobe_after:
	l32i a15, a1, 0
	bnez a3, .Lprobe_back
	addi a1, a1, 16
	ret
	.size probe_decode_restored, . - probe_decode_restored
