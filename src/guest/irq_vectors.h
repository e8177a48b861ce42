/* The timer interrupt's facts shared by the guest's C, its assembly and the
 * host (through asm-offsets.c): the local APIC timer vector of Linux's
 * arch/x86/include/asm/irq_vectors.h, and UML's timer signal with the
 * pending-mask bits of arch/um/os-Linux/signal.c. */
#ifndef IRQ_VECTORS_H
#define IRQ_VECTORS_H

#define LOCAL_TIMER_VECTOR	0xec

/* UML nommu: the host delivers the timer as SIGALRM; while signals_enabled
 * is clear the handler only records it in signals_pending */
#define SIGALRM			14
#define SIGALRM_BIT		0
#define SIGALRM_MASK		(1 << SIGALRM_BIT)
/* the alternate signal stack the host runs hard_handler on (set_sigstack) */
#define UM_SIGNAL_STACK_SIZE	(8 * 1024)

#endif
