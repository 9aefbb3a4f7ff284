#!/usr/bin/env bash
# sanitizers.sh - the unit tests and the protocol suite with the build of
# make san (gcc -fsanitize=address,undefined -fno-sanitize-recover=all, in
# build/san): the milter under AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer answers every protocol case, reloads and
# stops, then takes one round of load.sh (20,000 messages, 200 sessions at
# once); mtclient and the unit tests run with the same checks.
#
# Every sanitizer report goes to a file of its own (log_path), also from a
# daemon that changed its user; the suite fails when one exists, whatever
# the tests said. The unit tests run with CK_FORK=no: one process per
# suite, so LeakSanitizer sees at exit every block that any test did not
# free.
#
# Prints each part's output, then "sanitizers: N passed, N failed" (the
# unit, protocol and load checks, plus one for "no report"); exits
# non-zero on any failure. Must never write into the tree or leave a
# process behind (the suites it runs stop their milters by pid).
set -u
cd "$(dirname "$0")/../.." || exit 1

san=${SAN_DIR:-build/san}
passed=0
failed=0
logs=$(mktemp -d "${TMPDIR:-/tmp}/rcm-san.XXXXXX") || exit 1
trap 'rm -rf "$logs"' EXIT
# The daemon case drops to nobody, which must still write its report.
chmod 755 "$logs"
mkdir -m 1777 "$logs/reports"
ASAN_OPTIONS="log_path=$logs/reports/asan:detect_leaks=1"
ASAN_OPTIONS+=":detect_stack_use_after_return=1"
UBSAN_OPTIONS="log_path=$logs/reports/ubsan:print_stacktrace=1"
UBSAN_OPTIONS+=":halt_on_error=1"
export ASAN_OPTIONS UBSAN_OPTIONS

# tally OUTPUT RC: add the counts of the last Check or "N passed" line.
tally() {
	local line p=0 f=0 e=0
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+' <<<"$1" | tail -n 1)
	if [ -n "$line" ]; then
		read -r p f e < <(sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/' <<<"$line")
		f=$((f + e))
		p=$((p - f))
	else
		line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -n 1)
		read -r p f < <(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/' <<<"$line")
	fi
	p=${p:-0}
	f=${f:-0}
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
}

for t in "$san"/tests/unit/check_*; do
	if [ ! -x "$t" ]; then
		echo "not ok - no $t: run make san"
		failed=$((failed + 1))
		continue
	fi
	echo "== $t (CK_FORK=no)"
	out=$(CK_FORK=no "$t" 2>&1)
	rc=$?
	# indented: run-all.sh must read this suite's own total, not a Check line
	tail -n 1 <<<"$out" | sed 's/^/  /'
	tally "$out" "$rc"
done

echo "== tests/proto/run.sh with $san/replycode-milter and $san/tests/proto/mtclient"
out=$(MILTER_BIN="$san/replycode-milter" MTCLIENT="$san/tests/proto/mtclient" \
	PROTO_SLOW="${PROTO_SLOW:-2}" tests/proto/run.sh 2>&1)
rc=$?
grep -v '^ok - ' <<<"$out"
tally "$out" "$rc"

echo "== tests/proto/dns.sh (DNS lists, libunbound's threads) with $san/replycode-milter"
out=$(MILTER_BIN="$san/replycode-milter" MTCLIENT="$san/tests/proto/mtclient" \
	tests/proto/dns.sh 2>&1)
rc=$?
grep -v '^ok - ' <<<"$out"
tally "$out" "$rc"

echo "== tests/reliability/load.sh, one round, with $san/replycode-milter"
out=$(MILTER_BIN="$san/replycode-milter" LOAD_ROUNDS=1 LOAD_ARENA_MAX= \
	tests/reliability/load.sh 2>&1)
rc=$?
grep -v '^ok - ' <<<"$out"
tally "$out" "$rc"

reports=$(find "$logs/reports" -type f | sort)
if [ -z "$reports" ]; then
	echo "ok - no AddressSanitizer, LeakSanitizer or UBSan report"
	passed=$((passed + 1))
else
	echo "not ok - sanitizer reports: $(wc -l <<<"$reports")"
	for r in $reports; do
		echo "# $r:"
		sed -n '1,60s/^/#   /p' "$r"
	done
	failed=$((failed + 1))
fi
echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
