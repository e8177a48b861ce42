/*
 * The native guest kernel's interrupt descriptor table and task state
 * segment (Linux 5.8's arch/x86/kernel/idt.c and the cpu_tss_rw of
 * process.c). The IDT has the two gates this machine uses: the local APIC
 * timer (a system vector, DPL 0: only the CPU raises it) and IA32_SYSCALL_VECTOR,
 * 0x80, for a 32-bit program's int $0x80 (DPL 3, so user mode may raise it).
 * TSS.sp0 is the stack the CPU switches to when either arrives from user
 * mode: the entry stack, as SYSENTER's.
 */
#include "segment.h"
#include "cpu_entry_area.h"
#include "irq_vectors.h"

typedef unsigned short u16;
typedef unsigned int u32;

/* struct x86_hw_tss (arch/x86/include/asm/processor.h) */
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

/* struct gate_struct (arch/x86/include/asm/desc_defs.h) */
struct gate_struct {
	u16 offset_low;
	u16 segment;
	u16 bits;	/* ist:3, zero:5, type:5, dpl:2, p:1 */
	u16 offset_middle;
	u32 offset_high;
	u32 reserved;
};

struct desc_ptr {
	u16 size;
	unsigned long address;
} __attribute__((packed));

/* struct idt_data: one gate of a table trap_init installs (idt.c's INTG, SYSG) */
struct idt_data {
	unsigned int vector;
	unsigned int dpl;
	const void *addr;
};

#define GATE_INTERRUPT		0xE
#define IA32_SYSCALL_VECTOR	0x80
#define IDT_ENTRIES		256
/* the GDT's TSS descriptor, which the host's GDT points at cpu_tss_rw (src/cpu/segment.ts) */
#define GDT_ENTRY_TSS		8

#define INTG(_vector, _addr)	{ .vector = _vector, .dpl = 0, .addr = _addr }
#define SYSG(_vector, _addr)	{ .vector = _vector, .dpl = 3, .addr = _addr }

struct x86_hw_tss cpu_tss_rw __attribute__((aligned(64)));
struct gate_struct idt_table[IDT_ENTRIES] __attribute__((aligned(4096)));
static const struct desc_ptr idt_descr = { .size = sizeof(idt_table) - 1, .address = (unsigned long)idt_table };

extern char asm_sysvec_apic_timer_interrupt[];
extern char entry_INT80_compat[];
extern struct cpu_entry_area cpu_entry_area;

/* def_idts (IA32_SYSCALL_VECTOR) and apic_idts (LOCAL_TIMER_VECTOR), the gates this machine raises */
static const struct idt_data def_idts[] = {
	SYSG(IA32_SYSCALL_VECTOR, entry_INT80_compat),
	INTG(LOCAL_TIMER_VECTOR, asm_sysvec_apic_timer_interrupt),
};

/* idt_setup_from_table(): an interrupt gate (IF cleared on entry), IST 0, __KERNEL_CS */
static void idt_setup_from_table(const struct idt_data *t, int size)
{
	for (; size > 0; t++, size--) {
		unsigned long a = (unsigned long)t->addr;
		struct gate_struct *g = &idt_table[t->vector];

		g->offset_low = (u16)a;
		g->segment = __KERNEL_CS;
		g->bits = (GATE_INTERRUPT << 8) | (t->dpl << 13) | (1 << 15);
		g->offset_middle = (u16)(a >> 16);
		g->offset_high = (u32)(a >> 32);
		g->reserved = 0;
	}
}

/* as trap_init (cpu_init: load_sp0, load_TR_desc, load_idt): called at boot after syscall_init */
void trap_init(void)
{
	/* the entry stack: where int $0x80, SYSENTER and an interrupt of user code arrive */
	cpu_tss_rw.sp0 = cpu_entry_area.sp0;
	cpu_tss_rw.io_bitmap_base = sizeof(cpu_tss_rw);
	idt_setup_from_table(def_idts, sizeof(def_idts) / sizeof(def_idts[0]));
	__asm__ volatile("ltr %w0" ::"r"(GDT_ENTRY_TSS * 8));
	__asm__ volatile("lidt %0" ::"m"(idt_descr));
}
