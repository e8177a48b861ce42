/*
 * UML nommu: the bottom of the timer's path, after arch/um/os-Linux/signal.c
 * (timer_alarm_handler, timer_real_alarm_handler, block_signals/
 * unblock_signals, the sigaltstack of set_sigstack). The host delivers
 * SIGALRM whatever the guest is doing, on the alternate signal stack;
 * signals_enabled is UML's interrupt flag: while it is clear the handler
 * only marks the signal pending, and unblock_signals() runs it when the
 * kernel enables interrupts again.
 *
 * This layer names nothing of the kernel above it (the tick, the task, the
 * exit work): it finds a signal's kernel handler in the table of
 * um_signal.h, where um_irq.c registers timer_handler, and the host
 * signal's entry, hard_handler, lives in um_irq.c because its exit work is
 * the task's.
 */
#include "um_signal.h"

/* user code runs with interrupts enabled (the first program starts there) */
int signals_enabled = 1;
static int signals_pending;
static int signals_active;

unsigned char signal_stack[UM_SIGNAL_STACK_SIZE] __attribute__((aligned(16)));
/* the sigaltstack the host runs hard_handler on (UML registers it at boot: set_sigstack) */
unsigned long signal_stack_top = (unsigned long)(signal_stack + sizeof(signal_stack));

void block_signals(void)
{
	signals_enabled = 0;
}

/* handlers[sig]: the kernel's handler of a host signal, from the linker's table (NULL: none) */
static um_signal_handler_t um_signal_handler(int sig)
{
	for (const struct um_signal_handler *h = __um_signal_handlers_start; h < __um_signal_handlers_end; h++)
		if (h->sig == sig)
			return h->handler;
	return 0;
}

/* NULL when the signal was deferred: the handler runs with no interrupted registers */
static void timer_real_alarm_handler(struct pt_regs *mc)
{
	struct pt_regs regs = { 0 };
	if (mc)
		regs = *mc;	/* get_regs_from_mc */
	um_signal_handler_t handler = um_signal_handler(SIGALRM);	/* timer_handler (um_irq.c) */
	if (handler)
		handler(SIGALRM, 0, &regs);
}

void unblock_signals(void)
{
	if (signals_enabled == 1)
		return;
	signals_enabled = 1;
	for (;;) {
		int save_pending = signals_pending;
		if (save_pending == 0)
			return;
		signals_pending = 0;
		/* run the deferred handlers with signals off, as the host would have */
		block_signals();
		if (save_pending & SIGALRM_MASK)
			timer_real_alarm_handler(0);
		signals_enabled = 1;
	}
}

void timer_alarm_handler(int sig, void *unused_si, struct pt_regs *mc)
{
	(void)sig;
	(void)unused_si;
	int enabled = signals_enabled;
	if (!signals_enabled) {
		signals_pending |= SIGALRM_MASK;
		return;
	}
	block_signals();
	signals_active |= SIGALRM_MASK;
	timer_real_alarm_handler(mc);
	signals_active &= ~SIGALRM_MASK;
	if (enabled)
		unblock_signals();
}
