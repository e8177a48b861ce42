# monitor commands (qRcmd).
monitor help
monitor mode
break add
continue
monitor ptregs
monitor stats
# an unknown command: a message, and gdb goes on (as with gdbserver)
monitor frobnicate
monitor mode
