macro mail {auth}=x
connect a -
