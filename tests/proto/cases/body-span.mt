connect c.example.test 198.51.100.1
helo c.example.test
# a 30000-octet match from 50000 to 80000: found at the second chunk
# (logged there), refused at the end of the message
mail <a@sender.test>
rcpt <x@example.test>
data
header Subject hi
eoh
body "y"*50000"BEGIN-SECRET""x"*29978"END-SECRET\r\nbye\r\n"
eom
# a 9000-octet match from 60000 to 69000, for an eom rule
mail <a@sender.test>
rcpt <x@example.test>
data
header Subject hi
eoh
body "y"*60000"BEGIN-NINE""x"*8982"END-NINE\r\nbye\r\n"
eom
# the first body with one x changed: no match, accepted
mail <a@sender.test>
rcpt <x@example.test>
data
header Subject hi
eoh
body "y"*50000"BEGIN-SECRET""x"*15000"y""x"*14977"END-SECRET\r\nbye\r\n"
eom
quit
