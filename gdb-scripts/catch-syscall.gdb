# catch syscall (QCatchSyscalls): a stop at the entry of write(2) and one at
# its return. orig_rax holds the number of the syscall in progress from entry
# to return, -1 outside one.
#
# Where the entry stop is depends on the entry model. In the direct model the
# stops are those of Linux's ptrace: the pc is already past the syscall
# instruction. With a guest kernel (nommu, native) it is the first
# instruction of the kernel path (the zpoline sled at offset 1,
# __kernel_vsyscall or entry_SYSCALL_64). In every model gdb sees the
# registers as at Linux's syscall-entry-stop: rax reads -ENOSYS until the
# syscall runs (walk-orig-rax.gdb changes and skips calls there). The return
# stop is at the user instruction after the syscall in every model: the two
# bytes before it are the `syscall`, or the `call *%rax` zpoline rewrote it to.
catch syscall write
continue
p $orig_rax
p $rax
continue
p $rax
p $orig_rax
x/i $pc-2
delete
stepi
p $orig_rax
continue
