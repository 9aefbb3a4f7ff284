#!/usr/bin/env bash
# fuzz.sh - build each fuzz target with clang's libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer, and fuzz it for FUZZ_SECONDS, FUZZ_JOBS
# targets at a time. Run by "make fuzz", which passes the flags below.
#
#   FUZZ_CC       compiler (clang)          FUZZ_SECONDS  per target (60)
#   FUZZ_CFLAGS   project flags             FUZZ_LIBS     libraries
#   FUZZ_CORE     policy core sources       FUZZ_JOBS     parallel runs (2)
#   FUZZ_OUT      scratch: binaries, new inputs, crashes and logs
#
#   FUZZ_CLEAN    1: remove FUZZ_OUT at the end when nothing was found
#                 (make check sets it; a crash is always kept)
#
# The corpus in the repo is only read: new inputs go to
# $FUZZ_OUT/corpus/NAME, crashes to $FUZZ_OUT/crash/DATE/NAME-*. Add a
# crash input to tests/fuzz/corpus/NAME/ once its bug is fixed, so that make
# check keeps it fixed. The policy core is compiled once (fuzzer-no-link)
# and linked into each target. Ends with "libfuzzer: N passed, N failed",
# one per target (failed: a crash, a leak, a timeout, an out-of-memory, a
# broken invariant, or no final statistics); exits non-zero when a target
# failed. An input is slow when it takes more than the timeout, 25 s: one
# that takes less (a hostile pattern the regex layer's per-call limits
# stop, many times over) is not reported as a slow unit, which libFuzzer
# would write beside the crashes from 10 s on.
set -u
cd "$(dirname "$0")/../.."

cc=${FUZZ_CC:-clang}
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_OUT:-${TMPDIR:-/tmp}/replycode-milter-fuzz}
cflags=${FUZZ_CFLAGS:--std=gnu11 -D_LIBMILTER_MFAPI_H -D_LIBMILTER_MFDEF_H -Imilter -D_GNU_SOURCE}
libs=${FUZZ_LIBS:-$(pkg-config --libs libconfuse libpcre2-8) -lpthread}
core=${FUZZ_CORE:-$(ls milter/lib/*.c milter/core/*.c milter/config/*.c)}
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

names=("$@")
[ ${#names[@]} -gt 0 ] ||
	names=(spec reply addr sets listfile config expand script regex dns)

# The longest input worth trying, per target.
max_len() {
	case $1 in
	spec) echo 64 ;;
	regex) echo 512 ;;
	addr) echo 2048 ;;
	listfile) echo 16384 ;;
	config) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found; install it as root with:" >&2
	echo "  apt-get install -y clang" >&2
	exit 1
fi
crash=$out/crash/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out/bin" "$crash" "$out/log" || exit 1
probe="$out/bin/probe"
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	'{ (void)d; (void)n; return 0; }' >"$probe.c"
if ! "$cc" $san -o "$probe" "$probe.c" 2>"$probe.err"; then
	v=$("$cc" -dumpversion | cut -d. -f1)
	echo "fuzz: $cc cannot link -fsanitize=fuzzer (libFuzzer missing):" >&2
	sed 's/^/  /' "$probe.err" >&2
	echo "Install it as root with:" >&2
	echo "  apt-get install -y libclang-rt-$v-dev" >&2
	exit 1
fi

# compile SRC: SRC to $out/obj/, instrumented but without libFuzzer's main.
compile() {
	local o
	o=$out/obj/$(basename "${1%.c}").o
	# shellcheck disable=SC2086
	"$cc" $cflags -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all -c -o "$o" "$1"
}

echo "fuzz: building the policy core and ${#names[@]} targets with $cc"
mkdir -p "$out/obj" || exit 1
objs=()
running=0
built=0
for src in $core tests/fuzz/fuzz_util.c; do
	compile "$src" &
	objs+=("$out/obj/$(basename "${src%.c}").o")
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || built=1
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || built=1
	running=$((running - 1))
done
[ "$built" -eq 0 ] || exit 1
for n in "${names[@]}"; do
	# shellcheck disable=SC2086
	"$cc" $cflags -g -O1 -fno-omit-frame-pointer $san \
		-o "$out/bin/fuzz_$n" "tests/fuzz/fuzz_$n.c" "${objs[@]}" \
		$libs || exit 1
done

run() {
	local n=$1 dict=()
	mkdir -p "$out/corpus/$n"
	[ -f "tests/fuzz/$n.dict" ] && dict=("-dict=tests/fuzz/$n.dict")
	"$out/bin/fuzz_$n" "${dict[@]}" -max_total_time="$secs" \
		-max_len="$(max_len "$n")" -timeout=25 -report_slow_units=25 \
		-rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crash/$n-" \
		"$out/corpus/$n" "tests/fuzz/corpus/$n" \
		>"$out/log/$n.log" 2>&1 </dev/null
}

echo "fuzz: $secs s per target, $jobs at a time; logs in $out/log"
running=0
for n in "${names[@]}"; do
	run "$n" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

passed=0
failed=0
for n in "${names[@]}"; do
	log=$out/log/$n.log
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
	rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
	crashes=$(ls "$crash/$n-"* 2>/dev/null)
	if [ -n "$crashes" ] || [ -z "$runs" ] ||
		grep -q -E '^==[0-9]+==ERROR|SUMMARY: |runtime error' "$log"; then
		failed=$((failed + 1))
		echo "not ok - fuzz_$n: ${last:-no progress line}; see $log"
		for c in $crashes; do echo "  input: $c"; done
		grep -E -m 5 '^==[0-9]+==ERROR|runtime error|^fuzz: ' "$log" |
			sed 's/^/  /'
	else
		passed=$((passed + 1))
		echo "ok - fuzz_$n: $runs inputs in $secs s ($rate exec/s);" \
			"corpus: ${last:-?}"
	fi
done
if [ "$failed" -eq 0 ] && [ "${FUZZ_CLEAN:-0}" = 1 ]; then
	rm -rf "$out"
else
	echo "fuzz: kept $out"
fi
echo "libfuzzer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
