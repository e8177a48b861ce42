/*
 * UML nommu: the timer's interrupt in the kernel, above the host-signal
 * layer (um_signal.c), after arch/um/kernel/time.c (timer_handler) and
 * arch/um/kernel/irq.c (do_IRQ), and the host signal's entry, hard_handler
 * (arch/um/os-Linux/signal.c's), whose second half is nommu's return to
 * the program through the task's exit work: it needs the task
 * (current_ptregs, interrupt_end: syscall.c), which the layer below must
 * not name, so the entry stands here, over both.
 *
 * The host delivers SIGALRM with the interrupted registers in the
 * ucontext; the handler's `ret` goes to __restore_rt (entry_nommu.S), the
 * host's rt_sigreturn.
 */
#include "kernel.h"
#include "um_signal.h"

/* the host's ucontext as far as the guest reads it: the interrupted registers, in pt_regs order */
struct um_ucontext {
	struct pt_regs uc_mcontext;
};

extern struct pt_regs *current_ptregs;
extern char _text[], _end[];
void interrupt_end(void);

/* the interrupted code was the program's (not the guest kernel's, nor the zpoline trampoline page's) */
static int user_mode(const struct pt_regs *regs)
{
	unsigned long ip = regs->ip;
	return !(ip >= (unsigned long)_text && ip < (unsigned long)_end) && ip >= 4096;
}

#define TIMER_IRQ 0

/* irq.c: the timer's IRQ handler (timer_interrupt -> the clockevent's tick) */
static void do_IRQ(int irq, struct pt_regs *regs)
{
	(void)irq;
	tick_periodic(user_mode(regs));
}

/* time.c: SIGALRM's handler, run by um_signal.c's timer_alarm_handler or unblock_signals */
void timer_handler(int sig, void *unused_si, struct pt_regs *regs)
{
	(void)sig;
	(void)unused_si;
	int enabled = signals_enabled;
	block_signals();	/* local_irq_save */
	do_IRQ(TIMER_IRQ, regs);
	if (enabled)		/* local_irq_restore */
		signals_enabled = 1;
}
UM_SIGNAL_HANDLER(SIGALRM, timer_handler);

/*
 * The host signal's entry. An interrupt of the program's own code goes back
 * to it through the exit work (interrupt_end: reschedule, signal delivery),
 * on the task's pt_regs, as a syscall's return does; an interrupt of the
 * guest kernel (a syscall body) returns straight to it, and the task's
 * pt_regs keep the syscall's user context.
 */
void hard_handler(int sig, void *si, struct um_ucontext *uc)
{
	struct pt_regs *mc = &uc->uc_mcontext;
	timer_alarm_handler(sig, si, mc);
	if (user_mode(mc) && signals_enabled) {
		*current_ptregs = *mc;
		current_ptregs->orig_ax = -1;
		block_signals();
		interrupt_end();
		signals_enabled = 1;
		*mc = *current_ptregs;
	}
}
