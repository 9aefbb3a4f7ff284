# a held connect reject: no later HELO or MAIL rule replaces or undoes it
connect bad.example.test 192.0.2.7
helo mail.partner.test
helo localhost
mail <a@partner.test>
rcpt <someone.with.a.long.address@example.test>
quit
