# session.mt - one full SMTP transaction as the MTA side of the milter
# protocol, for mtclient's load mode in tests/bench/run.sh: connect, HELO,
# MAIL, RCPT, DATA, 10 headers, end of header, a 2 KiB body, end of message.
# Matches no rule of policy-35.conf: every rule is tried and the message is
# accepted. Must never carry anything a rule of policy-35.conf refuses.
macro connect j=mx.example.test {daemon_name}=smtpd
connect client.sender.test 127.0.0.1 40000
helo client.sender.test
macro mail {mail_addr}=a@sender.test
mail <a@sender.test> SIZE=2600
macro rcpt {rcpt_addr}=ok@example.test
rcpt <ok@example.test>
data
header Received "from client.sender.test (localhost [127.0.0.1])\r\n\tby mx.example.test (Postfix) with ESMTP id 4ABC123\r\n\tfor <ok@example.test>; Mon,  1 Jan 2024 00:00:00 +0000 (UTC)"
header From "Alice <a@sender.test>"
header To "<ok@example.test>"
header Subject "Benchmark message"
header Date "Mon, 1 Jan 2024 00:00:00 +0000"
header Message-ID "<20240101000000.1234@client.sender.test>"
header MIME-Version "1.0"
header Content-Type "text/plain; charset=us-ascii"
header X-Mailer "bench 1.0"
header Reply-To "<a@sender.test>"
eoh
body "The quick brown fox jumps over the lazy dog. 0123456789 abcdefgh\r\n"*32
macro eom i=4ABC123
eom
quit
