#!/usr/bin/env bash
# dns.sh - DNS list conditions against a real DNS server: dnsmasq on
# 127.0.0.1 on a free port (tests/e2e/lib.sh dns_start), the real
# replycode-milter spoken to over the milter protocol by mtclient, and
# --simulate over the same server. Proves: the reply with the zone and the
# TXT record (cut, cleaned, '%' escaped) for IPv4 and IPv6 clients; an
# allowlisted client passes a later reject rule; weights and a threshold
# across zones; sender_rhsbl and helo_rhsbl; a second connection answered
# from the cache (the server is not asked again); with the server
# stopped, dns_error = ignore (logged, delivered), a reload to another
# upstream, and dns_error = tempfail (451 4.4.3, logged).
# Prints "N passed, N failed" (tests/e2e/lib.sh's assertions); exits
# non-zero on failure.
# MILTER_BIN, MILTER_WRAP and MTCLIENT as for run.sh (valgrind.sh runs
# it under memcheck).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

bin=${MILTER_BIN:-./replycode-milter}
client=${MTCLIENT:-tests/proto/mtclient}
read -r -a wrap <<<"${MILTER_WRAP:-}"
e2e_tmpdir
tmp=$E2E_DIR

if ! command -v dnsmasq >/dev/null; then
	e2e_skip "DNS lists against a real DNS server" "dnsmasq is not installed (packaging/deps.sh check)"
	e2e_finish
fi
dns_start || e2e_die "cannot start dnsmasq"

# conf NAME EXTRA: a policy using the test server, with EXTRA global
# lines first.
conf() {
	{
		printf 'dns_timeout = 3\n%s\n' "$2"
		dns_rules
		cat <<EOF
rule "two-lists" {
	stage = connect
	client_dnsbl = { "bl.example*2", "bl2.example", "nx.example" }
	client_dnsbl_threshold = 3
	verdict = reject
	reply = "554 5.7.1"
	text = "Service unavailable; Client host [\$client_addr] listed by \$dnsbl_zone (\$dnsbl_answer) and more"
}
rule "helo" {
	stage = helo
	helo_rhsbl = { "dbl.example=127.0.1.[2..99]" }
	verdict = reject
	reply = "550 5.7.1"
	text = "HELO \$helo blocked using \$dnsbl_zone"
}
rule "sender" {
	stage = mail
	sender_rhsbl = { "dbl.example=127.0.1.[2..99]" }
	verdict = reject
	reply = "550 5.7.1"
	text = "Sender address \$sender blocked using \$dnsbl_zone; \$dnsbl_txt"
}
rule "everyone-else" {
	stage = rcpt
	recipient = { "blocked@example.net" }
	verdict = reject
	reply = "550 5.7.1"
	text = "Recipient refused"
}
EOF
	} >"$tmp/$1.conf"
}

sock=$tmp/milter.sock
start() {
	rm -f "$sock"
	milter_start "unix:$sock" "${wrap[@]}" "$bin" "${MILTER_AS[@]}" -f \
		-c "$tmp/$1.conf" \
		-p "unix:$sock"
}

# session NAME CLIENT-ADDR HELO SENDER RCPT: one connection, its replies
# into $tmp/NAME.out.
session() {
	local name=$1 addr=$2
	cat >"$tmp/$name.mt" <<EOF
connect [$addr] $addr 4321
helo $3
mail <$4>
rcpt <$5>
quit
EOF
	"$client" -T 10 -s "unix:$sock" "$tmp/$name.mt" >"$tmp/$name.out" 2>&1
}

# The TXT record as the reply gives it: cut to 256 octets with "...",
# control bytes as '?' or ' ', '%' doubled for smfi_setmlreply.
txt_shown=$(printf '%s' "$DNS_TXT_HEAD %s%n" | sed 's/%/%%/g')

conf main ""
start main || e2e_die "the milter did not start"

session listed 127.0.0.2 client.example.net a@example.org b@example.net
assert_contains "a listed client: 554 5.7.1 with the zone and the TXT record" \
	"$tmp/listed.out" \
	"^connect: replycode 554 5.7.1 Service unavailable; Client host \[127\.0\.0\.2\] blocked using bl\.example; $(printf '%s' "$txt_shown" | sed 's/[][\.*^$?+(){}|/]/\\&/g')\?\?\?\?aaaa"
assert_contains "the TXT record is cut with ..." "$tmp/listed.out" 'aaaa\.\.\.$'
assert_not_contains "no control byte reaches the reply" "$tmp/listed.out" \
	$'[\x01-\x08\x0b-\x1f\x7f]'
assert_eq "the A and the TXT record were asked once each" \
	"$(dns_queries 2.0.0.127.bl.example A) $(dns_queries 2.0.0.127.bl.example TXT)" "1 1"

session again 127.0.0.2 client.example.net a@example.org b@example.net
assert_eq "a second connection gets the same reply" \
	"$(head -n 2 "$tmp/again.out")" "$(head -n 2 "$tmp/listed.out")"
assert_eq "... from the milter's cache: the server was not asked again" \
	"$(dns_queries 2.0.0.127.bl.example A) $(dns_queries 2.0.0.127.bl.example TXT)" "1 1"

session v6 2001:db8::1 client.example.net a@example.org b@example.net
assert_contains "an IPv6 client is looked up by its nibbles" "$tmp/v6.out" \
	'^connect: replycode 554 5\.7\.1 Service unavailable; Client host \[2001:db8::1\] blocked using bl\.example; $'

session weights 127.0.0.4 client.example.net a@example.org b@example.net
assert_contains "weights: 2 (bl.example, answer not in the first rule's 127.0.0.[2..11]) + 1 (bl2.example) reach the threshold 3" \
	"$tmp/weights.out" \
	'^connect: replycode 554 5\.7\.1 Service unavailable; Client host \[127\.0\.0\.4\] listed by bl\.example \(127\.0\.0\.20\) and more$'

session allow 127.0.0.10 client.example.net a@example.org blocked@example.net
assert_contains "an allowlisted client is accepted at connect" \
	"$tmp/allow.out" '^connect: accept$'
assert_not_contains "... and never meets the later reject rule" \
	"$tmp/allow.out" 'Recipient refused'

session helo 127.0.0.3 bad-helo.example a@example.org b@example.net
assert_contains "helo_rhsbl: the HELO name is listed" "$tmp/helo.out" \
	'^helo: replycode 550 5\.7\.1 HELO bad-helo\.example blocked using dbl\.example$'

session sender 127.0.0.3 client.example.net x@spam.example b@example.net
assert_contains "sender_rhsbl: the sender's domain is listed, with its TXT" \
	"$tmp/sender.out" \
	'^mail: replycode 550 5\.7\.1 Sender address <x@spam\.example> blocked using dbl\.example; domain blocked$'

session clean 127.0.0.3 client.example.net a@example.org b@example.net
assert_contains "an unlisted client goes through" "$tmp/clean.out" \
	'^rcpt: continue$'
assert_eq "nx.example's NXDOMAIN is no failure" \
	"$(grep -c 'DNS lookup failed' "$MILTER_LOG")" 0
milter_stop

# --simulate runs the same core against the same server.
out=$("${wrap[@]}" "$bin" -c "$tmp/main.conf" --simulate --client 127.0.0.4 \
	--from a@example.org --to b@example.net 2>&1)
assert_match "--simulate: the same lookups and verdict" "$out" \
	'rule two-lists: reject'

# The server stopped: nothing answers.
dns_stop
conf ignore ""
start ignore || e2e_die "the milter did not start"
session down 127.0.0.5 client.example.net a@example.org b@example.net
assert_contains "dns_error = ignore: no answer is not listed" \
	"$tmp/down.out" '^rcpt: continue$'
assert_contains "... and each failed lookup is logged" "$MILTER_LOG" \
	'warning: conn[0-9]+: stage=connect DNS lookup failed: 5\.0\.0\.127\.bl\.example A: .*dns_error = ignore: taken as not listed'

# A reload with another upstream: new connections ask it (a DNS server
# started again, on another port).
dns_start || e2e_die "cannot start dnsmasq again"
conf ignore ""
kill -HUP "$MILTER_PID"
for _ in $(seq 50); do
	grep -q "reloaded $tmp/ignore.conf" "$MILTER_LOG" && break
	sleep 0.1
done
session reloaded 127.0.0.2 client.example.net a@example.org b@example.net
assert_contains "after a reload, the new dns_resolver answers: listed" \
	"$tmp/reloaded.out" '^connect: replycode 554 5\.7\.1 .*blocked using bl\.example; '
milter_stop
dns_stop

conf tempfail "dns_error = tempfail"
start tempfail || e2e_die "the milter did not start"
session down-t 127.0.0.5 client.example.net a@example.org b@example.net
assert_contains "dns_error = tempfail: 451 4.4.3 at connect" \
	"$tmp/down-t.out" \
	'^connect: replycode 451 4\.4\.3 Temporary DNS lookup failure, try again later$'
assert_contains "... logged with the rule it could not decide" "$MILTER_LOG" \
	'decision stage=connect rule=dnswl verdict=tempfail reply="451 4\.4\.3 .*\(DNS lookups failed, dns_error = tempfail\)'
milter_stop

conf tempfail-hold "dns_error = tempfail
hold_early_verdicts = true"
start tempfail-hold || e2e_die "the milter did not start"
session down-h 127.0.0.5 client.example.net a@example.org b@example.net
assert_eq "dns_error = tempfail, held: connect not waited for, MAIL goes on, RCPT gets 451 4.4.3" \
	"$(sed -n '2p;4,5p' "$tmp/down-h.out" | tr '\n' '|')" \
	"connect: (no reply expected)|mail: continue|rcpt: replycode 451 4.4.3 Temporary DNS lookup failure, try again later|"
assert_contains "... logged as held, then given at RCPT" "$MILTER_LOG" \
	'decision stage=rcpt rule=dnswl verdict=tempfail reply="451 4\.4\.3 .*\(held from connect/helo: DNS lookups failed, dns_error = tempfail\)'
milter_stop

e2e_finish
