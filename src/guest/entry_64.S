/*
 * Native x86-64 entry: SYSCALL arrives here through MSR_LSTAR at CPL 0 with
 * RCX = user RIP, R11 = user RFLAGS, RFLAGS masked by MSR_SYSCALL_MASK
 * (IF clear), user RSP and user GS base still live. The return chooses
 * SYSRET when the six checks of Linux v5.8's opportunistic SYSRET all pass,
 * and IRET otherwise; each check is a labelled step a debugger can stop at.
 */
#include "calling.h"

/* for cfi.h: the task's pt_regs lie just below cpu_entry_area.top_of_stack */
#define PTREGS_PTR	(ENTRY_AREA + TOP_OF_STACK)
#define PTREGS_BIAS	SIZEOF_PTREGS
#include "cfi.h"

/* per-CPU data (cpu_entry_area.h; its offsets TSS_sp2, TSS_sp0, TOP_OF_STACK from asm-offsets.c), reached through %gs after swapgs */

	.text
	.globl	entry_SYSCALL_64
	.type	entry_SYSCALL_64, @function
entry_SYSCALL_64:
	/*
	 * The CFI lets a debugger unwind from any instruction of the path into
	 * the program, whose instruction after `syscall` is the "caller": see
	 * cfi.h for why the CFA is the user RSP wherever the kernel keeps it.
	 */
	.cfi_startproc simple
	.cfi_def_cfa	%rsp, 0			/* nothing pushed: CFA = the user RSP */
	.cfi_register	%rip, %rcx		/* SYSCALL put the return address in RCX */
	swapgs				/* GS base: user's -> per-CPU area */
	movq	%rsp, %gs:TSS_sp2	/* save the user stack pointer */
	movq	%gs:TOP_OF_STACK, %rsp	/* and switch to the task's kernel stack */
	CFI_CFA_AT(ENTRY_AREA + TSS_sp2)	/* the user RSP is only in cpu_entry_area.sp2 now */
	/* build the IRET frame SYSCALL did not push */
	pushq	$__USER_DS		/* pt_regs->ss */
	pushq	%gs:TSS_sp2		/* pt_regs->sp */
	CFI_CFA_USER_SP
	pushq	%r11			/* pt_regs->flags */
	pushq	$__USER_CS		/* pt_regs->cs */
	pushq	%rcx			/* pt_regs->ip */
	CFI_REG_IN_PTREGS(16, RIP)
	.globl	entry_SYSCALL_64_after_hwframe
entry_SYSCALL_64_after_hwframe:
	pushq	%rax			/* pt_regs->orig_ax */
	PUSH_REGS rax=$-ENOSYS
	CFI_USER_REGS_IN_PTREGS		/* the user's registers are all in pt_regs: clearing them is safe */
	CLEAR_REGS
	/* do_syscall_64(nr, regs): the v5.8 signature */
	movq	%rax, %rdi
	movq	%rsp, %rsi
	CALL_FROM_ENTRY do_syscall_64	/* returns with IRQs off */

	/*
	 * Try to use SYSRET instead of IRET if we're returning to a completely
	 * clean 64-bit userspace context: SYSRET restores RIP from RCX and
	 * RFLAGS from R11, and cannot load anything else.
	 */
sysret_check_rcx_eq_rip:		/* 1. RCX slot == RIP slot */
	movq	RCX(%rsp), %rcx
	movq	RIP(%rsp), %r11
	cmpq	%rcx, %r11
	jne	swapgs_restore_regs_and_return_to_usermode
sysret_check_canonical_rip:		/* 2. RIP canonical (48-bit): shl/sar by 16 leaves it unchanged */
	shl	$16, %rcx
	sar	$16, %rcx
	cmpq	%rcx, %r11
	jne	swapgs_restore_regs_and_return_to_usermode
sysret_check_cs:			/* 3. CS == __USER_CS */
	cmpq	$__USER_CS, CS(%rsp)
	jne	swapgs_restore_regs_and_return_to_usermode
sysret_check_r11_eq_flags:		/* 4. R11 slot == EFLAGS slot */
	movq	R11(%rsp), %r11
	cmpq	%r11, EFLAGS(%rsp)
	jne	swapgs_restore_regs_and_return_to_usermode
sysret_check_rf_tf:			/* 5. neither RF nor TF: SYSRET cannot restore RF, and TF would trap in the kernel */
	testq	$(0x10000|0x100), %r11	/* X86_EFLAGS_RF | X86_EFLAGS_TF */
	jnz	swapgs_restore_regs_and_return_to_usermode
sysret_check_ss:			/* 6. SS == __USER_DS */
	cmpq	$__USER_DS, SS(%rsp)
	jne	swapgs_restore_regs_and_return_to_usermode

	/* nothing prevents SYSRET: rcx = user RIP, r11 = user RFLAGS */
	.globl	syscall_return_via_sysret
syscall_return_via_sysret:
	POP_REGS pop_rdi=0 skip_r11rcx=1
	/* now rsp points at pt_regs->di; move to the trampoline stack with the user rdi and rsp
	 * (pt_regs stays in place, so the CFI's rules hold to the last instruction) */
	movq	%rsp, %rdi
	movq	%gs:TSS_sp0, %rsp
	pushq	RSP-RDI(%rdi)		/* user RSP */
	pushq	(%rdi)			/* user RDI */
	popq	%rdi
	popq	%rsp			/* from here on the user stack: no more pushes */
	swapgs
	.globl	entry_SYSRETQ_unsafe_stack
entry_SYSRETQ_unsafe_stack:
	sysretq
	.cfi_endproc
	.size	entry_SYSCALL_64, .-entry_SYSCALL_64

/*
 * The IRET path: everything comes back from pt_regs, including RCX and R11,
 * and IRETQ reloads RIP, CS, RFLAGS (TF and RF exactly), RSP and SS.
 */
	.globl	swapgs_restore_regs_and_return_to_usermode
	.type	swapgs_restore_regs_and_return_to_usermode, @function
swapgs_restore_regs_and_return_to_usermode:
	.cfi_startproc simple
	CFI_USER_CONTEXT_IN_PTREGS
	POP_REGS
	addq	$8, %rsp		/* skip orig_ax: rsp points at the IRET frame */
	swapgs
	.globl	native_irq_return_iret
native_irq_return_iret:
	iretq
	.cfi_endproc
	.size	swapgs_restore_regs_and_return_to_usermode, .-swapgs_restore_regs_and_return_to_usermode

/*
 * A new task's first instructions, as Linux 5.8's ret_from_fork: fork's
 * child starts here with RSP at the pt_regs the host copied from its parent
 * (ax = 0) at the top of the child's own kernel stack, and leaves by the
 * exit path of a syscall (IRQs are on, as schedule_tail leaves them): the
 * exit work, then IRET to the program.
 */
	.globl	ret_from_fork
	.type	ret_from_fork, @function
ret_from_fork:
	.cfi_startproc simple
	CFI_USER_CONTEXT_IN_PTREGS
	movq	%rsp, %rdi		/* regs */
	CALL_FROM_ENTRY syscall_return_slowpath	/* returns with IRQs disabled */
	jmp	swapgs_restore_regs_and_return_to_usermode
	.cfi_endproc
	.size	ret_from_fork, .-ret_from_fork

/*
 * Boot: the host starts the CPU here at CPL 0; syscall_init() programs the
 * MSRs as Linux does, then the host takes the CPU to user mode.
 */
	.globl	start_kernel_entry
	.type	start_kernel_entry, @function
start_kernel_entry:
	movq	boot_stack_top(%rip), %rsp
	call	syscall_init
	call	trap_init		/* idt.c: the IDT (the timer's gate, gate 0x80) and the TSS */
	movl	$HC_BOOT_DONE, %eax
	vmcall
	hlt
	.size	start_kernel_entry, .-start_kernel_entry
