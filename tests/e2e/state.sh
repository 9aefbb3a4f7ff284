#!/bin/bash
# state.sh: rate limits and greylisting through a real Sendmail and a
# real Postfix, on the embedded store (LMDB) and on a real redis-server
# shared by a fleet.
#
# Sendmail (unpacked by setup-mta.sh; runs without Postfix too): a milter
# on LMDB behind one-shot `sendmail -bs` sessions over TCP from
# 127.0.0.1. The limit of 5 messages a minute takes exactly 5 and refuses
# the 6th with "450 4.7.1 <ok@example.test>... Too many messages from
# 127.0.0.1: slow down" (Sendmail's prefix before a 450 at RCPT), which is
# what --simulate predicts for Sendmail; greylisting (a delay of 5 s
# here: a one-shot session is slower than Postfix's) refuses with "451
# 4.7.1 Greylisted: try again in 5s", as Postfix words it (no prefix
# before a 451), again before the delay, takes the retry after it. A
# queue run (sendmail -qf) delivers what Sendmail took to an smtp-sink
# of the test's own: exactly the 5, then the retry (without Postfix's
# smtp-sink, that check is a skip and only Sendmail's queue is counted).
#
# The embedded store: one milter behind a private Postfix; a limit of 5
# messages a minute per client lets exactly 5 through and refuses the 6th
# with its 450 4.7.1; a greylisted message is refused with 451 4.7.1 and
# the time left, refused again before the delay (5 s here, set by the
# config: the milter's clock is never faked), accepted and delivered after
# it. The state then outlives a reload and a kill -9 of the milter: the
# count still refuses, the passed triplet still passes.
#
# The fleet: a redis-server of the tests' own (127.0.0.1, a free port,
# never the host's), two milters on it, each behind its own private
# Postfix. Greylisted through the first, the retry through the second is
# accepted. 200 sessions at once, 100 through each Postfix, against a
# limit of 150: exactly 150 taken, 50 refused with 421 4.7.28, and Redis
# holds exactly 200. Then Redis stops: with state_error = ignore mail is
# taken and delivered, the failure logged and counted; with tempfail it
# gets 451 4.3.0 (the client keeps it and retries); nothing is lost. Redis
# starts again on its files: greylisting works again at once, and the
# passed triplet and the count are still there. A Redis that answers
# nothing (SIGSTOP): after state_timeout the mail goes on, logged.
# Ends with "N passed, N failed" (and ", N skipped").
#
# Without Postfix the Postfix and Redis parts are one skip line.
# Usage: tests/e2e/state.sh   (root; not root: one skip line, exit 0)

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	e2e_skip "state through Sendmail, Postfix and Redis" \
		"needs root (unshare, Postfix master, smtp-sink -u)"
	e2e_finish
fi
e2e_tmpdir
bin=$top/replycode-milter
[ -x "$bin" ] || e2e_die "no $bin: run make first"
if ! "$here/setup-mta.sh" >"$E2E_DIR/setup.log" 2>&1; then
	e2e_diag "$(cat "$E2E_DIR/setup.log")"
	e2e_die "tests/e2e/setup-mta.sh failed"
fi

# sleep_left T0 SECONDS: sleep until SECONDS after T0 ($EPOCHREALTIME),
# or not at all when that is past.
sleep_left() {
	local left
	left=$(awk -v a="$1" -v d="$2" -v b="$EPOCHREALTIME" \
		'BEGIN { printf "%.2f", a + d - b }')
	[[ $left == -* ]] || sleep "$left"
}

# rules STATE [GLOBALS] [DELAY]: the config every milter here runs, its
# greylist_delay DELAY (default 5s: a retry must come before it even on
# a loaded machine, and only what is left of it is slept: sleep_left).
rules() {
	printf 'state = "%s"\n%s\n' "$1" "${2:-}"
	cat <<RULES
rule "per-client" {
	stage = rcpt
	sender = { "burst@sender.test" }
	rate_limit = 5
	rate_window = "1m"
	rate_key = "client_address"
	rate_event = "messages"
	verdict = tempfail
	reply = "450 4.7.1"
	text = "Too many messages from \$client_addr: slow down"
}
rule "fleet-count" {
	stage = rcpt
	sender = { "many@sender.test" }
	rate_limit = 150
	rate_window = "1h"
	rate_key = "sender"
	verdict = tempfail
	reply = "421 4.7.28"
	text = "Unusual rate of mail from \$sender"
}
rule "grey" {
	stage = rcpt
	recipient_regex = { "^grey" }
	greylist = true
	greylist_delay = "${3:-5s}"
	verdict = tempfail
	reply = "451 4.7.1"
	text = "Greylisted: try again in \$retry_in"
}
RULES
}

# send PORT FROM TO OUT: one message through Postfix on PORT.
send() {
	smtp_dialogue "$1" --from "$2" --to "$3" >"$4"
}

# rcpt_reply FILE: the reply to RCPT in a swaks transcript.
rcpt_reply() {
	sed -n '/ -> RCPT TO/{n;s/\r$//;s/^<\(-\|\*\*\) *//p}' "$1" | head -n 1
}

# wait_log FILE REGEX: until FILE has a line matching REGEX (10 s at most).
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# sim_rcpt CONF MTA SCRIPT: the reply --simulate predicts for MTA
# (postfix, sendmail) at the last RCPT of the transaction SCRIPT (the
# protocol tests' language) under CONF.
sim_rcpt() {
	"$bin" -c "$1" --simulate "$3" 2>&1 |
		sed -n "s/^  $2 RCPT: //p" | tail -n 1
}

# ------------------------------------------------- Sendmail, LMDB

# The same rules through the real Sendmail, on a milter and an LMDB
# folder of their own; each session over TCP from 127.0.0.1 to a
# one-shot `sendmail -bs`, so Sendmail and the milter see the client's
# address (on a pipe they have none). Sendmail queues what it takes;
# a queue run (sendmail -qf) then relays it to an smtp-sink of the test's
# own (Postfix's: without Postfix, only the queue is checked).
smstate=$E2E_DIR/sm-state
mkdir "$smstate"
rules "$smstate" >"$E2E_DIR/sm.conf"
smport=$(free_port) || e2e_die "no free port"
smsock="inet:$smport@127.0.0.1"
milter_start "$smsock" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/sm.conf" \
	-p "$smsock" || e2e_die "the milter for Sendmail does not start"
sm_pid=$MILTER_PID
sm_sink=$(e2e_postfix_missing) || sm_sink=""
if [ -z "$sm_sink" ]; then
	sink_start "$E2E_DIR/sm-sink" || e2e_die "smtp-sink does not start"
	SENDMAIL_RELAY_PORT=$SINK_PORT
fi
sendmail_prepare "$smsock" || e2e_die "sendmail .cf not built"

# sm_delivered N DESC: the queue run delivers all that Sendmail queued and
# the sink holds N messages (a skip without Postfix's smtp-sink).
sm_delivered() {
	if [ -n "$sm_sink" ]; then
		e2e_skip "$2" "$sm_sink"
		return 0
	fi
	sendmail_deliver || e2e_diag "$(tail -n 20 "$SENDMAIL_DIR/deliver.log")"
	sink_wait_count "$1" || true
	assert_eq "$2" "$(sendmail_queue_count) queued, $(sink_messages | wc -l) in the sink" \
		"0 queued, $1 in the sink"
}

# sm_send FROM TO OUT: one message through Sendmail.
sm_send() {
	sendmail_session_from 127.0.0.1 --ehlo client.test --from "$1" \
		--to "$2" >"$3"
}

for i in 1 2 3 4 5; do
	sm_send burst@sender.test ok@example.test "$E2E_DIR/smb$i.out"
done
got=""
for i in 1 2 3 4 5; do
	got="$got|$(rcpt_reply "$E2E_DIR/smb$i.out")"
done
assert_eq "sendmail, rate limit 5 a minute: messages 1 to 5 are taken" \
	"$got" "$(printf '|250 2.1.5 <ok@example.test>... Recipient ok%.0s' 1 2 3 4 5)"
sm_send burst@sender.test ok@example.test "$E2E_DIR/smb6.out"
assert_eq "sendmail, rate limit 5 a minute: the 6th is refused, prefixed" \
	"$(rcpt_reply "$E2E_DIR/smb6.out")" \
	"450 4.7.1 <ok@example.test>... Too many messages from 127.0.0.1: slow down"
{
	echo "connect localhost 127.0.0.1"
	echo "helo client.test"
	for i in 1 2 3 4 5 6; do
		printf 'mail <burst@sender.test>\nrcpt <ok@example.test>\n'
		printf 'data\nheader Subject e2e\neoh\nbody hello\neom\n'
	done
	echo quit
} >"$E2E_DIR/burst.script"
assert_eq "sendmail, the 6th: --simulate predicts what Sendmail answered" \
	"$(sim_rcpt "$E2E_DIR/sm.conf" sendmail "$E2E_DIR/burst.script")" \
	"$(rcpt_reply "$E2E_DIR/smb6.out")"
assert_eq "sendmail, rate limit: the 5 taken are queued" \
	"$(sendmail_queue_count)" 5
sm_delivered 5 "sendmail, rate limit: the 5 taken are delivered to the sink"

# A delay of 5 s, and only what is left of it slept: a one-shot Sendmail
# session takes about a second on a loaded machine, and the retry must
# come before the delay.
t_first=$EPOCHREALTIME
sm_send a@sender.test grey1@example.test "$E2E_DIR/smg1.out"
t_stamped=$EPOCHREALTIME
sm_send a@sender.test grey1@example.test "$E2E_DIR/smg2.out"
t_retry=$EPOCHREALTIME
assert_eq "sendmail, greylisting: the first attempt is refused, with the time left" \
	"$(rcpt_reply "$E2E_DIR/smg1.out")" \
	"451 4.7.1 Greylisted: try again in 5s"
assert_match "sendmail, greylisting: refused again before the delay" \
	"$(rcpt_reply "$E2E_DIR/smg2.out")" \
	'^451 4\.7\.1 Greylisted: try again in [1-5]s$' ||
	e2e_diag "the retry came $(awk -v a="$t_retry" -v b="$t_first" \
		'BEGIN { printf "%.1f", a - b }') s after the first attempt began"
printf '%s\n' "connect localhost 127.0.0.1" "helo client.test" \
	"mail <a@sender.test>" "rcpt <grey1@example.test>" quit \
	>"$E2E_DIR/grey.script"
assert_eq "sendmail, greylisting: --simulate predicts what Sendmail answered" \
	"$(sim_rcpt "$E2E_DIR/sm.conf" sendmail "$E2E_DIR/grey.script")" \
	"$(rcpt_reply "$E2E_DIR/smg1.out")"
sleep_left "$t_stamped" 5.1
sm_send a@sender.test grey1@example.test "$E2E_DIR/smg3.out"
assert_eq "sendmail, greylisting: accepted after the delay" \
	"$(rcpt_reply "$E2E_DIR/smg3.out")" \
	"250 2.1.5 <grey1@example.test>... Recipient ok"
assert_eq "sendmail, greylisting: the retry, alone, is queued" \
	"$(sendmail_queue_count)" "$([ -n "$sm_sink" ] && echo 6 || echo 1)"
sm_delivered 6 "sendmail, greylisting: the retry is delivered to the sink"
if [ -z "$sm_sink" ]; then
	assert_eq "sendmail: the sink got 5 for ok@, then the retry for grey1@" \
		"$(sink_messages | xargs grep -h '^X-Rcpt-Args:' | tr '\n' '|')" \
		"$(printf 'X-Rcpt-Args: <ok@example.test>|%.0s' 1 2 3 4 5)X-Rcpt-Args: <grey1@example.test>|"
	sink_stop
fi
milter_stop "$sm_pid"

if pf_skip=$(e2e_postfix_missing); then
	e2e_skip "state through Postfix and Redis" "$pf_skip"
	e2e_finish
fi

# ------------------------------------------------- the embedded store

statedir=$E2E_DIR/state
mkdir "$statedir"
rules "$statedir" >"$E2E_DIR/lmdb.conf"
port=$(free_port) || e2e_die "no free port"
sock="inet:$port@127.0.0.1"
milter_start "$sock" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/lmdb.conf" \
	-p "$sock" || e2e_die "the milter does not start on LMDB"
lmdb_pid=$MILTER_PID
postfix_start "$(milter_socket_postfix "$sock")" ||
	e2e_die "postfix does not start"

for i in 1 2 3 4 5; do
	send "$POSTFIX_PORT" burst@sender.test ok@example.test "$E2E_DIR/b$i.out"
done
got=""
for i in 1 2 3 4 5; do
	got="$got $(rcpt_reply "$E2E_DIR/b$i.out" | cut -c1-3)"
done
assert_eq "rate limit 5 a minute: messages 1 to 5 are taken" "$got" \
	" 250 250 250 250 250"
send "$POSTFIX_PORT" burst@sender.test ok@example.test "$E2E_DIR/b6.out"
assert_eq "rate limit 5 a minute: the 6th is refused" \
	"$(rcpt_reply "$E2E_DIR/b6.out")" \
	"450 4.7.1 Too many messages from 127.0.0.1: slow down"
assert_eq "rate limit, the 6th: --simulate predicts what Postfix answered" \
	"$(sim_rcpt "$E2E_DIR/lmdb.conf" postfix "$E2E_DIR/burst.script")" \
	"$(rcpt_reply "$E2E_DIR/b6.out")"
sink_wait_count 5 || true
assert_eq "rate limit: the 5 taken are delivered" "$(sink_messages | wc -l)" 5

t_first=$EPOCHREALTIME
send "$POSTFIX_PORT" a@sender.test grey1@example.test "$E2E_DIR/g1.out"
assert_eq "greylisting: the first attempt is refused, with the time left" \
	"$(rcpt_reply "$E2E_DIR/g1.out")" \
	"451 4.7.1 Greylisted: try again in 5s"
send "$POSTFIX_PORT" a@sender.test grey1@example.test "$E2E_DIR/g2.out"
assert_match "greylisting: refused again before the delay" \
	"$(rcpt_reply "$E2E_DIR/g2.out")" \
	'^451 4\.7\.1 Greylisted: try again in [1-5]s$'
assert_eq "greylisting: --simulate predicts what Postfix answered" \
	"$(sim_rcpt "$E2E_DIR/lmdb.conf" postfix "$E2E_DIR/grey.script")" \
	"$(rcpt_reply "$E2E_DIR/g1.out")"
sleep_left "$t_first" 5.1
send "$POSTFIX_PORT" a@sender.test grey1@example.test "$E2E_DIR/g3.out"
assert_match "greylisting: accepted after the delay" \
	"$(rcpt_reply "$E2E_DIR/g3.out")" '^250 '
sink_wait_count 6 || true
assert_eq "greylisting: the retry is delivered" "$(sink_messages | wc -l)" 6

# a reload keeps the store and what it holds
kill -HUP "$lmdb_pid"
wait_log "$MILTER_LOG" 'reloaded ' || e2e_diag "no reload line"
send "$POSTFIX_PORT" burst@sender.test ok@example.test "$E2E_DIR/r1.out"
assert_eq "after a reload the count still refuses" \
	"$(rcpt_reply "$E2E_DIR/r1.out" | cut -c1-9)" "450 4.7.1"
send "$POSTFIX_PORT" a@sender.test grey1@example.test "$E2E_DIR/r2.out"
assert_match "after a reload the passed triplet passes" \
	"$(rcpt_reply "$E2E_DIR/r2.out")" '^250 '

# kill -9 and start again on the same folder
milter_kill "$lmdb_pid"
milter_start "$sock" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/lmdb.conf" \
	-p "$sock" || e2e_die "the milter does not start again on LMDB"
lmdb_pid=$MILTER_PID
send "$POSTFIX_PORT" burst@sender.test ok@example.test "$E2E_DIR/k1.out"
assert_eq "after kill -9 the count is intact: still refused" \
	"$(rcpt_reply "$E2E_DIR/k1.out" | cut -c1-9)" "450 4.7.1"
send "$POSTFIX_PORT" a@sender.test grey1@example.test "$E2E_DIR/k2.out"
assert_match "after kill -9 the passed triplet is intact: it passes" \
	"$(rcpt_reply "$E2E_DIR/k2.out")" '^250 '
send "$POSTFIX_PORT" a@sender.test grey2@example.test "$E2E_DIR/k3.out"
assert_eq "after kill -9 a new triplet is greylisted" \
	"$(rcpt_reply "$E2E_DIR/k3.out")" \
	"451 4.7.1 Greylisted: try again in 5s"
assert_eq "the LMDB files are in the state folder" \
	"$(cd "$statedir" && ls | tr '\n' ' ')" "data.mdb lock.mdb "
milter_stop "$lmdb_pid"
postfix_stop

# ------------------------------------------------- a fleet on Redis

command -v redis-cli >/dev/null ||
	e2e_die "no redis-cli (packaging/deps.sh check installs redis-tools)"
redis_start "$E2E_DIR/redis" || e2e_die "redis-server does not start"
rport=$REDIS_PORT
rcli() {
	redis-cli -h 127.0.0.1 -p "$rport" -n 3 "$@"
}

url="redis://127.0.0.1:$rport/3"
# (a timeout a loaded test machine cannot reach: a command that timed out
# may have counted, and the counts here are asserted exactly)
for n in 1 2; do
	rules "$url" "stats_file = \"$E2E_DIR/m$n.prom\"
stats_interval = 1
state_timeout = \"10s\"" >"$E2E_DIR/fleet$n.conf"
done
p1=$(free_port) && p2=$(free_port) || e2e_die "no free port"
s1="inet:$p1@127.0.0.1" s2="inet:$p2@127.0.0.1"
milter_start "$s1" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/fleet1.conf" \
	-p "$s1" || e2e_die "milter 1 does not start on Redis"
m1=$MILTER_PID m1log=$MILTER_LOG
milter_start "$s2" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/fleet2.conf" \
	-p "$s2" || e2e_die "milter 2 does not start on Redis"
m2=$MILTER_PID m2log=$MILTER_LOG
postfix_start "$(milter_socket_postfix "$s1")" || e2e_die "postfix 1"
pf1=$POSTFIX_PORT pf1dir=$POSTFIX_DIR pf1sink=$SINK_DIR pf1sinkpid=$SINK_PID
POSTFIX_DIR="" # a second instance, with its own sink
postfix_start "$(milter_socket_postfix "$s2")" || e2e_die "postfix 2"
pf2=$POSTFIX_PORT pf2sink=$SINK_DIR

t_first=$EPOCHREALTIME
send "$pf1" a@sender.test grey3@example.test "$E2E_DIR/f1.out"
assert_eq "fleet: greylisted through the first MX" \
	"$(rcpt_reply "$E2E_DIR/f1.out")" \
	"451 4.7.1 Greylisted: try again in 5s"
send "$pf2" a@sender.test grey3@example.test "$E2E_DIR/f2.out"
assert_match "fleet: the second MX knows it is too early" \
	"$(rcpt_reply "$E2E_DIR/f2.out")" \
	'^451 4\.7\.1 Greylisted: try again in [1-5]s$'
sleep_left "$t_first" 5.1
send "$pf2" a@sender.test grey3@example.test "$E2E_DIR/f3.out"
assert_match "fleet: the retry through the second MX is accepted" \
	"$(rcpt_reply "$E2E_DIR/f3.out")" '^250 '

# 200 sessions at once, 100 through each MX: each one MAIL and RCPT,
# its RCPT reply code printed.
# shellcheck disable=SC2016 # perl's variables
timeout -k 5 120 perl -MIO::Socket::INET -e '
	my ($p1, $p2) = @ARGV;
	my @kids;
	for my $i (1 .. 200) {
		my $pid = fork();
		die "fork: $!" unless defined $pid;
		if ($pid == 0) {
			my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
				PeerPort => $i % 2 ? $p1 : $p2, Timeout => 60)
				or do { print "connect\n"; exit 0 };
			my $reply = sub {
				my $l;
				do {
					$l = <$s>;
					return "eof" unless defined $l;
				} while ($l =~ /^\d{3}-/);
				return substr($l, 0, 3);
			};
			$reply->();
			print $s "EHLO client.test\r\n"; $reply->();
			print $s "MAIL FROM:<many\@sender.test>\r\n"; $reply->();
			print $s "RCPT TO:<ok\@example.test>\r\n";
			my $r = $reply->();
			print $s "QUIT\r\n";
			print "$r\n";
			exit 0;
		}
		push @kids, $pid;
	}
	waitpid($_, 0) for @kids;
' "$pf1" "$pf2" >"$E2E_DIR/burst.out" 2>&1
assert_eq "fleet: 200 sessions at once: all answered" \
	"$(grep -cE '^[0-9]{3}$' "$E2E_DIR/burst.out")" 200
assert_eq "fleet: exactly the limit of 150 taken" \
	"$(grep -c '^250$' "$E2E_DIR/burst.out")" 150
assert_eq "fleet: exactly 50 refused with 421" \
	"$(grep -c '^421$' "$E2E_DIR/burst.out")" 50
rkey="rcm:rate:fleet-count:messages:sender:many@sender.test"
count_in_redis() {
	rcli HGETALL "$rkey" | awk 'NR % 2 == 0 { s += $1 } END { print s + 0 }'
}
assert_eq "fleet: Redis counted exactly 200" "$(count_in_redis)" 200

# Redis stops: state_error = ignore (the default) lets mail through
redis_stop
send "$pf1" a@sender.test grey4@example.test "$E2E_DIR/d1.out"
assert_match "Redis down, state_error = ignore: greylisting lets it through" \
	"$(rcpt_reply "$E2E_DIR/d1.out")" '^250 '
assert_contains "Redis down: the milter logs the failure" "$m1log" \
	'state store failed: Redis 127\.0\.0\.1:[0-9]+: Connection refused; state_error = ignore'
# state_error = tempfail on the second milter (a reload)
sed -i '1a state_error = "tempfail"' "$E2E_DIR/fleet2.conf"
kill -HUP "$m2"
wait_log "$m2log" 'reloaded ' || e2e_diag "no reload line"
send "$pf2" a@sender.test grey5@example.test "$E2E_DIR/d2.out"
assert_eq "Redis down, state_error = tempfail: 451 4.3.0, the client retries" \
	"$(rcpt_reply "$E2E_DIR/d2.out")" \
	"451 4.3.0 Temporary internal error, try again later"
assert_contains "Redis down: the tempfail is logged" "$m2log" \
	'internal error: rule grey: the state store failed: Redis'
sleep 1.5 # stats_interval
assert_contains "Redis down: counted as ignored" "$E2E_DIR/m1.prom" \
	'^replycode_milter_state_errors_total\{action="ignore"\} [1-9]'
assert_contains "Redis down: counted as tempfailed" "$E2E_DIR/m2.prom" \
	'^replycode_milter_state_errors_total\{action="tempfail"\} [1-9]'

# Redis back, on its files
redis_start "$E2E_DIR/redis" "$rport" ||
	e2e_die "redis-server does not start again"
send "$pf2" a@sender.test grey5@example.test "$E2E_DIR/u1.out"
assert_eq "Redis back: greylisting works again at once" \
	"$(rcpt_reply "$E2E_DIR/u1.out")" \
	"451 4.7.1 Greylisted: try again in 5s"
send "$pf1" a@sender.test grey3@example.test "$E2E_DIR/u2.out"
assert_match "Redis back: the passed triplet is still passed" \
	"$(rcpt_reply "$E2E_DIR/u2.out")" '^250 '
assert_eq "Redis back: the count is still 200" "$(count_in_redis)" 200

# A Redis that answers nothing (stopped with SIGSTOP, its port still
# open): each command waits state_timeout, then state_error = ignore lets
# the mail through. state_timeout is read at start: milter 1 starts again
# with 300ms.
milter_stop "$m1"
sed 's/^state_timeout = .*/state_timeout = "300ms"/' "$E2E_DIR/fleet1.conf" \
	>"$E2E_DIR/fleet1-slow.conf"
milter_start "$s1" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/fleet1-slow.conf" \
	-p "$s1" || e2e_die "milter 1 does not start again"
m1=$MILTER_PID m1log=$MILTER_LOG
kill -STOP "$REDIS_PID"
send "$pf1" a@sender.test grey6@example.test "$E2E_DIR/h1.out"
kill -CONT "$REDIS_PID"
assert_match "Redis hung: after state_timeout the mail goes on (ignore)" \
	"$(rcpt_reply "$E2E_DIR/h1.out")" '^250 '
assert_contains "Redis hung: the timeout is logged" "$m1log" \
	'state store failed: Redis 127\.0\.0\.1:[0-9]+: Resource temporarily unavailable; state_error = ignore'
send "$pf1" a@sender.test grey6@example.test "$E2E_DIR/h2.out"
assert_eq "Redis answering again: greylisting is back (a new connection)" \
	"$(rcpt_reply "$E2E_DIR/h2.out")" \
	"451 4.7.1 Greylisted: try again in 5s"

# nothing lost: every message taken reached a sink (grey3 twice, grey4, grey6)
postfix_wait_idle 20 || true
POSTFIX_DIR=$pf1dir postfix_wait_idle 20 || true
for ((i = 0; i < 100; i++)); do
	n=$(find "$pf1sink" "$pf2sink" -type f | wc -l)
	[ "$n" -ge 4 ] && break
	sleep 0.1
done
assert_eq "every message taken was delivered" "$n" 4

postfix_stop
POSTFIX_DIR=$pf1dir SINK_PID=$pf1sinkpid
postfix_stop
milter_stop "$m1"
milter_stop "$m2"
redis_stop
e2e_finish
