#!/usr/bin/env bash
# layout.sh - the floors of the source tree (LAYOUT.md) cannot erode:
#   - only the front ends ($LIBMILTER_ALLOWED) include libmilter's headers;
#   - milter/lib/ includes nothing from milter/core/ or milter/config/,
#     milter/core/ nothing from milter/config/, and neither includes
#     <confuse.h>; no file under milter/ includes by "../";
#   - the Makefile compiles lib/, core/ and config/ with libmilter's
#     headers made empty (NO_MILTER) and without libmilter's cflags, and
#     gives libconfuse's cflags to config/ only (the normal and the
#     sanitizer build); with those flags a use of SMFICTX does not compile;
#   - only milter/lib/dns.c includes libunbound's header or gets its
#     flags;
#   - no .c file is over $MAX_LINES lines but the code tables.
# Each check then runs on a copy of the tree with a violation put in, and
# must find it: a check that cannot fail checks nothing.
# Prints "N passed, N failed" (tests/e2e/lib.sh's assertions); exits
# non-zero on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/e2e/lib.sh

# The files that may include <libmilter/...>: the glue alone.
LIBMILTER_ALLOWED="milter/milter.c"
# The glue turns events into calls of the transaction core and back:
# it stays small (the logic it might grow belongs in core/txn.c).
GLUE_MAX=300
# The .c files that may be longer than MAX_LINES: the code tables.
LONG_ALLOWED="milter/core/codes.c milter/core/practice.c"
MAX_LINES=1200

inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*'

# Each check_* ROOT prints what breaks its rule in the tree at ROOT, one
# finding a line; nothing when the rule holds.

check_libmilter() {
	local f
	(cd "$1" && grep -rlE --include='*.[ch]' \
		"$inc[<\"](libmilter/|mfapi\\.h|mfdef\\.h)" milter) | sort |
		while IFS= read -r f; do
			[[ " $LIBMILTER_ALLOWED " == *" $f "* ]] ||
				echo "$f includes libmilter"
		done
}

check_lib() {
	(cd "$1" && grep -rnE --include='*.[ch]' \
		"$inc(\"(core|config)/|<confuse\\.h>)" milter/lib)
}

check_core() {
	(cd "$1" && grep -rnE --include='*.[ch]' \
		"$inc(\"config/|<confuse\\.h>)" milter/core)
}

check_relative() {
	(cd "$1" && grep -rnE --include='*.[ch]' "$inc\"\\.\\./" milter)
}

check_long() {
	local f n
	(cd "$1" && find milter -name '*.c' | sort) | while IFS= read -r f; do
		n=$(wc -l <"$1/$f")
		[ "$n" -le "$MAX_LINES" ] && continue
		[[ " $LONG_ALLOWED " == *" $f "* ]] ||
			echo "$f has $n lines (at most $MAX_LINES)"
	done
}

check_glue() {
	local n
	n=$(wc -l <"$1/milter/milter.c")
	[ "$n" -le "$GLUE_MAX" ] ||
		echo "milter/milter.c has $n lines (at most $GLUE_MAX)"
}

# The compile lines make would run for the milter and its sanitizer build,
# every folder's flags marked so that they show.
compile_lines() {
	make -s -n -B -C "$1" PCRE2_CFLAGS=-DMARK_PCRE2 \
		CONFUSE_CFLAGS=-DMARK_CONFUSE MILTER_CFLAGS=-DMARK_MILTER \
		replycode-milter build/san/replycode-milter 2>/dev/null |
		sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
		grep -E -- '[[:space:]]-c .*-o [^ ]*milter/[a-z/_]+\.o '
}

# main.c, in both builds: libmilter's headers empty, not its cflags.
check_main() {
	local line n=0
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		n=$((n + 1))
		[[ $line == *-D_LIBMILTER_MFAPI_H* ]] ||
			echo "main.o: compiled without NO_MILTER"
		[[ $line == *MARK_MILTER* ]] &&
			echo "main.o: compiled with libmilter's cflags"
	done <<<"$(compile_lines "$1" | grep -E -- '-o [^ ]*milter/main\.o ')"
	[ "$n" -eq 2 ] || echo "$n compile lines of main.c found, not two"
}

check_flags() {
	local lines line obj n=0
	lines=$(compile_lines "$1")
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		obj=$(grep -oE -- '-o [^ ]+\.o' <<<"$line" | sed 's/^-o //')
		case $obj in
		*milter/lib/* | *milter/core/* | *milter/config/*)
			n=$((n + 1))
			[[ $line == *-D_LIBMILTER_MFAPI_H* &&
				$line == *-D_LIBMILTER_MFDEF_H* ]] ||
				echo "$obj: compiled without NO_MILTER"
			[[ $line == *MARK_MILTER* ]] &&
				echo "$obj: compiled with libmilter's cflags"
			if [[ $obj == *milter/config/* ]]; then
				[[ $line == *MARK_CONFUSE* ]] ||
					echo "$obj: compiled without libconfuse's cflags"
			elif [[ $line == *MARK_CONFUSE* ]]; then
				echo "$obj: compiled with libconfuse's cflags"
			fi
			;;
		esac
	done <<<"$lines"
	# both builds, every file of the three floors
	[ "$n" -eq $((2 * $(cd "$1" && ls milter/lib/*.c milter/core/*.c \
		milter/config/*.c | wc -l))) ] ||
		echo "$n compile lines of lib/, core/, config/ found, not two a file"
}

# A file using SMFICTX, compiled the way make compiles milter/core/reply.c:
# must fail (the empty libmilter header declares nothing).
check_smfictx() {
	local line cmd src=$E2E_DIR/smfictx.c
	printf '%s\n' '#include <libmilter/mfapi.h>' \
		'SMFICTX *smfictx_used(void);' \
		'SMFICTX *smfictx_used(void) { return 0; }' >"$src"
	line=$(compile_lines "$1" | grep -m1 -E -- '-o milter/core/reply\.o ')
	[ -n "$line" ] || {
		echo "no compile line for milter/core/reply.o"
		return
	}
	cmd=${line/ -o milter\/core\/reply.o milter\/core\/reply.c/ -o $E2E_DIR\/smfictx.o $src}
	(cd "$1" && eval "$cmd") >/dev/null 2>&1 &&
		echo "SMFICTX compiles with core/'s flags"
}

# libunbound (DNS lists): only the resolver, milter/lib/dns.c, includes
# its header, and only its objects get its flags.
UNBOUND_ALLOWED="milter/lib/dns.c"
check_unbound() {
	local f line obj
	(cd "$1" && grep -rlE --include='*.[ch]' "$inc<unbound\\.h>" milter) |
		sort | while IFS= read -r f; do
		[[ " $UNBOUND_ALLOWED " == *" $f "* ]] ||
			echo "$f includes libunbound's header"
	done
	make -s -n -B -C "$1" UNBOUND_CFLAGS=-DMARK_UNBOUND \
		replycode-milter build/san/replycode-milter 2>/dev/null |
		sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
		grep -E -- '[[:space:]]-c .*-o [^ ]*milter/[a-z/_]+\.o ' |
		while IFS= read -r line; do
			obj=$(grep -oE -- '-o [^ ]+\.o' <<<"$line" | sed 's/^-o //')
			case $obj in
			*milter/lib/dns.o) [[ $line == *MARK_UNBOUND* ]] ||
				echo "$obj: compiled without libunbound's cflags" ;;
			*) [[ $line == *MARK_UNBOUND* ]] &&
				echo "$obj: compiled with libunbound's cflags" ;;
			esac
		done
}

checks=(libmilter lib core relative long glue flags main smfictx unbound)
what_libmilter="only $LIBMILTER_ALLOWED include libmilter's headers"
what_lib="milter/lib/ includes nothing from core/, config/ or <confuse.h>"
what_core="milter/core/ includes nothing from config/ or <confuse.h>"
what_relative="no include by \"../\" under milter/"
what_long="no .c file over $MAX_LINES lines but $LONG_ALLOWED"
what_flags="the Makefile gives lib/, core/, config/ their floor's flags only"
what_glue="milter/milter.c, the libmilter glue, has at most $GLUE_MAX lines"
what_main="main.c is compiled without libmilter's headers"
what_smfictx="with core/'s flags, SMFICTX does not compile"
what_unbound="only $UNBOUND_ALLOWED sees libunbound's header and flags"

e2e_tmpdir

for c in "${checks[@]}"; do
	w=what_$c
	assert_eq "${!w}" "$("check_$c" .)" ""
done

# The same checks on copies of the tree, each with one violation: each
# must find its own.
spoil() {
	local name=$1
	rm -rf "$E2E_DIR/tree"
	mkdir -p "$E2E_DIR/tree"
	cp -r milter Makefile "$E2E_DIR/tree/"
	find "$E2E_DIR/tree" -name '*.o' -delete
	cd "$E2E_DIR/tree" || return 1
	case $name in
	libmilter) sed -i '1i #include <libmilter/mfapi.h>' milter/core/reply.c ;;
	lib) sed -i '1i #include "core/policy.h"' milter/lib/log.c ;;
	core) sed -i '1i #include <confuse.h>' milter/core/stage.c ;;
	relative) sed -i '1i #include "../config/config.h"' milter/core/stage.c ;;
	long) seq 1 $((MAX_LINES + 1)) | sed 's|^|/* |; s|$| */|' >milter/config/long.c ;;
	glue) seq 1 "$GLUE_MAX" | sed 's|^|/* |; s|$| */|' >>milter/milter.c ;;
	main) sed -i 's/^MAIN_FLAGS = $(NO_MILTER)/MAIN_FLAGS =/' Makefile ;;
	flags) sed -i 's/^LIB_FLAGS = $(NO_MILTER)/LIB_FLAGS =/' Makefile ;;
	smfictx) sed -i 's/^NO_MILTER = .*/NO_MILTER =/' Makefile ;;
	unbound) sed -i 's/^LIB_FLAGS = \(.*\)/LIB_FLAGS = \1 $(UNBOUND_CFLAGS)/' Makefile ;;
	esac
	cd - >/dev/null || return 1
}

for c in "${checks[@]}"; do
	spoil "$c"
	found=$("check_$c" "$E2E_DIR/tree")
	if [ -n "$found" ]; then
		_e2e_ok "the check \"$c\" finds a violation put in"
	else
		_e2e_not_ok "the check \"$c\" finds a violation put in"
	fi
done

e2e_finish
