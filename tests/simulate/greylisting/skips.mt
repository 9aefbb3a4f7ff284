# Within one replay the private store remembers: the second message to
# the same recipient is greylisted again (the delay has not passed); an
# authenticated session is skipped by the rule's authenticated = false.
connect mx.example.net 203.0.113.9
helo mx.example.net
mail <a@example.net>
rcpt <b@example.test>
rcpt <c@example.test>
abort
mail <a@example.net>
rcpt <b@example.test>
abort
macro mail {auth_authen}=alice
mail <a@example.net>
rcpt <b@example.test>
data
eoh
eom
quit
