#!/usr/bin/env bash
# install.sh - make install and make uninstall into a temporary DESTDIR:
# PREFIX and DESTDIR are honoured; the binary, both man pages, the config
# and every example land where they should, with their modes; the
# installed binary loads the installed config and examples; a second
# install never overwrites an edited config (the shipped one goes next to
# it as .conf.new, and make says so); make uninstall removes exactly what
# install added: no file is left but the edited config, which it names,
# and only the shared folders stay. Needs the milter built (make).
# Prints "N passed, N failed" (tests/e2e/lib.sh's assertions); exits
# non-zero on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

e2e_tmpdir
tmp=$E2E_DIR

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
assert_eq "make install: exit 0" "$(cat "$tmp/install1.rc")" 0
conf=$d/etc/replycode-milter/replycode-milter.conf
want="f 755 ./usr/sbin/replycode-milter
f 644 ./usr/share/man/man8/replycode-milter.8
f 644 ./usr/share/man/man5/replycode-milter.conf.5
f 644 ./etc/replycode-milter/replycode-milter.conf"
for f in conf/examples/*; do
	want="$want
f 644 ./usr/share/doc/replycode-milter/examples/${f##*/}"
done
assert_eq "make install: every file, with its mode, and nothing else" \
	"$(tree "$d" | grep '^f' | sort)" "$(sort <<<"$want")"
assert_eq "make install: the config is the shipped one" \
	"$(cmp conf/replycode-milter.conf "$conf" && echo same)" same
bin=$d/usr/sbin/replycode-milter
"$bin" -t -c "$conf" >"$tmp/t.out" 2>&1
assert_eq "the installed binary loads the installed config" "$?" 0
bad=""
for f in "$d"/usr/share/doc/replycode-milter/examples/*.conf; do
	"$bin" -t -c "$f" >/dev/null 2>&1 || bad="$bad ${f##*/}"
done
assert_eq "the installed binary loads every installed example" "$bad" ""

# An edited config survives a second install.
echo "# edited by the admin" >>"$conf"
cp "$conf" "$tmp/edited"
mk install2 install DESTDIR="$d" PREFIX=/usr
assert_eq "second install: exit 0" "$(cat "$tmp/install2.rc")" 0
assert_eq "second install: the edited config is kept" \
	"$(cmp "$tmp/edited" "$conf" && echo kept)" kept
assert_eq "second install: the shipped one is .conf.new" \
	"$(cmp conf/replycode-milter.conf "$conf.new" && echo same)" same
assert_line "second install: says so" "$tmp/install2.out" \
	"install: $conf is yours: left as it is; the shipped one is $conf.new"

# Uninstall: everything install added goes, but the edited config.
mk uninstall1 uninstall DESTDIR="$d" PREFIX=/usr
assert_eq "make uninstall: exit 0" "$(cat "$tmp/uninstall1.rc")" 0
assert_eq "make uninstall: only the edited config is left" \
	"$(cd "$d" && find . -type f | sort)" "./etc/replycode-milter/replycode-milter.conf"
assert_line "make uninstall: names the config it keeps" \
	"$tmp/uninstall1.out" "uninstall: $conf is not the shipped config: kept"

# A fresh install and uninstall leave only the shared folders, and PREFIX
# and DESTDIR decide where everything goes.
d=$tmp/opt
mkdir "$d"
mk install3 install DESTDIR="$d" PREFIX=/opt/rcm SYSCONFDIR=/opt/rcm/etc
assert_eq "PREFIX=/opt/rcm: the binary under it" \
	"$(test -x "$d/opt/rcm/sbin/replycode-milter" && echo yes)" yes
assert_eq "PREFIX=/opt/rcm: nothing outside DESTDIR/opt/rcm" \
	"$(cd "$d" && find . -mindepth 1 -maxdepth 1)" "./opt"
mk uninstall3 uninstall DESTDIR="$d" PREFIX=/opt/rcm SYSCONFDIR=/opt/rcm/etc
assert_eq "install then uninstall: no file left" \
	"$(cd "$d" && find . -type f | wc -l)" 0
assert_eq "install then uninstall: only the shared folders stay" \
	"$(cd "$d" && find . -mindepth 1 -type d | sort | tr '\n' ' ')" \
	"./opt ./opt/rcm ./opt/rcm/etc ./opt/rcm/sbin ./opt/rcm/share ./opt/rcm/share/doc ./opt/rcm/share/man ./opt/rcm/share/man/man5 ./opt/rcm/share/man/man8 "

e2e_finish
