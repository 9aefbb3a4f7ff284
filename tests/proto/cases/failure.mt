connect client.example.test 198.51.100.1
helo client.example.test
mail <a@sender.test>
rcpt <a@example.test>
data
header Subject "a"*5000"!"
eoh
body "hello\r\n"
eom
quit
