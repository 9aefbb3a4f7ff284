# state.sh - part 4 of make bench: what rate limits and greylisting add
# to a message. mtclient runs txn.mt (tests/bench/README.md) over
# BENCH_JOBS connections at once against replycode-milter with
# policy-35.conf alone, and with policy-35.conf and two rules more, a rate
# limit (messages per client address, never reached) and greylisting
# (every triplet of txn.mt passed in the warm-up, so each message looks
# up and refreshes 3 passed triplets): one milter keeping that state in
# LMDB in the temporary folder, one in a redis-server of the run's own on
# loopback (tests/e2e/lib.sh's redis_start). Per message that is one
# counter update and, per recipient, a look at the client network's
# allowlist count and one read that refreshes the triplet: seven store
# operations, each one LMDB transaction or one Redis round trip.
# Rounds alternate the order. Sourced by run.sh.

# shellcheck shell=bash

# The rules the state candidates add to policy-35.conf.
state_rules() {
	cat "$policy35"
	printf 'state = "%s"\nstate_timeout = "5s"\n' "$1"
	cat <<'EOF'
rule "bench-rate" {
	stage = rcpt
	rate_limit = 1000000000
	rate_window = "1h"
	rate_key = "client_address"
	rate_event = "messages"
	verdict = tempfail
	reply = "450 4.7.1"
}
rule "bench-greylist" {
	stage = rcpt
	greylist = true
	greylist_delay = "1s"
	verdict = tempfail
	reply = "451 4.7.1"
	text = "Greylisted, try again in $retry_in"
}
EOF
}

bench_state() {
	local r c k i c0 c1 r0 r1 med rate_base cpu_base
	local -A sock pid rates p50s p99s cpus rcpus
	local order=(base lmdb redis)
	say ""
	say "== 4. State: mtclient, $sessions transactions, $jobs at once," \
		"$rounds rounds"
	REDIS_FSYNC=everysec redis_start "$E2E_DIR/redis" ||
		bench_fail "redis-server does not start"
	mkdir -p "$E2E_DIR/state"
	state_rules "$E2E_DIR/state" >"$E2E_DIR/state-lmdb.conf"
	state_rules "redis://127.0.0.1:$REDIS_PORT/0" >"$E2E_DIR/state-redis.conf"
	for c in "${order[@]}"; do
		local conf=$policy35
		[ "$c" = base ] || conf=$E2E_DIR/state-$c.conf
		"$bin" -t -c "$conf" >"$E2E_DIR/check-$c.out" 2>&1 ||
			bench_fail "$conf does not load: $(cat "$E2E_DIR/check-$c.out")"
		sock[$c]=unix:$E2E_DIR/sock/state-$c.sock
		bench_start "state-$c" "${sock[$c]}" "$bin" "${MILTER_AS[@]}" \
			-f -c "$conf" -p "${sock[$c]}"
		pid[$c]=$BPID
		# twice: the first greylists the triplets, the second (after
		# the delay) passes them
		for i in 1 2; do
			"$client" -s "${sock[$c]}" -q -n "$warm_sessions" -j "$jobs" \
				"$txn" >/dev/null 2>&1 ||
				bench_fail "$c: mtclient warm-up failed"
			[ "$i" = 1 ] && [ "$c" != base ] && sleep 1.1
		done
	done
	# what is measured: every recipient taken, no rule holding
	for c in lmdb redis; do
		[ "$("$client" -s "${sock[$c]}" "$txn" 2>&1 | grep -c '^rcpt: continue$')" = 3 ] ||
			bench_fail "$c: the recipients of txn.mt are not all taken after the warm-up"
	done
	for ((r = 1; r <= rounds; r++)); do
		for ((k = 0; k < 3; k++)); do
			c=${order[(k + r) % 3]}
			c0=$(cpu_s "${pid[$c]}")
			r0=$(cpu_s "$REDIS_PID")
			mt_load "${sock[$c]}" "$sessions" "$txn" ||
				bench_fail "mtclient against state-$c: sessions failed ($MT_LINE)"
			c1=$(cpu_s "${pid[$c]}")
			r1=$(cpu_s "$REDIS_PID")
			rates[$c]+=" $MT_RATE"
			p50s[$c]+=" $MT_P50"
			p99s[$c]+=" $MT_P99"
			cpus[$c]+=" $(calc "\"%.2f\", $c1 - $c0")"
			rcpus[$c]+=" $(calc "\"%.2f\", $r1 - $r0")"
			say "  round $r, $c: $MT_LINE"
		done
	done
	md ""
	md "### 5. What rate limits and greylisting add to a message"
	md ""
	md "\`mtclient -s unix:SOCKET -q -l -n $sessions -j $jobs" \
		"tests/bench/txn.mt\` (3 recipients), $rounds rounds alternating," \
		"medians. \"+ state\" is policy-35.conf with a rate limit (messages" \
		"per client address, never reached) and greylisting (the" \
		"triplets passed in the warm-up): per message one counter update and," \
		"per recipient, a look at the client network's allowlist count and" \
		"one read that refreshes the triplet. Redis is a" \
		"redis-server of the run's own on 127.0.0.1 (append-only log," \
		"fsync every second, Redis's default); its CPU is counted apart."
	md ""
	row "milter" "msg/s (rounds)" "median msg/s" "vs policy-35 alone" \
		"p50 ms" "p99 ms" "milter CPU us/msg" "vs policy-35 alone" \
		"redis-server CPU us/msg" "peak RSS MiB"
	row "---" "---" "---" "---" "---" "---" "---" "---" "---" "---"
	# shellcheck disable=SC2086 # lists of numbers, split on purpose
	rate_base=$(median ${rates[base]})
	# shellcheck disable=SC2086
	cpu_base=$(median ${cpus[base]})
	for c in "${order[@]}"; do
		local cpu title
		# shellcheck disable=SC2086
		med=$(median ${rates[$c]})
		# shellcheck disable=SC2086
		cpu=$(median ${cpus[$c]})
		case $c in
		base) title="policy-35 alone" ;;
		lmdb) title="policy-35 + state, LMDB" ;;
		redis) title="policy-35 + state, Redis on loopback" ;;
		esac
		# shellcheck disable=SC2086
		row "$title" "${rates[$c]# }" "$med" "$(ratio "$med" "$rate_base")" \
			"$(median ${p50s[$c]})" "$(median ${p99s[$c]})" \
			"$(calc "\"%.0f\", $cpu * 1000000 / $sessions")" \
			"$(ratio "$cpu" "$cpu_base")" \
			"$([ "$c" = redis ] && calc "\"%.0f\", $(median ${rcpus[$c]}) * 1000000 / $sessions")" \
			"$(mem_mib "${pid[$c]}" VmHWM)"
	done
	for k in "${order[@]}"; do
		milter_stop "${pid[$k]}"
	done
	redis_stop
}
