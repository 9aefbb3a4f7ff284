#!/bin/sh
# deps.sh - make sure the Debian packages a make target needs are installed.
#
# Usage: packaging/deps.sh build|deb|check|bench
#   build: what compiling and running the milter needs.
#   deb:   that, plus what `make deb` needs (debhelper, Check for the tests
#          run at build time).
#   check: that, plus the test tools (miltertest, a private Postfix, swaks,
#          the pieces an unpacked Sendmail needs, valgrind, clang and its
#          libFuzzer and sanitizer runtimes, lintian, man, systemd's
#          systemd-analyze, adduser for the package's postinst, promtool
#          from prometheus and prometheus-node-exporter for the metrics
#          tests, which start their own node_exporter, never the
#          service these packages may start; dnsmasq-base, the DNS
#          server of the DNS list tests: a binary only, no service;
#          redis-tools for the fleet
#          tests (its redis-check-rdb is the redis-server program; the
#          tests start their own on a free port: redis-server, the
#          package with the system service on port 6379, is not needed).
#   bench: that, plus bison, which make bench needs to build milter-regex
#          from its source for the side-by-side runs.
# As root, installs what is missing with apt-get (non-interactive, after one
# apt-get update). Otherwise prints the exact apt-get line and fails.
#
# Must never remove or replace an installed package. Before installing, it
# asks apt-get what the install would do (apt-get -s): a missing package
# whose install would remove an installed one (Postfix on a host running
# exim4, Debian's default MTA) is left out and the reason printed; the
# tests that need it say they are skipped and why. The install itself runs
# with --no-remove, so apt-get stops rather than remove anything. It never
# touches a package that is already installed (apt-get may upgrade one
# that a new package needs a newer version of; it removes none).
# Exit status: 0 when every package needed is there, or only test tools
# were left out; 1 when something a build needs is missing.
set -eu

build_pkgs="gcc make pkg-config libmilter-dev libconfuse-dev libpcre2-dev"
build_pkgs="$build_pkgs libunbound-dev liblmdb-dev libhiredis-dev"
deb_pkgs="$build_pkgs debhelper dpkg-dev check"
check_pkgs="$deb_pkgs miltertest postfix swaks m4 libwrap0 iproute2 lintian"
check_pkgs="$check_pkgs man-db adduser systemd valgrind clang libclang-rt-dev"
check_pkgs="$check_pkgs prometheus prometheus-node-exporter dnsmasq-base"
check_pkgs="$check_pkgs redis-tools"
# Test tools whose absence only skips tests: left out when installing them
# would remove an installed package. Anything else is needed.
optional_pkgs="postfix systemd"

case "${1:-}" in
build) want=$build_pkgs ;;
deb) want=$deb_pkgs ;;
check) want=$check_pkgs ;;
bench) want="$check_pkgs bison" ;;
*)
	echo "usage: $0 build|deb|check|bench" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

is_root() {
	[ "$(id -u)" = 0 ]
}

# removes PKG...: the installed packages that installing PKG... would
# remove, on one line (empty when none).
removes() {
	# shellcheck disable=SC2068 # word splitting wanted
	apt-get -s -q install --no-install-recommends $@ 2>/dev/null |
		sed -n 's/^Remv \([^ ]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

if is_root; then
	export DEBIAN_FRONTEND=noninteractive
	# Once, so that the simulation below sees today's package lists.
	apt-get update -q
fi

# Leave out each package whose install alone would remove something.
install="" left_out=0 fatal=0
for p in $missing; do
	gone=$(removes "$p")
	if [ -z "$gone" ]; then
		install="$install $p"
		continue
	fi
	left_out=1
	case " $optional_pkgs " in
	*" $p "*)
		echo "deps: not installing $p: apt-get would remove $gone" \
			"(installed here); the tests that need $p are skipped"
		;;
	*)
		echo "deps: not installing $p: apt-get would remove $gone" \
			"(installed here), and $p is needed: install it yourself" \
			"if that is what you want" >&2
		fatal=1
		;;
	esac
done
# Together they might still remove something: then install nothing.
if [ -n "$install" ]; then
	# shellcheck disable=SC2086 # word splitting wanted
	gone=$(removes $install)
	if [ -n "$gone" ]; then
		echo "deps: installing$install together would remove $gone" \
			"(installed here): installing nothing" >&2
		exit 1
	fi
fi

if [ -n "$install" ]; then
	line="apt-get install -y --no-install-recommends --no-remove$install"
	if ! is_root; then
		echo "replycode-milter needs these Debian packages:$install" >&2
		echo "Install them as root with:" >&2
		echo "  apt-get update && DEBIAN_FRONTEND=noninteractive $line" >&2
		exit 1
	fi
	echo "deps: installing$install"
	# Postfix must install without asking and without configuring the
	# host's mail system: the tests run their own private instance.
	case " $install " in
	*" postfix "*)
		echo "postfix postfix/main_mailer_type select No configuration" |
			debconf-set-selections
		;;
	esac
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends --no-remove $install
fi
[ "$fatal" -eq 0 ] || exit 1
[ "$left_out" -eq 0 ] || echo "deps: some test tools left out (above)"
exit 0
