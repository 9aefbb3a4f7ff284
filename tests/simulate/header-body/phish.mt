# An empty Subject is tagged (continue), a phishing phrase in the body
# quarantines the message at end of message; both effects come then.
connect mx.example.net 192.0.2.20
helo mx.example.net
mail <a@example.net>
rcpt <b@example.test>
data
header Subject ""
eoh
body "Dear user,\r\nPlease verify your account within 24 hours.\r\n"
macro eom i=4XyZ123
eom
