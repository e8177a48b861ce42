# walk-zpoline.gdb: one write(2) through UML nommu's zpoline entry, from the
# rewritten syscall site to the instruction after it.
#
#   entrystub serve --entry nommu --hook zpoline test/fixtures/bin/entry-probe &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-zpoline.gdb
#
# entry-probe (test/fixtures/src/entry-probe.S) loads write(1, "hi\n", 3) into
# the registers and executes `syscall` at the symbol write_site; after_write
# is the next instruction. gdb finds the guest kernel's sources (src/guest/,
# zpoline.S included) from any directory: the stub serves the image with the
# checkout as its compilation directory.

monitor mode

echo \n=== 1. The syscall site, rewritten at exec ===\n
echo The program was linked with `syscall` (0f 05) at write_site. When entrystub\n
echo loaded it, zpoline's linear sweep rewrote those two bytes to `call *%rax` (ff d0):\n
break *write_site
continue
x/i $pc
x/2xb $pc
echo RAX holds the syscall number (1 = write), so the call goes to address 1:\n
p $rax
set $user_sp = $rsp

echo \n=== 2. Into the nop sled at address 0 ===\n
echo The trampoline page at address 0 is a nop sled, one byte per syscall number:\n
echo the call lands at offset 1, with the return address pushed on the user stack.\n
stepi
x/3i $pc
echo The page is src/guest/zpoline.S, linked at address 0 into the guest kernel image,\n
echo so gdb names every byte of it from the image's symbols:\n
info symbol $pc
echo RSP is 8 bytes lower, and the return address is there:\n
p (long) $user_sp - (long) $rsp
x/a $rsp
echo The sled slides down to offset 214, where zpoline's short jump (eb 7f) skips 127 bytes of it:\n
tbreak *214
continue
x/i $pc
x/2xb $pc
echo The jump lands in the second run of nops (each run is a .rept, so every byte has its line):\n
stepi
x/i $pc
echo ... then more nops up to the end of the sled (NR_syscalls = 462 bytes), where zpoline_trampoline starts:\n
tbreak zpoline_trampoline
continue

echo \n=== 3. zpoline_trampoline ===\n
echo movabs loads __kernel_vsyscall, pop takes the return address the call\n
echo pushed (so RCX = the instruction after the call, as a real `syscall` sets it):\n
x/3i $pc
stepi
p (void *) $r11
stepi
p/x $rcx
info symbol $rcx
echo RSP is the user's again, as it was at the call:\n
p $rsp == $user_sp
stepi

echo \n=== 4. __kernel_vsyscall builds pt_regs ===\n
echo Still on the user stack; the kernel's pt_regs image is at current_ptregs.\n
info symbol $pc
p $rsp
p current_ptregs
next
echo R11 keeps the user stack pointer (r11 is scratch in the syscall ABI):\n
p $r11 == $rsp
next
next
echo RSP now points just past pt_regs->ss (SIZEOF_PTREGS = 21*8 bytes above current_ptregs):\n
p (long) $rsp - (long) current_ptregs
echo The frame an interrupt would push: ss, sp, flags, cs, ip (UML has no selectors: cs = ss = 0):\n
next
next
next
next
next
echo pt_regs so far: ip, cs, flags, sp and ss are filled in, the rest is not written yet:\n
p/x *current_ptregs
echo pt_regs->flags is what pushfq found in RFLAGS: the user's flags, as the program left them\n
echo (nothing on the way here changes flags: the sled, the trampoline, and `leaq`, not `addq`,\n
echo to point RSP at pt_regs), so pt_regs->flags is what a real SYSCALL would have saved in R11:\n
p $eflags
echo Then orig_ax (the syscall number) and PUSH_REGS (pt_regs->ax = -ENOSYS):\n
next
next
p $rsp == (void *) current_ptregs
p current_ptregs->orig_ax
p (long) current_ptregs->ax

echo \n=== 5. The stack switch ===\n
echo CLEAR_REGS zeroes the user's values left in the registers; RDI = pt_regs (the argument),\n
echo then RSP moves to the task's kernel stack:\n
next
next
next
echo The top of task_stack, i.e. current_top_of_stack. As on x86 Linux, pt_regs\n
echo sits right above the stack's top, so RSP keeps its value here and the stack\n
echo do_syscall_64 runs on grows down from just below pt_regs:\n
p $rsp
p $rsp == (void *) (task_stack + sizeof(task_stack))
p $rsp == (void *) current_ptregs

echo \n=== 6. do_syscall_64 ===\n
step
echo The backtrace runs from the kernel into the program. Frame 1, <signal handler called>,\n
echo is gdb's name for a frame where the stack switches: here the entry frame of __kernel_vsyscall,\n
echo whose CFI finds the program's ip and sp in pt_regs. Across it gdb accepts a caller on the\n
echo user stack, which lies below the kernel's. Frame 2 is the program at pt_regs->ip: above a\n
echo signal frame gdb names the pc itself (after_write), not the instruction before it.\n
echo (entry-probe has no unwind information: frames beyond would be gdb's guesses, so bt 3.)\n
bt 3
p regs
p/x *regs
p regs->orig_ax
echo pt_regs->ip is where the return will go:\n
info symbol regs->ip
echo The table entry for syscall 1:\n
p sys_call_table[regs->orig_ax]

echo \n=== 7. sys_call_table dispatch and the vmcall hypercall ===\n
echo Each table entry is a stub that hands the call to the host with one hypercall.\n
echo EAX = 1 is the hypercall number (HC_SYSCALL, not the syscall number);\n
echo RDI still points at pt_regs, where the host finds the number and the arguments.\n
x/3i sys_call_table[regs->orig_ax]
# The stubs are generated at build time and their source file is not kept:
# show stops in them by function name only.
set print frame-info short-location
advance *sys_call_table[regs->orig_ax]
x/i $pc
stepi
x/i $pc
p (struct pt_regs *) $rdi
echo The host performs write(1, "hi\\n", 3) (the program's output goes to the stub's stdout).\n
echo One instruction later RAX holds the result, 3 bytes written:\n
stepi
p $rax
stepi
set print frame-info auto
echo Back in do_syscall_64: pt_regs->ax still holds -ENOSYS until the store completes.\n
p (long) regs->ax
next
p regs->ax
echo syscall_return_slowpath (nothing to do under nommu), and `finish` returns to __kernel_vsyscall,\n
echo at the nop after the call: gdb shows it as the signal frame it belongs to (see 6.):\n
finish
x/i $pc

echo \n=== 8. The return: userspace and `jmp *%rcx` ===\n
echo __kernel_vsyscall goes on to the common exit, userspace:\n
step
step
next
next
echo interrupt_end (pending signals; none here), unblock_signals (the program runs with\n
echo interrupts on: a timer signal deferred meanwhile would be handled here), then the\n
echo registers come back from pt_regs:\n
next
next
next
next
next
next
next
next
echo No sysret, no iret: a plain indirect jump to pt_regs->ip, on the user stack again.\n
x/i $pc
p/x $rcx
p/x $rsp
stepi
info symbol $pc
x/i $pc
echo RAX = the result; R11 = the user RSP at entry (a real SYSCALL would have put RFLAGS there):\n
p $rax
p $r11 == $rsp
echo No syscall is in progress any more (gdb's orig_rax is -1 outside one):\n
p $orig_rax
echo \nThe program goes on (syscall 1000, then exit_group) to its end:\n
delete
continue
