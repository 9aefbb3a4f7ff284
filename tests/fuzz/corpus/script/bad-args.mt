connect a 192.0.2.1
helo
