# 192.0.2.8 is only on SpamCop: 1 of the 2 needed, delivered.
connect [192.0.2.8] 192.0.2.8
helo mx.example.net
mail <x@example.net>
rcpt <a@example.test>
data
eoh
body "hello\r\n"
eom
