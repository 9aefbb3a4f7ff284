#!/bin/bash
# deb.sh - the Debian package, built from this tree and installed for real
# on this machine, then upgraded and purged.
#
#   1. Build it as nobody (Rules-Requires-Root: no) from a clean copy
#      (packaging/build-deb.sh): the unit tests run in the build, no
#      compiler warning, Debian's hardening flags used; lintian (as nobody):
#      no error, no warning.
#   2. dpkg -i: binary, conffile, man pages, examples, unit, system user,
#      socket folder (owner, group postfix, mode 2750). The installed
#      binary loads the installed config and every conf/examples/*.conf.
#      systemd-analyze verify and security (offline) on the installed unit.
#   3. Start the milter the way the unit says (its ExecStart, User, Group,
#      UMask, no capabilities, no new privileges, stderr as the journal),
#      attach the e2e suite's private Postfix and an unpacked Sendmail to
#      the installed socket: a rejected message (exact reply) and a
#      delivered one. The unit's ExecReload: a good config is reloaded, a
#      bad one fails the reload and the policy in force stays. SIGTERM
#      stops it cleanly.
#   4. Upgrade (the same package, versions +t1 and +t2) after editing the
#      config: the edit is kept, also when the new version's config
#      differs (that one is saved as .dpkg-dist), and it is in force.
#      dpkg-reconfigure gives the socket folder the group postfix (Postfix
#      installed later, README.Debian); a dpkg-statoverride on it wins.
#   5. Under a real systemd: boot this machine's OS in a throw-away
#      container (systemd-nspawn, an overlay in memory; skipped with the
#      reason where it cannot boot) and there install the package and work
#      the unit: sandbox in force, socket, journal, reload good and bad,
#      Restart=on-failure, stop; systemd-analyze security online; DNS
#      lists under the sandbox (with dnsmasq here: a client_dnsbl rule
#      against a dnsmasq on 127.0.0.1 in the container, as a forwarder and
#      through /etc/resolv.conf: the exact reply with zone and TXT; the
#      server stopped: logged as a warning, counted in stats_file).
#   6. dpkg --purge: binary, config, user, group, socket folder, unit gone,
#      and nothing else changed: /etc (names, modes, owners, contents: the
#      passwd and group files too), the folders the package installs into,
#      Postfix's spool, /var/lib/systemd (deb-systemd-helper's state),
#      /run/systemd (systemd-analyze runs with a /run of its own).
# The test purges at exit whatever happened (e2e_at_exit), and runs only
# when the host has no replycode-milter package, user, group, config or
# socket folder of its own (else: skipped, and the reason). One package
# test at a time on a machine (a lock on its cache folder, no lock file).
# Without Postfix its part is skipped with the reason (tests/e2e/lib.sh).
#
# Needs root, dpkg-dev and debhelper (packaging/deps.sh deb), lintian,
# setpriv; systemd-analyze and a bootable systemd where installed (then
# systemd-nspawn is fetched with apt-get download into
# ~/.cache/replycode-milter/systemd-container). Ends "N passed, N failed".

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../e2e/lib.sh
. "$top/tests/e2e/lib.sh"

pkg=replycode-milter
conf=/etc/$pkg/$pkg.conf
unit=/lib/systemd/system/$pkg.service
docdir=/usr/share/doc/$pkg

if [ "$(id -u)" -ne 0 ]; then
	e2e_skip "the Debian package: build, install, upgrade, purge" \
		"needs root (dpkg -i)"
	e2e_finish
fi
for tool in dpkg-buildpackage dh lintian setpriv; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		e2e_skip "the Debian package: build, install, upgrade, purge" \
			"no $tool (packaging/deps.sh check installs it)"
		e2e_finish
	fi
done
e2e_tmpdir
t0=$SECONDS

# One package test at a time: another run's install would be ours. The
# lock is on the tests' cache folder (as root, one per machine), so that no
# lock file is left behind.
cache_dir=$(dirname "$E2E_CACHE")
mkdir -p "$cache_dir" || e2e_die "cannot create $cache_dir"
exec {lock}<"$cache_dir"
flock -w 900 "$lock" || e2e_die "another package test held $cache_dir for 15 min"

# pkg_dpkg ARGS...: dpkg, waiting (2 min at most) while another process
# holds dpkg's lock; output on stdout, dpkg's status returned.
pkg_dpkg() {
	local i out rc
	for ((i = 0; i < 60; i++)); do
		out=$(dpkg "$@" 2>&1)
		rc=$?
		if [ "$rc" -ne 0 ] && grep -q 'locked by another process' <<<"$out"; then
			sleep 2
			continue
		fi
		printf '%s\n' "$out"
		return "$rc"
	done
	printf '%s\n' "$out"
	return "$rc"
}

# as_nobody CMD...: CMD as the user nobody, HOME in its own folder.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME="$E2E_DIR/nobody" "$@"
}

# ------------------------------------------------------------ build

out=$E2E_DIR/nobody
mkdir -p "$out"
chown nobody:nogroup "$out"
DEB_BUILD_AS=nobody "$top/packaging/build-deb.sh" "$out" >"$E2E_DIR/build.log" 2>&1
assert_eq "package: built as nobody (Rules-Requires-Root: no)" "$?" 0
deb=$(sed -n 's/^deb: //p' "$E2E_DIR/build.log" | tail -n 1)
[ -f "$deb" ] || {
	e2e_diag "$(tail -n 30 "$E2E_DIR/build.log")"
	e2e_die "no .deb built"
}
changes=${deb%.deb}.changes
assert_contains "package build: the unit tests ran, none failed" \
	"$E2E_DIR/build.log" '^all: [0-9]+ passed, 0 failed$'
assert_not_contains "package build: no compiler warning" \
	"$E2E_DIR/build.log" '(: warning: |: error: )'
assert_contains "package build: Debian's hardening flags" \
	"$E2E_DIR/build.log" ' -D_FORTIFY_SOURCE=2 .*-fstack-protector-strong .*-Wformat -Werror=format-security -c -o milter/main\.o'
assert_contains "package build: linked with relro and bindnow" \
	"$E2E_DIR/build.log" '-Wl,-z,relro -Wl,-z,now -o replycode-milter '
version=$(dpkg-deb -f "$deb" Version)
assert_eq "package version is the Makefile's VERSION" "$version" \
	"$(sed -n 's/^VERSION = //p' "$top/Makefile")"
assert_eq "every file of the package is root's" \
	"$(dpkg-deb -c "$deb" | awk '{ print $2 }' | sort -u)" "root/root"

as_nobody lintian --display-info "$changes" >"$E2E_DIR/lintian.log" 2>&1
rc=$?
e2e_diag "lintian $(dpkg-query -W -f='${Version}' lintian):" \
	"$(cat "$E2E_DIR/lintian.log")"
assert_eq "lintian: exit 0" "$rc" 0
assert_not_contains "lintian: no error, no warning" "$E2E_DIR/lintian.log" '^[EW]: '

# ------------------------------------------------------------ the host

# Refuse to touch a host that has a replycode-milter of its own: the purge
# at the end would remove it.
why=""
if dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^[^u]'; then
	why="the package $pkg is installed here"
elif getent passwd "$pkg" >/dev/null || getent group "$pkg" >/dev/null; then
	why="a user or group $pkg exists here"
elif [ -e /etc/$pkg ] || [ -e /var/spool/postfix/$pkg ] ||
	[ -e /var/lib/$pkg ]; then
	why="/etc/$pkg, /var/spool/postfix/$pkg or /var/lib/$pkg exists here"
fi
if [ -n "$why" ]; then
	e2e_skip "the Debian package: install, upgrade, purge on this host" \
		"$why; the test would remove it"
	e2e_finish
fi

# snapshot: what the package may touch, to compare after the purge: every
# path under /etc with its type, mode, owner and content (the shadow
# tools' backups passwd- group- shadow- gshadow- aside), and the folders
# it installs into or writes to.
snapshot() {
	find /etc -xdev \( -path /etc/passwd- -o -path /etc/group- -o \
		-path /etc/shadow- -o -path /etc/gshadow- \) -prune -o \
		-printf '%y %m %u:%g %p\n' 2>/dev/null | sort
	find /etc -xdev -type f ! -name '*-' -exec md5sum {} + 2>/dev/null | sort -k 2
	for d in /usr/sbin /usr/share/man/man5 /usr/share/man/man8 \
		/usr/share/doc /lib/systemd/system /var/spool/postfix \
		/run/systemd; do
		find "$d" -maxdepth 2 -printf '%y %m %u:%g %p\n' 2>/dev/null
	done | sort
	find /var/lib/systemd -printf '%y %m %u:%g %p\n' 2>/dev/null | sort
	cat /var/lib/dpkg/statoverride
}
snapshot >"$E2E_DIR/before"
sgroup_ct=$pkg
getent group postfix >/dev/null && sgroup_ct=postfix

# wait_user_idle: wait (2 min at most) until no process runs as the user
# (another test on this machine may have borrowed it): userdel refuses a
# user in use. 1 if some still does.
wait_user_idle() {
	local i
	for ((i = 0; i < 120; i++)); do
		pgrep -u "$pkg" >/dev/null 2>&1 || return 0
		sleep 1
	done
	e2e_diag "still running as $pkg:" "$(pgrep -a -u "$pkg")"
	return 1
}

installed=0 override=0
# purge_at_exit: the purge (and the test's statoverride), whatever
# happened before it.
# shellcheck disable=SC2317 # called by lib.sh at cleanup
purge_at_exit() {
	if [ "$override" -eq 1 ]; then
		dpkg-statoverride --remove "/var/spool/postfix/$pkg"
	fi
	[ "$installed" -eq 1 ] || return 0
	wait_user_idle
	pkg_dpkg --purge "$pkg" >>"$E2E_DIR/dpkg.log" 2>&1
}
e2e_at_exit purge_at_exit

# ------------------------------------------------------------ under a real systemd

# There is no systemd running here: boot this machine's own OS in a
# container (systemd-nspawn, unpacked into a cache, never installed) on an
# overlay whose writes stay in memory, /run private, no network; there
# tests/package/in-container.sh installs the package and works the unit
# with systemctl; its facts come back in ct/out/facts.
nspawn_cache=$cache_dir/systemd-container

# nspawn_get: sets NSPAWN and NSPAWN_LIB; 1 with the reason on stdout.
nspawn_get() {
	local root=$nspawn_cache/root
	if ! [ -x "$root/usr/bin/systemd-nspawn" ]; then
		if ! apt-cache show systemd-container >/dev/null 2>&1; then
			echo "apt knows no systemd-container (apt-get update)"
			return 1
		fi
		rm -rf "$nspawn_cache"
		mkdir -p "$nspawn_cache/debs" || return 1
		if ! (cd "$nspawn_cache/debs" &&
			apt-get download -q systemd-container libsystemd-shared) \
			>"$E2E_DIR/nspawn-get.log" 2>&1; then
			echo "apt-get download systemd-container failed"
			return 1
		fi
		for f in "$nspawn_cache"/debs/*.deb; do
			dpkg -x "$f" "$root" || return 1
		done
	fi
	NSPAWN=$root/usr/bin/systemd-nspawn
	NSPAWN_LIB=$(dirname "$(find "$root" -name 'libsystemd-shared-*.so' | head -n 1)")
}

# ct_cgroups: nspawn makes cgroups where it runs (payload/, supervisor/):
# it runs in cgroups of the test's own, one per hierarchy systemd uses
# (name=systemd and the unified one, or the v2 root), removed after it.
ct_cgroups=()
while IFS=: read -r _ ctl path; do
	case $ctl in
	name=systemd) mnt=/sys/fs/cgroup/systemd ;;
	"")
		mnt=/sys/fs/cgroup/unified
		[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && mnt=/sys/fs/cgroup
		;;
	*) continue ;;
	esac
	[ -d "$mnt$path" ] && ct_cgroups+=("${mnt}${path%/}/rcm-pkg-test.$$")
done </proc/self/cgroup

# ct_cgroups_remove: the test's cgroups and what nspawn made in them.
# shellcheck disable=SC2317 # also called by lib.sh at cleanup
ct_cgroups_remove() {
	local d
	for d in "${ct_cgroups[@]}"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}
e2e_at_exit ct_cgroups_remove

# container_run: boot, run in-container.sh, power off (3 min at most).
container_run() {
	local ct=$E2E_DIR/ct
	mkdir -p "$ct/in" "$ct/out" "$ct/ovl"
	cp "$deb" "$top/tests/proto/mtclient" "$here/in-container.sh" "$ct/in/"
	printf '%s\n' "connect c.example.test 192.0.2.1" "helo c.example.test" \
		"mail <a@sender.test>" "rcpt <blocked@example.test>" quit >"$ct/in/s.mt"
	# DNS lists: a dnsmasq of this machine's (dnsmasq-base, a binary),
	# started by in-container.sh on 127.0.0.1 in the container's own
	# network, with a zone whose TXT record the reply must carry
	if command -v dnsmasq >/dev/null; then
		printf '%s\n' "local=/pkg.example/" \
			"host-record=2.0.0.127.pkg.example,127.0.0.2" \
			'txt-record=2.0.0.127.pkg.example,"Listed by the package test"' \
			>"$ct/dns-extra"
		dns_conf 10053 /out/dnsmasq.log "$ct/dns-extra" >"$ct/in/dnsmasq.conf"
		for c in 2 5; do
			printf '%s\n' "connect c.example.test 127.0.0.$c" \
				"helo c.example.test" "mail <a@sender.test>" \
				"rcpt <user@example.test>" quit >"$ct/in/dns$c.mt"
		done
	fi
	printf '%s\n' "[Unit]" "After=basic.target" "[Service]" "Type=oneshot" \
		"ExecStart=/bin/sh /in/in-container.sh" >"$ct/in/rcm-test.service"
	# shellcheck disable=SC2016 # expanded by the inner sh
	timeout -k 10 180 unshare -m --propagation private sh -c '
		set -e
		for cg in $4; do
			mkdir "$cg"
			echo $$ >"$cg/cgroup.procs"
		done
		mount -t tmpfs -o mode=0755 tmpfs /run
		mount -t tmpfs tmpfs "$1/ovl"
		mkdir "$1/ovl/upper" "$1/ovl/work" "$1/ovl/root"
		mount -t overlay overlay \
			-o "lowerdir=/,upperdir=$1/ovl/upper,workdir=$1/ovl/work" \
			"$1/ovl/root"
		exec env LD_LIBRARY_PATH="$2" "$3" -D "$1/ovl/root" \
			--private-network --register=no --keep-unit \
			--link-journal=no --console=pipe --machine=rcm-pkg-test \
			--bind-ro="$1/in:/in" --bind="$1/out:/out" \
			--bind-ro="$1/in/rcm-test.service:/etc/systemd/system/rcm-test.service" \
			-b systemd.unit=rcm-test.service
	' sh "$ct" "$NSPAWN_LIB" "$NSPAWN" "${ct_cgroups[*]}" >"$ct/nspawn.log" 2>&1
	ct_cgroups_remove
}

# fact NAME: what in-container.sh found.
fact() {
	sed -n "s/^$1=//p" "$E2E_DIR/ct/out/facts" | tail -n 1
}

ct_skip=""
if ! [ -x /lib/systemd/systemd ]; then
	ct_skip="no /lib/systemd/systemd to boot (the systemd package)"
elif ! [ -x "$top/tests/proto/mtclient" ]; then
	ct_skip="no tests/proto/mtclient (make tests/proto/mtclient)"
elif ! nspawn_get >"$E2E_DIR/nspawn.why"; then
	ct_skip=$(cat "$E2E_DIR/nspawn.why")
else
	container_run
	[ "$(fact booted)" = yes ] ||
		ct_skip="a container of this OS did not boot here: $(tail -n 3 \
			"$E2E_DIR/ct/nspawn.log" | tr '\n' ' ')"
fi
if [ -n "$ct_skip" ]; then
	e2e_skip "the unit under a real systemd (a container)" "$ct_skip"
else
	e2e_diag "under systemd $(/lib/systemd/systemd --version | head -n 1):" \
		"$(grep -v '^ *[✓✗]' "$E2E_DIR/ct/out/security" | tail -n 1)"
	assert_eq "systemd: dpkg -i in the container" "$(fact dpkg)" 0
	assert_eq "systemd: the service starts and runs" \
		"$(fact start) $(fact active)" "0 active"
	assert_match "systemd: as the user $pkg" \
		"$(fact uid) $(fact user_uid)" '^([1-9][0-9]*) \1$'
	assert_eq "systemd: no capabilities, none to gain, a bounding set of none" \
		"$(fact capeff) $(fact capbnd) $(fact nonewprivs)" \
		"0000000000000000 0000000000000000 1"
	assert_eq "systemd: a system call filter" "$(fact seccomp)" 2
	assert_eq "systemd: no writable and executable memory" "$(fact wx_maps)" 0
	assert_eq "systemd: the state folder, the milter's" "$(fact statedir)" \
		"replycode-milter replycode-milter 750"
	assert_eq "systemd: the state store opens there under the sandbox" \
		"$(fact state_files)" \
		"/var/lib/replycode-milter/data.mdb replycode-milter 600"
	assert_eq "systemd: the socket, for Postfix's group" "$(fact socket)" \
		"$pkg $sgroup_ct 660"
	assert_eq "systemd: the journal has the lines with their priority" \
		"$(fact journal) $(fact journal_raw)" "started: $conf 0"
	assert_match "systemd: an error of the milter is an error in the journal" \
		"$(fact journal_err)" 'keeping the policy in force$'

	assert_eq "systemd: Postfix's user reaches the milter" "$(fact shipped)" continue
	assert_match "systemd-analyze security (online): 1.5 or less (got $(fact security))" \
		"$(awk -v s="$(fact security)" 'BEGIN { print (s != "" && s <= 1.5) ? "ok" : "high" }')" '^ok$'
	assert_eq "systemd: reload with a good config" \
		"$(fact reload_good) $(fact after_good)" \
		"0 replycode 550 5.7.1 Refused under systemd"
	assert_eq "systemd: a regex matches under MemoryDenyWriteExecute" \
		"$(fact after_good)" "replycode 550 5.7.1 Refused under systemd"
	assert_match "systemd: reload with a bad config fails" "$(fact reload_bad)" '^[1-9]'
	assert_eq "systemd: ... the service stays, with the policy in force" \
		"$(fact active_after_bad) $(fact after_bad)" \
		"active replycode 550 5.7.1 Refused under systemd"
	assert_match "systemd: ... the errors are in the journal" "$(fact journal_bad)" '^[1-9]'
	assert_eq "systemd: killed, it is restarted (Restart=on-failure)" \
		"$(fact restarted) $(fact after_restart)" \
		"active 1 replycode 550 5.7.1 Refused under systemd"
	assert_eq "systemd: stop: exit 0, the socket removed" \
		"$(fact stop) $(fact socket_after_stop)" "0 0 0"
	assert_eq "systemd: README.md's metrics layout: the milter starts with it" \
		"$(fact metrics_start) $(fact metrics_reply)" \
		"0 replycode 550 5.7.1 Refused under systemd"
	assert_eq "systemd: ... stats_file, its folder the milter's, both readable" \
		"$(fact metrics_file)" "$pkg 644 $pkg 755 "
	assert_eq "systemd: ... another user reads the counters through the link" \
		"$(fact metrics_read)" "replycode_milter_sessions_total 1"
	if [ -f "$E2E_DIR/ct/in/dnsmasq.conf" ]; then
		a_lookups='replycode_milter_dns_lookups_total{type="A",source="resolver"'
		assert_eq "systemd: DNS lists: a dnsmasq on 127.0.0.1, the unit started with a client_dnsbl rule" \
			"$(fact dns_server) $(fact dns_start)" "0 0"
		listed="replycode 554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using pkg.example; Listed by the package test"
		assert_eq "systemd: ... a listed client: the reply with the zone and the TXT record" \
			"$(fact dns_listed)" "$listed"
		assert_eq "systemd: ... the server stopped: dns_error = ignore, not listed" \
			"$(fact dns_unlisted)" continue
		assert_match "systemd: ... the failure is a warning in the journal" \
			"$(fact dns_fail_log)" \
			'^warning: conn[0-9]+: stage=connect DNS lookup failed: 5\.0\.0\.127\.pkg\.example A: .+; dns_error = ignore: taken as not listed$'
		assert_eq "systemd: ... and counted in stats_file (one found, one failed)" \
			"$(fact dns_found_count) $(fact dns_failed_count)" \
			"$a_lookups,result=\"found\"} 1 $a_lookups,result=\"failed\"} 1"
		assert_eq "systemd: ... stop: exit 0 (with its resolver)" \
			"$(fact dns_stop)" "0 0"
		assert_eq "systemd: ... dns_resolver = \"system\" (/etc/resolv.conf): the same reply" \
			"$(fact dns_system_listed)" "$listed"
		assert_eq "systemd: ... stop: exit 0" "$(fact dns_system_stop)" "0 0"
	else
		e2e_skip "systemd: DNS lists under the unit's sandbox" \
			"no dnsmasq here (packaging/deps.sh check installs dnsmasq-base)"
	fi
	assert_eq "systemd: the test ran to its end" "$(fact finished)" yes
fi
left=""
for d in "${ct_cgroups[@]}"; do
	[ -d "$d" ] && left="$left $d"
done
assert_eq "the container left no cgroup behind" "$left" ""

# ------------------------------------------------------------ install

installed=1
pkg_dpkg -i "$deb" >"$E2E_DIR/dpkg.log" 2>&1
rc=$?
assert_eq "dpkg -i: exit 0" "$rc" 0 || e2e_diag "$(cat "$E2E_DIR/dpkg.log")"
assert_eq "dpkg: installed" \
	"$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$pkg")" "ii  $version"
assert_match "the binary: /usr/sbin/$pkg" "$(stat -c '%a %U' /usr/sbin/$pkg)" '^755 root$'
dpkg-query -W -f='${Conffiles}\n' "$pkg" >"$E2E_DIR/conffiles"
assert_contains "the config is a conffile" "$E2E_DIR/conffiles" \
	"^ $conf [0-9a-f]{32}$"
assert_eq "the installed config is conf/$pkg.conf" \
	"$(cmp "$top/conf/$pkg.conf" "$conf" && echo same)" same
assert_match "man page $pkg(8)" "$(man -w 8 "$pkg" 2>&1)" \
	"^/usr/share/man/man8/$pkg\.8\.gz$"
assert_match "man page $pkg.conf(5)" "$(man -w 5 "$pkg.conf" 2>&1)" \
	"^/usr/share/man/man5/$pkg\.conf\.5\.gz$"
assert_match "the unit is installed and enabled" \
	"$(readlink /etc/systemd/system/multi-user.target.wants/$pkg.service)" \
	"^$unit$"
pw=$(getent passwd "$pkg")
assert_match "a system user with no shell and no home" "$pw" \
	"^$pkg:x:[0-9]+:[0-9]+:$pkg mail filter,*:/nonexistent:/usr/sbin/nologin$"
uid=$(cut -d: -f3 <<<"$pw")
assert_match "... with a system uid" "$uid" '^([0-9]|[1-9][0-9]|[1-9][0-9][0-9])$'
assert_eq "... and its own group" "$(id -gn "$pkg")" "$pkg"
sgroup=$pkg
getent group postfix >/dev/null && sgroup=postfix
assert_eq "socket folder: owner $pkg, group $sgroup, mode 2750" \
	"$(stat -c '%U %G %a' /var/spool/postfix/$pkg)" "$pkg $sgroup 2750"
assert_eq "state folder: owner and group $pkg, mode 750, empty" \
	"$(stat -c '%U %G %a' /var/lib/$pkg) $(ls -A /var/lib/$pkg | wc -l)" \
	"$pkg $pkg 750 0"
assert_eq "-V: the package's version" "$(/usr/sbin/$pkg -V)" "$pkg $version"

/usr/sbin/$pkg -t >"$E2E_DIR/t.out" 2>&1
assert_eq "-t on the installed config (the default path): exit 0" "$?" 0
assert_contains "-t: OK, no warning" "$E2E_DIR/t.out" \
	"^$conf: OK: [0-9]+ rules, 0 warnings, [0-9]+ notes$"
bad=""
for f in "$top"/conf/examples/*; do
	if ! cmp -s "$f" "$docdir/examples/${f##*/}"; then
		bad="$bad ${f##*/}(not installed)"
	elif [ "${f%.conf}" != "$f" ] &&
		! /usr/sbin/$pkg -t -c "$docdir/examples/${f##*/}" \
			>"$E2E_DIR/ex.out" 2>&1; then
		bad="$bad ${f##*/}($(tail -n 1 "$E2E_DIR/ex.out"))"
	fi
done
assert_eq "every conf/examples file is installed, every config loads" "$bad" ""
if cmp -s "$top/packaging/grafana/replycode-milter.json" \
	"$docdir/replycode-milter.json"; then
	assert_eq "the Grafana dashboard is in the docs, uncompressed" 0 0
else
	assert_eq "the Grafana dashboard is in the docs, uncompressed" \
		"$(ls "$docdir")" "(replycode-milter.json among them)"
fi

# sd_analyze ARGS...: systemd-analyze with a private /run: it writes
# /run/systemd/systemd-units-load, which would stay on the host.
sd_analyze() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs /run && exec systemd-analyze "$@"' \
		sh "$@"
}

# systemd-analyze, offline: there is no systemd running here.
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(sd_analyze verify "$unit" 2>&1)
	rc=$?
	assert_eq "systemd-analyze verify $unit: exit 0" "$rc" 0
	assert_eq "systemd-analyze verify: nothing to say" "$out" ""
	sd_analyze security --offline=true "$unit" >"$E2E_DIR/security.out" 2>&1
	score=$(sed -n -E 's/.*Overall exposure level for [^:]*: ([0-9.]+) .*/\1/p' \
		"$E2E_DIR/security.out")
	e2e_diag "systemd-analyze security (offline): $(grep 'Overall' "$E2E_DIR/security.out")"
	assert_match "systemd-analyze security: exposure 1.5 or less (got ${score:-none})" \
		"$(awk -v s="${score:-99}" 'BEGIN { print (s <= 1.5) ? "ok" : "high" }')" '^ok$'
else
	e2e_skip "systemd-analyze verify and security" \
		"no systemd-analyze (the systemd package is not installed)"
fi

# ------------------------------------------------------------ run it as the unit does

# unit_get KEY: the value of KEY= in the installed unit (the last one).
unit_get() {
	sed -n "s/^$1=//p" "$unit" | tail -n 1
}
svc_user=$(unit_get User)
svc_group=$(unit_get Group)
svc_umask=$(unit_get UMask)
read -r -a exec_start <<<"$(unit_get ExecStart)"
mapfile -t exec_reload < <(sed -n 's/^ExecReload=//p' "$unit")
assert_eq "unit: ExecStart runs the installed binary on the installed config" \
	"${exec_start[*]}" "/usr/sbin/$pkg -f -c $conf"
assert_eq "unit: User and Group" "$svc_user:$svc_group" "$pkg:$pkg"
assert_eq "unit: ExecReload checks the config, then SIGHUP" \
	"${exec_reload[*]}" "/usr/sbin/$pkg -t -c $conf /bin/kill -HUP \$MAINPID"

sock=$(sed -n -E 's/^socket = "(unix:[^"]+)"$/\1/p' "$conf")
spath=${sock#unix:}
assert_eq "the packaged socket is in Postfix's queue folder" "$spath" \
	"/var/spool/postfix/$pkg/$pkg.sock"
# README.Debian's two main.cf lines name it from inside Postfix's chroot.
chroot_path=$(zcat "$docdir/README.Debian.gz" |
	sed -n -E 's/^ *smtpd_milters = unix:(.*)$/\1/p' | head -n 1)
assert_eq "README.Debian's smtpd_milters line is the socket seen from the chroot" \
	"/var/spool/postfix$chroot_path" "$spath"

# The milter's own rule for this test, and the edit the upgrade must keep.
cat >>"$conf" <<'EOF'

# added by tests/package/deb.sh
rule "package-test" {
	stage = rcpt
	recipient = { "blocked@example.test" }
	verdict = reject
	reply = "550 5.7.1"
	text = "Refused by the package test"
}
rule "package-greylist" {
	stage = rcpt
	recipient = { "greylisted@example.test" }
	greylist = true
	verdict = tempfail
	reply = "451 4.7.1"
	text = "Greylisted by the package test, try again in $retry_in"
}
EOF

# svc CMD...: exec CMD the way systemd runs the unit's commands: its user
# and group (with their groups), no capabilities, no new privileges, its
# umask, in /, a clean environment, stderr the "journal" (JOURNAL_STREAM).
# It replaces the shell that calls it: call it in a subshell, or in the
# background (then $! is CMD's pid).
svc() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c '
		cd / && umask "$1" || exit 99
		JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) || exit 99
		export JOURNAL_STREAM
		group=$2
		shift 2
		exec setpriv --reuid="$0" --regid="$group" --init-groups \
			--inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
	' "$svc_user" "${svc_umask:-0022}" "$svc_group" "$@"
}

# start_service: ExecStart, as svc; sets MILTER_PID and MILTER_LOG.
start_service() {
	milter_start "$sock" svc "${exec_start[@]}"
}

# stop_service: SIGTERM, like systemctl stop; its exit status.
stop_service() {
	local rc
	kill -TERM "$MILTER_PID"
	wait "$MILTER_PID"
	rc=$?
	_e2e_forget pid "$MILTER_PID"
	return "$rc"
}

start_service || e2e_die "the milter does not start as the unit says"
status=$(cat "/proc/$MILTER_PID/status")
assert_eq "runs as $pkg" "$(awk '/^Uid:/ { print $2 }' <<<"$status")" "$uid"
assert_eq "no capabilities" "$(awk '/^CapEff:/ { print $2 }' <<<"$status")" \
	0000000000000000
assert_eq "no new privileges" "$(awk '/^NoNewPrivs:/ { print $2 }' <<<"$status")" 1
assert_eq "the socket: $pkg, group $sgroup, mode 660" \
	"$(stat -c '%U %G %a' "$spath")" "$pkg $sgroup 660"
assert_contains "logs to the journal with priorities" "$MILTER_LOG" \
	"^<6>started: $conf, [0-9]+ rules, socket $sock$"
assert_contains "the state store: LMDB in the package's folder" "$MILTER_LOG" \
	"^<6>state: lmdb store /var/lib/$pkg$"
assert_eq "... its files owned by $pkg, mode 600" \
	"$(cd /var/lib/$pkg && stat -c '%n %U %a' data.mdb lock.mdb | tr '\n' ' ')" \
	"data.mdb $pkg 600 lock.mdb $pkg 600 "

# pf_session NAME RCPT: one message through the private Postfix.
pf_session() {
	smtp_dialogue "$POSTFIX_PORT" --ehlo client.test --from a@sender.test \
		--to "$2" --header "Subject: package $1" >"$E2E_DIR/$1.out"
	reply_lines "$E2E_DIR/$1.out" >"$E2E_DIR/$1.r"
}

pf_skip=$(e2e_postfix_missing) || pf_skip=""
if [ -z "$pf_skip" ]; then
	postfix_start "$sock" || e2e_die "postfix does not start"
	pf_session rejected blocked@example.test
	assert_line "postfix: the rule's exact reply" "$E2E_DIR/rejected.r" \
		"550 5.7.1 Refused by the package test"
	pf_session greylisted greylisted@example.test
	assert_line "postfix: greylisted, the state kept by the service's user" \
		"$E2E_DIR/greylisted.r" \
		"451 4.7.1 Greylisted by the package test, try again in 5m"
	pf_session delivered ok@example.test
	assert_contains "postfix: the other message is queued" "$E2E_DIR/delivered.r" \
		'^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
	sink_wait_count 1 15
	n=0
	while IFS= read -r f; do
		grep -qx 'Subject: package delivered' "$f" && n=$((n + 1))
	done < <(sink_messages)
	assert_eq "postfix: ... and delivered" "$n" 1
	assert_not_contains "postfix: it reached the milter (no milter error)" \
		"$(postfix_log)" 'milter.*(Permission denied|No such file|connect to)'
else
	e2e_skip "postfix attached to the installed socket" "$pf_skip"
fi

if "$top/tests/e2e/setup-mta.sh" >"$E2E_DIR/setup.log" 2>&1 &&
	sendmail_prepare "$sock"; then
	sendmail_session --ehlo client.test --from a@sender.test \
		--to blocked@example.test --quit-after RCPT >"$E2E_DIR/sm.out"
	reply_lines "$E2E_DIR/sm.out" >"$E2E_DIR/sm.r"
	assert_line "sendmail: the rule's exact reply" "$E2E_DIR/sm.r" \
		"550 5.7.1 <blocked@example.test>... Refused by the package test"
else
	e2e_skip "sendmail attached to the installed socket" \
		"no unpacked Sendmail: $(tail -n 1 "$E2E_DIR/setup.log")"
fi

# reload_service: the unit's ExecReload lines in order, as svc, $MAINPID
# replaced; stops at the first that fails, like systemd. Output in
# reload.out; the failing status returned.
reload_service() {
	local line argv rc=0
	: >"$E2E_DIR/reload.out"
	for line in "${exec_reload[@]}"; do
		read -r -a argv <<<"${line//\$MAINPID/$MILTER_PID}"
		(svc "${argv[@]}") >>"$E2E_DIR/reload.out" 2>&1 || {
			rc=$?
			break
		}
	done
	return "$rc"
}

# mta_reply: the RCPT reply for blocked@example.test now (Postfix, else
# the milter protocol through Sendmail).
mta_reply() {
	if [ -z "$pf_skip" ]; then
		pf_session reload blocked@example.test
		grep '^550' "$E2E_DIR/reload.r"
	else
		sendmail_session --ehlo client.test --from a@sender.test \
			--to blocked@example.test --quit-after RCPT |
			reply_lines /dev/stdin | grep '^550' | sed 's/<blocked@example.test>... //'
	fi
}

sed -i 's/^\ttext = "Refused by the package test"$/\ttext = "Refused again"/' "$conf"
reload_service
assert_eq "ExecReload, a good config: exit 0" "$?" 0
for ((i = 0; i < 50; i++)); do
	grep -q "reloaded $conf" "$MILTER_LOG" && break
	sleep 0.1
done
assert_contains "ExecReload: the milter reloaded" "$MILTER_LOG" "^<6>reloaded $conf: "
assert_eq "ExecReload: the new config is in force" "$(mta_reply)" \
	"550 5.7.1 Refused again"
cp "$conf" "$E2E_DIR/good.conf"
echo 'rule "broken" { stage = nowhere }' >>"$conf"
nreload=$(grep -c "SIGHUP" "$MILTER_LOG")
reload_service
assert_eq "ExecReload, a bad config: the reload fails with 78" "$?" 78
assert_contains "ExecReload, a bad config: says why" "$E2E_DIR/reload.out" \
	"^$conf:[0-9]+: rule broken: .*nowhere"
assert_eq "ExecReload, a bad config: no SIGHUP sent" \
	"$(grep -c "SIGHUP" "$MILTER_LOG")" "$nreload"
assert_eq "ExecReload, a bad config: the policy in force stays" "$(mta_reply)" \
	"550 5.7.1 Refused again"
cp "$E2E_DIR/good.conf" "$conf"

stop_service
assert_eq "SIGTERM (systemctl stop): exit 0" "$?" 0
assert_eq "SIGTERM: the socket is removed" "$(test -e "$spath" && echo left)" ""
assert_contains "SIGTERM: logged" "$MILTER_LOG" '^<6>stopping$'

# ------------------------------------------------------------ upgrade

# repack VERSION [CONF_LINE]: the package as VERSION (its config with
# CONF_LINE added), a real upgrade for dpkg; prints its path.
repack() {
	local d=$E2E_DIR/repack-$1
	rm -rf "$d"
	dpkg-deb -R "$deb" "$d" || return 1
	sed -i "s/^Version: .*/Version: $1/" "$d/DEBIAN/control"
	# (md5sums lists no conffile: it stays right)
	if [ -n "${2-}" ]; then
		echo "$2" >>"$d$conf"
	fi
	dpkg-deb --root-owner-group -b "$d" "$d.deb" >/dev/null || return 1
	echo "$d.deb"
}

cp "$conf" "$E2E_DIR/edited.conf"
new=$(repack "$version+t1") || e2e_die "cannot repack the package"
pkg_dpkg -i "$new" >"$E2E_DIR/upgrade1.log" 2>&1
assert_eq "upgrade to $version+t1: exit 0" "$?" 0
assert_eq "upgrade: the new version is installed" \
	"$(dpkg-query -W -f='${Version}' "$pkg")" "$version+t1"
assert_eq "upgrade: the edited config is kept" \
	"$(cmp "$E2E_DIR/edited.conf" "$conf" && echo kept)" kept
assert_eq "upgrade: no .dpkg-* file next to it" \
	"$(find /etc/$pkg -name '*.dpkg-*' | wc -l)" 0
assert_eq "upgrade: the same user" "$(id -u "$pkg")" "$uid"
assert_eq "upgrade: the socket folder as it was" \
	"$(stat -c '%U %G %a' /var/spool/postfix/$pkg)" "$pkg $sgroup 2750"

new=$(repack "$version+t2" "# a line the next version adds") ||
	e2e_die "cannot repack the package"
pkg_dpkg -i --force-confdef --force-confold "$new" >"$E2E_DIR/upgrade2.log" 2>&1
assert_eq "upgrade to $version+t2, whose config differs: exit 0" "$?" 0
assert_eq "upgrade: the edited config is kept" \
	"$(cmp "$E2E_DIR/edited.conf" "$conf" && echo kept)" kept
assert_eq "upgrade: the new version's config is $conf.dpkg-dist" \
	"$(tail -n 1 "$conf.dpkg-dist" 2>&1)" "# a line the next version adds"

start_service || e2e_die "the milter does not start after the upgrade"
assert_eq "after the upgrade the edited config is in force" "$(mta_reply)" \
	"550 5.7.1 Refused again"
stop_service
assert_eq "after the upgrade: stops cleanly" "$?" 0

# ------------------------------------------------------------ reconfigure

# README.Debian: Postfix installed after the package, then
# dpkg-reconfigure gives the socket folder the group postfix; an admin's
# dpkg-statoverride on the folder wins over postinst.
sockdir=/var/spool/postfix/$pkg
if [ "$sgroup" = postfix ]; then
	chgrp "$pkg" "$sockdir"
	dpkg-reconfigure "$pkg" >"$E2E_DIR/reconf.log" 2>&1
	assert_eq "dpkg-reconfigure: the socket folder gets the group postfix" \
		"$(stat -c '%G %a' "$sockdir")" "postfix 2750"
fi
override=1
dpkg-statoverride --update --add "$pkg" "$pkg" 2710 "$sockdir"
dpkg-reconfigure "$pkg" >>"$E2E_DIR/reconf.log" 2>&1
assert_eq "dpkg-statoverride on the socket folder: postinst leaves it" \
	"$(stat -c '%U %G %a' "$sockdir")" "$pkg $pkg 2710"
dpkg-statoverride --remove "$sockdir"
override=0

# ------------------------------------------------------------ purge

postfix_stop
wait_user_idle
pkg_dpkg --purge "$pkg" >"$E2E_DIR/purge.log" 2>&1
assert_eq "dpkg --purge: exit 0" "$?" 0 || e2e_diag "$(cat "$E2E_DIR/purge.log")"
installed=0
assert_eq "purge: dpkg knows the package no more" \
	"$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)" ""
gone=""
for p in /usr/sbin/$pkg /etc/$pkg "$unit" "$docdir" /var/spool/postfix/$pkg \
	/var/lib/$pkg \
	/usr/share/man/man8/$pkg.8.gz /usr/share/man/man5/$pkg.conf.5.gz \
	/etc/systemd/system/multi-user.target.wants/$pkg.service; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		gone="$gone $p"
	fi
done
assert_eq "purge: binary, config, unit, docs, man pages, socket and state folders gone" \
	"$gone" ""
assert_eq "purge: the user and group gone" \
	"$(getent passwd "$pkg"; getent group "$pkg")" ""
snapshot >"$E2E_DIR/after"
if diff "$E2E_DIR/before" "$E2E_DIR/after" >"$E2E_DIR/host.diff"; then
	assert_eq "purge: nothing else changed (/etc, sbin, man, doc, units, spool)" 0 0
else
	assert_eq "purge: nothing else changed (/etc, sbin, man, doc, units, spool)" \
		"$(cat "$E2E_DIR/host.diff")" ""
fi

e2e_diag "whole run $((SECONDS - t0)) s"
e2e_finish
