connect "evil%s\r\nhost" 198.51.100.9
helo "%n%s\r\n550 5.0.0 injected\x01\x7f"
mail <>
abort
mail <a@sender.test>
rcpt "<""A"*10000"@example.test>"
rcpt "<100%@example.test>"
rcpt "<a\x00b@example.test>"
quit
