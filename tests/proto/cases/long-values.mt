# a value longer than the milter keeps never matches by its first part
connect c.example.test 198.51.100.1
mail <x@trusted.test.evil.example>
rcpt <v@example.test>
abort
mail "<""A"*497"@trusted.test.evil.example>"
abort
# a header over libmilter's default 64 KiB limit is read, not dropped
mail <a@sender.test>
rcpt <v@example.test>
data
header X-Big "B"*102000
eoh
eom
quit
