# Stepping. Every stop reply carries rip, rsp and rbp, so a stepi needs no
# `g` packet; `next` over the loop on line 28 (1000 iterations) is a single
# vCont;r range step.
break main
continue
stepi
x/i $pc
stepi 4
info line *$pc
next
step
bt
finish
next
p counter
next
