# gen-load.awk - the traffic of tests/reliability/load.sh: NSCRIPTS mtclient
# session scripts (DIR/s000.mt ...) holding NMSG messages in all, drawn with
# a fixed seed, and DIR/expect: for each kind of reply line, how many one
# pass over all the scripts must give under load.conf.
#
#   awk -v dir=DIR -v nscripts=200 -v nmsg=500 -v seed=42 -f gen-load.awk
#
# Kinds of session: 5 % from 203.0.113.x (refused at connect, no message),
# the rest from 192.0.2.x or (one in three) 198.51.100.x, with 1 to 5
# messages. Kinds of message, by weight:
#   pass 40      one recipient, eom: continue with its headers
#   mixed 10     a good and a blocked recipient (rcpt 550), then passes
#   blocked 10   one blocked recipient: rcpt 550, abort
#   greylist 10  sender @slow.test: mail 451, abort
#   vip 10       sender vip-N@trusted.test: mail accept, abort; from
#                198.51.100.x (a header to add) the milter answers
#                continue and stays to the end of the message, trying no
#                rule: a blocked recipient and a spam body pass
#   tempfail 10  header X-Load-Kind: tempfail: decided at the header,
#                answered 451 at eom (mtclient offers the no-reply steps
#                for header and body, as Postfix and Sendmail do, so the
#                MTA sends the rest of the message)
#   spam 10      body with BUY-NOW-N: decided at the body, 554 at eom
# Must never produce a message whose answer load.conf leaves open: each
# expect line below is what the policy must give, worked out here and not
# by running the milter.

function pick(   r, i, acc) {
	r = rand() * wsum
	acc = 0
	for (i = 1; i <= nkinds; i++) {
		acc += weight[kind[i]]
		if (r < acc)
			return kind[i]
	}
	return kind[nkinds]
}

function headers(f, k) {
	printf "data\n" > f
	printf "header From \"<a%d@sender.test>\"\n", serial > f
	printf "header Subject \"load message %d\"\n", serial > f
	printf "header X-Load-Kind \"%s\"\n", k > f
	printf "eoh\n" > f
}

function body(f, spam) {
	if (spam)
		printf "body \"Hello.\\r\\n\"\"BUY-NOW-%d\\r\\n\"\n", serial > f
	else
		printf "body \"line of text 0123456789 abcdefghij klmnopqrst\\r\\n\"*40\n" > f
}

# A message that ends at the reply counted as line (mail_tempfail, ...),
# with verdict (reject, tempfail, accept): the MTA aborts it.
function ended(f, line, verdict) {
	printf "abort\n" > f
	want[line]++
	want["msg_" verdict]++
}

# A message decided at a header or body event the MTA does not wait on:
# the reply counted as line comes with the end of the message.
function ended_at_eom(f, line, verdict) {
	printf "macro eom i=Q%d\neom\n", serial > f
	want[line]++
	want["msg_" verdict]++
}

# The end of a message that passes: eom: continue, after nhdr addheader
# lines.
function eom(f, nhdr) {
	printf "macro eom i=Q%d\neom\n", serial > f
	want["eom_continue"]++
	want["eom_addheader"] += nhdr
}

BEGIN {
	srand(seed)
	nkinds = split("pass mixed blocked greylist vip tempfail spam", kind, " ")
	weight["pass"] = 40
	weight["mixed"] = weight["blocked"] = weight["greylist"] = 10
	weight["vip"] = weight["tempfail"] = weight["spam"] = 10
	wsum = 100
	nrefused = int(nscripts / 20)
	# Messages per session: 1 to 5, then nudged until they add up to nmsg.
	total = 0
	for (s = nrefused; s < nscripts; s++) {
		count[s] = 1 + int(rand() * 4)
		total += count[s]
	}
	while (total != nmsg) {
		s = nrefused + int(rand() * (nscripts - nrefused))
		if (total < nmsg && count[s] < 5) {
			count[s]++
			total++
		} else if (total > nmsg && count[s] > 1) {
			count[s]--
			total--
		}
	}
	split("connect_reject mail_tempfail mail_accept rcpt_reject " \
	      "header_tempfail body_reject eom_continue eom_addheader " \
	      "msg_reject msg_tempfail msg_accept msg_continue sessions messages",
	      keys, " ")
	for (i in keys)
		want[keys[i]] = 0
	serial = 0
	for (s = 0; s < nscripts; s++) {
		f = sprintf("%s/s%03d.mt", dir, s)
		want["sessions"]++
		if (s < nrefused) {
			printf "connect refused%d.test 203.0.113.%d %d\nquit\n",
			       s, 1 + s % 250, 40000 + s > f
			want["connect_reject"]++
			close(f)
			continue
		}
		doc = s % 3 == 0
		printf "connect client%d.test %s.%d %d\n", s,
		       doc ? "198.51.100" : "192.0.2", 1 + s % 250, 40000 + s > f
		printf "helo client%d.test\n", s > f
		for (m = 0; m < count[s]; m++) {
			k = pick()
			serial++
			want["messages"]++
			if (k == "greylist") {
				printf "mail <g%d@slow.test>\n", serial > f
				ended(f, "mail_tempfail", "tempfail")
				continue
			}
			if (k == "vip" && !doc) {
				printf "mail <vip-%d@trusted.test>\n", serial > f
				ended(f, "mail_accept", "accept")
				continue
			}
			if (k == "vip") {
				# Accepted with the connect rule's header still to
				# add: the milter stays to the end of the message
				# and tries no rule (a blocked recipient, a spam
				# body) on the way.
				printf "mail <vip-%d@trusted.test>\n", serial > f
				printf "rcpt <blocked-%d@example.test>\n", serial > f
				headers(f, "pass")
				body(f, 1)
				eom(f, 1)
				want["msg_accept"]++
				continue
			}
			printf "mail <a%d@sender.test>\n", serial > f
			if (k == "blocked") {
				printf "rcpt <blocked-%d@example.test>\n", serial > f
				ended(f, "rcpt_reject", "reject")
				continue
			}
			printf "rcpt <ok%d@example.test>\n", serial > f
			if (k == "mixed") {
				printf "rcpt <blocked-%d@example.test>\n", serial > f
				want["rcpt_reject"]++
			}
			headers(f, k == "tempfail" ? "tempfail" : "pass")
			body(f, k == "spam")
			if (k == "tempfail") {
				ended_at_eom(f, "header_tempfail", "tempfail")
				continue
			}
			if (k == "spam") {
				ended_at_eom(f, "body_reject", "reject")
				continue
			}
			eom(f, doc ? 2 : 1)
			want["msg_continue"]++
		}
		printf "quit\n" > f
		close(f)
	}
	f = dir "/expect"
	for (i = 1; i in keys; i++)
		printf "%s %d\n", keys[i], want[keys[i]] > f
	close(f)
}
