# The program's own exit status comes back as a W packet.
continue
