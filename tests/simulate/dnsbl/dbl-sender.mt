# The sender's domain dbltest.com (Spamhaus's DBL test entry) is listed:
# 554 at MAIL, with the TXT record.
connect [198.51.100.4] 198.51.100.4
helo mx.example.net
mail <x@dbltest.com>
rcpt <a@example.test>
quit
