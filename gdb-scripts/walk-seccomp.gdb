# walk-seccomp.gdb: one write(2) through UML nommu's seccomp-hook entry (the
# final v4-v13 series): the `syscall` instruction is left as it is and traps
# straight into __kernel_vsyscall.
#
#   entrystub serve --entry nommu --hook seccomp test/fixtures/bin/entry-probe &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-seccomp.gdb
#
# entry-probe (test/fixtures/src/entry-probe.S) loads write(1, "hi\n", 3) into
# the registers and executes `syscall` at write_site. Compare with
# walk-zpoline.gdb: the same kernel path, without the trampoline.

monitor mode

echo \n=== 1. The syscall site is not rewritten ===\n
break *write_site
continue
x/i $pc
x/2xb $pc
echo RAX = 1 (write); RCX before the trap:\n
p $rax
p/x $rcx
set $user_sp = $rsp

echo \n=== 2. The trap: straight into __kernel_vsyscall ===\n
echo On real UML the host kernel's seccomp filter sends SIGSYS and the handler\n
echo rewrites the host context (RCX = the next instruction, RIP = __kernel_vsyscall).\n
echo entrystub does the same in one step: a single stepi.\n
stepi
info symbol $pc
echo RCX = the instruction after the syscall, as a real SYSCALL would set it:\n
p/x $rcx
info symbol $rcx
echo Nothing was pushed: RSP is the user stack exactly as before, RAX still the number.\n
p $rsp == $user_sp
p $rax

echo \n=== 3. The rest is the common nommu path ===\n
echo pt_regs at current_ptregs, the kernel stack, do_syscall_64:\n
break do_syscall_64
continue
p/x *regs
echo pt_regs->ip (and cx) = where the syscall returns:\n
info symbol regs->ip
echo UML nommu has no selectors: pt_regs->cs and ->ss are 0.\n
p regs->cs
p regs->ss

echo \n=== 4. The return: `jmp *%rcx` ===\n
break userspace_return
continue
x/i $pc
p/x $rcx
stepi
x/i $pc
echo RAX = 3 bytes written; R11 = the user RSP at entry, not RFLAGS:\n
p $rax
p $r11 == $rsp

echo \nThe next syscall, 1000, is beyond sys_call_table: do_syscall_64 calls nothing\n
echo and pt_regs->ax keeps the -ENOSYS that PUSH_REGS stored there:\n
continue
p regs->orig_ax
p (long) regs->ax
continue
p $rax
delete
continue
