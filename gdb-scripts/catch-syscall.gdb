# catch syscall (QCatchSyscalls): a stop at the entry of write(2) and one at
# its return. orig_rax holds the number of the syscall in progress from entry
# to return, -1 outside one. In the direct entry model the stops are those of
# Linux's ptrace: at entry the pc is already past the syscall instruction and
# rax holds -ENOSYS until the syscall runs.
catch syscall write
continue
p $orig_rax
p $rax
x/i $pc-2
continue
p $rax
p $orig_rax
delete
stepi
p $orig_rax
continue
