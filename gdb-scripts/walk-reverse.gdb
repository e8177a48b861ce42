# walk-reverse.gdb: one write(2) forwards through Linux's native entry and
# back out to user space, then the same path backwards: reverse-stepi from
# the instruction after SYSRET lands on sysretq in the guest kernel, and
# going back on walks the exit path, do_syscall_64, the pt_regs pushes and
# entry_SYSCALL_64 to the `syscall` in the program, with every register as
# it was on the way in.
#
#   entrystub serve --entry native test/fixtures/bin/entry-probe &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-reverse.gdb
#
# History is recorded from the first instruction (serve's default; --no-history
# turns it off). Going back replays the recorded history in a fresh machine,
# so the write's "hi" is not written a second time.

echo \n=== 1. Forwards: from the syscall to the instruction after it ===\n
break *write_site
continue
x/i $pc
set $user_sp = $rsp
break *after_write
continue
echo Back in user space, rax is the write's result (3 bytes):\n
x/i $pc
p $rax

echo \n=== 2. reverse-stepi: back across sysretq into the guest kernel ===\n
reverse-stepi
x/i $pc
echo CPL 0 again; rcx holds the return address SYSRET jumped to:\n
p/x $cs
p/x $rcx

echo \n=== 3. reverse-finish: back out of the syscall body, to its call in entry_SYSCALL_64 ===\n
break do_syscall_64
reverse-continue
bt 1
reverse-finish
x/i $pc
delete

echo \n=== 4. reverse-continue: back to the syscall instruction, the user's registers as they were ===\n
break *write_site
reverse-continue
x/i $pc
p/x $cs
p $rax
p $rsp == $user_sp

echo \n=== 5. Forwards again: the same path, the same result ===\n
delete
break *after_write
continue
p $rax
delete
continue
