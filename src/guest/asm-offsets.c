/*
 * Facts of the guest kernel's ABI that assembly, the host (TypeScript) and
 * gdb-scripts all need, produced once by the compiler from the C
 * definitions, as Linux's arch/x86/kernel/asm-offsets_64.c does. build.mjs
 * compiles this with -S and turns each `->NAME VALUE` line into
 * generated/asm-offsets.h, src/guest/generated/abi.ts and
 * gdb-scripts/entrystub_abi.py.
 */
#include <stddef.h>
#include "pt_regs.h"
#include "hypercall.h"
#include "segment.h"
#include "page_types.h"
#include "generated/syscalls_64.h"
#include "generated/syscalls_32.h"
#include "cpu_entry_area.h"
#include "irq_vectors.h"

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %c0\"" : : "i"(val))
#define ENTRY(field) DEFINE(pt_regs_##field, offsetof(struct pt_regs, field))

void common(void);
void common(void)
{
	ENTRY(r15);
	ENTRY(r14);
	ENTRY(r13);
	ENTRY(r12);
	ENTRY(bp);
	ENTRY(bx);
	ENTRY(r11);
	ENTRY(r10);
	ENTRY(r9);
	ENTRY(r8);
	ENTRY(ax);
	ENTRY(cx);
	ENTRY(dx);
	ENTRY(si);
	ENTRY(di);
	ENTRY(orig_ax);
	ENTRY(ip);
	ENTRY(cs);
	ENTRY(flags);
	ENTRY(sp);
	ENTRY(ss);
	DEFINE(SIZEOF_PTREGS, sizeof(struct pt_regs));
	DEFINE(TSS_sp2, offsetof(struct cpu_entry_area, sp2));
	DEFINE(TSS_sp0, offsetof(struct cpu_entry_area, sp0));
	DEFINE(TOP_OF_STACK, offsetof(struct cpu_entry_area, top_of_stack));
	DEFINE(SIZEOF_CPU_ENTRY_AREA, sizeof(struct cpu_entry_area));
	DEFINE(NR_syscalls, NR_syscalls);
	DEFINE(IA32_NR_syscalls, IA32_NR_syscalls);
	DEFINE(HC_SYSCALL, HC_SYSCALL);
	DEFINE(HC_EXIT_WORK, HC_EXIT_WORK);
	DEFINE(HC_PRINTK, HC_PRINTK);
	DEFINE(HC_BOOT_DONE, HC_BOOT_DONE);
	DEFINE(HC_SCHEDULE, HC_SCHEDULE);
	DEFINE(HC_HOST_SIGRETURN, HC_HOST_SIGRETURN);
	DEFINE(LOCAL_TIMER_VECTOR, LOCAL_TIMER_VECTOR);
	DEFINE(SIGALRM, SIGALRM);
	DEFINE(UM_SIGNAL_STACK_SIZE, UM_SIGNAL_STACK_SIZE);
	DEFINE(HC_SYSCALL32, HC_SYSCALL32);
	DEFINE(__KERNEL_CS, __KERNEL_CS);
	DEFINE(__KERNEL_DS, __KERNEL_DS);
	DEFINE(__USER_DS, __USER_DS);
	DEFINE(__USER_CS, __USER_CS);
	DEFINE(__USER32_CS, __USER32_CS);
	DEFINE(THREAD_SIZE, THREAD_SIZE);
}
