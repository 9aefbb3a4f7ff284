#!/usr/bin/env bash
# run-all.sh - run every test suite: the Check unit tests given as
# arguments, then the packaging tests that need no package (deps.sh, the
# man pages, the source tree's floors, make install), the protocol tests
# against the real binary, the golden transactions of replycode-milter
# --simulate, the end-to-end tests through a real Postfix and a real
# Sendmail, the metrics through Postfix and node_exporter, the Debian package's build, install, upgrade and purge, then
# the reliability suites (RELIABILITY.md): sanitizers, valgrind, load,
# faults through Postfix, and libFuzzer for a short while on each fuzz
# target.
# With --only first, only the suites given as arguments (what a package
# build runs: debian/rules).
# Prints each suite's own summary and a final "N passed, N failed" line
# over all of them; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
suites_failed=""
times=""
t_all=$SECONDS

# Add a suite's counts, read from its last summary line.
count() {
	local name=$1 out=$2 rc=$3 line p f e
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
		e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
		f=$((f + e))
		p=$((p - f))
	else
		line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
		p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	fi
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # it died before it could count its failures
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || suites_failed="$suites_failed $name"
}

run() {
	local name=$1 out rc
	shift
	out=$(mktemp)
	echo "== $name"
	t=$SECONDS
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	count "$name" "$out" "$rc"
	times="$times$(printf '%-36s %4d s' "$name" $((SECONDS - t)))
"
	rm -f "$out"
}

only=0
if [ "${1:-}" = --only ]; then
	only=1
	shift
fi
for t in "$@"; do
	run "$(basename "$t")" "$t"
done
suites=(tests/package/deps.sh tests/package/docs.sh tests/package/layout.sh
	tests/package/install.sh
	tests/proto/run.sh tests/proto/dns.sh tests/simulate/run.sh tests/e2e/run.sh tests/e2e/metrics.sh
	tests/e2e/state.sh
	tests/package/deb.sh
	tests/reliability/sanitizers.sh tests/reliability/valgrind.sh
	tests/reliability/load.sh tests/reliability/faults.sh
	tests/fuzz/fuzz.sh)
[ "$only" -eq 1 ] && suites=()
for s in "${suites[@]}"; do
	[ -x "$s" ] && run "$s" "$s"
done

echo
printf '%s' "$times"
echo "(all suites: $((SECONDS - t_all)) s)"
[ -z "$suites_failed" ] || echo "failed suites:$suites_failed"
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
