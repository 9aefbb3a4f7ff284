# SIZE= announces 30 MB: refused at MAIL with 552 (no Sendmail prefix on a
# 552); the recipient never gets to the milter.
connect mx.example.net 192.0.2.30
helo mx.example.net
mail <big@example.net> SIZE=30000000
rcpt <b@example.test>
quit
