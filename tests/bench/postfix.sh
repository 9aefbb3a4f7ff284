# postfix.sh - part 1 of make bench: the candidates through a private
# Postfix (tests/e2e/lib.sh) relaying to smtp-sink. Sourced by run.sh.
#
# Every candidate milter is started once per transport (a unix socket and
# inet loopback) and stays up; each measured run points smtpd_milters at
# one of them, reloads Postfix, warms up, then times smtp-source until the
# sink holds every message. Rounds alternate the candidates (the order
# rotates each round); the report gives the medians.
#
# Must never: leave smtpd_milters pointing at a stopped milter while mail
# is sent, or count a probe message in a run.

# shellcheck shell=bash

# source_run LABEL COUNT SESSIONS: smtp-source into the private Postfix,
# then wait until the sink has every message. Sets ALL_S (seconds until
# the last message reached the sink). 1 when something was lost or failed.
source_run() {
	local label=$1 n=$2 s=$3 base want t0 t2="" c rc=0 i
	base=$(sink_count)
	want=$((base + n))
	t0=$(now)
	timeout -k 5 600 smtp-source -s "$s" -m "$n" -l 2048 \
		-f a@sender.test -t ok@example.test "127.0.0.1:$POSTFIX_PORT" \
		>"$E2E_DIR/source.log" 2>&1 || rc=$?
	for ((i = 0; i < 12000; i++)); do
		c=$(sink_count)
		if [ "$c" -ge "$want" ]; then
			t2=$(now)
			break
		fi
		sleep 0.02
	done
	postfix_wait_idle 10
	c=$(($(sink_count) - base))
	ALL_S=""
	[ -n "$t2" ] && ALL_S=$(calc "\"%.2f\", $t2 - $t0")
	if [ "$rc" -ne 0 ]; then
		e2e_diag "$label: smtp-source exited $rc:"
		_e2e_show "$E2E_DIR/source.log"
	fi
	# counted: gone, so that the next run's counts read a small folder
	# (a find over every message of the part took longer run by run)
	find "$SINK_DIR" -type f -delete
	assert_eq "$label: the sink got all $n messages" "$c" "$n" >/dev/null &&
		[ "$rc" -eq 0 ] && [ -n "$ALL_S" ]
}

sink_count() {
	find "$SINK_DIR" -type f 2>/dev/null | wc -l
}

# milters_to SOCKET: point the running Postfix at SOCKET (libmilter
# syntax, "" for none) and reload.
milters_to() {
	local m=""
	[ -n "$1" ] && m=$(milter_socket_postfix "$1")
	if ! postconf -c "$POSTFIX_DIR/etc" -e "smtpd_milters = $m" \
		>>"$POSTFIX_DIR/start.log" 2>&1 ||
		! postfix -c "$POSTFIX_DIR/etc" reload \
			>>"$POSTFIX_DIR/start.log" 2>&1 </dev/null; then
		bench_fail "postfix reload with smtpd_milters = $m failed"
	fi
	sleep 1
}

# probe LABEL REGEX: a message whose Subject policy-35 (and milter-regex's
# 35 rules) refuse; the reply lines must match REGEX: proves which kind of
# milter is in the path. An accepted probe is waited for in the sink.
probe() {
	local base
	base=$(sink_count)
	smtp_dialogue "$POSTFIX_PORT" --from a@sender.test \
		--to ok@example.test --header "Subject: free money" \
		>"$E2E_DIR/probe.out"
	reply_lines "$E2E_DIR/probe.out" >"$E2E_DIR/probe.r"
	assert_contains "$1" "$E2E_DIR/probe.r" "$2" >/dev/null ||
		bench_fail "$1: the probe got no reply matching $2"
	if grep -q "^250 2.0.0 Ok: queued" "$E2E_DIR/probe.r"; then
		sink_wait_count $((base + 1)) 20 ||
			bench_fail "$1: the probe message never reached the sink"
	fi
	postfix_wait_idle 10
}

# The candidates: short name, what the report calls it, and the probe's
# expected reply (the floor lets the probe through).
declare -A pf_title=(
	[none]="no milter"
	[floor]="the floor (tests/bench/floor.c)"
	[fev]="the floor reading policy-35's events (floor -e)"
	[rcm]="replycode-milter, policy-35.conf"
	[mr]="milter-regex 3.1, milter-regex-35.rules"
	[big]="replycode-milter, policy-35 + 3 lists of $big_n"
	[base]="BENCH_BASE ($base_name), policy-35.conf"
)
declare -A pf_probe=(
	[none]="^250 2.0.0 Ok: queued"
	[floor]="^250 2.0.0 Ok: queued"
	[fev]="^250 2.0.0 Ok: queued"
	[rcm]="^554 5.7.1 Header rejected by policy"
	[mr]="^554 5.7.1 Header rejected by policy"
	[big]="^554 5.7.1 Header rejected by policy"
	[base]="^554 5.7.1 Header rejected by policy"
)
declare -A pf_sock pf_pid pf_times pf_cpu pf_load

# pf_start_all: every candidate on a unix socket (u) and on inet (i).
pf_start_all() {
	local t sock p c
	for t in u i; do
		for c in floor fev rcm mr big base; do
			[ "$c" = mr ] && [ -z "$mr_bin" ] && continue
			[ "$c" = base ] && [ -z "$base_bin" ] && continue
			if [ "$t" = u ]; then
				sock=unix:$E2E_DIR/sock/$c.sock
			else
				p=$(free_port) || bench_fail "no free port"
				sock=inet:$p@127.0.0.1
			fi
			case $c in
			floor) bench_start "floor-$t" "$sock" "$floor" -p "$sock" ;;
			fev) bench_start "fev-$t" "$sock" "$floor" -e -p "$sock" ;;
			rcm) bench_start "rcm-$t" "$sock" "$bin" "${MILTER_AS[@]}" \
				-f -c "$policy35" -p "$sock" ;;
			big) bench_start "big-$t" "$sock" "$bin" "${MILTER_AS[@]}" \
				-f -c "$big_conf" -p "$sock" ;;
			base) bench_start "base-$t" "$sock" "$base_bin" \
				"${MILTER_AS[@]}" -f -c "$policy35" -p "$sock" ;;
			mr) bench_start "mr-$t" "$sock" "$mr_bin" -d \
				-c "$mr_rules" -p "$sock" -u nobody -P 0666 ;;
			esac
			pf_sock[$c-$t]=$sock
			pf_pid[$c-$t]=$BPID
			pf_load[$c-$t]=$BLOAD
		done
	done
}

# pf_run KEY ROUND: one measured run of candidate KEY (name-transport, or
# "none"); appends its time and the milter's CPU to pf_times, pf_cpu.
pf_run() {
	local k=$1 r=$2 c0 c1
	milters_to "${pf_sock[$k]-}"
	if [ "$r" = 1 ]; then
		probe "${k}: the right milter is in the path" \
			"${pf_probe[${k%-*}]}"
	fi
	source_run "$k warm-up" "$warm_msgs" 10 ||
		bench_fail "$k: the warm-up run lost messages"
	[ "$k" != none ] && c0=$(cpu_s "${pf_pid[$k]}")
	source_run "$k round $r" "$msgs" 20 ||
		bench_fail "$k round $r: messages lost (smtp-source -m $msgs)"
	if [ "$k" != none ]; then
		c1=$(cpu_s "${pf_pid[$k]}")
		pf_cpu[$k]+=" $(calc "\"%.2f\", $c1 - $c0")"
	fi
	pf_times[$k]+=" $ALL_S"
	say "  round $r, $k: all $msgs in the sink after $ALL_S s"
}

# pf_syscalls: strace -f -c of each milter on its unix socket over
# BENCH_TRACE_MESSAGES messages through the same Postfix: the syscall
# counts the speed work is compared by (BENCHMARKS.md's profile).
pf_syscalls() {
	local n=${BENCH_TRACE_MESSAGES:-300} c k sp calls=(mmap munmap clone3
		madvise poll read writev futex total) s
	local -A got
	if ! command -v strace >/dev/null; then
		md ""
		md "Syscalls: not counted: strace is not installed."
		return
	fi
	say "  syscalls: strace -f -c over $n messages for each milter"
	for c in rcm mr floor; do
		k=$c-u
		[ -n "${pf_pid[$k]-}" ] || continue
		milters_to "${pf_sock[$k]}"
		source_run "$k strace warm-up" "$warm_msgs" 10 ||
			bench_fail "$k: the warm-up before strace lost messages"
		strace -f -c -o "$E2E_DIR/$c.strace" -p "${pf_pid[$k]}" \
			2>/dev/null &
		sp=$!
		_e2e_record pid "$sp"
		sleep 1
		source_run "$k under strace" "$n" 20 ||
			bench_fail "$k: messages lost under strace"
		kill -INT "$sp" 2>/dev/null
		wait "$sp" 2>/dev/null
		_e2e_forget pid "$sp"
		for s in "${calls[@]}"; do
			got[$c-$s]=$(awk -v s="$s" '$NF == s {
				print $4 }' "$E2E_DIR/$c.strace")
		done
	done
	milters_to ""
	md ""
	md "Syscalls of each milter (unix socket) over $n messages through" \
		"the same Postfix, \`strace -f -c -p PID\` (the calls; for" \
		"munmap also its mean microseconds a call):"
	md ""
	row "syscall" "${pf_title[rcm]}" \
		"$([ -n "$mr_bin" ] && echo "${pf_title[mr]}")" "${pf_title[floor]}"
	row "---" "---" "---" "---"
	for s in "${calls[@]}"; do
		row "$s" "${got[rcm-$s]:--}" "${got[mr-$s]:--}" "${got[floor-$s]:--}"
	done
	for c in rcm mr floor; do
		[ -f "$E2E_DIR/$c.strace" ] || continue
		got[$c-us]=$(awk '$NF == "munmap" { print $3 }' "$E2E_DIR/$c.strace")
	done
	row "us a munmap" "${got[rcm-us]:--}" "${got[mr-us]:--}" "${got[floor-us]:--}"
}

bench_postfix() {
	local r i k t c order n_c med fl cpu row_t
	say ""
	say "== 1. Through Postfix ($rounds rounds of $msgs messages)"
	mkdir -p "$E2E_DIR/sock" && chmod 1777 "$E2E_DIR/sock"
	pf_start_all
	# in_flow_delay = 0s: smtpd does not pause up to a second a message
	# when the queue manager lags (its default, 1s), which made rounds of
	# the same candidate differ by seconds; the sink still has to hold
	# every message before the clock stops.
	postfix_start "" "in_flow_delay = 0s" ||
		bench_fail "postfix does not start"
	local cands=(floor fev rcm big)
	[ -n "$mr_bin" ] && cands=(floor fev rcm mr big)
	[ -n "$base_bin" ] && cands+=(base)
	n_c=${#cands[@]}
	for ((r = 1; r <= rounds; r++)); do
		order=(none)
		for ((i = 0; i < n_c; i++)); do
			c=${cands[$(((i + r - 1) % n_c))]}
			order+=("$c-u" "$c-i")
		done
		for k in "${order[@]}"; do
			pf_run "$k" "$r"
		done
	done
	milters_to ""

	md ""
	md "### 1. Through Postfix $(postconf -d -h mail_version)"
	md ""
	md "\`smtp-source -s 20 -m $msgs -l 2048 -f a@sender.test -t" \
		"ok@example.test 127.0.0.1:PORT\` into a private Postfix" \
		"(tests/e2e/lib.sh, in_flow_delay = 0s) relaying to smtp-sink;" \
		"seconds until the" \
		"sink holds all $msgs; $rounds rounds, candidates alternating" \
		"(order rotated each round), each run after a warm-up of" \
		"$warm_msgs. Milter CPU is utime+stime from /proc for the" \
		"measured run (median), peak RSS is VmHWM at the end."
	md ""
	row "candidate" "socket" "seconds (rounds)" "median s" "msg/s" \
		"vs floor" "milter CPU s" "CPU ms/msg" "peak RSS MiB" \
		"start s" "target"
	row "---" "---" "---" "---" "---" "---" "---" "---" "---" "---" "---"
	# shellcheck disable=SC2086 # lists of numbers, split on purpose
	med=$(median ${pf_times[none]})
	row "${pf_title[none]}" "-" "${pf_times[none]# }" "$med" \
		"$(calc "\"%.0f\", $msgs / $med")" "-" "-" "-" "-" "-" ""
	for t in u i; do
		# shellcheck disable=SC2086
		fl=$(median ${pf_times[floor-$t]})
		for c in "${cands[@]}"; do
			k=$c-$t
			# shellcheck disable=SC2086
			med=$(median ${pf_times[$k]})
			# shellcheck disable=SC2086
			cpu=$(median ${pf_cpu[$k]})
			case $c in
			floor) row_t="" ;;
			fev) row_t="(what no milter reading these events avoids)" ;;
			rcm) row_t="<= 1.05x the floor; ahead of milter-regex" ;;
			big) row_t="<= 1.05x the floor" ;;
			mr) row_t="(peer)" ;;
			base) row_t="(before the change)" ;;
			esac
			row "${pf_title[$c]}" \
				"$([ "$t" = u ] && echo unix || echo inet)" \
				"${pf_times[$k]# }" "$med" \
				"$(calc "\"%.0f\", $msgs / $med")" \
				"$(ratio "$med" "$fl")" "$cpu" \
				"$(calc "\"%.2f\", $cpu * 1000 / $msgs")" \
				"$(mem_mib "${pf_pid[$k]}" VmHWM)" \
				"${pf_load[$k]}" "$row_t"
		done
	done
	md ""
	md "replycode-milter over the floor reading the same events:" \
		"unix $(ratio "$(median ${pf_times[rcm-u]})" "$(median ${pf_times[fev-u]})")," \
		"inet $(ratio "$(median ${pf_times[rcm-i]})" "$(median ${pf_times[fev-i]})")."
	if [ -z "$mr_bin" ]; then
		md ""
		md "milter-regex: not measured: $mr_why."
	fi
	pf_syscalls
	postfix_stop
	for k in "${!pf_pid[@]}"; do
		milter_stop "${pf_pid[$k]}"
	done
}
