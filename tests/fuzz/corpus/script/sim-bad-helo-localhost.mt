# HELO localhost: held until RCPT (hold_early_verdicts = true), given at
# each RCPT; Sendmail puts the recipient in front of a 550.
connect mx.client.test 192.0.2.10 40000
helo localhost
mail <a@sender.test>
rcpt <b@example.test>
rcpt <c@example.test>
quit
