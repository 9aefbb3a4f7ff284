#!/bin/bash
# setup-mta.sh: get what the end-to-end tests need to run real MTAs.
#
# Checks the Debian packages the tests use (Postfix, swaks, m4, the libmilter
# headers, ...) and fetches an unpacked Sendmail into a cache folder that
# survives between runs (E2E_CACHE, default
# $HOME/.cache/replycode-milter/sendmail). Idempotent: a second run with the
# cache in place does nothing and touches no network.
#
# Must never: install Sendmail for real (its packages conflict with Postfix;
# they are only unpacked with dpkg -x), remove or replace an installed
# package (Postfix is installed only when that removes nothing), configure
# or start any MTA, or write anywhere but the cache folder (and apt's own
# lists and archives when --install is given).
#
# Usage: tests/e2e/setup-mta.sh [--install]
#   --install  also apt-get install missing Debian packages (root only).
# Exit status: 0 when everything is in place, 1 otherwise (with the exact
# commands to run printed).

set -u

cache=${E2E_CACHE:-${HOME:-/root}/.cache/replycode-milter/sendmail}
pkgs_needed="swaks m4 libmilter-dev libwrap0 iproute2 util-linux"
sm_pkgs="sendmail-bin sendmail-base sendmail-cf"
install=0

for arg in "$@"; do
	case $arg in
	--install) install=1 ;;
	-h | --help)
		sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "setup-mta: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

is_root() {
	[ "$(id -u)" -eq 0 ]
}

# Postfix: only when installing it removes nothing (on a host whose MTA is
# exim4 it would remove exim4): without it the tests skip their Postfix
# part and say why (tests/e2e/lib.sh, e2e_postfix_missing).
if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null |
	grep -q 'install ok installed'; then
	if [ "$install" -eq 1 ] && is_root &&
		! apt-get -s install postfix 2>/dev/null | grep -q '^Remv '; then
		echo "postfix postfix/main_mailer_type select No configuration" |
			debconf-set-selections
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove \
			postfix || echo "setup-mta: postfix not installed" >&2
	else
		echo "setup-mta: postfix is not installed: the Postfix tests" \
			"are skipped ($0 --install installs it, as root, when" \
			"that removes no installed package)" >&2
	fi
fi

# Debian packages: report (or install) the missing ones.
missing=""
for p in $pkgs_needed; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$install" -eq 1 ] && is_root; then
		echo "setup-mta: installing:$missing"
		# shellcheck disable=SC2086 # word splitting wanted
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove \
			$missing; then
			echo "setup-mta: apt-get install failed" >&2
			exit 1
		fi
	else
		echo "setup-mta: missing Debian packages:$missing" >&2
		echo "  run as root: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove$missing" >&2
		echo "  (or: $0 --install)" >&2
		exit 1
	fi
fi

# Sendmail, unpacked into the cache.
sm_bin=$cache/root/usr/libexec/sendmail/sendmail
sm_m4=$cache/root/usr/share/sendmail/cf/m4/cf.m4
if [ -x "$sm_bin" ] && [ -f "$sm_m4" ] && [ -f "$cache/.unpacked" ]; then
	echo "setup-mta: sendmail ready in $cache ($(cat "$cache/.unpacked"))"
	exit 0
fi

if ! mkdir -p "$cache/debs"; then
	echo "setup-mta: cannot create $cache/debs" >&2
	exit 1
fi

have_debs=1
for p in $sm_pkgs; do
	if ! compgen -G "$cache/debs/${p}_*.deb" >/dev/null; then
		have_debs=0
	fi
done

if [ "$have_debs" -eq 0 ]; then
	if ! is_root; then
		echo "setup-mta: sendmail packages not in $cache/debs" >&2
		echo "  run as root: apt-get update && (cd '$cache/debs' && apt-get download $sm_pkgs)" >&2
		exit 1
	fi
	# apt-get download needs the package lists; fetch them only when
	# apt knows nothing of the packages yet.
	if ! apt-cache show sendmail-bin >/dev/null 2>&1; then
		apt-get update || exit 1
	fi
	# shellcheck disable=SC2086 # word splitting wanted
	if ! (cd "$cache/debs" && apt-get download $sm_pkgs); then
		echo "setup-mta: apt-get download failed" >&2
		echo "  try: apt-get update && (cd '$cache/debs' && apt-get download $sm_pkgs)" >&2
		exit 1
	fi
fi

rm -rf "$cache/root.new"
mkdir -p "$cache/root.new" || exit 1
for f in "$cache"/debs/*.deb; do
	if ! dpkg -x "$f" "$cache/root.new"; then
		echo "setup-mta: dpkg -x $f failed" >&2
		rm -rf "$cache/root.new"
		exit 1
	fi
done
rm -rf "$cache/root"
mv "$cache/root.new" "$cache/root" || exit 1
if [ ! -x "$sm_bin" ] || [ ! -f "$sm_m4" ]; then
	echo "setup-mta: unpacked packages lack $sm_bin or $sm_m4" >&2
	exit 1
fi
for f in "$cache"/debs/*.deb; do
	printf '%s ' "${f##*/}"
done >"$cache/.unpacked"
echo "setup-mta: sendmail unpacked in $cache ($(cat "$cache/.unpacked"))"
exit 0
