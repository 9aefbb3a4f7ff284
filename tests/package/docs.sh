#!/usr/bin/env bash
# docs.sh - the man pages and the shipped config document everything the
# code accepts, read from the code itself, so that a new option cannot be
# merged without its documentation:
#   - every option name of the libconfuse option tables in milter/config/
#     (settings.c: the top level and on_error; lists.c; rules.c)
#     (CFG_STR/CFG_BOOL/CFG_INT/..., CFG_SEC, and the macros defined on
#     them such as LIST_OPT), and of the condition kinds' option rows in
#     milter/core/cond_*.c, is in replycode-milter.conf(5) and in the
#     comments of conf/replycode-milter.conf (a not_NAME condition there
#     through the "not_<option>" rule and NAME);
#   - every stage and verdict name (milter/core/stage.c) and placeholder
#     (milter/core/template.c) is in replycode-milter.conf(5);
#   - every command line option of milter/main.c (its getopt string and
#     long options) has an entry in replycode-milter(8)'s OPTIONS, and
#     every exit status it uses (sysexits names, read from <sysexits.h>,
#     and 0 and 1) one in its EXIT STATUS;
#   - both pages render without a groff warning, the way lintian asks man.
# Prints "N passed, N failed" (tests/e2e/lib.sh's assertions); exits
# non-zero on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/e2e/lib.sh

man5=packaging/man/replycode-milter.conf.5
man8=packaging/man/replycode-milter.8
conf=conf/replycode-milter.conf

# plain FILE: a man page's source without font escapes, so that a name
# stands between non-name characters ("\fBclient_address\fR").
plain() {
	sed -E 's/\\f([BIRP]|\(..|\[[^]]*\])//g; s/\\-/-/g; s/\\\(dq/"/g' "$1"
}

# has_word TEXT_FILE WORD: WORD stands alone (not inside a longer name).
has_word() {
	grep -qE -- "(^|[^A-Za-z0-9_])$(sed 's/[$.]/\\&/g' <<<"$2")([^A-Za-z0-9_]|\$)" "$1"
}

e2e_tmpdir
tmp=$E2E_DIR
plain "$man5" >"$tmp/man5"
plain "$man8" >"$tmp/man8"
grep -E '^[[:space:]]*#' "$conf" >"$tmp/comments"

# strings ARRAY FILE: the string literals of "ARRAY[...] = { ... };".
strings() {
	awk -v a="$1" '
		index($0, a "[") && /=/ { on = 1 }
		on { s = s $0 }
		on && /;/ { on = 0 }
		END {
			while (match(s, /"[^"]*"/)) {
				print substr(s, RSTART + 1, RLENGTH - 2)
				s = substr(s, RSTART + RLENGTH)
			}
		}' "$2"
}

# --- options of the config ----------------------------------------------

config_srcs=(milter/config/*.c)
macros=$(sed -n -E 's/^#define ([A-Z_]+)\([a-z]+\)[[:space:]]+CFG_.*/\1/p' \
	"${config_srcs[@]}" | paste -sd'|')
# and the options of the condition kinds: their rows in milter/core/cond_*.c,
# {"NAME", COPT_..., MATCH_..., NEGATABLE}, a negatable one with not_NAME
kind_opts=$(grep -hoE '\{"[a-z0-9_]+", COPT_[A-Z]+, MATCH_[A-Z]+, (true|false)\}' \
	milter/core/cond_*.c |
	sed -E 's/^\{"([a-z0-9_]+)".*(true|false)\}$/\1 \2/' |
	awk '{ print $1 } $2 == "true" { print "not_" $1 }')
opts=$( (grep -hoE "(CFG_[A-Z_]+${macros:+|$macros})\(\"[a-z0-9_]+\"" "${config_srcs[@]}" |
	sed -E 's/.*\("//; s/"$//'; echo "$kind_opts") | sort -u)
nopts=$(wc -w <<<"$opts")
assert_match "milter/config/: option names read from its option tables (40 or more; has their form changed?)" \
	"$nopts" '^([4-9][0-9]|[1-9][0-9][0-9]+)$'
missing5="" missingc=""
for o in $opts; do
	has_word "$tmp/man5" "$o" || missing5="$missing5 $o"
	if ! has_word "$tmp/comments" "$o"; then
		base=${o#not_}
		if [ "$base" = "$o" ] || ! grep -q 'not_<option>' "$tmp/comments" ||
			! has_word "$tmp/comments" "$base"; then
			missingc="$missingc $o"
		fi
	fi
done
assert_eq "replycode-milter.conf(5) documents every option of milter/config/ ($nopts)" \
	"${missing5:+lacks:}$missing5" ""
assert_eq "$conf's comments document every option of milter/config/" \
	"${missingc:+lacks:}$missingc" ""

# --- stages, verdicts, placeholders ----------------------------------------

for what in "stage_names milter/core/stage.c stage" \
	"verdict_names milter/core/stage.c verdict" \
	"names milter/core/template.c placeholder"; do
	# shellcheck disable=SC2086 # three words
	set -- $what
	names=$(strings "$1" "$2")
	missing=""
	for n in $names; do
		[ "$3" = placeholder ] && n="\$$n"
		has_word "$tmp/man5" "$n" || missing="$missing $n"
	done
	assert_match "$2: $3 names found in $1" "$names" .
	assert_eq "replycode-milter.conf(5) names every $3 ($(wc -w <<<"$names"))" \
		"${missing:+lacks:}$missing" ""
done

# --- the command line and exit codes of main.c -----------------------------

letters=$(sed -n -E 's/.*getopt_long\([^"]*"([^"]*)".*/\1/p' milter/main.c |
	tr -d ':' | fold -w1)
longs=$(awk '/struct option longopts/ { on = 1 } on && /^\t*}/ { on = 0 }
	on' milter/main.c | grep -oE '\{"[a-z-]+"' | tr -d '{"')
# the tags of the OPTIONS section: the line after each .TP
awk '/^\.SH / { on = ($0 == ".SH OPTIONS") } on && tp { print } { tp = /^\.TP/ }' \
	"$man8" >"$tmp/tags"
plain "$tmp/tags" >"$tmp/tags.plain"
missing=""
for l in $letters; do
	grep -qE -- "(^|[^A-Za-z0-9-])-$l([^A-Za-z0-9-]|\$)" "$tmp/tags.plain" ||
		missing="$missing -$l"
done
for l in $longs; do
	grep -qE -- "--$l([^A-Za-z0-9-]|\$)" "$tmp/tags.plain" ||
		missing="$missing --$l"
done
assert_match "main.c: a getopt string and long options found" \
	"$letters|$longs" '.\|.'
assert_eq "replycode-milter(8) documents every option of main.c ($(wc -w <<<"$letters $longs"))" \
	"${missing:+lacks:}$missing" ""

codes="0 1"
for ex in $(grep -oE '\bEX_[A-Z]+\b' milter/main.c | sort -u); do
	n=$(sed -n -E "s/^#define[[:space:]]+${ex}[[:space:]]+([0-9]+).*/\1/p" \
		/usr/include/sysexits.h)
	codes="$codes ${n:-$ex}"
done
missing=""
for c in $codes; do
	awk '/^\.SH EXIT STATUS/ { on = 1; next } /^\.SH/ { on = 0 }
		on && $0 == ".B " c { f = 1 } END { exit !f }' c="$c" "$man8" ||
		missing="$missing $c"
done
assert_eq "replycode-milter(8) EXIT STATUS lists every status of main.c ($codes)" \
	"${missing:+lacks:}$missing" ""

# --- rendering -------------------------------------------------------------

for page in "$man5" "$man8"; do
	err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
	assert_eq "$page renders without a groff warning" "$err" ""
done

e2e_finish
