connect [2001:db8::5] 2001:db8::5 4321
helo client.example.test
mail <a@sender.test>
rcpt <b@example.test>
rcpt <c@example.test>
quit
