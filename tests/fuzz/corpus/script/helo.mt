connect client.example.test 198.51.100.1
helo box.localdomain
helo [198.51.100.1]
helo good.example.test
quit
