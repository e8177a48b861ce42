/* The guest kernel's one door to the host: `vmcall` with the service in
 * %eax and its argument in %rdi. The host (src/entry) answers in %rax. The
 * numbers reach the TypeScript side through asm-offsets.c, never by hand. */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#define HC_SYSCALL	1	/* run syscall regs->orig_ax with the arguments saved in *regs */
#define HC_EXIT_WORK	2	/* pending work on the way out (signal delivery rewrites *regs) */
#define HC_PRINTK	3	/* one NUL-terminated line for the kernel log */
#define HC_BOOT_DONE	4	/* native: syscall_init() has run; the host drops to user mode */
#define HC_SCHEDULE	5	/* schedule(): the running task's turn ends at its return to the program */
#define HC_HOST_SIGRETURN 6	/* UML nommu: the host's rt_sigreturn at the end of hard_handler (%rdi: the ucontext) */
#define HC_SYSCALL32	7	/* native: run i386 syscall regs->orig_ax with the arguments (bx, cx, dx, si, di, bp) saved in *regs */

#endif
