# Changing and skipping a syscall at its entry stop, as with ptrace.
#
#   entrystub serve [--entry native|nommu|direct]      (the bundled example)
#   gdb -q -ex 'target remote :1234' -x gdb-scripts/walk-orig-rax.gdb
#
# At a syscall-entry stop gdb shows the registers as at Linux's
# syscall-entry-stop: orig_rax is the number about to run and rax the
# result, -ENOSYS until the call runs. In the guest kernel models the stop is
# at the first instruction of the entry path, where the CPU's RAX still holds
# the number; entrystub shows the ptrace view and applies what you write when
# the program resumes: the number goes into RAX (the path pushes it as
# pt_regs->orig_ax) and the result of a skipped call into pt_regs->ax.
# As with ptrace, a skipped call has no exit stop, and the exit stop of a
# changed one names the call that ran.
set confirm off

# 1. skip getpid, with the result taken from rax
catch syscall getpid
continue
print $orig_rax
print $rax
set $orig_rax = -1
set $rax = 4242
delete

# 2. the example sends SIGUSR1 to the pid getpid returned: 4242 now
catch syscall kill
continue
print $rdi
print $rsi
# turn the kill into a getpid: no signal is sent, so no handler runs
set $orig_rax = 39
delete
continue
