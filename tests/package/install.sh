#!/usr/bin/env bash
# install.sh - make install and make uninstall into a temporary DESTDIR:
# PREFIX and DESTDIR are honoured; the binary, both man pages, the config
# and every example land where they should, with their modes; the
# installed binary loads the installed config and examples; a second
# install never overwrites an edited config (the shipped one goes next to
# it as .conf.new, and make says so); make uninstall removes exactly what
# install added: no file is left but the edited config, which it names,
# and only the shared folders stay. Needs the milter built (make).
# Prints "install: N passed, N failed"; exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rcm-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	shift
	for l in "$@"; do
		printf '#   %s\n' "$l"
	done
}

check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $2" "want: $3"
	fi
}

# mk NAME TARGET VAR=VALUE...: make TARGET; output in NAME.out, status
# in NAME.rc.
mk() {
	local name=$1
	shift
	make --no-print-directory "$@" >"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
}

# tree DIR: every file and folder below DIR with its mode, sorted.
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %p\n' | sort)
}

d=$tmp/root
mkdir "$d"
mk install1 install DESTDIR="$d" PREFIX=/usr
check_eq "make install: exit 0" "$(cat "$tmp/install1.rc")" 0
conf=$d/etc/replycode-milter/replycode-milter.conf
want="f 755 ./usr/sbin/replycode-milter
f 644 ./usr/share/man/man8/replycode-milter.8
f 644 ./usr/share/man/man5/replycode-milter.conf.5
f 644 ./etc/replycode-milter/replycode-milter.conf"
for f in conf/examples/*; do
	want="$want
f 644 ./usr/share/doc/replycode-milter/examples/${f##*/}"
done
check_eq "make install: every file, with its mode, and nothing else" \
	"$(tree "$d" | grep '^f' | sort)" "$(sort <<<"$want")"
check_eq "make install: the config is the shipped one" \
	"$(cmp conf/replycode-milter.conf "$conf" && echo same)" same
bin=$d/usr/sbin/replycode-milter
"$bin" -t -c "$conf" >"$tmp/t.out" 2>&1
check_eq "the installed binary loads the installed config" "$?" 0
bad=""
for f in "$d"/usr/share/doc/replycode-milter/examples/*.conf; do
	"$bin" -t -c "$f" >/dev/null 2>&1 || bad="$bad ${f##*/}"
done
check_eq "the installed binary loads every installed example" "$bad" ""

# An edited config survives a second install.
echo "# edited by the admin" >>"$conf"
cp "$conf" "$tmp/edited"
mk install2 install DESTDIR="$d" PREFIX=/usr
check_eq "second install: exit 0" "$(cat "$tmp/install2.rc")" 0
check_eq "second install: the edited config is kept" \
	"$(cmp "$tmp/edited" "$conf" && echo kept)" kept
check_eq "second install: the shipped one is .conf.new" \
	"$(cmp conf/replycode-milter.conf "$conf.new" && echo same)" same
if grep -qF "$conf is yours: left as it is; the shipped one is $conf.new" \
	"$tmp/install2.out"; then
	ok "second install: says so"
else
	not_ok "second install: says so" "$(cat "$tmp/install2.out")"
fi

# Uninstall: everything install added goes, but the edited config.
mk uninstall1 uninstall DESTDIR="$d" PREFIX=/usr
check_eq "make uninstall: exit 0" "$(cat "$tmp/uninstall1.rc")" 0
check_eq "make uninstall: only the edited config is left" \
	"$(cd "$d" && find . -type f | sort)" "./etc/replycode-milter/replycode-milter.conf"
if grep -qF "$conf is not the shipped config: kept" "$tmp/uninstall1.out"; then
	ok "make uninstall: names the config it keeps"
else
	not_ok "make uninstall: names the config it keeps" "$(cat "$tmp/uninstall1.out")"
fi

# A fresh install and uninstall leave only the shared folders, and PREFIX
# and DESTDIR decide where everything goes.
d=$tmp/opt
mkdir "$d"
mk install3 install DESTDIR="$d" PREFIX=/opt/rcm SYSCONFDIR=/opt/rcm/etc
check_eq "PREFIX=/opt/rcm: the binary under it" \
	"$(test -x "$d/opt/rcm/sbin/replycode-milter" && echo yes)" yes
check_eq "PREFIX=/opt/rcm: nothing outside DESTDIR/opt/rcm" \
	"$(cd "$d" && find . -mindepth 1 -maxdepth 1)" "./opt"
mk uninstall3 uninstall DESTDIR="$d" PREFIX=/opt/rcm SYSCONFDIR=/opt/rcm/etc
check_eq "install then uninstall: no file left" \
	"$(cd "$d" && find . -type f | wc -l)" 0
check_eq "install then uninstall: only the shared folders stay" \
	"$(cd "$d" && find . -mindepth 1 -type d | sort | tr '\n' ' ')" \
	"./opt ./opt/rcm ./opt/rcm/etc ./opt/rcm/sbin ./opt/rcm/share ./opt/rcm/share/doc ./opt/rcm/share/man ./opt/rcm/share/man/man5 ./opt/rcm/share/man/man8 "

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
