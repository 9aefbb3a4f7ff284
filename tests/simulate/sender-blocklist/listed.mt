# A sender from the list file: refused at MAIL, Sendmail with its prefix.
connect mx.spam.example 192.0.2.50
helo mx.spam.example
mail <spammer@spam.example>
rcpt <b@example.test>
quit
