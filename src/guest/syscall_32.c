/*
 * The C half of the compat entries (Linux 5.8's arch/x86/entry/common.c,
 * its 32-bit part): do_fast_syscall_32 for SYSENTER and SYSCALL from the
 * vDSO, do_int80_syscall_32 for int $0x80, both dispatching through
 * ia32_sys_call_table, whose entries hand the call to the host (the i386
 * syscalls of src/kernel/ia32) with one hypercall, as sys_call_table's do.
 */
#include "kernel.h"
#include "irqflags.h"
#include "entry_common.h"
#include "calling.h"
#include "segment.h"
#include "generated/syscalls_32.h"
#include "generated/vdso32_image.h"

#define X86_EFLAGS_TF	0x00000100
#define X86_EFLAGS_RF	0x00010000
#define X86_EFLAGS_VM	0x00020000

extern const sys_call_ptr_t ia32_sys_call_table[IA32_NR_syscalls];

/* the parts of arch/x86/entry/vdso/vdso-image-32.c the kernel reads (vdso2c's
 * job: the offsets come from the vDSO's build, generated/vdso32_image.h) */
struct vdso_image {
	long sym_int80_landing_pad;
};
const struct vdso_image vdso_image_32 = {
	.sym_int80_landing_pad = VDSO32_SYM_int80_landing_pad,
};

/* current->mm->context.vdso: where the running process's vDSO is mapped
 * (the host writes it at exec and when it switches tasks). At a fixed
 * address, MM_CONTEXT_VDSO (kernel.lds.S, after cpu_entry_area): the
 * SYSENTER entry's CFI finds the user's return address through it, as
 * this function does (entry_64_compat.S). */
unsigned long current_mm_context_vdso __attribute__((section(".data..entry_area.vdso")));

/* arch/x86/lib/getuser.S (entry_64_compat.S): the value in %edx, 0 or -EFAULT in %eax */
static inline int __get_user_4(unsigned int *val, unsigned long uaddr)
{
	long err;
	unsigned long v;
	__asm__ volatile("call __get_user_4" : "=a"(err), "=d"(v) : "a"(uaddr) : "memory");
	*val = (unsigned int)v;
	return (int)err;
}

/* A label the host probes: trace --path names the SYSRETL check a return failed. */
#define SYSRETL_CHECK(label) __asm__ volatile(".globl " #label "\n" #label ":" ::: "memory")

static void do_syscall_32_irqs_on(struct pt_regs *regs)
{
	unsigned int nr = (unsigned int)regs->orig_ax;

	if (nr < IA32_NR_syscalls)
		regs->ax = ia32_sys_call_table[nr](regs);

	syscall_return_slowpath(regs);
}

/* Handles int $0x80 */
void do_int80_syscall_32(struct pt_regs *regs)
{
	local_irq_enable();
	do_syscall_32_irqs_on(regs);
}

/* Returns 0 to return using IRET or 1 to return using SYSEXIT/SYSRETL. */
long do_fast_syscall_32(struct pt_regs *regs)
{
	/*
	 * Called using the internal vDSO SYSENTER/SYSCALL32 calling
	 * convention.  Adjust regs so it looks like we entered using int80.
	 */
	unsigned long landing_pad = current_mm_context_vdso + vdso_image_32.sym_int80_landing_pad;

	/*
	 * SYSENTER loses EIP, and even SYSCALL32 needs us to skip forward
	 * so that 'regs->ip -= 2' lands back on an int $0x80 instruction.
	 * Fix it up.
	 */
	regs->ip = landing_pad;

	local_irq_enable();
	/*
	 * Fetch EBP from where the vDSO stashed it. Micro-optimization: the
	 * pointer we're following is explicitly 32 bits, so it can't be out
	 * of range.
	 */
	if (__get_user_4((unsigned int *)&regs->bp, (unsigned long)(unsigned int)regs->sp)) {
		/* User code screwed up. */
		SYSRETL_CHECK(fast_syscall_32_bad_user_stack);	/* 0. the user stack holds ebp: -EFAULT, IRET */
		local_irq_disable();
		regs->ax = -EFAULT;
		exit_to_user_mode_work(regs);	/* prepare_exit_to_usermode */
		return 0;	/* Keep it simple: use IRET. */
	}

	/* Now this is just like a normal syscall. */
	do_syscall_32_irqs_on(regs);

	/*
	 * Opportunistic SYSRETL: if possible, try to return using SYSRETL.
	 * SYSRETL is available on all 64-bit CPUs, so we don't need to
	 * bother with SYSEXIT.
	 *
	 * Unlike 64-bit opportunistic SYSRET, we can't check that CX == IP,
	 * because the ECX fixup above will ensure that this is essentially
	 * never the case. (5.8 tests the four conditions in one expression;
	 * they are apart here, each at a label, so that a debugger can stop at
	 * each and trace can name the one that failed.)
	 */
	SYSRETL_CHECK(sysretl_check_cs);	/* 1. CS == __USER32_CS */
	if (regs->cs != __USER32_CS)
		return 0;
	SYSRETL_CHECK(sysretl_check_ss);	/* 2. SS == __USER_DS */
	if (regs->ss != __USER_DS)
		return 0;
	SYSRETL_CHECK(sysretl_check_ip);	/* 3. IP == the landing pad */
	if (regs->ip != landing_pad)
		return 0;
	SYSRETL_CHECK(sysretl_check_flags);	/* 4. neither RF, TF nor VM: SYSRETL cannot restore RF, and TF would trap in the kernel */
	if (regs->flags & (X86_EFLAGS_RF | X86_EFLAGS_TF | X86_EFLAGS_VM))
		return 0;
	return 1;
}
