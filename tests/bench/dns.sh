# dns.sh - part 4 of make bench: what DNS lists cost a session. mtclient
# runs dns.mt (connect from 127.0.0.2, EHLO, MAIL, RCPT) over BENCH_JOBS
# connections at once against replycode-milter with three policies that
# give the same reply (554 5.7.1 at connect):
#   none      client_address = { "127.0.0.2" }: no DNS
#   cached    client_dnsbl over 2 zones and client_dnswl over 1, $dnsbl_txt:
#             answers with a TTL of 60 s, from the milter's cache after
#             the first session
#   uncached  the same against a DNS server whose answers have a TTL of 0:
#             each session asks libunbound for 3 A and 2 TXT records
#             (which merges identical queries in flight)
# The DNS server is dnsmasq on 127.0.0.1 (tests/e2e/lib.sh dns_start); its
# query log proves which runs asked it. Sourced by run.sh.

# shellcheck shell=bash

# dns_conf NAME: the DNS policy asking the server dns_start started last.
dns_conf() {
	dns_rules bl2.example >"$E2E_DIR/dns-$1.conf"
}

bench_dns() {
	local c r c0 c1 q0 q1 med med_none ports=()
	local -A sock pid rates cpus queries
	local mt=$E2E_DIR/dns.mt n=$dns_sessions
	say ""
	say "== 4. DNS lists: mtclient, $n sessions, $jobs at once, $rounds rounds"
	printf '%s\n' "connect [127.0.0.2] 127.0.0.2" "helo client.example.net" \
		"mail <a@example.org>" "rcpt <b@example.net>" quit >"$mt"
	cat >"$E2E_DIR/dns-none.conf" <<'CONF'
rule "dnsbl" {
	stage = connect
	client_address = { "127.0.0.2" }
	verdict = reject
	reply = "554 5.7.1"
	text = "Service unavailable; Client host [$client_addr] blocked using bl.example; Listed"
}
CONF
	DNS_NAME=dns-cached DNS_TTL=60 dns_start ||
		bench_fail "dnsmasq did not start"
	dns_conf cached
	local log_cached=$DNS_LOG pid_cached=$DNS_PID
	DNS_NAME=dns-uncached DNS_TTL=0 dns_start ||
		bench_fail "dnsmasq (TTL 0) did not start"
	dns_conf uncached
	local log_uncached=$DNS_LOG pid_uncached=$DNS_PID
	for c in none cached uncached; do
		sock[$c]=unix:$E2E_DIR/sock/dns-$c.sock
		bench_start "dns-$c" "${sock[$c]}" "$bin" "${MILTER_AS[@]}" -f \
			-c "$E2E_DIR/dns-$c.conf" -p "${sock[$c]}"
		pid[$c]=$BPID
		"$client" -s "${sock[$c]}" -q -n 20 -j "$jobs" "$mt" \
			>/dev/null 2>&1 || bench_fail "dns-$c: mtclient warm-up failed"
	done
	for ((r = 1; r <= rounds; r++)); do
		for c in none cached uncached; do
			c0=$(cpu_s "${pid[$c]}")
			q0=$(cat "$log_cached" "$log_uncached" | grep -c 'query\[')
			mt_load "${sock[$c]}" "$n" "$mt" ||
				bench_fail "mtclient against dns-$c: sessions failed ($MT_LINE)"
			c1=$(cpu_s "${pid[$c]}")
			q1=$(cat "$log_cached" "$log_uncached" | grep -c 'query\[')
			rates[$c]+=" $MT_RATE"
			cpus[$c]+=" $(calc "\"%.1f\", ($c1 - $c0) * 1000000 / $n")"
			queries[$c]+=" $((q1 - q0))"
			say "  round $r, $c: $MT_LINE; DNS queries $((q1 - q0))"
		done
	done
	_e2e_stop_pids 5 "$pid_cached" "$pid_uncached"
	DNS_PID=""
	md ""
	md "### 4. DNS lists"
	md ""
	md "\`mtclient -s unix:SOCKET -q -l -n $n -j $jobs dns.mt\` (connect" \
		"from 127.0.0.2, EHLO, MAIL, RCPT; refused at connect with 554" \
		"5.7.1), $rounds rounds, medians. *none*: a client_address rule," \
		"no DNS; *cached*: client_dnswl over 1 zone and client_dnsbl over 2," \
		"\`\$dnsbl_txt\` in the reply, against dnsmasq on 127.0.0.1 with" \
		"TTL 60 s (after the warm-up every answer is in the milter's cache);" \
		"*uncached*: the same against a dnsmasq whose answers have TTL 0:" \
		"no answer is kept by the milter, each session hands 3 A and then" \
		"2 TXT queries to libunbound, which sends them over UDP on the" \
		"loopback (it merges the identical queries of sessions in flight" \
		"at once: the server's count of queries is below 5 a session)." \
		"Cost per session: 1/rate above *none*, at $jobs sessions at" \
		"once; the milter's CPU from /proc in 10 ms ticks."
	md ""
	row "policy" "sessions/s (rounds)" "median sessions/s" "wall us/session over none" \
		"milter CPU us/session (rounds)" "DNS queries a round"
	row "---" "---" "---" "---" "---" "---"
	# shellcheck disable=SC2086
	med_none=$(median ${rates[none]})
	for c in none cached uncached; do
		# shellcheck disable=SC2086
		med=$(median ${rates[$c]})
		row "$c" "${rates[$c]# }" "$med" \
			"$(calc "\"%.1f\", 1000000 / $med - 1000000 / $med_none")" \
			"${cpus[$c]# }" "${queries[$c]# }"
	done
}
