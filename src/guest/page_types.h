/* Sizes of the guest kernel's per-task memory (arch/x86/include/asm/page_64_types.h). */
#ifndef PAGE_TYPES_H
#define PAGE_TYPES_H

#define THREAD_SIZE	(16 * 1024)	/* a task's kernel stack */

#endif
