/*
 * The C half of the guest kernel's syscall path: do_syscall_64 dispatches
 * through sys_call_table, whose entries hand the call to the host (the
 * TypeScript syscalls) with one hypercall; the exit work (signals) is done
 * on the way out. Built twice: -DCONFIG_MMU=0 for UML nommu, and
 * -DNATIVE for Linux's entry_SYSCALL_64 model at CPL 0.
 */
#include "kernel.h"
#include "irqflags.h"
#include "entry_common.h"
#include "calling.h"
#include "page_types.h"
#include "generated/syscalls_64.h"
#include "cpu_entry_area.h"

extern const sys_call_ptr_t sys_call_table[NR_syscalls];

/* the (single) task: its kernel stack, and its pt_regs right above the top as x86's task_pt_regs()
 * (kernel.lds.S keeps the order: the CFI of entry_nommu.S finds the user's ip and sp there) */
unsigned char task_stack[THREAD_SIZE] __attribute__((aligned(16), section(".bss.task_stack")));
struct pt_regs task_regs __attribute__((aligned(16), section(".bss.task_regs")));
/* UML nommu's two globals: where entry saves registers, and the kernel stack to run on.
 * current_ptregs sits at the fixed address ENTRY_AREA (kernel.lds.S), where the
 * entry's CFI finds the user context (cfi.h) */
#ifndef NATIVE
struct pt_regs *current_ptregs __attribute__((section(".data..entry_area"))) = &task_regs;
#else
struct pt_regs *current_ptregs = &task_regs;
#endif
unsigned long current_top_of_stack = (unsigned long)(task_stack + THREAD_SIZE);

/* Numbers without an implementation in the table (the 335..423 gap). */
long sys_ni_syscall(const struct pt_regs *regs)
{
	(void)regs;
	return -ENOSYS;
}

/*
 * UML's interrupt_end(): pending work on the way back to user space, after
 * a syscall or an interrupt of user code: the reschedule the tick asked
 * for, then signal delivery, which rewrites *current_ptregs.
 */
void interrupt_end(void)
{
	if (need_resched)
		schedule();
	hypercall(HC_EXIT_WORK, current_ptregs);
}

/*
 * Called with IRQs on; returns with them off, work done. A syscall must
 * return with interrupts enabled: one that did not is reported with its
 * number, as v5.8's CONFIG_PROVE_LOCKING check, and IRQs are turned back on.
 */
void syscall_return_slowpath(struct pt_regs *regs)
{
	if (irqs_disabled()) {
		printk("WARNING: syscall %ld left IRQs disabled", (long)regs->orig_ax);
		local_irq_enable();
	}
	local_irq_disable();
#ifdef NATIVE
	exit_to_user_mode_work(regs);	/* prepare_exit_to_usermode */
#endif
}

#ifdef NATIVE
/* v5.8: do_syscall_64(nr, regs) */
void do_syscall_64(unsigned long nr, struct pt_regs *regs)
#else
void do_syscall_64(struct pt_regs *regs)
#endif
{
#ifndef NATIVE
	unsigned long nr = regs->orig_ax;
#endif
	local_irq_enable();
	if (nr < NR_syscalls)
		regs->ax = sys_call_table[nr](regs);
	syscall_return_slowpath(regs);
}

#ifdef NATIVE
/* per-CPU entry data reached through %gs in entry_SYSCALL_64; at the fixed
 * address ENTRY_AREA (kernel.lds.S), where the entry's CFI finds the user
 * RSP in sp2 and the task's pt_regs below top_of_stack (cfi.h) */
struct cpu_entry_area cpu_entry_area __attribute__((section(".data..entry_area")));
unsigned char trampoline_stack[512] __attribute__((aligned(16)));
unsigned char boot_stack[4096] __attribute__((aligned(16)));
unsigned long boot_stack_top = (unsigned long)(boot_stack + sizeof(boot_stack));

extern char entry_SYSCALL_64[];
extern char entry_SYSCALL_compat[], entry_SYSENTER_compat[];

static inline void wrmsr(unsigned int msr, unsigned long val)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((unsigned int)val), "d"((unsigned int)(val >> 32)));
}
static inline unsigned long rdmsr(unsigned int msr)
{
	unsigned int lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((unsigned long)hi << 32) | lo;
}

#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_CSTAR		0xc0000083
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define EFER_SCE		1

/* as arch/x86/kernel/cpu/common.c: syscall_init() */
void syscall_init(void)
{
	cpu_entry_area.sp0 = (unsigned long)(trampoline_stack + sizeof(trampoline_stack));
	cpu_entry_area.top_of_stack = current_top_of_stack;
	wrmsr(MSR_STAR, ((unsigned long)__USER32_CS << 48) | ((unsigned long)__KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (unsigned long)entry_SYSCALL_64);
	/* CONFIG_IA32_EMULATION: the compat entries (entry_64_compat.S) */
	wrmsr(MSR_CSTAR, (unsigned long)entry_SYSCALL_compat);
	wrmsr(MSR_IA32_SYSENTER_CS, __KERNEL_CS);
	wrmsr(MSR_IA32_SYSENTER_ESP, cpu_entry_area.sp0);	/* the entry stack */
	wrmsr(MSR_IA32_SYSENTER_EIP, (unsigned long)entry_SYSENTER_compat);
	/* Flags to clear on syscall; clear as much as possible */
	wrmsr(MSR_SYSCALL_MASK, 0x257fd5);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* swapgs on entry makes this the GS base */
	wrmsr(MSR_KERNEL_GS_BASE, (unsigned long)&cpu_entry_area);
}
#endif
