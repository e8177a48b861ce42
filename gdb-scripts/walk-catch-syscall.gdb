# walk-catch-syscall.gdb: `catch syscall` in a guest-kernel entry model. The
# entry stop is at the first instruction of the kernel path (here
# entry_SYSCALL_64, at CPL 0), the return stop at the user instruction
# after the syscall, with the result in RAX.
#
#   entrystub serve --entry native test/fixtures/bin/entry-probe &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-catch-syscall.gdb
#
# entry-probe (test/fixtures/src/entry-probe.S) makes three syscalls:
# write(1, "hi\n", 3) at write_site, then syscall 1000 (no such syscall:
# -ENOSYS), then exit_group(0). Under nommu (--entry nommu) the entry stop
# is in the zpoline sled at the syscall's number, or at __kernel_vsyscall
# with --hook seccomp.

monitor mode
catch syscall

echo \n=== 1. write: the entry stop ===\n
continue
echo The stop is at the first instruction of the kernel path, already at CPL 0 (CS = 0x10):\n
x/i $pc
p/x $cs
echo orig_rax holds the number from entry to return; RCX the return address. As at Linux's\n
echo syscall-entry-stop, rax reads -ENOSYS until the call runs (writing orig_rax and rax here\n
echo changes or skips the call, as with ptrace: see walk-orig-rax.gdb):\n
p $orig_rax
p $rax
p/x $rcx
info symbol $rcx
echo The arguments are still in the user's registers (fd, buffer, count):\n
p $rdi
x/s $rsi
p $rdx
echo From here the path can be stepped like any code (stepi, next, breakpoints):\n
stepi
x/i $pc

echo \n=== 2. write: the return stop ===\n
continue
echo The stop is at the user instruction after the syscall, CPL 3 again:\n
x/i $pc
p/x $cs
echo RAX = the result (3 bytes); orig_rax still the number:\n
p $rax
p $orig_rax

echo \n=== 3. syscall 1000: beyond the table ===\n
continue
p $orig_rax
continue
echo The kernel path answered -ENOSYS:\n
p $rax
x/i $pc

echo \n=== 4. exit_group: an entry stop with no return ===\n
continue
p $orig_rax
p $rdi
continue
