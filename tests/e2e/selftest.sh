#!/bin/bash
# selftest.sh: proves the end-to-end harness (lib.sh) on the real MTAs.
#
# Builds a small libmilter filter of its own (not the project's milter) in
# the temporary folder, wires it to a private Postfix and to an unpacked
# Sendmail, and checks through swaks the exact reply lines each MTA gives,
# delivery to the sink with the filter's header, the hold queue, the MTAs'
# behaviour once the filter is gone, the raw client and the TCP sessions to
# Sendmail from a chosen loopback address, and that an interrupted run
# leaves no process or folder behind. Ends with "N passed, N failed".
#
# Must never: use the project's milter or config, listen beyond 127.0.0.1,
# or leave anything running.
#
# Usage: tests/e2e/selftest.sh   (root; runs tests/e2e/setup-mta.sh first)

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# --child MILTER STATEFILE: the run that gets interrupted (see below).
if [ "${1-}" = --child ]; then
	e2e_tmpdir
	port=$(free_port) || exit 2
	milter_start "inet:$port@127.0.0.1" "$2" "inet:$port@127.0.0.1" ||
		exit 2
	postfix_start "$(milter_socket_postfix "inet:$port@127.0.0.1")" ||
		exit 2
	echo "$E2E_DIR $MILTER_PID $SINK_PID $POSTFIX_MASTER_PID" >"$3"
	kill -TERM "$BASHPID"
	sleep 30
	exit 3
fi

e2e_need_root
e2e_tmpdir
t0=$SECONDS

if ! "$here/setup-mta.sh" >"$E2E_DIR/setup.log" 2>&1; then
	e2e_diag "$(cat "$E2E_DIR/setup.log")"
	e2e_die "tests/e2e/setup-mta.sh failed"
fi

# ------------------------------------------------------------ the filter

cat >"$E2E_DIR/tm.c" <<'EOF'
/*
 * tm.c: throwaway libmilter filter for the end-to-end harness self-test.
 * MAIL <tempfail@sender.test>: 452 4.3.1. RCPT blocked@example.test: a
 * two-line 550 5.7.1; close@example.test: 421 4.7.0. Recipient
 * eomreject@example.test: 554 5.7.0 (two lines) at end of message;
 * datareject@example.test: 554 5.7.1 at the DATA command;
 * hold@example.test: quarantined. Every message let through gets
 * "X-Test: yes".
 * Must never: run outside the self-test.
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct msg {
	int eom_reject;
	int data_reject;
	int hold;
};

static int addr_is(const char *arg, const char *want)
{
	size_t n = strlen(want);

	if (arg == NULL)
		return 0;
	if (*arg == '<')
		arg++;
	if (strncasecmp(arg, want, n) != 0)
		return 0;
	return arg[n] == '\0' || arg[n] == '>';
}

static sfsistat tm_envfrom(SMFICTX *ctx, char **argv)
{
	struct msg *m = smfi_getpriv(ctx);

	if (m == NULL) {
		m = calloc(1, sizeof(*m));
		if (m == NULL)
			return SMFIS_TEMPFAIL;
		smfi_setpriv(ctx, m);
	}
	m->eom_reject = 0;
	m->data_reject = 0;
	m->hold = 0;
	if (addr_is(argv[0], "tempfail@sender.test")) {
		smfi_setreply(ctx, "452", "4.3.1",
			      "Insufficient system storage");
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat tm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct msg *m = smfi_getpriv(ctx);

	if (addr_is(argv[0], "blocked@example.test")) {
		smfi_setmlreply(ctx, "550", "5.7.1", "Recipient blocked",
				"second line 100%% sure", NULL);
		return SMFIS_REJECT;
	}
	if (addr_is(argv[0], "close@example.test")) {
		smfi_setreply(ctx, "421", "4.7.0", "Closing connection");
		return SMFIS_TEMPFAIL;
	}
	if (m != NULL && addr_is(argv[0], "eomreject@example.test"))
		m->eom_reject = 1;
	if (m != NULL && addr_is(argv[0], "datareject@example.test"))
		m->data_reject = 1;
	if (m != NULL && addr_is(argv[0], "hold@example.test"))
		m->hold = 1;
	return SMFIS_CONTINUE;
}

static sfsistat tm_data(SMFICTX *ctx)
{
	struct msg *m = smfi_getpriv(ctx);

	if (m != NULL && m->data_reject) {
		smfi_setreply(ctx, "554", "5.7.1", "No data accepted");
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat tm_eom(SMFICTX *ctx)
{
	struct msg *m = smfi_getpriv(ctx);

	if (m != NULL && m->eom_reject) {
		smfi_setmlreply(ctx, "554", "5.7.0", "Message refused",
				"at end of data", NULL);
		return SMFIS_REJECT;
	}
	if (smfi_addheader(ctx, "X-Test", "yes") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	if (m != NULL && m->hold &&
	    smfi_quarantine(ctx, "held by the self-test") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat tm_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s inet:PORT@127.0.0.1\n", argv[0]);
		return 2;
	}
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "e2e-selftest";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE;
	desc.xxfi_envfrom = tm_envfrom;
	desc.xxfi_envrcpt = tm_envrcpt;
	desc.xxfi_data = tm_data;
	desc.xxfi_eom = tm_eom;
	desc.xxfi_close = tm_close;
	if (smfi_setconn(argv[1]) == MI_FAILURE ||
	    smfi_settimeout(30) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "%s: cannot set up libmilter\n", argv[0]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
EOF

if ! cc -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Werror -g -O2 \
	-o "$E2E_DIR/tm" "$E2E_DIR/tm.c" -lmilter -lpthread \
	>"$E2E_DIR/cc.log" 2>&1; then
	e2e_diag "$(cat "$E2E_DIR/cc.log")"
	e2e_die "the self-test filter does not build"
fi
assert_eq "self-test filter builds without a warning" \
	"$(wc -c <"$E2E_DIR/cc.log")" 0

# ------------------------------------------------------------ harness basics

p1=$(free_port)
p2=$(free_port)
echo "$p1" >"$E2E_DIR/port"
assert_contains "free_port gives a port number" "$E2E_DIR/port" \
	'^[1-9][0-9]{3,4}$'
assert_eq "free_port gives another port each time" \
	"$([ "$p1" != "$p2" ] && echo distinct || echo same)" distinct
printf '<-  220 a\n -> EHLO x\n<-  250-b\n<** 550-5.7.1 c d\n<** 550 5.7.1 e\n' \
	>"$E2E_DIR/fake.out"
reply_lines "$E2E_DIR/fake.out" >"$E2E_DIR/fake.r"
assert_eq "reply_lines strips both prefixes, drops client lines" \
	"$(tr '\n' '|' <"$E2E_DIR/fake.r")" "220 a|250-b|550-5.7.1 c d|550 5.7.1 e|"
assert_match "assert_match: a value matching" "550 5.7.1 x" '^550 5\.7\.1 '
if (assert_match "inner" "450 4.7.1 x" '^550' >/dev/null); then
	r=matched
else
	r=refused
fi
assert_eq "assert_match: a value not matching is refused" "$r" refused

mport=$(free_port) || e2e_die "no free port"
msock="inet:$mport@127.0.0.1"
milter_start "$msock" "$E2E_DIR/tm" "$msock" ||
	e2e_die "the self-test filter does not start"

# ------------------------------------------------------------ Postfix

t1=$SECONDS
postfix_start "$(milter_socket_postfix "$msock")" ||
	e2e_die "postfix does not start"
e2e_diag "postfix up in $((SECONDS - t1)) s on $POSTFIX_PORT, sink on $SINK_PORT"

pf() {
	local name=$1
	shift
	smtp_dialogue "$POSTFIX_PORT" --ehlo client.test "$@" \
		>"$E2E_DIR/pf-$name.out"
	reply_lines "$E2E_DIR/pf-$name.out" >"$E2E_DIR/pf-$name.r"
}

pf blocked --from a@sender.test --to blocked@example.test --quit-after RCPT
r=$E2E_DIR/pf-blocked.r
assert_line "postfix: RCPT reject, first line" "$r" "550-5.7.1 Recipient blocked"
assert_line "postfix: RCPT reject, second line, %% became %" "$r" \
	"550 5.7.1 second line 100% sure"
assert_not_contains "postfix: no %% left in the reply" "$r" '%%'
assert_eq "postfix: swaks status for a RCPT reject" "$E2E_SWAKS_RC" 24

smtp_raw "$POSTFIX_PORT" 127.0.0.2 "EHLO client.test" "MAIL FROM:<a@sender.test>" \
	"RCPT TO:<blocked@example.test>" "QUIT" >"$E2E_DIR/pf-raw.out"
reply_lines "$E2E_DIR/pf-raw.out" >"$E2E_DIR/pf-raw.r"
assert_line "smtp_raw: multi-line replies read whole" "$E2E_DIR/pf-raw.r" \
	"550 5.7.1 second line 100% sure"
assert_eq "smtp_raw: the session ended with QUIT's reply" \
	"$(tail -n 1 "$E2E_DIR/pf-raw.r")" "221 2.0.0 Bye"
postfix_log_wait 'connect from unknown\[127\.0\.0\.2\]' || true
assert_contains "smtp_raw: Postfix saw the chosen source address" \
	"$(postfix_log)" 'connect from unknown\[127\.0\.0\.2\]'

pf tempfail --from tempfail@sender.test --to b@example.test --quit-after RCPT
assert_line "postfix: MAIL tempfail" "$E2E_DIR/pf-tempfail.r" \
	"452 4.3.1 Insufficient system storage"

pf deliver --from a@sender.test --to ok@example.test \
	--header "Subject: e2e-deliver-1"
assert_contains "postfix: message accepted" "$E2E_DIR/pf-deliver.r" \
	'^250 2\.0\.0 Ok: queued as [0-9A-F]+$'
postfix_wait_idle
assert_eq "postfix: queue empty after delivery" "$(postfix_queue_count)" 0
sink_wait_count 1
assert_eq "sink: one message kept" "$(sink_messages | wc -l)" 1
msg=$(sink_messages | head -n 1)
assert_contains "sink: the message is the one sent" "$msg" \
	'^Subject: e2e-deliver-1$'
assert_contains "sink: the filter's header is there" "$msg" '^X-Test: yes$'

pf eom --from a@sender.test --to eomreject@example.test \
	--header "Subject: e2e-eom"
r=$E2E_DIR/pf-eom.r
assert_line "postfix: end-of-message reject, first line" "$r" \
	"554-5.7.0 Message refused"
assert_line "postfix: end-of-message reject, second line" "$r" \
	"554 5.7.0 at end of data"

pf data --from a@sender.test --to datareject@example.test
assert_line "postfix: reject at the DATA command" "$E2E_DIR/pf-data.r" \
	"554 5.7.1 No data accepted"
assert_not_contains "postfix: no 354 after a DATA reject" "$E2E_DIR/pf-data.r" \
	'^354'

pf close --from a@sender.test --to close@example.test
assert_line "postfix: 421 at RCPT passed on" "$E2E_DIR/pf-close.r" \
	"421 4.7.0 Closing connection"
assert_contains "postfix: swaks sees the connection closed after 421" \
	"$E2E_DIR/pf-close.out" '^\*\*\* Remote host closed connection unexpectedly\.$'

pf hold --from a@sender.test --to hold@example.test --header "Subject: e2e-hold"
assert_contains "postfix: quarantined message accepted" "$E2E_DIR/pf-hold.r" \
	'^250 2\.0\.0 Ok: queued as '
postfix_wait_idle
assert_eq "postfix: quarantined message in the hold queue" \
	"$(postfix_hold_count)" 1
postfix_flush 20
assert_eq "postfix: nothing delivered but the first message" \
	"$(sink_messages | wc -l)" 1

# ------------------------------------------------------------ Sendmail

t1=$SECONDS
sendmail_prepare "$msock" || e2e_die "sendmail .cf not built"

sm() {
	local name=$1
	shift
	sendmail_session --ehlo client.test "$@" >"$E2E_DIR/sm-$name.out"
	reply_lines "$E2E_DIR/sm-$name.out" >"$E2E_DIR/sm-$name.r"
}

sm blocked --from a@sender.test --to blocked@example.test --quit-after RCPT
r=$E2E_DIR/sm-blocked.r
assert_contains "sendmail: greeting with the namespace's host name" "$r" \
	'^220 mx\.example\.test ESMTP Sendmail 8\.'
assert_line "sendmail: RCPT reject, first line, address in front" "$r" \
	"550-5.7.1 <blocked@example.test>... Recipient blocked"
assert_line "sendmail: RCPT reject, second line, %% became %" "$r" \
	"550 5.7.1 second line 100% sure"
assert_not_contains "sendmail: no %% left in the reply" "$r" '%%'

sm tempfail --from tempfail@sender.test --to b@example.test --quit-after RCPT
assert_line "sendmail: MAIL tempfail" "$E2E_DIR/sm-tempfail.r" \
	"452 4.3.1 Insufficient system storage"

sm deliver --from a@sender.test --to ok@example.test \
	--header "Subject: e2e-deliver-1"
assert_contains "sendmail: message accepted" "$E2E_DIR/sm-deliver.r" \
	'^250 2\.0\.0 [0-9A-Za-z]+ Message accepted for delivery$'
assert_eq "sendmail: the message waits in the test queue" \
	"$(sendmail_queue_count)" 1
qf=$(sendmail_queue_files | head -n 1)
assert_contains "sendmail: the filter's header is in the queued message" \
	"$qf" '^H\?\?X-Test: yes$'

sm eom --from a@sender.test --to eomreject@example.test \
	--header "Subject: e2e-eom"
r=$E2E_DIR/sm-eom.r
assert_line "sendmail: end-of-message reject, first line" "$r" \
	"554-5.7.0 Message refused"
assert_line "sendmail: end-of-message reject, second line" "$r" \
	"554 5.7.0 at end of data"
assert_eq "sendmail: refused message not queued" "$(sendmail_queue_count)" 1

sm data --from a@sender.test --to datareject@example.test
assert_line "sendmail: reject at the DATA command" "$E2E_DIR/sm-data.r" \
	"554 5.7.1 No data accepted"
assert_not_contains "sendmail: no 354 after a DATA reject" \
	"$E2E_DIR/sm-data.r" '^354'

sm close --from a@sender.test --to close@example.test
assert_line "sendmail: 421 at RCPT passed on" "$E2E_DIR/sm-close.r" \
	"421 4.7.0 Closing connection"
assert_contains "sendmail: swaks sees the pipe closed after 421" \
	"$E2E_DIR/sm-close.out" '^\*\*\* Child process closed connection unexpectedly\.$'

sendmail_session_from 127.0.0.2 --ehlo client.test --from a@sender.test \
	--to blocked@example.test --quit-after RCPT >"$E2E_DIR/sm-tcp.out"
reply_lines "$E2E_DIR/sm-tcp.out" >"$E2E_DIR/sm-tcp.r"
assert_line "sendmail_session_from: Sendmail sees the client's address" \
	"$E2E_DIR/sm-tcp.r" "250-$E2E_HOSTNAME Hello [127.0.0.2], pleased to meet you"
assert_line "sendmail_session_from: the filter's reply as over the pipe" \
	"$E2E_DIR/sm-tcp.r" "550-5.7.1 <blocked@example.test>... Recipient blocked"
sendmail_raw_from 127.0.0.3 "HELO client.test" "QUIT" >"$E2E_DIR/sm-raw.out"
assert_eq "sendmail_raw_from: one reply per command, in order" \
	"$(reply_lines "$E2E_DIR/sm-raw.out" | cut -c1-4 | tr '\n' '|')" \
	"220 |250 |221 |"

sm hold --from a@sender.test --to hold@example.test --header "Subject: e2e-hold"
assert_eq "sendmail: quarantined message kept as hf*" \
	"$(find "$SENDMAIL_DIR/q" -name 'hf*' | wc -l)" 1
e2e_diag "sendmail: 7 sessions in $((SECONDS - t1)) s"

# ------------------------------------------------------------ filter gone

t1=$SECONDS
milter_stop
assert_eq "milter_stop: the filter is gone" \
	"$(_e2e_alive "$MILTER_PID" && echo alive || echo gone)" gone
e2e_diag "milter_stop took $((SECONDS - t1)) s"

pf gone --from a@sender.test --to ok@example.test --header "Subject: e2e-gone"
r=$E2E_DIR/pf-gone.r
assert_line "postfix, filter gone: greeting still 220" "$r" \
	"220 $E2E_HOSTNAME ESMTP Postfix"
assert_line "postfix, filter gone: MAIL gets milter_default_action tempfail" \
	"$r" "451 4.7.1 Service unavailable - try again later"
postfix_log_wait 'connect to Milter service' || true
assert_contains "postfix, filter gone: maillog says why" "$(postfix_log)" \
	"warning: connect to Milter service inet:127\.0\.0\.1:$mport: Connection refused"
postfix_wait_idle
assert_eq "postfix, filter gone: nothing more delivered" \
	"$(sink_messages | wc -l)" 1
assert_not_contains "postfix: no malformed milter reply in the maillog" \
	"$(postfix_log)" 'malformed'

sm gone --from a@sender.test --to ok@example.test
assert_line "sendmail, filter gone (F=T): MAIL tempfailed" \
	"$E2E_DIR/sm-gone.r" "451 4.3.2 Please try again later"

# ------------------------------------------------------------ interrupted run

t1=$SECONDS
E2E_KEEP=0 TMPDIR=$E2E_DIR timeout -k 5 90 "$BASH" "$here/selftest.sh" --child \
	"$E2E_DIR/tm" "$E2E_DIR/child.state" >"$E2E_DIR/child.out" 2>&1
rc=$?
assert_eq "interrupted run: exits with SIGTERM's status" "$rc" 143
assert_contains "interrupted run: still prints a failing tally" \
	"$E2E_DIR/child.out" '^[0-9]+ passed, [1-9][0-9]* failed$'
if read -r cdir cmilter csink cmaster <"$E2E_DIR/child.state"; then
	for p in "milter:$cmilter" "smtp-sink:$csink" "postfix master:$cmaster"; do
		assert_eq "interrupted run: ${p%%:*} stopped" \
			"$(_e2e_alive "${p#*:}" && echo alive || echo gone)" gone
	done
	assert_eq "interrupted run: its folder removed" \
		"$([ -e "$cdir" ] && echo present || echo removed)" removed
else
	e2e_die "interrupted run wrote no state"
fi
e2e_diag "interrupted run took $((SECONDS - t1)) s"

t1=$SECONDS
postfix_stop
assert_eq "postfix_stop: master gone" \
	"$(_e2e_alive "$POSTFIX_MASTER_PID" && echo alive || echo gone)" gone
e2e_diag "postfix_stop took $((SECONDS - t1)) s; whole run $((SECONDS - t0)) s"

e2e_finish
