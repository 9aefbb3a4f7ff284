# A small message: SIZE=1200 and 14 octets counted; accepted.
connect mx.example.net 192.0.2.30
helo mx.example.net
mail <a@example.net> SIZE=1200
rcpt <b@example.test>
data
header Subject "hi"
eoh
body "hello\r\n"
eom
