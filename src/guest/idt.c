/*
 * The native guest kernel's interrupt descriptor table and task state
 * segment (Linux's arch/x86/kernel/idt.c and the cpu_tss_rw of
 * process.c): the CPU reads gate 0x80 for a 32-bit program's int $0x80, and
 * TSS.sp0 for the stack it switches to when an interrupt comes from user
 * mode (the entry stack, as SYSENTER's).
 */
#include "segment.h"
#include "cpu_entry_area.h"

/* struct x86_hw_tss (arch/x86/include/asm/processor.h) */
struct x86_hw_tss {
	unsigned int reserved1;
	unsigned long sp0;
	unsigned long sp1;
	unsigned long sp2;
	unsigned long reserved2;
	unsigned long ist[7];
	unsigned int reserved3;
	unsigned int reserved4;
	unsigned short reserved5;
	unsigned short io_bitmap_base;
} __attribute__((packed));

/* struct gate_struct (arch/x86/include/asm/desc_defs.h) */
struct gate_struct {
	unsigned short offset_low;
	unsigned short segment;
	unsigned short bits;	/* ist:3, zero:5, type:5, dpl:2, p:1 */
	unsigned short offset_middle;
	unsigned int offset_high;
	unsigned int reserved;
};

#define GATE_INTERRUPT	0xE
#define IA32_SYSCALL_VECTOR	0x80
#define IDT_ENTRIES	256
/* the GDT's TSS descriptor (GDT_ENTRY_TSS), which the CPU's GDT points at cpu_tss_rw (src/cpu/segment.ts) */
#define GDT_ENTRY_TSS	8

struct x86_hw_tss cpu_tss_rw __attribute__((aligned(64)));
struct gate_struct idt_table[IDT_ENTRIES] __attribute__((aligned(4096)));

extern char entry_INT80_compat[];
extern struct cpu_entry_area cpu_entry_area;

/* SYSG(IA32_SYSCALL_VECTOR, entry_INT80_compat): a system interrupt gate, DPL 3 */
static void set_intr_gate_dpl3(unsigned int n, const void *addr)
{
	unsigned long a = (unsigned long)addr;
	struct gate_struct *g = &idt_table[n];

	g->offset_low = a & 0xffff;
	g->segment = __KERNEL_CS;
	g->bits = (GATE_INTERRUPT << 8) | (3 << 13) | (1 << 15);
	g->offset_middle = (a >> 16) & 0xffff;
	g->offset_high = a >> 32;
	g->reserved = 0;
}

/* as trap_init (cpu_init: load_sp0, load_TR_desc, load_idt): called at boot after syscall_init */
void trap_init(void)
{
	struct {
		unsigned short size;
		unsigned long address;
	} __attribute__((packed)) idt_descr = { sizeof(idt_table) - 1, (unsigned long)idt_table };

	/* the entry stack: where int $0x80 (and SYSENTER) arrive */
	cpu_tss_rw.sp0 = cpu_entry_area.sp0;
	cpu_tss_rw.io_bitmap_base = sizeof(cpu_tss_rw);
	set_intr_gate_dpl3(IA32_SYSCALL_VECTOR, entry_INT80_compat);
	__asm__ volatile("ltr %w0" ::"r"(GDT_ENTRY_TSS * 8));
	__asm__ volatile("lidt %0" ::"m"(idt_descr));
}
