#!/usr/bin/env bash
# run.sh - protocol tests: the real replycode-milter binary, started with a
# per-test config from cases/, spoken to over the real milter protocol by
# mtclient. Each case's output must equal its .want file line for line
# (or, with PROTO_SLOW above 1, its .want-slow file if it has one: the
# replies when a time limit of the milter ends a match first);
# the milter's log must hold the lines of its .log file (if any).
# Also: config check (-t) exit codes, SIGHUP reload, SIGTERM stop: after
# each SIGTERM the milter must exit 0; stats_file (metrics.sh).
# Prints "N passed, N failed"; exits non-zero on any failure.
#
# The same suite checks other builds of the milter (tests/reliability):
#   MILTER_BIN   the binary (default ./replycode-milter)
#   MILTER_WRAP  a command put before it, as words (valgrind ...)
#   MTCLIENT     the client (default tests/proto/mtclient)
#   PROTO_SLOW   a factor for every wait and timeout (default 1)
set -u
cd "$(dirname "$0")/../.."

bin=${MILTER_BIN:-./replycode-milter}
client=${MTCLIENT:-tests/proto/mtclient}
read -r -a wrap <<<"${MILTER_WRAP:-}"
slow=${PROTO_SLOW:-1}
T=$((5 * slow))
cases=tests/proto/cases
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rcm-proto.XXXXXX")
pass=0
fail=0
pid=""

cleanup() {
	if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
		for _ in $(seq $((150 * ${slow:-1}))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
}

# As root the milter refuses to run without a user to become: the cases
# name root on purpose (the daemon case below drops to nobody for real).
as_user=()
[ "$(id -u)" = 0 ] && as_user=(-u root)

# The milter, wrapped in MILTER_WRAP.
run_bin() {
	"${wrap[@]}" "$bin" "$@"
}

# Start the milter on a unix socket in the temp folder; wait until it
# answers (at most $T s).
start() {
	local conf=$1 log=$2
	sock="$tmp/milter.sock"
	rm -f "$sock"
	# Not run_bin: $! must be the milter's own pid.
	"${wrap[@]}" "$bin" "${as_user[@]}" -f -c "$conf" -p "unix:$sock" \
		2>"$log" &
	pid=$!
	# the socket file exists from bind() on, before libmilter listens:
	# wait for the log line that comes after listen()
	for _ in $(seq $((T * 10))); do
		[ -S "$sock" ] && grep -q "started: " "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "milter did not start with $conf:"
	cat "$log"
	return 1
}

# SIGTERM; the milter must exit 0 (1 when it ended by itself, the exit
# code of MILTER_WRAP when that found something) within 15 s (times
# PROTO_SLOW), else it is killed. $1: what ran.
stop() {
	local rc
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq $((150 * slow))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	pid=""
	if [ "$rc" -eq 0 ]; then
		ok "$1: milter exits 0 after SIGTERM"
	else
		not_ok "$1: milter exits 0 after SIGTERM: got $rc"
	fi
}

for conf in "$cases"/*.conf; do
	name=$(basename "$conf" .conf)
	log="$tmp/$name.log"
	out="$tmp/$name.out"
	if ! start "$conf" "$log"; then
		not_ok "$name: milter starts"
		continue
	fi
	"$client" -T "$T" -s "unix:$sock" "$cases/$name.mt" >"$out" 2>&1
	stop "$name"
	if diff -u "$cases/$name.want" "$out" >"$tmp/diff"; then
		ok "$name: replies"
	elif [ "$slow" -gt 1 ] && [ -f "$cases/$name.want-slow" ] &&
		diff -u "$cases/$name.want-slow" "$out" >"$tmp/diff"; then
		ok "$name: replies (as a slowed-down milter gives them)"
	else
		not_ok "$name: replies (want -, got +)"
		cat "$tmp/diff"
	fi
	if [ -f "$cases/$name.log" ]; then
		while IFS= read -r want; do
			if grep -qF -- "$want" "$log"; then
				ok "$name: log has: $want"
			else
				not_ok "$name: log has: $want"
				sed 's/^/    log: /' "$log"
			fi
		done <"$cases/$name.log"
	fi
done

# Run a command; it must exit with want_rc and print a line matching the
# extended regex pattern.
expect() {
	local desc=$1 want_rc=$2 pattern=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && grep -qE -- "$pattern" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc: got exit $rc (want $want_rc), output:"
		sed 's/^/    /' <<<"$out"
	fi
}

# -t: a good config exits 0 with a summary, a bad one 78 naming file:line.
expect "-t on a good config: exit 0 and a summary" 0 "OK: 3 rules" \
	run_bin -t -c "$cases/mail-rcpt.conf"
printf 'rule "x" {\n\tstage = rcpt\n\tverdict = reject\n\treply = "550 4.7.1"\n}\n' >"$tmp/bad.conf"
expect "-t on 550 4.7.1: exit 78 naming the line" 78 "^$tmp/bad.conf:4:" \
	run_bin -t -c "$tmp/bad.conf"

# -n: the effective settings, each with the line that sets it or
# "default", then a line a rule; what it prints loads again as a config.
printf 'timeout = 45\nmode = "dry-run"\ngroup = "x\\ty\\"z"\non_error {\n\treply = "451 4.3.5"\n}\nrule "r" {\n\tstage = rcpt\n\tnot_recipient_domain = { "example.test" }\n\tverdict = reject\n}\n' >"$tmp/eff.conf"
expect "-n: a value from the file names its line" 0 '^timeout = 45 # line 1$' \
	run_bin -n -c "$tmp/eff.conf"
expect "-n: a default is filled in and says so" 0 '^hold_early_verdicts = false # default$' \
	run_bin -n -c "$tmp/eff.conf"
expect "-n: on_error's reply as given, its text the default" 0 \
	'^	reply = "451 4.3.5" # line 5$' run_bin -n -c "$tmp/eff.conf"
expect "-n: a string with a tab and a quote, escaped" 0 \
	'^group = "x\\x09y\\"z" # line 3$' run_bin -n -c "$tmp/eff.conf"
expect "-n: a line a rule" 0 \
	'^# rule "r", line 7: at rcpt, reject 550 5.7.1 \(dry-run\), not_recipient_domain$' \
	run_bin -n -c "$tmp/eff.conf"
run_bin -n -c "$tmp/eff.conf" >"$tmp/eff-out.conf" 2>&1
expect "-n: its output loads as a config" 0 "OK: 0 rules" \
	run_bin -t -c "$tmp/eff-out.conf"
run_bin -n -c "$tmp/eff-out.conf" >"$tmp/eff-again.conf" 2>&1
assert_same_settings() {
	if diff <(grep -v '^#' "$tmp/eff-out.conf" | sed 's/ # .*//') \
		<(grep -v '^#' "$tmp/eff-again.conf" | sed 's/ # .*//') >/dev/null; then
		ok "-n: read back, the same values"
	else
		not_ok "-n: read back, the same values"
	fi
}
assert_same_settings
expect "-n on a bad config: exit 78 naming the line" 78 "^$tmp/bad.conf:4:" \
	run_bin -n -c "$tmp/bad.conf"

# --lookup LIST VALUE: which entry matches (inline or in the list's file,
# with its line), exit 0; none 1; no such list 78; a value the list's
# kind cannot hold 64.
printf '# nets\n203.0.113.7\n2001:db8::/32\n' >"$tmp/lk-nets.txt"
printf 'list "nets" {\n\ttype = address\n\tentries = { "198.51.100.0/24", "192.0.2.0/25" }\n\tfile = "%s"\n}\nlist "doms" {\n\ttype = domain\n\tentries = { "example.com", ".example.net" }\n}\nlist "mails" {\n\ttype = email\n\tentries = { "Spammer@Example.org" }\n}\nrule "r" {\n\tstage = rcpt\n\tclient_address = { "list:nets" }\n\thelo = { "list:doms" }\n\tsender = { "list:mails" }\n\tverdict = reject\n}\n' "$tmp/lk-nets.txt" >"$tmp/lk.conf"
expect "--lookup: an inline entry, with its line" 0 \
	"^nets: matches \"192\\.0\\.2\\.0/25\" \\($tmp/lk\\.conf:3\\)$" \
	run_bin -c "$tmp/lk.conf" --lookup nets 192.0.2.5
expect "--lookup: an entry of the list's file, with its line" 0 \
	"^nets: matches \"2001:db8::/32\" \\($tmp/lk-nets\\.txt:3\\)$" \
	run_bin -c "$tmp/lk.conf" --lookup nets 2001:db8::1
expect "--lookup: no entry matches, exit 1" 1 "^nets: no entry of the address list matches$" \
	run_bin -c "$tmp/lk.conf" --lookup nets 192.0.2.200
expect "--lookup: a subdomain by its .domain entry" 0 '^doms: matches "\.example\.net"' \
	run_bin -c "$tmp/lk.conf" --lookup doms mail.example.net
expect "--lookup: any spelling of an address, in its normal form" 0 \
	'^mails: matches "Spammer@Example\.org"' \
	run_bin -c "$tmp/lk.conf" --lookup mails '<"spammer"@EXAMPLE.org>'
expect "--lookup: no such list, exit 78" 78 'no list "nope"' \
	run_bin -c "$tmp/lk.conf" --lookup nope x
expect "--lookup: not an IP address for an address list, exit 64" 64 \
	'"junk" is not an IP address' run_bin -c "$tmp/lk.conf" --lookup nets junk
expect "--lookup: a config with errors, exit 78" 78 "^$tmp/bad.conf:4:" \
	run_bin -c "$tmp/bad.conf" --lookup nets 192.0.2.5

# --explain: a well paired code exits 0, a class mismatch 1 with the reason.
expect "--explain 550 5.7.1: well paired" 0 \
	"^    at connect, helo, connect \\(held\\), helo \\(held\\), mail, rcpt, header, eoh, body, eom: well paired$" \
	run_bin --explain "550 5.7.1"
expect "--explain 554 5.7.1: Postfix sends it at RCPT" 0 \
	"^       Postfix at RCPT$" run_bin --explain "554 5.7.1"
expect "--explain 554 5.7.1: a note at rcpt, not a warning" 0 \
	"^      note: RFC 5321 does not list 554 as a reply to RCPT; Postfix sends 554 5.7.1 there" \
	run_bin --explain "554 5.7.1"
expect "--explain 552 5.3.4: does not fit a HELO rule" 0 \
	"^      warning: 552 .* does not fit a rule at the helo stage: use 554 5.3.4$" \
	run_bin --explain "552 5.3.4"
expect "--explain 550 5.7.606: unregistered, Microsoft's own" 0 \
	"^      warning: enhanced code 5.7.606 is unregistered: it is Microsoft 365's own code" \
	run_bin --explain "550 5.7.606"
# never "well paired" over a warning, never a bare RFC 3463 remark
out=$(run_bin --explain "451 4.7.1")
if grep -q "^      note: RFC 3463 says X.7.1 is useful only for permanent failures, but 451 is a transient failure (4xx); IANA lists 451 for it$" <<<"$out" &&
	! grep -v "^      note: " <<<"$out" | grep -q "only for permanent"; then
	ok "--explain 451 4.7.1: the RFC 3463 remark is a note, and only a note"
else
	not_ok "--explain 451 4.7.1: the RFC 3463 remark is a note, and only a note"
	sed 's/^/    /' <<<"$out"
fi
bad=0
for spec in "451 4.7.1" "552 5.2.2" "550 5.4.1" "552 5.3.4" "550 5.9.9" \
	"551 5.1.6" "599 5.0.0" "421 4.3.2" "554 5.7.1"; do
	run_bin --explain "$spec" | awk -v spec="$spec" '
		/^    at / { verdict = $0; next }
		/^      (warning|error): / && verdict ~ /well paired$/ {
			print spec ": " verdict " / " $0; bad = 1 }
		END { exit bad }' || bad=1
done
if [ "$bad" -eq 0 ]; then
	ok "--explain: no paragraph says well paired over a warning"
else
	not_ok "--explain: no paragraph says well paired over a warning"
fi
expect "--explain 550 4.7.1: class mismatch" 1 \
	"error: enhanced code 4.7.1 has class 4" run_bin --explain "550 4.7.1"
expect "--explain 452: filled in as 452 4.3.1" 0 "^452 4.3.1$" \
	run_bin --explain "452"

# Daemon mode as root: -P writes the pid file, -u drops to the user after
# the socket is open, the unix socket gets socket_mode (0660 by default);
# SIGTERM removes the pid file.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$tmp"
	rm -f "$tmp/milter.sock"
	run_bin -c "$cases/negotiate.conf" -p "unix:$tmp/milter.sock" \
		-u nobody -P "$tmp/milter.pid" 2>"$tmp/daemon.err"
	rc=$?
	# The pid file is written before the milter drops to the user: wait
	# for both.
	for _ in $(seq $((T * 10))); do
		dpid=$(cat "$tmp/milter.pid" 2>/dev/null)
		uid=$(awk '/^Uid:/ {print $2}' "/proc/$dpid/status" 2>/dev/null)
		[ -n "$dpid" ] && [ -S "$tmp/milter.sock" ] &&
			[ "$uid" = "$(id -u nobody)" ] && break
		sleep 0.1
	done
	mode=$(stat -c %a "$tmp/milter.sock" 2>/dev/null)
	if [ $rc -eq 0 ] && [ "$uid" = "$(id -u nobody)" ] && [ "$mode" = 660 ]; then
		ok "daemon: -P pid file, -u nobody, socket mode 660"
	else
		not_ok "daemon: exit $rc, pid '$dpid', uid '$uid', mode '$mode': $(cat "$tmp/daemon.err")"
	fi
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	for _ in $(seq $((T * 10))); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$dpid" 2>/dev/null; then
		ok "daemon: SIGTERM stops it"
	else
		not_ok "daemon: SIGTERM stops it"
		kill -9 "$dpid"
	fi
fi

# Start-up safety, as root: never root by accident, a pid file that is a
# link or no regular file is refused, the pid file and the socket go at a
# clean stop, socket errors say why, a low limit of open files is said.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	run_dir="$tmp/run"
	install -d -o nobody -m 0755 "$run_dir"
	expect "as root with no user: refuses to start" 78 \
		"fatal: started as root with no user to run as" \
		timeout 5 "$bin" -f -c "$cases/negotiate.conf" -p "unix:$run_dir/s.sock"
	echo "do not overwrite" >"$tmp/victim"
	ln -sf "$tmp/victim" "$run_dir/link.pid"
	expect "pid file: a symbolic link is refused" 73 \
		"pidfile .*link.pid: .*a symbolic link: refused" \
		timeout 5 "$bin" -f -u nobody -c "$cases/negotiate.conf" \
		-p "unix:$run_dir/s.sock" -P "$run_dir/link.pid"
	if [ "$(cat "$tmp/victim")" = "do not overwrite" ]; then
		ok "pid file: the link's target is untouched"
	else
		not_ok "pid file: the link's target is untouched"
	fi
	mkfifo "$run_dir/fifo.pid"
	expect "pid file: a FIFO is refused" 73 \
		"pidfile .*fifo.pid: not a regular file: refused" \
		timeout 5 "$bin" -f -u nobody -c "$cases/negotiate.conf" \
		-p "unix:$run_dir/s.sock" -P "$run_dir/fifo.pid"
	expect "socket: a missing folder is named" 69 \
		"cannot open socket unix:$tmp/nowhere/s.sock: folder $tmp/nowhere: No such file or directory" \
		timeout 5 "$bin" -f -u nobody -c "$cases/negotiate.conf" \
		-p "unix:$tmp/nowhere/s.sock"
	busy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); open(sys.argv[2], "w").close(); time.sleep(20)' "$busy_port" "$tmp/busy.ready" &
	holder=$!
	for _ in $(seq 100); do
		[ -e "$tmp/busy.ready" ] && break
		sleep 0.1
	done
	expect "socket: a port in use says so" 69 \
		"cannot open socket inet:$busy_port@127.0.0.1: bind to 127.0.0.1 port $busy_port: Address already in use" \
		timeout 5 "$bin" -f -u nobody -c "$cases/negotiate.conf" \
		-p "inet:$busy_port@127.0.0.1"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	# a clean stop removes the pid file and the socket (their folder is
	# the milter user's); a low limit of open files is said at start
	(ulimit -n 256 && exec "$bin" -f -u nobody -c "$cases/negotiate.conf" \
		-p "unix:$run_dir/s.sock" -P "$run_dir/m.pid") 2>"$tmp/clean.err" &
	cpid=$!
	for _ in $(seq 100); do
		grep -q "started: " "$tmp/clean.err" && break
		sleep 0.1
	done
	kill "$cpid" 2>/dev/null
	wait "$cpid"
	crc=$?
	if [ $crc -eq 0 ] && [ ! -e "$run_dir/m.pid" ] && [ ! -e "$run_dir/s.sock" ]; then
		ok "clean stop: exit 0, pid file and socket removed"
	else
		not_ok "clean stop: exit $crc, left: $(ls "$run_dir")"
		sed 's/^/    /' "$tmp/clean.err"
	fi
	if grep -q "warning: only 256 open files allowed (ulimit -n)" "$tmp/clean.err"; then
		ok "a low limit of open files is said at start"
	else
		not_ok "a low limit of open files is said at start"
		sed 's/^/    /' "$tmp/clean.err"
	fi
	expect "-u root: named on purpose, it runs, with a warning" 0 \
		"warning: running as root because user = \"root\"" \
		timeout --preserve-status -s TERM 2 "$bin" -f -u root -c "$cases/negotiate.conf" \
		-p "unix:$run_dir/r.sock"
fi
# wait_log FILE TEXT N: wait (at most $T s) until FILE has N lines with
# TEXT.
wait_log() {
	for _ in $(seq $((T * 10))); do
		[ "$(grep -cF -- "$2" "$1")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# A second milter on a socket the first one listens on refuses to start
# (libmilter would take the socket over and leave the first one deaf).
if start "$cases/negotiate.conf" "$tmp/first.log"; then
	expect "socket: a second milter on a listening socket refuses" 69 \
		"cannot open socket unix:$sock: another milter is listening on $sock" \
		timeout 5 "$bin" "${as_user[@]}" -f -c "$cases/negotiate.conf" \
		-p "unix:$sock"
	printf 'connect c.example.test 198.51.100.1\nhelo c.example.test\nmail <a@sender.test>\nrcpt <blocked@example.test>\nquit\n' >"$tmp/first.mt"
	if "$client" -T "$T" -s "unix:$sock" "$tmp/first.mt" | grep -q '^rcpt: replycode 550'; then
		ok "socket: the first milter still answers"
	else
		not_ok "socket: the first milter still answers"
	fi
	stop "socket: the first milter"
fi

# SIGHUP: a new config applies to new connections; a bad one is refused
# and the old one kept; SIGTERM stops the milter and removes nothing else.
cp "$cases/negotiate.conf" "$tmp/reload.conf"
printf 'connect c.example.test 198.51.100.1\nhelo c.example.test\nmail <a@sender.test>\nrcpt <blocked@example.test>\nquit\n' >"$tmp/reload.mt"
if start "$tmp/reload.conf" "$tmp/reload.log"; then
	before=$("$client" -T "$T" -s "unix:$sock" "$tmp/reload.mt" | grep '^rcpt')
	sed -i 's/550 5.1.1/550 5.7.1/' "$tmp/reload.conf"
	kill -HUP "$pid"
	wait_log "$tmp/reload.log" "SIGHUP: reloading" 1
	wait_log "$tmp/reload.log" "rules; new connections use it" 1
	after=$("$client" -T "$T" -s "unix:$sock" "$tmp/reload.mt" | grep '^rcpt')
	# the rule's counter outlives the reload: one hit before, one after
	kill -USR1 "$pid"
	wait_log "$tmp/reload.log" "counter: rule=rcpt-only " 1
	counted=$(grep -o 'counter: rule=rcpt-only .*' "$tmp/reload.log" | tail -1)
	echo 'rule "broken" { stage = nowhere }' >>"$tmp/reload.conf"
	kill -HUP "$pid"
	wait_log "$tmp/reload.log" "keeping the policy in force" 1
	kept=$("$client" -T "$T" -s "unix:$sock" "$tmp/reload.mt" | grep '^rcpt')
	kill -0 "$pid" 2>/dev/null && alive=yes || alive=no
	stop reload
	[[ "$before" == *"550 5.1.1"* ]] && ok "reload: first policy" ||
		not_ok "reload: first policy: got $before"
	[[ "$after" == *"550 5.7.1"* ]] && ok "reload: SIGHUP applies the new policy" ||
		not_ok "reload: SIGHUP applies the new policy: got $after"
	[[ "$kept" == *"550 5.7.1"* && $alive == yes ]] &&
		ok "reload: a bad config keeps the old policy" ||
		not_ok "reload: a bad config keeps the old policy: got $kept, alive $alive"
	grep -q "keeping the policy in force" "$tmp/reload.log" &&
		ok "reload: the failed reload is logged" ||
		not_ok "reload: the failed reload is logged"
	[[ "$counted" == *" hits=2" ]] &&
		ok "reload: counters survive it (SIGUSR1: $counted)" ||
		not_ok "reload: counters survive it: got \"$counted\", want hits=2"
	! grep -q "takes effect at the next start" "$tmp/reload.log" &&
		ok "reload: no setting changed, none reported" ||
		not_ok "reload: no setting changed, none reported: $(grep 'next start' "$tmp/reload.log")"
else
	not_ok "reload: milter starts"
fi

# SIGHUP: settings read once at start (timeout, socket_mode, ...) do not
# change on reload; each one the new file changes is logged, with the
# value the milter keeps, and the new policy still applies.
{
	printf 'timeout = 30\nsocket_mode = "0660"\n'
	cat "$cases/negotiate.conf"
} >"$tmp/settings.conf"
if start "$tmp/settings.conf" "$tmp/settings.log"; then
	mode_before=$(stat -c %a "$sock")
	sed -i 's/^timeout = 30$/timeout = 120/; s/^socket_mode = "0660"$/socket_mode = "0600"/; s/550 5.1.1/550 5.7.1/' \
		"$tmp/settings.conf"
	kill -HUP "$pid"
	wait_log "$tmp/settings.log" "rules; new connections use it" 1
	after=$("$client" -T "$T" -s "unix:$sock" "$tmp/reload.mt" | grep '^rcpt')
	mode_after=$(stat -c %a "$sock")
	stop "reload settings"
	for want in \
		"reload: timeout changed from \"30\" to \"120\" in $tmp/settings.conf: it takes effect at the next start; until then the milter keeps \"30\"" \
		"reload: socket_mode changed from \"0660\" to \"0600\" in $tmp/settings.conf: it takes effect at the next start; until then the milter keeps \"0660\""; do
		grep -qF -- "$want" "$tmp/settings.log" &&
			ok "reload settings: logged: ${want%% in *}" ||
			not_ok "reload settings: logged: $want; log: $(grep 'reload' "$tmp/settings.log")"
	done
	[ "$(grep -c 'takes effect at the next start' "$tmp/settings.log")" -eq 2 ] &&
		ok "reload settings: only the changed settings are logged" ||
		not_ok "reload settings: only the changed settings are logged: $(grep 'next start' "$tmp/settings.log")"
	[[ "$after" == *"550 5.7.1"* ]] &&
		ok "reload settings: the new policy applies" ||
		not_ok "reload settings: the new policy applies: got $after"
	[ "$mode_before" = 660 ] && [ "$mode_after" = 660 ] &&
		ok "reload settings: the socket keeps its mode" ||
		not_ok "reload settings: the socket keeps its mode: $mode_before, then $mode_after"
else
	not_ok "reload settings: milter starts"
fi

# A burst of SIGHUPs while a slow reload runs (a list of 300,000
# addresses) must reload, never stop the milter.
awk 'BEGIN { for (i = 0; i < 300000; i++)
	printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
	>"$tmp/many.list"
printf 'rule "many" {\n\tstage = connect\n\tclient_address = { "file:%s" }\n\tverdict = reject\n\treply = "554 5.7.1"\n}\n' \
	"$tmp/many.list" >"$tmp/many.conf"
if start "$tmp/many.conf" "$tmp/many.log"; then
	for _ in $(seq 40); do
		kill -HUP "$pid"
		sleep 0.02
	done
	# A reload must have ended; then libmilter, which takes up to 5 s to
	# notice a stop request, gets 6 s to show that it was asked none.
	wait_log "$tmp/many.log" "reloaded $tmp/many.conf" 1
	sleep 6
	if kill -0 "$pid" 2>/dev/null &&
		grep -q "reloaded $tmp/many.conf" "$tmp/many.log" &&
		! grep -q "stopping" "$tmp/many.log"; then
		ok "40 SIGHUPs during slow reloads: still running, reloaded"
	else
		not_ok "40 SIGHUPs during slow reloads: still running, reloaded"
		sed 's/^/    log: /' "$tmp/many.log" | tail -5
	fi
	stop "40 SIGHUPs"
else
	not_ok "slow reload config starts"
fi

# State kept between sessions, on LMDB in the temp folder: a rate limit
# of 2 recipients a minute per sender trips at the 3rd within a session
# and goes on counting in the next one; a greylisted triplet is refused
# with the time left, then taken in a later session after the delay.
mkdir "$tmp/state"
cat >"$tmp/state.conf" <<EOF
state = "$tmp/state"
rule "rcpts" {
	stage = rcpt
	sender = { "bulk@sender.test" }
	rate_limit = 2
	rate_window = "1m"
	rate_key = "sender"
	rate_event = "recipients"
	verdict = tempfail
	reply = "450 4.7.1"
	text = "Too many recipients from \$sender"
}
rule "grey" {
	stage = rcpt
	not_sender = { "bulk@sender.test" }
	greylist = true
	greylist_delay = "1s"
	verdict = tempfail
	reply = "450 4.2.0"
	text = "Greylisted, try again in \$retry_in"
}
EOF
printf 'connect c.example.test 198.51.100.1\nhelo c.example.test\nmail <bulk@sender.test>\nrcpt <a@example.test>\nrcpt <b@example.test>\nrcpt <c@example.test>\nquit\n' >"$tmp/rate.mt"
printf 'connect c.example.test 198.51.100.1\nhelo c.example.test\nmail <one@sender.test>\nrcpt <a@example.test>\nquit\n' >"$tmp/grey.mt"
if start "$tmp/state.conf" "$tmp/state.log"; then
	got=$("$client" -T "$T" -s "unix:$sock" "$tmp/rate.mt" | grep '^rcpt' |
		tr '\n' '|')
	want='rcpt: continue|rcpt: continue|rcpt: replycode 450 4.7.1 Too many recipients from <bulk@sender.test>|'
	[ "$got" = "$want" ] && ok "state: a rate limit of 2 recipients trips at the 3rd" ||
		not_ok "state: a rate limit of 2 recipients trips at the 3rd: got $got"
	got=$("$client" -T "$T" -s "unix:$sock" "$tmp/rate.mt" | grep -c '^rcpt: replycode 450 4.7.1')
	[ "$got" = 3 ] && ok "state: the count goes on in the next session" ||
		not_ok "state: the count goes on in the next session: $got refused, want 3"
	got=$("$client" -T "$T" -s "unix:$sock" "$tmp/grey.mt" | grep '^rcpt')
	[ "$got" = "rcpt: replycode 450 4.2.0 Greylisted, try again in 1s" ] &&
		ok "state: greylisted, with the time left" ||
		not_ok "state: greylisted, with the time left: got $got"
	sleep 1.1
	got=$("$client" -T "$T" -s "unix:$sock" "$tmp/grey.mt" | grep '^rcpt')
	[ "$got" = "rcpt: continue" ] &&
		ok "state: taken after the delay" ||
		not_ok "state: taken after the delay: got $got"
	stop state
	[ -f "$tmp/state/data.mdb" ] && ok "state: the LMDB file is in the state folder" ||
		not_ok "state: the LMDB file is in the state folder: $(ls "$tmp/state")"
else
	not_ok "state: milter starts"
fi
# A reload that brings the first stateful rule opens the store then.
mkdir "$tmp/state2"
{
	echo "state = \"$tmp/state2\""
	cat "$cases/negotiate.conf"
} >"$tmp/state2.conf"
if start "$tmp/state2.conf" "$tmp/state2.log"; then
	sed -n '/^rule "grey"/,/^}/p' "$tmp/state.conf" >>"$tmp/state2.conf"
	kill -HUP "$pid"
	wait_log "$tmp/state2.log" "rules; new connections use it" 1
	got=$("$client" -T "$T" -s "unix:$sock" "$tmp/grey.mt" | grep '^rcpt')
	stop "state on reload"
	grep -qF "state: lmdb store $tmp/state2" "$tmp/state2.log" &&
		[ "$got" = "rcpt: replycode 450 4.2.0 Greylisted, try again in 1s" ] &&
		ok "state: a reload with the first greylist rule opens the store" ||
		not_ok "state: a reload with the first greylist rule opens the store: got $got; $(grep state "$tmp/state2.log")"
else
	not_ok "state on reload: milter starts"
fi
# A state folder that cannot be opened stops the milter at start.
sed "s|^state = .*|state = \"$tmp/no-such-folder\"|" "$tmp/state.conf" >"$tmp/nostate.conf"
expect "state: a missing state folder stops the milter (73), saying why" 73 \
	"state $tmp/no-such-folder: $tmp/no-such-folder: No such file or directory \\(rate limits and greylisting keep their state there" \
	timeout 10 "$bin" "${as_user[@]}" -f -c "$tmp/nostate.conf" -p "unix:$tmp/ns.sock"

# stats_file, promtool, the Grafana dashboard's metric names
. tests/proto/metrics.sh

echo "proto: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
