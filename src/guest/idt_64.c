/*
 * Native model: the IDT and the C half of the local APIC timer interrupt,
 * after Linux 5.8's arch/x86/kernel/idt.c, arch/x86/kernel/traps.c
 * (sync_regs), arch/x86/kernel/apic/apic.c (sysvec_apic_timer_interrupt)
 * and kernel/entry/common.c (irqentry_exit). entry_irq.S is the assembly
 * half (asm_sysvec_apic_timer_interrupt).
 */
#include "kernel.h"
#include "irqflags.h"
#include "irq_vectors.h"
#include "segment.h"
#include "cpu_entry_area.h"

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned char u8;

/* a 64-bit gate descriptor (arch/x86/include/asm/desc_defs.h) */
struct gate_struct {
	u16 offset_low;
	u16 segment;
	u16 bits;		/* ist:3, zero:5, type:5, dpl:2, p:1 */
	u16 offset_middle;
	u32 offset_high;
	u32 reserved;
};

struct desc_ptr {
	u16 size;
	unsigned long address;
} __attribute__((packed));

/* the hardware's view of the TSS (struct x86_hw_tss): the CPU reads sp0 on an interrupt from user mode */
struct x86_hw_tss {
	u32 reserved1;
	unsigned long sp0;
	unsigned long sp1;
	unsigned long sp2;
	unsigned long reserved2;
	unsigned long ist[7];
	u32 reserved3;
	u32 reserved4;
	u16 reserved5;
	u16 io_bitmap_base;
} __attribute__((packed));

#define GATE_INTERRUPT	0xe
#define IDT_ENTRIES	256

struct gate_struct idt_table[IDT_ENTRIES] __attribute__((aligned(4096)));
static struct desc_ptr idt_descr = { .size = IDT_ENTRIES * 16 - 1, .address = (unsigned long)idt_table };
struct x86_hw_tss cpu_tss_rw __attribute__((aligned(64)));

extern struct cpu_entry_area cpu_entry_area;
extern unsigned char trampoline_stack[512];
extern char asm_sysvec_apic_timer_interrupt[];

static void set_intr_gate(unsigned int n, const void *addr)
{
	unsigned long a = (unsigned long)addr;
	struct gate_struct *g = &idt_table[n];
	g->offset_low = (u16)a;
	g->segment = __KERNEL_CS;
	g->bits = (GATE_INTERRUPT << 8) | (1 << 15);	/* ist 0, dpl 0, present */
	g->offset_middle = (u16)(a >> 16);
	g->offset_high = (u32)(a >> 32);
	g->reserved = 0;
}

/* idt_setup_apic_and_irq_gates() and load_idt(): the one vector this machine raises */
void trap_init(void)
{
	/* an interrupt from user mode lands on the entry (trampoline) stack, as Linux 5.8's sp0 */
	cpu_tss_rw.sp0 = (unsigned long)(trampoline_stack + 512);
	set_intr_gate(LOCAL_TIMER_VECTOR, asm_sysvec_apic_timer_interrupt);
	__asm__ volatile("lidt %0" : : "m"(idt_descr));
}

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
