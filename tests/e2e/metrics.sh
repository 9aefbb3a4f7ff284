#!/bin/bash
# metrics.sh: the milter's counters as Prometheus gets them on Debian.
#
# One replycode-milter behind a private Postfix writes stats_file into the
# textfile folder of a real prometheus-node-exporter (Debian's package,
# started here on a free port of 127.0.0.1 with only its textfile
# collector, never the system's instance). A scripted run with swaks: a
# client refused at connect, a message with a refused recipient and a
# dry-run match, a plain message. Then node_exporter's /metrics, fetched
# over loopback, must hold the milter's counters with the values of that
# run, and say it read the file without error. A second node_exporter
# reads a folder that holds only a symbolic link to the file (the layout
# README.md's "Metrics" recommends on Debian) and must serve the same.
# Ends with "N passed, N failed" (and ", N skipped").
#
# Usage: tests/e2e/metrics.sh   (root; not root: one skip line, exit 0)

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	e2e_skip "metrics through Postfix and node_exporter" \
		"needs root (Postfix master, smtp-sink -u)"
	e2e_finish
fi
if pf_skip=$(e2e_postfix_missing); then
	e2e_skip "metrics through Postfix and node_exporter" "$pf_skip"
	e2e_finish
fi
command -v prometheus-node-exporter >/dev/null ||
	e2e_die "no prometheus-node-exporter (packaging/deps.sh check installs it)"
e2e_tmpdir
bin=$top/replycode-milter
version=$(sed -n 's/^VERSION = //p' "$top/Makefile")
[ -x "$bin" ] || e2e_die "no $bin: run make first"

textfile=$E2E_DIR/textfile
own=$E2E_DIR/own
linked=$E2E_DIR/linked
mkdir -m 0755 "$textfile" "$own" "$linked"
prom=$textfile/replycode_milter.prom
mport=$(free_port) || e2e_die "no free port"
msock="inet:$mport@127.0.0.1"
{
	echo "stats_file = \"$prom\""
	echo "stats_interval = 1"
	cat "$top/tests/proto/metrics-rules.conf"
} >"$E2E_DIR/metrics.conf"

milter_start "$msock" "$bin" "${MILTER_AS[@]}" -f -c "$E2E_DIR/metrics.conf" \
	-p "$msock" || e2e_die "the milter does not start"
postfix_start "$(milter_socket_postfix "$msock")" \
	"milter_default_action = tempfail" ||
	e2e_die "postfix does not start"
node_exporter_start "$textfile" || e2e_die "node_exporter does not start"

# The scripted run.
smtp_dialogue "$POSTFIX_PORT" --local-interface 127.0.0.2 \
	--from a@sender.test --to ok@example.test >"$E2E_DIR/s1.out"
smtp_dialogue "$POSTFIX_PORT" --from watched@sender.test \
	--to ok@example.test,blocked@example.test >"$E2E_DIR/s2.out"
smtp_dialogue "$POSTFIX_PORT" --from a@sender.test --to ok@example.test \
	>"$E2E_DIR/s3.out"
assert_contains "the client of 127.0.0.2 is refused (Postfix's own 554)" \
	"$E2E_DIR/s1.out" '^<\*\* +554 '
assert_contains "blocked@example.test is refused" "$E2E_DIR/s2.out" \
	'^<\*\* +550 5\.1\.1 No such user here'
assert_contains "the message to ok@example.test is taken" "$E2E_DIR/s2.out" \
	'^<- +250 2\.0\.0 Ok: queued'
assert_contains "the plain message is taken" "$E2E_DIR/s3.out" \
	'^<- +250 2\.0\.0 Ok: queued'

# The file catches up within stats_interval (1 s); on a busy machine give
# it up to 30 s.
for _ in $(seq 300); do
	grep -qx 'replycode_milter_messages_total 2' "$prom" 2>/dev/null &&
		grep -qx 'replycode_milter_sessions_total 3' "$prom" && break
	sleep 0.1
done

node_exporter_metrics "$NODE_EXPORTER_PORT" >"$E2E_DIR/metrics.out" ||
	e2e_diag "fetching /metrics failed"
got=$E2E_DIR/metrics.out
assert_line "node_exporter read the textfile folder without error" "$got" \
	"node_textfile_scrape_error 0"
assert_contains "node_exporter names the milter's file" "$got" \
	"^node_textfile_mtime_seconds\{file=\"($textfile/)?replycode_milter\.prom\"\} "
want=(
	"replycode_milter_build_info{version=\"$version\"} 1"
	'replycode_milter_sessions_total 3'
	'replycode_milter_messages_total 2'
	'replycode_milter_decisions_total{stage="connect",verdict="reject"} 1'
	'replycode_milter_decisions_total{stage="rcpt",verdict="reject"} 1'
	'replycode_milter_replies_total{code="554 5.7.1",verdict="reject"} 1'
	'replycode_milter_replies_total{code="550 5.1.1",verdict="reject"} 1'
	'replycode_milter_rule_matches_total{mode="enforce",rule="client"} 1'
	'replycode_milter_rule_matches_total{mode="enforce",rule="user"} 1'
	'replycode_milter_rule_matches_total{mode="dry-run",rule="watch"} 1'
	'replycode_milter_rule_matches_total{mode="enforce",rule="watch"} 0'
	'replycode_milter_internal_errors_total{verdict="tempfail"} 0'
	'replycode_milter_policy_generation 1'
	'replycode_milter_reloads_total{result="done"} 0'
	'replycode_milter_message_duration_seconds_count 2'
	'replycode_milter_message_duration_seconds_bucket{le="+Inf"} 2'
	'replycode_milter_rule_info{mode="enforce",reply="550 5.1.1",rule="user",stage="rcpt",verdict="reject"} 1'
)
for w in "${want[@]}"; do
	assert_line "node_exporter serves $w" "$got" "$w"
done
assert_contains "node_exporter serves the HELP line of the milter's counters" \
	"$got" '^# HELP replycode_milter_rule_matches_total Times a rule'"'"'s conditions held'
assert_contains "node_exporter serves the histogram as one" "$got" \
	'^# TYPE replycode_milter_message_duration_seconds histogram$'

# README.md's Debian layout: the file in a folder of the milter's own, a
# symbolic link to it in the collector's folder.
cp "$prom" "$own/replycode-milter.prom"
ln -s "$own/replycode-milter.prom" "$linked/replycode-milter.prom"
first_port=$NODE_EXPORTER_PORT
node_exporter_start "$linked" ||
	e2e_die "a second node_exporter does not start"
node_exporter_metrics "$NODE_EXPORTER_PORT" >"$E2E_DIR/linked.out" ||
	e2e_diag "fetching /metrics of the second node_exporter failed"
assert_line "through a symbolic link: read without error" \
	"$E2E_DIR/linked.out" "node_textfile_scrape_error 0"
assert_line "through a symbolic link: the milter's sessions" \
	"$E2E_DIR/linked.out" 'replycode_milter_sessions_total 3'
e2e_diag "node_exporter on $first_port and $NODE_EXPORTER_PORT," \
	"postfix on $POSTFIX_PORT, milter on $mport"
e2e_finish
