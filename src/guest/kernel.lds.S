/* Link script of the guest kernel images, run through the C preprocessor
 * as Linux's vmlinux.lds.S is (build.mjs): text+data at KERNEL_BASE (the top
 * 2 GiB, where no user program can be linked, so the program and the kernel
 * always fit side by side), and for UML nommu the zpoline trampoline page at
 * virtual address 0 (zpoline.S). */
OUTPUT_FORMAT("elf64-x86-64")

PHDRS
{
#ifndef NATIVE
	zpoline PT_LOAD FLAGS(1);	/* execute-only: a program reading it faults, as zpoline maps it */
#endif
	text PT_LOAD FLAGS(5);
	data PT_LOAD FLAGS(6);
}
SECTIONS
{
#ifndef NATIVE
	.zpoline 0 : { *(.zpoline) } :zpoline
#endif
	. = KERNEL_BASE;
	_text = .;
	.text : { *(.text .text.*) } :text
	.rodata : { *(.rodata .rodata.*) } :text
#ifndef NATIVE
	/* the kernel's handlers of host signals (um_signal.h's UM_SIGNAL_HANDLER), bounded
	 * for the signal layer that runs them, as Linux's initcall tables */
	.um_signal_handlers : {
		__um_signal_handlers_start = .;
		KEEP(*(.um_signal_handlers))
		__um_signal_handlers_end = .;
	} :text
	/* without one the timer would tick nowhere, silently */
	ASSERT(__um_signal_handlers_end > __um_signal_handlers_start, "no UM_SIGNAL_HANDLER linked (um_irq.c's timer_handler)")
#endif
	/* the exception table: (faulting instruction, fixup) pairs, as Linux's __ex_table */
	__ex_table : { __start___ex_table = .; KEEP(*(__ex_table)) __stop___ex_table = .; } :text
	. = ALIGN(4096);
	_etext = .;
	/* the entry area first in the data, at a fixed address (ENTRY_AREA, named by the
	 * entry paths' CFI: cfi.h), then (native) current_mm_context_vdso, named by the
	 * compat entries' CFI at MM_CONTEXT_VDSO; the text must end below it, or ld
	 * refuses to move . back */
	. = ENTRY_AREA;
	.data : { *(.data..entry_area) *(.data..entry_area.vdso) *(.data .data.*) } :data
	/* the task's pt_regs directly above its kernel stack (syscall.c, entry_nommu.S's CFI) */
	.bss : { *(.bss.task_stack) *(.bss.task_regs) *(.bss .bss.* COMMON) } :data
	. = ALIGN(4096);
	_end = .;
	/DISCARD/ : { *(.note.GNU-stack) *(.comment) *(.note.gnu.property) }
}
