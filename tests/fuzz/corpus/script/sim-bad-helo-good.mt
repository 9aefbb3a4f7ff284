# A fully qualified HELO name: nothing matches; the milter asks for no
# DATA, header or body event with this policy.
connect mail.client.test 198.51.100.7
helo mail.client.test
mail <a@client.test> SIZE=1200
rcpt <b@example.test>
data
header Subject "hello"
eoh
body "hi\r\n"
eom
