# Registers through the amd64 GNU/Linux target description (560-byte `g`):
# core, SSE, org.gnu.gdb.i386.linux (orig_rax) and segments (fs_base, gs_base).
# At the first instruction Linux's ABI fixes most of them.
info registers rip eflags cs ss ds es fs gs fs_base gs_base orig_rax
# the initial stack: rsp 16-byte aligned, pointing at argc
p (long)$rsp % 16
p *(long*)$rsp
p/x $rax
p $mxcsr
info registers fctrl fstat
p $xmm0.uint128
# writing: one register (P packet), read back
set $rbx = 0x1122334455667788
p/x $rbx
set $xmm1.v2_int64[1] = -2
p $xmm1.v2_int64
# and after running libc's start-up: fs_base points at the thread
break main
continue
p $fs_base != 0
p *(long*)$fs_base == $fs_base
