# Spamhaus's test address 127.0.0.2 is in ZEN: the held 554 at RCPT, with
# the zone and the TXT record.
connect [127.0.0.2] 127.0.0.2
helo mx.example.net
mail <x@example.net>
rcpt <a@example.test>
quit
