/*
 * UML nommu: the timer is a host signal (SIGALRM) that the guest kernel
 * turns into an interrupt, after arch/um/os-Linux/signal.c (hard_handler,
 * timer_alarm_handler, block_signals/unblock_signals) and
 * arch/um/kernel/time.c, irq.c (timer_handler, do_IRQ).
 *
 * The host delivers SIGALRM whatever the guest is doing, on the alternate
 * signal stack (set_sigstack), with the interrupted registers in the
 * ucontext; the handler's `ret` goes to __restore_rt (entry_nommu.S), the
 * host's rt_sigreturn. signals_enabled is UML's interrupt flag: while it is
 * clear the handler only marks the signal pending, and unblock_signals()
 * runs it when the kernel enables interrupts again.
 */
#include "kernel.h"
#include "irqflags.h"
#include "irq_vectors.h"

/* the host's ucontext as far as the guest reads it: the interrupted registers, in pt_regs order */
struct um_ucontext {
	struct pt_regs uc_mcontext;
};

/* user code runs with interrupts enabled (the first program starts there) */
int signals_enabled = 1;
static int signals_pending;
static int signals_active;

unsigned char signal_stack[UM_SIGNAL_STACK_SIZE] __attribute__((aligned(16)));
/* the sigaltstack the host runs hard_handler on (UML registers it at boot: set_sigstack) */
unsigned long signal_stack_top = (unsigned long)(signal_stack + sizeof(signal_stack));

extern struct pt_regs *current_ptregs;
extern char _text[], _end[];
void interrupt_end(void);

/* the interrupted code was the program's (not the guest kernel's, nor the zpoline trampoline page's) */
static int user_mode(const struct pt_regs *regs)
{
	unsigned long ip = regs->ip;
	return !(ip >= (unsigned long)_text && ip < (unsigned long)_end) && ip >= 4096;
}

void block_signals(void)
{
	signals_enabled = 0;
}

#define TIMER_IRQ 0

/* irq.c: the timer's IRQ handler (timer_interrupt -> the clockevent's tick) */
static void do_IRQ(int irq, struct pt_regs *regs)
{
	(void)irq;
	tick_periodic(user_mode(regs));
}

/* time.c */
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

static void timer_real_alarm_handler(struct pt_regs *mc)
{
	struct pt_regs regs = { 0 };
	if (mc)
		regs = *mc;	/* get_regs_from_mc */
	timer_handler(SIGALRM, 0, &regs);
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
