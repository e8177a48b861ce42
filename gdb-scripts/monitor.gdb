# monitor commands (qRcmd).
monitor help
monitor mode
break add
continue
monitor ptregs
monitor stats
