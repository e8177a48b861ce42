/*
 * The 32-bit vDSO's clock functions (Linux's vdso32/vclock_gettime.c, with
 * the generic lib/vdso), as they run when the clocksource is one user space
 * cannot read: Linux's VDSO_CLOCKMODE_NONE, the case of a clock only the
 * kernel can reach. Each then makes the system call itself, through
 * __kernel_vsyscall (arch/x86/include/asm/vdso/gettimeofday.h's *_fallback),
 * with ebx kept in edx across it (__kernel_vsyscall preserves edx). The
 * emulated clock is the host's, read by the kernel (and logged for replay),
 * so this is the vDSO's only honest mode here: there is no vvar page.
 *
 * glibc finds these by name and version (LINUX_2.6) through AT_SYSINFO_EHDR
 * and calls them instead of the system calls; the return is the call's
 * (a negative errno on failure), as the kernel's.
 */
#define __NR_time		13
#define __NR_gettimeofday	78
#define __NR_clock_gettime	265
#define __NR_clock_getres	266
#define __NR_clock_gettime64	403

/* name(a, b): the call nr with ebx = a (4(%esp) at entry), ecx = b (8(%esp)) */
.macro VCLOCK name, nr
	.globl	\name
	.type	\name, @function
	.p2align 4
\name:
	.cfi_startproc
	movl	%ebx, %edx
	.cfi_register ebx, edx
	movl	4(%esp), %ebx
	movl	8(%esp), %ecx
	movl	$\nr, %eax
	call	__kernel_vsyscall
	movl	%edx, %ebx
	.cfi_restore ebx
	ret
	.cfi_endproc
	.size	\name, .-\name
.endm

	.text
	VCLOCK	__vdso_clock_gettime, __NR_clock_gettime
	VCLOCK	__vdso_clock_gettime64, __NR_clock_gettime64
	VCLOCK	__vdso_gettimeofday, __NR_gettimeofday
	VCLOCK	__vdso_time, __NR_time
	VCLOCK	__vdso_clock_getres, __NR_clock_getres

	.section .note.GNU-stack, "", @progbits
