connect client.example.test 198.51.100.1
helo client.example.test
mail <sender-kept-in-the-log@sender.test>
rcpt <long@example.test>
quit
