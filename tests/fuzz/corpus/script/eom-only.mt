connect c.example.test 198.51.100.1
helo c.example.test
mail <a@sender.test>
rcpt <x@example.test>
data
header Subject hi
eoh
body "get your casino bonus now\r\n"
eom
mail <a@sender.test>
rcpt <y@sales.example>
data
header Subject hi
eoh
body "hello\r\n"
eom
quit
