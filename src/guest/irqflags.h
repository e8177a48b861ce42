/* The guest kernel's interrupt flag, as arch/x86/include/asm/irqflags.h
 * (native: RFLAGS.IF by sti/cli) and arch/um/include/asm/irqflags.h (UML:
 * the signals_enabled word; enabling runs the handlers of signals that
 * arrived while it was clear, os-Linux/signal.c's unblock_signals). */
#ifndef IRQFLAGS_H
#define IRQFLAGS_H

#ifdef NATIVE
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline unsigned long arch_local_save_flags(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
	return flags;
}
static inline int irqs_disabled(void) { return !(arch_local_save_flags() & 0x200); }
#else
#include "um_signal.h"
static inline void local_irq_enable(void) { unblock_signals(); }
static inline void local_irq_disable(void) { block_signals(); }
static inline int irqs_disabled(void) { return !signals_enabled; }
#endif

#endif
