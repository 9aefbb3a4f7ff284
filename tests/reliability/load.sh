#!/usr/bin/env bash
# load.sh - the milter under load at the protocol level: LOAD_ROUNDS rounds
# (5), each of LOAD_MESSAGES messages (20,000) in LOAD_SESSIONS sessions
# (8,000), LOAD_PARALLEL (200) at once, from mtclient on a unix socket in a
# temporary folder, under load.conf (reject, tempfail, accept and continue
# rules).
#
# The traffic comes from gen-load.awk (fixed seed): 200 session scripts,
# used in turn, and the number of each kind of reply line that load.conf
# must give for them. Each round must give exactly those numbers (times the
# passes over the scripts), no other reply, no failed session. While a
# round runs, /proc/PID/fd and /proc/PID/status are sampled (peak open
# files and threads: the proof that LOAD_PARALLEL sessions were open at
# once). After each round the milter's threads and open files must come
# back to their idle level (measured after start-up, before any session)
# within 10 s.
#
# Memory: after each round VmRSS is read, then the milter gets a SIGHUP: it
# reloads the same load.conf and calls malloc_trim(0), and VmRSS is read
# again. Flat means: the trimmed VmRSS after the last round is at most
# LOAD_RSS_SLACK_KIB (256 KiB) above the one after round 2, and so is
# every one in between: over the 60,000 messages and 24,000 sessions of
# rounds 3 to 5 that is under 5 octets a message, under 11 a session; a
# leak of one allocation a session (malloc's least chunk is 32 octets)
# fails it. Round 1 is the warm-up. The milter runs with
# MALLOC_ARENA_MAX=1 (LOAD_ARENA_MAX; empty: glibc's default, 8 arenas a
# core): each arena keeps its own padding and scattered free pages, which
# made the trimmed VmRSS wander between 6.0 and 9.8 MiB from round to
# round with no trend, a band that would hide a leak of 200 octets a
# message; with one arena it stays within about 150 KiB. The untrimmed
# figures are printed as well.
#
# MILTER_BIN runs another build (tests/reliability/sanitizers.sh gives the
# sanitizer build one round).
#
# Prints the figures and "N passed, N failed"; exits non-zero on a failure.
# Listens on nothing but a unix socket in its own folder; the milter is
# started and stopped by pid (tests/e2e/lib.sh), also on failure.

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../e2e/lib.sh
. "$root/tests/e2e/lib.sh"

bin=${MILTER_BIN:-$root/replycode-milter}
client=$root/tests/proto/mtclient
rounds=${LOAD_ROUNDS:-5}
messages=${LOAD_MESSAGES:-20000}
sessions=${LOAD_SESSIONS:-8000}
parallel=${LOAD_PARALLEL:-200}
slack=${LOAD_RSS_SLACK_KIB:-256}
arenas=${LOAD_ARENA_MAX-1}
nscripts=200

e2e_tmpdir
[ -x "$bin" ] || e2e_die "no $bin: run make"
[ -x "$client" ] || e2e_die "no $client: run make tests/proto/mtclient"
# One pass over the scripts holds messages * nscripts / sessions messages.
per_pass=$((messages * nscripts / sessions))
if [ $((sessions % nscripts)) -ne 0 ] ||
	[ $((per_pass * sessions)) -ne $((messages * nscripts)) ]; then
	e2e_die "LOAD_SESSIONS must be a multiple of $nscripts holding LOAD_MESSAGES exactly"
fi
passes=$((sessions / nscripts))
gen=$E2E_DIR/traffic
mkdir -p "$gen"
awk -v dir="$gen" -v nscripts="$nscripts" -v nmsg="$per_pass" -v seed=42 \
	-f "$here/gen-load.awk" || e2e_die "gen-load.awk failed"
assert_contains "gen-load.awk: $per_pass messages in $nscripts scripts" \
	"$gen/expect" "^messages $per_pass\$" || e2e_finish

# want KEY: the count KEY for a whole round.
want() {
	echo $(($(awk -v k="$1" '$1 == k { print $2 }' "$gen/expect") * passes))
}

proc_threads() {
	awk '$1 == "Threads:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

proc_fds() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

proc_rss() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# sample PID FILE: every 20 ms "fds threads" of PID into FILE, until
# killed (by pid, at the end of the round).
sample() {
	while :; do
		echo "$(proc_fds "$1") $(proc_threads "$1")"
		sleep 0.02
	done >"$2"
}

# settle PID FDS THREADS: wait (10 s at most) until PID is back to FDS open
# files and THREADS threads; 1 if it is not.
settle() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(proc_fds "$1")" -le "$2" ] &&
			[ "$(proc_threads "$1")" -le "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

sock=unix:$E2E_DIR/load.sock
"$bin" -t -c "$here/load.conf" >"$E2E_DIR/check.out" 2>&1
assert_contains "load.conf loads under strict" "$E2E_DIR/check.out" \
	": OK: 8 rules, 0 warnings"
env=()
[ -n "$arenas" ] && env=(env "MALLOC_ARENA_MAX=$arenas")
milter_start "$sock" "${env[@]}" "$bin" "${MILTER_AS[@]}" -f -c "$here/load.conf" \
	-p "$sock" ||
	e2e_die "the milter does not start"
pid=$MILTER_PID
sleep 0.5
idle_fds=$(proc_fds "$pid")
idle_threads=$(proc_threads "$pid")
e2e_diag "idle after start-up: $idle_fds open files, $idle_threads threads," \
	"VmRSS $(proc_rss "$pid") KiB"

classes=(connect_reject mail_tempfail mail_accept rcpt_reject
	header_tempfail body_reject eom_continue eom_addheader)
declare -A line_re=(
	[connect_reject]='^connect: replycode 554 5\.7\.1 Connections from 203\.0\.113\.[0-9]+ refused$'
	[mail_tempfail]='^mail: replycode 451 4\.7\.1 Greylisted, try again later$'
	[mail_accept]='^mail: accept$'
	[rcpt_reject]='^rcpt: replycode 550 5\.1\.1 No such user <blocked-[0-9]+@example\.test>$'
	[header_tempfail]='^eom: replycode 451 4\.7\.1 Try again later$'
	[body_reject]='^eom: replycode 554 5\.7\.1 Message content rejected$'
	[eom_continue]='^eom: continue$'
	[eom_addheader]='^eom: addheader X-Load-(Rcpt: <ok[0-9]+@example\.test>|Net: 198\.51\.100\.[0-9]+)$'
)
# Every line a session may print: the classes above and the lines that
# carry no verdict.
ordinary='^(negotiate: .*|(connect|mail|rcpt|header|body): continue'
ordinary+='|(header|eoh|body): \(no reply expected\)'
ordinary+='|(helo|data|eoh): \(not sent: milter asked for no (helo|data|eoh)\)'
ordinary+='|abort: sent|quit: sent|sessions=.*)$'

raw=()
rss=()
peak_fds=0
peak_threads=0
t0=$SECONDS
for ((r = 1; r <= rounds; r++)); do
	out=$E2E_DIR/round$r.out
	sample "$pid" "$E2E_DIR/sample$r" &
	sampler=$!
	_e2e_record pid "$sampler"
	ts=$EPOCHREALTIME
	timeout -k 5 300 "$client" -T 30 -s "$sock" -n "$sessions" \
		-j "$parallel" "$gen"/s*.mt >"$out" 2>"$E2E_DIR/round$r.err"
	rc=$?
	te=$EPOCHREALTIME
	_e2e_stop_pids 2 "$sampler"
	_e2e_forget pid "$sampler"
	summary=$(tail -n 1 "$out")
	e2e_diag "round $r: $summary"
	assert_match "round $r: $sessions sessions, all ran" "$summary" \
		"^sessions=$sessions ok=$sessions failed=0 " ||
		_e2e_show "$E2E_DIR/round$r.err"
	assert_eq "round $r: mtclient exit status" "$rc" 0
	got_line=""
	want_line=""
	for c in "${classes[@]}"; do
		got_line+=" $c=$(grep -c -E -- "${line_re[$c]}" "$out")"
		want_line+=" $c=$(want "$c")"
	done
	assert_eq "round $r: each kind of reply exactly as load.conf gives it" \
		"$got_line" "$want_line"
	all_re=$(printf '%s|' "${line_re[@]}")
	grep -v -E -- "${all_re%|}" "$out" | grep -v -E -- "$ordinary" \
		>"$E2E_DIR/other$r"
	assert_eq "round $r: no other reply (closed, timeout, another verdict)" \
		"$(wc -l <"$E2E_DIR/other$r")" 0 || _e2e_show "$E2E_DIR/other$r"
	pf=$(sort -n -k1,1 "$E2E_DIR/sample$r" | tail -n 1 | cut -d' ' -f1)
	pt=$(sort -n -k2,2 "$E2E_DIR/sample$r" | tail -n 1 | cut -d' ' -f2)
	[ "${pf:-0}" -gt "$peak_fds" ] && peak_fds=$pf
	[ "${pt:-0}" -gt "$peak_threads" ] && peak_threads=$pt
	if settle "$pid" "$idle_fds" "$idle_threads"; then
		_e2e_ok "round $r: back to $idle_fds open files and $idle_threads threads"
	else
		_e2e_not_ok "round $r: back to $idle_fds open files and $idle_threads threads"
		e2e_diag "now $(proc_fds "$pid") open files, $(proc_threads "$pid") threads"
	fi
	raw+=("$(proc_rss "$pid")")
	kill -HUP "$pid"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c "reloaded $here/load.conf" "$MILTER_LOG")" -ge "$r" ] &&
			break
		sleep 0.1
	done
	settle "$pid" "$idle_fds" "$idle_threads"
	rss+=("$(proc_rss "$pid")")
	e2e_diag "round $r: $(awk -v a="$ts" -v b="$te" \
		'BEGIN { printf "%.2f", b - a }') s, $(
		awk -v a="$ts" -v b="$te" -v m="$messages" \
			'BEGIN { printf "%.0f", m / (b - a) }') messages/s;" \
		"peak during the round: $pf open files, $pt threads;" \
		"after: VmRSS ${raw[-1]} KiB, ${rss[-1]} KiB after SIGHUP"
done
assert_eq "a reload (SIGHUP) after each round" \
	"$(grep -c "reloaded $here/load.conf" "$MILTER_LOG")" "$rounds"
msgs=$(want messages)
e2e_diag "per round: $msgs messages: $(want msg_reject) rejected," \
	"$(want msg_tempfail) tempfailed, $(want msg_accept) accepted," \
	"$(want msg_continue) passed by continue rules; $(want sessions)" \
	"sessions, $(want connect_reject) refused at connect"
assert_match "$parallel sessions open at once at the peak (open files)" \
	"$peak_fds" "^[0-9]+$" &&
	assert_eq "peak open files >= $parallel + idle $idle_fds" \
		"$((peak_fds >= parallel + idle_fds))" 1
e2e_diag "peak threads $peak_threads (libmilter's worker pool)"
e2e_diag "VmRSS after each round (KiB): ${raw[*]};" \
	"after its SIGHUP (malloc_trim): ${rss[*]}" \
	"(MALLOC_ARENA_MAX=${arenas:-default})"
if [ "$rounds" -ge 3 ]; then
	most=0
	for ((r = 2; r < rounds; r++)); do
		g=$((rss[r] - rss[1]))
		[ "$g" -gt "$most" ] && most=$g
	done
	e2e_diag "trimmed VmRSS: at most $most KiB above round 2's," \
		"$((rss[rounds - 1] - rss[1])) KiB at the end (limit $slack KiB)"
	assert_eq "VmRSS flat from round 2 to $rounds (<= $slack KiB above)" \
		"$((most <= slack))" 1
fi
milter_stop "$pid"
e2e_diag "load: $((SECONDS - t0)) s for $rounds rounds"
e2e_finish
