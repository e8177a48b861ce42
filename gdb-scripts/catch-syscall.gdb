# catch syscall (QCatchSyscalls): a stop at the entry of write(2) and one at
# its return. orig_rax holds the number of the syscall in progress from entry
# to return, -1 outside one. (In the direct entry model the entry stop is at
# the syscall instruction; rax still holds the number there.)
catch syscall write
continue
p $orig_rax
x/i $pc
continue
p $rax
p $orig_rax
delete
stepi
p $orig_rax
continue
