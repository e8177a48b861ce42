# walk-compat-sysenter.gdb: one write(2) of a 32-bit program through Linux's
# compat entry: glibc's `call *%gs:0x10`, the vDSO's __kernel_vsyscall,
# SYSENTER, entry_SYSENTER_compat, do_fast_syscall_32, the SYSRETL checks,
# sysretl to int80_landing_pad, and back to glibc's write.
#
#   entrystub serve --entry native test/fixtures/bin/hello-i386 &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-compat-sysenter.gdb
#
# The stub's target description is x86-64 (README: gdb and a 32-bit
# program): gdb warns that the program is i386 and keeps it. entrystub.py
# (entrystub_compat32.py) supplies the 32-bit half: the vDSO's symbols, read
# from memory at AT_SYSINFO_EHDR, 32-bit code shown as 32-bit code, and
# 32-bit frames unwound by their CFI. Run it from the checkout (the script
# sources gdb-scripts/entrystub.py by that path).

source gdb-scripts/entrystub.py
monitor mode

echo \n=== 1. glibc's write: call *%gs:0x10, into __kernel_vsyscall (AT_SYSINFO) ===\n
break __kernel_vsyscall if $eax == 4
continue
info symbol $pc
echo Called from glibc's write (a 32-bit frame, unwound by the CFI of the program's .eh_frame):\n
bt 2
echo EAX = 4, write (asm/unistd_32.h); EBX = fd 1, ECX = the buffer, EDX = the count:\n
p $eax
p $ebx
p $edx
echo CS = 0x23 (__USER32_CS: compat mode, CPL 3):\n
p/x $cs

echo \n=== 2. __kernel_vsyscall: save ecx, edx and ebp, then SYSENTER ===\n
x/5i $pc
stepi 3
echo movl %esp, %ebp: SYSENTER saves neither EIP nor ESP, so the kernel gets the stack pointer in EBP:\n
stepi
p $ebp == $esp
x/i $pc
stepi

echo \n=== 3. entry_SYSENTER_compat: CPL 0 through MSR_IA32_SYSENTER_EIP ===\n
info symbol $pc
echo CS = 0x10 (__KERNEL_CS); SYSENTER cleared IF (and RF, VM), not TF:\n
p/x $cs
p $eflags & 0x200
echo It swaps GS, moves to the task's stack and pushes pt_regs: ss, sp (from EBP),\n
echo flags (IF set again), cs = __USER32_CS, ip = 0 (a placeholder), then the registers.\n
break do_fast_syscall_32
continue
set $regs = regs
p $regs->orig_ax
p/x $regs->cs
p $regs->ip
p $regs->sp == $regs->bp
echo regs->ip is still the placeholder, yet the backtrace reaches the program: the entry's\n
echo CFI says the return goes where do_fast_syscall_32 will send it, int80_landing_pad in\n
echo this process's vDSO (current_mm_context_vdso + its offset); the call into C is a\n
echo signal frame (cfi.h); above it the 32-bit frames, unwound by entrystub.py:\n
bt

echo \n=== 4. do_fast_syscall_32: ip = the landing pad, ebp from the user stack, the call ===\n
break sysretl_check_cs
continue
echo regs->ip is int80_landing_pad now; regs->bp the user's EBP; the result is in regs->ax:\n
p/x $regs->ip
p $regs->ax

echo \n=== 5. The SYSRETL checks: cs, ss, ip, flags ===\n
p/x $regs->cs
break sysretl_check_ss
continue
p/x $regs->ss
break sysretl_check_flags
continue
p/x $regs->flags & 0x30100

echo \n=== 6. sysret32_from_system_call: sysretl ===\n
break entry_SYSRETL_compat_unsafe_stack
continue
x/i $pc
echo SYSRETL returns to ECX = pt_regs->ip, in compat mode (CS = STAR[63:48] | 3):\n
p $rcx == $regs->ip
stepi

echo \n=== 7. int80_landing_pad: pop ebp, edx, ecx; ret to glibc ===\n
p $pc == $regs->ip
p/x $cs
p $eax
x/4i $pc
stepi 4
info symbol $pc
p $eax

delete
continue
