# No host name (the MTA sends "[address]"): the dry-run rule says what it
# would do, and the mail goes through.
connect [203.0.113.9] 203.0.113.9
helo mx.example.net
mail <x@example.net>
rcpt <a@example.test>
data
eoh
body "hello\r\n"
eom
