connect client.example.test 198.51.100.1
helo client.example.test
mail <a@sender.test>
rcpt <blocked@example.test>
rcpt <ok@example.test>
data
header Subject "hi"
eoh
body "hello"
eom
quit
