/*
 * UML nommu's host-signal layer (um_signal.c) as the kernel above it sees
 * it: the interrupt flag (signals_enabled, block_signals/unblock_signals,
 * what irqflags.h's local_irq_* are), the SIGALRM entry the host signal
 * reaches, and the table by which the layer finds a signal's kernel
 * handler without naming it.
 *
 * In UML, arch/um/os-Linux/signal.c calls arch/um/kernel/time.c's
 * timer_handler by name; here the bottom layer names nothing above it:
 * each kernel handler is put into the .um_signal_handlers section at
 * build time (UM_SIGNAL_HANDLER), and kernel.lds.S gives the table's
 * bounds, as Linux's initcall tables (include/linux/init.h,
 * include/asm-generic/vmlinux.lds.h) and UML's __uml_setup tables
 * (arch/um/include/shared/init.h) are made. Nommu runs no C at boot (the
 * host starts the program directly), so a table filled by the linker is
 * what a boot-time registration (UML's um_request_irq) would have built.
 */
#ifndef UM_SIGNAL_H
#define UM_SIGNAL_H

#include "pt_regs.h"
#include "irq_vectors.h"

/* UML's interrupt flag and its two switches (declared for the kernel by arch/um/include/shared/os.h) */
extern int signals_enabled;
void block_signals(void);
void unblock_signals(void);

/* the SIGALRM entry of the layer: runs the registered handler now, or leaves it pending */
void timer_alarm_handler(int sig, void *unused_si, struct pt_regs *mc);

/* a kernel handler of a host signal, with the interrupted registers (UML's handlers[sig]) */
typedef void (*um_signal_handler_t)(int sig, void *si, struct pt_regs *regs);

struct um_signal_handler {
	int sig;
	um_signal_handler_t handler;
};

/* registers fn for host signal sig: one entry of the table the linker gathers */
#define UM_SIGNAL_HANDLER(sig, fn)							\
	static const struct um_signal_handler __um_signal_handler_##fn			\
	__attribute__((used, section(".um_signal_handlers"), aligned(8))) = { (sig), (fn) }

/* the table's bounds (kernel.lds.S) */
extern const struct um_signal_handler __um_signal_handlers_start[], __um_signal_handlers_end[];

#endif
