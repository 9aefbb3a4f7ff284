#!/bin/bash
# run.sh: the end-to-end suite: replycode-milter behind a real Postfix and a
# real Sendmail, spoken to over SMTP with swaks.
#
# One milter (tests/e2e/policy.conf, one rule per stage and verdict) serves
# a private Postfix (main.cf lines taken from README.md's "Attach to
# Postfix") and an unpacked Sendmail (the INPUT_MAIL_FILTER line taken from
# README.md's "Attach to Sendmail"): every case goes through both and the
# exact reply lines the client sees are asserted, with what each MTA does
# on its own (connect-stage replies, Sendmail's "<addr>... " prefix, 421,
# HELO names Sendmail refuses). Then the same milter reloads (SIGHUP) the
# policy with hold_early_verdicts = true and both MTAs must give the
# connect and HELO rules' reply at RCPT; then DNS lists against a real
# DNS server (listed, allowlisted, unlisted clients; the server stopped
# with dns_error = ignore and tempfail); then the milter stops and both
# MTAs must tempfail; then the chrooted-Postfix socket settings of README.md
# are tried on a unix socket. Also checked: delivery to the sink (per
# recipient, discard, add_header), Postfix's hold queue and Sendmail's hf
# files, dry-run log lines, and no "malformed" reply in Postfix's maillog;
# and every spelling of a refused sender or recipient address (u@d>,
# <<u@d>>, <"v"@d>, < v@d>, ...) refused on both MTAs, never delivered, an
# unreadable one given the failure policy.
# Without Postfix (packaging/deps.sh does not install it where that would
# remove the host's MTA) every Postfix check is reported skipped, with the
# reason, and the Sendmail half runs alone.
# Ends with "N passed, N failed" (and ", N skipped").
#
# Must never: change README.md's lines before using them (only the port and
# the paths of the temporary folder), loosen an assertion to make it pass,
# or leave a process or file behind (lib.sh stops everything by pid).
#
# Usage: tests/e2e/run.sh   (root; not root: one skip line, exit 0)

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	e2e_skip "end-to-end suite through Postfix and Sendmail" \
		"needs root (Postfix master, smtp-sink -u, unshare)"
	e2e_finish
fi
e2e_tmpdir
t0=$SECONDS
bin=$top/replycode-milter
# Why the Postfix half is skipped; empty when it runs.
pf_skip=$(e2e_postfix_missing) || pf_skip=""
[ -z "$pf_skip" ] || e2e_diag "Postfix checks skipped: $pf_skip"

# on MTA ASSERTION DESC ...: the assertion, or for MTA pf without Postfix a
# skip with the reason.
on() {
	if [ "$1" = pf ] && [ -n "$pf_skip" ]; then
		e2e_skip "$3" "$pf_skip"
		return 0
	fi
	shift
	"$@"
}

readme=$top/README.md

if ! "$here/setup-mta.sh" >"$E2E_DIR/setup.log" 2>&1; then
	e2e_diag "$(cat "$E2E_DIR/setup.log")"
	e2e_die "tests/e2e/setup-mta.sh failed"
fi
[ -x "$bin" ] || e2e_die "no $bin: run make first"

# readme_block NAME: the lines README.md holds between <!-- e2e:NAME -->
# and <!-- /e2e:NAME --> (code fences and blank lines dropped); 1 when the
# block is missing or empty.
readme_block() {
	local out
	out=$(awk -v first="<!-- e2e:$1 -->" -v last="<!-- /e2e:$1 -->" '
		$0 == last { inside = 0; done = 1 }
		inside && $0 !~ /^```/ && NF > 0 { print }
		$0 == first && !done { inside = 1 }
	' "$readme")
	[ -n "$out" ] || return 1
	printf '%s\n' "$out"
}

# ------------------------------------------------------------ the docs' lines

mport=$(free_port) || e2e_die "no free port"
msock="inet:$mport@127.0.0.1"

pf_lines=()
if block=$(readme_block postfix-main.cf); then
	while IFS= read -r line; do
		pf_lines+=("${line//8890/$mport}")
	done <<<"$block"
	assert_eq "README.md: the Postfix main.cf block has 7 lines" \
		"${#pf_lines[@]}" 7
else
	e2e_die "README.md has no <!-- e2e:postfix-main.cf --> block"
fi
pf_milters=""
for line in "${pf_lines[@]}"; do
	case $line in
	"smtpd_milters = "*) pf_milters=${line#smtpd_milters = } ;;
	esac
done
assert_eq "README.md: smtpd_milters is Postfix's inet:HOST:PORT form" \
	"$pf_milters" "$(milter_socket_postfix "$msock")"

sm_line=$(readme_block sendmail.mc) ||
	e2e_die "README.md has no <!-- e2e:sendmail.mc --> block"
assert_match "README.md: the Sendmail line is one INPUT_MAIL_FILTER" \
	"$sm_line" '^INPUT_MAIL_FILTER\(.*S=inet:8890@127\.0\.0\.1, F=T, T=S:30s;R:30s;E:1m.*\)dnl$'
SENDMAIL_FILTER_MC=${sm_line//8890/$mport}
export SENDMAIL_FILTER_MC

chroot_conf=$(readme_block milter-chroot.conf) ||
	e2e_die "README.md has no <!-- e2e:milter-chroot.conf --> block"
chroot_main=$(readme_block postfix-chroot-main.cf) ||
	e2e_die "README.md has no <!-- e2e:postfix-chroot-main.cf --> block"

# ------------------------------------------------------------ start

policy=$E2E_DIR/policy.conf
cp "$here/policy.conf" "$policy" || e2e_die "cannot copy policy.conf"
"$bin" -t -c "$policy" >"$E2E_DIR/check.out" 2>&1
assert_eq "policy.conf loads (-t exit status)" "$?" 0
assert_contains "policy.conf: no warning (strict), notes are advice" \
	"$E2E_DIR/check.out" 'OK: [0-9]+ rules, 0 warnings, [0-9]+ notes'

milter_start "$msock" "$bin" "${MILTER_AS[@]}" -f -c "$policy" -p "$msock" ||
	e2e_die "the milter does not start"
if [ -z "$pf_skip" ]; then
	postfix_start "$pf_milters" "${pf_lines[@]}" ||
		e2e_die "postfix does not start with README.md's main.cf lines"
fi
for line in "${pf_lines[@]}"; do
	got=$([ -n "$pf_skip" ] ||
		postconf -c "$POSTFIX_DIR/etc" -h "${line%% = *}" 2>&1)
	on pf assert_eq "postfix runs with README.md's ${line%% = *}" \
		"${line%% = *} = $got" "$line"
done
sendmail_prepare "$msock" || e2e_die "sendmail .cf not built"
assert_contains "sendmail .cf built from README.md's INPUT_MAIL_FILTER line" \
	"$SENDMAIL_CF" "^Xreplycode-milter, S=inet:$mport@127\.0\.0\.1, F=T, T=S:30s;R:30s;E:1m$"
e2e_diag "milter on $mport, postfix on ${POSTFIX_PORT:-none}, up in $((SECONDS - t0)) s"

# ------------------------------------------------------------ helpers

# pf NAME SWAKS_ARGS...: one Postfix session; transcript NAME.pf.out, reply
# lines NAME.pf (nothing without Postfix). sm NAME ...: the same through
# Sendmail -bs (NAME.sm). both NAME ...: pf and sm with the same arguments.
pf() {
	local name=$1
	shift
	[ -z "$pf_skip" ] || return 0
	smtp_dialogue "$POSTFIX_PORT" "$@" >"$E2E_DIR/$name.pf.out"
	reply_lines "$E2E_DIR/$name.pf.out" >"$E2E_DIR/$name.pf"
}

# pf_from NAME ADDR SWAKS_ARGS...: pf from the loopback address ADDR.
pf_from() {
	local name=$1 addr=$2
	shift 2
	pf "$name" --local-interface "$addr" "$@"
}

sm() {
	local name=$1
	shift
	sendmail_session "$@" >"$E2E_DIR/$name.sm.out"
	reply_lines "$E2E_DIR/$name.sm.out" >"$E2E_DIR/$name.sm"
}

both() {
	pf "$@"
	sm "$@"
}

# pf_raw / sm_raw NAME ADDR COMMAND...: the raw client from ADDR (it goes
# on after a refused greeting, where swaks stops).
pf_raw() {
	local name=$1 addr=$2
	shift 2
	[ -z "$pf_skip" ] || return 0
	smtp_raw "$POSTFIX_PORT" "$addr" "$@" >"$E2E_DIR/$name.pf.out"
	reply_lines "$E2E_DIR/$name.pf.out" >"$E2E_DIR/$name.pf"
}

sm_raw() {
	local name=$1 addr=$2
	shift 2
	sendmail_raw_from "$addr" "$@" >"$E2E_DIR/$name.sm.out"
	reply_lines "$E2E_DIR/$name.sm.out" >"$E2E_DIR/$name.sm"
}

# sm_from NAME ADDR SWAKS_ARGS...: swaks to Sendmail over TCP from ADDR.
sm_from() {
	local name=$1 addr=$2
	shift 2
	sendmail_session_from "$addr" "$@" >"$E2E_DIR/$name.sm.out"
	reply_lines "$E2E_DIR/$name.sm.out" >"$E2E_DIR/$name.sm"
}

# sm_qid NAME: Sendmail's queue id from NAME's "250 2.0.0 ID Message
# accepted for delivery", or nothing.
sm_qid() {
	sed -n -E 's/^250 2\.0\.0 ([0-9A-Za-z]+) Message accepted for delivery$/\1/p' \
		"$E2E_DIR/$1.sm" | head -n 1
}

# sink_subject SUBJECT: how many messages the sink holds with that Subject.
sink_subject() {
	local f n=0
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		grep -qFx -- "Subject: $1" "$f" && n=$((n + 1))
	done < <(sink_messages)
	echo "$n"
}

# sink_file SUBJECT: the sink's file of the message with that Subject.
sink_file() {
	local f
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if grep -qFx -- "Subject: $1" "$f"; then
			echo "$f"
			return 0
		fi
	done < <(sink_messages)
	echo "$E2E_DIR/no-sink-message-with-subject"
}

# sm_subject SUBJECT: how many of Sendmail's queued messages (qf and hf)
# have that Subject.
sm_subject() {
	local f n=0
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		grep -qFx -- "H??Subject: $1" "$f" && n=$((n + 1))
	done < <(sendmail_queue_files)
	echo "$n"
}

# last_line FILE: the last reply line (the connection ended after it).
last_line() {
	tail -n 1 "$1" 2>/dev/null
}

pf_greet="220 $E2E_HOSTNAME ESMTP Postfix"
ok_to=(--to ok@example.test)
ehlo=(--ehlo client.test)

# simulate NAME CONF ARGS...: what replycode-milter --simulate predicts for
# the transaction of case NAME under the policy CONF (NAME.sim).
simulate() {
	local name=$1 conf=$2
	shift 2
	"$bin" -c "$conf" --simulate --client 127.0.0.1,localhost "$@" \
		>"$E2E_DIR/$name.sim" 2>&1
}

# sim_agrees NAME MTA: every reply --simulate predicts for MTA (pf, sm),
# HOST as the MTA's name, is what the client saw in case NAME: each
# command's lines, in order and whole, among the reply lines the client
# saw; a greeting as the first of them; where the MTA closes the
# connection, the last of them.
sim_agrees() {
	local name=$1 m=$2 mta sim seen blocks="" block="" when="" w l last=""
	local missing="" closes=no
	mta=$([ "$m" = pf ] && echo postfix || echo sendmail)
	sim=$E2E_DIR/$name.sim
	seen="|$(tr '\n' '|' <"$E2E_DIR/$name.$m")"
	grep -qx "  $mta: closes the connection" "$sim" && closes=yes
	while IFS=$'\t' read -r w l; do
		l=${l//HOST/$E2E_HOSTNAME}
		if [ "$w" != "$when" ] && [ -n "$block" ]; then
			blocks="$blocks$when"$'\t'"$block"$'\n'
			block=""
		fi
		when=$w
		block="$block$l|"
		last=$l
	done < <(sed -n -E "s/^  $mta ([A-Za-z-]+): (.*)\$/\1\t\2/p" "$sim")
	[ -n "$block" ] && blocks="$blocks$when"$'\t'"$block"$'\n'
	[ -n "$blocks" ] || missing=" (no reply predicted: $(head -n 3 "$sim" | tr '\n' '|'))"
	while IFS=$'\t' read -r w block; do
		[ -n "$w" ] || continue
		if [ "$w" = greeting ]; then
			[ "$(head -n 1 "$E2E_DIR/$name.$m")|" = "$block" ] ||
				missing="$missing greeting:|$block"
		elif [[ $seen != *"|$block"* ]]; then
			missing="$missing $w:|$block"
		fi
	done <<<"$blocks"
	if [ "$closes" = yes ] && [ "$(last_line "$E2E_DIR/$name.$m")" != "$last" ]; then
		missing="$missing closes after:$last"
	fi
	on "$m" assert_eq "$mta, $name: --simulate predicts what the client saw" \
		"${missing:+not seen:}$missing" ""
}

# ------------------------------------------------------------ connect

# Connect reject from 127.0.0.2. Postfix: its own 554 greeting, then the
# milter's reply at MAIL (and VRFY); RCPT then has no MAIL. Sendmail: its
# own 554 greeting, the milter's text dropped, 550 5.0.0 to everything.
conn_cmds=("EHLO client.test" "MAIL FROM:<a@sender.test>"
	"RCPT TO:<ok@example.test>" "DATA" "VRFY ok@example.test" "QUIT")
pf_raw connect 127.0.0.2 "${conn_cmds[@]}"
sm_raw connect 127.0.0.2 "${conn_cmds[@]}"
r=$E2E_DIR/connect.pf
on pf assert_eq "postfix, connect reject: its own 554 greeting" \
	"$(head -n 1 "$r")" "554 $E2E_HOSTNAME ESMTP not accepting connections"
on pf assert_eq "postfix, connect reject: MAIL gets the milter's reply" \
	"$(sed -n 4p "$r")" "550 5.7.1 Client [127.0.0.2] refused by rule connect-block"
on pf assert_eq "postfix, connect reject: RCPT then has no MAIL" \
	"$(sed -n 5p "$r")" "503 5.5.1 Error: need MAIL command"
on pf assert_eq "postfix, connect reject: VRFY gets the milter's reply" \
	"$(sed -n 7p "$r")" "550 5.7.1 Client [127.0.0.2] refused by rule connect-block"
r=$E2E_DIR/connect.sm
assert_eq "sendmail, connect reject: its own 554 greeting" \
	"$(head -n 1 "$r")" "554 $E2E_HOSTNAME ESMTP not accepting messages"
assert_eq "sendmail, connect reject: EHLO still 250" \
	"$(sed -n 2p "$r")" "250-$E2E_HOSTNAME Hello [127.0.0.2], pleased to meet you"
assert_eq "sendmail, connect reject: MAIL RCPT DATA VRFY get 550 5.0.0, text dropped" \
	"$(sed -n '4,7p' "$r" | tr '\n' '|')" \
	"550 5.0.0 Command rejected|550 5.0.0 Command rejected|550 5.0.0 Command rejected|550 5.0.0 Command rejected|"
assert_not_contains "sendmail, connect reject: the milter's text never shown" \
	"$r" 'refused by rule'

# Connect 421 from 127.0.0.3: both say 421 at once and hang up, each with
# its own text.
pf_raw connect421 127.0.0.3 "EHLO client.test" "QUIT"
sm_raw connect421 127.0.0.3 "EHLO client.test" "QUIT"
on pf assert_eq "postfix, connect 421: greeting 421 with Postfix's text, then closed" \
	"$(tr '\n' '|' <"$E2E_DIR/connect421.pf")" \
	"421 $E2E_HOSTNAME Service unavailable - try again later|"
on pf assert_contains "postfix, connect 421: connection closed" \
	"$E2E_DIR/connect421.pf.out" '^\*\*\* Remote host closed connection unexpectedly\.$'
assert_eq "sendmail, connect 421: greeting 421 4.7.0 with Sendmail's text, then closed" \
	"$(tr '\n' '|' <"$E2E_DIR/connect421.sm")" \
	"421 4.7.0 $E2E_HOSTNAME closing connection|"
assert_contains "sendmail, connect 421: connection closed" \
	"$E2E_DIR/connect421.sm.out" '^\*\*\* Remote host closed connection unexpectedly\.$'

# ------------------------------------------------------------ helo

# HELO reject: both answer EHLO 250 and give the reply at MAIL.
both helo --ehlo blocked.helo.test --from a@sender.test "${ok_to[@]}"
for m in pf sm; do
	on "$m" assert_line "$m, HELO reject: given at MAIL" "$E2E_DIR/helo.$m" \
		"550 5.7.1 HELO blocked.helo.test refused"
	on "$m" assert_contains "$m, HELO reject: EHLO itself got 250" "$E2E_DIR/helo.$m" \
		"^250[ -]$E2E_HOSTNAME"
done
sm_raw helo-rcpt 127.0.0.1 "HELO blocked.helo.test" \
	"MAIL FROM:<a@sender.test>" "RCPT TO:<ok@example.test>" "QUIT"
assert_eq "sendmail, HELO reject: given again at RCPT" \
	"$(sed -n 4p "$E2E_DIR/helo-rcpt.sm")" "550 5.7.1 HELO blocked.helo.test refused"

# Hostile HELO: '%' and 300 more octets, echoed at MAIL. Cut to 256 octets
# marked "...", '%' as it was. Sendmail refuses such a HELO itself.
long=$(printf 'x%.0s' $(seq 300))
pf hostile --ehlo "evil%s%n.$long.test" --from hostile@sender.test "${ok_to[@]}"
r=$E2E_DIR/hostile.pf
on pf assert_line "postfix, hostile HELO: cut to 256 octets, % kept, first line" "$r" \
	"550-5.7.1 HELO was evil%s%n.$(printf 'x%.0s' $(seq 247))..."
on pf assert_line "postfix, hostile HELO: second line" "$r" "550 5.7.1 client localhost"
sm hostile --ehlo "evil%s%n.$long.test" --from hostile@sender.test "${ok_to[@]}"
assert_line "sendmail refuses a HELO with % itself" "$E2E_DIR/hostile.sm" \
	"501 5.0.0 Invalid domain name"
sm hostile2 --ehlo "$(printf 'y%.0s' $(seq 250))" --from hostile@sender.test "${ok_to[@]}"
assert_line "sendmail, 250-octet HELO echoed whole" "$E2E_DIR/hostile2.sm" \
	"550-5.7.1 <hostile@sender.test>... HELO was $(printf 'y%.0s' $(seq 250))"
assert_line "sendmail, 250-octet HELO: second line" "$E2E_DIR/hostile2.sm" \
	"550 5.7.1 client localhost"

# ------------------------------------------------------------ mail

both sender-block "${ehlo[@]}" --from '50%off@spam.test' "${ok_to[@]}"
on pf assert_line "postfix, MAIL reject, first line, % from the address" \
	"$E2E_DIR/sender-block.pf" "550-5.7.1 Sender <50%off@spam.test> refused"
assert_line "sendmail, MAIL reject, first line with the <addr>... prefix" \
	"$E2E_DIR/sender-block.sm" \
	"550-5.7.1 <50%off@spam.test>... Sender <50%off@spam.test> refused"
for m in pf sm; do
	on "$m" assert_line "$m, MAIL reject, second line, % from the config" \
		"$E2E_DIR/sender-block.$m" \
		"550 5.7.1 Appeal: postmaster@example.test (100% read)"
	on "$m" assert_not_contains "$m, MAIL reject: no %% reaches the client" \
		"$E2E_DIR/sender-block.$m" '%%'
done

both sender-busy "${ehlo[@]}" --from busy@sender.test "${ok_to[@]}"
for m in pf sm; do
	on "$m" assert_line "$m, MAIL tempfail (no prefix on Sendmail)" \
		"$E2E_DIR/sender-busy.$m" "452 4.3.1 Insufficient system storage, try later"
done

# ------------------------------------------------------------ rcpt

both rcpt-mixed "${ehlo[@]}" --from a@sender.test \
	--to ok@example.test,blocked@example.test --header "Subject: e2e mixed"
on pf assert_line "postfix, RCPT reject for one recipient" "$E2E_DIR/rcpt-mixed.pf" \
	"550 5.7.1 Recipient <blocked@example.test> blocked"
assert_line "sendmail, RCPT reject for one recipient, prefixed" \
	"$E2E_DIR/rcpt-mixed.sm" \
	"550 5.7.1 <blocked@example.test>... Recipient <blocked@example.test> blocked"
on pf assert_line "postfix, the other recipient accepted" "$E2E_DIR/rcpt-mixed.pf" \
	"250 2.1.5 Ok"
assert_line "sendmail, the other recipient accepted" "$E2E_DIR/rcpt-mixed.sm" \
	"250 2.1.5 <ok@example.test>... Recipient ok"
on pf assert_contains "postfix, the message with one good recipient queued" \
	"$E2E_DIR/rcpt-mixed.pf" '^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
qid=$(sm_qid rcpt-mixed)
assert_contains "sendmail, queued for the good recipient" \
	"$SENDMAIL_DIR/q/qf$qid" '^RPFD:<ok@example\.test>$'
assert_not_contains "sendmail, not for the refused one" \
	"$SENDMAIL_DIR/q/qf$qid" '^R.*blocked@'

both rcpt-busy "${ehlo[@]}" --from a@sender.test --to busy@example.test \
	--quit-after RCPT
on pf assert_line "postfix, RCPT tempfail" "$E2E_DIR/rcpt-busy.pf" \
	"450 4.2.1 Mailbox busy, 100% full"
assert_line "sendmail, RCPT tempfail, prefixed" "$E2E_DIR/rcpt-busy.sm" \
	"450 4.2.1 <busy@example.test>... Mailbox busy, 100% full"

# A recipient of 300 octets, echoed: cut to 256 octets. The first line
# keeps room for Sendmail's prefix, whose address Sendmail shortens to 203
# octets (err.c), and the 272 octets of text still fit it. Sendmail refuses
# the address itself.
both rcpt-long "${ehlo[@]}" --from a@sender.test --to "$long@example.test" \
	--quit-after RCPT
on pf assert_eq "postfix, long recipient: cut, exact" \
	"$(grep '^450' "$E2E_DIR/rcpt-long.pf" | tr '\n' '|')" \
	"450 4.2.0 Mailbox <$(printf 'x%.0s' $(seq 255))... busy|"
assert_contains "sendmail refuses a 300-octet address itself" \
	"$E2E_DIR/rcpt-long.sm" '^553 5\.1\.0 <x+\.\.\.x+@example\.test>\.\.\. prescan: token too long$'

both rcpt-close "${ehlo[@]}" --from a@sender.test \
	--to close@example.test,ok@example.test
for m in pf sm; do
	on "$m" assert_eq "$m, RCPT 421: the last reply, connection closed after it" \
		"$(last_line "$E2E_DIR/rcpt-close.$m")" "421 4.3.0 Closing connection"
done
on pf assert_contains "postfix, RCPT 421: swaks sees the connection closed" \
	"$E2E_DIR/rcpt-close.pf.out" '^\*\*\* Remote host closed connection unexpectedly\.$'
assert_contains "sendmail, RCPT 421: swaks sees the connection closed" \
	"$E2E_DIR/rcpt-close.sm.out" '^\*\*\* Child process closed connection unexpectedly\.$'

both discard "${ehlo[@]}" --from a@sender.test --to trap@example.test \
	--header "Subject: e2e discard"
on pf assert_contains "postfix, discard: the client sees 250" "$E2E_DIR/discard.pf" \
	'^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
assert_contains "sendmail, discard: the client sees 250" "$E2E_DIR/discard.sm" \
	'^250 2\.0\.0 [0-9A-Za-z]+ Message accepted for delivery$'
qid=$(sm_qid discard)
assert_eq "sendmail, discard: nothing queued" \
	"$(find "$SENDMAIL_DIR/q" -name "?f$qid" | wc -l)" 0

both tag "${ehlo[@]}" --from a@sender.test --to tag@example.test \
	--header "Subject: e2e tag"
qid=$(sm_qid tag)
assert_contains "sendmail, add_header: the header is in the queued message" \
	"$SENDMAIL_DIR/q/qf$qid" '^H\?\?X-Replycode-Tag: tag for <tag@example\.test>$'

# ------------------------------------------------------------ content

both data "${ehlo[@]}" --from datablock@sender.test "${ok_to[@]}"
for m in pf sm; do
	on "$m" assert_line "$m, DATA reject" "$E2E_DIR/data.$m" \
		"554 5.3.0 No data from <datablock@sender.test>"
	on "$m" assert_not_contains "$m, no 354 after a DATA reject" "$E2E_DIR/data.$m" '^354'
done

both header "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" \
	--header "Subject: e2e Lottery winner"
both eoh "${ehlo[@]}" --from slow@sender.test "${ok_to[@]}" \
	--header "Subject: e2e eoh"
both body "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" \
	--header "Subject: e2e body" --body "a casino bonus for you"
both eom "${ehlo[@]}" --from a@sender.test --to eomreject@example.test \
	--header "Subject: e2e eom"
for m in pf sm; do
	on "$m" assert_line "$m, header reject" "$E2E_DIR/header.$m" \
		"550 5.7.1 Header rule subject-lottery matched"
	on "$m" assert_line "$m, end-of-header tempfail" "$E2E_DIR/eoh.$m" "451 4.7.1 Slow down"
	on "$m" assert_eq "$m, body reject, two lines, % once" \
		"$(grep '^550' "$E2E_DIR/body.$m" | tr '\n' '|')" \
		"550-5.7.1 Body rule body-casino matched|550 5.7.1 100% spam|"
	on "$m" assert_eq "$m, end-of-message reject, two lines" \
		"$(grep '^554' "$E2E_DIR/eom.$m" | tr '\n' '|')" \
		"554-5.6.0 Message refused|554 5.6.0 at end of data|"
	for c in header eoh body eom; do
		on "$m" assert_line "$m, $c: refused only after the data (354 first)" \
			"$E2E_DIR/$c.$m" "354 End data with <CR><LF>.<CR><LF>"
	done
done

# Regression: a body_regex match of 9 KB and of 30 KB over body offset
# 65535, where Postfix (milter8.c) and Sendmail (milter_body()) cut the
# body into chunks. The scanner of 5358cc6 saw 4 KiB on each side of a
# boundary and let both through; the body with the run of x lines broken
# goes through.
# span_body FILE BEFORE LINES [BREAK]: BEFORE filler lines (72 octets with
# CR LF), then BEGIN-SECRET, LINES lines of 70 x, END-SECRET; BREAK puts a
# y in the middle line.
span_body() {
	awk -v before="$2" -v lines="$3" -v broken="${4:-0}" 'BEGIN {
		x = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		for (i = 0; i < before; i++)
			printf "filler %06d %s\n", i, substr("nothing to see here, " \
			    "move along please, thank you very much", 1, 56)
		print "BEGIN-SECRET"
		for (i = 0; i < lines; i++)
			print (broken && i == int(lines / 2)) ? "y" substr(x, 2) : x
		print "END-SECRET"
		print "bye"
	}' >"$1"
}
span_body "$E2E_DIR/span9.txt" 847 125      # 60984 to 70008
span_body "$E2E_DIR/span30.txt" 694 417     # 49968 to 80016
span_body "$E2E_DIR/spanok.txt" 694 417 1
assert_eq "the 30 KB body: BEGIN-SECRET at 49968 of a CR LF body" \
	"$(sed 's/$/\r/' "$E2E_DIR/span30.txt" | grep -abo BEGIN-SECRET)" "49968:BEGIN-SECRET"
for b in span9 span30 spanok; do
	both "$b" "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" \
		--header "Subject: e2e $b" --body "@$E2E_DIR/$b.txt"
done
for m in pf sm; do
	for b in span9 span30; do
		on "$m" assert_line "$m, ${b#span} KB body match over offset 65535: refused" \
			"$E2E_DIR/$b.$m" "550 5.7.1 Body rule body-span matched"
	done
	on "$m" assert_not_contains "$m, the broken run: not refused" "$E2E_DIR/spanok.$m" '^5'
done
on pf assert_contains "postfix, the broken run: queued" "$E2E_DIR/spanok.pf" \
	'^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
qid=$(sm_qid spanok)
assert_eq "sendmail, the broken run: queued" \
	"$(find "$SENDMAIL_DIR/q" -name "qf$qid" | wc -l)" \
	"$([ -n "$qid" ] && echo 1 || echo "a queue id")"

both hold "${ehlo[@]}" --from a@sender.test --to review@example.test \
	--header "Subject: e2e hold"
on pf assert_contains "postfix, quarantine: the client sees 250" "$E2E_DIR/hold.pf" \
	'^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
qid=$(sm_qid hold)
assert_eq "sendmail, quarantine: kept as hf$qid" \
	"$(find "$SENDMAIL_DIR/q" -name "hf$qid" | wc -l)" 1
assert_contains "sendmail, quarantine: the reason is in the hf file" \
	"$SENDMAIL_DIR/q/hf$qid" '^qheld for review by eom-hold$'

both accept "${ehlo[@]}" --from boss@trusted.test "${ok_to[@]}" \
	--header "Subject: e2e accept" --body "a casino bonus for you"
both dryrun "${ehlo[@]}" --from dryrun@sender.test "${ok_to[@]}" \
	--header "Subject: e2e dryrun"
for c in accept dryrun; do
	on pf assert_contains "postfix, $c: accepted" "$E2E_DIR/$c.pf" \
		'^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
	qid=$(sm_qid "$c")
	assert_eq "sendmail, $c: accepted and queued" \
		"$(find "$SENDMAIL_DIR/q" -name "qf$qid" | wc -l)" \
		"$([ -n "$qid" ] && echo 1 || echo "a queue id")"
done
assert_eq "dry-run: one 'would reject' line per MTA in the milter's log" \
	"$(grep -cF 'would reject stage=mail rule=dry-run-sender verdict=reject reply="550 5.7.1 Would refuse <dryrun@sender.test>"' "$MILTER_LOG")" \
	"$([ -n "$pf_skip" ] && echo 1 || echo 2)"

# ------------------------------------------------------------ delivery

if [ -z "$pf_skip" ]; then
	postfix_wait_idle 20
	sink_wait_count 5 10
fi
on pf assert_eq "sink: the per-recipient message delivered once" \
	"$(sink_subject "e2e mixed")" 1
on pf assert_contains "sink: ... to the good recipient" "$(sink_file "e2e mixed")" \
	'^X-Rcpt-Args: <ok@example\.test>'
on pf assert_not_contains "sink: ... not to the refused one" "$(sink_file "e2e mixed")" \
	'^X-Rcpt-Args: <blocked@'
on pf assert_contains "sink: the add_header message has the header" \
	"$(sink_file "e2e tag")" '^X-Replycode-Tag: tag for <tag@example\.test>$'
on pf assert_eq "sink: accept lets the casino body through" \
	"$(sink_subject "e2e accept")" 1
on pf assert_eq "sink: the dry-run message delivered" "$(sink_subject "e2e dryrun")" 1
on pf assert_eq "sink: the broken run delivered" "$(sink_subject "e2e spanok")" 1
for s in discard "Lottery winner" eoh body eom hold span9 span30; do
	on pf assert_eq "sink: no '$s' message" "$(sink_subject "e2e $s")" 0
done
on pf assert_eq "sink: five messages in all" "$(sink_messages | wc -l)" 5
assert_eq "sendmail: the add_header message queued once" \
	"$(sm_subject "e2e tag")" 1
for s in discard "Lottery winner" eoh body eom span9 span30; do
	assert_eq "sendmail: no '$s' message queued" "$(sm_subject "e2e $s")" 0
done
assert_eq "sendmail: the broken run queued once" "$(sm_subject "e2e spanok")" 1
on pf assert_eq "postfix, quarantine: one message in the hold queue" \
	"$(postfix_hold_count)" 1
on pf assert_contains "postfix maillog: the discard (given at RCPT, for the message)" \
	"$(postfix_log)" 'NOQUEUE: milter-discard: RCPT from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<a@sender\.test> to=<trap@example\.test>'
on pf assert_contains "postfix maillog: the hold" "$(postfix_log)" \
	'milter-hold: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: milter triggers HOLD action'

# ------------------------------------------------------------ envelope spellings

# Both MTAs give the milter the client's own spelling of MAIL FROM and RCPT
# TO; Postfix delivers to what its parser makes of it. Each spelling here
# was delivered past a rule for u@blocked.test's domain or for
# v@example.test (issue 8): now each is refused, as a recipient (the
# message still goes to ok@example.test, and to it alone) and as a sender
# (no transaction, nothing delivered), with the reply's $recipient or
# $sender showing how the milter read it. SPELLING|READ AS|RULE'S WORDS.
spelled=(
	'u@blocked.test>|u@blocked.test|by domain'
	'<<u@blocked.test>>|u@blocked.test|by domain'
	'<"v"@example.test>|v@example.test|'
	'<v@example.test >|v@example.test|'
	'< v@example.test>|v@example.test|'
	'<<v@example.test>>|v@example.test|'
	'<"v"@example.test.>|v@example.test|'
	'<@a.test,@b.test:u@blocked.test>|u@blocked.test|by domain'
	'<U@BLOCKED.TEST.>|U@blocked.test|by domain'
	'<blocked.test!u>|u@blocked.test|by domain'
	'<u%blocked.test>|u@blocked.test|by domain'
	'<"u@blocked.test">|u@blocked.test|by domain'
	'<Name <u@blocked.test>>|u@blocked.test|by domain'
	'<u(comment)@blocked.test>|u@blocked.test|by domain'
)
# What Sendmail answers itself, before the milter sees the address.
declare -A sm_own_rcpt=(
	['u@blocked.test>']="553 5.0.0 u@blocked.test>... Unbalanced '>'"
)
declare -A sm_own_mail=(
	['u@blocked.test>']="553 5.0.0 u@blocked.test>... Unbalanced '>'"
)
sp_n=0
for c in "${spelled[@]}"; do
	sp_n=$((sp_n + 1))
	IFS='|' read -r sp norm how <<<"$c"
	want="refused${how:+ $how}"
	r=spelled-rcpt-$sp_n
	body=$'Subject: e2e spelled rcpt '"$sp_n"$'\r\n\r\nspelled\r\n.'
	cmds=("EHLO client.test" "MAIL FROM:<a@sender.test>" "RCPT TO:$sp"
		"RCPT TO:<ok@example.test>" "DATA" "$body" "QUIT")
	pf_raw "$r" 127.0.0.1 "${cmds[@]}"
	sm_raw "$r" 127.0.0.1 "${cmds[@]}"
	on pf assert_line "postfix, RCPT TO:$sp refused, read as <$norm>" \
		"$E2E_DIR/$r.pf" "550 5.7.1 Recipient <$norm> $want"
	if [ -n "${sm_own_rcpt[$sp]-}" ]; then
		assert_line "sendmail refuses RCPT TO:$sp itself" \
			"$E2E_DIR/$r.sm" "${sm_own_rcpt[$sp]}"
	else
		assert_line "sendmail, RCPT TO:$sp refused, read as <$norm>" \
			"$E2E_DIR/$r.sm" "550 5.7.1 $sp... Recipient <$norm> $want"
	fi
	qid=$(sm_qid "$r")
	assert_eq "sendmail, RCPT TO:$sp: queued for ok@example.test alone" \
		"$(grep '^R' "$SENDMAIL_DIR/q/qf${qid:-none}" 2>&1 | tr '\n' '|')" \
		"RPFD:<ok@example.test>|"

	r=spelled-sender-$sp_n
	body=$'Subject: e2e spelled sender '"$sp_n"$'\r\n\r\nspelled\r\n.'
	cmds=("EHLO client.test" "MAIL FROM:$sp" "RCPT TO:<ok@example.test>"
		"DATA" "$body" "QUIT")
	pf_raw "$r" 127.0.0.1 "${cmds[@]}"
	sm_raw "$r" 127.0.0.1 "${cmds[@]}"
	on pf assert_eq "postfix, MAIL FROM:$sp refused, read as <$norm>; no RCPT then" \
		"$(grep -v '^250-' "$E2E_DIR/$r.pf" | sed -n '3,4p' | tr '\n' '|')" \
		"550 5.7.1 Sender <$norm> $want|503 5.5.1 Error: need MAIL command|"
	if [ -n "${sm_own_mail[$sp]-}" ]; then
		sm_want="${sm_own_mail[$sp]}"
	else
		sm_want="550 5.7.1 $sp... Sender <$norm> $want"
	fi
	assert_eq "sendmail, MAIL FROM:$sp refused${sm_own_mail[$sp]+ by Sendmail itself}; no RCPT then" \
		"$(grep -v '^250-' "$E2E_DIR/$r.sm" | sed -n '3,4p' | tr '\n' '|')" \
		"$sm_want|503 5.0.0 Need MAIL before RCPT|"
	assert_eq "sendmail, MAIL FROM:$sp: nothing queued" \
		"$(sm_subject "e2e spelled sender $sp_n")" 0
done
assert_contains "milter log: the raw recipient kept, and how the rules read it" \
	"$MILTER_LOG" 'decision stage=rcpt rule=spelled-rcpt verdict=reject .* to=<"v"@example\.test> to_read=<v@example\.test>$'
assert_contains "milter log: the raw sender kept, and how the rules read it" \
	"$MILTER_LOG" 'decision stage=mail rule=spelled-sender-domain verdict=reject .* from=<blocked\.test!u> to=- from_read=<u@blocked\.test>$'

# An address the milter cannot read with certainty gives the failure
# policy (tempfail), never "no match". Both MTAs pass this one on (Postfix
# would deliver it to ab@blocked.test); the log names the raw value.
unread='<<a b@blocked.test>>'
for w in rcpt sender; do
	if [ "$w" = rcpt ]; then
		cmds=("EHLO client.test" "MAIL FROM:<a@sender.test>"
			"RCPT TO:$unread" "QUIT")
	else
		cmds=("EHLO client.test" "MAIL FROM:$unread" "QUIT")
	fi
	pf_raw "unread-$w" 127.0.0.1 "${cmds[@]}"
	sm_raw "unread-$w" 127.0.0.1 "${cmds[@]}"
	for m in pf sm; do
		on "$m" assert_line "$m, unreadable $w $unread: the failure policy" \
			"$E2E_DIR/unread-$w.$m" \
			"451 4.3.0 Temporary internal error, try again later"
	done
done
for w in recipient sender; do
	assert_eq "milter log: the unreadable $w named, for each MTA" \
		"$(grep -cE "internal error: rule [a-z-]+: the $w \"<<a b@blocked\.test>>\" cannot be read \(two words without an operator between them\); failure policy gives tempfail$" "$MILTER_LOG")" \
		"$([ -n "$pf_skip" ] && echo 1 || echo 2)"
done

postfix_wait_idle 20
for ((i = 1; i <= sp_n; i++)); do
	on pf assert_eq "sink: spelled recipient $i: delivered to ok@example.test alone" \
		"$(grep '^X-Rcpt-Args:' "$(sink_file "e2e spelled rcpt $i")" | tr '\n' '|')" \
		"X-Rcpt-Args: <ok@example.test> ORCPT=rfc822;ok@example.test|"
	on pf assert_eq "sink: spelled sender $i: nothing delivered" \
		"$(sink_subject "e2e spelled sender $i")" 0
done

# ------------------------------------------------------------ --simulate

# What replycode-milter --simulate predicts for each case above where the
# milter decides is what the real MTAs answered, line for line.
conf1=$here/policy.conf
printf 'Subject: e2e Lottery winner\n\nhello\n' >"$E2E_DIR/lottery.eml"
printf 'Subject: e2e body\n\na casino bonus for you\n' >"$E2E_DIR/casino.eml"
printf 'Subject: e2e\n\nhello\n' >"$E2E_DIR/plain.eml"
simulate connect "$conf1" --client 127.0.0.2 --helo client.test \
	--from a@sender.test --to ok@example.test
simulate connect421 "$conf1" --client 127.0.0.3 --helo client.test
simulate helo "$conf1" --helo blocked.helo.test --from a@sender.test "${ok_to[@]}"
simulate helo-rcpt "$conf1" --helo blocked.helo.test --from a@sender.test "${ok_to[@]}"
simulate hostile "$conf1" --helo "evil%s%n.$long.test" --from hostile@sender.test "${ok_to[@]}"
simulate hostile2 "$conf1" --helo "$(printf 'y%.0s' $(seq 250))" \
	--from hostile@sender.test "${ok_to[@]}"
simulate sender-block "$conf1" --helo client.test --from '50%off@spam.test' "${ok_to[@]}"
simulate sender-busy "$conf1" --helo client.test --from busy@sender.test "${ok_to[@]}"
simulate rcpt-mixed "$conf1" --helo client.test --from a@sender.test \
	--to ok@example.test --to blocked@example.test
simulate rcpt-busy "$conf1" --helo client.test --from a@sender.test --to busy@example.test
simulate rcpt-close "$conf1" --helo client.test --from a@sender.test \
	--to close@example.test --to ok@example.test
simulate data "$conf1" --helo client.test --from datablock@sender.test "${ok_to[@]}"
simulate header "$conf1" --helo client.test --from a@sender.test "${ok_to[@]}" \
	--message "$E2E_DIR/lottery.eml"
simulate eoh "$conf1" --helo client.test --from slow@sender.test "${ok_to[@]}" \
	--message "$E2E_DIR/plain.eml"
simulate body "$conf1" --helo client.test --from a@sender.test "${ok_to[@]}" \
	--message "$E2E_DIR/casino.eml"
simulate eom "$conf1" --helo client.test --from a@sender.test --to eomreject@example.test \
	--message "$E2E_DIR/plain.eml"
for c in connect connect421 helo sender-block sender-busy rcpt-mixed \
	rcpt-busy rcpt-close data header eoh body eom; do
	sim_agrees "$c" pf
	sim_agrees "$c" sm
done
sim_agrees helo-rcpt sm
sim_agrees hostile pf
sim_agrees hostile2 sm

# ------------------------------------------------------------ hold_early_verdicts

sed 's/^hold_early_verdicts = false$/hold_early_verdicts = true/' \
	"$here/policy.conf" >"$policy.new" && mv "$policy.new" "$policy"
assert_contains "second policy: hold_early_verdicts = true" "$policy" \
	'^hold_early_verdicts = true$'
kill -HUP "$MILTER_PID"
for ((i = 0; i < 50; i++)); do
	grep -q "reloaded $policy" "$MILTER_LOG" && break
	sleep 0.1
done
assert_contains "SIGHUP: the milter reloads the policy" "$MILTER_LOG" \
	"reloaded $policy: [0-9]+ rules; new connections use it"

held_args=(--ehlo client.test --from a@sender.test --to ok@example.test
	--quit-after RCPT)
pf_from held 127.0.0.2 "${held_args[@]}"
sm_from held 127.0.0.2 "${held_args[@]}"
on pf assert_eq "postfix, held connect reject: greeting 220" \
	"$(head -n 1 "$E2E_DIR/held.pf")" "$pf_greet"
assert_contains "sendmail, held connect reject: greeting 220" \
	"$E2E_DIR/held.sm" "^220 $E2E_HOSTNAME ESMTP Sendmail "
on pf assert_line "postfix, held connect reject: MAIL accepted" \
	"$E2E_DIR/held.pf" "250 2.1.0 Ok"
on pf assert_line "postfix, held connect reject: at RCPT with the milter's text" \
	"$E2E_DIR/held.pf" "550 5.7.1 Client [127.0.0.2] refused by rule connect-block"
assert_line "sendmail, held connect reject: at RCPT with the milter's text" \
	"$E2E_DIR/held.sm" \
	"550 5.7.1 <ok@example.test>... Client [127.0.0.2] refused by rule connect-block"
on pf assert_eq "held connect reject: the same reply on both (Sendmail's prefix aside)" \
	"$(grep '^5' "$E2E_DIR/held.sm" | sed 's/^\(550 5\.7\.1 \)<ok@example\.test>\.\.\. /\1/')" \
	"$(grep '^5' "$E2E_DIR/held.pf")"

both held-helo --ehlo blocked.helo.test --from a@sender.test \
	--to ok@example.test --quit-after RCPT
on pf assert_line "postfix, held HELO reject: at RCPT" "$E2E_DIR/held-helo.pf" \
	"550 5.7.1 HELO blocked.helo.test refused"
assert_line "sendmail, held HELO reject: at RCPT, prefixed" \
	"$E2E_DIR/held-helo.sm" \
	"550 5.7.1 <ok@example.test>... HELO blocked.helo.test refused"
for m in pf sm; do
	on "$m" assert_contains "$m, held HELO reject: MAIL accepted" \
		"$E2E_DIR/held-helo.$m" '^250 2\.1\.0 '
done

pf_from held421 127.0.0.3 "${held_args[@]}"
sm_from held421 127.0.0.3 "${held_args[@]}"
for m in pf sm; do
	on "$m" assert_eq "$m, held connect 421: at RCPT with the milter's text, then closed" \
		"$(last_line "$E2E_DIR/held421.$m")" "421 4.3.0 Too busy, come back later"
	on "$m" assert_contains "$m, held connect 421: connection closed" \
		"$E2E_DIR/held421.$m.out" '^\*\*\* Remote host closed connection unexpectedly\.$'
done
# A HELO accept: with hold_early_verdicts the MTA waits on neither connect
# nor HELO (no-reply steps), so the accept is given at MAIL; the sender
# and body that later rules refuse go through.
refusals=$(grep -c 'rule=sender-block' "$MILTER_LOG")
both held-accept --ehlo friend.helo.test --from '50%off@spam.test' \
	--to ok@example.test --header "Subject: e2e held accept" \
	--body "a casino bonus for you"
on pf assert_contains "postfix, HELO accept not waited for: taken" \
	"$E2E_DIR/held-accept.pf" '^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
on pf assert_eq "sink: the HELO-accepted message delivered" \
	"$(sink_subject "e2e held accept")" 1
qid=$(sm_qid held-accept)
assert_eq "sendmail, HELO accept not waited for: taken and queued" \
	"$(find "$SENDMAIL_DIR/q" -name "qf$qid" | wc -l)" \
	"$([ -n "$qid" ] && echo 1 || echo "a queue id")"
assert_contains "milter log: the HELO accept" "$MILTER_LOG" \
	'decision stage=helo rule=helo-trusted verdict=accept .*client=localhost\[127\.0\.0\.1\]'
assert_eq "milter log: no later rule tried after the HELO accept" \
	"$(grep -c 'rule=sender-block' "$MILTER_LOG")" "$refusals"
assert_contains "milter log: the connect verdict held until RCPT" "$MILTER_LOG" \
	'decision stage=connect rule=connect-block verdict=reject reply="550 5\.7\.1 Client \[127\.0\.0\.2\] refused by rule connect-block" client=unknown\[127\.0\.0\.2\] from=- to=- \(held until RCPT\)$'
simulate held "$policy" --client 127.0.0.2 --helo client.test \
	--from a@sender.test --to ok@example.test
simulate held-helo "$policy" --helo blocked.helo.test --from a@sender.test \
	--to ok@example.test
simulate held421 "$policy" --client 127.0.0.3 --helo client.test \
	--from a@sender.test --to ok@example.test
for c in held held-helo held421; do
	sim_agrees "$c" pf
	sim_agrees "$c" sm
done

# ------------------------------------------------------------ DNS lists

# The same milter, reloaded with a policy of DNS lists served by a real
# DNS server (dnsmasq, lib.sh dns_start): 127.0.0.2 is listed in
# bl.example with a TXT record of '%', control bytes and 600 octets,
# 127.0.0.10 is on wl.example, 127.0.0.5 on neither.
# dns_policy HOLD DNS_ERROR: write it over $policy and reload.
dns_policy() {
	{
		printf 'hold_early_verdicts = %s\ndns_error = %s\n' "$1" "$2"
		printf 'dns_timeout = 3\n'
		dns_rules
		cat <<'CONF'
rule "later-reject" {
	stage = rcpt
	recipient = { "blocked@example.test" }
	verdict = reject
	reply = "550 5.7.1"
	text = "Recipient refused"
}
CONF
	} >"$policy"
	local n
	n=$(grep -c "reloaded $policy" "$MILTER_LOG")
	kill -HUP "$MILTER_PID"
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c "reloaded $policy" "$MILTER_LOG")" -gt "$n" ] && break
		sleep 0.1
	done
	assert_contains "DNS policy (hold $1, dns_error $2) loaded" "$MILTER_LOG" \
		"reloaded $policy: 3 rules"
}

dns_start || e2e_die "cannot start dnsmasq"
# The TXT record as the client reads it: cut to 256 octets and "...",
# each control byte '?', the '%' the milter doubles undone by both MTAs.
dns_txt="$DNS_TXT_HEAD %s%n????$(printf 'a%.0s' $(seq 200))"
dns_txt="${dns_txt:0:256}..."
dns_reply="554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using bl.example; $dns_txt"
dns_args=(--ehlo client.test --from a@sender.test --to ok@example.test
	--quit-after RCPT)

dns_policy false ignore
pf_raw dnsbl 127.0.0.2 "EHLO client.test" "MAIL FROM:<a@sender.test>" \
	"RCPT TO:<ok@example.test>" QUIT
sm_raw dnsbl 127.0.0.2 "EHLO client.test" "MAIL FROM:<a@sender.test>" \
	"RCPT TO:<ok@example.test>" QUIT
on pf assert_eq "postfix, listed client at connect: greeting 554" \
	"$(head -n 1 "$E2E_DIR/dnsbl.pf")" "554 $E2E_HOSTNAME ESMTP not accepting connections"
on pf assert_line "postfix, listed client: MAIL gets the reply with the zone and the TXT record" \
	"$E2E_DIR/dnsbl.pf" "$dns_reply"
assert_eq "sendmail, listed client at connect: greeting 554" \
	"$(head -n 1 "$E2E_DIR/dnsbl.sm")" "554 $E2E_HOSTNAME ESMTP not accepting messages"
assert_line "sendmail, listed client: MAIL refused, Sendmail drops a connect reply's text" \
	"$E2E_DIR/dnsbl.sm" "550 5.0.0 Command rejected"
simulate dnsbl "$policy" --client 127.0.0.2 --helo client.test \
	--from a@sender.test --to ok@example.test
sim_agrees dnsbl pf
sim_agrees dnsbl sm

for m in pf sm; do
	"${m}_from" dnswl 127.0.0.10 --ehlo client.test --from a@sender.test \
		--to blocked@example.test --header "Subject: e2e dnswl"
	"${m}_from" unlisted 127.0.0.5 --ehlo client.test --from a@sender.test \
		--to ok@example.test --header "Subject: e2e unlisted"
	on "$m" assert_contains "$m, allowlisted client: passes the later reject rule" \
		"$E2E_DIR/dnswl.$m" '^250 2\.0\.0 '
	on "$m" assert_not_contains "$m, allowlisted client: never refused" \
		"$E2E_DIR/dnswl.$m" 'Recipient refused'
	on "$m" assert_contains "$m, unlisted client: delivered" \
		"$E2E_DIR/unlisted.$m" '^250 2\.0\.0 '
done

dns_policy true ignore
pf_from dnsbl-held 127.0.0.2 "${dns_args[@]}"
sm_from dnsbl-held 127.0.0.2 "${dns_args[@]}"
for m in pf sm; do
	on "$m" assert_contains "$m, held DNS list reject: MAIL accepted" \
		"$E2E_DIR/dnsbl-held.$m" '^250 2\.1\.0 '
	# Sendmail writes no "<address>... " before a 554
	on "$m" assert_line "$m, held DNS list reject: at RCPT with the zone and the TXT record" \
		"$E2E_DIR/dnsbl-held.$m" "$dns_reply"
done
simulate dnsbl-held "$policy" --client 127.0.0.2 --helo client.test \
	--from a@sender.test --to ok@example.test
sim_agrees dnsbl-held pf
sim_agrees dnsbl-held sm
# four milter sessions and two --simulate processes asked for 127.0.0.2:
# the milter once (then from its cache), each --simulate once
assert_eq "the DNS server was asked for 127.0.0.2 three times: the milter's cache" \
	"$(dns_queries 2.0.0.127.bl.example A)" 3

# The DNS server gone; the clients from here on were never looked up
# (127.0.0.5's answers may still be in the cache, as they should).
dns_stop
dns_policy false ignore
for m in pf sm; do
	"${m}_from" dnsdown 127.0.0.7 --ehlo client.test --from a@sender.test \
		--to ok@example.test --header "Subject: e2e dns down ignore"
	on "$m" assert_contains "$m, DNS down, dns_error = ignore: delivered" \
		"$E2E_DIR/dnsdown.$m" '^250 2\.0\.0 '
done
assert_contains "milter log: the failed lookup, taken as not listed" "$MILTER_LOG" \
	'DNS lookup failed: 7\.0\.0\.127\.(wl|bl)\.example A: .*dns_error = ignore: taken as not listed'

dns_policy false tempfail
for m in pf sm; do
	"${m}_from" dnstemp 127.0.0.6 --ehlo client.test --from a@sender.test \
		--to ok@example.test --header "Subject: e2e dns down tempfail"
done
on pf assert_eq "postfix, DNS down, dns_error = tempfail: greeting 220" \
	"$(head -n 1 "$E2E_DIR/dnstemp.pf")" "$pf_greet"
on pf assert_line "postfix, DNS down, dns_error = tempfail: MAIL gets 451 4.4.3" \
	"$E2E_DIR/dnstemp.pf" "451 4.4.3 Temporary DNS lookup failure, try again later"
assert_line "sendmail, DNS down, dns_error = tempfail: MAIL tempfailed (its own text)" \
	"$E2E_DIR/dnstemp.sm" "451 4.3.2 Please try again later"
assert_contains "milter log: the tempfail names the rule and why" "$MILTER_LOG" \
	'decision stage=connect rule=dnswl verdict=tempfail reply="451 4\.4\.3 .*\(DNS lookups failed, dns_error = tempfail\)'
if [ -z "$pf_skip" ]; then
	postfix_wait_idle 20
	sink_wait_count 3 10
fi
on pf assert_eq "sink: the allowlisted, the unlisted and the ignore message delivered" \
	"$(( $(sink_subject "e2e dnswl") + $(sink_subject "e2e unlisted") + $(sink_subject "e2e dns down ignore") ))" 3
on pf assert_eq "sink: nothing that dns_error = tempfail held" \
	"$(sink_subject "e2e dns down tempfail")" 0
on pf assert_eq "postfix: nothing of it queued either" \
	"$(postfix_queue_count maildrop incoming active deferred)" 0
assert_eq "sendmail: the allowlisted, the unlisted and the ignore message queued" \
	"$(( $(sm_subject "e2e dnswl") + $(sm_subject "e2e unlisted") + $(sm_subject "e2e dns down ignore") ))" 3
assert_eq "sendmail: nothing that dns_error = tempfail held" \
	"$(sm_subject "e2e dns down tempfail")" 0

# ------------------------------------------------------------ milter gone

t1=$SECONDS
milter_stop
e2e_diag "milter_stop took $((SECONDS - t1)) s"
before=$(sink_messages | wc -l)
pf gone "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" --header "Subject: e2e gone"
on pf assert_eq "postfix, milter gone: greeting still 220" \
	"$(head -n 1 "$E2E_DIR/gone.pf")" "$pf_greet"
on pf assert_line "postfix, milter gone: milter_default_action = tempfail at MAIL" \
	"$E2E_DIR/gone.pf" "451 4.7.1 Service unavailable - try again later"
sm gone "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" --header "Subject: e2e gone"
assert_line "sendmail, milter gone: F=T tempfails at MAIL" \
	"$E2E_DIR/gone.sm" "451 4.3.2 Please try again later"
postfix_wait_idle 10
on pf assert_eq "postfix, milter gone: nothing reaches the sink" \
	"$(sink_messages | wc -l)" "$before"
on pf assert_eq "postfix, milter gone: nothing queued" \
	"$(postfix_queue_count maildrop incoming active deferred)" 0

# ------------------------------------------------------------ chrooted Postfix's socket

# README.md's settings for a chrooted Postfix on a unix socket in the
# queue folder (this test Postfix is not chrooted: its path gets the queue
# folder in front), with the rules of conf/examples/header-body.conf.
# The milter runs as nobody: a replycode-milter user may come and go on
# this machine with the Debian package's test (tests/package/deb.sh).
if [ -n "$pf_skip" ]; then
	e2e_skip "README.md's chrooted-Postfix socket settings" "$pf_skip"
else
	qdir=$POSTFIX_DIR/queue
	user=nobody
	{
		while IFS= read -r line; do
			line=${line//\/var\/spool\/postfix/$qdir}
			case $line in
			user\ =*) echo "user = \"$user\"" ;;
			*) echo "$line" ;;
			esac
		done <<<"$chroot_conf"
		grep -v -E '^[[:space:]]*socket[[:space:]]*=' \
			"$top/conf/examples/header-body.conf"
	} >"$E2E_DIR/chroot.conf"
	usock=$(sed -n -E 's/^socket = "(unix:[^"]+)"$/\1/p' "$E2E_DIR/chroot.conf")
	assert_match "README.md: the chroot socket is under the queue folder" \
		"$usock" "^unix:$qdir/"
	install -d -o "$user" -g postfix -m 0750 "$(dirname "${usock#unix:}")"
	milter_start "$usock" "$bin" -f -c "$E2E_DIR/chroot.conf" ||
		e2e_die "the milter does not start with README.md's chroot settings"
	assert_eq "chroot settings: socket mode 660, group postfix" \
		"$(stat -c '%a %G' "${usock#unix:}")" "660 postfix"
	while IFS= read -r line; do
		line=${line//unix:\//unix:$qdir/}
		postconf -c "$POSTFIX_DIR/etc" -e "$line" >>"$E2E_DIR/postconf.log" 2>&1
	done <<<"$chroot_main"
	on pf assert_eq "postfix: smtpd_milters from README.md's chroot lines" \
		"$(postconf -c "$POSTFIX_DIR/etc" -h smtpd_milters)" "$usock"
	postfix -c "$POSTFIX_DIR/etc" reload >>"$E2E_DIR/postconf.log" 2>&1
	sleep 1
	pf chroot "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" \
		--header 'Content-Type: application/octet-stream; name="x.exe"'
	on pf assert_eq "postfix (user postfix) reaches the milter on the unix socket" \
		"$(grep '^550' "$E2E_DIR/chroot.pf" | tr '\n' '|')" \
		"550-5.7.1 Executable attachments are not accepted here|550 5.7.1 Send a link or a zipped file instead|"
	# Regression: with no rule at stage body (as in header-body.conf) the body
	# must still reach the body scanners of eom rules (phishing-body). At
	# commit 5815f83 milter/milter.c eval() skipped the body stage, so the
	# message was delivered instead of held.
	pf phish "${ehlo[@]}" --from a@sender.test "${ok_to[@]}" \
		--header "Subject: e2e phish" \
		--body "Please verify your account within 24 hours."
	on pf assert_contains "postfix, eom body_regex quarantine: the client sees 250" \
		"$E2E_DIR/phish.pf" '^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
	postfix_wait_idle 10
	assert_eq "eom rule with body_regex and no body-stage rule holds the message" \
		"$(postfix_hold_count)" 2
	milter_stop
fi

# ------------------------------------------------------------ the maillog

on pf assert_not_contains "postfix: no malformed milter reply in the maillog" \
	"$(postfix_log)" 'malformed'
on pf assert_contains "postfix maillog: the milter's reply logged as given" \
	"$(postfix_log)" 'milter-reject: MAIL from localhost\[127\.0\.0\.1\]: 550 5\.7\.1 HELO blocked\.helo\.test refused;'

t1=$SECONDS
postfix_stop
e2e_diag "postfix_stop took $((SECONDS - t1)) s; whole run $((SECONDS - t0)) s"
e2e_finish
