# 192.0.2.7 is on the allowlist (and on no blocklist): accepted at
# connect, before the blocklists; its mail is delivered.
connect [192.0.2.7] 192.0.2.7
helo mx.example.net
mail <x@dbltest.com>
rcpt <a@example.test>
data
eoh
body "hello\r\n"
eom
