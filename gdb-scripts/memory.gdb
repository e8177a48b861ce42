# Memory through page permissions, as ptrace sees it: the debugger reads and
# writes .rodata and .text (read-only to the program) and the program sees
# the change.
x/s &msg
p/x *(unsigned char*)add
# write the first byte of the read-only message: the program prints it
set var *(char*)&msg = 'G'
x/s &msg
break add
continue
# an unmapped address is an error (E14), and the program is unharmed
# (last: gdb stops reading a script at its first error)
x/2xg 0x10
