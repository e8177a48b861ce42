# walk-native-iret.gdb: a native-mode syscall whose return cannot use SYSRET.
# The bundled example sends itself SIGUSR1 with kill(getpid(), SIGUSR1);
# the signal is delivered on the way out of kill(), which rewrites pt_regs
# so that RIP = the handler. RCX still holds the return address SYSCALL
# saved, so the first SYSRET check fails and the return goes by IRETQ.
#
#   entrystub serve --entry native &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-native-iret.gdb
#
# (With no program, serve runs examples/example-musl, source
# examples/example.c.) gdb finds the guest kernel's sources
# (src/guest/) from any directory: the stub serves the image with the
# checkout as its compilation directory.

monitor mode

# Let the guest kernel deliver SIGUSR1 on the way out of kill(), as it would
# without a debugger (by default gdb would stop and report the signal first).
handle SIGUSR1 nostop noprint pass

echo \n=== 1. kill(getpid(), SIGUSR1) enters the kernel ===\n
catch syscall kill
continue
echo The entry stop is the first instruction of the path, at CPL 0:\n
p/x $cs
p $orig_rax
echo kill's arguments: the pid and SIGUSR1 (10). SYSCALL put the return address in RCX:\n
p $rdi
p $rsi
p/x $rcx
info symbol $rcx

echo \n=== 2. On the way out the signal is delivered: pt_regs is rewritten ===\n
echo do_syscall_64 runs kill (the host queues SIGUSR1), then syscall_return_slowpath\n
echo does the exit work: the handler's frame is built and pt_regs->ip points at it.\n
echo Stop at the first SYSRET check, with RSP at pt_regs:\n
break sysret_check_rcx_eq_rip
continue
set $regs = (struct pt_regs *) $rsp
echo pt_regs->ip is now the handler, with its argument (the signal number) in di.\n
echo pt_regs->sp points at the rt_sigframe on the user stack, its first word the\n
echo return address into musl's __restore_rt:\n
p/x $regs->ip
info symbol $regs->ip
p $regs->di
p/x $regs->sp
x/a $regs->sp
echo ... but the cx slot still holds what SYSCALL saved:\n
p/x $regs->cx
info symbol $regs->cx

echo \n=== 3. Check 1 fails: RCX != RIP ===\n
echo SYSRET would jump to RCX, not to the handler: the jne goes to the IRET path.\n
p $regs->cx == $regs->ip
x/4i $pc
stepi 4
info symbol $pc

echo \n=== 4. swapgs_restore_regs_and_return_to_usermode ===\n
echo POP_REGS restores every register from pt_regs, RCX and R11 included:\n
next
p/x $rcx
p $rdi
echo skip orig_ax: RSP is at the IRET frame (rip, cs, rflags, rsp, ss), then swapgs.\n
echo rip is the handler, cs and ss the user selectors, rflags and rsp pt_regs' flags and sp:\n
next
x/a $rsp
x/xg $rsp + 8
p *(unsigned long *) ($rsp + 16) == $regs->flags
p *(unsigned long *) ($rsp + 24) == $regs->sp
x/xg $rsp + 32
next
x/i $pc

echo \n=== 5. iretq: CPL 0 -> 3, into the handler ===\n
echo IRETQ loads RIP, CS, RFLAGS, RSP and SS from the frame: any user context,\n
echo not just the one SYSCALL left in RCX and R11. The catchpoint's return stop\n
echo comes at the first user instruction after it, the handler's:\n
continue
x/i $pc
echo CPL 3 again (CS = 0x33, SS = 0x2b); RDI = the signal number, for on_usr1(int sig):\n
p/x $cs
p/x $ss
p $rdi
echo gdb recognises the signal frame: frame 2 is where kill() was interrupted.\n
bt 3

echo \n=== 6. rt_sigreturn comes back by SYSRET ===\n
echo The handler returns into __restore_rt, which makes syscall 15, rt_sigreturn:\n
echo the context saved in the frame comes back into pt_regs, RIP = RCX = kill+17 again.\n
delete 1
catch syscall rt_sigreturn
continue
p $orig_rax
# Temporary breakpoints: resuming from a breakpoint steps over it first, and a
# step sees no syscall stops (as with ptrace), so the return stop would be lost.
tbreak entry_SYSRETQ_unsafe_stack
tbreak native_irq_return_iret
continue
set $regs = (struct pt_regs *) $rsp
p/x $regs->ip
p/x $regs->cx
echo All six checks pass this time:\n
continue
continue
x/i $pc
p/x $cs
echo kill() returns 0 (the RAX saved in the frame):\n
p $rax

echo \nThe program prints whether the handler ran and exits:\n
delete
continue
