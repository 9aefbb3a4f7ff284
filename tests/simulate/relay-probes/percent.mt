# A percent-hack relay probe: refused with the address and its '%' as the
# client wrote it, logged; the other recipient is taken.
connect mx.probe.test 192.0.2.44
helo mx.probe.test
mail <probe@probe.test>
rcpt <victim%elsewhere.test@example.test>
rcpt <postmaster@example.test>
data
eoh
body "test\r\n"
eom
