# content-no-nr.mt - content.mt from an MTA that offers no no-reply step
# for header, end of header and body. libmilter then answers those
# events "continue" for the milter (it fakes the steps: engine.c,
# st_optionneg), so a content decision is still given at the end of
# the message, where the client sees it either way.
negotiate protocol=0x13ff7f
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
header To "a@example.test"
eoh
body "get your casino bonus now"
eom
mail <slow@sender.test>
rcpt <a@example.test>
data
header Subject "hi"
eoh
body "the casino bonus"
eom
mail <a@sender.test>
rcpt <a@example.test>
data
header Subject "hi"
eoh
body "the casi"
body "no bonus awaits"
body "x"*2000
eom
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
