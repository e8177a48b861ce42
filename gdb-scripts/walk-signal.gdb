# walk-signal.gdb: a signal delivered on the way back from a syscall (UML
# nommu, zpoline). The bundled example installs a SIGUSR1 handler, on_usr1,
# and calls kill(getpid(), SIGUSR1): the guest kernel delivers the signal as
# kill() returns, by rewriting pt_regs and building an rt_sigframe on the
# user stack; the handler returns through rt_sigreturn.
#
#   entrystub serve --entry nommu --hook zpoline &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-signal.gdb
#
# (The options are the defaults. With no program, serve runs
# examples/example-musl, source examples/example.c.) gdb
# finds the guest kernel's sources from any directory: the stub serves the
# image with the checkout as its compilation directory.

monitor mode

# Let the guest kernel deliver SIGUSR1 on the way out of kill(), as it would
# without a debugger (by default gdb would stop and report the signal first).
handle SIGUSR1 nostop noprint pass

echo \n=== 1. kill(getpid(), SIGUSR1) ===\n
catch syscall kill
continue
echo The entry stop is in the trampoline's sled, at offset 62 (kill). kill's\n
echo arguments are the pid and SIGUSR1 (10); the call pushed the return address:\n
p $orig_rax
p $rdi
p $rsi
x/a $rsp

echo \n=== 2. pt_regs before: where kill() will return ===\n
break do_syscall_64
continue
p/x regs->ip
info symbol regs->ip
set $ip_before = regs->ip
set $sp_before = regs->sp

echo \n=== 3. On the way out: pt_regs rewritten ===\n
echo The host runs kill (SIGUSR1 becomes pending for the task); on the way out,\n
echo userspace calls interrupt_end, whose hypercall delivers it. Stop just before\n
echo the final `jmp *%rcx`, the registers already popped from pt_regs.\n
# (A temporary breakpoint: resuming from a breakpoint steps over it first, and
# a step sees no syscall stops, as with ptrace: the return stop would be lost.)
tbreak userspace_return
continue
x/i $pc
echo pt_regs->ip, and so RCX, is now the handler instead of kill+17:\n
p/x current_ptregs->ip
info symbol current_ptregs->ip
p/x $rcx
echo The handler's arguments: RDI = the signal, RSI = &siginfo (si_signo first),\n
echo RDX = &ucontext:\n
p $rdi
p *(int *) $rsi

echo \n=== 4. The rt_sigframe on the user stack ===\n
echo The new RSP (pt_regs->sp) is below the old one, past the 128-byte red zone\n
echo (how far below depends on alignment: the FPU state in the frame is 64-byte aligned):\n
p/x $rsp
p $sp_before - 128 > (long) $rsp
set $frame = (long) $rsp
echo Its first word is the return address, musl's __restore_rt (sa_restorer);\n
echo the ucontext (RDX) follows at offset 8, the siginfo (RSI) after it:\n
x/a $rsp
p $rdx - (long) $rsp
p $rsi - (long) $rsp
echo uc_mcontext (40 bytes into the ucontext) holds the interrupted context;\n
echo its rsp and rip slots are the values pt_regs had before:\n
x/2a $rdx + 40 + 15*8
p *(unsigned long *) ($rdx + 40 + 16*8) == $ip_before
p *(unsigned long *) ($rdx + 40 + 15*8) == $sp_before

echo \n=== 5. Landing in on_usr1 ===\n
echo The jump goes to the handler; the catchpoint's return stop is its first instruction:\n
continue
x/i $pc
echo gdb recognises the signal frame: frame 2 is where kill() was interrupted.\n
bt 3
delete 1

echo \n=== 6. rt_sigreturn ===\n
echo on_usr1 returns into __restore_rt, which makes syscall 15 (again through the sled):\n
catch syscall rt_sigreturn
continue
echo The call that brought it here is __restore_rt's rewritten syscall:\n
x/i *(long *) $rsp - 2
continue
echo This syscall's own pt_regs: ip is in __restore_rt, sp just past the frame's\n
echo first word (on_usr1's ret popped it):\n
p/x regs->ip
p regs->sp - $frame
echo rt_sigreturn restores pt_regs from uc_mcontext. Stop where do_syscall_64 goes on to\n
echo syscall_return_slowpath (gdb shows its opening line). `finish` would\n
echo not stop on the way back: gdb knows the caller's frame by the user stack pointer in\n
echo pt_regs, and rt_sigreturn has just changed it.\n
advance syscall_return_slowpath
p/x current_ptregs->ip
info symbol current_ptregs->ip
p current_ptregs->ip == $ip_before
p current_ptregs->sp == $sp_before
echo and ax = kill's result, saved in the frame:\n
p (long) current_ptregs->ax

echo \n=== 7. Back in kill() ===\n
echo Back from rt_sigreturn the way home restores every register, flags too, and jumps through\n
echo a word of the kernel's instead of RCX, which the interrupted code may still need:\n
tbreak userspace_interrupted_return
continue
x/i $pc
p/x *(long *) &userspace_ip
info symbol *(long *) &userspace_ip
continue
x/i $pc
echo kill() returns 0, as if no handler had run:\n
p $rax

echo \nThe program prints whether the handler ran and exits:\n
delete
continue
