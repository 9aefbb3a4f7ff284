#!/usr/bin/env bash
# deps.sh - tests of packaging/deps.sh that touch no real package: stub
# dpkg-query, apt-get, id and debconf-set-selections come first on the
# PATH, say what is installed and what an install would remove, and log
# every apt-get call. Proves that deps.sh never removes or replaces an
# installed package: Postfix is left out (with the reason) on a host whose
# MTA is exim4, the install runs with --no-remove, a needed package that
# would remove something stops it, and nothing runs when nothing is missing.
# Prints "N passed, N failed" (tests/e2e/lib.sh's assertions); exits
# non-zero on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

e2e_tmpdir
tmp=$E2E_DIR

# The stubs read STUB_INSTALLED (packages installed), STUB_REMOVES
# ("pkg:victim pkg1+pkg2:victim ...": installing pkg, or pkg1 and pkg2
# together, removes victim), STUB_UID, and log
# their calls to STUB_LOG.
mkdir "$tmp/bin"
cat >"$tmp/bin/dpkg-query" <<'EOF'
#!/bin/sh
p=$(eval echo "\${$#}")
case " $STUB_INSTALLED " in
*" $p "*) printf 'install ok installed' ;;
*) echo "dpkg-query: no packages found matching $p" >&2; exit 1 ;;
esac
EOF
cat >"$tmp/bin/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$STUB_LOG"
sim=0
for a in "$@"; do [ "$a" = -s ] && sim=1; done
[ "$sim" = 1 ] || exit 0
# a rule "p1+p2:victim" removes victim when p1 and p2 are both installed
for r in $STUB_REMOVES; do
	all=1
	for p in $(echo "${r%%:*}" | tr + ' '); do
		case " $* " in *" $p "*) ;; *) all=0 ;; esac
	done
	[ "$all" = 1 ] && echo "Remv ${r#*:} [1.0]"
done
for a in "$@"; do
	case $a in -*|install) ;; *) echo "Inst $a (1.0 Debian:12)" ;; esac
done
exit 0
EOF
cat >"$tmp/bin/id" <<'EOF'
#!/bin/sh
echo "$STUB_UID"
EOF
cat >"$tmp/bin/debconf-set-selections" <<'EOF'
#!/bin/sh
echo "debconf $(cat)" >>"$STUB_LOG"
EOF
chmod +x "$tmp/bin/"*

all="gcc make pkg-config libmilter-dev libconfuse-dev libpcre2-dev"
all="$all liblmdb-dev libhiredis-dev debhelper"
all="$all dpkg-dev check miltertest postfix swaks m4 libwrap0 iproute2"
all="$all lintian man-db adduser systemd valgrind clang libclang-rt-dev"
all="$all prometheus prometheus-node-exporter libunbound-dev dnsmasq-base"
all="$all redis-tools"

# run NAME TARGET: packaging/deps.sh TARGET with the stubs; output in
# NAME.out, its status in NAME.rc, the stubs' log in NAME.log.
run() {
	: >"$tmp/$1.log"
	PATH="$tmp/bin:$PATH" STUB_LOG="$tmp/$1.log" \
		sh packaging/deps.sh "$2" >"$tmp/$1.out" 2>&1
	echo $? >"$tmp/$1.rc"
}

# installs NAME: the packages of NAME's real (not simulated) install.
installs() {
	grep -v -- ' -s ' "$tmp/$1.log" | sed -n 's/^apt-get install //p' |
		tr ' ' '\n' | grep -v '^-' | grep -v '^$' | sort | tr '\n' ' '
}

# check_has / check_not DESC FILE REGEX: FILE (in the run's folder) has,
# or has no, line matching REGEX.
check_has() {
	assert_contains "$1" "$tmp/$2" "$3"
}

check_not() {
	assert_not_contains "$1" "$tmp/$2" "$3"
}

sorted() {
	tr ' ' '\n' <<<"$*" | grep -v '^$' | sort | tr '\n' ' '
}

export STUB_UID=0 STUB_REMOVES="" STUB_INSTALLED=""

# A fresh machine: everything installed in one apt-get install, after one
# update, never allowed to remove anything, Postfix preseeded.
run fresh check
assert_eq "fresh machine: exit 0" "$(cat "$tmp/fresh.rc")" 0
assert_eq "fresh machine: one apt-get update" \
	"$(grep -c '^apt-get update' "$tmp/fresh.log")" 1
assert_eq "fresh machine: the update comes first" \
	"$(head -n 1 "$tmp/fresh.log")" "apt-get update -q"
assert_eq "fresh machine: every package installed" "$(installs fresh)" \
	"$(sorted "$all")"
check_has "fresh machine: the install runs with --no-remove" fresh.log \
	'^apt-get install -y -q --no-install-recommends --no-remove '
check_has "fresh machine: Postfix preseeded with no configuration" fresh.log \
	'^debconf postfix postfix/main_mailer_type select No configuration$'

# exim4 is the MTA: installing Postfix would remove it. Postfix is left
# out, with the reason; the rest is installed.
STUB_INSTALLED="exim4-daemon-light" \
	STUB_REMOVES="postfix:exim4-daemon-light postfix:exim4-base" run exim check
assert_eq "exim4 host: exit 0 (only a test tool left out)" \
	"$(cat "$tmp/exim.rc")" 0
assert_eq "exim4 host: everything but postfix installed" "$(installs exim)" \
	"$(sorted "${all/ postfix / }")"
check_has "exim4 host: says why postfix is not installed" exim.out \
	'^deps: not installing postfix: apt-get would remove exim4-daemon-light exim4-base \(installed here\); the tests that need postfix are skipped$'
check_not "exim4 host: no debconf preseed for postfix" exim.log '^debconf'

# A package a build needs would remove something: nothing of it is
# installed, the exit status says so.
STUB_REMOVES="libpcre2-dev:libpcre3-dev" run build-conflict build
assert_eq "needed package would remove one: exit 1" \
	"$(cat "$tmp/build-conflict.rc")" 1
check_has "needed package would remove one: says so" build-conflict.out \
	'^deps: not installing libpcre2-dev: apt-get would remove libpcre3-dev'
check_not "needed package would remove one: not installed" build-conflict.log \
	'^apt-get install .*libpcre2-dev'

# Each alone is fine, together they would remove something: nothing.
but_two=${all/ swaks / }
STUB_INSTALLED="${but_two/ m4 / }" STUB_REMOVES="swaks+m4:foo" run pair check
assert_eq "only together they remove one: exit 1" "$(cat "$tmp/pair.rc")" 1
assert_eq "only together they remove one: nothing installed" \
	"$(installs pair)" ""

# Everything there: no apt-get at all.
STUB_INSTALLED="$all" run none check
assert_eq "nothing missing: exit 0" "$(cat "$tmp/none.rc")" 0
assert_eq "nothing missing: apt-get never runs" "$(wc -c <"$tmp/none.log")" 0

# Not root: the exact line to run, nothing installed or updated.
STUB_UID=1000 STUB_INSTALLED="${all/ lintian / }" run user check
assert_eq "not root: exit 1" "$(cat "$tmp/user.rc")" 1
check_has "not root: prints the apt-get line" user.out \
	'apt-get install -y --no-install-recommends --no-remove lintian$'
check_not "not root: no update, no install" user.log \
	'^apt-get (update|install -y)'

# The build target asks only for the build packages.
STUB_INSTALLED="" run build build
assert_eq "build: the compiler and libraries only" "$(installs build)" \
	"$(sorted gcc make pkg-config libmilter-dev libconfuse-dev libpcre2-dev \
		libunbound-dev liblmdb-dev libhiredis-dev)"

# The bench target: what check needs, and bison for milter-regex.
STUB_INSTALLED="$all" run bench bench
assert_eq "bench: bison on top of what check needs" "$(installs bench)" \
	"$(sorted bison)"

e2e_finish
