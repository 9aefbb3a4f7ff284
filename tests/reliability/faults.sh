#!/usr/bin/env bash
# faults.sh - the milter's faults as a private Postfix sees them: Postfix
# on 127.0.0.1 relaying to smtp-sink, milter_default_action = tempfail,
# load from smtp-source, the milter on a free port of 127.0.0.1.
#
#  1. kill -9 under load. Two smtp-source runs at once: ordinary mail, and
#     mail whose Subject carries MARKER-NEVER-DELIVER (the policy refuses
#     it). The milter is killed with SIGKILL while they run; Postfix must
#     tempfail, never pass mail. The milter is started again on the same
#     port: the next session, at once, must get the milter's own answers
#     (the marker refused with the policy's text, other mail delivered
#     with its headers). Then: no marker in the sink, and every message in
#     the sink carries the headers of all six stages (filtered).
#  2. 100 SIGHUPs under load: smtp-source sends one message a session
#     (batches of 200, one after the other until the SIGHUPs are done)
#     while the config file is replaced and the milter gets a SIGHUP, 100
#     times, in turn: policy A, a broken config, policy B, a config with
#     a list file that does not exist. Each reload is waited for in the
#     milter's log (reloaded, or refused and the old policy kept). Then:
#     smtp-source succeeded, every message reached the sink, Postfix
#     logged no milter trouble, and in each message the six headers name
#     one policy (a session on one policy from start to end); both
#     policies were seen.
#  3. ulimit -n 32: the milter started with prlimit --nofile=32 and 50
#     SMTP sessions at once that stay open (three messages each, 4 s
#     apart): the milter cannot accept them all; Postfix tempfails the
#     sessions it cannot reach in milter_command_timeout (5 s here, 30 s
#     in README.md: the test would only wait longer). Then: some sessions
#     were tempfailed, nothing in the sink is unfiltered, the milter is
#     alive, answers the next session at once, and stops cleanly.
#
# faults.conf.in is the policy (A and B). Prints each step's figures and
# "N passed, N failed"; exits non-zero on a failure. Needs root (Postfix);
# not root: one skip line. Every process is started and stopped by pid
# through tests/e2e/lib.sh, also on failure; nothing listens beyond
# 127.0.0.1.

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../e2e/lib.sh
. "$root/tests/e2e/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	e2e_skip "faults through a private Postfix" "needs root (Postfix)"
	e2e_finish
fi
e2e_tmpdir
bin=${MILTER_BIN:-$root/replycode-milter}
[ -x "$bin" ] || e2e_die "no $bin: run make"
command -v smtp-source >/dev/null || e2e_die "no smtp-source (postfix)"
command -v prlimit >/dev/null || e2e_die "no prlimit (util-linux)"
t_all=$SECONDS

marker=MARKER-NEVER-DELIVER
conf=$E2E_DIR/milter.conf
for p in A B; do
	sed "s/@P@/$p/g" "$here/faults.conf.in" >"$E2E_DIR/policy-$p.conf"
done
{
	cat "$E2E_DIR/policy-A.conf"
	printf 'rule "broken" {\n\tstage = nowhere\n}\n'
} >"$E2E_DIR/broken.conf"
{
	cat "$E2E_DIR/policy-B.conf"
	printf 'rule "missing-list" {\n\tstage = mail\n\tsender = { "file:%s" }\n\tverdict = reject\n}\n' \
		"$E2E_DIR/no-such-folder/senders.txt"
} >"$E2E_DIR/missing.conf"
for c in policy-A policy-B; do
	"$bin" -t -c "$E2E_DIR/$c.conf" >"$E2E_DIR/$c.check" 2>&1
	assert_contains "$c loads under strict" "$E2E_DIR/$c.check" \
		": OK: 7 rules, 0 warnings"
done
for c in broken missing; do
	"$bin" -t -c "$E2E_DIR/$c.conf" >"$E2E_DIR/$c.check" 2>&1
	assert_eq "$c.conf does not load (-t exits 78)" "$?" 78
done
assert_contains "missing.conf names the missing list file" \
	"$E2E_DIR/missing.check" "no-such-folder/senders.txt"

# ------------------------------------------------------------ helpers

# start_milter PORT [PREFIX...]: the milter on inet:PORT@127.0.0.1 with
# $conf, PREFIX words (prlimit ...) before it.
start_milter() {
	local port=$1
	shift
	milter_start "inet:$port@127.0.0.1" "$@" "$bin" "${MILTER_AS[@]}" -f -c "$conf" \
		-p "inet:$port@127.0.0.1"
}

# point_postfix PORT: smtpd_milters to the milter on PORT, postfix reload
# (new smtpd processes use it).
point_postfix() {
	postconf -c "$POSTFIX_DIR/etc" -e "smtpd_milters = inet:127.0.0.1:$1" \
		>>"$POSTFIX_DIR/start.log" 2>&1 &&
		postfix -c "$POSTFIX_DIR/etc" reload >>"$POSTFIX_DIR/start.log" \
			2>&1 </dev/null && sleep 1
}

# source_bg NAME ARGS...: smtp-source ARGS in the background against
# Postfix (output NAME.src); sets SRC_PID.
source_bg() {
	local name=$1
	shift
	_e2e_spawn "$E2E_DIR/$name.src" timeout -k 5 300 smtp-source "$@" \
		"127.0.0.1:$POSTFIX_PORT"
	SRC_PID=$!
	_e2e_record pid "$SRC_PID"
}

# source_wait PID: wait for an smtp-source run; its exit status.
source_wait() {
	local rc
	wait "$1"
	rc=$?
	_e2e_forget pid "$1"
	return "$rc"
}

sink_count() {
	sink_messages | wc -l
}

# sink_clear: forget the messages of the step before.
sink_clear() {
	find "$SINK_DIR" -type f -delete
}

# sink_check LABEL: every message in the sink went through the milter
# (the six X-Policy headers) and none is a marker; prints how many
# messages named policy A and B.
sink_check() {
	local files=() bad
	mapfile -t files < <(sink_messages)
	if [ "${#files[@]}" -eq 0 ]; then
		assert_eq "$1: messages in the sink" 0 "more than 0"
		return
	fi
	bad=$(grep -l -e "^Subject: .*$marker" "${files[@]}" | wc -l)
	assert_eq "$1: no marker message in the sink (of ${#files[@]})" "$bad" 0
	# awk: per file, the letters of the six headers; "mixed", "missing"
	# or the one letter.
	awk '
		FNR == 1 { if (NR > 1) verdict(); n = 0; split("", seen) }
		/^X-Policy-(Connect|Helo|Mail|Rcpt|Header|Eom): / {
			seen[$1] = $2; n++
		}
		function verdict(   k, l, c) {
			c = 0; l = ""
			for (k in seen) { c++; if (l == "") l = seen[k]
				else if (seen[k] != l) l = "mixed" }
			if (c != 6 || n != 6) l = "missing"
			count[l]++
		}
		END { verdict(); for (l in count) print l, count[l] }
	' "${files[@]}" | sort >"$E2E_DIR/letters"
	SINK_A=$(awk '$1 == "A" { print $2 }' "$E2E_DIR/letters")
	SINK_B=$(awk '$1 == "B" { print $2 }' "$E2E_DIR/letters")
	assert_eq "$1: each of ${#files[@]} sink messages filtered, on one policy" \
		"$(grep -v -c -E '^(A|B) ' "$E2E_DIR/letters")" 0 ||
		_e2e_show "$E2E_DIR/letters"
}

# probe NAME SUBJECT: one swaks session through Postfix; reply lines in
# NAME.r.
probe() {
	smtp_dialogue "$POSTFIX_PORT" --from a@sender.test --to ok@example.test \
		--header "Subject: $2" >"$E2E_DIR/$1.out"
	reply_lines "$E2E_DIR/$1.out" >"$E2E_DIR/$1.r"
}

# ------------------------------------------------------------ start

cp "$E2E_DIR/policy-A.conf" "$conf"
mport=$(free_port) || e2e_die "no free port"
start_milter "$mport" || e2e_die "the milter does not start"
postfix_start "inet:127.0.0.1:$mport" \
	"milter_protocol = 6" "milter_connect_timeout = 10s" \
	"milter_command_timeout = 5s" "milter_content_timeout = 300s" \
	"milter_default_action = tempfail" ||
	e2e_die "postfix does not start"
e2e_diag "milter on $mport, postfix $(postconf -d -h mail_version) on" \
	"$POSTFIX_PORT, sink on $SINK_PORT"
probe start-marker "$marker"
assert_line "the milter is in the path: marker refused by policy A" \
	"$E2E_DIR/start-marker.r" "554 5.7.1 Marker refused by policy A"

# ------------------------------------------------------------ 1. kill -9

t0=$SECONDS
e2e_diag "1. kill -9 under load"
# Heavy load (unpaced) when the milter dies; paced runs (a message a
# second in each session) go on past its restart.
source_bg heavy -A -s 10 -m 1000 -l 2048 -f a@sender.test \
	-t ok@example.test -S "heavy mail"
srcs=("$SRC_PID")
source_bg paced -A -w 1 -s 20 -m 240 -l 2048 -f a@sender.test \
	-t ok@example.test -S "paced mail"
srcs+=("$SRC_PID")
source_bg marker -A -w 1 -s 10 -m 120 -l 2048 -f a@sender.test \
	-t ok@example.test -S "$marker"
srcs+=("$SRC_PID")
sleep 2
before=$(sink_count)
killed=$MILTER_PID
milter_kill "$killed"
e2e_diag "SIGKILL to the milter (pid $killed) after 2 s: $before messages" \
	"in the sink then"
sleep 2
assert_eq "the paced smtp-source runs go on past the restart" \
	"$(_e2e_alive "${srcs[1]}" && _e2e_alive "${srcs[2]}" && echo yes)" yes
t_up=$EPOCHREALTIME
start_milter "$mport" || e2e_die "the milter does not start again"
probe back-marker "$marker"
probe back-ordinary "after restart"
t_probe=$EPOCHREALTIME
assert_line "after restart: the next session gets the milter's own refusal" \
	"$E2E_DIR/back-marker.r" "554 5.7.1 Marker refused by policy A"
assert_contains "after restart: ordinary mail queued" \
	"$E2E_DIR/back-ordinary.r" "^250 2\.0\.0 Ok: queued"
e2e_diag "restart to both probes answered: $(awk -v a="$t_up" -v b="$t_probe" \
	'BEGIN { printf "%.2f", b - a }') s"
rcs=""
for p in "${srcs[@]}"; do
	source_wait "$p"
	rcs+="$? "
done
assert_eq "the three smtp-source runs ended (exit 0 with -A)" "$rcs" "0 0 0 "
postfix_wait_idle 60
sleep 1
# Each message: in the sink, or refused or tempfailed (one smtp-source
# warning each); none lost, none unaccounted.
mapfile -t sink_files < <(sink_messages)
for run in "heavy:1000:heavy mail" "paced:240:paced mail" "marker:120:$marker"; do
	IFS=: read -r name n subject <<<"$run"
	got=$(grep -l -e "^Subject: $subject\$" "${sink_files[@]}" /dev/null |
		wc -l)
	tempf=$(grep -c 'rejected: 4[0-9][0-9] ' "$E2E_DIR/$name.src")
	refused=$(grep -c 'rejected: 554 5\.7\.1 Marker refused' "$E2E_DIR/$name.src")
	e2e_diag "$name: $n sent: $got delivered, $refused refused by the" \
		"milter, $tempf tempfailed by Postfix"
	assert_eq "$name: every message delivered, refused or tempfailed" \
		"$((got + tempf + refused))" "$n"
done
tf=$(grep -c 'milter-reject: MAIL from .*451 4\.7\.1' "$(postfix_log)")
e2e_diag "Postfix: $tf MAIL commands tempfailed (milter_default_action)"
assert_eq "Postfix tempfailed while the milter was down" "$((tf > 0))" 1
assert_contains "the restarted milter refused markers of the paced run" \
	"$MILTER_LOG" "decision stage=header rule=marker verdict=reject"
sink_check "kill -9"
e2e_diag "step 1: $(sink_count) messages delivered, in $((SECONDS - t0)) s"

# ------------------------------------------------------------ 2. SIGHUP

t0=$SECONDS
e2e_diag "2. 100 SIGHUPs under load"
sink_clear
base=$(sink_count)
log_mark=$(wc -l <"$(postfix_log)")
# Batches of 200 messages (10 sessions, one message each), one after the
# other until the SIGHUPs are done: the load outlasts them on any machine.
# Each batch's exit status goes to hup.rc; each smtp-source is recorded by
# pid while it runs, so that a failing test stops it too.
# shellcheck disable=SC2317 # run in the background by _e2e_spawn
batches() {
	local p
	while [ ! -e "$E2E_DIR/hup.stop" ]; do
		timeout -k 5 120 smtp-source -s 10 -m 200 -l 2048 \
			-f a@sender.test -t ok@example.test -S "reload under load" \
			"127.0.0.1:$POSTFIX_PORT" &
		p=$!
		_e2e_record pid "$p"
		wait "$p"
		echo $? >>"$E2E_DIR/hup.rc"
		_e2e_forget pid "$p"
	done
}
: >"$E2E_DIR/hup.rc"
_e2e_spawn "$E2E_DIR/hup.src" batches
src=$!
_e2e_record pid "$src"
sleep 0.5
configs=(policy-A broken policy-B missing)
reloaded=0
refused=0
for ((i = 0; i < 100; i++)); do
	c=${configs[i % 4]}
	cp "$E2E_DIR/$c.conf" "$conf"
	want_ok=$(grep -c "reloaded $conf" "$MILTER_LOG")
	want_ko=$(grep -c "keeping the policy in force" "$MILTER_LOG")
	kill -HUP "$MILTER_PID"
	for ((w = 0; w < 100; w++)); do
		if [ "$(grep -c "reloaded $conf" "$MILTER_LOG")" -gt "$want_ok" ]; then
			reloaded=$((reloaded + 1))
			break
		fi
		if [ "$(grep -c "keeping the policy in force" "$MILTER_LOG")" -gt "$want_ko" ]; then
			refused=$((refused + 1))
			break
		fi
		sleep 0.02
	done
	sleep 0.05
done
touch "$E2E_DIR/hup.stop"
e2e_diag "100 SIGHUPs in $((SECONDS - t0)) s: $reloaded reloads, $refused" \
	"configs refused"
assert_eq "50 good configs reloaded, 50 bad ones refused" \
	"$reloaded $refused" "50 50"
source_wait "$src"
n=$(($(wc -l <"$E2E_DIR/hup.rc") * 200))
assert_eq "smtp-source: no failed session (every batch exits 0, no -A)" \
	"$(sort -u "$E2E_DIR/hup.rc" | tr '\n' ' ')" "0 " ||
	_e2e_show "$E2E_DIR/hup.src"
postfix_wait_idle 60
sink_wait_count $((base + n)) 30
assert_eq "every message of the run reached the sink" \
	"$(($(sink_count) - base))" "$n"
tail -n +"$((log_mark + 1))" "$(postfix_log)" >"$E2E_DIR/hup.maillog"
assert_not_contains "Postfix logged no milter trouble, no reject, no defer" \
	"$E2E_DIR/hup.maillog" \
	'warning: milter|milter-reject|status=deferred|status=bounced'
assert_eq "the milter is still the same process" \
	"$(_e2e_alive "$MILTER_PID" && echo alive)" alive
sink_check "100 SIGHUPs"
e2e_diag "messages on policy A: ${SINK_A:-0}, on policy B: ${SINK_B:-0}"
assert_eq "both policies were in force during the run" \
	"$((${SINK_A:-0} > 0 && ${SINK_B:-0} > 0))" 1
milter_stop "$MILTER_PID"
assert_eq "the milter stops cleanly after the reloads" \
	"$(grep -c "stopping" "$MILTER_LOG")" 1

# ------------------------------------------------------------ 3. ulimit -n 32

t0=$SECONDS
e2e_diag "3. ulimit -n 32, 50 sessions at once"
cp "$E2E_DIR/policy-A.conf" "$conf"
lport=$(free_port) || e2e_die "no free port"
start_milter "$lport" prlimit --nofile=32:32 ||
	e2e_die "the milter does not start with 32 files"
lpid=$MILTER_PID
assert_eq "the milter runs with 32 open files at most" \
	"$(awk '$1 == "Max" && $2 == "open" { print $4 }' "/proc/$lpid/limits")" 32
e2e_diag "idle: $(find "/proc/$lpid/fd" -mindepth 1 | wc -l) open files"
point_postfix "$lport" || e2e_die "postfix reload failed"
log_mark=$(wc -l <"$(postfix_log)")
sink_clear
base=$(sink_count)
cpu0=$(proc_cpu_ticks "$lpid")
source_bg ulimit -A -d -w 4 -s 50 -m 150 -l 2048 -f a@sender.test \
	-t ok@example.test -S "fifty at once"
src=$SRC_PID
peak=0
while _e2e_alive "$src"; do
	f=$(find "/proc/$lpid/fd" -mindepth 1 2>/dev/null | wc -l)
	[ "$f" -gt "$peak" ] && peak=$f
	sleep 0.1
done
source_wait "$src"
assert_eq "smtp-source ended (exit 0 with -A)" "$?" 0
postfix_wait_idle 60
sleep 1
tail -n +"$((log_mark + 1))" "$(postfix_log)" >"$E2E_DIR/ulimit.maillog"
timeouts=$(grep -c 'warning: milter inet:127.0.0.1:'"$lport"'.*timed out' \
	"$E2E_DIR/ulimit.maillog")
tempfailed=$(grep -c 'milter-reject: MAIL from .*451 4\.7\.1 Service unavailable' \
	"$E2E_DIR/ulimit.maillog")
delivered=$(($(sink_count) - base))
e2e_diag "peak $peak open files in the milter; Postfix: $timeouts milter" \
	"timeouts, $tempfailed MAIL commands tempfailed (451 4.7.1);" \
	"$delivered of 150 messages delivered, in $((SECONDS - t0)) s;" \
	"milter CPU $(awk -v t="$(($(proc_cpu_ticks "$lpid") - cpu0))" \
		-v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') s" \
	"(libmilter's listener retries accept() while it gets EMFILE)"
assert_eq "the milter's open files reached the limit" "$((peak >= 30))" 1
assert_eq "sessions it could not take were tempfailed" \
	"$((tempfailed > 0 && timeouts > 0))" 1
assert_eq "delivered + tempfailed = 150" "$((delivered + tempfailed))" 150
assert_eq "the milter survived (same pid)" \
	"$(_e2e_alive "$lpid" && echo alive)" alive
probe ulimit-marker "$marker"
probe ulimit-ordinary "after the storm"
assert_line "then: the milter answers the next session (marker refused)" \
	"$E2E_DIR/ulimit-marker.r" "554 5.7.1 Marker refused by policy A"
assert_contains "then: ordinary mail queued" "$E2E_DIR/ulimit-ordinary.r" \
	"^250 2\.0\.0 Ok: queued"
postfix_wait_idle 30
sink_check "ulimit -n 32"
milter_stop "$lpid"
assert_not_contains "the milter's listener never gave up" "$MILTER_LOG" \
	"abort|ended by itself"
assert_eq "the milter stops cleanly" "$(grep -c "stopping" "$MILTER_LOG")" 1

postfix_stop
e2e_diag "faults: $((SECONDS - t_all)) s"
e2e_finish
