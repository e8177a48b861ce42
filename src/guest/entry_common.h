/* What the C halves of the syscall entry paths share (syscall.c,
 * syscall_32.c) beyond kernel.h and irqflags.h: the common return. */
#ifndef ENTRY_COMMON_H
#define ENTRY_COMMON_H

#include "pt_regs.h"

/* Called with IRQs on; returns with them off, work done. */
void syscall_return_slowpath(struct pt_regs *regs);

#endif
