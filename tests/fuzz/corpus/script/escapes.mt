body "a"*3"\x00\r\n"
header X "\q"
