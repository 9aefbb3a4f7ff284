# scale.sh - part 3 of make bench: lists of 10, 10,000 and BENCH_ENTRIES
# entries of each kind, 1,000 header regexes and a big body: load time,
# resident memory, cost per message (mtclient with txn.mt). Also writes
# the lists policy-35 + lists (big.conf) that part 1 runs through Postfix.
# Sourced by run.sh.
#
# Must never: generate an entry that matches the benchmark mail (client
# 127.0.0.1, a@sender.test, *@example.test): a lost message fails the run.

# shellcheck shell=bash

# gen_lists N: addrs.txt (IPv4 and IPv6 CIDR blocks and addresses, in
# turn), doms.txt (names, and ".name" for subdomains, in turn) and
# emails.txt, N lines each, in E2E_DIR/lists. Smaller sizes are their
# first lines (head).
gen_lists() {
	local d=$E2E_DIR/lists t0
	mkdir -p "$d"
	t0=$(now)
	awk -v n="$1" -v d="$d" 'BEGIN {
		srand(42)
		for (i = 0; i < n; i++) {
			a = 11 + int(rand() * 116)
			b = int(rand() * 256); c = int(rand() * 256)
			if (i % 4 == 0)
				print a "." b "." c ".0/24" > (d "/addrs.txt")
			else if (i % 4 == 1)
				print a "." b "." c "." int(rand() * 256) > (d "/addrs.txt")
			else if (i % 4 == 2)
				printf "2001:db8:%x:%x::/64\n", i % 65536, int(i / 65536) > (d "/addrs.txt")
			else
				printf "2001:db8:%x:%x::%x\n", i % 65536, int(i / 65536), b * 256 + c > (d "/addrs.txt")
			if (i % 2)
				printf ".s%d.example.org\n", i > (d "/doms.txt")
			else
				printf "d%d.example.net\n", i > (d "/doms.txt")
			printf "user%d@d%d.example.com\n", i, i % 10007 > (d "/emails.txt")
		}
	}' || bench_fail "cannot write the list files"
	say "  generated 3 lists of $1 entries in $(calc "\"%.2f\", $(now) - $t0") s"
}

# lists_conf N: the three lists' first N lines, as list blocks.
lists_conf() {
	local n=$1 d=$E2E_DIR/lists k
	for k in addrs doms emails; do
		[ -f "$d/$k-$n.txt" ] || head -n "$n" "$d/$k.txt" >"$d/$k-$n.txt"
	done
	cat <<EOF
list "addrs" {
	type = address
	file = "$d/addrs-$n.txt"
}
list "doms" {
	type = domain
	file = "$d/doms-$n.txt"
}
list "emails" {
	type = email
	file = "$d/emails-$n.txt"
}
EOF
}

# rule NAME STAGE CONDITION: a rule refusing what CONDITION matches.
list_rule() {
	printf 'rule "%s" {\n\tstage = %s\n\t%s\n\tverdict = reject\n' \
		"$1" "$2" "$3"
	printf '\treply = "550 5.7.1"\n\ttext = "Listed"\n}\n'
}

# write_big_conf: policy-35 plus a million client CIDRs, sender addresses
# and recipient domains (part 1's "big" candidate).
write_big_conf() {
	{
		cat "$policy35"
		lists_conf "$big_n"
		list_rule big-client connect 'client_address = { "list:addrs" }'
		list_rule big-sender mail 'sender = { "list:emails" }'
		list_rule big-rcpt-domain rcpt 'recipient_domain = { "list:doms" }'
	} >"$big_conf"
}

# scale_conf N: the five list lookups of a transaction, lists of N.
scale_conf() {
	echo "hold_early_verdicts = true"
	lists_conf "$1"
	list_rule client connect 'client_address = { "list:addrs" }'
	list_rule sender mail 'sender = { "list:emails" }'
	list_rule sender-domain mail 'sender_domain = { "list:doms" }'
	list_rule rcpt rcpt 'recipient = { "list:emails" }'
	list_rule rcpt-domain rcpt 'recipient_domain = { "list:doms" }'
}

# regex_conf N: N header rules, one regex each, over txn.mt's 12 headers.
regex_conf() {
	awk -v n="$1" 'BEGIN {
		split("Received From To Cc Subject Date Message-ID MIME-Version " \
		      "Content-Type Content-Transfer-Encoding X-Mailer Reply-To", h)
		for (i = 0; i < n; i++) {
			printf "rule \"re%d\" {\n\tstage = header\n", i
			printf "\theader = \"%s\"\n", h[i % 12 + 1]
			printf "\theader_regex = { \"(?:cheap|free)\\\\s+w%dx[a-z]{2,}\" }\n", i
			printf "\tverdict = reject\n\treply = \"550 5.7.1\"\n}\n"
		}
	}'
}

# scale_probe SOCK: a listed sender (the lists' first address) is refused.
scale_probe() {
	printf '%s\n' "connect x.test 127.0.0.1" "helo x.test" \
		"mail <$(head -n 1 "$E2E_DIR/lists/emails.txt")>" \
		>"$E2E_DIR/probe.mt"
	"$client" -s "$1" "$E2E_DIR/probe.mt" >"$E2E_DIR/probe.out" 2>&1
	grep -q "^mail: replycode 550 5.7.1" "$E2E_DIR/probe.out" ||
		bench_fail "the lists are not loaded: a listed sender got" \
			"$(tr '\n' ' ' <"$E2E_DIR/probe.out")"
}

# scale_one LABEL N CONF TARGET: start CONF, measure, add a report row.
# N is the entries per list ("-" for none). Sets SC_CPU (us/msg).
scale_one() {
	local label=$1 n=$2 conf=$3 target=$4 sock hwm rss c0 c1 base=""
	sock=unix:$E2E_DIR/sock/scale.sock
	bench_start "scale-$label" "$sock" "$bin" "${MILTER_AS[@]}" -f \
		-c "$conf" -p "$sock"
	hwm=$(mem_mib "$BPID" VmHWM)
	rss=$(mem_mib "$BPID" VmRSS)
	[ "$n" != - ] && scale_probe "$sock"
	"$client" -s "$sock" -q -n "$warm_sessions" -j "$jobs" "$txn" \
		>/dev/null 2>&1 || bench_fail "$label: mtclient warm-up failed"
	c0=$(cpu_s "$BPID")
	mt_load "$sock" "$scale_sessions" "$txn" ||
		bench_fail "$label: mtclient sessions failed ($MT_LINE)"
	c1=$(cpu_s "$BPID")
	SC_CPU=$(calc "\"%.0f\", ($c1 - $c0) * 1000000 / $scale_sessions")
	say "  $label: $MT_LINE"
	[ -n "${5-}" ] && base="$(ratio "$SC_CPU" "$5")"
	row "$label" "$n" "$BLOAD" "$hwm" "$rss" \
		"$(mem_mib "$BPID" VmRSS)" "$MT_RATE" "$MT_P50" "$MT_P99" \
		"$SC_CPU" "$base" "$target"
	milter_stop "$BPID"
}

# scale_body: one transaction with a BENCH_BODY_MB MiB body through
# policy-35 (5 body regexes): the milter's peak memory before and after.
scale_body() {
	local sock hwm0 t0 lines
	sock=unix:$E2E_DIR/sock/body.sock
	lines=$((body_mb * 1024 * 1024 / 64))
	sed "s/^body .*/body \"The quick brown fox jumps over the lazy dog. 0123456789 abcdef\\\\r\\\\n\"*$lines/" \
		"$txn" >"$E2E_DIR/bigbody.mt"
	bench_start "body" "$sock" "$bin" "${MILTER_AS[@]}" -f \
		-c "$policy35" -p "$sock"
	"$client" -s "$sock" -q -n 20 -j 1 "$txn" >/dev/null 2>&1 ||
		bench_fail "body: warm-up failed"
	hwm0=$(mem_mib "$BPID" VmHWM)
	t0=$(now)
	"$client" -s "$sock" -T 120 "$E2E_DIR/bigbody.mt" \
		>"$E2E_DIR/bigbody.out" 2>&1 ||
		bench_fail "body: the $body_mb MiB transaction failed"
	grep -q "^eom: continue\|^eom: accept" "$E2E_DIR/bigbody.out" ||
		bench_fail "body: no end of message answer"
	md ""
	md "A $body_mb MiB body (\`$lines\` lines of 64 bytes, txn.mt's" \
		"headers) through policy-35.conf (5 body regexes), one session:" \
		"$(calc "\"%.2f\", $(now) - $t0") s; the milter's peak RSS" \
		"(VmHWM) $hwm0 MiB before, $(mem_mib "$BPID" VmHWM) MiB after," \
		"RSS now $(mem_mib "$BPID" VmRSS) MiB. Target: memory bounded" \
		"by the match window, not the message."
	milter_stop "$BPID"
}

# scale_lookups SIZES...: ns a lookup of values no list holds, in the
# milter's own sets built from the lists' first N lines (tests/bench/
# lookup.c), sizes alternating, $rounds rounds, medians.
scale_lookups() {
	local r n kind ns k
	local -A got
	for ((r = 1; r <= rounds; r++)); do
		for n in "$@"; do
			"$lookup" "$E2E_DIR/lists" "$n" >"$E2E_DIR/lookup.out" 2>&1 ||
				bench_fail "lookup $n: $(tr '\n' ' ' <"$E2E_DIR/lookup.out")"
			while read -r kind k ns; do
				got[$kind-$k]+=" $ns"
			done <"$E2E_DIR/lookup.out"
		done
	done
	md ""
	md "Cost of one lookup (\`tests/bench/lookup DIR N\`: the same three" \
		"lists, their first N lines, in the milter's own sets; 2,000,000" \
		"lookups a kind of 65,536 distinct values none holds, round" \
		"robin: IPv4 addresses, host names under example.test, e-mail" \
		"addresses there), $rounds rounds, sizes alternating, medians" \
		"in ns:"
	md ""
	local sep=(---)
	for n in "$@"; do
		sep+=(---)
	done
	row "kind" "$@" "${*: -1} vs 10" "target"
	row "${sep[@]}" --- ---
	for kind in address domain email; do
		local cells=()
		for n in "$@"; do
			# shellcheck disable=SC2086 # a list of numbers
			cells+=("$(median ${got[$kind-$n]})")
		done
		row "$kind" "${cells[@]}" \
			"$(ratio "${cells[$(($# - 1))]}" "${cells[0]}")" "<= 2x"
	done
}

bench_scale() {
	local n sizes=(10 10000) base10
	[ "$big_n" -gt 10000 ] && sizes+=("$big_n")
	say ""
	say "== 3. Scale: lists of ${sizes[*]} entries, $regexes header" \
		"regexes, a $body_mb MiB body"
	echo "# no rules" >"$E2E_DIR/empty.conf"
	md ""
	md "### 3. Scale"
	md ""
	md "Three lists of N entries each: addresses (IPv4 /24 and /32, IPv6" \
		"/64 and /128, in turn), domains (a name, then \".name\" for its" \
		"subdomains, in turn), e-mail addresses; five rules read them" \
		"(client address; sender and sender domain; recipient and" \
		"recipient domain, three recipients: 11 lookups a message)." \
		"Load: from start until mtclient's negotiation is answered." \
		"Peak/steady RSS: VmHWM/VmRSS after loading, and VmRSS after the" \
		"run. Cost: \`mtclient -q -l -n $scale_sessions -j $jobs" \
		"tests/bench/txn.mt\`; CPU is the milter's utime+stime."
	md ""
	row "policy" "entries per list" "load s" "peak RSS MiB" \
		"steady RSS MiB" "RSS after run MiB" "msg/s" "p50 ms" "p99 ms" \
		"CPU us/msg" "CPU vs 10 entries" "target"
	row "---" "---" "---" "---" "---" "---" "---" "---" "---" "---" "---" "---"
	scale_one "no rules" - "$E2E_DIR/empty.conf" ""
	local base_empty=$SC_CPU
	for n in "${sizes[@]}"; do
		scale_conf "$n" >"$E2E_DIR/scale-$n.conf"
		if [ "$n" = 10 ]; then
			scale_one "3 lists" "$n" "$E2E_DIR/scale-$n.conf" ""
			base10=$SC_CPU
		else
			scale_one "3 lists" "$n" "$E2E_DIR/scale-$n.conf" \
				"$([ "$n" = 1000000 ] && echo "<= 2x 10 entries; load < 2 s; peak < 150 MB")" \
				"$base10"
		fi
	done
	regex_conf "$regexes" >"$E2E_DIR/regex.conf"
	scale_one "$regexes header regexes" - "$E2E_DIR/regex.conf" \
		"< 1 ms (1000 us) added a message"
	md ""
	md "The $regexes header regexes added" \
		"$(calc "\"%.0f\", $SC_CPU - $base_empty") us of milter CPU a" \
		"message over the policy with no rules ($base_empty us)."
	scale_lookups "${sizes[@]}"
	scale_body
}
