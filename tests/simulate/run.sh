#!/usr/bin/env bash
# run.sh - golden tests of replycode-milter --simulate: for each policy in
# conf/examples/NAME.conf, the transactions in tests/simulate/NAME/: a
# script CASE.mt, or the command line options of CASE.args (one line, in
# shell quoting), replayed with --simulate; the output and then a line
# "exit N" (the exit status) must equal CASE.want line for line.
# Each .want was written from the policy and the table of Postfix's and
# Sendmail's differences (milter/core/mta.c), then checked against the program.
# Also: the exit statuses of errors. Uses tests/e2e/lib.sh's assertions;
# prints "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/e2e/lib.sh

bin=${MILTER_BIN:-./replycode-milter}
e2e_tmpdir
tmp=$E2E_DIR

for dir in tests/simulate/*/; do
	ex=$(basename "$dir")
	conf=conf/examples/$ex.conf
	assert_eq "$ex: a policy in conf/examples" "$([ -f "$conf" ] && echo yes)" yes
	for want in "$dir"*.want; do
		name=$(basename "$want" .want)
		out=$tmp/$ex-$name.out
		# DNS lists: a real DNS server serving the example's zones,
		# and the example asking it
		if [ -f "${dir}dnsmasq.conf" ] && [ -z "${DNS_PID-}" ]; then
			dns_start "${dir}dnsmasq.conf" ||
				e2e_die "cannot start dnsmasq for $ex"
			{
				echo "dns_resolver = \"127.0.0.1@$DNS_PORT\""
				cat "$conf"
			} >"$tmp/$ex.conf"
		fi
		[ -f "${dir}dnsmasq.conf" ] && conf=$tmp/$ex.conf
		if [ -f "$dir$name.mt" ]; then
			"$bin" -c "$conf" --simulate "$dir$name.mt" >"$out" 2>&1
		else
			eval "args=($(cat "$dir$name.args"))"
			"$bin" -c "$conf" --simulate "${args[@]}" >"$out" 2>&1
		fi
		echo "exit $?" >>"$out"
		assert_eq "$ex/$name: the output is $want (want +, got -)" \
			"$(diff -u "$out" "$want")" ""
	done
	dns_stop
done
for conf in conf/examples/*.conf; do
	ex=$(basename "$conf" .conf)
	assert_match "$ex: has golden transactions" \
		"$(compgen -G "tests/simulate/$ex/*.want")" .
done

# status DESC WANT_RC REGEX COMMAND...: the exit status and a line of the
# output.
status() {
	local desc=$1 want=$2 pattern=$3 out
	shift 3
	out=$("$@" 2>&1)
	assert_eq "$desc: exit status" "$?" "$want"
	assert_match "$desc: says so" "$out" "$pattern"
}
c=conf/examples/relay-probes.conf
status "a script and --to at once (usage)" 64 usage \
	"$bin" -c "$c" --simulate --to a@b "$0"
status "--to without --simulate (usage)" 64 usage "$bin" -c "$c" --to a@b
printf 'connect a 192.0.2.1\nhelo\n' >"$tmp/bad.mt"
status "a bad script, file and line named" 65 \
	"^$tmp/bad.mt:2: helo: needs exactly one argument$" \
	"$bin" -c "$c" --simulate "$tmp/bad.mt"
status "a missing script" 66 "nowhere.mt" \
	"$bin" -c "$c" --simulate "$tmp/nowhere.mt"
status "a missing --message" 66 "nowhere.eml" \
	"$bin" -c "$c" --simulate --from a@b --to c@d --message "$tmp/nowhere.eml"
printf 'rule "x" {\n\tstage = rcpt\n\tverdict = reject\n\treply = "550 4.7.1"\n}\n' >"$tmp/bad.conf"
status "a config with errors" 78 "^$tmp/bad.conf:4:" \
	"$bin" -c "$tmp/bad.conf" --simulate --to a@b --from c@d
status "the script from standard input" 0 "^result: <b@c> accept$" \
	"$bin" -c "$c" --simulate < <(printf 'connect a 192.0.2.1\nmail <a@b>\nrcpt <b@c>\neom\n')

e2e_finish
