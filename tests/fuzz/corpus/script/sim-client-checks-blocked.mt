# A client in a blocked network: 554 at RCPT (Sendmail adds no prefix to
# a 554), for each recipient.
connect [192.0.2.7] 192.0.2.7
helo bot.example.test
mail <x@example.net>
rcpt <a@example.test>
quit
