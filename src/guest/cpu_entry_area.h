/* The per-CPU data the native entry reaches through %gs after swapgs (Linux
 * keeps these in cpu_tss_rw and the per-CPU current_top_of_stack). Its field
 * offsets reach entry_64.S through asm-offsets.c. */
#ifndef CPU_ENTRY_AREA_H
#define CPU_ENTRY_AREA_H

struct cpu_entry_area {
	unsigned long sp2;		/* user RSP scratch */
	unsigned long sp0;		/* top of the trampoline stack */
	unsigned long top_of_stack;	/* the task's kernel stack */
};

#endif
