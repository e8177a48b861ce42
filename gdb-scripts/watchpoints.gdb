# Watchpoints (Z2 write, Z3 read, Z4 access), reported with the watch:ADDR
# stop reason right after the instruction that touched the data.
break 28
continue
watch counter
continue
continue
delete
rwatch counter
continue
delete
awatch result
continue
delete
continue
