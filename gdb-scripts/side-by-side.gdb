# The same stops, the same user registers: run this against
#   qemu-x86_64 -g 1234 test/gdb/fixtures/bin/gdbdemo       and
#   entrystub serve test/gdb/fixtures/bin/gdbdemo
# (gdb -batch test/gdb/fixtures/bin/gdbdemo -ex 'target remote :1234' -x gdb-scripts/side-by-side.gdb)
# and compare: only values that point into the stack may differ.
define regs
  info symbol $pc
  info registers rip rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 eflags cs ss
end
regs
stepi 3
regs
break add
break 34
continue
regs
stepi 5
regs
continue
regs
next
regs
