# An executable attachment named in Content-Type: two reply lines, given
# after the final dot; nothing more of the message reaches the milter.
connect mx.example.net 192.0.2.20
helo mx.example.net
mail <a@example.net>
rcpt <b@example.test>
data
header Subject "invoice"
header Content-Type "application/octet-stream; name=\"invoice.exe\""
header X-After "not seen"
eoh
body "MZ\r\n"
eom
