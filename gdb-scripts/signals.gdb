# Signals: a fault stops the program before the signal is delivered, as
# ptrace shows it; continuing delivers it (here: death by SIGSEGV).
# Run with `entrystub serve test/gdb/fixtures/bin/gdbdemo 10 segv`.
continue
p $_siginfo.si_signo
p $_siginfo._sifields._sigfault.si_addr
x/i $pc
continue
