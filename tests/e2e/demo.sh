#!/bin/bash
# demo.sh: replycode-milter at work behind a real Postfix, for a reader.
#
# Assembles one policy from every file in conf/examples/ (the config has
# no include: the example rules are concatenated into one file, without
# their socket lines, and the list files are copied next to it so that
# their relative paths still resolve), starts the milter and a private
# Postfix on loopback wired to it (README.md's main.cf lines), replays a
# dozen sample SMTP transactions with swaks and prints each dialogue under
# a line saying what it shows, then the milter's decision log, then stops
# everything. Each transaction's expected reply is checked ("ok - ...").
#
# Must never: touch the system's Postfix or queues, listen beyond
# 127.0.0.1, or leave a process or file behind (lib.sh stops everything).
#
# Usage: make demo   (or tests/e2e/demo.sh after make; root)

# shellcheck source-path=SCRIPTDIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

e2e_need_root
for tool in postfix swaks smtp-sink; do
	command -v "$tool" >/dev/null 2>&1 ||
		e2e_die "no $tool: run tests/e2e/setup-mta.sh --install"
done
bin=$top/replycode-milter
[ -x "$bin" ] || e2e_die "no $bin: run make first"
e2e_tmpdir
t0=$SECONDS

# ------------------------------------------------------------ the policy

mkdir -p "$E2E_DIR/conf"
conf=$E2E_DIR/conf/demo.conf
for f in "$top"/conf/examples/*; do
	case $f in
	*.conf)
		printf '\n# ---- from conf/examples/%s\n' "${f##*/}"
		grep -v -E '^[[:space:]]*socket[[:space:]]*=' "$f"
		;;
	*) cp "$f" "$E2E_DIR/conf/" ;;
	esac
done >"$conf"
if ! "$bin" -t -c "$conf" >"$E2E_DIR/check.out" 2>&1; then
	e2e_diag "$(cat "$E2E_DIR/check.out")"
	e2e_die "the assembled policy does not load"
fi

port=$(free_port) || e2e_die "no free port"
sock="inet:$port@127.0.0.1"
milter_start "$sock" "$bin" "${MILTER_AS[@]}" -f -c "$conf" -p "$sock" ||
	e2e_die "the milter does not start"
# README.md's main.cf lines, with the port; the announced-size rule
# (20 MB) needs Postfix to allow more than its own 10 MB first.
lines=()
while IFS= read -r line; do
	[ -n "$line" ] && lines+=("${line//8890/$port}")
done < <(awk '
	$0 == "<!-- /e2e:postfix-main.cf -->" { inside = 0 }
	inside && $0 !~ /^```/ { print }
	$0 == "<!-- e2e:postfix-main.cf -->" { inside = 1 }
' "$top/README.md")
[ "${#lines[@]}" -gt 0 ] || e2e_die "README.md has no e2e:postfix-main.cf block"
postfix_start "$(milter_socket_postfix "$sock")" "${lines[@]}" \
	"message_size_limit = 52428800" || e2e_die "postfix does not start"

cat <<EOF
replycode-milter demo
=====================
Policy: every rule of conf/examples/ in one file ($(sed -n 's/.*OK: //p' \
	"$E2E_DIR/check.out")):
$(sed -n 's/^rule "\(.*\)" {$/\1/p' "$conf" | paste -sd ' ' | fold -s -w 74 | sed 's/^/  /')
Postfix $(postconf -d -h mail_version) listens on 127.0.0.1:$POSTFIX_PORT and
asks the milter on $sock; delivered mail goes to an smtp-sink.
Lines from the server start with "<-" (accepted) or "<**" (refused).

EOF

# ------------------------------------------------------------ transactions

n=0
# show TITLE WANT SWAKS_ARGS...: one transaction through Postfix: a title,
# the transcript (long ones shortened), and a check that some reply line
# starts with WANT.
show() {
	local title=$1 want=$2 out lines
	shift 2
	n=$((n + 1))
	out=$E2E_DIR/t$n.out
	printf '=== %d. %s\n' "$n" "$title"
	if [ "${1-}" = --raw ]; then
		shift
		smtp_raw "$POSTFIX_PORT" 127.0.0.1 "$@" >"$out"
	else
		smtp_dialogue "$POSTFIX_PORT" "$@" >"$out"
	fi
	# Without swaks' own "===" lines and the EHLO keyword list.
	grep -v -E '^(=== |<-  250-[A-Z0-9])' "$out" >"$out.short"
	lines=$(wc -l <"$out.short")
	if [ "$lines" -gt 44 ]; then
		sed -n '1,12p' "$out.short"
		printf '    ... (%d lines not shown) ...\n' $((lines - 32))
		tail -n 20 "$out.short"
	else
		cat "$out.short"
	fi | cut -c1-160
	reply_lines "$out" >"$out.r"
	assert_contains "transaction $n gives $want" "$out.r" "^$want"
	echo
}

show "A clean message is accepted and delivered" "250 2.0.0 Ok: queued" \
	--ehlo mail.client.test --from alice@client.test --to bob@example.test \
	--header "Subject: Lunch?" --body "Noon at the usual place?"

show "HELO localhost: refused, held until RCPT (hold_early_verdicts)" \
	"550 5.7.1 HELO localhost: use your own host name" \
	--ehlo localhost --from alice@client.test --to bob@example.test

show "HELO without a dot: refused at RCPT" \
	"550 5.7.1 HELO myhost: a fully qualified host name is required" \
	--ehlo myhost --from alice@client.test --to bob@example.test

show "HELO as an address literal: refused at RCPT" \
	"550 5.7.1 HELO \[192.0.2.1\]: an address literal is not a host name" \
	--ehlo "[192.0.2.1]" --from alice@client.test --to bob@example.test

show "A sender from blocked-senders.txt: refused at MAIL" \
	"550 5.7.1 Sender address rejected: <spammer@spam.example> is blocked here" \
	--ehlo mail.client.test --from spammer@spam.example --to bob@example.test

show "A sender in a subdomain of .bulk.example: refused at MAIL" \
	"550 5.7.1 Sender domain rejected" \
	--ehlo mail.client.test --from deals@mx.bulk.example --to bob@example.test

show "A relay probe among good recipients: only that one is refused" \
	"550 5.7.1 Relaying denied: <carol%elsewhere.example@example.test> is not a local address" \
	--ehlo mail.client.test --from alice@client.test \
	--to "bob@example.test,carol%elsewhere.example@example.test" \
	--header "Subject: Minutes"

show "SIZE=30000000 announced at MAIL: refused before any data" \
	"552 5.3.4 Message too big: this system accepts at most 20 MB" --raw \
	"EHLO mail.client.test" "MAIL FROM:<alice@client.test> SIZE=30000000" \
	"QUIT"

show "An .exe attachment: the whole message refused after the data" \
	"550-5.7.1 Executable attachments are not accepted here" \
	--ehlo mail.client.test --from alice@client.test --to bob@example.test \
	--header 'Content-Type: application/octet-stream; name="invoice.exe"' \
	--header "Subject: Invoice"

show "An empty Subject: accepted and marked with a header" \
	"250 2.0.0 Ok: queued" \
	--ehlo mail.client.test --from alice@client.test --to bob@example.test \
	--header "Subject: " --body "see the header X-Replycode-Note"

show "A phishing phrase in the body: accepted, held in Postfix's hold queue" \
	"250 2.0.0 Ok: queued" \
	--ehlo mail.client.test --from it@phish.example --to bob@example.test \
	--header "Subject: Urgent" \
	--body "Please verify your account within 24 hours or lose it."

rcpts=$(for i in $(seq 101); do printf 'user%d@example.test,' "$i"; done)
show "101 recipients: the 101st gets 452 4.5.3 (the client sends it later); 100 get the mail, marked as bulk" \
	"452 4.5.3 Too many recipients, send the rest in another message" \
	--ehlo mail.client.test --from news@client.test --to "${rcpts%,}" \
	--header "Subject: Newsletter"

# ------------------------------------------------------------ what happened

postfix_wait_idle 20
sink_wait_count 4 10
echo "=== Delivered (smtp-sink) and held (Postfix hold queue)"
for f in $(sink_messages); do
	printf '  %s  %s recipient(s)' \
		"$(sed -n 's/^Subject: \{0,1\}//p' "$f" | head -n 1 | sed 's/^$/(empty subject)/')" \
		"$(grep -c '^X-Rcpt-Args:' "$f")"
	grep -E '^X-Replycode-' "$f" | sed 's/^/  + /' | tr '\n' ' '
	echo
done
echo "  held: $(postfix_hold_count) message(s)"
delivered=$(for f in $(sink_messages); do
	sed -n 's/^Subject: \{0,1\}//p' "$f" | head -n 1
done | sort -u | paste -sd '|')
assert_eq "delivered: the four accepted messages, not the phishing one" \
	"$delivered" "|Lunch?|Minutes|Newsletter"
assert_eq "delivered: the newsletter to its first 100 recipients" \
	"$(sink_messages | xargs -r -d '\n' cat | grep -c '^X-Rcpt-Args: <user')" 100
# phishing-body (stage eom, body_regex) with no rule at stage body: the
# body must still reach its scanner (at commit 5815f83 it did not, and the
# message was delivered instead of held).
assert_eq "the phishing message held (eom body_regex)" \
	"$(postfix_hold_count)" 1
echo

echo "=== The milter's log (one line per decision)"
sed -E 's/^[^ ]+ replycode-milter\[[0-9]+\]: //' "$MILTER_LOG" |
	grep -E 'decision|would|rule=[^ ]+ [a-z]' | cut -c1-200
echo
assert_not_contains "no malformed reply in Postfix's log" "$(postfix_log)" \
	'malformed'
echo "(demo took $((SECONDS - t0)) s)"
e2e_finish
