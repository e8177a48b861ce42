/*
 * The periodic tick, as kernel/time/tick-common.c's tick_periodic: jiffies
 * advances, the running task's time is accounted (user or system, by where
 * the interrupt found it), and scheduler_tick() asks for a reschedule: the
 * preemption point the exit work honours on the way back to the program.
 * Both entry models' timer interrupts end here (native: sysvec_apic_timer_
 * interrupt; UML: timer_handler -> do_IRQ).
 */
#include <stdarg.h>
#include "kernel.h"
#include "irqflags.h"

volatile unsigned long jiffies;
/* TIF_NEED_RESCHED of the running task (the host keeps it per task) */
int need_resched;
/* the running task's ticks in user and in system mode (account_process_tick) */
unsigned long utime_ticks, stime_ticks;

void tick_periodic(int user_tick)
{
	jiffies++;
	if (user_tick)
		utime_ticks++;
	else
		stime_ticks++;
	/* scheduler_tick(): the round-robin slice is the host scheduler's; a tick ends it */
	need_resched = 1;
}

/* the reschedule: the host's scheduler picks the next task at the return to the program */
void schedule(void)
{
	need_resched = 0;
	hypercall(HC_SCHEDULE, 0);
}

/* exit_to_user_mode_loop (5.8's exit_to_usermode_loop): called and returns with IRQs off */
void exit_to_user_mode_work(struct pt_regs *regs)
{
	local_irq_enable();
	if (need_resched)
		schedule();
	hypercall(HC_EXIT_WORK, regs);
	local_irq_disable();
}

static char *put(char *p, char *end, char c)
{
	if (p < end)
		*p++ = c;
	return p;
}

void printk(const char *fmt, ...)
{
	char buf[256], *p = buf, *end = buf + sizeof(buf) - 1;
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			p = put(p, end, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == 's') {
			for (const char *s = va_arg(ap, const char *); *s; s++)
				p = put(p, end, *s);
			continue;
		}
		if (*fmt == 'l')
			fmt++;
		unsigned long v = va_arg(ap, unsigned long), base = *fmt == 'x' ? 16 : 10;
		char digits[24];
		int n = 0;
		if (base == 10 && (long)v < 0) {
			p = put(p, end, '-');
			v = -v;
		}
		do {
			digits[n++] = "0123456789abcdef"[v % base];
			v /= base;
		} while (v);
		while (n)
			p = put(p, end, digits[--n]);
	}
	va_end(ap);
	*p = 0;
	hypercall(HC_PRINTK, buf);
}
