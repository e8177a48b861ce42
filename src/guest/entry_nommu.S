/*
 * UML without MMU: the syscall entry. User code reaches __kernel_vsyscall
 * either from the zpoline trampoline at address 0 (a rewritten
 * `call *%rax`, whose return address the trampoline popped into %rcx) or
 * directly from the seccomp-style trap (RCX = the instruction after the
 * `syscall`). Either way: RAX = syscall number, RCX = where to return,
 * RSP = the user stack exactly as it was before the call.
 */
#include "calling.h"

	.text
	.globl	__kernel_vsyscall
	.type	__kernel_vsyscall, @function
__kernel_vsyscall:
	.cfi_startproc simple
	.cfi_def_cfa	%rsp, 0
	.cfi_register	%rip, %rcx
	/* r11 is scratch by the syscall ABI: keep the user stack pointer in it */
	movq	%rsp, %r11
	.cfi_def_cfa_register %r11
	/* point RSP just past the ss slot of the task's pt_regs image */
	movq	current_ptregs(%rip), %rsp
	addq	$SIZEOF_PTREGS, %rsp
	/* the frame an interrupt would have pushed; UML has no selectors: cs = ss = 0 */
	pushq	$0			/* pt_regs->ss */
	pushq	%r11			/* pt_regs->sp: the user stack */
	pushfq				/* pt_regs->flags: user flags, untouched so far */
	pushq	$0			/* pt_regs->cs */
	pushq	%rcx			/* pt_regs->ip: the return address */
	.cfi_def_cfa	%rsp, 8
	.cfi_offset	%rip, -8
	.cfi_offset	%rsp, 16
entry_SYSCALL_64_after_hwframe:
	pushq	%rax			/* pt_regs->orig_ax: the syscall number */
	.cfi_adjust_cfa_offset 8
	PUSH_AND_CLEAR_REGS rax=$-ENOSYS
	/* do_syscall_64(regs) runs on the task's kernel stack */
	movq	%rsp, %rdi
	movq	current_top_of_stack(%rip), %rsp
	/*
	 * The stack's top is where pt_regs starts (syscall.c keeps task_regs
	 * right above task_stack), so the rule above still holds: the caller's
	 * ip and sp are pt_regs->ip and ->sp, and backtraces reach the program.
	 */
	call	do_syscall_64
	jmp	userspace
	.cfi_endproc
	.size	__kernel_vsyscall, .-__kernel_vsyscall

/*
 * userspace: the common way back to the program, after a syscall, and after
 * the host relays a fault (it points RSP at current_top_of_stack and RIP here).
 * Pending work (signals) is done in interrupt_end(); then the registers come
 * back from pt_regs, and `jmp *%rcx` returns: RFLAGS is not restored, DF is
 * clear (cld), and r11 keeps what pt_regs->r11 held (the user RSP at entry).
 */
	.globl	userspace
	.type	userspace, @function
userspace:
	.cfi_startproc simple
	/* RSP = current_top_of_stack = current_ptregs: the frame to return to is pt_regs */
	.cfi_def_cfa	%rsp, RIP + 8
	.cfi_offset	%rip, -8
	.cfi_offset	%rsp, 16
	cld
	andq	$-16, %rsp
	call	interrupt_end
	movq	current_ptregs(%rip), %rsp
	POP_REGS
	addq	$8, %rsp		/* skip orig_ax */
	.cfi_adjust_cfa_offset -8
	popq	%rcx			/* pt_regs->ip */
	.cfi_adjust_cfa_offset -8
	.cfi_register	%rip, %rcx
	addq	$16, %rsp		/* skip cs and flags */
	.cfi_adjust_cfa_offset -16
	popq	%rsp			/* pt_regs->sp */
	.cfi_def_cfa	%rsp, 0
	.cfi_restore	%rsp
userspace_return:
	jmp	*%rcx
	.cfi_endproc
	.size	userspace, .-userspace
