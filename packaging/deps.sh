#!/bin/sh
# deps.sh - make sure the Debian packages a make target needs are installed.
#
# Usage: packaging/deps.sh build|check
#   build: what compiling and running the milter needs.
#   check: that, plus the test tools (Check, miltertest, a private Postfix,
#          swaks, the pieces an unpacked Sendmail needs, valgrind, clang
#          and its libFuzzer and sanitizer runtimes).
# As root, installs what is missing with apt-get (non-interactive, after one
# apt-get update). Otherwise prints the exact apt-get line and fails.
# It never touches a package that is already installed.
set -eu

build_pkgs="gcc make pkg-config libmilter-dev libconfuse-dev libpcre2-dev"
check_pkgs="$build_pkgs check miltertest postfix swaks m4 libwrap0 iproute2 \
	valgrind clang libclang-rt-dev"

case "${1:-}" in
build) want=$build_pkgs ;;
check) want=$check_pkgs ;;
*)
	echo "usage: $0 build|check" >&2
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

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "replycode-milter needs these Debian packages:$missing" >&2
	echo "Install them as root with:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive $line" >&2
	exit 1
fi

echo "deps: installing$missing"
# Postfix must install without asking and without configuring the host's
# mail system: the tests run their own private instance.
case "$missing" in
*postfix*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	;;
esac
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
