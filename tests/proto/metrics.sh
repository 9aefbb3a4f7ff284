# metrics.sh - the protocol suite's part on stats_file (sourced by
# tests/proto/run.sh, whose start, stop, ok, not_ok, wait_log, $tmp,
# $client, $T and $pid it uses).
#
# The real milter writes stats_file at start and every stats_interval;
# after a scripted set of sessions (mtclient) the file holds their counts
# (sessions, decisions, replies, rule matches, messages); a SIGHUP that
# loads and one that is refused show in reloads_total and
# policy_generation; a reader looping over the file all along never sees
# it half-written; a real promtool accepts it (and refuses a broken copy);
# every metric the Grafana dashboard (packaging/grafana) queries is one
# the file holds. A folder the milter cannot write to is logged once,
# not every interval, and the milter goes on answering; once it can, it
# says so and the file is there.
#
# shellcheck shell=bash
# shellcheck disable=SC2154 # tmp, client, sock, pid: set by run.sh

dashboard=packaging/grafana/replycode-milter.json
mdir=$tmp/metrics
mkdir -p "$mdir"
mfile=$mdir/replycode-milter.prom
interval=1
# A rewrite is due every $interval s; on a busy machine (or under
# valgrind) give it $T s more.
due=$((interval + T))

# metric FILE SERIES: the value of SERIES (name and labels exactly as
# written) in FILE, or nothing.
metric() {
	awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2) }' "$1" 2>/dev/null
}

# wait_metric SERIES VALUE: until stats_file says SERIES VALUE (at most
# $due s); then ok, else not_ok with what it said.
wait_metric() {
	local got=""
	for _ in $(seq $((due * 10))); do
		got=$(metric "$mfile" "$1")
		[ "$got" = "$2" ] && break
		sleep 0.1
	done
	if [ "$got" = "$2" ]; then
		ok "metrics: $1 $2"
	else
		not_ok "metrics: $1: got \"$got\", want \"$2\""
		grep -F -- "${1%%\{*}" "$mfile" 2>/dev/null | sed 's/^/    /'
	fi
}

# exported FILE: every metric name FILE declares (its TYPE lines; for a
# histogram its _bucket, _sum and _count, which Prometheus stores) or
# holds samples of, one a line.
exported() {
	{
		awk '$1 == "#" && $2 == "TYPE" {
			if ($4 == "histogram")
				print $3 "_bucket\n" $3 "_sum\n" $3 "_count"
			else
				print $3 }' "$1"
		grep -v '^#' "$1" | sed -E 's/[{ ].*//'
	} | sort -u
}

# check_dashboard JSON PROM: JSON is a dashboard whose every query names
# at least one replycode_milter_ metric and parses (promtool check rules),
# and every replycode_milter_ name
# anywhere in it (queries, variables, texts) is one PROM exports.
# Prints what is wrong; 1 when something is.
check_dashboard() {
	local json=$1 prom=$2 names exprs bad=0 n
	if ! exprs=$(jq -r '[.. | objects | select(has("expr")) | .expr] | .[]' \
		"$json" 2>&1); then
		echo "    $json is no JSON jq reads: $exprs"
		return 1
	fi
	n=$(jq '[.. | objects | select(has("expr"))] | length' "$json")
	if [ "$n" -lt 1 ]; then
		echo "    $json has no query"
		return 1
	fi
	while IFS= read -r e; do
		if ! grep -q 'replycode_milter_' <<<"$e"; then
			echo "    a query names no replycode_milter_ metric: $e"
			bad=1
		fi
	done <<<"$exprs"
	# each query parses as PromQL (Grafana's variables given values)
	{
		echo "groups:"
		echo "  - name: dashboard"
		echo "    rules:"
		n=0
		while IFS= read -r e; do
			n=$((n + 1))
			e=${e//\$__rate_interval/5m}
			e=${e//\$__range/1h}
			e=${e//\$instance/.*}
			echo "      - record: dashboard_query_$n"
			echo "        expr: '${e//\'/\'\'}'"
		done <<<"$exprs"
	} >"$mdir/dashboard-rules.yml"
	if ! promtool check rules "$mdir/dashboard-rules.yml" \
		>"$mdir/rules.out" 2>&1; then
		echo "    a query is no PromQL promtool reads:"
		sed 's/^/    /' "$mdir/rules.out"
		bad=1
	fi
	names=$(grep -oE 'replycode_milter_[a-zA-Z0-9_]+' "$json" | sort -u)
	for m in $names; do
		if ! exported "$prom" | grep -qx -- "$m"; then
			echo "    the dashboard queries $m, which the milter does not export"
			bad=1
		fi
	done
	return "$bad"
}

{
	echo "stats_file = \"$mfile\""
	echo "stats_interval = $interval"
	cat tests/proto/metrics-rules.conf
} >"$mdir/m.conf"
# Three sessions: refused at connect; a dry-run hit, a refused recipient
# and a message; a plain message.
cat >"$mdir/run.mt" <<'EOF'
connect mx.example.test 127.0.0.2 4321
quit
EOF
cat >"$mdir/msg.mt" <<'EOF'
connect c.example.test 198.51.100.1 4321
helo c.example.test
mail <watched@sender.test>
rcpt <blocked@example.test>
rcpt <ok@example.test>
data
header Subject hi
eoh
body "hello\r\n"
eom
quit
EOF
sed 's/watched@/ok@/; /blocked@/d' "$mdir/msg.mt" >"$mdir/plain.mt"

if start "$mdir/m.conf" "$mdir/m.log"; then
	# At start, before any session (the first write is just after the
	# "started" line start() waits for).
	for _ in $(seq $((T * 10))); do
		[ -s "$mfile" ] && break
		sleep 0.1
	done
	if [ "$(metric "$mfile" replycode_milter_policy_generation)" = 1 ] &&
		[ -n "$(metric "$mfile" replycode_milter_sessions_total)" ]; then
		ok "metrics: stats_file written at start (generation 1)"
	else
		not_ok "metrics: stats_file written at start: $(ls -l "$mdir")"
	fi
	if [ "$(stat -c %a "$mfile" 2>/dev/null)" = 644 ]; then
		ok "metrics: stats_file is 0644 (node_exporter reads it as its own user)"
	else
		not_ok "metrics: stats_file mode: got $(stat -c %a "$mfile" 2>&1), want 644"
	fi
	# A reader all along: every read must be a whole file, from the first
	# HELP line to the histogram's count.
	: >"$mdir/reads"
	(
		n=0 bad=0
		while [ ! -e "$mdir/stop-reader" ]; do
			text=""
			IFS= read -r -d '' text <"$mfile"
			n=$((n + 1))
			if [[ "$text" != "# HELP replycode_milter_build_info "* ]] ||
				[[ "$text" != *$'\nreplycode_milter_message_duration_seconds_count '+([0-9])$'\n' ]]; then
				bad=$((bad + 1))
				printf '%s\n' "$text" >"$mdir/bad-read"
			fi
		done
		echo "$n $bad" >"$mdir/reads"
	) &
	reader=$!
	inode=$(stat -c %i "$mfile")
	rewritten=0
	for _ in $(seq $((due * 10))); do
		if [ "$(stat -c %i "$mfile")" != "$inode" ]; then
			rewritten=1
			break
		fi
		sleep 0.1
	done
	if [ "$rewritten" = 1 ]; then
		ok "metrics: stats_file rewritten (a new file renamed over it) within ${due} s"
	else
		not_ok "metrics: stats_file not rewritten within ${due} s"
	fi

	for s in run msg plain; do
		"$client" -T "$T" -s "unix:$sock" "$mdir/$s.mt" >"$mdir/$s.out" 2>&1
	done
	if grep -q '^connect: replycode 554 5.7.1' "$mdir/run.out" &&
		grep -q '^rcpt: replycode 550 5.1.1' "$mdir/msg.out"; then
		ok "metrics: the scripted sessions got their replies"
	else
		not_ok "metrics: the scripted sessions got their replies: $(cat "$mdir"/*.out)"
	fi
	wait_metric replycode_milter_sessions_total 3
	wait_metric replycode_milter_messages_total 2
	wait_metric 'replycode_milter_decisions_total{stage="connect",verdict="reject"}' 1
	wait_metric 'replycode_milter_decisions_total{stage="rcpt",verdict="reject"}' 1
	wait_metric 'replycode_milter_replies_total{code="554 5.7.1",verdict="reject"}' 1
	wait_metric 'replycode_milter_replies_total{code="550 5.1.1",verdict="reject"}' 1
	wait_metric 'replycode_milter_rule_matches_total{rule="client",mode="enforce"}' 1
	wait_metric 'replycode_milter_rule_matches_total{rule="user",mode="enforce"}' 1
	wait_metric 'replycode_milter_rule_matches_total{rule="watch",mode="dry-run"}' 1
	wait_metric 'replycode_milter_rule_matches_total{rule="watch",mode="enforce"}' 0
	wait_metric 'replycode_milter_message_duration_seconds_count' 2
	wait_metric 'replycode_milter_message_duration_seconds_bucket{le="+Inf"}' 2
	wait_metric 'replycode_milter_internal_errors_total{verdict="tempfail"}' 0

	# A reload that loads (a rule more), then one that is refused.
	printf 'rule "extra" {\n\tstage = helo\n\thelo = { "x.test" }\n\tverdict = tempfail\n\treply = "450 4.7.1"\n}\n' >>"$mdir/m.conf"
	kill -HUP "$pid"
	wait_log "$mdir/m.log" "rules; new connections use it" 1
	wait_metric 'replycode_milter_reloads_total{result="done"}' 1
	wait_metric 'replycode_milter_reloads_total{result="refused"}' 0
	wait_metric replycode_milter_policy_generation 2
	wait_metric 'replycode_milter_rule_info{rule="extra",stage="helo",verdict="tempfail",reply="450 4.7.1",mode="enforce"}' 1
	"$client" -T "$T" -s "unix:$sock" "$mdir/msg.mt" >"$mdir/msg2.out" 2>&1
	wait_metric 'replycode_milter_rule_matches_total{rule="user",mode="enforce"}' 2
	echo 'rule "broken" { stage = nowhere }' >>"$mdir/m.conf"
	kill -HUP "$pid"
	wait_log "$mdir/m.log" "keeping the policy in force" 1
	wait_metric 'replycode_milter_reloads_total{result="refused"}' 1
	wait_metric 'replycode_milter_reloads_total{result="done"}' 1
	wait_metric replycode_milter_policy_generation 2
	loaded=$(metric "$mfile" replycode_milter_last_load_time_seconds)
	now=$(date +%s)
	if [ -n "$loaded" ] && [ "$loaded" -le "$now" ] &&
		[ "$loaded" -ge $((now - 60)) ]; then
		ok "metrics: last_load_time_seconds within the last minute ($loaded, now $now)"
	else
		not_ok "metrics: last_load_time_seconds: got \"$loaded\", now $now"
	fi

	touch "$mdir/stop-reader"
	wait "$reader"
	read -r reads bad_reads <"$mdir/reads"
	if [ "${reads:-0}" -gt 0 ] && [ "${bad_reads:-1}" = 0 ]; then
		ok "metrics: never half-written ($reads reads while it was rewritten)"
	else
		not_ok "metrics: half-written: ${bad_reads:-?} of ${reads:-?} reads; one:"
		sed 's/^/    /' "$mdir/bad-read" | tail -5
	fi
	if [ -e "$mfile.tmp" ]; then
		not_ok "metrics: $mfile.tmp left behind"
	else
		ok "metrics: no .tmp left behind"
	fi
	cp "$mfile" "$mdir/seen.prom"
	stop "metrics"
	# (the file written at stop is whole too)
	if promtool check metrics <"$mfile" >"$mdir/promtool.out" 2>&1; then
		ok "metrics: promtool check metrics accepts stats_file"
	else
		not_ok "metrics: promtool check metrics accepts stats_file:"
		sed 's/^/    /' "$mdir/promtool.out"
	fi
	# promtool does check: a counter without _total and a sample of a
	# family twice
	sed -e 's/sessions_total/sessions/g' \
		-e '/^replycode_milter_policy_generation /p' "$mfile" \
		>"$mdir/broken.prom"
	if ! promtool check metrics <"$mdir/broken.prom" >"$mdir/promtool.out" 2>&1; then
		ok "metrics: promtool refuses a broken copy"
	else
		not_ok "metrics: promtool refuses a broken copy (it found nothing)"
	fi

	if [ -f "$dashboard" ] && out=$(check_dashboard "$dashboard" "$mfile"); then
		ok "metrics: every metric the dashboard queries is exported ($(jq '[.. | objects | select(has("expr"))] | length' "$dashboard") queries)"
	else
		not_ok "metrics: every metric the dashboard queries is exported:"
		echo "${out:-    no $dashboard}"
	fi
	# ... and the check does fail: a dashboard naming a metric the milter
	# does not have, and one whose query names none
	if [ -f "$dashboard" ]; then
		sed 's/replycode_milter_replies_total/replycode_milter_replys_total/' \
			"$dashboard" >"$mdir/typo.json"
		jq '.panels[1].targets[0].expr = "rate(up[5m])"' "$dashboard" \
			>"$mdir/nometric.json"
		jq '.panels[1].targets[0].expr |= sub("\\)$"; "")' "$dashboard" \
			>"$mdir/unparsed.json"
		if ! check_dashboard "$mdir/typo.json" "$mfile" >/dev/null &&
			! check_dashboard "$mdir/nometric.json" "$mfile" >/dev/null &&
			! check_dashboard "$mdir/unparsed.json" "$mfile" >/dev/null; then
			ok "metrics: the dashboard check refuses an unknown metric, a query without one, a query that does not parse"
		else
			not_ok "metrics: the dashboard check refuses an unknown metric, a query without one, a query that does not parse"
		fi
	fi
else
	not_ok "metrics: milter starts with stats_file"
fi

# A folder the milter's user cannot write to: logged once, not every
# interval, the milter answers all the while; once it can write, it says
# so. As root the milter runs as nobody, and $tmp (0700) shuts it out.
ro=$mdir/ro
mkdir -p "$ro"
sed "s|$mfile|$ro/replycode-milter.prom|" "$mdir/m.conf" |
	sed '/^rule "broken"/d' >"$mdir/ro.conf"
saved_as=("${as_user[@]}")
if [ "$(id -u)" = 0 ]; then
	as_user=(-u nobody)
else
	chmod 0555 "$ro"
fi
if start "$mdir/ro.conf" "$mdir/ro.log"; then
	sleep $((3 * interval + 1))
	"$client" -T "$T" -s "unix:$sock" "$mdir/run.mt" >"$mdir/ro.out" 2>&1
	n=$(grep -c "cannot write stats_file $ro/replycode-milter.prom" "$mdir/ro.log")
	if [ "$n" = 1 ] && grep -q "Permission denied" "$mdir/ro.log"; then
		ok "metrics: an unwritable folder is logged once ($((3 * interval + 1)) s, interval $interval s)"
	else
		not_ok "metrics: an unwritable folder is logged once: $n times"
		sed 's/^/    log: /' "$mdir/ro.log"
	fi
	if grep -q '^connect: replycode 554 5.7.1' "$mdir/ro.out" &&
		kill -0 "$pid" 2>/dev/null; then
		ok "metrics: the milter runs on and answers"
	else
		not_ok "metrics: the milter runs on and answers: $(cat "$mdir/ro.out")"
	fi
	# now it may write
	if [ "$(id -u)" = 0 ]; then
		chmod 0711 "$tmp"
		chmod 0755 "$mdir"
		chown nobody "$ro"
	else
		chmod 0755 "$ro"
	fi
	if wait_log "$mdir/ro.log" "written again" 1 &&
		[ "$(metric "$ro/replycode-milter.prom" replycode_milter_sessions_total)" -ge 1 ]; then
		ok "metrics: once it can write, it says so and writes"
	else
		not_ok "metrics: once it can write, it says so and writes"
		sed 's/^/    log: /' "$mdir/ro.log"
	fi
	chmod 0700 "$tmp"
	stop "metrics, unwritable folder"
else
	not_ok "metrics: milter starts with an unwritable stats folder"
fi
as_user=("${saved_as[@]}")
