/*
 * UML without MMU: the syscall entry. User code reaches __kernel_vsyscall
 * either from the zpoline trampoline at address 0 (a rewritten
 * `call *%rax`, whose return address the trampoline popped into %rcx) or
 * directly from the seccomp-style trap (RCX = the instruction after the
 * `syscall`). Either way: RAX = syscall number, RCX = where to return,
 * RSP = the user stack exactly as it was before the call.
 */
#include "calling.h"
#include "generated/syscalls_64.h"

/* for cfi.h: current_ptregs (at ENTRY_AREA) points at the task's pt_regs */
#define PTREGS_PTR	ENTRY_AREA
#define PTREGS_BIAS	0
#include "cfi.h"

	.text
	.globl	__kernel_vsyscall
	.type	__kernel_vsyscall, @function
__kernel_vsyscall:
	/* CFI: a debugger unwinds from any instruction into the program (cfi.h) */
	.cfi_startproc simple
	.cfi_def_cfa	%rsp, 0
	.cfi_register	%rip, %rcx
	/* r11 is scratch by the syscall ABI: keep the user stack pointer in it */
	movq	%rsp, %r11
	.cfi_def_cfa_register %r11
	/* point RSP just past the ss slot of the task's pt_regs image (lea, not add:
	 * the user's flags are still live and pushfq saves them below) */
	movq	current_ptregs(%rip), %rsp
	leaq	SIZEOF_PTREGS(%rsp), %rsp
	/* the frame an interrupt would have pushed; UML has no selectors: cs = ss = 0 */
	pushq	$0			/* pt_regs->ss */
	pushq	%r11			/* pt_regs->sp: the user stack */
	CFI_CFA_USER_SP
	pushfq				/* pt_regs->flags: user flags, untouched so far */
	pushq	$0			/* pt_regs->cs */
	pushq	%rcx			/* pt_regs->ip: the return address */
	CFI_REG_IN_PTREGS(16, RIP)
entry_SYSCALL_64_after_hwframe:
	pushq	%rax			/* pt_regs->orig_ax: the syscall number */
	PUSH_REGS rax=$-ENOSYS
	CFI_USER_REGS_IN_PTREGS
	CLEAR_REGS
	/* do_syscall_64(regs) runs on the task's kernel stack */
	movq	%rsp, %rdi
	movq	current_top_of_stack(%rip), %rsp
	CALL_FROM_ENTRY do_syscall_64
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
	/* RSP = current_top_of_stack, which is where pt_regs start */
	.cfi_startproc simple
	CFI_USER_CONTEXT_IN_PTREGS
	cld
	andq	$-16, %rsp
	CALL_FROM_ENTRY interrupt_end
	/* the program runs with interrupts on: a timer signal that came meanwhile is handled now */
	CALL_FROM_ENTRY unblock_signals
	movq	current_ptregs(%rip), %rsp
	/* back from rt_sigreturn: to code a signal interrupted anywhere, whose RCX and flags are live */
	cmpq	$__NR_rt_sigreturn, ORIG_RAX(%rsp)
	je	userspace_interrupted
	POP_REGS
	addq	$8, %rsp		/* skip orig_ax */
	popq	%rcx			/* pt_regs->ip */
	addq	$16, %rsp		/* skip cs and flags */
	popq	%rsp			/* pt_regs->sp */
userspace_return:
	jmp	*%rcx

/*
 * The return to an interrupted context (what x86's IRET does, and UML's
 * host does with its own rt_sigreturn): every register as pt_regs holds
 * it, flags included, and no register to jump through, so the jump goes
 * through a word of the kernel's; pt_regs is left as it was (a debugger
 * and trace read it after the return).
 */
userspace_interrupted:
	movq	RIP(%rsp), %rax		/* pt_regs->ip, to the word the jump reads (rax comes back below) */
	movq	%rax, userspace_ip(%rip)
	POP_REGS
	addq	$24, %rsp		/* skip orig_ax, ip and cs */
	popfq				/* pt_regs->flags */
	popq	%rsp			/* pt_regs->sp */
	.globl	userspace_interrupted_return
userspace_interrupted_return:
	jmp	*userspace_ip(%rip)
	.cfi_endproc
	.size	userspace, .-userspace

	.bss
	.align	8
	.globl	userspace_ip
userspace_ip:
	.quad	0
	.text

/*
 * A new task's first instructions (UML's fork_handler): fork's child starts
 * here with its pt_regs copied by the host from its parent's (ax = 0), and
 * returns to the program by the common way back, on its own kernel stack.
 */
	.globl	ret_from_fork
	.type	ret_from_fork, @function
ret_from_fork:
	.cfi_startproc simple
	CFI_USER_CONTEXT_IN_PTREGS
	movq	current_top_of_stack(%rip), %rsp
	jmp	userspace
	.cfi_endproc
	.size	ret_from_fork, .-ret_from_fork

/*
 * The return address of the host's SIGALRM frame (the sa_restorer the
 * host's libc gives UML's handler): RSP points at the ucontext once
 * hard_handler has returned, and the host's rt_sigreturn restores the
 * interrupted registers from it. Its CFI is a signal frame's, so gdb
 * unwinds from the handler into the interrupted code.
 */
	.cfi_startproc simple
	.cfi_signal_frame
	CFI_IRQ_REGS			/* the interrupted registers: the ucontext at RSP */
	nop				/* as glibc's: gdb looks a signal frame's caller up at pc - 1 too */
	.globl	__restore_rt
	.type	__restore_rt, @function
__restore_rt:
	movq	%rsp, %rdi
	movl	$HC_HOST_SIGRETURN, %eax
	vmcall
	hlt
	.cfi_endproc
	.size	__restore_rt, .-__restore_rt
