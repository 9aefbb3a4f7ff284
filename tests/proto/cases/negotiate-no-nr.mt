# negotiate-no-nr.mt - an MTA that offers no no-reply steps (before Postfix
# 3.7 / Sendmail 8.17): the milter answers every event it asked for.
negotiate protocol=0xf7f
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
