# walk-orig-rax.gdb: changing and skipping a syscall at its entry stop, as
# with ptrace.
#
#   entrystub serve &
#   gdb -batch -ex 'target remote :1234' -x gdb-scripts/walk-orig-rax.gdb
#
# Every entry model shows the same (--entry native, --entry nommu --hook
# seccomp, --entry direct), and so does the real process:
#   gdb -batch -ex starti -x gdb-scripts/walk-orig-rax.gdb examples/example-musl
# test/gdb/orig-rax.test.ts runs it in each and compares. (With no program,
# serve runs examples/example-musl, source examples/example.c:
# kill(getpid(), SIGUSR1), with a handler that records the signal.)
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

echo \n=== 1. Skip getpid ===\n
catch syscall getpid
continue
echo At the entry stop orig_rax is the number (39) and rax reads -ENOSYS, the result so far:\n
print $orig_rax
print $rax
echo orig_rax = -1 is no syscall at all: the call is skipped, and rax is its result.\n
set $orig_rax = -1
set $rax = 4242
delete

echo \n=== 2. Turn kill into getpid ===\n
echo The example sends SIGUSR1 to the pid getpid returned: 4242 now.\n
catch syscall kill
continue
print $rdi
print $rsi
echo A new number in orig_rax runs that call instead: getpid sends no signal,\n
echo so no handler runs, and the program says so.\n
set $orig_rax = 39
delete
continue
