# Software (Z0) and hardware (Z1) breakpoints. The stub never writes int3
# into guest memory: a breakpoint is checked before the instruction runs.
break main
hbreak add
continue
continue
bt
finish
info breakpoints
delete
continue
