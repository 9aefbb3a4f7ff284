# txn.mt - one realistic SMTP transaction as the MTA side of the milter
# protocol, for mtclient's load mode in make bench (tests/bench/run.sh):
# connect, EHLO, MAIL, 3 RCPT, DATA, 12 headers, end of header, a 20 KiB
# body (320 lines of 64 bytes), end of message. Matches no rule of
# policy-35.conf nor of the scale policies: every rule is tried and the
# message is accepted. Must never carry anything those rules refuse.
macro connect j=mx.example.test {daemon_name}=smtpd
connect client.sender.test 127.0.0.1 40000
helo client.sender.test
macro mail {mail_addr}=a@sender.test
mail <a@sender.test> SIZE=23000
macro rcpt {rcpt_addr}=ok@example.test
rcpt <ok@example.test>
macro rcpt {rcpt_addr}=two@example.test
rcpt <two@example.test>
macro rcpt {rcpt_addr}=three@example.test
rcpt <three@example.test>
data
header Received "from client.sender.test (localhost [127.0.0.1])\r\n\tby mx.example.test (Postfix) with ESMTP id 4ABC123\r\n\tfor <ok@example.test>; Mon,  1 Jan 2024 00:00:00 +0000 (UTC)"
header From "Alice <a@sender.test>"
header To "<ok@example.test>, <two@example.test>"
header Cc "<three@example.test>"
header Subject "Benchmark message"
header Date "Mon, 1 Jan 2024 00:00:00 +0000"
header Message-ID "<20240101000000.1234@client.sender.test>"
header MIME-Version "1.0"
header Content-Type "text/plain; charset=us-ascii"
header Content-Transfer-Encoding "7bit"
header X-Mailer "bench 1.0"
header Reply-To "<a@sender.test>"
eoh
body "The quick brown fox jumps over the lazy dog. 0123456789 abcdef\r\n"*320
macro eom i=4ABC123
eom
quit
