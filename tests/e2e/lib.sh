# lib.sh: harness for end-to-end tests against a real Postfix and Sendmail.
#
# Sourced by the test scripts in tests/e2e (bash, `set -u` safe). It starts a
# private Postfix instance in a per-run temporary folder (with smtp-sink as
# the next hop, keeping every delivered message), builds a Sendmail .cf for
# one-session `sendmail -bs` runs, starts and stops a milter, talks SMTP with
# swaks and counts assertions ("ok - ..." / "not ok - ...", then a final
# "N passed, N failed").
#
# Must never: touch /etc/postfix, /etc/mail or the system queues, listen on
# anything but 127.0.0.1, let a test's DNS lookup leave the machine, or leave
# a process behind: everything it starts is recorded by pid and stopped at
# exit, also when a test fails or is interrupted.
#
# Needs root (Postfix's master, smtp-sink -u, unshare for Sendmail) and the
# packages checked by tests/e2e/setup-mta.sh, which also fetches Sendmail.
#
# Written for `set -u`, not `set -e` (helpers return 1 to say "no"); a
# script that dies early still gets its cleanup and a failing tally.
#
# As root the milter wants a user to run as (it refuses to stay root by
# accident); the tests name root on purpose with MILTER_AS, so that it can
# reread the per-run configs in folders only root may enter (a test of
# dropping privileges: tests/proto/run.sh and the chroot case of run.sh).
MILTER_AS=()
[ "$(id -u)" = 0 ] && MILTER_AS=(-u root)

# Public functions (see tests/e2e/README.md):
#   e2e_tmpdir e2e_need_root e2e_finish e2e_die e2e_diag free_port
#   assert_contains assert_not_contains assert_line assert_eq assert_match
#   e2e_skip e2e_postfix_missing e2e_at_exit
#   smtp_dialogue smtp_raw reply_lines
#   milter_start milter_stop milter_kill milter_socket_postfix proc_cpu_ticks
#   postfix_start postfix_stop postfix_log postfix_log_wait
#   postfix_queue_count postfix_hold_count postfix_wait_idle postfix_flush
#   sink_start sink_stop sink_messages sink_wait_count
#   sendmail_prepare sendmail_session sendmail_session_from sendmail_raw_from
#   sendmail_queue_count sendmail_queue_files sendmail_deliver
#   node_exporter_start node_exporter_metrics
# Variables set for the tests: E2E_DIR, E2E_SWAKS_RC, MILTER_PID,
#   NODE_EXPORTER_PORT NODE_EXPORTER_PID,
#   POSTFIX_PORT POSTFIX_DIR POSTFIX_MASTER_PID SINK_PORT SINK_DIR SINK_PID,
#   SENDMAIL_BIN SENDMAIL_DIR SENDMAIL_CF.

# shellcheck shell=bash
# shellcheck disable=SC2034 # variables set here are read by the test scripts

E2E_PASS=0
E2E_FAIL=0
E2E_SKIP=0
# Never inherited: a script that sources this gets its own folder and
# instances, even when started by another test script.
E2E_DIR=""
MILTER_PID=""
MILTER_LOG=""
POSTFIX_PORT=""
POSTFIX_DIR=""
POSTFIX_MASTER_PID=""
SINK_PORT=""
SINK_DIR=""
SINK_PID=""
NODE_EXPORTER_PORT=""
NODE_EXPORTER_PID=""
SENDMAIL_BIN=""
SENDMAIL_DIR=""
SENDMAIL_CF=""
_E2E_SENDMAIL_NS=()
_E2E_LISTENER_PID=""
E2E_SWAKS_RC=0
E2E_HOSTNAME=mx.example.test
E2E_CACHE=${E2E_CACHE:-${HOME:-/root}/.cache/replycode-milter/sendmail}
E2E_SMTP_TIMEOUT=${E2E_SMTP_TIMEOUT:-15}
E2E_SESSION_LIMIT=${E2E_SESSION_LIMIT:-60}
_E2E_FINISHED=0
_E2E_CLEANED=0
_E2E_AT_EXIT=()
_E2E_OWNER=""
_E2E_FD=""

# ---------------------------------------------------------------- output

# e2e_diag TEXT...: each argument (and each line in it) as a "#   " line.
e2e_diag() {
	local arg line
	for arg in "$@"; do
		while IFS= read -r line; do
			printf '#   %s\n' "$line"
		done <<<"$arg"
	done
}

_e2e_ok() {
	E2E_PASS=$((E2E_PASS + 1))
	printf 'ok - %s\n' "$1"
}

_e2e_not_ok() {
	E2E_FAIL=$((E2E_FAIL + 1))
	printf 'not ok - %s\n' "$1"
}

# _e2e_show FILE: print up to 40 lines of FILE as diagnostics.
_e2e_show() {
	if [ ! -f "$1" ]; then
		e2e_diag "(no file $1)"
		return 0
	fi
	sed -n '1,40s/^/#   | /p' "$1"
	if [ "$(wc -l <"$1")" -gt 40 ]; then
		e2e_diag "| ... ($(wc -l <"$1") lines in $1)"
	fi
}

# ---------------------------------------------------------------- assertions

# assert_contains DESC FILE REGEX: some line of FILE matches the extended
# regular expression REGEX.
assert_contains() {
	if [ -f "$2" ] && grep -Eq -- "$3" "$2"; then
		_e2e_ok "$1"
		return 0
	fi
	_e2e_not_ok "$1"
	e2e_diag "want: a line matching /$3/" "got ($2):"
	_e2e_show "$2"
	return 1
}

# assert_not_contains DESC FILE REGEX: no line of FILE matches REGEX (a
# missing FILE fails: it usually means the step before it broke).
assert_not_contains() {
	if [ -f "$2" ] && ! grep -Eq -- "$3" "$2"; then
		_e2e_ok "$1"
		return 0
	fi
	_e2e_not_ok "$1"
	e2e_diag "want: no line matching /$3/ in $2"
	if [ -f "$2" ]; then
		e2e_diag "got:"
		grep -E -- "$3" "$2" | sed -n '1,20s/^/#   | /p'
	else
		e2e_diag "got: no such file"
	fi
	return 1
}

# assert_line DESC FILE LINE: FILE has a line exactly equal to LINE (no
# regular expression: the way to check an exact reply line).
assert_line() {
	if [ -f "$2" ] && grep -Fxq -- "$3" "$2"; then
		_e2e_ok "$1"
		return 0
	fi
	_e2e_not_ok "$1"
	e2e_diag "want line: $3" "got ($2):"
	_e2e_show "$2"
	return 1
}

# assert_match DESC VALUE REGEX: VALUE (one string) matches the extended
# regular expression REGEX.
assert_match() {
	if grep -Eq -- "$3" <<<"$2"; then
		_e2e_ok "$1"
		return 0
	fi
	_e2e_not_ok "$1"
	e2e_diag "want: a value matching /$3/" "got:  $2"
	return 1
}

# assert_eq DESC GOT WANT
assert_eq() {
	if [ "$2" = "$3" ]; then
		_e2e_ok "$1"
		return 0
	fi
	_e2e_not_ok "$1"
	e2e_diag "got:  $2" "want: $3"
	return 1
}

# e2e_skip DESC REASON: a check that could not run here.
e2e_skip() {
	E2E_SKIP=$((E2E_SKIP + 1))
	printf 'ok - %s # SKIP %s\n' "$1" "$2"
}

# e2e_die MSG: the harness itself failed; counts as a failure and ends the
# script (after cleanup).
e2e_die() {
	_e2e_not_ok "$1"
	e2e_finish
}

# e2e_finish: stop everything, print "N passed, N failed" (with ", N
# skipped" when checks were skipped) and exit, non-zero when anything failed
# or nothing was checked or skipped.
e2e_finish() {
	trap '' HUP INT TERM PIPE
	_E2E_FINISHED=1
	_e2e_restore_stdout
	_e2e_cleanup
	if [ $((E2E_PASS + E2E_FAIL + E2E_SKIP)) -eq 0 ]; then
		_e2e_not_ok "no assertion ran"
	fi
	if [ "$E2E_SKIP" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' \
			"$E2E_PASS" "$E2E_FAIL" "$E2E_SKIP"
	else
		printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
	fi
	trap - EXIT
	if [ "$E2E_FAIL" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

e2e_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		e2e_die "these tests need root (Postfix master, smtp-sink -u, unshare)"
	fi
}

# e2e_postfix_missing: 0, with the reason on stdout, when no private
# Postfix can run here: Postfix is not installed (packaging/deps.sh leaves
# it out when installing it would remove the host's MTA, exim4 on a stock
# Debian), or E2E_NO_POSTFIX=1 asks to run without it. 1 when it can run.
e2e_postfix_missing() {
	local mta
	if [ "${E2E_NO_POSTFIX:-0}" = 1 ]; then
		echo "E2E_NO_POSTFIX=1: run without Postfix"
		return 0
	fi
	if command -v postfix >/dev/null 2>&1 && command -v smtp-sink \
		>/dev/null 2>&1 && [ -f /etc/postfix/master.cf.proto ]; then
		return 1
	fi
	mta=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' \
		2>/dev/null | awk '$1 == "ii" && /mail-transport-agent/ {
			printf "%s%s", sep, $2; sep = " " }')
	if [ -n "$mta" ]; then
		echo "Postfix is not installed: installing it would remove $mta," \
			"this host's MTA (packaging/deps.sh does not)"
	else
		echo "Postfix is not installed (packaging/deps.sh check installs it)"
	fi
	return 0
}

# e2e_at_exit FUNCTION: call FUNCTION (of the test script) at cleanup,
# after every process the script started has stopped, also when the script
# fails, dies or is interrupted: to undo what the test did to the host.
e2e_at_exit() {
	_E2E_AT_EXIT+=("$1")
}

# _e2e_restore_stdout: point stdout back at the script's own.
_e2e_restore_stdout() {
	if [ -n "$_E2E_FD" ]; then
		exec 1>&"$_E2E_FD"
	fi
}

# ---------------------------------------------------------------- processes

# _e2e_alive PID: the process exists and is not a zombie.
_e2e_alive() {
	local stat
	[ -n "$1" ] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ] && [ "${stat%% *}" != X ]
}

# _e2e_wait_gone SECONDS PID...: wait (bounded) until none of the PIDs is
# alive; 1 if some still are.
_e2e_wait_gone() {
	local limit=$(($1 * 10)) i p alive
	shift
	for ((i = 0; i <= limit; i++)); do
		alive=0
		for p in "$@"; do
			if _e2e_alive "$p"; then
				alive=1
				break
			fi
		done
		[ "$alive" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# _e2e_stop_pids SECONDS PID...: SIGTERM, bounded wait, then SIGKILL; reaps
# the ones that are this shell's children. 1 if one survived even that.
_e2e_stop_pids() {
	local grace=$1 p rc=0
	shift
	for p in "$@"; do
		_e2e_alive "$p" && kill -TERM "$p" 2>/dev/null
	done
	if ! _e2e_wait_gone "$grace" "$@"; then
		for p in "$@"; do
			_e2e_alive "$p" && kill -KILL "$p" 2>/dev/null
		done
		_e2e_wait_gone 3 "$@" || rc=1
	fi
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return "$rc"
}

# _e2e_spawn LOG CMD...: CMD in the background, output to LOG, without the
# script's stdin or its saved stdout (a daemon holding the pipe open would
# keep a reader of the test's output waiting).
_e2e_spawn() {
	local log=$1
	shift
	if [ -n "$_E2E_FD" ]; then
		"$@" >"$log" 2>&1 </dev/null {_E2E_FD}>&- &
	else
		"$@" >"$log" 2>&1 </dev/null &
	fi
}

# _e2e_listener NAME LOG PORT CMD...: CMD in the background (_e2e_spawn,
# output to LOG), recorded to be stopped at exit; waits (10 s) until it
# listens on PORT. Sets _E2E_LISTENER_PID; 1, with LOG shown, when it does
# not listen.
_e2e_listener() {
	local name=$1 log=$2 port=$3
	shift 3
	_e2e_spawn "$log" "$@"
	_E2E_LISTENER_PID=$!
	_e2e_record pid "$_E2E_LISTENER_PID"
	if ! _e2e_wait_port "$port" 10 "$_E2E_LISTENER_PID"; then
		e2e_diag "$name did not listen on $port:"
		_e2e_show "$log"
		return 1
	fi
}

_e2e_record() {
	printf '%s %s\n' "$1" "$2" >>"$E2E_DIR/.e2e-procs"
}

_e2e_forget() {
	local f=$E2E_DIR/.e2e-procs
	[ -f "$f" ] || return 0
	grep -v -x -F -- "$1 $2" "$f" >"$f.new"
	mv -f "$f.new" "$f"
}

_e2e_cleanup() {
	local kind what pids=() rc=0 fn
	[ "$_E2E_CLEANED" -eq 1 ] && return 0
	[ "$BASHPID" = "$_E2E_OWNER" ] || return 0
	_E2E_CLEANED=1
	[ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ] || return 0
	if [ -f "$E2E_DIR/.e2e-procs" ]; then
		while read -r kind what; do
			case $kind in
			postfix) _e2e_postfix_stop_dir "$what" || rc=1 ;;
			pid) pids+=("$what") ;;
			esac
		done <"$E2E_DIR/.e2e-procs"
		if [ "${#pids[@]}" -gt 0 ]; then
			_e2e_stop_pids 10 "${pids[@]}" || rc=1
		fi
		: >"$E2E_DIR/.e2e-procs"
	fi
	if [ "$rc" -ne 0 ]; then
		_e2e_not_ok "cleanup: a process started by the test would not stop"
	fi
	for fn in "${_E2E_AT_EXIT[@]}"; do
		"$fn" || _e2e_not_ok "cleanup: $fn failed"
	done
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		e2e_diag "kept $E2E_DIR"
	else
		rm -rf "$E2E_DIR"
	fi
}

_e2e_on_exit() {
	local rc=$?
	[ "$BASHPID" = "$_E2E_OWNER" ] || exit "$rc"
	# A second signal must not cut the cleanup short; a reader gone away
	# (SIGPIPE) only makes the printing fail.
	trap '' HUP INT TERM PIPE
	if [ "$_E2E_FINISHED" -eq 0 ]; then
		_e2e_restore_stdout
		_e2e_not_ok "script ended (status $rc) before e2e_finish"
		_e2e_cleanup
		printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
		[ "$rc" -eq 0 ] && rc=1
	fi
	exit "$rc"
}

# e2e_tmpdir: create the per-run folder (E2E_DIR) under ${TMPDIR:-/tmp} and
# install the traps that stop everything at exit. Call it in the main shell,
# not in $(...). Removed at exit unless E2E_KEEP=1.
e2e_tmpdir() {
	if [ -n "$E2E_DIR" ] && [ "$_E2E_OWNER" = "$BASHPID" ]; then
		return 0
	fi
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/replycode-e2e.XXXXXX") ||
		e2e_die "cannot create a temporary folder"
	# Postfix's daemons (user postfix) must reach their queue in here.
	chmod 755 "$E2E_DIR"
	: >"$E2E_DIR/.e2e-procs"
	: >"$E2E_DIR/.e2e-ports"
	export E2E_DIR
	_E2E_OWNER=$BASHPID
	# The tally must reach the script's stdout even when the script is
	# interrupted inside a redirected call (smtp_dialogue ... >file).
	exec {_E2E_FD}>&1
	trap _e2e_on_exit EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 141' PIPE
}

# ---------------------------------------------------------------- ports

# _e2e_port_busy PORT: something on this machine uses PORT (any TCP state,
# from ss; without iproute2, a listener answering on 127.0.0.1).
_e2e_port_busy() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
		return
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _e2e_port_listening PORT: a listener on 127.0.0.1:PORT (ss; else a probe
# connection, which the server then sees as an empty session).
_e2e_port_listening() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
		return
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _e2e_wait_port PORT SECONDS [PID]: until PORT listens; 1 on timeout or
# when PID has died.
_e2e_wait_port() {
	local i limit=$(($2 * 10))
	for ((i = 0; i <= limit; i++)); do
		_e2e_port_listening "$1" && return 0
		if [ -n "${3-}" ] && ! _e2e_alive "$3"; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# free_port: print a TCP port that nothing on this machine uses, below the
# kernel's ephemeral range, never one this run handed out before.
free_port() {
	local lo=20000 hi=32767 eph_lo eph_hi p i
	if read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range; then
		if [ "$eph_lo" -gt 21000 ]; then
			hi=$((eph_lo - 1))
		elif [ "$eph_hi" -lt 59000 ]; then
			lo=$((eph_hi + 1))
			hi=60000
		fi
	fi
	for ((i = 0; i < 200; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		if [ -n "$E2E_DIR" ] && [ -f "$E2E_DIR/.e2e-ports" ] &&
			grep -qx "$p" "$E2E_DIR/.e2e-ports"; then
			continue
		fi
		_e2e_port_busy "$p" && continue
		if [ -n "$E2E_DIR" ] && [ -f "$E2E_DIR/.e2e-ports" ]; then
			echo "$p" >>"$E2E_DIR/.e2e-ports"
		fi
		echo "$p"
		return 0
	done
	echo "free_port: no free port found in $lo-$hi" >&2
	return 1
}

# ---------------------------------------------------------------- SMTP

# smtp_dialogue PORT SWAKS_ARGS...: one SMTP session with swaks against
# 127.0.0.1:PORT; prints the transcript (stdout and stderr) and sets
# E2E_SWAKS_RC to swaks' status (0 only if all went through). Returns 0.
smtp_dialogue() {
	local port=$1
	shift
	E2E_SWAKS_RC=0
	timeout --foreground -k 5 "$E2E_SESSION_LIMIT" swaks --server "127.0.0.1:$port" \
		--timeout "$E2E_SMTP_TIMEOUT" "$@" 2>&1 || E2E_SWAKS_RC=$?
	return 0
}

# smtp_raw PORT ADDR COMMAND...: a plain SMTP client from ADDR to
# 127.0.0.1:PORT that sends each COMMAND whatever the replies are (swaks
# gives up after a refused greeting; this one goes on, to see what the
# server does next). Transcript in swaks' form: " -> " for a command,
# "<-  " for a 2xx/3xx reply line, "<** " for any other, and
# "*** Remote host closed connection unexpectedly." when the server hangs
# up. Sets E2E_SWAKS_RC (0; 1 when the server hung up, 2 when it said
# nothing for E2E_SMTP_TIMEOUT seconds). Returns 0.
smtp_raw() {
	local port=$1 addr=$2
	shift 2
	E2E_SWAKS_RC=0
	# shellcheck disable=SC2016 # perl's variables, not the shell's
	timeout --foreground -k 5 "$E2E_SESSION_LIMIT" perl -MIO::Socket::INET -e '
		my ($port, $addr, $to, @cmds) = @ARGV;
		$| = 1;
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
			PeerPort => $port, LocalAddr => $addr, Proto => "tcp",
			Timeout => $to) or die "*** connect: $!\n";
		$SIG{ALRM} = sub {
			print "*** Timeout ($to s) waiting for the server\n";
			exit 2;
		};
		sub reply {
			alarm($to);
			while (1) {
				my $l = <$s>;
				if (!defined $l) {
					print "*** Remote host closed connection unexpectedly.\n";
					exit 1;
				}
				$l =~ s/\r?\n\z//;
				print(($l =~ /^[23]/ ? "<-  " : "<** "), $l, "\n");
				if ($l !~ /^\d{3}-/) {
					alarm(0);
					return;
				}
			}
		}
		reply();
		for my $c (@cmds) {
			print " -> $c\n";
			print $s "$c\r\n";
			reply();
		}
	' "$port" "$addr" "$E2E_SMTP_TIMEOUT" "$@" 2>&1 || E2E_SWAKS_RC=$?
	return 0
}

# reply_lines FILE: the server's reply lines of a swaks transcript, without
# swaks' "<-  " / "<** " prefixes (and the TLS "<~ " forms), one a line.
reply_lines() {
	sed -n -E 's/\r$//; s/^<(-|\*\*|~|~\*) +//p' "$1"
}

# ---------------------------------------------------------------- milter

# _e2e_wait_socket SOCKET SECONDS PID: until a libmilter-syntax SOCKET
# (inet:PORT@HOST, inet:PORT, unix:PATH, local:PATH) accepts connections.
_e2e_wait_socket() {
	local s=$1 i limit=$(($2 * 10)) port path
	case $s in
	inet:*)
		port=${s#inet:}
		port=${port%%@*}
		_e2e_wait_port "$port" "$2" "$3"
		return
		;;
	unix:* | local:*)
		path=${s#*:}
		# the file exists from bind() on; wait for listen() (the
		# __SO_ACCEPTCON flag, 00010000, in /proc/net/unix)
		for ((i = 0; i <= limit; i++)); do
			[ -S "$path" ] && awk -v p="$path" \
				'$8 == p && $4 == "00010000" { f = 1 } END { exit !f }' \
				/proc/net/unix && return 0
			_e2e_alive "$3" || return 1
			sleep 0.1
		done
		return 1
		;;
	esac
	echo "milter socket not understood: $s" >&2
	return 1
}

# milter_socket_postfix SOCKET: libmilter's inet:PORT@HOST (or unix:PATH)
# written the way Postfix's smtpd_milters wants it (inet:HOST:PORT).
milter_socket_postfix() {
	local s=$1 port host
	case $s in
	inet:*@*)
		port=${s#inet:}
		host=${port#*@}
		port=${port%%@*}
		echo "inet:$host:$port"
		;;
	local:*) echo "unix:${s#local:}" ;;
	*) echo "$s" ;;
	esac
}

# proc_cpu_ticks PID: user + system clock ticks PID used so far (from
# /proc/PID/stat; 0 when it is gone). getconf CLK_TCK ticks a second.
proc_cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo 0
		return
	}
	s=${s##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $s
	echo $((${12} + ${13}))
}

# milter_start SOCKET CMD...: start CMD in the background (output in
# $E2E_DIR/milter.PID.log), record its pid in MILTER_PID and wait (10 s at
# most) until SOCKET (libmilter syntax) accepts connections. 1 on failure.
milter_start() {
	local sock=$1 log
	shift
	e2e_tmpdir
	log=$(mktemp "$E2E_DIR/milter.XXXXXX.log")
	_e2e_spawn "$log" "$@"
	MILTER_PID=$!
	_e2e_record pid "$MILTER_PID"
	if ! _e2e_wait_socket "$sock" 10 "$MILTER_PID"; then
		e2e_diag "milter did not come up on $sock: $*" "its output:"
		_e2e_show "$log"
		milter_stop "$MILTER_PID"
		return 1
	fi
	MILTER_LOG=$log
	export MILTER_PID MILTER_LOG
}

# milter_stop [PID]: SIGTERM, wait up to 15 s (libmilter notices a signal
# only every few seconds), then SIGKILL. Default: the last milter started.
milter_stop() {
	local p=${1:-${MILTER_PID-}}
	[ -n "$p" ] || return 0
	_e2e_stop_pids 15 "$p"
	_e2e_forget pid "$p"
}

# milter_kill [PID]: SIGKILL at once (a crash, as the MTA sees it).
milter_kill() {
	local p=${1:-${MILTER_PID-}}
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null
	_e2e_wait_gone 5 "$p"
	wait "$p" 2>/dev/null
	_e2e_forget pid "$p"
}

# ---------------------------------------------------------------- node_exporter

# node_exporter_start DIR: Debian's prometheus-node-exporter on a free port
# of 127.0.0.1 with only its textfile collector, reading DIR (never the
# system's instance, its port or its folder). Sets NODE_EXPORTER_PORT and
# NODE_EXPORTER_PID; stopped by pid at exit. 1 when it does not listen.
node_exporter_start() {
	local dir=$1 log
	e2e_tmpdir
	NODE_EXPORTER_PORT=$(free_port) || return 1
	log=$(mktemp "$E2E_DIR/node-exporter.XXXXXX.log")
	_e2e_listener node_exporter "$log" "$NODE_EXPORTER_PORT" \
		prometheus-node-exporter \
		--web.listen-address="127.0.0.1:$NODE_EXPORTER_PORT" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$dir"
	local rc=$?
	NODE_EXPORTER_PID=$_E2E_LISTENER_PID
	export NODE_EXPORTER_PORT NODE_EXPORTER_PID
	return "$rc"
}

# node_exporter_metrics [PORT]: what node_exporter on 127.0.0.1:PORT
# (default NODE_EXPORTER_PORT) serves at /metrics; 1 when the fetch fails.
node_exporter_metrics() {
	# shellcheck disable=SC2016 # perl's variables
	perl -MHTTP::Tiny -e '
		my $r = HTTP::Tiny->new(timeout => 10)->get($ARGV[0]);
		print $r->{content};
		exit($r->{success} ? 0 : 1);
	' "http://127.0.0.1:${1:-$NODE_EXPORTER_PORT}/metrics"
}

# ---------------------------------------------------------------- Redis

# redis_start DIR [PORT]: a redis-server of the tests' own on 127.0.0.1 (a
# free port, or PORT to start one again on its files), its files in DIR
# (an append-only log, fsync'd at every change, or as REDIS_FSYNC says:
# "everysec" is Redis's own default; no snapshots): never the
# host's server, its port or its files. Debian's redis-server package
# (which also starts a system service) is not needed: redis-tools'
# redis-check-rdb is the same program and runs as the server under that
# name. Sets REDIS_PORT and REDIS_PID; stopped by pid at exit (or by
# redis_stop). 1 when there is none or it does not listen.
redis_start() {
	local dir=$1 bin
	e2e_tmpdir
	bin=$(command -v redis-server) || bin=""
	if [ -z "$bin" ] && [ -x /usr/bin/redis-check-rdb ]; then
		[ -e "$E2E_DIR/redis-server" ] ||
			ln -s /usr/bin/redis-check-rdb "$E2E_DIR/redis-server"
		bin=$E2E_DIR/redis-server
	fi
	if [ -z "$bin" ]; then
		e2e_diag "no redis-server (packaging/deps.sh check installs redis-tools)"
		return 1
	fi
	REDIS_PORT=${2:-$(free_port)} || return 1
	mkdir -p "$dir"
	_e2e_listener redis-server "$dir/redis.log" "$REDIS_PORT" \
		"$bin" --port "$REDIS_PORT" \
		--bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
		--appendfsync "${REDIS_FSYNC:-always}" --daemonize no
	local rc=$?
	REDIS_PID=$_E2E_LISTENER_PID
	export REDIS_PORT REDIS_PID
	return "$rc"
}

# redis_stop: SIGTERM to the last redis_start's server, and wait.
redis_stop() {
	[ -n "${REDIS_PID-}" ] || return 0
	_e2e_stop_pids 10 "$REDIS_PID"
	_e2e_forget pid "$REDIS_PID"
	REDIS_PID=""
}

# ---------------------------------------------------------------- smtp-sink

# sink_start DIR [PORT]: Postfix's smtp-sink on 127.0.0.1:PORT (default a
# free port) as the next hop, keeping every message it takes as a file in
# DIR (created, owned by postfix; see sink_messages). Sets SINK_PORT,
# SINK_DIR, SINK_PID; stopped by pid at exit (postfix_stop stops it too).
# 1 when it does not listen.
sink_start() {
	e2e_tmpdir
	SINK_DIR=$1
	SINK_PORT=${2:-$(free_port)} || return 1
	export SINK_DIR SINK_PORT
	mkdir -p "$SINK_DIR" && chown postfix "$SINK_DIR" || return 1
	_e2e_listener smtp-sink "$SINK_DIR.log" "$SINK_PORT" \
		smtp-sink -u postfix \
		-d "$SINK_DIR/%Y%m%d%H%M%S." "127.0.0.1:$SINK_PORT" 100
	local rc=$?
	SINK_PID=$_E2E_LISTENER_PID
	export SINK_PID
	return "$rc"
}

# sink_stop: stop the last sink_start's smtp-sink (its messages stay).
sink_stop() {
	[ -n "${SINK_PID-}" ] || return 0
	_e2e_stop_pids 5 "$SINK_PID" || return 1
	_e2e_forget pid "$SINK_PID"
	SINK_PID=""
}

# ---------------------------------------------------------------- Postfix

# postfix_start MILTERS [MAIN_CF_LINE...]: a private Postfix in a new folder
# under E2E_DIR, listening on 127.0.0.1:POSTFIX_PORT, relaying example.test
# to an smtp-sink on SINK_PORT that keeps every message in SINK_DIR.
# MILTERS is smtpd_milters in Postfix's syntax (inet:127.0.0.1:PORT; see
# milter_socket_postfix). Each MAIN_CF_LINE ("name = value") is set with
# postconf -e after the defaults, so it overrides them. Exports POSTFIX_PORT,
# POSTFIX_DIR, POSTFIX_MASTER_PID, SINK_PORT, SINK_DIR, SINK_PID.
postfix_start() {
	local milters=$1 d line i
	shift
	e2e_tmpdir
	if [ -n "${POSTFIX_DIR-}" ] && _e2e_alive "${POSTFIX_MASTER_PID-}"; then
		e2e_diag "postfix_start: an instance runs in $POSTFIX_DIR: postfix_stop first"
		return 1
	fi
	d=$(mktemp -d "$E2E_DIR/postfix.XXXXXX") || return 1
	chmod 755 "$d"
	mkdir -p "$d/etc" "$d/queue" "$d/data" "$d/sink" || return 1
	chown postfix "$d/data" "$d/sink" || return 1
	SINK_PORT=$(free_port) || return 1
	POSTFIX_PORT=$(free_port) || return 1

	cat >"$d/etc/main.cf" <<EOF
# private test instance: nothing here is the system's Postfix
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
myhostname = $E2E_HOSTNAME
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains = example.test
relayhost = [127.0.0.1]:$SINK_PORT
smtpd_milters = $milters
milter_default_action = tempfail
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
maillog_file = $d/maillog
maillog_file_prefixes = $d
EOF
	# Chroot off everywhere: a test instance gains nothing from it and the
	# daemons would need copies of /etc files in the queue.
	awk -v listen="127.0.0.1:$POSTFIX_PORT" '
		/^smtp[ \t]+inet[ \t]/ {
			print listen "  inet  n  -  n  -  -  smtpd"
			next
		}
		/^[a-z]/ && NF >= 8 { $5 = "n" }
		{ print }
	' /etc/postfix/master.cf.proto >"$d/etc/master.cf" || return 1
	for line in "$@"; do
		if ! postconf -c "$d/etc" -e "$line" >>"$d/start.log" 2>&1; then
			e2e_diag "postconf -e '$line' failed:"
			_e2e_show "$d/start.log"
			return 1
		fi
	done

	POSTFIX_DIR=$d
	export POSTFIX_DIR POSTFIX_PORT
	sink_start "$d/sink" "$SINK_PORT" || return 1

	_e2e_record postfix "$d"
	# "postfix start" creates the queue folders and checks the config.
	if ! postfix -c "$d/etc" start >>"$d/start.log" 2>&1 </dev/null \
		{_E2E_FD}>&-; then
		postfix -c "$d/etc" check >>"$d/start.log" 2>&1
		e2e_diag "postfix did not start:"
		_e2e_show "$d/start.log"
		_e2e_show "$d/maillog"
		return 1
	fi
	POSTFIX_MASTER_PID=""
	for ((i = 0; i < 100; i++)); do
		if [ -s "$d/queue/pid/master.pid" ]; then
			read -r POSTFIX_MASTER_PID <"$d/queue/pid/master.pid"
			break
		fi
		sleep 0.1
	done
	export POSTFIX_MASTER_PID
	if ! _e2e_wait_port "$POSTFIX_PORT" 15 "$POSTFIX_MASTER_PID"; then
		e2e_diag "postfix does not listen on $POSTFIX_PORT:"
		_e2e_show "$d/maillog"
		return 1
	fi
	return 0
}

# _e2e_postfix_stop_dir DIR: stop the instance in DIR and its smtp-sink
# is left to the caller. 1 if its master would not die.
_e2e_postfix_stop_dir() {
	local d=$1 pid=""
	[ -d "$d/etc" ] || return 0
	if [ -s "$d/queue/pid/master.pid" ]; then
		read -r pid <"$d/queue/pid/master.pid"
	fi
	postfix -c "$d/etc" stop >>"$d/start.log" 2>&1 </dev/null
	[ -n "$pid" ] || return 0
	_e2e_wait_gone 10 "$pid" && return 0
	# Still there: make sure the pid is that master before killing it.
	if grep -q "master" "/proc/$pid/cmdline" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		_e2e_wait_gone 5 "$pid" && return 0
		kill -KILL "$pid" 2>/dev/null
		_e2e_wait_gone 3 "$pid" && return 0
	fi
	return 1
}

# postfix_stop: stop the current instance and its smtp-sink (the folder
# stays, for the maillog and the sink's messages).
postfix_stop() {
	local rc=0
	[ -n "${POSTFIX_DIR-}" ] || return 0
	_e2e_postfix_stop_dir "$POSTFIX_DIR" || rc=1
	_e2e_forget postfix "$POSTFIX_DIR"
	sink_stop || rc=1
	POSTFIX_MASTER_PID=""
	return "$rc"
}

# postfix_log: path of the current instance's maillog.
postfix_log() {
	echo "$POSTFIX_DIR/maillog"
}

# postfix_log_wait REGEX [SECONDS]: wait (default 10 s) until the maillog
# (written a moment after the fact by postlogd) has a line matching REGEX.
postfix_log_wait() {
	local i limit=$((${2:-10} * 10))
	for ((i = 0; i <= limit; i++)); do
		grep -Eq -- "$1" "$POSTFIX_DIR/maillog" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# postfix_queue_count [QUEUE...]: messages in the named queues (default:
# maildrop incoming active deferred hold).
postfix_queue_count() {
	local q n=0 dirs=()
	if [ "$#" -eq 0 ]; then
		set -- maildrop incoming active deferred hold
	fi
	for q in "$@"; do
		[ -d "$POSTFIX_DIR/queue/$q" ] && dirs+=("$POSTFIX_DIR/queue/$q")
	done
	if [ "${#dirs[@]}" -gt 0 ]; then
		n=$(find "${dirs[@]}" -type f | wc -l)
	fi
	echo "$n"
}

postfix_hold_count() {
	postfix_queue_count hold
}

# postfix_wait_idle [SECONDS]: wait (default 20 s) until no message is in
# maildrop, incoming or active: each is delivered, deferred or held. 1 on
# timeout.
postfix_wait_idle() {
	local i limit=$((${1:-20} * 10))
	for ((i = 0; i <= limit; i++)); do
		if [ "$(postfix_queue_count maildrop incoming active)" = 0 ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# postfix_flush [SECONDS]: retry the deferred queue now, then postfix_wait_idle.
postfix_flush() {
	postqueue -c "$POSTFIX_DIR/etc" -f >>"$POSTFIX_DIR/start.log" 2>&1
	postfix_wait_idle "${1:-20}"
}

# sink_messages: the files smtp-sink kept, one per delivered message, oldest
# first (each: smtp-sink's X-* lines, then the message as received).
sink_messages() {
	find "$SINK_DIR" -type f -printf '%T@ %p\n' 2>/dev/null |
		sort -n | cut -d' ' -f2-
}

# sink_wait_count N [SECONDS]: wait (default 10 s) until the sink holds at
# least N messages. 1 on timeout.
sink_wait_count() {
	local i n limit=$((${2:-10} * 10))
	for ((i = 0; i <= limit; i++)); do
		n=$(sink_messages | wc -l)
		[ "${n:-0}" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- Sendmail

# sendmail_prepare MILTER_SOCKET [MC_LINE...]: a Sendmail .cf in a new folder
# under E2E_DIR whose one filter is MILTER_SOCKET (libmilter syntax,
# inet:PORT@127.0.0.1), flags F=${SENDMAIL_MILTER_FLAGS:-T}; a non-empty
# SENDMAIL_FILTER_MC is used instead of that INPUT_MAIL_FILTER line (the
# caller's own line, e.g. the one README.md documents). Accepted mail is
# only queued (DeliveryMode=queue) into SENDMAIL_DIR/q; nothing is written
# outside the folder. With SENDMAIL_RELAY_PORT set, sendmail_deliver
# relays the queue to 127.0.0.1:SENDMAIL_RELAY_PORT (a sink_start sink). MC_LINEs are added to the .mc before MAILER(smtp).
# Needs tests/e2e/setup-mta.sh run once. Exports SENDMAIL_BIN, SENDMAIL_DIR,
# SENDMAIL_CF.
sendmail_prepare() {
	local sock=$1 d root=$E2E_CACHE/root line
	shift
	e2e_tmpdir
	SENDMAIL_BIN=$root/usr/libexec/sendmail/sendmail
	if [ ! -x "$SENDMAIL_BIN" ] ||
		[ ! -f "$root/usr/share/sendmail/cf/m4/cf.m4" ]; then
		e2e_diag "no unpacked Sendmail in $E2E_CACHE: run tests/e2e/setup-mta.sh"
		return 1
	fi
	d=$(mktemp -d "$E2E_DIR/sendmail.XXXXXX") || return 1
	mkdir -m 700 "$d/q" || return 1
	: >"$d/statistics"
	: >"$d/aliases"
	: >"$d/relay-domains"
	echo "hosts files" >"$d/sw"
	# Seen only inside sendmail_session's mount namespace: the host name
	# resolves from a file and any DNS query goes to 127.0.0.1, where
	# nothing answers, instead of the machine's resolver.
	printf '127.0.0.1\t%s localhost\n' "$E2E_HOSTNAME" >"$d/hosts"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
		>"$d/resolv.conf"
	{
		echo "divert(-1)"
		echo "# test-only Sendmail: an open relay that only queues"
		echo "divert(0)dnl"
		echo "include(\`$root/usr/share/sendmail/cf/m4/cf.m4')dnl"
		echo "OSTYPE(\`linux')dnl"
		echo "define(\`confDONT_PROBE_INTERFACES', \`True')dnl"
		echo "define(\`QUEUE_DIR', \`$d/q')dnl"
		echo "define(\`STATUS_FILE', \`$d/statistics')dnl"
		echo "define(\`ALIAS_FILE', \`$d/aliases')dnl"
		echo "define(\`confCR_FILE', \`-o $d/relay-domains')dnl"
		echo "define(\`confHELP_FILE', \`$d/helpfile')dnl"
		echo "define(\`confSERVICE_SWITCH_FILE', \`$d/sw')dnl"
		echo "define(\`confDELIVERY_MODE', \`queue')dnl"
		if [ -n "${SENDMAIL_RELAY_PORT-}" ]; then
			echo "define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl"
			echo "define(\`RELAY_MAILER_ARGS', \`TCP \$h $SENDMAIL_RELAY_PORT')dnl"
		fi
		echo "FEATURE(\`accept_unresolvable_domains')dnl"
		echo "FEATURE(\`accept_unqualified_senders')dnl"
		echo "FEATURE(\`promiscuous_relay')dnl"
		if [ -n "${SENDMAIL_FILTER_MC-}" ]; then
			echo "$SENDMAIL_FILTER_MC"
		else
			echo "INPUT_MAIL_FILTER(\`e2e', \`S=$sock, F=${SENDMAIL_MILTER_FLAGS:-T}, T=S:30s;R:30s;E:1m')dnl"
		fi
		for line in "$@"; do
			echo "$line"
		done
		echo "MAILER(\`smtp')dnl"
	} >"$d/t.mc"
	if ! m4 -D_CF_DIR_="$root/usr/share/sendmail/cf/" "$d/t.mc" \
		>"$d/t.cf" 2>"$d/m4.log"; then
		e2e_diag "m4 failed on $d/t.mc:"
		_e2e_show "$d/m4.log"
		return 1
	fi
	SENDMAIL_DIR=$d
	SENDMAIL_CF=$d/t.cf
	export SENDMAIL_BIN SENDMAIL_DIR SENDMAIL_CF
	# The command that runs what follows it in Sendmail's own UTS and
	# mount namespaces: host name mx.example.test, the private /etc/hosts
	# and /etc/resolv.conf above (exit 97 when they cannot be set up).
	# shellcheck disable=SC2016 # expanded by the inner sh
	_E2E_SENDMAIL_NS=(unshare -u -m sh -c '
		h=$1 hosts=$2 resolv=$3
		shift 3
		hostname "$h" &&
		mount --bind "$hosts" /etc/hosts &&
		mount --bind "$resolv" /etc/resolv.conf ||
		{ echo "*** cannot set up the namespace" >&2; exit 97; }
		exec "$@"
	' sh "$E2E_HOSTNAME" "$d/hosts" "$d/resolv.conf")
}

# sendmail_session SWAKS_ARGS...: one SMTP session with `sendmail -bs` on a
# pipe (no daemon, no port), in its own UTS and mount namespaces: host name
# mx.example.test, private /etc/hosts and /etc/resolv.conf. Prints swaks'
# transcript and sets E2E_SWAKS_RC, like smtp_dialogue. Returns 0.
sendmail_session() {
	E2E_SWAKS_RC=0
	timeout --foreground -k 5 "$E2E_SESSION_LIMIT" "${_E2E_SENDMAIL_NS[@]}" \
		swaks --timeout "$E2E_SMTP_TIMEOUT" \
		--pipe "$SENDMAIL_BIN -C $SENDMAIL_CF -bs" "$@" 2>&1 ||
		E2E_SWAKS_RC=$?
	return 0
}

# sendmail_deliver: one queue run of Sendmail in the foreground (`-qf`, in
# the session's namespaces, bounded by E2E_SESSION_LIMIT): each queued
# message goes to the relay of SENDMAIL_RELAY_PORT. Its transcript (-v) in
# SENDMAIL_DIR/deliver.log; 1 when the run failed or a message stayed in
# the queue.
sendmail_deliver() {
	timeout -k 5 "$E2E_SESSION_LIMIT" "${_E2E_SENDMAIL_NS[@]}" \
		"$SENDMAIL_BIN" -C "$SENDMAIL_CF" -qf -v \
		>>"$SENDMAIL_DIR/deliver.log" 2>&1 </dev/null || return 1
	[ "$(sendmail_queue_count)" = 0 ]
}

# _e2e_sendmail_once: start a one-shot Sendmail listener on a free port of
# 127.0.0.1 in the session's namespaces (hostname, private /etc/hosts and
# /etc/resolv.conf): it accepts one connection and runs `sendmail -bs` on
# it, so Sendmail and the milter see the client's real address (a
# `sendmail -bs` on a pipe has none: the milter gets "localhost" and no
# address). Sets _E2E_ONCE_PORT and _E2E_ONCE_PID; 1 if it did not listen.
_e2e_sendmail_once() {
	local log
	_E2E_ONCE_PID=""
	_E2E_ONCE_PORT=$(free_port) || return 1
	log=$(mktemp "$SENDMAIL_DIR/listener.XXXXXX.log")
	# shellcheck disable=SC2016 # perl's variables
	_e2e_spawn "$log" timeout -k 5 "$E2E_SESSION_LIMIT" \
		"${_E2E_SENDMAIL_NS[@]}" perl -MSocket -e '
			my $port = shift;
			socket(my $l, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
			setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1);
			bind($l, pack_sockaddr_in($port, inet_aton(q{127.0.0.1})))
				or die "bind: $!";
			listen($l, 1) or die "listen: $!";
			accept(my $c, $l) or die "accept: $!";
			close($l);
			open(STDIN, q{<&}, $c) or die;
			open(STDOUT, q{>&}, $c) or die;
			exec(@ARGV) or die "exec: $!";
		' "$_E2E_ONCE_PORT" "$SENDMAIL_BIN" -C "$SENDMAIL_CF" -bs
	_E2E_ONCE_PID=$!
	_e2e_record pid "$_E2E_ONCE_PID"
	if ! _e2e_wait_port "$_E2E_ONCE_PORT" 10 "$_E2E_ONCE_PID"; then
		echo "*** the one-shot Sendmail listener did not start:"
		cat "$log"
		_e2e_sendmail_once_end
		return 1
	fi
	return 0
}

# _e2e_sendmail_once_end: wait for (then stop) the one-shot listener.
_e2e_sendmail_once_end() {
	[ -n "${_E2E_ONCE_PID-}" ] || return 0
	_e2e_wait_gone 5 "$_E2E_ONCE_PID"
	_e2e_stop_pids 5 "$_E2E_ONCE_PID"
	_e2e_forget pid "$_E2E_ONCE_PID"
	_E2E_ONCE_PID=""
}

# _e2e_with_sendmail_once FN ARGS...: start a one-shot `sendmail -bs` (see
# _e2e_sendmail_once), run FN PORT ARGS... against it, stop it. Sets
# E2E_SWAKS_RC to 99 when sendmail does not start. Returns 0.
_e2e_with_sendmail_once() {
	local fn=$1
	shift
	E2E_SWAKS_RC=0
	if ! _e2e_sendmail_once; then
		E2E_SWAKS_RC=99
		return 0
	fi
	"$fn" "$_E2E_ONCE_PORT" "$@"
	_e2e_sendmail_once_end
	return 0
}

_e2e_dialogue_from() {
	local port=$1 addr=$2
	shift 2
	smtp_dialogue "$port" --local-interface "$addr" "$@"
}

# sendmail_session_from ADDR SWAKS_ARGS...: like sendmail_session, but over
# TCP from the loopback address ADDR (127.0.0.2, ...) to a one-shot
# `sendmail -bs`. Prints swaks' transcript and sets E2E_SWAKS_RC.
sendmail_session_from() {
	_e2e_with_sendmail_once _e2e_dialogue_from "$@"
}

# sendmail_raw_from ADDR COMMAND...: smtp_raw to a one-shot `sendmail -bs`
# from ADDR.
sendmail_raw_from() {
	_e2e_with_sendmail_once smtp_raw "$@"
}

# sendmail_queue_files: the queued messages' control files (qf*: headers as
# "H??Name: value" lines); quarantined ones are hf*.
sendmail_queue_files() {
	find "$SENDMAIL_DIR/q" -type f \( -name 'qf*' -o -name 'hf*' \) | sort
}

# sendmail_queue_count: messages in Sendmail's queue (held ones included).
sendmail_queue_count() {
	sendmail_queue_files | wc -l
}

# ---------------------------------------------------------------- DNS

# dns_start [EXTRA]: a real DNS server (dnsmasq, from dnsmasq-base: a
# binary, no service; its config from dns_conf below) on 127.0.0.1 on a
# free port (UDP and TCP), serving the test
# DNS lists below, every answer with a TTL of DNS_TTL seconds (default
# 60; 0: no resolver may keep it), logging each query to DNS_LOG. Its
# files are named DNS_NAME (default dnsmasq) in E2E_DIR: two can run. Sets DNS_PORT, DNS_PID, DNS_LOG. The zones (under .example:
# libunbound answers .test and .invalid itself, RFC 6761):
#   bl.example    127.0.0.2 and 2001:db8::1 listed (127.0.0.2), with a
#                 TXT record of '%', control bytes and 600 octets in
#                 several character-strings; 127.0.0.4 listed 127.0.0.20
#   bl2.example   127.0.0.2 and 127.0.0.4 listed (127.0.0.3)
#   wl.example    127.0.0.10 listed (127.0.9.1)
#   nx.example    nothing listed
#   dbl.example   spam.example and bad-helo.example listed (127.0.1.2),
#                 TXT "domain blocked"
# Anything else under them does not exist (NXDOMAIN). EXTRA, a file of
# more dnsmasq lines (local=/zone/, host-record=, txt-record=), serves
# more zones.
DNS_TXT_HEAD='Listed 100% by bl.example; see https://bl.example/q?ip=127.0.0.2'

# dns_conf PORT LOG [EXTRA]: the dnsmasq config of dns_start (its zones,
# listening on 127.0.0.1 port PORT, logging queries to LOG, EXTRA's lines
# after), on stdout. tests/package/deb.sh runs one in its container.
dns_conf() {
	local a b c
	a=$(printf 'a%.0s' $(seq 200))
	b=$(printf 'b%.0s' $(seq 200))
	c=$(printf 'c%.0s' $(seq 100))
	cat <<CONF
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=127.0.0.1
port=$1
log-queries
log-facility=$2
local-ttl=${DNS_TTL:-60}
local=/bl.example/
local=/bl2.example/
local=/wl.example/
local=/dbl.example/
local=/nx.example/
host-record=2.0.0.127.bl.example,127.0.0.2
txt-record=2.0.0.127.bl.example,"$DNS_TXT_HEAD %s%n\t\e\r\n","$a","$b","$c"
host-record=4.0.0.127.bl.example,127.0.0.20
host-record=1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example,127.0.0.2
host-record=2.0.0.127.bl2.example,127.0.0.3
host-record=4.0.0.127.bl2.example,127.0.0.3
host-record=10.0.0.127.wl.example,127.0.9.1
host-record=spam.example.dbl.example,127.0.1.2
txt-record=spam.example.dbl.example,"domain blocked"
host-record=bad-helo.example.dbl.example,127.0.1.2
CONF
	cat "${3:-/dev/null}"
}

dns_start() {
	local conf i extra=${1:-/dev/null}
	e2e_tmpdir
	conf=$E2E_DIR/${DNS_NAME:-dnsmasq}.conf
	DNS_LOG=$E2E_DIR/${DNS_NAME:-dnsmasq}.log
	for ((i = 0; i < 5; i++)); do
		DNS_PORT=$(free_port) || return 1
		dns_conf "$DNS_PORT" "$DNS_LOG" "$extra" >"$conf"
		: >"$DNS_LOG"
		_e2e_spawn "$E2E_DIR/${DNS_NAME:-dnsmasq}.out" dnsmasq --keep-in-foreground \
			--conf-file="$conf" --user="$(id -un)" \
			--group="$(id -gn)"
		DNS_PID=$!
		_e2e_record pid "$DNS_PID"
		local k
		for ((k = 0; k < 50; k++)); do
			grep -q "started, version" "$DNS_LOG" 2>/dev/null &&
				_e2e_alive "$DNS_PID" && return 0
			_e2e_alive "$DNS_PID" || break
			sleep 0.1
		done
		dns_stop
	done
	e2e_diag "dnsmasq did not start:" "$(cat "$E2E_DIR/${DNS_NAME:-dnsmasq}.out")"
	return 1
}

# dns_stop: stop the DNS server dns_start started (by its pid).
dns_stop() {
	[ -n "${DNS_PID-}" ] || return 0
	_e2e_stop_pids 5 "$DNS_PID"
	_e2e_forget pid "$DNS_PID"
	DNS_PID=""
}

# dns_queries NAME TYPE: how many times the DNS server was asked NAME.
dns_queries() {
	grep -c "query\[$2\] $1 from" "$DNS_LOG"
}

# dns_rules [ZONE...]: the DNS list rules the suites share, asking the
# server dns_start started last: "dnswl" (wl.example: accept) and "dnsbl"
# (bl.example=127.0.0.[2..11] and the ZONEs given: 554 5.7.1 with the
# zone and the TXT record, in Postfix's words).
dns_rules() {
	local zones='"bl.example=127.0.0.[2..11]"' z
	for z in "$@"; do
		zones+=", \"$z\""
	done
	cat <<RULES
dns_resolver = "127.0.0.1@$DNS_PORT"
rule "dnswl" {
	stage = connect
	client_dnswl = { "wl.example=127.0.[0..255].[1..3]" }
	verdict = accept
}
rule "dnsbl" {
	stage = connect
	client_dnsbl = { $zones }
	verdict = reject
	reply = "554 5.7.1"
	text = "Service unavailable; Client host [\$client_addr] blocked using \$dnsbl_zone; \$dnsbl_txt"
}
RULES
}
