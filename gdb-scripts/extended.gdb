# Extended remote: `entrystub serve --multi PROG`, then in gdb
# `target extended-remote :1234`. run, kill and run again.
break add
run
p $rdi
kill
run
delete
continue
run
