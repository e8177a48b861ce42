/* SPDX: entrystub guest kernel. The register-save macros of Linux's
 * arch/x86/entry/calling.h: same names, same order, so a reader can hold
 * the two side by side. */

/* offsets into struct pt_regs, by the names Linux's calling.h uses; the
 * values come from the compiler (asm-offsets.c), not from this file */
#include "generated/asm-offsets.h"
#include "segment.h"
#include "hypercall.h"

#define R15	pt_regs_r15
#define R14	pt_regs_r14
#define R13	pt_regs_r13
#define R12	pt_regs_r12
#define RBP	pt_regs_bp
#define RBX	pt_regs_bx
#define R11	pt_regs_r11
#define R10	pt_regs_r10
#define R9	pt_regs_r9
#define R8	pt_regs_r8
#define RAX	pt_regs_ax
#define RCX	pt_regs_cx
#define RDX	pt_regs_dx
#define RSI	pt_regs_si
#define RDI	pt_regs_di
#define ORIG_RAX pt_regs_orig_ax
#define RIP	pt_regs_ip
#define CS	pt_regs_cs
#define EFLAGS	pt_regs_flags
#define RSP	pt_regs_sp
#define SS	pt_regs_ss

#define ENOSYS 38
#define EFAULT 14

#ifdef __ASSEMBLER__
/*
 * (No CFI in these macros: an entry frame's rules name pt_regs by absolute
 * address, see cfi.h, so pushes and pops do not change them.)
 *
 * PUSH_REGS: after the hardware-like frame (ss, sp, flags, cs, ip) and
 * orig_ax, complete pt_regs from di down to r15. ax is pushed as \rax
 * (-ENOSYS for syscalls: the result if the call is never made).
 */
.macro PUSH_REGS rax=%rax
	pushq	%rdi		/* pt_regs->di */
	pushq	%rsi		/* pt_regs->si */
	pushq	%rdx		/* pt_regs->dx */
	pushq	%rcx		/* pt_regs->cx */
	pushq	\rax		/* pt_regs->ax */
	pushq	%r8		/* pt_regs->r8 */
	pushq	%r9		/* pt_regs->r9 */
	pushq	%r10		/* pt_regs->r10 */
	pushq	%r11		/* pt_regs->r11 */
	pushq	%rbx		/* pt_regs->bx */
	pushq	%rbp		/* pt_regs->bp */
	pushq	%r12		/* pt_regs->r12 */
	pushq	%r13		/* pt_regs->r13 */
	pushq	%r14		/* pt_regs->r14 */
	pushq	%r15		/* pt_regs->r15 */
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
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	.if \skip_r11rcx
	popq	%rsi		/* r11 is already user flags: discard */
	.else
	popq	%r11
	.endif
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	.if \skip_r11rcx
	popq	%rsi		/* rcx is already user ip: discard */
	.else
	popq	%rcx
	.endif
	popq	%rdx
	popq	%rsi
	.if \pop_rdi
	popq	%rdi
	.endif
.endm
#endif
