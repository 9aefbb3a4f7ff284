# 31 messages in a minute from one client: the 31st is refused.
connect mx.example.net 203.0.113.9
helo mx.example.net
mail <news@example.net>
rcpt <user1@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user2@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user3@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user4@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user5@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user6@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user7@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user8@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user9@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user10@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user11@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user12@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user13@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user14@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user15@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user16@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user17@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user18@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user19@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user20@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user21@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user22@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user23@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user24@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user25@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user26@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user27@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user28@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user29@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user30@example.test>
data
eoh
eom
mail <news@example.net>
rcpt <user31@example.test>
data
eoh
eom
quit
