# walk-native-sysret.gdb: one write(2) through Linux's native entry,
# entry_SYSCALL_64, and back by SYSRET (the v5.8 assembly form of the checks).
#
#   entrystub serve --entry native test/fixtures/bin/entry-probe &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-native-sysret.gdb
#
# entry-probe (test/fixtures/src/entry-probe.S) loads write(1, "hi\n", 3) into
# the registers and executes `syscall` at write_site; after_write is the next
# instruction. gdb finds the guest kernel's sources (src/guest/) from any
# directory: the stub serves the image with the checkout as its compilation
# directory.

monitor mode

echo \n=== 1. In user space, CPL 3 ===\n
break *write_site
continue
x/i $pc
echo CS = 0x33 (__USER_CS, CPL 3), interrupts on, the user's GS base:\n
p/x $cs
p $eflags
p/x $gs_base
set $user_sp = $rsp

echo \n=== 2. SYSCALL: CPL 3 -> 0 through MSR_LSTAR ===\n
stepi
echo The CPU loaded RIP from MSR_LSTAR (set by the guest's syscall_init) and CS from MSR_STAR:\n
echo CS = 0x10 (__KERNEL_CS), CPL 0. RFLAGS was masked by MSR_SYSCALL_MASK (IF is off).\n
p/x $cs
p/x $ss
p $eflags
echo SYSCALL saved the return address in RCX and the user RFLAGS in R11.\n
echo It pushed nothing and did not touch RSP: we are still on the user stack.\n
p/x $rcx
info symbol $rcx
p/x $r11
p $rsp == $user_sp

echo \n=== 3. swapgs and the kernel stack ===\n
next
echo GS now addresses the per-CPU area (the user's GS base went to MSR_KERNEL_GS_BASE):\n
p (void *) $gs_base
next
next
echo The user RSP is saved in the per-CPU area, and RSP = the top of the task's\n
echo kernel stack, where pt_regs is built:\n
p cpu_entry_area.sp2 == $user_sp
p/x cpu_entry_area
p/x $rsp

echo \n=== 4. pt_regs: the frame SYSCALL did not push, then the registers ===\n
next
next
next
next
next
next
next
echo PUSH_REGS: pt_regs is complete, ax = -ENOSYS, and RSP points at it:\n
p $rsp
echo CLEAR_REGS zeroes the user's values left in the registers; do_syscall_64(nr, regs)\n
echo takes the number in RDI and pt_regs in RSI (the v5.8 signature):\n
next
next
next
step
echo The backtrace runs from the kernel into the program. Frame 1, <signal handler called>, is\n
echo gdb's name for a frame where the stack switches: the entry frame, whose CFI finds the\n
echo program's ip and sp in pt_regs, so that gdb accepts a caller on the user stack, below the\n
echo kernel's. Above a signal frame gdb names the pc itself (after_write), not the call before it.\n
echo (entry-probe has no unwind information: frames beyond would be gdb's guesses, so bt 3.)\n
bt 3
p nr
p regs
p/x *regs
echo Unlike nommu, cs and ss hold the user selectors (0x33, 0x2b):\n
p/x regs->cs
p/x regs->ss

echo \n=== 5. Dispatch and the hypercall ===\n
echo sys_call_table[1] hands the call to the host with one vmcall (EAX = HC_SYSCALL,\n
echo RDI = pt_regs). `finish` runs it and syscall_return_slowpath (IRQs off again,\n
echo exit work such as signals), back in entry_SYSCALL_64 at the nop after the call,\n
echo which gdb shows as the signal frame it belongs to (see 4.):\n
p sys_call_table[nr]
x/3i sys_call_table[nr]
finish
x/i $pc
echo The result is in pt_regs->ax; RSP points at pt_regs again:\n
set $regs = (struct pt_regs *) $rsp
p $regs->ax

echo \n=== 6. The six checks of opportunistic SYSRET ===\n
echo SYSRET restores RIP from RCX and RFLAGS from R11 and cannot load anything\n
echo else, so it may be used only when pt_regs is a clean 64-bit user context.\n
echo \nCheck 1, sysret_check_rcx_eq_rip: the RCX slot equals the RIP slot.\n
advance sysret_check_rcx_eq_rip
x/4i $pc
p/x $regs->cx
p/x $regs->ip
echo \nCheck 2, sysret_check_canonical_rip: RIP is canonical (shl/sar by 16 leave it unchanged).\n
advance sysret_check_canonical_rip
x/4i $pc
p/x ((long) $regs->ip << 16) >> 16
echo \nCheck 3, sysret_check_cs: CS is __USER_CS.\n
advance sysret_check_cs
x/2i $pc
p/x $regs->cs
echo \nCheck 4, sysret_check_r11_eq_flags: the R11 slot equals the EFLAGS slot.\n
advance sysret_check_r11_eq_flags
x/3i $pc
p/x $regs->r11
p/x $regs->flags
echo \nCheck 5, sysret_check_rf_tf: neither RF nor TF is set in R11.\n
advance sysret_check_rf_tf
x/2i $pc
p/x $regs->r11 & 0x10100
echo \nCheck 6, sysret_check_ss: SS is __USER_DS.\n
advance sysret_check_ss
x/2i $pc
p/x $regs->ss

echo \n=== 7. syscall_return_via_sysret ===\n
advance syscall_return_via_sysret
echo All six passed. POP_REGS restores everything but RCX, R11 (they carry RIP and RFLAGS)\n
echo and RDI; then the user RDI and RSP go through the trampoline stack:\n
next
next
next
next
next
next
next
next
echo swapgs gave the user's GS base back; still CPL 0, now on the user stack:\n
p/x $gs_base
p/x $cs
p $rsp == $user_sp
x/i $pc
p/x $rcx
p/x $r11

echo \n=== 8. sysretq: CPL 0 -> 3 ===\n
stepi
info symbol $pc
x/i $pc
echo CS = 0x33 and SS = 0x2b again (from MSR_STAR), RFLAGS from R11, RAX = the result:\n
p/x $cs
p/x $ss
p $eflags
p $rax

echo \nThe program goes on (syscall 1000, then exit_group) to its end:\n
delete
continue
