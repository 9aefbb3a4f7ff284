#!/usr/bin/env bash
# valgrind.sh - the protocol suite (every case, -t, --explain, daemon mode,
# the SIGHUP reload cases, SIGTERM) with the normal ./replycode-milter
# under valgrind's memcheck:
#
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=99 --suppressions=tests/reliability/valgrind.supp
#
# Each milter run writes its own log; each must end with "ERROR SUMMARY:
# 0 errors" and "definitely lost: 0 bytes" (or "no leaks are possible"),
# and the protocol suite checks that each milter exits 0 after SIGTERM (99
# would be memcheck's finding). The one suppression is PCRE2's JIT code
# (see valgrind.supp); the count of reports it hid is printed.
#
# Then tests/proto/dns.sh (DNS lists against a real dnsmasq: lookups,
# the cache, a reload to another upstream, the server stopped, and
# --simulate) the same way, with every leak kind shown: in those runs no
# block of the resolver (dns.c, libunbound) may be left at exit, not even
# a reachable one (the milter stops its thread and frees its context).
#
# Prints the protocol suite's failures, one line per milter run, then
# "valgrind: N passed, N failed"; exits non-zero on any failure. Never
# writes into the tree; the protocol suite stops its milters by pid.
set -u
cd "$(dirname "$0")/../.." || exit 1

if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok - valgrind is not installed (packaging/deps.sh check)"
	echo "valgrind: 0 passed, 1 failed"
	exit 1
fi
logs=$(mktemp -d "${TMPDIR:-/tmp}/rcm-vg.XXXXXX") || exit 1
trap 'rm -rf "$logs"' EXIT
# The daemon case drops to nobody after valgrind opened its log.
chmod 755 "$logs"
passed=0
failed=0

echo "== tests/proto/run.sh under $(valgrind --version)"
vg="valgrind --leak-check=full --errors-for-leak-kinds=definite"
vg+=" --error-exitcode=99 --suppressions=tests/reliability/valgrind.supp"
vg+=" --log-file=$logs/vg.%p" # one line: run.sh reads it as words

# tally OUT RC PREFIX: a suite's output and status into passed and
# failed (its summary line "PREFIXN passed, N failed"; any failure when
# it exited non-zero without one).
tally() {
	local line p f
	grep -v '^ok - ' <<<"$1"
	line=$(grep -E "^$3[0-9]+ passed, [0-9]+ failed" <<<"$1" | tail -n 1)
	p=$(sed -E "s/^$3([0-9]+) passed.*/\\1/" <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	p=${p:-0}
	f=${f:-0}
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
}

out=$(MILTER_WRAP=$vg PROTO_SLOW="${PROTO_SLOW:-4}" tests/proto/run.sh 2>&1)
tally "$out" $? "proto: "

echo "== tests/proto/dns.sh under memcheck"
out=$(MILTER_WRAP="${vg/vg.%p/vg.dns.%p} --show-leak-kinds=all" \
	tests/proto/dns.sh 2>&1)
tally "$out" $? ""

runs=0
dnsruns=0
hidden=0
# resolver_left LOG: the loss records (any kind) whose stack goes through
# dns.c or libunbound.
resolver_left() {
	awk '/ in loss record / { rec = 1; hit = 0; next }
		rec && /\(dns\.c:|libunbound/ { hit = 1 }
		rec && /^==[0-9]+== *$/ { rec = 0; n += hit; hit = 0 }
		END { print n + 0 }' "$1"
}

# The protocol suite's temporary folder, left out of the lines below.
TMPDIR_PROTO=$(sed -n 's#.*\(/[^ ]*/rcm-proto\.[^/ ]*/\).*#\1#p' "$logs"/vg.* 2>/dev/null | head -n 1)
for log in "$logs"/vg.*; do
	[ -f "$log" ] || continue
	runs=$((runs + 1))
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -n 1)
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
	sup=$(sed -n 's/.*ERROR SUMMARY: .*(suppressed: \([0-9]*\) from.*/\1/p' "$log" | tail -n 1)
	if grep -q 'All heap blocks were freed' "$log"; then
		lost=0
	else
		lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1)
		lost=${lost//,/}
	fi
	hidden=$((hidden + ${sup:-0}))
	cmd=${cmd#*/replycode-milter }
	cmd=${cmd//$TMPDIR_PROTO/}
	left=$(resolver_left "$log")
	desc="$cmd: ${errs:-?} errors, ${lost:-?} bytes definitely lost"
	case $log in
	*/vg.dns.*)
		dnsruns=$((dnsruns + 1))
		desc+=", $left blocks of the resolver left"
		;;
	esac
	if [ "${errs:-x}" = 0 ] && [ "${lost:-x}" = 0 ] && [ "$left" = 0 ]; then
		passed=$((passed + 1))
		echo "ok - $desc"
	else
		failed=$((failed + 1))
		echo "not ok - $desc (${log##*/}):"
		sed -n '1,80s/^/#   /p' "$log"
	fi
done
if [ "$dnsruns" -lt 5 ]; then
	echo "not ok - only $dnsruns DNS milter runs logged by valgrind"
	failed=$((failed + 1))
fi
if [ "$runs" -lt 15 ]; then
	echo "not ok - only $runs milter runs logged by valgrind"
	failed=$((failed + 1))
fi
echo "# $runs milter runs under memcheck; $hidden reports in PCRE2's JIT code suppressed"
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
