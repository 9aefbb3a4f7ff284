# Received: headers counted per message: 2 pass, 3 refuse, and the count
# starts again with the next message on the same connection.
connect client.example.test 192.0.2.9 4321
mail <a@sender.test>
rcpt <b@example.test>
data
header Received "from a by b"
header Subject "two hops"
header received "from b by c"
eoh
body "hello\r\n"
eom
mail <a@sender.test>
rcpt <b@example.test>
data
header Received "from a by b"
header RECEIVED "from b by c"
header X-Received "not a hop"
header Received "from c by d"
eoh
body "hello\r\n"
eom
mail <a@sender.test>
rcpt <b@example.test>
data
header Received "from a by b"
eoh
body "hello\r\n"
eom
quit
