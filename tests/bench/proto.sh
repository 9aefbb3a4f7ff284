# proto.sh - part 2 of make bench: the milter protocol with no MTA.
# mtclient (tests/proto) runs txn.mt (connect, EHLO, MAIL, 3 RCPT, 12
# headers, a 20 KiB body, end of message) over BENCH_JOBS connections at
# once against the floor and replycode-milter with policy-35.conf (and
# BENCH_BASE's binary with it, when set), on unix sockets, alternating
# round by round. Sourced by run.sh.

# shellcheck shell=bash

bench_proto() {
	local r c i k c0 c1 med rate_fl n_c
	local -A sock pid rates p50s p99s cpus
	local cands=(floor fev rcm)
	[ -n "$base_bin" ] && cands=(floor fev rcm base)
	n_c=${#cands[@]}
	say ""
	say "== 2. Milter protocol: mtclient, $sessions transactions," \
		"$jobs at once, $rounds rounds"
	for c in "${cands[@]}"; do
		sock[$c]=unix:$E2E_DIR/sock/proto-$c.sock
		case $c in
		floor) bench_start "proto-floor" "${sock[$c]}" "$floor" \
			-p "${sock[$c]}" ;;
		fev) bench_start "proto-fev" "${sock[$c]}" "$floor" -e \
			-p "${sock[$c]}" ;;
		rcm) bench_start "proto-rcm" "${sock[$c]}" "$bin" \
			"${MILTER_AS[@]}" -f -c "$policy35" -p "${sock[$c]}" ;;
		base) bench_start "proto-base" "${sock[$c]}" "$base_bin" \
			"${MILTER_AS[@]}" -f -c "$policy35" -p "${sock[$c]}" ;;
		esac
		pid[$c]=$BPID
		"$client" -s "${sock[$c]}" -q -n "$warm_sessions" -j "$jobs" \
			"$txn" >/dev/null 2>&1 || bench_fail "$c: mtclient warm-up failed"
	done
	for ((r = 1; r <= rounds; r++)); do
		for ((i = 0; i < n_c; i++)); do
			# rotate which goes first
			c=${cands[$(((i + r - 1) % n_c))]}
			c0=$(cpu_s "${pid[$c]}")
			mt_load "${sock[$c]}" "$sessions" "$txn" ||
				bench_fail "mtclient against $c: sessions failed ($MT_LINE)"
			c1=$(cpu_s "${pid[$c]}")
			rates[$c]+=" $MT_RATE"
			p50s[$c]+=" $MT_P50"
			p99s[$c]+=" $MT_P99"
			cpus[$c]+=" $(calc "\"%.2f\", $c1 - $c0")"
			say "  round $r, $c: $MT_LINE"
		done
	done
	md ""
	md "### 2. Milter protocol, no MTA"
	md ""
	md "\`mtclient -s unix:SOCKET -q -l -n $sessions -j $jobs" \
		"tests/bench/txn.mt\` (connect, EHLO, MAIL, 3 RCPT, 12 headers," \
		"a 20 KiB body, end of message; one connection a transaction)," \
		"$rounds rounds alternating, medians; latency is one whole" \
		"transaction, connect to close."
	md ""
	row "milter" "msg/s (rounds)" "median msg/s" "vs floor" "p50 ms" \
		"p99 ms" "milter CPU us/msg" "peak RSS MiB" "target"
	row "---" "---" "---" "---" "---" "---" "---" "---" "---"
	# shellcheck disable=SC2086 # lists of numbers, split on purpose
	rate_fl=$(median ${rates[floor]})
	for c in "${cands[@]}"; do
		# shellcheck disable=SC2086
		med=$(median ${rates[$c]})
		# shellcheck disable=SC2086
		row "$(proto_title "$c")" \
			"${rates[$c]# }" "$med" "$(ratio "$med" "$rate_fl")" \
			"$(median ${p50s[$c]})" "$(median ${p99s[$c]})" \
			"$(calc "\"%.0f\", $(median ${cpus[$c]}) * 1000000 / $sessions")" \
			"$(mem_mib "${pid[$c]}" VmHWM)" \
			"$([ "$c" = rcm ] && echo ">= 0.95x the floor")"
	done
	md ""
	# shellcheck disable=SC2086
	md "replycode-milter against the floor reading the same events" \
		"(the same replies, nothing decided):" \
		"$(ratio "$(median ${rates[rcm]})" "$(median ${rates[fev]})")."
	for k in "${cands[@]}"; do
		milter_stop "${pid[$k]}"
	done
}

proto_title() {
	case $1 in
	floor) echo "the floor" ;;
	fev) echo "the floor reading policy-35's events (floor -e)" ;;
	rcm) echo "replycode-milter, policy-35" ;;
	base) echo "BENCH_BASE ($base_name), policy-35" ;;
	esac
}
