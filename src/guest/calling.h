/* SPDX: entrystub guest kernel. The register-save macros of Linux's
 * arch/x86/entry/calling.h, written from the documented layout of
 * struct pt_regs (see pt_regs.h): same names, same order, so a reader can
 * hold the two side by side. */

/* offsets into struct pt_regs */
#define R15	0*8
#define R14	1*8
#define R13	2*8
#define R12	3*8
#define RBP	4*8
#define RBX	5*8
#define R11	6*8
#define R10	7*8
#define R9	8*8
#define R8	9*8
#define RAX	10*8
#define RCX	11*8
#define RDX	12*8
#define RSI	13*8
#define RDI	14*8
#define ORIG_RAX 15*8
#define RIP	16*8
#define CS	17*8
#define EFLAGS	18*8
#define RSP	19*8
#define SS	20*8
#define SIZEOF_PTREGS 21*8

#define __KERNEL_CS	0x10
#define __KERNEL_DS	0x18
#define __USER_DS	0x2b
#define __USER_CS	0x33

#define ENOSYS 38

/* hypercall services: %eax selects, vmcall traps to the host */
#define HC_SYSCALL	1
#define HC_EXIT_WORK	2
#define HC_PRINTK	3
#define HC_BOOT_DONE	4

#ifdef __ASSEMBLER__
/*
 * PUSH_REGS: after the hardware-like frame (ss, sp, flags, cs, ip) and
 * orig_ax, complete pt_regs from di down to r15. ax is pushed as \rax
 * (-ENOSYS for syscalls: the result if the call is never made).
 */
.macro PUSH_REGS rax=%rax
	pushq	%rdi		/* pt_regs->di */
	.cfi_adjust_cfa_offset 8
	pushq	%rsi		/* pt_regs->si */
	.cfi_adjust_cfa_offset 8
	pushq	%rdx		/* pt_regs->dx */
	.cfi_adjust_cfa_offset 8
	pushq	%rcx		/* pt_regs->cx */
	.cfi_adjust_cfa_offset 8
	pushq	\rax		/* pt_regs->ax */
	.cfi_adjust_cfa_offset 8
	pushq	%r8		/* pt_regs->r8 */
	.cfi_adjust_cfa_offset 8
	pushq	%r9		/* pt_regs->r9 */
	.cfi_adjust_cfa_offset 8
	pushq	%r10		/* pt_regs->r10 */
	.cfi_adjust_cfa_offset 8
	pushq	%r11		/* pt_regs->r11 */
	.cfi_adjust_cfa_offset 8
	pushq	%rbx		/* pt_regs->bx */
	.cfi_adjust_cfa_offset 8
	pushq	%rbp		/* pt_regs->bp */
	.cfi_adjust_cfa_offset 8
	pushq	%r12		/* pt_regs->r12 */
	.cfi_adjust_cfa_offset 8
	pushq	%r13		/* pt_regs->r13 */
	.cfi_adjust_cfa_offset 8
	pushq	%r14		/* pt_regs->r14 */
	.cfi_adjust_cfa_offset 8
	pushq	%r15		/* pt_regs->r15 */
	.cfi_adjust_cfa_offset 8
.endm

/* CLEAR_REGS: user values must not leak into speculation in the kernel. */
.macro CLEAR_REGS
	xorl	%esi, %esi
	xorl	%edx, %edx
	xorl	%ecx, %ecx
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%ebx, %ebx
	xorl	%ebp, %ebp
	xorq	%r12, %r12
	xorq	%r13, %r13
	xorq	%r14, %r14
	xorq	%r15, %r15
.endm

.macro PUSH_AND_CLEAR_REGS rax=%rax
	PUSH_REGS rax=\rax
	CLEAR_REGS
.endm

/* POP_REGS: the reverse of PUSH_REGS, r15 up to di. */
.macro POP_REGS pop_rdi=1 skip_r11rcx=0
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.if \skip_r11rcx
	popq	%rsi		/* r11 is already user flags: discard */
	.else
	popq	%r11
	.endif
	.cfi_adjust_cfa_offset -8
	popq	%r10
	.cfi_adjust_cfa_offset -8
	popq	%r9
	.cfi_adjust_cfa_offset -8
	popq	%r8
	.cfi_adjust_cfa_offset -8
	popq	%rax
	.cfi_adjust_cfa_offset -8
	.if \skip_r11rcx
	popq	%rsi		/* rcx is already user ip: discard */
	.else
	popq	%rcx
	.endif
	.cfi_adjust_cfa_offset -8
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	.if \pop_rdi
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	.endif
.endm
#endif
