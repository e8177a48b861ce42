# Symbols with no setup: gdb asked the stub for the program's path
# (qXfer:exec-file:read) and read the file over vFile, so it knows the
# symbols and lines of a program it was never given.
# The stub stops before the first instruction: rip is the ELF entry point.
info symbol $pc
p $pc == _start
info line add
p &counter
info address main
