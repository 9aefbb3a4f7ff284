#!/bin/bash
# run.sh - make bench: measure replycode-milter against the floor (a milter
# that does nothing, tests/bench/floor.c) and milter-regex 3.1, and append
# the tables to BENCHMARKS.md. Three parts, one file each:
#   postfix.sh  through a private Postfix relaying to smtp-sink, and the
#               syscalls of each milter there (strace -f -c)
#   proto.sh    the milter protocol with no MTA (tests/proto/mtclient)
#   scale.sh    lists of 10 to 1,000,000 entries, 1,000 header regexes,
#               a 50 MiB body
#   dns.sh      what DNS lists cost a session, answers cached and not
#               (against dnsmasq on 127.0.0.1)
#   state.sh    what rate limits and greylisting add to a message, on
#               LMDB and on a Redis of its own on loopback
# common.sh holds the helpers.
#
# Timings are measured and written next to the issue's targets, never
# compared with them: the machine may be shared and noisy. Exits non-zero
# only when something did not run: a server did not start, a message was
# lost, a session failed (what was measured until then is still appended).
#
# Must never: listen beyond 127.0.0.1, touch /etc/postfix or the system's
# queues, write into the tree anything but BENCHMARKS.md, or leave a
# process behind (everything is recorded by pid through tests/e2e/lib.sh
# and stopped at exit). Needs root (a private Postfix), ./replycode-milter,
# tests/proto/mtclient and tests/bench/floor (make bench builds them).
#
# Usage: tests/bench/run.sh   (from make bench); about 7 minutes.
#   BENCH_MESSAGES   messages a Postfix run (2000)
#   BENCH_ROUNDS     rounds of parts 1 and 2 (3)
#   BENCH_TRACE_MESSAGES  messages under strace -f -c in part 1 (300)
#   BENCH_SESSIONS   mtclient transactions a protocol run (20000)
#   BENCH_JOBS       mtclient connections at once (8)
#   BENCH_ENTRIES    the largest list size (1000000)
#   BENCH_SCALE_SESSIONS  mtclient transactions a scale run (10000)
#   BENCH_REGEXES    header regexes (1000)
#   BENCH_BODY_MB    the big body in MiB (50)
#   BENCH_DNS_SESSIONS  mtclient sessions a DNS run (5000)
#   BENCH_PARTS      which parts run: "postfix proto scale dns state" (all)
#   BENCH_BASE       another replycode-milter binary (say, built from
#                    main) run with policy-35 as one more candidate in
#                    parts 1 and 2: a change measured before and after
#                    in one run (none)
#   BENCH_OUT        the file the report is appended to (BENCHMARKS.md at
#                    the top of the tree)

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../e2e/lib.sh
. "$root/tests/e2e/lib.sh"

bin=$root/replycode-milter
client=$root/tests/proto/mtclient
floor=$root/tests/bench/floor
lookup=$root/tests/bench/lookup
policy35=$here/policy-35.conf
txn=$here/txn.mt
msgs=${BENCH_MESSAGES:-2000}
rounds=${BENCH_ROUNDS:-3}
sessions=${BENCH_SESSIONS:-20000}
jobs=${BENCH_JOBS:-8}
big_n=${BENCH_ENTRIES:-1000000}
scale_sessions=${BENCH_SCALE_SESSIONS:-10000}
regexes=${BENCH_REGEXES:-1000}
body_mb=${BENCH_BODY_MB:-50}
parts=${BENCH_PARTS:-postfix proto scale dns state}
dns_sessions=${BENCH_DNS_SESSIONS:-5000}
base_bin=${BENCH_BASE:-}
base_name=""
if [ -n "$base_bin" ]; then
	[ -x "$base_bin" ] || { echo "BENCH_BASE: $base_bin is not a program" >&2; exit 2; }
	base_name=$(basename "$base_bin")
fi
out=${BENCH_OUT:-$root/BENCHMARKS.md}
warm_msgs=$((msgs / 20 > 0 ? msgs / 20 : 1))
warm_sessions=$((sessions / 20 > 0 ? sessions / 20 : 1))
tick=$(getconf CLK_TCK)
mr_tar=$root/../shared/bench/peers/milter-regex-3.1.tar.gz
mr_rules_src=$root/../shared/bench/milter-regex-35.rules

# shellcheck source=common.sh
. "$here/common.sh"
# shellcheck source=postfix.sh
. "$here/postfix.sh"
# shellcheck source=proto.sh
. "$here/proto.sh"
# shellcheck source=scale.sh
. "$here/scale.sh"
# shellcheck source=dns.sh
. "$here/dns.sh"
# shellcheck source=state.sh
. "$here/state.sh"

e2e_need_root
e2e_tmpdir
for f in "$bin" "$client" "$floor"; do
	[ -x "$f" ] || e2e_die "no $f: run make bench"
done
command -v smtp-source >/dev/null || e2e_die "no smtp-source (postfix)"
REPORT=$E2E_DIR/report.md
: >"$REPORT"
mkdir -p "$E2E_DIR/sock" && chmod 1777 "$E2E_DIR/sock"
big_conf=$E2E_DIR/big.conf
pf_title[big]="replycode-milter, policy-35 + 3 lists of $big_n"

# report_append: the report so far, after the earlier runs' in BENCHMARKS.md.
report_append() {
	if [ ! -s "$out" ]; then
		cat >"$out" <<'EOF'
# Benchmarks

Written by `make bench` (tests/bench/run.sh, described in
tests/bench/README.md): each run appends its tables, with the command, the
date, the commit and the machine, below the earlier ones. The targets are
issue 11's; they are written next to the figures, never asserted. The
figures come from a machine that may be shared: compare runs of the same
day and machine, and the ratios more than the seconds.
EOF
	fi
	{
		echo ""
		cat "$REPORT"
	} >>"$out"
	say ""
	say "(appended to $out)"
}

# build_mr: milter-regex 3.1 from its source, in E2E_DIR (its README's
# recipe). Sets mr_bin, or mr_why when it cannot be had.
build_mr() {
	local d=$E2E_DIR/mr f
	mr_bin=""
	mr_why=""
	if [ ! -f "$mr_tar" ]; then
		mr_why="its source ($mr_tar) is not at hand"
	elif ! command -v bison >/dev/null; then
		mr_why="bison, needed to build it, is missing"
	else
		mkdir -p "$d"
		if (cd "$d" && tar xzf "$mr_tar" && cd milter-regex-3.1 &&
			bison -y -d parse.y -o y.tab.c &&
			for f in milter-regex eval strlcat strlcpy y.tab geoip; do
				cc -O2 -w -c "$f.c" || exit 1
			done && cc -o milter-regex ./*.o -lmilter -lpthread) \
			>"$d/build.log" 2>&1; then
			mr_bin=$d/milter-regex-3.1/milter-regex
			mr_rules=$d/rules
			cp "$mr_rules_src" "$mr_rules" && chmod 644 "$mr_rules"
		else
			_e2e_show "$d/build.log"
			mr_why="it did not build (see the log above)"
		fi
	fi
	if [ -n "$mr_bin" ]; then
		say "built milter-regex 3.1 in $d"
	else
		say "milter-regex: not measured: $mr_why"
	fi
}

t_start=$SECONDS
mem_kib=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain -- milter tests Makefile \
	2>/dev/null | grep -q . && echo " (with uncommitted changes)")
md "## $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit${dirty-}"
md ""
md "\`$(env | grep -o '^BENCH_[A-Z_]*=.*' | tr '\n' ' ')make bench\`" \
	"(tests/bench/run.sh) on $(uname -srm), $(nproc) CPUs," \
	"$(calc "\"%.1f\", $mem_kib / 1048576") GiB" \
	"($mem_kib kB MemTotal), load average at the start" \
	"$(cut -d' ' -f1-3 /proc/loadavg)."

"$bin" -t -c "$policy35" >"$E2E_DIR/check.out" 2>&1
grep -Eq ": OK: [0-9]+ rules, 0 warnings(, [0-9]+ notes)?$" "$E2E_DIR/check.out" ||
	bench_fail "policy-35.conf does not load clean: $(cat "$E2E_DIR/check.out")"

if [[ " $parts " == *" postfix "* ]]; then
	build_mr
	gen_lists "$big_n"
	write_big_conf
	bench_postfix
fi
[[ " $parts " == *" proto "* ]] && bench_proto
if [[ " $parts " == *" scale "* ]]; then
	[ -f "$E2E_DIR/lists/addrs.txt" ] || gen_lists "$big_n"
	bench_scale
fi
[[ " $parts " == *" dns "* ]] && bench_dns
[[ " $parts " == *" state "* ]] && bench_state

md ""
md "Run time $((SECONDS - t_start)) s; load average at the end" \
	"$(cut -d' ' -f1-3 /proc/loadavg)."
report_append
assert_eq "make bench ran every part" "ok" "ok"
e2e_finish
