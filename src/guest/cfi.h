/*
 * CFI for the entry paths, so that a debugger unwinds from any instruction
 * of a trip into the program's own frames.
 *
 * gdb refuses a caller frame whose stack lies below its callee's ("previous
 * frame inner to this frame") when both are ordinary frames, and the user's
 * stack lies below the kernel's. So:
 *  - an entry frame's CFA is the *user's* stack pointer, read from where the
 *    kernel keeps it (the current task's pt_regs, found through a variable at
 *    the fixed address ENTRY_AREA, see kernel.lds.S), so it sits at or below
 *    the user frames above it;
 *  - each `call` from the entry path into the kernel's C code lies in an FDE
 *    of its own marked as a signal frame: from do_syscall_64 upwards, gdb
 *    sees the stack switch at a signal frame and does not compare stacks
 *    across it (it prints that frame as "<signal handler called>").
 *
 * Both FDEs around a call give the frame the same identity (CFA = the user
 * RSP in pt_regs), which gdb's `next` and `step` need to tell a call into C
 * from a jump elsewhere. The cost: when signal delivery rewrites pt_regs->sp
 * while C code runs, the frame's identity changes with it, and a `finish`
 * out of that C function runs past the return (use `advance` or a
 * breakpoint there). A CFA that is stable and low enough for gdb's stack
 * order would need a field of the guest kernel kept for the debugger's sake.
 *
 * The expressions use DW_OP_addr with the address of the variable holding
 * the task's pt_regs (a constant of the build) and fixed two-byte SLEB128
 * offsets, since .cfi_escape takes bytes, not relocations.
 *
 * PTREGS_PTR is the address of a variable that points PTREGS_BIAS bytes
 * above the current task's struct pt_regs; each entry file defines both.
 */
#ifndef CFI_H
#define CFI_H

#define DW_CFA_def_cfa_expression	0x0f
#define DW_CFA_expression		0x10
#define DW_OP_addr			0x03
#define DW_OP_deref			0x06
#define DW_OP_consts			0x11
#define DW_OP_plus			0x22
#define DW_OP_breg7			0x77

/* the eight bytes of a 64-bit constant, little-endian */
#define BYTES64(a) (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, \
	((a) >> 32) & 0xff, ((a) >> 40) & 0xff, ((a) >> 48) & 0xff, ((a) >> 56) & 0xff
/* a signed value in [-8192, 8191] as two SLEB128 bytes */
#define SLEB2(v) (((v) & 0x7f) | 0x80), (((v) >> 7) & 0x7f)
/* DWARF: the address of pt_regs->field of the current task (14 bytes) */
#define PTREGS_FIELD_ADDR(off) DW_OP_addr, BYTES64(PTREGS_PTR), DW_OP_deref, DW_OP_consts, SLEB2((off) - PTREGS_BIAS), DW_OP_plus

/* CFA = the 64-bit word at the fixed address a (10 bytes of expression) */
#define CFI_CFA_AT(a) \
	.cfi_escape DW_CFA_def_cfa_expression, 10, DW_OP_addr, BYTES64(a), DW_OP_deref
/* CFA = the user's stack pointer as pt_regs->sp holds it */
#define CFI_CFA_USER_SP \
	.cfi_escape DW_CFA_def_cfa_expression, 15, PTREGS_FIELD_ADDR(RSP), DW_OP_deref
/* the caller's reg (DWARF number) is saved in pt_regs at off */
#define CFI_REG_IN_PTREGS(dwreg, off) \
	.cfi_escape DW_CFA_expression, dwreg, 14, PTREGS_FIELD_ADDR(off)

#ifdef __ASSEMBLER__
/* every user register is in the current task's pt_regs (once PUSH_REGS is done) */
.macro CFI_USER_REGS_IN_PTREGS
	CFI_REG_IN_PTREGS(16, RIP)	/* rip */
	CFI_REG_IN_PTREGS(0, RAX)
	CFI_REG_IN_PTREGS(1, RDX)
	CFI_REG_IN_PTREGS(2, RCX)
	CFI_REG_IN_PTREGS(3, RBX)
	CFI_REG_IN_PTREGS(4, RSI)
	CFI_REG_IN_PTREGS(5, RDI)
	CFI_REG_IN_PTREGS(6, RBP)
	CFI_REG_IN_PTREGS(8, R8)
	CFI_REG_IN_PTREGS(9, R9)
	CFI_REG_IN_PTREGS(10, R10)
	CFI_REG_IN_PTREGS(11, R11)
	CFI_REG_IN_PTREGS(12, R12)
	CFI_REG_IN_PTREGS(13, R13)
	CFI_REG_IN_PTREGS(14, R14)
	CFI_REG_IN_PTREGS(15, R15)
.endm

/*
 * The whole user context is in pt_regs: the rules of an entry frame from
 * the moment PUSH_REGS is done until the return path restores registers.
 */
.macro CFI_USER_CONTEXT_IN_PTREGS
	CFI_CFA_USER_SP
	CFI_USER_REGS_IN_PTREGS
.endm


/*
 * CFI: an interrupt frame's rules name the pt_regs being built on the
 * current stack, relative to RSP (DW_OP_breg7): `base` is where
 * struct pt_regs starts relative to RSP (negative while PUSH_REGS is still
 * filling it). As for the syscall entry (cfi.h), the CFA is the
 * interrupted RSP, read from the hardware frame, so the interrupted
 * frames sit above this one whichever stack they are on.
 */
.macro CFI_IRQ_FRAME base
	.cfi_escape DW_CFA_def_cfa_expression, 4, DW_OP_breg7, SLEB2((\base) + RSP), DW_OP_deref
	.cfi_escape DW_CFA_expression, 16, 3, DW_OP_breg7, SLEB2((\base) + RIP)
.endm
.macro CFI_IRQ_REG dwreg, off
	.cfi_escape DW_CFA_expression, \dwreg, 3, DW_OP_breg7, SLEB2(\off)
.endm
/* pt_regs complete at RSP: every interrupted register is in it */
.macro CFI_IRQ_REGS
	CFI_IRQ_FRAME 0
	CFI_IRQ_REG 0, RAX
	CFI_IRQ_REG 1, RDX
	CFI_IRQ_REG 2, RCX
	CFI_IRQ_REG 3, RBX
	CFI_IRQ_REG 4, RSI
	CFI_IRQ_REG 5, RDI
	CFI_IRQ_REG 6, RBP
	CFI_IRQ_REG 8, R8
	CFI_IRQ_REG 9, R9
	CFI_IRQ_REG 10, R10
	CFI_IRQ_REG 11, R11
	CFI_IRQ_REG 12, R12
	CFI_IRQ_REG 13, R13
	CFI_IRQ_REG 14, R14
	CFI_IRQ_REG 15, R15
.endm

/*
 * A call from the entry path into C (the user context is in pt_regs; RAX is
 * free). While the callee runs, gdb finds the caller frame's unwinder at
 * the return address - 1 and, for a signal frame, at the return address
 * itself: both must lie in a signal frame's FDE (see above). Stopped at the
 * call itself the frame must stay an ordinary one, showing its function's
 * name. So the call is `call *%rax` (two bytes) with the FDE boundary
 * between them, and the return address is a `nop` of its own, the one
 * instruction at which gdb says "<signal handler called>" (after `finish`).
 */
/* (ctx: the macro giving the user context's rules; the compat entries have their own) */
.macro CALL_FROM_ENTRY target, ctx=CFI_USER_CONTEXT_IN_PTREGS
	movq	$\target, %rax
	.byte	0xff			/* call *%rax (first byte) */
	.cfi_endproc
	.cfi_startproc simple
	.cfi_signal_frame
	\ctx
	.byte	0xd0			/* call *%rax (second byte) */
	nop				/* the return address */
	.cfi_endproc
	.cfi_startproc simple
	\ctx
.endm
#endif

#endif
