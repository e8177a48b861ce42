# monitor commands (qRcmd).
monitor help
monitor mode
break add
continue
monitor ptregs
monitor stats
# the syscall in progress on the guest kernel's entry path (none in the direct model)
monitor trip
# an unknown command: a message, and gdb goes on (as with gdbserver)
monitor frobnicate
monitor mode
