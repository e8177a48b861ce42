/*
 * The 32-bit vDSO's entry points into the kernel, as Linux 4.3+ has them
 * (arch/x86/entry/vdso/vdso32/system_call.S and sigreturn.S): every 32-bit
 * program's system calls go through __kernel_vsyscall (glibc: call *%gs:0x10).
 *
 * __kernel_vsyscall saves ecx, edx and ebp, then enters the kernel through
 * SYSENTER or SYSCALL where the CPU has them (Linux patches the sequence in
 * with ALTERNATIVE_2 at boot; entrystub writes it over the nops of
 * `vsyscall_alt` when it maps the vDSO, as the entry model chooses), else
 * through int $0x80. However it entered, the kernel returns to
 * int80_landing_pad, where the saved registers are popped: the fast entries
 * clobber ecx and edx (and ebp carries the user stack pointer or ecx), so
 * the kernel fetches the sixth argument from the user stack and the vDSO
 * restores what it saved.
 */
	.text
	.globl	__kernel_vsyscall
	.type	__kernel_vsyscall, @function
	.p2align 4
__kernel_vsyscall:
	.cfi_startproc
	pushl	%ecx
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset ecx, 0
	pushl	%edx
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset edx, 0
	pushl	%ebp
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset ebp, 0
	/*
	 * The alternatives: "movl %esp, %ebp; sysenter" (89 e5 0f 34) or
	 * "movl %ecx, %ebp; syscall" (89 cd 0f 05), or these nops: int $0x80.
	 */
	.globl	vsyscall_alt
vsyscall_alt:
	.byte	0x0f, 0x1f, 0x40, 0x00	/* nopl 0(%eax): four bytes */
	/* Enter using int $0x80 */
	int	$0x80
	.globl	int80_landing_pad
int80_landing_pad:
	popl	%ebp
	.cfi_adjust_cfa_offset -4
	.cfi_restore ebp
	popl	%edx
	.cfi_adjust_cfa_offset -4
	.cfi_restore edx
	popl	%ecx
	.cfi_adjust_cfa_offset -4
	.cfi_restore ecx
	ret
	.cfi_endproc
	.size	__kernel_vsyscall, .-__kernel_vsyscall

/* sigreturn.S: the restorers a 32-bit signal frame returns through (sigreturn 119, rt_sigreturn 173) */
	.globl	__kernel_sigreturn
	.type	__kernel_sigreturn, @function
	.p2align 5
__kernel_sigreturn:
	popl	%eax
	movl	$119, %eax
	int	$0x80
	.size	__kernel_sigreturn, .-__kernel_sigreturn

	.globl	__kernel_rt_sigreturn
	.type	__kernel_rt_sigreturn, @function
	.p2align 5
__kernel_rt_sigreturn:
	movl	$173, %eax
	int	$0x80
	.size	__kernel_rt_sigreturn, .-__kernel_rt_sigreturn

	.section .note.GNU-stack, "", @progbits
