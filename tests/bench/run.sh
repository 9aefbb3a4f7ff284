#!/bin/bash
# run.sh - measure replycode-milter (make bench): through a private Postfix
# with smtp-source, at the protocol level with mtclient on a unix socket, and
# with one-million-entry lists. Prints each result with the command that
# produced it and a summary table.
#
# Timings are measured and printed, never compared with a limit: the
# machine may be shared and noisy. Exits non-zero only when something did
# not run: a server did not start, a message was lost, a session failed.
#
# Must never: listen beyond 127.0.0.1, touch /etc/postfix or the system's
# queues, write results into the source tree, or leave a process behind
# (everything is started through tests/e2e/lib.sh, recorded by pid and
# stopped at exit). Needs root (a private Postfix) and ./replycode-milter
# and tests/proto/mtclient built; about two minutes.
#
# Usage: tests/bench/run.sh   (from make bench)
#   BENCH_MESSAGES (2000), BENCH_SESSIONS (20000), BENCH_ENTRIES (1000000)
#   make smaller runs for trying the script out.

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../e2e/lib.sh
. "$root/tests/e2e/lib.sh"

bin=$root/replycode-milter
client=$root/tests/proto/mtclient
policy35=$here/policy-35.conf
events=$here/policy-events.conf
session=$here/session.mt
msgs=${BENCH_MESSAGES:-2000}
sessions=${BENCH_SESSIONS:-20000}
entries=${BENCH_ENTRIES:-1000000}
warm_msgs=$((msgs / 20))
warm_sessions=$((sessions / 20))
tick=$(getconf CLK_TCK)

e2e_need_root
e2e_tmpdir
[ -x "$bin" ] || e2e_die "no $bin: run make"
[ -x "$client" ] || e2e_die "no $client: run make tests/proto/mtclient"
command -v smtp-source >/dev/null || e2e_die "no smtp-source (postfix)"
empty=$E2E_DIR/empty.conf
echo "# no rules: the milter asks only for connect and end of message" >"$empty"

# ---------------------------------------------------------------- helpers

now() {
	echo "$EPOCHREALTIME"
}

# calc EXPR: floating point arithmetic, printed as awk's printf wants.
calc() {
	awk "BEGIN { printf $1 }"
}

# cpu_s PID: user + system CPU seconds the process used so far.
cpu_s() {
	calc "\"%.2f\", $(proc_cpu_ticks "$1") / $tick"
}

# mem_mib PID FIELD: VmHWM or VmRSS of the process in MiB.
mem_mib() {
	awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' \
		"/proc/$1/status" 2>/dev/null
}

# say TEXT: a report line.
say() {
	printf '%s\n' "$*"
}

# cmd ARGS: print the command a result comes from.
cmd() {
	printf '  $ %s\n' "$*"
}

# Summary rows: name, time, rate, RSS, CPU.
rows=()
row() {
	rows+=("$(printf '%-36s %17s %14s %10s %8s' "$@")")
}

sink_count() {
	find "$SINK_DIR" -type f 2>/dev/null | wc -l
}

# start_milter NAME CONF SOCKET: the milter in the foreground; sets
# MILTER_PID (lib.sh: recorded and stopped at exit).
start_milter() {
	milter_start "$3" "$bin" "${MILTER_AS[@]}" -f -c "$2" -p "$3" ||
		e2e_die "$1: the milter did not start on $3"
	cmd "$bin -f -c $2 -p $3"
}

# ---------------------------------------------------------------- Postfix

# source_run LABEL COUNT SESSIONS: smtp-source into the private Postfix,
# then wait until the sink has every message. Sets SRC_S (smtp-source's
# wall time) and ALL_S (until the last message reached the sink). 1 when
# something was lost or failed.
source_run() {
	local label=$1 n=$2 s=$3 base want t0 t1 t2="" c rc=0 i
	base=$(sink_count)
	want=$((base + n))
	t0=$(now)
	timeout -k 5 180 smtp-source -s "$s" -m "$n" -l 2048 \
		-f a@sender.test -t ok@example.test "127.0.0.1:$POSTFIX_PORT" \
		>"$E2E_DIR/source.log" 2>&1 || rc=$?
	t1=$(now)
	for ((i = 0; i < 2400; i++)); do
		c=$(sink_count)
		if [ "$c" -ge "$want" ]; then
			t2=$(now)
			break
		fi
		sleep 0.05
	done
	postfix_wait_idle 10
	sleep 0.5
	c=$(($(sink_count) - base))
	SRC_S=$(calc "\"%.2f\", $t1 - $t0")
	ALL_S=""
	[ -n "$t2" ] && ALL_S=$(calc "\"%.2f\", $t2 - $t0")
	if [ "$rc" -ne 0 ]; then
		e2e_diag "$label: smtp-source exited $rc:"
		_e2e_show "$E2E_DIR/source.log"
	fi
	assert_eq "$label: the sink got all $n messages" "$c" "$n" &&
		[ "$rc" -eq 0 ] && [ -n "$ALL_S" ]
}

# measure LABEL: one warm-up run, then the measured one, printed.
measure() {
	local label=$1
	source_run "$label (warm-up)" "$warm_msgs" 10 ||
		e2e_die "$label: warm-up run lost messages"
	cmd "smtp-source -s 20 -m $msgs -l 2048 -f a@sender.test" \
		"-t ok@example.test 127.0.0.1:$POSTFIX_PORT"
	if ! source_run "$label" "$msgs" 20; then
		say "  $label: FAILED"
		return 1
	fi
	say "  $label: smtp-source done in $SRC_S s;" \
		"all $msgs in the sink after $ALL_S s" \
		"= $(calc "\"%.0f\", $msgs / $ALL_S") msg/s"
}

# milters_to SOCKET: point the running Postfix at SOCKET ("" for none) and
# reload; the warm-up run that follows replaces its smtpd processes.
milters_to() {
	if ! postconf -c "$POSTFIX_DIR/etc" -e "smtpd_milters = $1" \
		>>"$POSTFIX_DIR/start.log" 2>&1 ||
		! postfix -c "$POSTFIX_DIR/etc" reload \
			>>"$POSTFIX_DIR/start.log" 2>&1 </dev/null; then
		e2e_die "postfix reload with smtpd_milters = $1 failed"
	fi
	cmd "postconf -c $POSTFIX_DIR/etc -e 'smtpd_milters = $1'" \
		"&& postfix -c $POSTFIX_DIR/etc reload"
	sleep 1
}

# probe_milter DESC REGEX: a message whose Subject policy-35 refuses; the
# reply lines must match REGEX (proves the milter is in the path or not).
# An accepted probe is waited for in the sink, so it never counts in a run.
probe_milter() {
	local base
	base=$(sink_count)
	smtp_dialogue "$POSTFIX_PORT" --from a@sender.test \
		--to ok@example.test --header "Subject: free money" \
		>"$E2E_DIR/probe.out"
	reply_lines "$E2E_DIR/probe.out" >"$E2E_DIR/probe.r"
	assert_contains "$1" "$E2E_DIR/probe.r" "$2" || return 1
	if grep -q "^250 2.0.0 Ok: queued" "$E2E_DIR/probe.r"; then
		sink_wait_count $((base + 1)) 20 ||
			e2e_die "$1: the probe message never reached the sink"
	fi
	postfix_wait_idle 10
}

bench_postfix() {
	local p35 pe cpu0 cpu1 t_none t_35 t_ev s_none s_35 s_ev

	say ""
	say "== 2. Through Postfix $(postconf -d -h mail_version):" \
		"$msgs messages of 2 KiB in 20 sessions (smtp-source)," \
		"smtp-sink as next hop, milter on inet loopback"
	p35=$(free_port) || e2e_die "no free port"
	start_milter "policy-35" "$policy35" "inet:$p35@127.0.0.1"
	local pid35=$MILTER_PID
	pe=$(free_port) || e2e_die "no free port"
	start_milter "empty policy" "$empty" "inet:$pe@127.0.0.1"
	local pide=$MILTER_PID
	postfix_start "" || e2e_die "postfix does not start"
	cmd "postfix -c $POSTFIX_DIR/etc start  (smtpd_milters empty)"

	say " (i) no milter"
	probe_milter "(i) no milter in the path" "^250 2.0.0 Ok: queued"
	measure "(i) no milter" || return
	t_none=$ALL_S
	s_none=$SRC_S
	row "Postfix, no milter" "$SRC_S / $ALL_S s" \
		"$(calc "\"%.0f msg/s\", $msgs / $ALL_S")" "-" "-"

	say " (ii) replycode-milter, policy-35.conf"
	milters_to "inet:127.0.0.1:$p35"
	probe_milter "(ii) policy-35 milter in the path" \
		"^550 5.7.1 Header rejected by policy"
	cpu0=$(cpu_s "$pid35")
	measure "(ii) policy-35" || return
	t_35=$ALL_S
	s_35=$SRC_S
	cpu1=$(cpu_s "$pid35")
	say "  (ii) milter: peak RSS $(mem_mib "$pid35" VmHWM) MiB," \
		"CPU $(calc "\"%.2f\", $cpu1 - $cpu0") s for these $msgs" \
		"($cpu1 s since start; /proc/$pid35/stat utime+stime)"
	say "  ratio (ii)/(i): $(calc "\"%.2f\", $t_35 / $t_none") until all" \
		"delivered, $(calc "\"%.2f\", $s_35 / $s_none") for smtp-source"
	row "Postfix + milter, policy-35" "$SRC_S / $ALL_S s" \
		"$(calc "\"%.0f msg/s\", $msgs / $ALL_S")" \
		"$(mem_mib "$pid35" VmHWM) MiB" \
		"$(calc "\"%.2f s\", $cpu1 - $cpu0")"

	say " (iii) replycode-milter, empty policy (connect and end of" \
		"message only: the cost of a milter that does nothing)"
	milters_to "inet:127.0.0.1:$pe"
	probe_milter "(iii) policy-35 no longer in the path" \
		"^250 2.0.0 Ok: queued"
	cpu0=$(cpu_s "$pide")
	measure "(iii) empty policy" || return
	t_ev=$ALL_S
	s_ev=$SRC_S
	cpu1=$(cpu_s "$pide")
	say "  (iii) milter: peak RSS $(mem_mib "$pide" VmHWM) MiB," \
		"CPU $(calc "\"%.2f\", $cpu1 - $cpu0") s for these $msgs"
	say "  ratio (iii)/(i): $(calc "\"%.2f\", $t_ev / $t_none")" \
		"delivered, $(calc "\"%.2f\", $s_ev / $s_none") smtp-source;" \
		"(ii)/(iii): $(calc "\"%.2f\", $t_35 / $t_ev") delivered," \
		"$(calc "\"%.2f\", $s_35 / $s_ev") smtp-source"
	row "Postfix + milter, empty policy" "$SRC_S / $ALL_S s" \
		"$(calc "\"%.0f msg/s\", $msgs / $ALL_S")" \
		"$(mem_mib "$pide" VmHWM) MiB" \
		"$(calc "\"%.2f s\", $cpu1 - $cpu0")"
	row "  ratio policy-35 / no milter" \
		"$(calc "\"%.2f / %.2f\", $s_35 / $s_none, $t_35 / $t_none")" \
		"" "" ""
	postfix_stop
	milter_stop "$pid35"
	milter_stop "$pide"
}

# ---------------------------------------------------------------- mtclient

# mt_run LABEL SOCKET N: mtclient load mode; sets MT_RATE (sessions/s).
mt_run() {
	local out ok failed el
	cmd "$client -s $2 -q -n $3 -j 4 $session"
	out=$(timeout -k 5 300 "$client" -s "$2" -q -n "$3" -j 4 "$session" \
		2>"$E2E_DIR/mt.err" | tail -n 1)
	ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")
	failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$out")
	el=$(sed -n 's/.* elapsed=\([0-9.]*\)s.*/\1/p' <<<"$out")
	MT_RATE=""
	say "  $1: $out"
	if ! assert_eq "$1: all $3 sessions ran" "${ok:-0}/${failed:-?}" \
		"$3/0" || [ -z "$el" ]; then
		_e2e_show "$E2E_DIR/mt.err"
		return 1
	fi
	MT_RATE=$(calc "\"%.0f\", $3 / $el")
	return 0
}

# mt_bench LABEL CONF: start, warm up, measure, report, stop.
mt_bench() {
	local sock cpu0 cpu1 pid
	mt_n=$((${mt_n:-0} + 1))
	sock=unix:$E2E_DIR/mt$mt_n.sock
	start_milter "$1" "$2" "$sock"
	pid=$MILTER_PID
	timeout -k 5 60 "$client" -s "$sock" -q -n "$warm_sessions" -j 4 \
		"$session" >/dev/null 2>&1 || e2e_die "$1: warm-up failed"
	cpu0=$(cpu_s "$pid")
	if mt_run "$1" "$sock" "$sessions"; then
		cpu1=$(cpu_s "$pid")
		say "  $1: $MT_RATE sessions/s; milter peak RSS" \
			"$(mem_mib "$pid" VmHWM) MiB, CPU" \
			"$(calc "\"%.2f\", $cpu1 - $cpu0") s" \
			"($(calc "\"%.0f\", ($cpu1 - $cpu0) * 1000000 / $sessions")" \
			"us a session)"
		row "mtclient, ${2##*/}" "" "$MT_RATE sess/s" \
			"$(mem_mib "$pid" VmHWM) MiB" \
			"$(calc "\"%.2f s\", $cpu1 - $cpu0")"
	fi
	milter_stop "$pid"
}

bench_protocol() {
	local r_empty r_ev r_35
	say ""
	say "== 3. Protocol level: mtclient, $sessions sessions, 4 at once," \
		"unix socket; one session = connect, helo, mail, rcpt, data," \
		"10 headers, eoh, 2 KiB body, eom (tests/bench/session.mt)"
	mt_bench "empty policy" "$empty"
	r_empty=$MT_RATE
	mt_bench "policy-events.conf" "$events"
	r_ev=$MT_RATE
	mt_bench "policy-35.conf" "$policy35"
	r_35=$MT_RATE
	if [ -n "$r_empty" ] && [ -n "$r_35" ] && [ -n "$r_ev" ]; then
		say "  ratio policy-35 / empty (sessions/s):" \
			"$(calc "\"%.2f\", $r_35 / $r_empty");" \
			"policy-35 / policy-events: $(calc "\"%.2f\", $r_35 / $r_ev")"
		row "  ratio policy-35 / empty.conf" "" \
			"$(calc "\"%.2f\", $r_35 / $r_empty")" "" ""
	fi
}

# ---------------------------------------------------------------- big lists

bench_lists() {
	local d=$E2E_DIR/big sock t0 t1 i pid up="" net
	mkdir -p "$d"
	say ""
	say "== 4. Scale: one client_address list and one sender list of" \
		"$entries entries each (files)"
	t0=$(now)
	if ! awk -v n="$entries" 'BEGIN {
		srand(42)
		for (i = 0; i < n; i++) {
			a = 11 + int(rand() * 116)
			b = int(rand() * 256)
			c = int(rand() * 256)
			if (i % 2)
				print a "." b "." c "." int(rand() * 256)
			else
				print a "." b "." c ".0/24"
		}
	}' >"$d/nets.txt" || ! awk -v n="$entries" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "user%d@d%d.example\n", i, i % 10007
	}' >"$d/senders.txt"; then
		e2e_die "cannot write the list files"
	fi
	t1=$(now)
	say "  generated nets.txt ($(wc -l <"$d/nets.txt") lines, half /32" \
		"half /24, in 11.0.0.0-126.255.255.255) and senders.txt" \
		"($(wc -l <"$d/senders.txt") lines) in" \
		"$(calc "\"%.2f\", $t1 - $t0") s"
	cat >"$d/big.conf" <<'EOF'
list "nets" {
	type = address
	file = "nets.txt"
}
list "senders" {
	type = email
	file = "senders.txt"
}
rule "listed-client" {
	stage = connect
	client_address = { "list:nets" }
	verdict = reject
	reply = "550 5.7.1"
}
rule "listed-sender" {
	stage = mail
	sender = { "list:senders" }
	verdict = reject
	reply = "550 5.7.1"
}
hold_early_verdicts = true
EOF
	sock=unix:$d/big.sock
	# Not milter_start: loading may take longer than its 10 s. Up means
	# a negotiation with mtclient succeeds.
	cmd "$bin -f -c $d/big.conf -p $sock"
	t0=$(now)
	_e2e_spawn "$d/milter.log" "$bin" "${MILTER_AS[@]}" -f -c "$d/big.conf" -p "$sock"
	pid=$!
	_e2e_record pid "$pid"
	for ((i = 0; i < 6000; i++)); do
		if [ -S "${sock#unix:}" ] && echo quit |
			"$client" -s "$sock" -T 2 -q >/dev/null 2>&1; then
			up=$(now)
			break
		fi
		_e2e_alive "$pid" || break
		sleep 0.02
	done
	if [ -z "$up" ]; then
		_e2e_show "$d/milter.log"
		e2e_die "the milter with $entries-entry lists did not start"
	fi
	say "  start-up until the socket answers: $(calc "\"%.2f\", $up - $t0") s;" \
		"RSS $(mem_mib "$pid" VmRSS) MiB, peak $(mem_mib "$pid" VmHWM) MiB"
	# Prove the lists are loaded: a client in a listed /24 (its verdict
	# held until RCPT), then a listed sender from an unlisted client.
	net=$(head -n 1 "$d/nets.txt")
	printf '%s\n' "connect x.test ${net%0/24}7" "helo x.test" \
		"mail <a@sender.test>" "rcpt <ok@example.test>" >"$d/probe1.mt"
	printf '%s\n' "connect x.test 127.0.0.1" "helo x.test" \
		"mail <$(head -n 1 "$d/senders.txt")>" >"$d/probe2.mt"
	"$client" -s "$sock" "$d/probe1.mt" >"$d/probe1.out" 2>&1
	"$client" -s "$sock" "$d/probe2.mt" >"$d/probe2.out" 2>&1
	assert_contains "listed client ${net%0/24}7 refused" "$d/probe1.out" \
		"^rcpt: replycode 550 5.7.1"
	assert_contains "listed sender refused" "$d/probe2.out" \
		"^mail: replycode 550 5.7.1"
	if mt_run "big lists" "$sock" "$sessions"; then
		say "  big lists: $MT_RATE sessions/s (events: connect, mail," \
			"rcpt, eom: compare with the empty policy); RSS" \
			"$(mem_mib "$pid" VmRSS) MiB, peak $(mem_mib "$pid" VmHWM) MiB"
		row "mtclient, lists of 2 x $entries" \
			"up $(calc "\"%.2f s\", $up - $t0")" "$MT_RATE sess/s" \
			"$(mem_mib "$pid" VmHWM) MiB" "-"
	fi
	milter_stop "$pid"
}

# ---------------------------------------------------------------- main

t_start=$SECONDS
say "replycode-milter benchmark: $(uname -srm), $(nproc) CPUs," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "Figures are measurements on a shared machine, not limits."

say ""
say "== 1. Policy"
cmd "$bin -t -c $policy35"
"$bin" -t -c "$policy35" >"$E2E_DIR/check.out" 2>&1
say "  $(cat "$E2E_DIR/check.out")"
assert_contains "policy-35.conf loads with no warning" "$E2E_DIR/check.out" \
	": OK: [0-9]+ rules, 0 warnings$" || e2e_die "policy-35.conf is broken"

bench_postfix
bench_protocol
bench_lists

say ""
say "== Summary ($((SECONDS - t_start)) s, load average now" \
	"$(cut -d' ' -f1-3 /proc/loadavg)); Postfix time: smtp-source done" \
	"/ all delivered, rate from the latter"
printf '%-36s %17s %14s %10s %8s\n' "run" "time" "rate" "peak RSS" "CPU"
for r in "${rows[@]}"; do
	say "$r"
done
say ""
e2e_finish
