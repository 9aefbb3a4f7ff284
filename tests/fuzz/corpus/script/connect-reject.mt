connect mx.example.test 192.0.2.7 4321
quit
