/*
 * The zpoline trampoline (Yasukata et al., USENIX ATC '23), as UML's nommu
 * mode uses it. At exec every `syscall` of the program was rewritten to
 * `call *%rax` (FF D0, the same two bytes), so a syscall now calls the
 * address equal to its number: this page, mapped at virtual address 0,
 * execute-only. The call lands in the nop sled at offset nr, slides down to
 * zpoline_trampoline, which turns the call back into what `syscall` would
 * have left (RCX = the return address) and jumps to __kernel_vsyscall.
 *
 * Linked at address 0 into the nommu kernel image (kernel.lds.S), so a debugger
 * names every byte of the trip: `zpoline_sled+1` is the landing spot of a
 * write(2).
 */
#include "calling.h"
#include "generated/syscalls_64.h"

	.section .zpoline, "ax"
	.globl	zpoline_sled
	.type	zpoline_sled, @function
zpoline_sled:
	/* entered by `call *%rax` from a rewritten site: the return address is on the stack */
	.cfi_startproc simple
	.cfi_def_cfa	%rsp, 8
	.cfi_offset	%rip, -8
	/* numbers 0..213 slide over nops to the jump below */
	.rept	214
	nop
	.endr
	/*
	 * zpoline's own shortcut: 215 (epoll_wait_old, never used) is given up
	 * so that numbers below 214 skip 127 nops. A call landing on 215 would
	 * execute the jump's second byte.
	 */
	jmp	zpoline_sled + 216 + 127
	/* the rest of the table: nops up to offset NR_syscalls */
	.rept	NR_syscalls - 216
	nop
	.endr

	/* here RAX = the syscall number, (%rsp) = the instruction after the call */
	.globl	zpoline_trampoline
zpoline_trampoline:
	movabsq	$__kernel_vsyscall, %r11	/* too far for a rel32 jump */
	popq	%rcx				/* where `syscall` would have put it */
	.cfi_def_cfa	%rsp, 0
	.cfi_register	%rip, %rcx
	jmpq	*%r11

	/*
	 * Numbers beyond the table do not exist in real zpoline or UML; here a
	 * second sled takes them back to the trampoline, so that
	 * do_syscall_64 answers -ENOSYS as Linux does. (A call landing inside
	 * zpoline_trampoline's own bytes, or beyond this page, is sent to
	 * zpoline_trampoline by the host's trampoline guard.)
	 */
	.cfi_def_cfa	%rsp, 8
	.cfi_offset	%rip, -8
	.globl	zpoline_beyond_table
zpoline_beyond_table:
	.rept	4096 - 5 - (NR_syscalls + 14)	/* to the page's last 5 bytes (the trampoline's code is 14) */
	nop
	.endr
	.globl	zpoline_back
zpoline_back:
	jmp	zpoline_trampoline		/* rel32: the page's last 5 bytes */
	.cfi_endproc
	.size	zpoline_sled, . - zpoline_sled
