# A subdomain of .bulk.example: the domain rule; then a second message on
# the same connection from a good sender goes through.
connect mx.bulk.example 192.0.2.51
helo mx.bulk.example
mail <news@mail.bulk.example>
rcpt <b@example.test>
abort
mail <friend@example.org>
rcpt <b@example.test>
data
eoh
body "hi\r\n"
eom
