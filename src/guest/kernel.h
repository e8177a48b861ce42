/* What the guest kernel's C files share: the hypercall, printk, the tick
 * and the current task's flags (one task runs at a time; the host saves
 * and restores these words at a task switch, as a thread_info's flags). */
#ifndef KERNEL_H
#define KERNEL_H

#include "pt_regs.h"
#include "hypercall.h"

static inline long hypercall(long nr, const void *arg)
{
	long ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(arg) : "memory");
	return ret;
}

/* one line for the kernel log: %ld, %lx and %s only */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* the tick (time.c): jiffies, and TIF_NEED_RESCHED of the running task */
extern volatile unsigned long jiffies;
extern int need_resched;
void tick_periodic(int user_tick);
void schedule(void);

/* on the way back to the program: signal delivery may rewrite *regs */
void exit_to_user_mode_work(struct pt_regs *regs);

#endif
