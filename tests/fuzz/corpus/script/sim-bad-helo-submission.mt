# A client on the submission port may say HELO localhost: the accept rule
# comes first, and the milter hears nothing more of the connection.
macro connect {daemon_name}=submission
connect laptop.example.test 203.0.113.5
helo localhost
mail <me@example.test>
rcpt <you@example.net>
data
header Subject "hello"
eoh
body "hi\r\n"
eom
quit
