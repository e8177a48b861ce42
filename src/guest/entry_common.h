/* What the C halves of the entry paths share (syscall.c, syscall_32.c): the
 * hypercall to the host, interrupt masking, and the exit work. */
#ifndef ENTRY_COMMON_H
#define ENTRY_COMMON_H

#include "pt_regs.h"
#include "hypercall.h"

/* "interrupts": the IF flag in native mode, UML's signals_enabled under nommu */
#ifdef NATIVE
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline int irqs_disabled(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	return !(flags & 0x200);
}
#else
extern int signals_enabled;
static inline void local_irq_enable(void) { signals_enabled = 1; }
static inline void local_irq_disable(void) { signals_enabled = 0; }
static inline int irqs_disabled(void) { return !signals_enabled; }
#endif

static inline long hypercall(long nr, const void *arg)
{
	long ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(arg) : "memory");
	return ret;
}

/* Called with IRQs on; returns with them off, work done. */
void syscall_return_slowpath(struct pt_regs *regs);

#endif
