#!/bin/sh
# in-container.sh - run by tests/package/deb.sh inside a throw-away
# container of this machine's own OS, booted with systemd as its init
# (systemd-nspawn, an overlay whose writes stay in memory): the package's
# unit under a real systemd. Never run it on a host: it installs the
# package and starts and kills the service.
#
# /in holds the .deb, mtclient and s.mt (a RCPT to blocked@example.test),
# and when the host has dnsmasq: dnsmasq.conf (port 10053) and dns2.mt,
# dns5.mt (sessions from 127.0.0.2, listed in pkg.example, and 127.0.0.5);
# the facts found go to /out/facts as "name=value" lines, for deb.sh to
# assert; /out/log has the details. Powers the container off at the end.

exec >/out/log 2>&1
conf=/etc/replycode-milter/replycode-milter.conf
sock=unix:/var/spool/postfix/replycode-milter/replycode-milter.sock

fact() {
	printf '%s=%s\n' "$1" "$2" >>/out/facts
}

# answer SCRIPT STAGE: the milter's answer at STAGE to the session in
# SCRIPT, asked as Postfix's user.
answer() {
	setpriv --reuid=postfix --regid=postfix --clear-groups \
		/in/mtclient -T 10 -s "$sock" "$1" 2>&1 | sed -n "s/^$2: //p"
}

# rcpt: the milter's answer to the RCPT of s.mt.
rcpt() {
	answer /in/s.mt rcpt
}

status() {
	grep "^$1:" "/proc/$2/status" | cut -f2 | tr -d ' \t'
}

main_pid() {
	systemctl show -p MainPID --value replycode-milter
}

# poll CMD...: run CMD until it succeeds, 5 s at most; 1 if it never did.
poll() {
	i=0
	while [ $i -lt 50 ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# got_reply WANT: the RCPT gets WANT (in $reply, what it got).
got_reply() {
	reply=$(rcpt)
	[ "$reply" = "$1" ]
}

# wait_reply WANT: until the RCPT gets WANT; prints what it got last.
wait_reply() {
	poll got_reply "$1"
	echo "$reply"
}

# in_journal PRIORITY REGEX: a line of the unit at exactly PRIORITY
# matches REGEX (in $line, the first).
in_journal() {
	line=$(journalctl -u replycode-milter -p "$1..$1" -o cat --no-pager |
		grep -m 1 -E "$2")
}

fact booted yes
dpkg -i /in/replycode-milter_*.deb
fact dpkg "$?"
# (a policy-rc.d may have kept dpkg from starting it)
systemctl start replycode-milter
fact start "$?"
sleep 1
fact active "$(systemctl is-active replycode-milter)"
systemctl status --no-pager -l replycode-milter
pid=$(main_pid)
fact uid "$(status Uid "$pid")"
fact user_uid "$(id -u replycode-milter)"
fact capeff "$(status CapEff "$pid")"
fact capbnd "$(status CapBnd "$pid")"
fact nonewprivs "$(status NoNewPrivs "$pid")"
fact seccomp "$(status Seccomp "$pid")"
fact wx_maps "$(grep -c ' rwx' "/proc/$pid/maps")"
fact socket "$(stat -c '%U %G %a' "${sock#unix:}")"
fact statedir "$(stat -c '%U %G %a' /var/lib/replycode-milter)"
# the start line at priority 6 (info) exactly, and no "<6>" left in a text
poll in_journal 6 '^started: '
fact journal "$(echo "$line" | cut -d, -f1)"
fact journal_raw "$(journalctl -u replycode-milter -o cat --no-pager | grep -c '^<')"
fact shipped "$(rcpt)"
systemd-analyze security --no-pager replycode-milter >/out/security
fact security "$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' \
	/out/security)"

cat >>"$conf" <<'EOF'
rule "container" {
	stage = rcpt
	recipient_regex = { "^bl(o|0)cked@" }
	verdict = reject
	reply = "550 5.7.1"
	text = "Refused under systemd"
}
rule "container-greylist" {
	stage = rcpt
	recipient = { "greylisted@example.test" }
	greylist = true
	verdict = tempfail
	reply = "451 4.7.1"
}
EOF
systemctl reload replycode-milter
fact reload_good "$?"
fact after_good "$(wait_reply "replycode 550 5.7.1 Refused under systemd")"
# the reload brought a greylist rule: the store opens in the state folder,
# which the sandbox lets the unit write
fact state_files "$(stat -c '%n %U %a' /var/lib/replycode-milter/data.mdb 2>&1)"
echo 'rule "broken" { stage = nowhere }' >>"$conf"
systemctl reload replycode-milter
fact reload_bad "$?"
fact active_after_bad "$(systemctl is-active replycode-milter)"
fact after_bad "$(rcpt)"
fact journal_bad "$(journalctl -u replycode-milter --no-pager |
	grep -c 'rule broken: error: stage "nowhere"')"
# a SIGHUP past the check: the milter itself logs the failure, as an error
kill -HUP "$pid"
poll in_journal 3 'keeping the policy in force'
fact journal_err "$line"
sed -i '$d' "$conf"

kill -KILL "$pid"
sleep 3
fact restarted "$(systemctl is-active replycode-milter) $(systemctl show -p NRestarts --value replycode-milter)"
fact after_restart "$(wait_reply "replycode 550 5.7.1 Refused under systemd")"
systemctl stop replycode-milter
fact stop "$? $(systemctl show -p ExecMainStatus --value replycode-milter)"
fact socket_after_stop "$(find /var/spool/postfix/replycode-milter -mindepth 1 | wc -l)"

# README.md's metrics layout for Debian: StateDirectory= in a drop-in,
# stats_file there, a link to it in node_exporter's textfile folder; the
# file must be readable through the link by another user (node_exporter
# runs as prometheus) despite the unit's UMask=0077.
dropin=/etc/systemd/system/replycode-milter.service.d
prom=/var/lib/replycode-milter/replycode-milter.prom
link=/var/lib/prometheus/node-exporter/replycode-milter.prom
mkdir -p "$dropin" /var/lib/prometheus/node-exporter
printf '[Service]\nStateDirectory=replycode-milter\nStateDirectoryMode=0755\n' \
	>"$dropin/metrics.conf"
sed -i "1i stats_file = \"$prom\"\\nstats_interval = 1" "$conf"
ln -sf "$prom" "$link"
systemctl daemon-reload
systemctl start replycode-milter
fact metrics_start "$?"
# one session, once the milter listens
fact metrics_reply "$(wait_reply "replycode 550 5.7.1 Refused under systemd")"
sessions() {
	line=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		grep '^replycode_milter_sessions_total ' "$link")
	[ "$line" = "replycode_milter_sessions_total 1" ]
}
# (a busy machine may take longer than a stats_interval of 1 s)
poll sessions || poll sessions || poll sessions
fact metrics_read "$line"
fact metrics_file "$(stat -c '%U %a' "$prom" /var/lib/replycode-milter | tr '\n' ' ')"
systemctl stop replycode-milter

# DNS lists under the sandbox (libunbound, its thread, its sockets): a
# dnsmasq on 127.0.0.1 answers, then is stopped.
if [ -f /in/dnsmasq.conf ]; then
	dnsmasq --keep-in-foreground --conf-file=/in/dnsmasq.conf \
		--user=root --group=root &
	dns_pid=$!
	poll grep -q 'started, version' /out/dnsmasq.log
	fact dns_server "$?"
	sed -i '1i dns_resolver = "127.0.0.1@10053"\ndns_timeout = 3' "$conf"
	cat >>"$conf" <<'EOF'
rule "container-dnsbl" {
	stage = connect
	client_dnsbl = { "pkg.example" }
	verdict = reject
	reply = "554 5.7.1"
	text = "Service unavailable; Client host [$client_addr] blocked using $dnsbl_zone; $dnsbl_txt"
}
EOF
	systemctl start replycode-milter
	fact dns_start "$?"
	listed() {
		reply=$(answer /in/dns2.mt connect)
		[ -n "$reply" ]
	}
	poll listed
	fact dns_listed "$reply"
	kill "$dns_pid"
	wait "$dns_pid"
	fact dns_unlisted "$(answer /in/dns5.mt rcpt)"
	poll in_journal 4 'DNS lookup failed: 5\.0\.0\.127\.pkg\.example A: '
	fact dns_fail_log "$line"
	a_lookups='replycode_milter_dns_lookups_total{type="A",source="resolver"'
	dns_counted() {
		line=$(grep -F "$a_lookups,result=\"failed\"}" "$prom")
		[ "$line" = "$a_lookups,result=\"failed\"} 1" ]
	}
	poll dns_counted || poll dns_counted
	fact dns_failed_count "$line"
	fact dns_found_count "$(grep -F "$a_lookups,result=\"found\"}" "$prom")"
	systemctl stop replycode-milter
	fact dns_stop "$? $(systemctl show -p ExecMainStatus --value replycode-milter)"

	# the default, dns_resolver = "system": the nameserver of
	# /etc/resolv.conf (the container's own), dnsmasq on port 53
	rm -f /etc/resolv.conf
	echo 'nameserver 127.0.0.1' >/etc/resolv.conf
	sed -e 's/^port=.*/port=53/' -e 's#^log-facility=.*#log-facility=/out/dnsmasq53.log#' \
		/in/dnsmasq.conf >/run/dnsmasq53.conf
	dnsmasq --keep-in-foreground --conf-file=/run/dnsmasq53.conf \
		--user=root --group=root &
	dns_pid=$!
	poll grep -q 'started, version' /out/dnsmasq53.log
	sed -i 's/^dns_resolver = .*/dns_resolver = "system"/' "$conf"
	systemctl start replycode-milter
	poll listed
	fact dns_system_listed "$reply"
	systemctl stop replycode-milter
	fact dns_system_stop "$? $(systemctl show -p ExecMainStatus --value replycode-milter)"
	kill "$dns_pid"
	wait "$dns_pid"
fi
journalctl -u replycode-milter --no-pager
fact finished yes
systemctl poweroff
