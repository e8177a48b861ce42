# walk-timer.gdb: a timer interrupt that arrives in the middle of a read
# syscall (native model). read-loop reads its own source in 64-byte
# pieces; we stop inside the body of one read, arm the timer so that its
# next tick falls due two instructions later (after the host has done the
# read, before the body returns), and follow the interrupt: its frame is
# pushed on the task's kernel stack below the syscall's, task_pt_regs()
# still finds the syscall's user frame, and the return is an IRETQ back
# into the syscall body.
#
#   entrystub serve --entry native test/fixtures/bin/read-loop-musl test/fixtures/src/read-loop.c &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-timer.gdb

source gdb-scripts/entrystub.py
monitor mode

echo \n=== 1. Inside read: the syscall body runs with interrupts on ===\n
break __x64_sys_read
continue
echo do_syscall_64 turned IF on (sti) before calling the body: IF is set, CPL 0.\n
p/x $cs
p ($eflags & 0x200) != 0
bt

echo \n=== 2. The timer: the next tick two instructions from here ===\n
echo The body is two instructions: the hypercall (the host does the read) and ret.\n
echo With the tick due after the hypercall, the CPU takes vector 0xec before the ret:\n
monitor timer-next 2
break asm_sysvec_apic_timer_interrupt
continue
echo The CPU pushed ss, rsp, rflags, cs, rip below the syscall's frames (no stack\n
echo switch: it was at CPL 0) and cleared IF. The interrupted RIP is the ret:\n
x/i *(unsigned long *)$rsp
p/x ((unsigned long *)$rsp)[1]
p (((unsigned long *)$rsp)[2] & 0x200) != 0
echo The unwinder goes from the interrupt into the syscall body, and on into the program:\n
bt

echo \n=== 3. The handler: the interrupt's pt_regs, and the task's ===\n
break sysvec_apic_timer_interrupt
continue
echo regs is the interrupt's pt_regs, on the same kernel stack, below the task's;\n
echo task_pt_regs(current) is the top of the stack (current_pt_regs() computes it so),\n
echo still the read's user context: orig_ax 0 (read), cs __USER_CS, ip in the program:\n
p regs
set $task = (struct pt_regs *) cpu_entry_area.top_of_stack - 1
p $task
p regs < $task
p $task->orig_ax
p/x $task->cs
info symbol $task->ip
ptregs
bt

echo \n=== 4. The return: straight back into the syscall body with IRETQ ===\n
echo From kernel mode there is no exit work and no swapgs (testb $3, CS fails):\n
break native_irq_return_kernel
continue
x/i $pc
stepi
echo Back at the ret of __x64_sys_read, IF on again, the read done (rax = bytes read):\n
x/i $pc
p ($eflags & 0x200) != 0
p $rax
monitor interrupts

echo \n=== 5. The program reads on to its end ===\n
delete
continue
