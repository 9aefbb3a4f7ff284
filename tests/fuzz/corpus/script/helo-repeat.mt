connect c.example.test 198.51.100.1
helo first.example.test
helo second.example.test
helo third.example.test
mail <a@sender.test>
rcpt <x@example.test>
data
header Subject hi
eoh
body "hello\r\n"
eom
quit
