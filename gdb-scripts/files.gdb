# Files as the program sees them (vFile, confined to --root), including the
# emulated /proc/PID: gdb's `info proc` works, and so does `info auxv`
# (qXfer:auxv:read, the vector as the program received it).
info proc
info proc mappings
info auxv
