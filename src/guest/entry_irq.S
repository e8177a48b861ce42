/*
 * Native model: the local APIC timer interrupt's entry and return, in Linux
 * 5.8's idtentry shape (arch/x86/entry/entry_64.S: idtentry, error_entry,
 * error_return, restore_regs_and_return_to_kernel). The CPU arrives here
 * through the IDT gate with IF clear and the hardware frame (ss, sp, flags,
 * cs, ip) pushed: on the entry stack from user mode, on the current stack
 * from kernel mode -- inside a syscall body that is the task's kernel stack,
 * below the syscall's pt_regs, which stay where task_pt_regs() finds them.
 */
#include "calling.h"

/* for cfi.h (the return to user mode is entry_64.S's: its rules name the task's pt_regs) */
#define PTREGS_PTR	(ENTRY_AREA + TOP_OF_STACK)
#define PTREGS_BIAS	SIZEOF_PTREGS
#include "cfi.h"

/* CFI_IRQ_FRAME, CFI_IRQ_REGS: an interrupt frame's rules (cfi.h) */

/* registers back in place, pt_regs at \base: only the frame */
.macro CFI_IRQ_RESTORED base
	CFI_IRQ_FRAME \base
	.cfi_same_value %rax
	.cfi_same_value %rdx
	.cfi_same_value %rcx
	.cfi_same_value %rbx
	.cfi_same_value %rsi
	.cfi_same_value %rdi
	.cfi_same_value %rbp
	.cfi_same_value %r8
	.cfi_same_value %r9
	.cfi_same_value %r10
	.cfi_same_value %r11
	.cfi_same_value %r12
	.cfi_same_value %r13
	.cfi_same_value %r14
	.cfi_same_value %r15
.endm

/* PUSH_REGS (calling.h), with the frame's rule after each push */
.macro PUSH_REGS_CFI
	.irp reg, rdi, rsi, rdx, rcx, rax, r8, r9, r10, r11, rbx, rbp, r12, r13, r14, r15
	pushq	%\reg
	.set	.Lbase, .Lbase + 8
	CFI_IRQ_FRAME .Lbase
	.endr
.endm
/* POP_REGS, likewise */
.macro POP_REGS_CFI
	.set	.Lbase, 0
	.irp reg, r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi
	popq	%\reg
	.set	.Lbase, .Lbase - 8
	CFI_IRQ_FRAME .Lbase
	.cfi_same_value %\reg
	.endr
.endm

/*
 * A call into C with pt_regs at RSP, the way cfi.h's CALL_FROM_ENTRY is:
 * the return address lies in a signal frame's FDE of its own, so gdb
 * unwinds from the C code into the interrupted frames without comparing
 * the stacks (the entry stack, the user's) and takes the interrupted RIP
 * as it is, not as a return address.
 */
.macro CALL_FROM_IRQ target
	movq	$\target, %rax
	.byte	0xff			/* call *%rax (first byte) */
	.cfi_endproc
	.cfi_startproc simple
	.cfi_signal_frame
	CFI_IRQ_REGS
	.byte	0xd0			/* call *%rax (second byte) */
	nop				/* the return address */
	.cfi_endproc
	.cfi_startproc simple
	CFI_IRQ_REGS
.endm

	.text
/* idtentry_sysvec LOCAL_TIMER_VECTOR asm_sysvec_apic_timer_interrupt sysvec_apic_timer_interrupt */
	.globl	asm_sysvec_apic_timer_interrupt
	.type	asm_sysvec_apic_timer_interrupt, @function
asm_sysvec_apic_timer_interrupt:
	.cfi_startproc simple
	.set	.Lbase, -RIP
	CFI_IRQ_FRAME .Lbase		/* only the hardware frame: ip at 0(%rsp), sp at 24(%rsp) */
	pushq	$-1			/* pt_regs->orig_ax: no syscall to restart (the error-code slot) */
	.set	.Lbase, .Lbase + 8
	CFI_IRQ_FRAME .Lbase
	/* error_entry */
	cld
	PUSH_REGS_CFI
	CFI_IRQ_REGS
	CLEAR_REGS
	testb	$3, CS(%rsp)		/* from user mode? */
	jz	.Lerror_kernelspace
	swapgs				/* only then: the GS base becomes the kernel's */
	/* onto the task's stack: the pt_regs at its top, where task_pt_regs() finds them */
	movq	%rsp, %rdi
	CALL_FROM_IRQ sync_regs
	movq	%rax, %rsp
.Lerror_kernelspace:
	/* idtentry_body: the C handler, pt_regs in %rdi */
	movq	%rsp, %rdi
	CALL_FROM_IRQ sysvec_apic_timer_interrupt	/* returns with IRQs off */
	/* error_return */
	testb	$3, CS(%rsp)
	jnz	swapgs_restore_regs_and_return_to_usermode
	.cfi_endproc
	.size	asm_sysvec_apic_timer_interrupt, .-asm_sysvec_apic_timer_interrupt

/*
 * Back to the interrupted kernel code: no swapgs, no exit work; IRETQ
 * restores its RFLAGS (IF set: it could be interrupted) and its stack.
 * (Linux jumps to the IRETQ at native_irq_return_iret; this one is the
 * kernel return's own, so the host's probe there sees returns to user mode only.)
 */
	.globl	restore_regs_and_return_to_kernel
	.type	restore_regs_and_return_to_kernel, @function
restore_regs_and_return_to_kernel:
	.cfi_startproc simple
	CFI_IRQ_REGS
	POP_REGS_CFI
	addq	$8, %rsp		/* skip orig_ax: rsp points at the IRET frame */
	CFI_IRQ_FRAME -RIP
	.globl	native_irq_return_kernel
native_irq_return_kernel:
	iretq
	.cfi_endproc
	.size	restore_regs_and_return_to_kernel, .-restore_regs_and_return_to_kernel
