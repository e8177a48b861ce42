/*
 * Native model: the C half of the local APIC timer interrupt, after Linux
 * 5.8's arch/x86/kernel/apic/apic.c (sysvec_apic_timer_interrupt),
 * arch/x86/kernel/traps.c (sync_regs) and kernel/entry/common.c
 * (irqentry_exit). entry_irq.S is the assembly half
 * (asm_sysvec_apic_timer_interrupt); idt.c installs its gate.
 */
#include "kernel.h"
#include "cpu_entry_area.h"

extern struct cpu_entry_area cpu_entry_area;

/*
 * The current task's pt_regs: at the top of its kernel stack, whatever is
 * nested below them (task_pt_regs(current), arch/x86/include/asm/processor.h).
 */
struct pt_regs *current_pt_regs(void)
{
	return (struct pt_regs *)cpu_entry_area.top_of_stack - 1;
}

/* traps.c: an entry from user mode moves its pt_regs from the entry stack to the task's stack */
struct pt_regs *sync_regs(struct pt_regs *eregs)
{
	struct pt_regs *regs = current_pt_regs();
	if (regs != eregs)
		*regs = *eregs;
	return regs;
}

static inline int user_mode(const struct pt_regs *regs)
{
	return (regs->cs & 3) == 3;
}

/* irqentry_exit(): to user mode through the exit work; to the kernel, straight back */
static void irqentry_exit(struct pt_regs *regs)
{
	if (user_mode(regs))
		exit_to_user_mode_work(regs);	/* irqentry_exit_to_user_mode */
}

/* DEFINE_IDTENTRY_SYSVEC(sysvec_apic_timer_interrupt): called with IRQs off */
void sysvec_apic_timer_interrupt(struct pt_regs *regs)
{
	/* local_apic_timer_interrupt() -> the periodic tick's event handler */
	tick_periodic(user_mode(regs));
	irqentry_exit(regs);
}
