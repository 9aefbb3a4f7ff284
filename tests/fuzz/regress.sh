#!/usr/bin/env bash
# regress.sh - run every fuzz target, built with the project's compiler
# (make fuzz-regress builds them), over each file of its corpus in
# tests/fuzz/corpus/NAME/, each input in its own process.
# Usage: tests/fuzz/regress.sh [NAME...]   (default: every fuzz_NAME.c)
# Prints each target's summary, then "fuzz: N passed, N failed", one pass
# per corpus file that ran without a crash or a broken invariant; exits
# non-zero when anything failed.
set -u
cd "$(dirname "$0")/../.."

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		n=${src#tests/fuzz/fuzz_}
		[ "$n" = util.c ] && continue
		names+=("${n%.c}")
	done
fi

passed=0
failed=0
for n in "${names[@]}"; do
	bin=tests/fuzz/fuzz_$n
	corpus=tests/fuzz/corpus/$n
	if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
		echo "fuzz_$n: missing $bin or $corpus"
		failed=$((failed + 1))
		continue
	fi
	out=$("$bin" "$corpus" 2>&1)
	echo "$out" | grep -v '^fuzz: broken invariant' | tail -n 20
	echo "$out" | grep '^fuzz: broken invariant' | sed 's/^fuzz: /  /'
	line=$(echo "$out" | grep -E "^fuzz_$n: [0-9]+ run" | tail -n 1)
	if [ -z "$line" ]; then
		echo "fuzz_$n: no summary"
		failed=$((failed + 1))
		continue
	fi
	p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
