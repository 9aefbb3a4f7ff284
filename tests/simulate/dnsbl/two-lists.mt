# 192.0.2.9 is on SpamCop and Barracuda (1 + 1 reaches the threshold 2);
# 192.0.2.8 only on SpamCop would pass.
connect [192.0.2.9] 192.0.2.9
helo mx.example.net
mail <x@example.net>
rcpt <a@example.test>
quit
