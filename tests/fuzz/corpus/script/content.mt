connect client.example.test 198.51.100.1
helo client.example.test
mail <bulk@sender.test>
rcpt <a@example.test>
data
abort
mail <a@sender.test>
rcpt <a@example.test>
data
header From "a@sender.test"
header Subject "You are a LOTTERY Winner"
abort
mail <slow@sender.test>
rcpt <a@example.test>
data
header Subject "hi"
eoh
abort
mail <a@sender.test>
rcpt <a@example.test>
data
header Subject "hi"
eoh
body "the casi"
body "no bonus awaits"
abort
mail <a@sender.test>
rcpt <a@example.test>
data
header Subject "hi"
eoh
body "x"*2000
eom
mail <a@sender.test>
rcpt <a@example.test>
data
header Subject "hi"
eoh
body "short body\r\n"
eom
quit
