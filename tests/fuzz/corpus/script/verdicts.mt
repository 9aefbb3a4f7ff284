connect client.example.test 198.51.100.1
helo client.example.test
mail <a@sender.test>
rcpt <trap@example.test>
abort
mail <boss@trusted.test>
abort
mail <a@sender.test>
rcpt <review@example.test>
data
header Subject "hi"
eoh
body "hello\r\n"
eom
quit
