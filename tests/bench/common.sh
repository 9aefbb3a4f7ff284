# common.sh - helpers of make bench, sourced by tests/bench/run.sh after
# tests/e2e/lib.sh: arithmetic, /proc readings, the report, and starting
# a candidate milter until it answers a negotiation.
#
# Must never: start a process that is not recorded by pid (lib.sh stops
# them at exit), or write anywhere but E2E_DIR and the report file.

# shellcheck shell=bash

now() {
	echo "$EPOCHREALTIME"
}

# calc FORMAT, EXPR...: floating point arithmetic, printed as awk's printf.
calc() {
	awk "BEGIN { printf $1 }"
}

# median NUMBER...: the median (the mean of the middle two for an even
# count); "-" when there is none.
median() {
	[ $# -gt 0 ] || {
		echo "-"
		return
	}
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]
		      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [FORMAT]: A / B, or "-" when either is missing or B is 0.
ratio() {
	case "$1$2" in *-* | "") echo "-" && return ;; esac
	awk -v a="$1" -v b="$2" -v f="${3:-%.2fx}" \
		'BEGIN { if (b + 0 == 0) print "-"; else printf f "\n", a / b }'
}

# cpu_s PID: user + system CPU seconds the process used so far (/proc).
cpu_s() {
	calc "\"%.2f\", $(proc_cpu_ticks "$1") / $tick"
}

# mem_mib PID FIELD: VmHWM (peak) or VmRSS (now) of PID in MiB.
mem_mib() {
	awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' \
		"/proc/$1/status" 2>/dev/null
}

# say TEXT: a progress line on stdout (not in the report).
say() {
	printf '%s\n' "$*"
}

# md TEXT: a line of the report (BENCHMARKS.md), echoed on stdout.
md() {
	printf '%s\n' "$*" | tee -a "$REPORT"
}

# row CELL...: a Markdown table row, "| a | b |".
row() {
	local out="|" c
	for c in "$@"; do
		out+=" $c |"
	done
	md "$out"
}

# bench_fail TEXT: record the failure in the report, append what was
# measured to BENCHMARKS.md and stop (lib.sh stops every process).
bench_fail() {
	md ""
	md "**FAILED: $1** (the run stopped here)"
	report_append
	e2e_die "$1"
}

# negotiates SOCKET: 0 when a milter answers a negotiation on SOCKET.
negotiates() {
	echo quit | "$client" -s "$1" -T 2 -q >/dev/null 2>&1
}

# bench_start NAME SOCKET CMD...: start CMD in the background (recorded by
# pid), wait (BENCH_START_WAIT s, 180 by default) until SOCKET answers a
# negotiation; a unix socket is then opened to everyone (Postfix's smtpd
# runs as postfix). Sets BPID and BLOAD (seconds from start to answer).
bench_start() {
	local name=$1 sock=$2 log t0 i
	shift 2
	log=$(mktemp "$E2E_DIR/$name.XXXXXX.log")
	t0=$(now)
	_e2e_spawn "$log" "$@"
	BPID=$!
	_e2e_record pid "$BPID"
	for ((i = 0; i < ${BENCH_START_WAIT:-180} * 50; i++)); do
		if { [[ $sock != unix:* ]] || [ -S "${sock#unix:}" ]; } &&
			negotiates "$sock"; then
			BLOAD=$(calc "\"%.2f\", $(now) - $t0")
			[[ $sock == unix:* ]] && chmod 666 "${sock#unix:}"
			say "  started $name (pid $BPID) on $sock in $BLOAD s: $*"
			return 0
		fi
		_e2e_alive "$BPID" || break
		sleep 0.02
	done
	_e2e_show "$log"
	bench_fail "$name did not answer a negotiation on $sock: $*"
}

# mt_load SOCKET N SCRIPT: mtclient -q -l -n N -j BENCH_JOBS SCRIPT. Sets
# MT_RATE (sessions/s), MT_P50, MT_P99 (ms), MT_LINE (its output); 1 when
# a session failed.
mt_load() {
	local out ok failed el
	out=$(timeout -k 5 900 "$client" -s "$1" -q -l -n "$2" -j "$jobs" \
		"$3" 2>"$E2E_DIR/mt.err")
	MT_LINE=$(tr '\n' ' ' <<<"$out")
	ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")
	failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$out")
	el=$(sed -n 's/.* elapsed=\([0-9.]*\)s.*/\1/p' <<<"$out")
	MT_P50=$(sed -n 's/.* p50=\([0-9.]*\)ms.*/\1/p' <<<"$out")
	MT_P99=$(sed -n 's/.* p99=\([0-9.]*\)ms.*/\1/p' <<<"$out")
	MT_RATE=""
	if [ "${ok:-0}/${failed:-?}" != "$2/0" ] || [ -z "$el" ]; then
		_e2e_show "$E2E_DIR/mt.err"
		return 1
	fi
	MT_RATE=$(calc "\"%.0f\", $2 / $el")
}
