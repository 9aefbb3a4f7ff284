connect client.example.test 198.51.100.1
helo client.example.test
mail <x@mx.spam.example>
abort
mail <ok@sender.test> SIZE=100
rcpt <a%b@example.test>
rcpt <one@example.test>
rcpt <two@example.test>
rcpt <three@example.test>
abort
mail <ok@sender.test>
rcpt <one@example.test>
quit
