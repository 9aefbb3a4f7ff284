# content.mt - decisions at data, header, end of header, body and end of
# message. The MTA (as Postfix and Sendmail do) offers the no-reply steps
# for header, end of header and body: a decision made at one of them is
# logged there and answered at the end of the message, where both MTAs
# give the client the verdict on its content anyway; the MTA sends the
# rest of the message, which no rule reads any more.
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
