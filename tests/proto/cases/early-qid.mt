# Decisions made at connect and HELO, before the message has a queue id,
# are logged again with the queue id in each message they apply to.
connect client.example.test 192.0.2.9 4321
helo quarantine.example.test
mail <a@sender.test>
rcpt <b@example.test>
data
header Subject "one"
eoh
body "hello\r\n"
macro eom i=4QID0001
eom
mail <a@sender.test>
rcpt <b@example.test>
data
header Subject "two"
eoh
body "hello\r\n"
macro eom i=4QID0002
eom
quit
