/* Segment selectors of Linux x86-64 (arch/x86/include/asm/segment.h): the
 * GDT layout SYSCALL/SYSRET depend on (MSR_STAR), and the cs/ss values a
 * pt_regs of a 64-bit user task holds. */
#ifndef SEGMENT_H
#define SEGMENT_H

#define __KERNEL_CS	0x10
#define __KERNEL_DS	0x18
#define __USER32_CS	0x23
#define __USER_DS	0x2b
#define __USER_CS	0x33

#endif
