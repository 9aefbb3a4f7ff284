connect client.example.test 198.51.100.1
helo client.example.test
mail <a@sender.test>
rcpt <a@example.test>
rcpt <b@example.test>
quit
