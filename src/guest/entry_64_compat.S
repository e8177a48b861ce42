/*
 * The compat entries of Linux 5.8 (arch/x86/entry/entry_64_compat.S): how a
 * 32-bit program enters the 64-bit kernel. Its vDSO's __kernel_vsyscall
 * enters through SYSENTER (Intel) or SYSCALL (AMD) after pushing ecx, edx
 * and ebp; a program may also use int $0x80 itself. Each entry builds the
 * same struct pt_regs as the 64-bit one, holding the 32-bit user registers
 * zero-extended, and calls do_fast_syscall_32 (the fast entries, which
 * behave as int $0x80 would: return to int80_landing_pad) or
 * do_int80_syscall_32 (syscall_32.c). The fast entries return by the
 * opportunistic SYSRETL when do_fast_syscall_32 says it is safe, else (and
 * int $0x80 always) by the IRET path of entry_64.S.
 *
 * No PTI here (no CR3 switch: the emulated CPU has one address space per
 * process) and no Xen alternatives; otherwise instruction for instruction.
 */
#include "calling.h"

#define X86_EFLAGS_FIXED	0x00000002
#define X86_EFLAGS_TF		0x00000100
#define X86_EFLAGS_IF		0x00000200
#define X86_EFLAGS_NT		0x00004000
#define X86_EFLAGS_AC		0x00040000
/* 64-bit and compat user mode share the data segment (segment.h) */
#define __USER32_DS		__USER_DS

/*
 * CFI, in the shape of entry_SYSCALL_64's (cfi.h): the CFA is the user's
 * stack pointer and each user register is where the kernel keeps it at that
 * instruction (a register, the entry stack, then pt_regs), so a debugger
 * unwinds from any instruction of a trip into the 32-bit caller. Its frames
 * are then 32-bit code, which gdb-scripts/entrystub_compat32.py unwinds.
 * Only the registers a 32-bit program has are described (r8-r15 are not
 * its); cs, ss and eflags too, so the caller's frame shows compat mode.
 *
 * SYSENTER saves neither EIP nor ESP. The user ESP is in EBP (the vDSO's
 * `movl %esp, %ebp`, which this entry itself relies on), and the return
 * goes where do_fast_syscall_32 sends it: int80_landing_pad in the
 * process's vDSO, current_mm_context_vdso + the pad's offset, the address
 * the kernel computes from the vDSO's known layout. The CFI reads it the
 * same way (the variable is at the fixed MM_CONTEXT_VDSO for that): until
 * do_fast_syscall_32 replaces pt_regs->ip's placeholder 0, that is the
 * caller's RIP. (Linux's own ORC marks this entry UNWIND_HINT_EMPTY: its
 * unwinder stops at user mode anyway. A sysenter outside the vDSO returns
 * to the landing pad all the same, so the CFI still tells where the return
 * goes, not where the program was: that place is lost.)
 */
#define PTREGS_PTR	(ENTRY_AREA + TOP_OF_STACK)
#define PTREGS_BIAS	SIZEOF_PTREGS
#define MM_CONTEXT_VDSO	(ENTRY_AREA + SIZEOF_CPU_ENTRY_AREA)
#include "cfi.h"
#include "generated/vdso32_image.h"

#define DW_CFA_val_expression	0x16
#define DW_OP_dup		0x12
#define DW_OP_drop		0x13
#define DW_OP_plus_uconst	0x23
#define DW_OP_bra		0x28
#define DW_OP_breg5		0x75
/* DWARF register numbers of x86-64 beyond the general ones */
#define DW_RIP			16
#define DW_EFLAGS		49
#define DW_CS			51
#define DW_SS			52

/* an unsigned value below 2^28 as four ULEB128 bytes */
#define ULEB4(v) (((v) & 0x7f) | 0x80), ((((v) >> 7) & 0x7f) | 0x80), ((((v) >> 14) & 0x7f) | 0x80), (((v) >> 21) & 0x7f)
/* DWARF: int80_landing_pad in the current process's vDSO (15 bytes) */
#define LANDING_PAD_ADDR DW_OP_addr, BYTES64(MM_CONTEXT_VDSO), DW_OP_deref, DW_OP_plus_uconst, ULEB4(VDSO32_SYM_int80_landing_pad)
/* the caller's RIP is the landing pad */
#define CFI_RIP_LANDING_PAD \
	.cfi_escape DW_CFA_val_expression, DW_RIP, 15, LANDING_PAD_ADDR
/* the caller's RIP is pt_regs->ip, or the landing pad while that is SYSENTER's placeholder 0 */
#define CFI_RIP_PTREGS_OR_LANDING_PAD \
	.cfi_escape DW_CFA_val_expression, DW_RIP, 35, PTREGS_FIELD_ADDR(RIP), DW_OP_deref, DW_OP_dup, \
		DW_OP_bra, 16, 0, DW_OP_drop, LANDING_PAD_ADDR

/* pt_regs complete: the whole 32-bit user context is in it */
.macro CFI_COMPAT_CONTEXT_IN_PTREGS
	CFI_CFA_USER_SP
	CFI_RIP_PTREGS_OR_LANDING_PAD
	CFI_REG_IN_PTREGS(0, RAX)
	CFI_REG_IN_PTREGS(1, RDX)
	CFI_REG_IN_PTREGS(2, RCX)
	CFI_REG_IN_PTREGS(3, RBX)
	CFI_REG_IN_PTREGS(4, RSI)
	CFI_REG_IN_PTREGS(5, RDI)
	CFI_REG_IN_PTREGS(6, RBP)
	CFI_REG_IN_PTREGS(DW_EFLAGS, EFLAGS)
	CFI_REG_IN_PTREGS(DW_CS, CS)
	CFI_REG_IN_PTREGS(DW_SS, SS)
.endm

/* int $0x80 on the entry stack: the caller's dwreg is at RSP + off */
#define CFI_ENTRY_STACK_REG(dwreg, off) \
	.cfi_escape DW_CFA_expression, dwreg, 3, DW_OP_breg7, SLEB2(off)

/*
 * int $0x80 between the stacks: RDI points at the copy of pt_regs' top
 * (di, orig_ax, then the CPU's frame) on the entry stack, where the user's
 * RDI, RIP, RSP, EFLAGS, CS and SS are.
 */
.macro CFI_INT80_COPY_REG dwreg, off
	.cfi_escape DW_CFA_expression, \dwreg, 3, DW_OP_breg5, SLEB2((\off) - RDI)
.endm
.macro CFI_INT80_COPY_AT_RDI
	.cfi_escape DW_CFA_def_cfa_expression, 4, DW_OP_breg5, SLEB2(RSP - RDI), DW_OP_deref
	CFI_INT80_COPY_REG DW_RIP, RIP
	CFI_INT80_COPY_REG 5, RDI
	CFI_INT80_COPY_REG DW_EFLAGS, EFLAGS
	CFI_INT80_COPY_REG DW_CS, CS
	CFI_INT80_COPY_REG DW_SS, SS
.endm

/*
 * 32-bit SYSENTER entry: MSR_IA32_SYSENTER_EIP. SYSENTER came from the vDSO's
 * `movl %esp, %ebp; sysenter`: the user stack pointer is in ebp (and the
 * user ebp on the user stack); SYSENTER saved neither EIP nor ESP. It runs
 * on the entry stack (MSR_IA32_SYSENTER_ESP) with IF, VM and RF clear; it
 * does not clear TF, NT or AC, which the fixup below does.
 *
 * Arguments: eax = syscall number, ebx, ecx, edx, esi, edi, and the sixth in
 * the user's ebp, fetched from the user stack by do_fast_syscall_32.
 */
	.text
	.globl	entry_SYSENTER_compat
	.type	entry_SYSENTER_compat, @function
entry_SYSENTER_compat:
	.cfi_startproc simple
	.cfi_def_cfa	%rbp, 0		/* the user ESP, stashed in EBP by the vDSO */
	CFI_RIP_LANDING_PAD
	/* Interrupts are off on entry. */
	swapgs

	movq	%gs:TOP_OF_STACK, %rsp

	/* Construct struct pt_regs on stack */
	movl	%eax, %eax		/* discard orig_ax high bits */
	pushq	$__USER32_DS		/* pt_regs->ss */
	CFI_REG_IN_PTREGS(DW_SS, SS)
	pushq	%rbp			/* pt_regs->sp (stashed in bp) */
	CFI_CFA_USER_SP

	/*
	 * Push flags.  This is nasty.  First, interrupts are currently
	 * off, but we need pt_regs->flags to have IF set.  Second, even
	 * if TF was set when SYSENTER started, it's clear by now.
	 */
	pushfq				/* pt_regs->flags (except IF = 0) */
	orl	$X86_EFLAGS_IF, (%rsp)	/* Fix saved flags */
	CFI_REG_IN_PTREGS(DW_EFLAGS, EFLAGS)
	pushq	$__USER32_CS		/* pt_regs->cs */
	CFI_REG_IN_PTREGS(DW_CS, CS)
	pushq	$0			/* pt_regs->ip = 0 (placeholder) */
	CFI_RIP_PTREGS_OR_LANDING_PAD
	.globl	entry_SYSENTER_compat_after_hwframe
entry_SYSENTER_compat_after_hwframe:
	pushq	%rax			/* pt_regs->orig_ax */
	pushq	%rdi			/* pt_regs->di */
	CFI_REG_IN_PTREGS(5, RDI)
	pushq	%rsi			/* pt_regs->si */
	CFI_REG_IN_PTREGS(4, RSI)
	pushq	%rdx			/* pt_regs->dx */
	CFI_REG_IN_PTREGS(1, RDX)
	pushq	%rcx			/* pt_regs->cx */
	CFI_REG_IN_PTREGS(2, RCX)
	pushq	$-ENOSYS		/* pt_regs->ax */
	CFI_REG_IN_PTREGS(0, RAX)
	pushq	$0			/* pt_regs->r8  = 0 */
	xorl	%r8d, %r8d		/* nospec   r8 */
	pushq	$0			/* pt_regs->r9  = 0 */
	xorl	%r9d, %r9d		/* nospec   r9 */
	pushq	$0			/* pt_regs->r10 = 0 */
	xorl	%r10d, %r10d		/* nospec   r10 */
	pushq	$0			/* pt_regs->r11 = 0 */
	xorl	%r11d, %r11d		/* nospec   r11 */
	pushq	%rbx			/* pt_regs->rbx */
	CFI_REG_IN_PTREGS(3, RBX)
	xorl	%ebx, %ebx		/* nospec   rbx */
	pushq	%rbp			/* pt_regs->rbp (will be overwritten) */
	CFI_REG_IN_PTREGS(6, RBP)
	xorl	%ebp, %ebp		/* nospec   rbp */
	pushq	$0			/* pt_regs->r12 = 0 */
	xorl	%r12d, %r12d		/* nospec   r12 */
	pushq	$0			/* pt_regs->r13 = 0 */
	xorl	%r13d, %r13d		/* nospec   r13 */
	pushq	$0			/* pt_regs->r14 = 0 */
	xorl	%r14d, %r14d		/* nospec   r14 */
	pushq	$0			/* pt_regs->r15 = 0 */
	xorl	%r15d, %r15d		/* nospec   r15 */
	cld

	/*
	 * SYSENTER doesn't filter flags, so we need to clear NT and AC
	 * ourselves.  To save a few cycles, we can check whether
	 * either was set instead of doing an unconditional popfq.
	 * This needs to happen before enabling interrupts so that
	 * we don't get preempted with NT set.
	 *
	 * If TF is set, we will single-step all the way to here -- do_debug
	 * will ignore all the traps.
	 */
	testl	$X86_EFLAGS_NT|X86_EFLAGS_AC|X86_EFLAGS_TF, EFLAGS(%rsp)
	jnz	.Lsysenter_fix_flags
.Lsysenter_flags_fixed:

	movq	%rsp, %rdi
	CALL_FROM_ENTRY do_fast_syscall_32, CFI_COMPAT_CONTEXT_IN_PTREGS
	testl	%eax, %eax
	jz	swapgs_restore_regs_and_return_to_usermode
	jmp	sysret32_from_system_call

.Lsysenter_fix_flags:
	pushq	$X86_EFLAGS_FIXED
	popfq
	jmp	.Lsysenter_flags_fixed
	.globl	__end_entry_SYSENTER_compat
__end_entry_SYSENTER_compat:
	.cfi_endproc
	.size	entry_SYSENTER_compat, .-entry_SYSENTER_compat

/*
 * 32-bit SYSCALL entry: MSR_CSTAR (AMD CPUs; Intel's raise #UD for SYSCALL
 * outside 64-bit mode). The vDSO's `movl %ecx, %ebp; syscall`: ecx holds the
 * return EIP now, so the user's ecx is in ebp (and the user ebp on the user
 * stack); r11 holds the user EFLAGS, with those of MSR_SYSCALL_MASK cleared
 * in EFLAGS. ESP is the user's: stashed in r8d until pt_regs holds it.
 */
	.globl	entry_SYSCALL_compat
	.type	entry_SYSCALL_compat, @function
entry_SYSCALL_compat:
	.cfi_startproc simple
	.cfi_def_cfa	%rsp, 0		/* the user ESP */
	.cfi_register	%rip, %rcx	/* SYSCALL put the return EIP in ECX */
	.cfi_register	%rcx, %rbp	/* so the vDSO stashed the user ECX in EBP */
	.cfi_register	DW_EFLAGS, %r11	/* and the user EFLAGS are in R11 */
	/* Interrupts are off on entry. */
	swapgs

	/* Stash user ESP */
	movl	%esp, %r8d
	.cfi_def_cfa_register %r8

	/* Switch to the kernel stack */
	movq	%gs:TOP_OF_STACK, %rsp

	/* Construct struct pt_regs on stack */
	pushq	$__USER32_DS		/* pt_regs->ss */
	CFI_REG_IN_PTREGS(DW_SS, SS)
	pushq	%r8			/* pt_regs->sp */
	CFI_CFA_USER_SP
	pushq	%r11			/* pt_regs->flags */
	CFI_REG_IN_PTREGS(DW_EFLAGS, EFLAGS)
	pushq	$__USER32_CS		/* pt_regs->cs */
	CFI_REG_IN_PTREGS(DW_CS, CS)
	pushq	%rcx			/* pt_regs->ip */
	CFI_RIP_PTREGS_OR_LANDING_PAD
	.globl	entry_SYSCALL_compat_after_hwframe
entry_SYSCALL_compat_after_hwframe:
	movl	%eax, %eax		/* discard orig_ax high bits */
	pushq	%rax			/* pt_regs->orig_ax */
	pushq	%rdi			/* pt_regs->di */
	CFI_REG_IN_PTREGS(5, RDI)
	pushq	%rsi			/* pt_regs->si */
	CFI_REG_IN_PTREGS(4, RSI)
	xorl	%esi, %esi		/* nospec   si */
	pushq	%rdx			/* pt_regs->dx */
	CFI_REG_IN_PTREGS(1, RDX)
	xorl	%edx, %edx		/* nospec   dx */
	pushq	%rbp			/* pt_regs->cx (stashed in bp) */
	CFI_REG_IN_PTREGS(2, RCX)
	xorl	%ecx, %ecx		/* nospec   cx */
	pushq	$-ENOSYS		/* pt_regs->ax */
	CFI_REG_IN_PTREGS(0, RAX)
	pushq	$0			/* pt_regs->r8  = 0 */
	xorl	%r8d, %r8d		/* nospec   r8 */
	pushq	$0			/* pt_regs->r9  = 0 */
	xorl	%r9d, %r9d		/* nospec   r9 */
	pushq	$0			/* pt_regs->r10 = 0 */
	xorl	%r10d, %r10d		/* nospec   r10 */
	pushq	$0			/* pt_regs->r11 = 0 */
	xorl	%r11d, %r11d		/* nospec   r11 */
	pushq	%rbx			/* pt_regs->rbx */
	CFI_REG_IN_PTREGS(3, RBX)
	xorl	%ebx, %ebx		/* nospec   rbx */
	pushq	%rbp			/* pt_regs->rbp (will be overwritten) */
	CFI_REG_IN_PTREGS(6, RBP)
	xorl	%ebp, %ebp		/* nospec   rbp */
	pushq	$0			/* pt_regs->r12 = 0 */
	xorl	%r12d, %r12d		/* nospec   r12 */
	pushq	$0			/* pt_regs->r13 = 0 */
	xorl	%r13d, %r13d		/* nospec   r13 */
	pushq	$0			/* pt_regs->r14 = 0 */
	xorl	%r14d, %r14d		/* nospec   r14 */
	pushq	$0			/* pt_regs->r15 = 0 */
	xorl	%r15d, %r15d		/* nospec   r15 */

	movq	%rsp, %rdi
	CALL_FROM_ENTRY do_fast_syscall_32, CFI_COMPAT_CONTEXT_IN_PTREGS
	testl	%eax, %eax
	jz	swapgs_restore_regs_and_return_to_usermode

	/* Opportunistic SYSRET (pt_regs stays in place to the end: the CFI's rules hold) */
	.globl	sysret32_from_system_call
sysret32_from_system_call:
	movq	RBX(%rsp), %rbx		/* pt_regs->rbx */
	movq	RBP(%rsp), %rbp		/* pt_regs->rbp */
	movq	EFLAGS(%rsp), %r11	/* pt_regs->flags (in r11) */
	movq	RIP(%rsp), %rcx		/* pt_regs->ip (in rcx) */
	addq	$RAX, %rsp		/* Skip r8-r15 */
	popq	%rax			/* pt_regs->rax */
	popq	%rdx			/* Skip pt_regs->cx */
	popq	%rdx			/* pt_regs->dx */
	popq	%rsi			/* pt_regs->si */
	popq	%rdi			/* pt_regs->di */

	/*
	 * USERGS_SYSRET32 does:
	 *  GSBASE = user's GS base
	 *  EIP = ECX
	 *  RFLAGS = R11
	 *  CS = __USER32_CS
	 *  SS = __USER_DS
	 *
	 * ECX will not match pt_regs->cx, but we're returning to a vDSO
	 * trampoline that will fix up RCX, so this is okay.
	 *
	 * R12-R15 are callee-saved, so they contain whatever was in them
	 * when the system call started, which is already known to user
	 * code.  We zero R8-R10 to avoid info leaks.
	 */
	movq	RSP-ORIG_RAX(%rsp), %rsp

	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	swapgs
	.globl	entry_SYSRETL_compat_unsafe_stack
entry_SYSRETL_compat_unsafe_stack:
	sysretl
	.cfi_endproc
	.size	entry_SYSCALL_compat, .-entry_SYSCALL_compat

/*
 * 32-bit legacy system call entry: int $0x80 through IDT gate 0x80 (an
 * interrupt gate of DPL 3: IF is clear on entry). The CPU switched to the
 * entry stack (TSS.sp0) and pushed the user's SS, ESP, EFLAGS, CS and EIP;
 * they move to the task's stack with orig_ax and di. Arguments: eax =
 * syscall number, ebx, ecx, edx, esi, edi, ebp. Always returns by IRET:
 * int $0x80 is the slow path, and all registers are preserved but eax.
 */
	.globl	entry_INT80_compat
	.type	entry_INT80_compat, @function
entry_INT80_compat:
	.cfi_startproc simple
	CFI_IRQ_FRAME -RIP		/* the CPU's frame (ip, cs, flags, sp, ss) at RSP */
	CFI_ENTRY_STACK_REG(DW_EFLAGS, EFLAGS-RIP)
	CFI_ENTRY_STACK_REG(DW_CS, CS-RIP)
	CFI_ENTRY_STACK_REG(DW_SS, SS-RIP)
	/*
	 * Interrupts are off on entry.
	 */
	swapgs

	/*
	 * User tracing code (ptrace or signal handlers) might assume that
	 * the saved RAX contains a 32-bit number when we're invoking a 32-bit
	 * syscall.  Just in case the high bits are nonzero, zero-extend
	 * the syscall number.
	 */
	movl	%eax, %eax

	/* switch to thread stack expects orig_ax and rdi to be pushed */
	pushq	%rax			/* pt_regs->orig_ax */
	CFI_IRQ_FRAME -ORIG_RAX
	CFI_ENTRY_STACK_REG(DW_EFLAGS, EFLAGS-ORIG_RAX)
	CFI_ENTRY_STACK_REG(DW_CS, CS-ORIG_RAX)
	CFI_ENTRY_STACK_REG(DW_SS, SS-ORIG_RAX)
	pushq	%rdi			/* pt_regs->di */
	CFI_IRQ_FRAME -RDI
	CFI_ENTRY_STACK_REG(DW_EFLAGS, EFLAGS-RDI)
	CFI_ENTRY_STACK_REG(DW_CS, CS-RDI)
	CFI_ENTRY_STACK_REG(DW_SS, SS-RDI)
	CFI_ENTRY_STACK_REG(5, 0)

	movq	%rsp, %rdi
	CFI_INT80_COPY_AT_RDI
	movq	%gs:TOP_OF_STACK, %rsp

	pushq	6*8(%rdi)		/* regs->ss */
	CFI_REG_IN_PTREGS(DW_SS, SS)
	pushq	5*8(%rdi)		/* regs->rsp */
	CFI_CFA_USER_SP
	pushq	4*8(%rdi)		/* regs->eflags */
	CFI_REG_IN_PTREGS(DW_EFLAGS, EFLAGS)
	pushq	3*8(%rdi)		/* regs->cs */
	CFI_REG_IN_PTREGS(DW_CS, CS)
	pushq	2*8(%rdi)		/* regs->ip */
	CFI_REG_IN_PTREGS(DW_RIP, RIP)
	pushq	1*8(%rdi)		/* regs->orig_ax */
	pushq	(%rdi)			/* pt_regs->di */
	CFI_REG_IN_PTREGS(5, RDI)

	pushq	%rsi			/* pt_regs->si */
	CFI_REG_IN_PTREGS(4, RSI)
	xorl	%esi, %esi		/* nospec   si */
	pushq	%rdx			/* pt_regs->dx */
	CFI_REG_IN_PTREGS(1, RDX)
	xorl	%edx, %edx		/* nospec   dx */
	pushq	%rcx			/* pt_regs->cx */
	CFI_REG_IN_PTREGS(2, RCX)
	xorl	%ecx, %ecx		/* nospec   cx */
	pushq	$-ENOSYS		/* pt_regs->ax */
	CFI_REG_IN_PTREGS(0, RAX)
	pushq	%r8			/* pt_regs->r8 */
	xorl	%r8d, %r8d		/* nospec   r8 */
	pushq	%r9			/* pt_regs->r9 */
	xorl	%r9d, %r9d		/* nospec   r9 */
	pushq	%r10			/* pt_regs->r10*/
	xorl	%r10d, %r10d		/* nospec   r10 */
	pushq	%r11			/* pt_regs->r11 */
	xorl	%r11d, %r11d		/* nospec   r11 */
	pushq	%rbx			/* pt_regs->rbx */
	CFI_REG_IN_PTREGS(3, RBX)
	xorl	%ebx, %ebx		/* nospec   rbx */
	pushq	%rbp			/* pt_regs->rbp */
	CFI_REG_IN_PTREGS(6, RBP)
	xorl	%ebp, %ebp		/* nospec   rbp */
	pushq	%r12			/* pt_regs->r12 */
	xorl	%r12d, %r12d		/* nospec   r12 */
	pushq	%r13			/* pt_regs->r13 */
	xorl	%r13d, %r13d		/* nospec   r13 */
	pushq	%r14			/* pt_regs->r14 */
	xorl	%r14d, %r14d		/* nospec   r14 */
	pushq	%r15			/* pt_regs->r15 */
	xorl	%r15d, %r15d		/* nospec   r15 */
	cld

	movq	%rsp, %rdi
	CALL_FROM_ENTRY do_int80_syscall_32, CFI_COMPAT_CONTEXT_IN_PTREGS
	jmp	swapgs_restore_regs_and_return_to_usermode
	.cfi_endproc
	.size	entry_INT80_compat, .-entry_INT80_compat

/*
 * __get_user_4 (arch/x86/lib/getuser.S): a 32-bit load from the user address
 * in %rax into %edx, %eax = 0; if it faults, the exception table sends the
 * fault to bad_get_user: %edx = 0, %eax = -EFAULT.
 */
	.globl	__get_user_4
	.type	__get_user_4, @function
__get_user_4:
	.cfi_startproc
	.globl	__get_user_4_load
__get_user_4_load:
	movl	(%rax), %edx
	xorl	%eax, %eax
	ret
	.pushsection __ex_table, "a"
	.quad	__get_user_4_load, bad_get_user
	.popsection
bad_get_user:
	xorl	%edx, %edx
	movq	$-EFAULT, %rax
	ret
	.cfi_endproc
	.size	__get_user_4, .-__get_user_4
