# replycode-milter - a plain Makefile.
#
#   make            build the milter
#   make check      install missing packages (as root), build, run every test
#   make run        build and run the milter in the foreground with
#                   conf/replycode-milter.conf on inet:8890@127.0.0.1
#                   (as root: running as nobody)
#   make install    install the milter, its man pages and configs under
#                   $(DESTDIR)$(PREFIX) (an existing config is never
#                   overwritten: the new one goes next to it as .conf.new)
#   make uninstall  remove what make install added
#   make deb        build the Debian package from a clean copy of the tree
#   make check-unit the tests a package build runs (no root, no MTA)
#   make check-simulate  the golden transactions of --simulate (tests/simulate)
#   make bench      measure the milter (see tests/bench)
#   make fuzz-regress  run every fuzz target over its corpus (plain $(CC))
#   make fuzz       fuzz each target with clang's libFuzzer for FUZZ_SECONDS
#   make san        the milter, unit tests and mtclient with AddressSanitizer
#                   and UndefinedBehaviorSanitizer, in $(SAN_DIR)
#
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, DESTDIR and PREFIX.

CC ?= cc
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/replycode-milter
EXAMPLESDIR ?= $(DOCDIR)/examples
PKG_CONFIG ?= pkg-config
CFLAGS ?= -g -O2
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2
VERSION = 0.1

# The sanitizer build's folder (see san below).
SAN_DIR = build/san

# Each floor gets the flags of what it may use, and no more (LAYOUT.md):
# lib/ and core/ neither libmilter's nor libconfuse's, config/ libconfuse's,
# only the front ends (milter.c, main.c) libmilter's. NO_MILTER makes
# libmilter's headers empty below the front ends (their include guards
# are defined first), so that any use of SMFICTX there fails to compile.
CORE_PKGS = libconfuse libpcre2-8
PCRE2_CFLAGS = $(shell $(PKG_CONFIG) --cflags libpcre2-8 2>/dev/null)
CONFUSE_CFLAGS = $(shell $(PKG_CONFIG) --cflags libconfuse 2>/dev/null)
MILTER_CFLAGS = $(shell $(PKG_CONFIG) --cflags milter 2>/dev/null)
# libunbound (DNS list lookups): its .pc wants libevent's, which Debian's
# libunbound-dev does not pull in; -lunbound is all it takes.
UNBOUND_CFLAGS = $(shell $(PKG_CONFIG) --cflags libunbound 2>/dev/null)
UNBOUND_LIBS = -lunbound
# The state store's libraries (lib/store_lmdb.c, lib/store_redis.c).
HIREDIS_CFLAGS = $(shell $(PKG_CONFIG) --cflags hiredis 2>/dev/null)
STORE_LIBS = $(shell $(PKG_CONFIG) --libs lmdb hiredis 2>/dev/null || \
	echo -llmdb -lhiredis)
CORE_LIBS = $(shell $(PKG_CONFIG) --libs $(CORE_PKGS) 2>/dev/null) \
	$(UNBOUND_LIBS) $(STORE_LIBS) -lpthread
MILTER_LIBS = $(shell $(PKG_CONFIG) --libs milter 2>/dev/null || echo -lmilter)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
NO_MILTER = -D_LIBMILTER_MFAPI_H -D_LIBMILTER_MFDEF_H

ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS)
ALL_CPPFLAGS = -Imilter -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
	-DDEFAULT_CONFIG='"$(SYSCONFDIR)/replycode-milter/replycode-milter.conf"' \
	$(CPPFLAGS)

# milter/lib/: matchers, list files, logging; knows nothing of mail policy.
LIB_SRCS = \
	milter/lib/quote.c \
	milter/lib/bigmem.c \
	milter/lib/bloom.c \
	milter/lib/match_addr.c \
	milter/lib/match_set.c \
	milter/lib/match_envaddr.c \
	milter/lib/match_regex.c \
	milter/lib/match_body.c \
	milter/lib/listfile.c \
	milter/lib/script.c \
	milter/lib/log.c \
	milter/lib/dnsname.c \
	milter/lib/dnscache.c \
	milter/lib/dns.c \
	milter/lib/clock.c \
	milter/lib/store.c \
	milter/lib/store_lmdb.c \
	milter/lib/store_redis.c
# milter/core/: the policy core (reply codes, replies, the policy engine).
CORE_SRCS = \
	milter/core/stage.c \
	milter/core/codes.c \
	milter/core/practice.c \
	milter/core/explain.c \
	milter/core/reply.c \
	milter/core/template.c \
	milter/core/cond.c \
	milter/core/cond_client_address.c \
	milter/core/cond_client_name.c \
	milter/core/cond_helo.c \
	milter/core/cond_sender.c \
	milter/core/cond_recipient.c \
	milter/core/cond_body.c \
	milter/core/cond_header.c \
	milter/core/cond_macro.c \
	milter/core/cond_helo_literal.c \
	milter/core/cond_authenticated.c \
	milter/core/cond_tls.c \
	milter/core/cond_recipients.c \
	milter/core/cond_size.c \
	milter/core/cond_received.c \
	milter/core/cond_client_dnsbl.c \
	milter/core/cond_client_dnswl.c \
	milter/core/cond_client_name_rhsbl.c \
	milter/core/cond_helo_rhsbl.c \
	milter/core/cond_sender_rhsbl.c \
	milter/core/dnsq.c \
	milter/core/cond_ratelimit.c \
	milter/core/cond_greylist.c \
	milter/core/keep.c \
	milter/core/policy.c \
	milter/core/stats.c \
	milter/core/txn.c \
	milter/core/mta.c
# milter/config/: reads the config file into a policy (libconfuse).
CONFIG_SRCS = \
	milter/config/diag.c \
	milter/config/parse.c \
	milter/config/scan.c \
	milter/config/lists.c \
	milter/config/conds.c \
	milter/config/text.c \
	milter/config/rules.c \
	milter/config/settings.c \
	milter/config/values.c \
	milter/config/lookup.c \
	milter/config/load.c
# The front ends: libmilter's glue (milter.c), --simulate (simulate.c,
# no libmilter either) and the process (main.c).
MILTER_SRCS = \
	milter/milter.c \
	milter/simulate.c \
	milter/main.c
# Everything but the front ends: what the unit tests and fuzz targets use.
POLICY_SRCS = $(LIB_SRCS) $(CORE_SRCS) $(CONFIG_SRCS)
POLICY_OBJS = $(POLICY_SRCS:.c=.o)
MILTER_OBJS = $(MILTER_SRCS:.c=.o)
HDRS = $(wildcard milter/*.h milter/*/*.h)

# Per-floor flags, for the normal and the sanitizer objects alike.
LIB_FLAGS = $(NO_MILTER) $(PCRE2_CFLAGS)
CONFIG_FLAGS = $(NO_MILTER) $(CONFUSE_CFLAGS)
milter/lib/%.o $(SAN_DIR)/milter/lib/%.o: FLOOR_FLAGS = $(LIB_FLAGS)
milter/core/%.o $(SAN_DIR)/milter/core/%.o: FLOOR_FLAGS = $(LIB_FLAGS)
milter/config/%.o $(SAN_DIR)/milter/config/%.o: FLOOR_FLAGS = $(CONFIG_FLAGS)
# Only the resolver (lib/dns.c) sees libunbound's header and flags.
milter/lib/dns.o $(SAN_DIR)/milter/lib/dns.o: FLOOR_FLAGS = $(LIB_FLAGS) \
	$(UNBOUND_CFLAGS)
# hiredis's flags for the one file that includes it.
milter/lib/store_redis.o $(SAN_DIR)/milter/lib/store_redis.o: FLOOR_FLAGS = \
	$(LIB_FLAGS) $(HIREDIS_CFLAGS)
# Only the glue sees libmilter's headers; the process reaches libmilter
# through it (milter.h).
MAIN_FLAGS = $(NO_MILTER)
milter/milter.o $(SAN_DIR)/milter/milter.o: FLOOR_FLAGS = $(MILTER_CFLAGS)
milter/main.o $(SAN_DIR)/milter/main.o: FLOOR_FLAGS = $(MAIN_FLAGS)

UNIT_TESTS = \
	tests/unit/check_codes \
	tests/unit/check_reply \
	tests/unit/check_match \
	tests/unit/check_bloom \
	tests/unit/check_config \
	tests/unit/check_policy \
	tests/unit/check_txn \
	tests/unit/check_stats \
	tests/unit/check_mta \
	tests/unit/check_script \
	tests/unit/check_dns \
	tests/unit/check_state

TEST_TOOLS = \
	tests/proto/mtclient

# make bench's floor: a milter with only an end-of-message callback; and
# the cost of one list lookup.
BENCH_TOOLS = \
	tests/bench/floor \
	tests/bench/lookup

# Fuzz targets: tests/fuzz/fuzz_NAME.c, corpus in tests/fuzz/corpus/NAME/.
FUZZ_TARGETS = \
	spec \
	reply \
	addr \
	sets \
	listfile \
	config \
	expand \
	script \
	dns \
	regex
FUZZ_BINS = $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%)
FUZZ_COMMON = tests/fuzz/standalone.c tests/fuzz/fuzz_util.c
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_CC ?= clang
FUZZ_OUT ?= $${TMPDIR:-/tmp}/replycode-milter-fuzz

PROG = replycode-milter

# The same sources built with AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc), every report fatal, in a folder of their own so that the normal
# build is not disturbed. make check runs the unit and protocol tests with
# them (tests/reliability/sanitizers.sh).
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SAN_POLICY_OBJS = $(POLICY_OBJS:%=$(SAN_DIR)/%)
SAN_MILTER_OBJS = $(MILTER_OBJS:%=$(SAN_DIR)/%)
SAN_BINS = $(SAN_DIR)/$(PROG) $(UNIT_TESTS:%=$(SAN_DIR)/%) \
	$(TEST_TOOLS:%=$(SAN_DIR)/%)

all: $(PROG)

$(PROG): $(POLICY_OBJS) $(MILTER_OBJS)
	$(CC) $(ALL_CFLAGS) $(MILTER_CFLAGS) $(LDFLAGS) -o $@ $(POLICY_OBJS) \
		$(MILTER_OBJS) $(CORE_LIBS) $(MILTER_LIBS)

milter/%.o: milter/%.c $(HDRS)
	$(CC) $(ALL_CPPFLAGS) $(FLOOR_FLAGS) $(ALL_CFLAGS) -c -o $@ $<

tests/unit/%: tests/unit/%.c $(POLICY_OBJS) $(HDRS) tests/unit/load.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ \
		$< $(POLICY_OBJS) $(CHECK_LIBS) $(CORE_LIBS)

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON) tests/fuzz/fuzz.h \
		$(POLICY_OBJS) $(HDRS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(FUZZ_COMMON) \
		$(POLICY_OBJS) $(CORE_LIBS)

tests/proto/mtclient: tests/proto/mtclient.c milter/lib/script.o
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(MILTER_CFLAGS) $(LDFLAGS) -o $@ \
		$< milter/lib/script.o -lpthread

tests/bench/floor: tests/bench/floor.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(MILTER_CFLAGS) $(LDFLAGS) -o $@ \
		$< $(MILTER_LIBS) -lpthread

tests/bench/lookup: tests/bench/lookup.c $(LIB_SRCS:.c=.o)
	$(CC) $(ALL_CPPFLAGS) $(NO_MILTER) $(PCRE2_CFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ \
		$< $(LIB_SRCS:.c=.o) $(CORE_LIBS)

san: $(SAN_BINS)

$(SAN_DIR)/milter/%.o: milter/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(FLOOR_FLAGS) $(ALL_CFLAGS) $(SAN_FLAGS) \
		-c -o $@ $<

$(SAN_DIR)/$(PROG): $(SAN_POLICY_OBJS) $(SAN_MILTER_OBJS)
	$(CC) $(ALL_CFLAGS) $(MILTER_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ \
		$(SAN_POLICY_OBJS) $(SAN_MILTER_OBJS) $(CORE_LIBS) $(MILTER_LIBS)

$(SAN_DIR)/tests/unit/%: tests/unit/%.c $(SAN_POLICY_OBJS) $(HDRS) \
		tests/unit/load.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SAN_FLAGS) $(CHECK_CFLAGS) \
		$(LDFLAGS) -o $@ $< $(SAN_POLICY_OBJS) $(CHECK_LIBS) $(CORE_LIBS)

$(SAN_DIR)/tests/proto/mtclient: tests/proto/mtclient.c \
		$(SAN_DIR)/milter/lib/script.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(MILTER_CFLAGS) $(SAN_FLAGS) \
		$(LDFLAGS) -o $@ $< $(SAN_DIR)/milter/lib/script.o -lpthread

# Set-up first (packages), then a fresh make so that pkg-config sees them.
check: deps-check
	@$(MAKE) --no-print-directory check-run

# The reliability suites run in make check too (RELIABILITY.md); libFuzzer
# gets CHECK_FUZZ_SECONDS per target there, its scratch folder removed
# unless it found something.
CHECK_FUZZ_SECONDS ?= 20

check-run: $(PROG) $(UNIT_TESTS) $(TEST_TOOLS) $(FUZZ_BINS) $(SAN_BINS)
	@$(FUZZ_ENV) FUZZ_SECONDS='$(CHECK_FUZZ_SECONDS)' FUZZ_CLEAN=1 \
		FUZZ_OUT="$$(mktemp -d "$${TMPDIR:-/tmp}/rcm-fuzz.XXXXXX")" \
		tests/run-all.sh $(UNIT_TESTS) tests/fuzz/regress.sh

# What a package build runs (debian/rules): the Check unit tests and the
# fuzz corpus regression, which need no root, no MTA and no network.
check-unit: $(UNIT_TESTS) $(FUZZ_BINS)
	@tests/run-all.sh --only $(UNIT_TESTS) tests/fuzz/regress.sh

# The golden transactions of replycode-milter --simulate (also in check).
check-simulate: $(PROG)
	@tests/simulate/run.sh

# Every fuzz target, built with the project's compiler and flags, run once
# over each file of its corpus: the crashes found so far stay fixed.
fuzz-regress: $(FUZZ_BINS)
	@tests/fuzz/regress.sh

# Real fuzzing (needs clang and libFuzzer; does not touch the corpus in
# the repo: new inputs and crashes go to FUZZ_OUT).
FUZZ_ENV = FUZZ_CC='$(FUZZ_CC)' FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_JOBS='$(FUZZ_JOBS)' \
	FUZZ_OUT="$(FUZZ_OUT)" FUZZ_LIBS='$(CORE_LIBS)' FUZZ_CORE='$(POLICY_SRCS)' \
	FUZZ_CFLAGS='-std=gnu11 $(WARNINGS) $(NO_MILTER) $(PCRE2_CFLAGS) \
	$(CONFUSE_CFLAGS) -Imilter -D_GNU_SOURCE'

fuzz: deps-build
	@$(FUZZ_ENV) tests/fuzz/fuzz.sh $(FUZZ_TARGETS)

run: deps-build
	@$(MAKE) --no-print-directory $(PROG)
	./$(PROG) -f -c conf/replycode-milter.conf -p inet:8890@127.0.0.1 \
		$$([ "$$(id -u)" = 0 ] && echo -u nobody)

bench: deps-bench
	@$(MAKE) --no-print-directory $(PROG) $(TEST_TOOLS) $(BENCH_TOOLS)
	tests/bench/run.sh

demo: deps-check
	@$(MAKE) --no-print-directory $(PROG) $(TEST_TOOLS)
	tests/e2e/demo.sh

deps-build:
	@packaging/deps.sh build

deps-check:
	@packaging/deps.sh check

deps-deb:
	@packaging/deps.sh deb

deps-bench:
	@packaging/deps.sh bench

MANPAGES = \
	packaging/man/replycode-milter.8 \
	packaging/man/replycode-milter.conf.5
EXAMPLES = $(wildcard conf/examples/*)
CONF = $(DESTDIR)$(SYSCONFDIR)/replycode-milter/replycode-milter.conf

# The config is never overwritten: when one is there and differs from the
# shipped one, the shipped one goes next to it as .conf.new.
install: $(PROG)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(EXAMPLESDIR) \
		$(DESTDIR)$(SYSCONFDIR)/replycode-milter
	install -m 0755 $(PROG) $(DESTDIR)$(SBINDIR)/$(PROG)
	install -m 0644 packaging/man/replycode-milter.8 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 packaging/man/replycode-milter.conf.5 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(EXAMPLESDIR)
	@if [ ! -e $(CONF) ]; then \
		install -m 0644 conf/replycode-milter.conf $(CONF); \
	elif cmp -s conf/replycode-milter.conf $(CONF); then \
		echo "install: $(CONF) is the shipped one already"; \
	else \
		install -m 0644 conf/replycode-milter.conf $(CONF).new; \
		echo "install: $(CONF) is yours: left as it is;" \
			"the shipped one is $(CONF).new"; \
	fi

# Exactly what install added: a config only while it is the shipped one
# (an edited one stays, and this says so); the package's own folders when
# they are empty; shared folders (sbin, man5, man8) stay.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/$(PROG) \
		$(DESTDIR)$(MANDIR)/man8/replycode-milter.8 \
		$(DESTDIR)$(MANDIR)/man5/replycode-milter.conf.5 \
		$(addprefix $(DESTDIR)$(EXAMPLESDIR)/,$(notdir $(EXAMPLES)))
	@for f in $(CONF) $(CONF).new; do \
		if [ ! -e "$$f" ]; then \
			:; \
		elif cmp -s conf/replycode-milter.conf "$$f"; then \
			echo "rm -f $$f"; rm -f "$$f"; \
		else \
			echo "uninstall: $$f is not the shipped config: kept"; \
		fi; \
	done
	@for d in $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/replycode-milter; do \
		if [ -d "$$d" ] && rmdir "$$d" 2>/dev/null; then \
			echo "rmdir $$d"; \
		fi; \
	done

# The .deb, .buildinfo and .changes go to DEB_OUT (default: here).
DEB_OUT ?= .
deb: deps-deb
	@packaging/build-deb.sh $(DEB_OUT)

clean:
	rm -f $(PROG) milter/*.o milter/*/*.o $(UNIT_TESTS) $(TEST_TOOLS) $(FUZZ_BINS) \
		$(BENCH_TOOLS)
	rm -f replycode-milter*_*.deb replycode-milter_*.buildinfo \
		replycode-milter_*.changes
	rm -rf $(SAN_DIR)

.PHONY: all check check-run check-unit check-simulate fuzz-regress fuzz san run bench demo \
	deps-build deps-check deps-deb deps-bench install uninstall deb clean
