/* struct pt_regs with Linux's x86-64 layout (arch/x86/include/asm/ptrace.h):
 * callee-saved registers first, then the callee-clobbered ones, orig_ax,
 * and the frame an interrupt pushes (ip, cs, flags, sp, ss). 168 bytes. */
#ifndef PT_REGS_H
#define PT_REGS_H

struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;	/* the syscall number, or -1 outside a syscall */
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};

typedef long (*sys_call_ptr_t)(const struct pt_regs *);

#endif
