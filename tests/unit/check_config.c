/*
 * check_config.c - unit tests for the config loader (milter/config/).
 *
 * Each case writes a small config (and list files) into a fresh temporary
 * directory and loads it. A bad config must not load, and one diagnostic
 * must carry the exact "FILE:LINE:" and the key phrase. A warning must let
 * the config load, and stop it under strict = true. Good configs are
 * checked in the compiled policy: stages, conditions, slots, defaults.
 * Every config shipped in conf/ must load with no error and no warning.
 * The reply lint through the loader: every pair of the practice table and
 * every pair a finding suggests loads clean under strict = true, --explain
 * says what the loader says, and text that cannot go out whole is refused.
 *
 * Must never depend on libmilter or on a running MTA.
 */
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/cond.h"
#include "core/explain.h"
#include "core/policy.h"

#define NCASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char tmpdir[256];
static char cpath[512];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_config.XXXXXX");
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
	snprintf(cpath, sizeof(cpath), "%s/test.conf", tmpdir);
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static void write_file(const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* All diagnostics, one a line, for failure messages. */
static const char *all_diags(const struct diags *d)
{
	static char buf[8192];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->count && o < sizeof(buf) - 1; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\n    [%s] %s",
				      d->item[i].error  ? "E"
				      : d->item[i].note ? "N"
							: "W",
				      d->item[i].text);
	return d->count ? buf : " (none)";
}

/* Is there a diagnostic of that kind with "FILE:LINE:" and phrase? */
static bool has_diag(const struct diags *d, bool error, int line,
		     const char *phrase)
{
	char where[600];

	snprintf(where, sizeof(where), "%s:%d: ", cpath, line);
	for (size_t i = 0; i < d->count; i++)
		if (d->item[i].error == error &&
		    strncmp(d->item[i].text, where, strlen(where)) == 0 &&
		    strstr(d->item[i].text, phrase) != NULL)
			return true;
	return false;
}

/* --- configs that must not load -------------------------------------- */

struct bad_case {
	const char *conf;
	int line;
	const char *phrase;
	const char *file; /* another file to write first, or NULL */
	const char *file_text;
};

#define R(body) "rule \"r\" {\n" body "}\n"

static const struct bad_case bad_cases[] = {
    /* 0: libconfuse's own error, with its line */
    {.conf = R("  stage = rcpt\n  verdict = reject\n  bogus = 1\n"),
     4,
     "no such option 'bogus'"},
    {.conf = R("  stage = rpct\n  verdict = reject\n"),
     2,
     "stage \"rpct\" is not one of connect, helo"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n  reply = \"550 4.7.1\"\n"),
     4,
     "class 4"},
    {.conf = R("  stage = rcpt\n  verdict = accept\n  reply = \"550 5.7.1\"\n"),
     4,
     "an accept rule sends no reply"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n"
	       "  text = \"no ${recipient} here\"\n"),
     4,
     "${...} is expanded by the config parser as an environment "
     "variable; write $name"},
    /* 5 */
    {.conf = R("  stage = rcpt\n  verdict = reject\n"
	       "  text = \"who is $unknown\"\n"),
     4,
     "unknown placeholder $unknown"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  sender = { \"a@example.com\" }\n"),
     4,
     "sender cannot be used at stage connect"},
    {.conf =
	 R("  stage = header\n  verdict = reject\n  header = \"Subject\"\n"),
     4,
     "header needs header_regex"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  client_address = {\n    \"192.0.2.0/24\",\n"
	       "    \"192.0.2.0/33\"\n  }\n"),
     6,
     "client_address: \"192.0.2.0/33\""},
    {.conf = R("  stage = helo\n  verdict = reject\n"
	       "  helo_regex = { \"^ok$\", \"a(b\" }\n"),
     4,
     "helo_regex: \"a(b\": at offset 3: missing closing parenthesis"},
    /* 10 */
    {.conf = R("  stage = mail\n  verdict = reject\n"
	       "  sender = { \"list:nope\" }\n"),
     4,
     "no list \"nope\" is defined"},
    {.conf = "list \"doms\" {\n  type = domain\n  entries = { \"example.com\" "
	     "}\n}\n" R("  stage = connect\n  verdict = reject\n"
			"  client_address = { \"list:doms\" }\n"),
     8,
     "client_address wants an address list, but list \"doms\" is a "
     "domain list"},
    {.conf = "list \"senders\" {\n  type = email\n  file = \"bad.txt\"\n}\n" R(
	 "  stage = mail\n  verdict = reject\n"
	 "  sender = { \"list:senders\" }\n"),
     3,
     "bad.txt:3: \"not an address\"",
     "bad.txt",
     "# blocked senders\na@example.com\nnot an address\n"},
    {.conf =
	 R("  stage = rcpt\n  verdict = reject\n") R("  stage = mail\n"
						     "  verdict = reject\n"),
     5,
     "duplicate rule name \"r\" (first at line 1)"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n"
	       "  text = \"bad\\x01byte\"\n"),
     4,
     "byte 0x01"},
    /* 15 */
    {.conf = R("  stage = rcpt\n  verdict = reject\n"
	       "  text = { \"fine\", \"carriage\\rreturn\" }\n"),
     4,
     "byte 0x0d"},
    {.conf = NULL,
     4,
     "text takes up to 33 reply lines, wrapped at 512 octets a line, with "
     "room for Sendmail's \"<address>... \" on the first; a reply has at "
     "most 32, so it would be cut"},
    {.conf = NULL, 4, "text has 33 lines; a reply has at most 32"},
    {.conf = R("  stage = eom\n  verdict = continue\n"
	       "  add_header = { \"X-Ok: 1\",\n  \"X-Policy matched\" }\n"),
     5,
     "add_header \"X-Policy matched\": want \"Name: value\""},
    {.conf = R("  stage = connect\n  verdict = discard\n"),
     3,
     "discard cannot be used at stage connect"},
    /* 20 */
    {.conf = "# socket\nsocket = \"inet:localhost:8890\"\n",
     2,
     "socket \"inet:localhost:8890\": want a port number"},
    {.conf = "include(\"other.conf\")\n", 1, "include() is not supported"},
    {.conf = R("  stage = rcpt\n"), 1, "verdict is missing"},
    {.conf = "rule \"empty\" {\n}\n", 1, "stage is missing"},
    {.conf = R("  stage = helo\n  verdict = reject\n"
	       "  recipient_domain = { \"example.com\" }\n"),
     4,
     "recipient_domain cannot be used at stage helo"},
    /* 25 */
    {.conf = R("  stage = rcpt\n  verdict = reject\n"
	       "  body_regex = { \"viagra\" }\n"),
     4,
     "body_regex cannot be used at stage rcpt"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  helo = { \"localhost\" }\n"),
     4,
     "helo cannot be used at stage connect"},
    {.conf = R("  stage = helo\n  verdict = reject\n  authenticated = false\n"),
     4,
     "authenticated cannot be used at stage helo"},
    {.conf = R("  stage = helo\n  verdict = reject\n  min_size = \"10M\"\n"),
     4,
     "min_size cannot be used at stage helo"},
    {.conf = R("  stage = mail\n  verdict = reject\n  min_size = \"10X\"\n"),
     4,
     "min_size \"10X\": want a number of bytes"},
    /* 30 */
    {.conf = R("  stage = rcpt\n  verdict = reject\n  verdict = tempfail\n"),
     4,
     "verdict is set twice (also at line 3)"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n  text = \"cost: $5\"\n"),
     4,
     "unknown placeholder $5"},
    {.conf = R("  stage = eom\n  verdict = quarantine\n"
	       "  text = { \"one\", \"two\" }\n"),
     4,
     "the text of a quarantine rule is the reason, one line"},
    {.conf = "list \"l\" {\n  type = address\n}\n",
     1,
     "the list has neither entries nor file"},
    {.conf = "on_error {\n  verdict = drop\n}\n",
     2,
     "on_error: error: verdict \"drop\" is not one of tempfail"},
    /* 35 */
    {.conf = "timeout = 0\n", 1, "timeout 0: want 1 to 3600 seconds"},
    {.conf = R("  stage = header\n  verdict = reject\n  header = \"Sub ject\"\n"
	       "  header_regex = { \"x\" }\n"),
     4,
     "header \"Sub ject\" is not a header field name"},
    {.conf = R("  stage = eom\n  verdict = discard\n  text = \"gone\"\n"),
     4,
     "a discard rule sends no text"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n  recipient = {}\n"),
     4,
     "recipient = {} has no entries"},
    {.conf =
	 R("  stage = mail\n  verdict = tempfail\n  reply = \"550 5.7.1\"\n"),
     4,
     "tempfail"},
    /* 40 */
    {.conf = R("  stage = rcpt\n  verdict = reject\n"
	       "  recipient = { \"file:missing.txt\" }\n"),
     4,
     "missing.txt"},
    {.conf = R("  stage = eom\n  verdict = continue\n"
	       "  add_header = { \"X-A: b\\x02c\" }\n"),
     4,
     "byte 0x02"},
    {.conf = R("  stage = mail\n  verdict = reject\n  reply = \"55O\"\n"),
     4,
     "reply \"55O\""},
    {.conf = R("  stage = body\n  verdict = reject\n"
	       "  not_body_regex = { \"x\" }\n"),
     4,
     "no such option 'not_body_regex'"},
    {.conf = R("  stage = rcpt\n  verdict = accept\n  text = \"hi\"\n"),
     4,
     "an accept rule sends no text"},
    /* 45: line numbers stay right after comments of every kind */
    {.conf = "# one\n// two\n/* three\n   four */\nrule \"r\" { # five\n"
	     "  stage = rcpt // six\n  verdict = reject /* seven */\n"
	     "  nonsense = 1\n}\n",
     8,
     "no such option 'nonsense'"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n  mode = \"test\"\n"),
     4,
     "mode \"test\" is not enforce or dry-run"},
    {.conf = R("  stage = mail\n  verdict = reject\n"
	       "  log = \"from $sender to $recipients\"\n"),
     4,
     "unknown placeholder $recipients"},
    /* 50 */
    {.conf = R("  stage = rcpt\n  verdict = reject\n  text = \"a $ sign\"\n"),
     4,
     "'$' at position 3 starts no placeholder; write $$ for a '$'"},
    {.conf = "rule \"a b\" {\n  stage = rcpt\n  verdict = reject\n}\n",
     1,
     "a rule name is 1 to 64 letters"},
    {.conf = "socket_mode = \"rw\"\n", 1, "socket_mode \"rw\": want an octal"},
    /* a file cut short: every unclosed block, list or string names the
     * line where it opened */
    {.conf = R("  stage = rcpt\n  verdict = reject\n") "rule \"b\" {\n"
	     "  stage = rcpt\n  verdict = reject\n",
     5,
     "rule \"b\", opened with \"{\" at line 5, is never closed (the file "
     "ends first)"},
    {.conf = "rule \"a\" {\n  stage = rcpt\n  verdict = reject\n"
	     "  text = { \"abc\", \"d\"\n}\n",
     1,
     "rule \"a\", opened with \"{\" at line 1, is never closed"},
    {.conf = "list \"l\" {\n  type = domain\n  entries = { \"a.example\"\n",
     3,
     "the list of entries, opened with \"{\" at line 3, is never closed"},
    {.conf = "rule \"a\" {\n  stage = rcpt\n  verdict = reject\n"
	     "  text = \"abc\n}\n",
     4,
     "the string opened with \" at line 4 is never closed"},
    {.conf = R("  stage = rcpt\n  verdict = reject\n") "}\n",
     5,
     "\"}\" closes nothing that is open"},
    {.conf = "/* a comment\n" R("  stage = rcpt\n  verdict = reject\n"),
     1,
     "comment \"/*\" is never closed"},
    /* body_match_span: a size from 1K to 1M */
    {.conf = "mode = enforce\nbody_match_span = \"1023\"\n",
     2,
     "body_match_span \"1023\": want 1K to 1M octets"},
    {.conf = "body_match_span = \"2M\"\n",
     1,
     "body_match_span \"2M\": want 1K to 1M octets"},
    {.conf = "body_match_span = \"64KB\"\n",
     1,
     "body_match_span \"64KB\": want 1K to 1M octets"},
    {.conf = "body_match_span = \"\"\n",
     1,
     "body_match_span \"\": want 1K to 1M octets"},
    {.conf = "body_match_span = \"99999999999999999999K\"\n",
     1,
     "body_match_span \"99999999999999999999K\": want 1K"},
    {.conf = "body_match_span = \"-1\"\n", 1, "body_match_span \"-1\""},
    /* a body regex is searched in pieces: no \G */
    {.conf = R("  stage = body\n  verdict = reject\n"
	       "  body_regex = { \"\\\\Gx\" }\n"),
     4,
     "\\G depends on where a search starts"},
    /* the Received: count (cond_received.c) */
    {.conf = R("  stage = mail\n  verdict = reject\n  min_received = 30\n"),
     4,
     "min_received cannot be used at stage mail: Received: headers are "
     "counted from stage header on"},
    {.conf = R("  stage = eoh\n  verdict = reject\n  min_received = 9\n"
	       "  max_received = 3\n"),
     5,
     "max_received 3 is less than min_received 9: the rule would never "
     "match"},
    {.conf = R("  stage = eoh\n  verdict = reject\n  max_received = -1\n"),
     4,
     "a number of Received: headers cannot be negative"},
    /* DNS lists (core/dnsq.c): each bad entry at its own line */
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  client_dnsbl = { \"zen.example\",\n"
	       "    \"bad zone.example\" }\n"),
     5,
     "client_dnsbl: \"bad zone.example\": zone: not a domain name: the "
     "octet ' ' at position 4"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  client_dnsbl = { \"zen.example=127.0.0.[4..x]\" }\n"),
     4,
     "answer \"127.0.0.[4..x]\": want four octets"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  client_dnsbl = { \"zen.example*0\" }\n"),
     4,
     "weight \"0\": want a whole number from -1000 to 1000, not 0"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  client_dnsbl = { \"a.example*2\", \"b.example\" }\n"
	       "  client_dnsbl_threshold = 4\n"),
     5,
     "client_dnsbl_threshold 4: want 1 to 3"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  sender_rhsbl = { \"dbl.example\" }\n"),
     4,
     "sender_rhsbl cannot be used at stage connect: the sender is known "
     "from stage mail on"},
    {.conf = "dns_resolver = \"192.0.2.1@99999\"\n",
     1,
     "dns_resolver: \"192.0.2.1@99999\": want a port 1..65535"},
    {.conf = "dns_resolver = \"my-resolver\"\n",
     1,
     "is not \"system\", \"recursive\" or an IP address"},
    {.conf = "dns_error = defer\n", 1,
     "dns_error \"defer\" is not ignore or tempfail"},
    {.conf = "dns_timeout = 0\n", 1, "dns_timeout 0: want 1 to 300"},
    {.conf = R("  stage = connect\n  verdict = reject\n"
	       "  client_dnsbl = { \"zen\" }\n"),
     4,
     "a zone of one label is a top-level domain"},
    /* rate limits (cond_ratelimit.c) */
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  rate_limit = 10\n"
	       "  rate_key = \"sender\"\n"),
     4,
     "a rate limit needs rate_limit, rate_window and rate_key (rate_event "
     "is messages when not given); rate_window is missing"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  rate_limit = 10\n"
	       "  rate_window = \"1m\"\n  rate_key = \"client_ip\"\n"),
     6,
     "rate_key \"client_ip\" is not one of client_address, client_network"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  rate_limit = 10\n"
	       "  rate_window = \"1 minute\"\n  rate_key = \"helo\"\n"),
     5,
     "rate_window \"1 minute\": want a duration from 1s to 366d"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  rate_limit = \"ten\"\n"
	       "  rate_window = \"1m\"\n  rate_key = \"helo\"\n"),
     4,
     "rate_limit \"ten\": want a number of messages"},
    {.conf = R("  stage = connect\n  verdict = tempfail\n  rate_limit = 5\n"
	       "  rate_window = \"1m\"\n  rate_key = \"client_address\"\n"
	       "  rate_event = \"messages\"\n"),
     7,
     "rate_event messages cannot be used at stage connect"},
    /* 5 */
    {.conf = R("  stage = mail\n  verdict = tempfail\n  rate_limit = 5\n"
	       "  rate_window = \"1d\"\n  rate_key = \"recipient\"\n"),
     6,
     "rate_key recipient cannot be used at stage mail: it is known from "
     "stage rcpt on"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  rate_limit = 5\n"
	       "  rate_window = \"1d\"\n  rate_key = \"recipient\"\n"),
     6,
     "rate_key recipient counts recipients only"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  rate_limit = 5\n"
	       "  rate_window = \"1d\"\n  rate_key = \"helo\"\n"
	       "  rate_event = \"mails\"\n"),
     7,
     "rate_event \"mails\" is not one of connections, messages, "
     "recipients, octets"},
    /* greylisting (cond_greylist.c) */
    {.conf = R("  stage = rcpt\n  verdict = reject\n  greylist = true\n"),
     4,
     "greylisting asks the sender to retry: its rule's verdict is tempfail"},
    {.conf = R("  stage = mail\n  verdict = tempfail\n  greylist = true\n"),
     4,
     "greylist cannot be used at stage mail"},
    /* 10 */
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n"
	       "  greylist_delay = \"5m\"\n"),
     4,
     "greylist_delay needs greylist = true"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  greylist = true\n"
	       "  greylist_delay = \"5x\"\n"),
     5,
     "greylist_delay \"5x\": want a duration from 1s to 1d"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n  greylist = true\n"
	       "  greylist_allowlist_after = -1\n"),
     5,
     "greylist_allowlist_after -1: want 0 (never) to 1000000 passes"},
    {.conf = R("  stage = rcpt\n  verdict = tempfail\n"
	       "  text = \"try again in $retry_in\"\n"),
     1,
     "$retry_in has a value only in a rule with a greylist condition"},
    {.conf = "state = \"var/lib/replycode-milter\"\n",
     1,
     "state \"var/lib/replycode-milter\": want the absolute path of a "
     "directory"},
    /* 15 */
    {.conf = "\nstate = \"redis://:6379\"\n",
     2,
     "state \"redis://:6379\": want redis://HOST[:PORT][/DB]"},
    {.conf = "state_error = \"accept\"\n",
     1,
     "state_error \"accept\" is not ignore or tempfail"},
    {.conf = "state_timeout = \"2h\"\n",
     1,
     "state_timeout \"2h\": want 10ms to 60s"},
};

/* Cases whose text is built: too long a line, too many lines. */
static void build_conf(int i, char *buf, size_t len)
{
	size_t o;

	if (i == 16) {
		/* 32 lines that fit 500 octets each, but the first must keep
		 * room for Sendmail's "<recipient>... ": 33 wire lines */
		char line[496];
		memset(line, 'x', 495);
		line[495] = '\0';
		o = (size_t)snprintf(buf, len,
				     "rule \"r\" {\n  stage = rcpt\n  verdict = "
				     "reject\n  text = {");
		for (int k = 0; k < 32; k++)
			o += (size_t)snprintf(buf + o, len - o, "%s\"%s\"",
					      k ? ",\n" : " ", line);
		snprintf(buf + o, len - o, " }\n}\n");
		return;
	}
	o = (size_t)snprintf(
	    buf, len,
	    "rule \"r\" {\n  stage = rcpt\n  verdict = reject\n"
	    "  text = {");
	for (int k = 0; k < 33; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s\"line %d\"",
				      k ? ", " : " ", k + 1);
	snprintf(buf + o, len - o, " }\n}\n");
}

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct diags d = {0};
	struct policy *p = (struct policy *)1;
	static char conf[32768];
	int rc;

	if (c->conf == NULL)
		build_conf(_i, conf, sizeof(conf));
	else
		snprintf(conf, sizeof(conf), "%s", c->conf);
	write_file("test.conf", conf);
	if (c->file != NULL)
		write_file(c->file, c->file_text);
	rc = config_load(cpath, &p, NULL, &d);
	ck_assert_msg(rc == -1, "case %d: got rc %d, want -1; diags:%s", _i, rc,
		      all_diags(&d));
	ck_assert_msg(p == NULL, "case %d: got a policy, want NULL", _i);
	ck_assert_msg(d.nerrors > 0, "case %d: got no error count, want >0",
		      _i);
	ck_assert_msg(has_diag(&d, true, c->line, c->phrase),
		      "case %d: want an error at line %d with \"%s\"; got:%s",
		      _i, c->line, c->phrase, all_diags(&d));
	diags_free(&d);
}
END_TEST

/* --- warnings: load, and fail under strict = true -------------------- */

struct warn_case {
	const char *conf; /* its first line is replaced by "strict = true" */
	int line;
	const char *phrase;
};

static const struct warn_case warn_cases[] = {
    {.conf = "#\n" R("  stage = rcpt\n  verdict = reject\n  rate_limit = 9\n"
		     "  rate_window = \"1h\"\n  rate_key = \"sender\"\n"),
     5,
     "a rate limit passes with time: a reject (5xx) bounces mail"},
    {.conf = "#\n" R("  stage = rcpt\n  verdict = tempfail\n"
		     "  reply = \"452 4.2.2\"\n  greylist = true\n"),
     6,
     "reply 452 4.2.2: 452 says the server is out of storage"},
    {.conf = "#\n" R("  stage = helo\n  verdict = reject\n  reply = \"552\"\n"),
     5,
     "552 (\"Requested mail action aborted: exceeded storage "
     "allocation\") does not fit a rule at the helo stage: use 554 5.3.4"},
    {.conf = "#\n" R(
	 "  stage = rcpt\n  verdict = reject\n") "rule \"b\" {\n  stage = "
						 "rcpt\n  verdict = reject\n"
						 "  recipient = { "
						 "\"a@example.com\" }\n}\n",
     6,
     "rule b can never match: rule r before it at stage rcpt matches "
     "everything"},
    {.conf = "#\n" R("  stage = eom\n  verdict = continue\n"),
     2,
     "a continue rule with no add_header and no log does nothing"},
    {.conf = "#\non_error {\n  verdict = accept\n}\n",
     3,
     "verdict accept fails open: mail is accepted unfiltered when the "
     "milter breaks"},
    {.conf = "#\n" R(
	 "  stage = eom\n  verdict = reject\n  reply = \"550 5.7.606\"\n"),
     5,
     "enhanced code 5.7.606 is unregistered: it is Microsoft 365's own "
     "code"},
    /* 5 */
    {.conf =
	 "#\nlist \"spare\" {\n  type = domain\n  entries = { \"a.example\" }\n"
	 "}\n",
     2,
     "the list is not used by any rule"},
    {.conf = "#\n" R("  stage = rcpt\n  verdict = reject\n"
		     "  add_header = { \"X-A: b\" }\n"),
     5,
     "add_header does nothing on a reject rule"},
    /* a connect rule's reply is about the client: 552 does not fit */
    {.conf = "#\n" R("  stage = connect\n  verdict = reject\n"
		     "  client_address = { \"192.0.2.1\" }\n"
		     "  reply = \"552 5.3.4\"\n"),
     6,
     "does not fit a rule at the connect stage"},
    {.conf = "#\nlist \"d\" {\n  type = domain\n"
	     "  entries = { \"a.example\" }\n  case_sensitive = true\n}\n" R(
		 "  stage = mail\n  verdict = reject\n"
		 "  sender_domain = { \"list:d\" }\n"),
     5,
     "case_sensitive has no effect on a domain list"},
    {.conf = "#\nlist \"e\" {\n  type = email\n"
	     "  entries = { \"A@example.com\" }\n  case_sensitive = true\n"
	     "}\n" R("  stage = mail\n  verdict = reject\n"
		     "  sender = { \"list:e\", \"b@example.com\" }\n"),
     10,
     "sender mixes the case_sensitive list \"e\" with other entries"},
};

START_TEST(test_warn)
{
	const struct warn_case *c = &warn_cases[_i];
	struct diags d = {0};
	struct policy *p = NULL;
	char conf[4096];
	int rc;

	write_file("test.conf", c->conf);
	rc = config_load(cpath, &p, NULL, &d);
	ck_assert_msg(rc == 0, "case %d: got rc %d, want 0; diags:%s", _i, rc,
		      all_diags(&d));
	ck_assert_msg(p != NULL && p->refs == 1,
		      "case %d: want a policy with one reference", _i);
	ck_assert_msg(has_diag(&d, false, c->line, c->phrase),
		      "case %d: want a warning at line %d with \"%s\"; got:%s",
		      _i, c->line, c->phrase, all_diags(&d));
	ck_assert_msg(d.nwarnings >= 1 && p->nwarnings == d.nwarnings,
		      "case %d: got %zu warnings (policy %zu), want >=1 and "
		      "equal",
		      _i, d.nwarnings, p->nwarnings);
	policy_free(&p);
	diags_free(&d);

	/* the same under strict = true: an error, and no policy */
	snprintf(conf, sizeof(conf), "strict = true%s", strchr(c->conf, '\n'));
	write_file("test.conf", conf);
	rc = config_load(cpath, &p, NULL, &d);
	ck_assert_msg(rc == -1 && p == NULL,
		      "case %d strict: got rc %d, want -1; diags:%s", _i, rc,
		      all_diags(&d));
	ck_assert_msg(has_diag(&d, true, c->line, c->phrase),
		      "case %d strict: want an error at line %d with \"%s\"; "
		      "got:%s",
		      _i, c->line, c->phrase, all_diags(&d));
	diags_free(&d);
}
END_TEST

/* hold_early_verdicts: the connect rule's reply is checked against RCPT */
START_TEST(test_hold_early_clean)
{
	struct diags d = {0};
	struct policy *p = NULL;
	int rc;

	write_file("test.conf", "hold_early_verdicts = true\n" R(
				    "  stage = connect\n  verdict = reject\n"
				    "  client_address = { \"192.0.2.1\" }\n"));
	rc = config_load(cpath, &p, NULL, &d);
	ck_assert_msg(rc == 0 && d.count == 0,
		      "got rc %d, diags:%s; want 0 and none", rc,
		      all_diags(&d));
	ck_assert_msg(p->hold_early, "got hold_early false, want true");
	ck_assert_msg(p->need_stages & (1u << STAGE_RCPT),
		      "got need_stages 0x%x, want the rcpt bit",
		      p->need_stages);
	policy_free(&p);
	diags_free(&d);
}
END_TEST

/* --- configs that load: the compiled policy -------------------------- */

/* The settings of the last config load_ok() loaded. */
static struct settings set;

static struct policy *load_ok(const char *conf)
{
	struct diags d = {0};
	struct policy *p = NULL;
	int rc;

	write_file("test.conf", conf);
	settings_free(&set);
	rc = config_load(cpath, &p, &set, &d);
	ck_assert_msg(rc == 0 && p != NULL, "got rc %d, want 0; diags:%s", rc,
		      all_diags(&d));
	ck_assert_msg(d.nerrors == 0 && d.nwarnings == 0,
		      "got diagnostics, want notes at most:%s", all_diags(&d));
	diags_free(&d);
	return p;
}

static const struct rule *rule_named(const struct policy *p, const char *n)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, n) == 0)
			return &p->rules[i];
	ck_abort_msg("no rule %s in the policy", n);
	return NULL;
}

static void want_code(const struct reply_code *rc, int basic, int cls, int subj,
		      int det, const char *what)
{
	ck_assert_msg(rc->basic == basic && rc->enh_class == cls &&
			  rc->enh_subject == subj && rc->enh_detail == det,
		      "%s: got %d %d.%d.%d, want %d %d.%d.%d", what, rc->basic,
		      rc->enh_class, rc->enh_subject, rc->enh_detail, basic,
		      cls, subj, det);
}

START_TEST(test_defaults)
{
	struct policy *p = load_ok("# nothing but defaults\n");

	ck_assert_msg(
	    strcmp(set.socket,
		   "unix:/run/replycode-milter/replycode-milter.sock") == 0,
	    "socket: got %s", set.socket);
	ck_assert_msg(
	    set.user == NULL && set.group == NULL && set.pidfile == NULL,
	    "got user %s group %s pidfile %s, want NULL",
	    set.user ? set.user : "NULL", set.group ? set.group : "NULL",
	    set.pidfile ? set.pidfile : "NULL");
	ck_assert_msg(set.socket_mode == 0660, "socket_mode: got %o, want 660",
		      (unsigned)set.socket_mode);
	ck_assert_msg(set.timeout == 30, "timeout: got %d, want 30",
		      set.timeout);
	ck_assert_msg(p->body_span == 64 * 1024,
		      "body_match_span: got %zu, want 65536", p->body_span);
	ck_assert_msg(!p->strict && !p->hold_early &&
			  p->default_mode == MODE_ENFORCE,
		      "got strict %d hold %d mode %d, want 0 0 enforce",
		      p->strict, p->hold_early, p->default_mode);
	ck_assert_msg(p->nrules == 0 && p->refs == 1,
		      "got %zu rules, %d refs; want 0, 1", p->nrules, p->refs);
	ck_assert_msg(p->failure.verdict == VERDICT_TEMPFAIL,
		      "failure verdict: got %s, want tempfail",
		      verdict_name(p->failure.verdict));
	want_code(&p->failure.code, 451, 4, 3, 0, "failure code");
	ck_assert_msg(p->failure.rendered.nlines == 1 &&
			  strcmp(p->failure.rendered.line[0],
				 "Temporary internal error, try again "
				 "later") == 0 &&
			  strcmp(p->failure.rendered.basic, "451") == 0,
		      "failure reply: got %s %zu lines \"%s\"",
		      p->failure.rendered.basic, p->failure.rendered.nlines,
		      p->failure.rendered.line[0]);
	ck_assert_msg(p->need_stages == (1u << STAGE_CONNECT | 1u << STAGE_EOM),
		      "need_stages: got 0x%x, want connect and eom",
		      p->need_stages);
	policy_free(&p);
	settings_free(&set);
}
END_TEST

START_TEST(test_globals)
{
	struct policy *p =
	    load_ok("socket = \"inet:8890@127.0.0.1\"\nuser = \"mail\"\n"
		    "group = \"mail\"\nsocket_mode = \"0600\"\n"
		    "pidfile = \"/run/x.pid\"\nmode = dry-run\ntimeout = 120\n"
		    "body_match_span = \"1M\"\n"
		    "on_error {\n  verdict = reject\n  reply = \"550 5.3.0\"\n"
		    "  text = { \"Broken\", \"Sorry\" }\n}\n"
		    "rule \"a\" {\n  stage = rcpt\n  verdict = reject\n"
		    "  recipient = { \"a@example.com\" }\n}\n"
		    "rule \"b\" {\n  stage = mail\n  verdict = reject\n"
		    "  mode = enforce\n  sender = { \"<>\" }\n}\n");

	ck_assert_msg(strcmp(set.socket, "inet:8890@127.0.0.1") == 0 &&
			  strcmp(set.user, "mail") == 0 &&
			  strcmp(set.group, "mail") == 0 &&
			  strcmp(set.pidfile, "/run/x.pid") == 0,
		      "got socket %s user %s group %s pidfile %s", set.socket,
		      set.user, set.group, set.pidfile);
	ck_assert_msg(set.socket_mode == 0600 && set.timeout == 120,
		      "got mode %o timeout %d, want 600 120",
		      (unsigned)set.socket_mode, set.timeout);
	ck_assert_msg(p->body_span == 1024 * 1024,
		      "body_match_span: got %zu, want 1048576", p->body_span);
	ck_assert_msg(p->default_mode == MODE_DRY_RUN,
		      "got default mode %d, want dry-run", p->default_mode);
	ck_assert_msg(p->nrules == 2 && p->rules[0].mode == MODE_DRY_RUN &&
			  p->rules[1].mode == MODE_ENFORCE,
		      "got rule modes %d %d, want dry-run, enforce",
		      p->rules[0].mode, p->rules[1].mode);
	ck_assert_msg(p->failure.verdict == VERDICT_REJECT &&
			  p->failure.rendered.nlines == 2 &&
			  strcmp(p->failure.rendered.line[1], "Sorry") == 0,
		      "failure: got %s, %zu lines",
		      verdict_name(p->failure.verdict),
		      p->failure.rendered.nlines);
	want_code(&p->failure.code, 550, 5, 3, 0, "failure code");
	policy_free(&p);
	settings_free(&set);
}
END_TEST

/* What settings_diff() reports between two configs, in the config's order
 * of the options, values as the config writes them. */
static const struct {
	const char *was, *now;
	const char *want; /* "name:from:to;..." */
} diff_cases[] = {
    {"", "", ""},
    {"timeout = 30\n", "", ""},
    {"", "timeout = 120\nsocket_mode = \"0600\"\n",
     "socket_mode:0660:0600;timeout:30:120;"},
    {"user = \"mail\"\n", "group = \"mail\"\n", "user:mail:;group::mail;"},
    {"socket_mode = \"\"\npidfile = \"/run/a.pid\"\n",
     "socket = \"inet:8890@127.0.0.1\"\n",
     "socket:unix:/run/replycode-milter/replycode-milter.sock:inet:8890@127.0."
     "0.1;socket_mode::0660;pidfile:/run/a.pid:;"},
    /* policy options are no settings: they take effect on reload */
    {"",
     "strict = true\nmode = dry-run\nhold_early_verdicts = true\n"
     "body_match_span = \"1M\"\n",
     ""},
};

START_TEST(test_settings_diff)
{
	struct settings was = {0};
	struct setting_change c[SETTINGS_COUNT];
	struct policy *p;
	char got[1024] = "";
	size_t n;

	p = load_ok(diff_cases[_i].was);
	policy_free(&p);
	was = set;
	memset(&set, 0, sizeof(set));
	p = load_ok(diff_cases[_i].now);
	policy_free(&p);
	n = settings_diff(&was, &set, c);
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got),
			 "%s:%s:%s;", c[i].name, c[i].from, c[i].to);
	ck_assert_msg(strcmp(got, diff_cases[_i].want) == 0,
		      "case %d: got \"%s\", want \"%s\"", _i, got,
		      diff_cases[_i].want);
	ck_assert_msg(settings_diff(&set, &set, c) == 0,
		      "case %d: a config differs from itself", _i);
	settings_free(&was);
	settings_free(&set);
	ck_assert_msg(was.socket == NULL && set.socket == NULL,
		      "settings_free leaves a pointer");
}
END_TEST

/* Reply defaults: each half alone, and nothing at all. */
static const struct {
	const char *verdict, *reply; /* reply NULL: none given */
	int basic, cls, subj, det;
} reply_cases[] = {
    {"reject", "\"5.7.1\"", 550, 5, 7, 1},
    {"tempfail", "\"452\"", 452, 4, 3, 1},
    {"reject", NULL, 550, 5, 7, 1},
    {"tempfail", NULL, 451, 4, 7, 1},
    {"tempfail", "\"452 4.5.3\"", 452, 4, 5, 3},
    {"reject", "\" 550 5.1.1 \"", 550, 5, 1, 1},
};

START_TEST(test_reply_defaults)
{
	char conf[512], what[64];
	struct policy *p;
	const struct rule *r;

	snprintf(conf, sizeof(conf),
		 "rule \"r\" {\n  stage = rcpt\n  verdict = %s\n%s%s%s}\n",
		 reply_cases[_i].verdict,
		 reply_cases[_i].reply ? "  reply = " : "",
		 reply_cases[_i].reply ? reply_cases[_i].reply : "",
		 reply_cases[_i].reply ? "\n" : "");
	p = load_ok(conf);
	r = rule_named(p, "r");
	snprintf(what, sizeof(what), "case %d", _i);
	want_code(&r->code, reply_cases[_i].basic, reply_cases[_i].cls,
		  reply_cases[_i].subj, reply_cases[_i].det, what);
	/* no text, no placeholders: pre-rendered with the sample text */
	ck_assert_msg(
	    !r->has_placeholders && r->rendered.nlines == 1 &&
		r->rendered.basic[0] != '\0' && r->rendered.line[0][0] != '\0',
	    "case %d: got %zu rendered lines, want 1", _i, r->rendered.nlines);
	policy_free(&p);
}
END_TEST

START_TEST(test_conditions)
{
	struct policy *p;

	write_file("more.txt", "c@example.com\n");
	p = load_ok(
	    "list \"blocked\" {\n  type = email\n"
	    "  entries = { \"a@example.com\" }\n  file = \"more.txt\"\n}\n"
	    "list \"res\" {\n  type = regex\n  entries = { \"^x\" }\n"
	    "  case_sensitive = true\n}\n"
	    "rule \"one\" {\n  stage = rcpt\n  verdict = reject\n"
	    "  client_address = { \"192.0.2.0/24\", \"2001:db8::/32\" }\n"
	    "  not_client_name = { \"unknown\", \".dyn.example.net\" }\n"
	    "  sender = { \"list:blocked\", \"<>\" }\n"
	    "  not_recipient_domain = { \"example.org\" }\n"
	    "  min_recipients = 2\n  tls = false\n"
	    "  text = { \"Go away, $client_addr\", \"100$$ sure\" }\n}\n"
	    "rule \"two\" {\n  stage = eom\n  verdict = quarantine\n"
	    "  recipient = { \"b@example.com\" }\n"
	    "  recipient_regex = { \"list:res\" }\n"
	    "  body_regex = { \"viagra\" }\n  max_size = \"10M\"\n"
	    "  authenticated = true\n"
	    "  macro = \"{daemon_name}\"\n  not_macro_regex = { \"^sub\" }\n"
	    "  text = \"held by $rule\"\n"
	    "  add_header = { \"X-Policy: matched $rule\" }\n"
	    "  log = \"quarantined for $recipient\"\n}\n"
	    "rule \"three\" {\n  stage = body\n  verdict = continue\n"
	    "  body_regex = { \"a\" }\n  not_recipient = { \"c@example.com\" "
	    "}\n"
	    "  log = \"x\"\n}\n"
	    "rule \"four\" {\n  stage = header\n  verdict = tempfail\n"
	    "  header = \"Subject\"\n  not_header_regex = { \"^ok\" }\n}\n");
	const struct rule *r1 = rule_named(p, "one");
	const struct rule *r2 = rule_named(p, "two");
	const struct rule *r3 = rule_named(p, "three");
	const struct rule *r4 = rule_named(p, "four");
	const struct rule *rs[] = {NULL, r1, r2, r3, r4};
	static const struct {
		int rule, idx;
		const char *kind;
		enum matcher m; /* MATCH_BOOL, MATCH_RANGE: not lists */
		bool negate;
	} want[] = {
	    {1, 0, "client_address", MATCH_ADDR, false},
	    {1, 1, "client_name", MATCH_DOMAIN, true},
	    {1, 2, "sender", MATCH_EMAIL, false},
	    {1, 3, "recipient", MATCH_DOMAIN, true},
	    {1, 4, "tls", MATCH_BOOL, false},
	    {1, 5, "recipients", MATCH_RANGE, false},
	    {2, 0, "recipient", MATCH_EMAIL, false},
	    {2, 1, "recipient", MATCH_REGEX, false},
	    {2, 2, "body", MATCH_REGEX, false},
	    {2, 3, "macro", MATCH_REGEX, true},
	    {2, 4, "authenticated", MATCH_BOOL, false},
	    {2, 5, "size", MATCH_RANGE, false},
	    {3, 0, "recipient", MATCH_EMAIL, true},
	    {3, 1, "body", MATCH_REGEX, false},
	    {4, 0, "header", MATCH_REGEX, true},
	};
	const struct cond_lists *l;
	const struct cond_range *range;

	ck_assert_msg(p->nrules == 4 && r1->ncond == 6 && r2->ncond == 6 &&
			  r3->ncond == 2 && r4->ncond == 1,
		      "got %zu rules, conds %zu %zu %zu %zu; want 4, 6 6 2 1",
		      p->nrules, r1->ncond, r2->ncond, r3->ncond, r4->ncond);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct cond *c = &rs[want[i].rule]->cond[want[i].idx];
		bool list = want[i].m != MATCH_BOOL && want[i].m != MATCH_RANGE;
		int m = list ? (int)((const struct cond_lists *)c->data)->matcher
			     : -1;
		ck_assert_msg(
		    strcmp(c->kind->name, want[i].kind) == 0 &&
			(!list || m == (int)want[i].m) &&
			c->negate == want[i].negate,
		    "rule %d cond %d: got kind %s matcher %d "
		    "negate %d, want %s %d %d",
		    want[i].rule, want[i].idx, c->kind->name, m, c->negate,
		    want[i].kind, want[i].m, want[i].negate);
	}
	l = r1->cond[1].data;
	ck_assert_msg(l->match_unknown && l->domains != NULL,
		      "client_name \"unknown\": got match_unknown %d",
		      l->match_unknown);
	ck_assert_msg(!cond_flag_want(&r1->cond[4]) &&
			  cond_flag_want(&r2->cond[4]),
		      "bools: got tls %d auth %d, want 0 1",
		      cond_flag_want(&r1->cond[4]),
		      cond_flag_want(&r2->cond[4]));
	range = r1->cond[5].data;
	ck_assert_msg(range->min == 2 && range->max == UINT64_MAX,
		      "recipients: got %llu..%llu, want 2..max",
		      (unsigned long long)range->min,
		      (unsigned long long)range->max);
	range = r2->cond[5].data;
	ck_assert_msg(range->min == 0 && range->max == 10ull * 1024 * 1024,
		      "size: got %llu..%llu, want 0..10485760",
		      (unsigned long long)range->min,
		      (unsigned long long)range->max);
	ck_assert_msg(
	    strcmp(((const struct cond_lists *)r2->cond[3].data)->name,
		   "{daemon_name}") == 0 &&
		strcmp(((const struct cond_lists *)r4->cond[0].data)->name,
		       "Subject") == 0,
	    "names: got %s %s",
	    ((const struct cond_lists *)r2->cond[3].data)->name,
	    ((const struct cond_lists *)r4->cond[0].data)->name);
	/* per-session state: recipients after rcpt, body scanners; none for
	 * a recipient condition at stage rcpt */
	ck_assert_msg(
	    r1->cond[3].state_at == COND_NO_STATE &&
		r2->cond[0].state_at != COND_NO_STATE &&
		r2->cond[1].state_at != COND_NO_STATE &&
		r3->cond[0].state_at != COND_NO_STATE &&
		r2->cond[2].state_at != COND_NO_STATE &&
		r3->cond[1].state_at != COND_NO_STATE && p->nstateful == 5 &&
		r2->cond[0].state_at != r2->cond[1].state_at &&
		r2->cond[2].state_at != r3->cond[1].state_at &&
		p->state_size >= 3 * sizeof(bool) +
				     2 * sizeof(struct body_scan),
	    "state: got %zu conditions, %zu octets; want 5, distinct places",
	    p->nstateful, p->state_size);
	ck_assert_msg(p->watch == (1u << STAGE_RCPT | 1u << STAGE_BODY |
				   1u << STAGE_EOM),
		      "watch: got 0x%x", p->watch);
	/* stage index in file order */
	ck_assert_msg(
	    p->nstage[STAGE_RCPT] == 1 && p->by_stage[STAGE_RCPT][0] == r1 &&
		p->nstage[STAGE_EOM] == 1 && p->by_stage[STAGE_EOM][0] == r2 &&
		p->nstage[STAGE_BODY] == 1 && p->nstage[STAGE_HEADER] == 1 &&
		p->nstage[STAGE_CONNECT] == 0,
	    "by_stage: got rcpt %zu eom %zu body %zu header %zu",
	    p->nstage[STAGE_RCPT], p->nstage[STAGE_EOM], p->nstage[STAGE_BODY],
	    p->nstage[STAGE_HEADER]);
	ck_assert_msg(p->need_stages == (1u << STAGE_CONNECT |
					 1u << STAGE_MAIL | 1u << STAGE_RCPT |
					 1u << STAGE_HEADER | 1u << STAGE_EOH |
					 1u << STAGE_BODY | 1u << STAGE_EOM),
		      "need_stages: got 0x%x, want 0x%x", p->need_stages,
		      (1u << STAGE_CONNECT | 1u << STAGE_MAIL |
		       1u << STAGE_RCPT | 1u << STAGE_HEADER | 1u << STAGE_EOH |
		       1u << STAGE_BODY | 1u << STAGE_EOM));
	/* text, headers, log */
	ck_assert_msg(r1->has_placeholders && r1->ntext == 2 &&
			  strcmp(r1->text[1], "100$$ sure") == 0,
		      "rule one text: got %zu lines, placeholders %d",
		      r1->ntext, r1->has_placeholders);
	want_code(&r1->code, 550, 5, 7, 1, "rule one");
	ck_assert_msg(r2->ntext == 1 &&
			  strcmp(r2->text[0], "held by $rule") == 0,
		      "quarantine reason: got %zu lines", r2->ntext);
	ck_assert_msg(
	    r2->nheaders == 1 && strcmp(r2->hdr_name[0], "X-Policy") == 0 &&
		strcmp(r2->hdr_value[0], "matched $rule") == 0,
	    "header: got \"%s\" \"%s\"", r2->hdr_name[0], r2->hdr_value[0]);
	ck_assert_msg(r2->log != NULL &&
			  strcmp(r2->log, "quarantined for $recipient") == 0,
		      "log: got %s", r2->log ? r2->log : "NULL");
	ck_assert_msg(r1->line == 11 && r2->line == 22 &&
			  strcmp(r1->file, cpath) == 0,
		      "rule lines: got %d %d, want 11 22", r1->line, r2->line);
	want_code(&r4->code, 451, 4, 7, 1, "rule four");
	policy_free(&p);
}
END_TEST

/* A comment inside a list, and a list file with comments. */
START_TEST(test_comments_in_lists)
{
	struct policy *p;

	write_file("more.txt",
		   "# comment\n\nb@example.com\n  c@example.com  \n");
	p = load_ok("rule \"r\" {\n  stage = mail\n  verdict = reject\n"
		    "  sender = {\n    \"a@example.com\", # the first\n"
		    "    \"file:more.txt\" // and a file\n  }\n}\n");
	ck_assert_msg(p->nrules == 1 && p->rules[0].ncond == 1 &&
			  ((const struct cond_lists *)p->rules[0].cond[0].data)
				  ->emails != NULL,
		      "got %zu rules", p->nrules);
	policy_free(&p);
}
END_TEST

static const struct cond_lists *rule_lists(const struct policy *p, size_t r,
					    size_t c)
{
	ck_assert_msg(r < p->nrules && c < p->rules[r].ncond,
		      "no condition %zu of rule %zu", c, r);
	return p->rules[r].cond[c].data;
}

static bool email_in(const struct cond_lists *l, const char *addr)
{
	struct envaddr a;

	ck_assert_msg(envaddr_parse(addr, strlen(addr), &a, NULL, 0) == 0,
		      "cannot read %s", addr);
	return email_set_match(l->emails, &a);
}

/*
 * A named list read alone by several conditions is built once and read
 * by all of them (also negated, at other stages); a list read together
 * with other entries, or with other build flags (a streamed body against
 * a header), gets a matcher of its own. Freeing the policy frees each set
 * once (the sanitizer build checks that).
 */
START_TEST(test_list_built_once)
{
	const struct cond_lists *snd, *rcp, *neg, *mix, *hdr1, *hdr2, *body;
	struct policy *p;

	write_file("shared.txt", "a@example.com\nB@Example.com\n");
	p = load_ok("list \"l\" {\n  type = email\n  file = \"shared.txt\"\n}\n"
		    "list \"re\" {\n  type = regex\n  entries = { \"^spam\" }\n}\n"
		    "rule \"snd\" {\n  stage = mail\n  verdict = reject\n"
		    "  sender = { \"list:l\" }\n}\n"
		    "rule \"rcp\" {\n  stage = rcpt\n  verdict = reject\n"
		    "  recipient = { \"list:l\" }\n}\n"
		    "rule \"neg\" {\n  stage = rcpt\n  verdict = reject\n"
		    "  not_sender = { \"list:l\" }\n}\n"
		    "rule \"mix\" {\n  stage = mail\n  verdict = reject\n"
		    "  sender = { \"list:l\", \"c@example.com\" }\n}\n"
		    "rule \"hdr1\" {\n  stage = header\n  verdict = reject\n"
		    "  header = \"Subject\"\n  header_regex = { \"list:re\" }\n}\n"
		    "rule \"hdr2\" {\n  stage = header\n  verdict = reject\n"
		    "  header = \"From\"\n  header_regex = { \"list:re\" }\n}\n"
		    "rule \"body\" {\n  stage = body\n  verdict = reject\n"
		    "  body_regex = { \"list:re\" }\n}\n");
	snd = rule_lists(p, 0, 0);
	rcp = rule_lists(p, 1, 0);
	neg = rule_lists(p, 2, 0);
	mix = rule_lists(p, 3, 0);
	hdr1 = rule_lists(p, 4, 0);
	hdr2 = rule_lists(p, 5, 0);
	body = rule_lists(p, 6, 0);
	ck_assert_msg(snd->emails != NULL && snd->emails == rcp->emails &&
			  snd->emails == neg->emails && snd->share != NULL &&
			  snd->share == rcp->share && snd->share->refs == 3,
		      "the three readers of list l share one set");
	ck_assert_msg(mix->emails != NULL && mix->emails != snd->emails &&
			  mix->share == NULL,
		      "list l with another entry: a set of its own");
	ck_assert_msg(email_in(snd, "<A@example.com>") &&
			  email_in(rcp, "b@example.com") &&
			  !email_in(snd, "c@example.com") &&
			  email_in(mix, "c@example.com") &&
			  email_in(mix, "a@example.com"),
		      "the shared and the own sets match their entries");
	ck_assert_msg(hdr1->regexes != NULL &&
			  hdr1->regexes == hdr2->regexes &&
			  strcmp(hdr1->name, "Subject") == 0 &&
			  strcmp(hdr2->name, "From") == 0,
		      "two header rules share list re, each with its header");
	ck_assert_msg(body->regexes != NULL && body->regexes != hdr1->regexes,
		      "the body's streamed regexes are built apart");
	policy_free(&p);
}
END_TEST

/* hold_early off, connect rules: rcpt not needed; helo facts needed. */
START_TEST(test_need_stages)
{
	struct policy *p =
	    load_ok("rule \"r\" {\n  stage = connect\n  verdict = tempfail\n"
		    "  reply = \"421 4.3.0\"\n}\n"
		    "rule \"s\" {\n  stage = mail\n  verdict = reject\n"
		    "  helo_literal = true\n}\n");

	ck_assert_msg(p->need_stages ==
			  (1u << STAGE_CONNECT | 1u << STAGE_HELO |
			   1u << STAGE_MAIL | 1u << STAGE_EOM),
		      "need_stages: got 0x%x", p->need_stages);
	policy_free(&p);
}
END_TEST

/*
 * hold_early on, an accept at connect: no RCPT needed, unless dns_error =
 * tempfail, where its failed lookups give a tempfail held until RCPT.
 */
START_TEST(test_need_stages_held_dns)
{
	static const char rule[] =
	    "hold_early_verdicts = true\n"
	    "rule \"wl\" {\n  stage = connect\n  verdict = accept\n"
	    "  client_dnswl = { \"list.dnswl.example\" }\n}\n";
	const unsigned rcpt = 1u << STAGE_RCPT | 1u << STAGE_MAIL;
	char text[512];
	struct policy *p = load_ok(rule);

	ck_assert_msg((p->need_stages & rcpt) == 0,
		      "dns_error = ignore: got need_stages 0x%x", p->need_stages);
	policy_free(&p);
	snprintf(text, sizeof(text), "dns_error = tempfail\n%s", rule);
	p = load_ok(text);
	ck_assert_msg((p->need_stages & rcpt) == rcpt,
		      "dns_error = tempfail: got need_stages 0x%x",
		      p->need_stages);
	policy_free(&p);
}
END_TEST

/* --- the shipped configs --------------------------------------------- */

static char conf_files[64][512];
static int nconf_files;

static void find_conf_files(void)
{
	const char *dirs[] = {"conf", "conf/examples"};
	const char *base = access("conf", F_OK) == 0 ? "" : "../../";

	for (size_t k = 0; k < 2; k++) {
		char dir[300];
		DIR *dp;
		struct dirent *e;
		snprintf(dir, sizeof(dir), "%s%s", base, dirs[k]);
		if ((dp = opendir(dir)) == NULL)
			continue;
		while ((e = readdir(dp)) != NULL && nconf_files < 64) {
			size_t n = strlen(e->d_name);
			if (n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0)
				snprintf(conf_files[nconf_files++], 512,
					 "%s/%s", dir, e->d_name);
		}
		closedir(dp);
	}
}

START_TEST(test_shipped)
{
	struct diags d = {0};
	struct policy *p = NULL;
	int rc;

	ck_assert_msg(nconf_files >= 7,
		      "got %d config files in conf/, want the shipped one and "
		      "6 examples",
		      nconf_files);
	for (int i = 0; i < nconf_files; i++) {
		rc = config_load(conf_files[i], &p, NULL, &d);
		ck_assert_msg(rc == 0 && d.nwarnings == 0 && d.nerrors == 0,
			      "%s: got rc %d and diagnostics:%s; want 0, notes "
			      "at most",
			      conf_files[i], rc, all_diags(&d));
		policy_free(&p);
		diags_free(&d);
	}
}
END_TEST

/* The shipped config rejects nothing: no enforcing reject/tempfail rule.
 * Its socket is the Debian package's: in Postfix's chroot. */
#define PACKAGED_SOCKET                                                        \
	"unix:/var/spool/postfix/replycode-milter/replycode-milter.sock"

START_TEST(test_shipped_is_safe)
{
	struct diags d = {0};
	struct policy *p = NULL;
	const char *path = access("conf", F_OK) == 0
			       ? "conf/replycode-milter.conf"
			       : "../../conf/replycode-milter.conf";

	settings_free(&set); /* an earlier test's */
	ck_assert_msg(config_load(path, &p, &set, &d) == 0, "%s: diags:%s",
		      path, all_diags(&d));
	ck_assert_msg(strcmp(set.socket, PACKAGED_SOCKET) == 0,
		      "socket: got %s, want " PACKAGED_SOCKET, set.socket);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		ck_assert_msg(r->mode == MODE_DRY_RUN ||
				  r->verdict == VERDICT_CONTINUE,
			      "rule %s: got %s in %s mode, want dry-run or "
			      "continue",
			      r->name, verdict_name(r->verdict),
			      r->mode == MODE_ENFORCE ? "enforce" : "dry-run");
	}
	ck_assert_msg(p->failure.verdict == VERDICT_TEMPFAIL,
		      "failure verdict: got %s, want tempfail",
		      verdict_name(p->failure.verdict));
	policy_free(&p);
	settings_free(&set);
	diags_free(&d);
}
END_TEST

/* --- the reply lint through the loader ------------------------------- */

/* The stage whose reply command c carries (no hold). */
static enum stage stage_for(enum smtp_cmd c)
{
	static const enum stage st[CMD_COUNT] = {
	    STAGE_CONNECT, STAGE_HELO, STAGE_MAIL,
	    STAGE_RCPT,    STAGE_DATA, STAGE_EOM};
	return st[c];
}

/* A growing config text. */
struct text {
	char *buf;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void tprintf(struct text *t,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
			      t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		ck_assert_msg(n >= 0, "vsnprintf failed");
		if (t->buf != NULL && t->len + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->buf = realloc(t->buf, t->cap);
		ck_assert_msg(t->buf != NULL, "no memory");
	}
	t->len += (size_t)n;
}

/* A rule giving code at stage st; its own client address keeps it apart
 * from the others ("can never match" would warn otherwise). */
static void add_rule(struct text *t, size_t n, const struct reply_code *rc,
		     enum stage st)
{
	char code[32];

	codes_format(rc, code, sizeof(code));
	tprintf(t,
		"rule \"r%zu\" {\n  stage = %s\n  client_address = { "
		"\"10.%zu.%zu.%zu\" }\n  verdict = %s\n  reply = \"%s\"\n}\n",
		n, stage_name(st), (n >> 16) & 255, (n >> 8) & 255, n & 255,
		rc->basic >= 500 ? "reject" : "tempfail", code);
}

/* Load t under strict = true (and without): no error, no warning. */
static void load_clean(struct text *t, const char *what)
{
	struct diags d = {0};
	struct policy *p = NULL;
	int rc;

	write_file("test.conf", t->buf);
	rc = config_load(cpath, &p, NULL, &d);
	ck_assert_msg(rc == 0 && d.nerrors == 0 && d.nwarnings == 0,
		      "%s: got rc %d, %zu errors, %zu warnings:%.2500s; want "
		      "none",
		      what, rc, d.nerrors, d.nwarnings, all_diags(&d));
	policy_free(&p);
	diags_free(&d);
}

START_TEST(test_practice_loads)
{
	struct text strict = {0}, plain = {0};
	size_t n = 0;

	tprintf(&strict, "strict = true\n");
	tprintf(&plain, "strict = false\n");
	for (size_t i = 0; i < codes_practice_count(); i++) {
		const struct practice_pair *pp = codes_practice_at(i);
		struct reply_code rc = {pp->basic, pp->enh_class,
					pp->enh_subject, pp->enh_detail};
		for (int c = 0; c < CMD_COUNT; c++) {
			if (!(pp->commands & CMDBIT(c)))
				continue;
			add_rule(&strict, n, &rc, stage_for((enum smtp_cmd)c));
			add_rule(&plain, n, &rc, stage_for((enum smtp_cmd)c));
			n++;
		}
	}
	ck_assert_msg(n >= 60, "got %zu rules, want one per row and command",
		      n);
	load_clean(&strict, "every practice pair, strict = true");
	load_clean(&plain, "every practice pair, strict = false");
	free(strict.buf);
	free(plain.buf);
}
END_TEST

/* Every pair any finding suggests, for every pair, verdict, stage and
 * hold setting, as a rule of its own: it must load clean, strictly. */
START_TEST(test_suggestions_load)
{
	struct text t[2] = {{0}, {0}};
	static const int extra[][2] = {{8, 8}, {7, 999}, {7, 606}, {0, 0}};
	size_t n[2] = {0, 0}, ne = codes_enhanced_count() + 3;
	size_t seen_cap = 1 << 16, nseen = 0;
	uint64_t *seen = calloc(seen_cap, sizeof(*seen));

	ck_assert_msg(seen != NULL, "no memory");
	tprintf(&t[0], "strict = true\nhold_early_verdicts = false\n");
	tprintf(&t[1], "strict = true\nhold_early_verdicts = true\n");
	for (size_t b = 0; b <= codes_basic_count(); b++) {
		int basic = b < codes_basic_count() ? codes_basic_at(b)->code
						    : 599;
		if (basic < 400)
			continue;
		for (size_t k = 0; k < ne; k++) {
			const struct enhanced_info *e = codes_enhanced_at(k);
			int subj = e ? e->subject : extra[k - ne + 3][0];
			int det = e ? e->detail : extra[k - ne + 3][1];
			for (int cls = 4; cls <= 5; cls++) {
				struct reply_code rc = {basic, cls, subj, det};
				enum verdict v = cls == 5 ? VERDICT_REJECT
							  : VERDICT_TEMPFAIL;
				for (int st = 0; st < STAGE_COUNT; st++) {
					for (int h = 0; h < 2; h++) {
						struct findings f = {0};
						codes_check(&rc, v,
							    (enum stage)st,
							    h == 1, &f);
						for (size_t i = 0; i < f.count;
						     i++) {
							const struct reply_code
							    *g = &f.item[i]
								      .suggestion;
							uint64_t key;
							size_t j;
							if (!f.item[i].suggests)
								continue;
							key = (uint64_t)g->basic
								  << 40 |
							      (uint64_t)g
									  ->enh_subject
								  << 24 |
							      (uint64_t)g
									  ->enh_detail
								  << 8 |
							      (uint64_t)st << 1 |
							      (uint64_t)h;
							for (j = 0; j < nseen;
							     j++)
								if (seen[j] ==
								    key)
									break;
							if (j < nseen)
								continue;
							ck_assert_msg(
							    nseen < seen_cap,
							    "too many "
							    "suggestions");
							seen[nseen++] = key;
							add_rule(&t[h], n[h]++,
								 g,
								 (enum stage)
								     st);
						}
					}
				}
			}
		}
	}
	ck_assert_msg(n[0] > 50 && n[1] > 20,
		      "got %zu and %zu suggestions, want many", n[0], n[1]);
	load_clean(&t[0], "every suggestion");
	load_clean(&t[1], "every suggestion, hold_early_verdicts = true");
	free(t[0].buf);
	free(t[1].buf);
	free(seen);
}
END_TEST

/*
 * The findings --explain prints for a rule at stage st (not held): the
 * lines under the paragraph whose "at ..." list names the stage.
 */
static size_t explain_at(const char *spec, enum stage st, char *out,
			 size_t outlen)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, o = 0;
	FILE *f = open_memstream(&buf, &len);
	bool in = false;
	size_t n = 0;

	ck_assert_msg(f != NULL, "open_memstream failed");
	explain_write(f, spec);
	fclose(f);
	out[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "    at ", 7) == 0) {
			/* "    at a, b (held), c: verdict" */
			char names[256], want[32];
			char *colon = strrchr(line, ':');
			size_t nl = colon ? (size_t)(colon - line - 7) : 0;
			snprintf(names, sizeof(names), ", %.*s,", (int)nl,
				 line + 7);
			snprintf(want, sizeof(want), ", %s,", stage_name(st));
			in = strstr(names, want) != NULL;
			continue;
		}
		if (in && strncmp(line, "      ", 6) == 0) {
			o += (size_t)snprintf(out + o, outlen - o, "%s\n",
					      line + 6);
			n++;
		}
	}
	free(buf);
	return n;
}

/* The loader's findings about the reply, as "severity: text" lines. */
static size_t loader_at(const struct diags *d, char *out, size_t outlen)
{
	size_t o = 0, n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < d->count; i++) {
		const char *t = d->item[i].text, *r = strstr(t, ": reply ");
		const char *sev = d->item[i].error  ? "error"
				  : d->item[i].note ? "note"
						    : "warning";
		if (r == NULL || (r = strstr(r + 8, ": ")) == NULL)
			continue;
		o += (size_t)snprintf(out + o, outlen - o, "%s: %s\n", sev,
				      r + 2);
		n++;
	}
	return n;
}

/* For every practice row where it is sent: -t and --explain agree. */
START_TEST(test_explain_agrees)
{
	size_t checked = 0;

	for (size_t i = 0; i < codes_practice_count(); i++) {
		const struct practice_pair *pp = codes_practice_at(i);
		struct reply_code rc = {pp->basic, pp->enh_class,
					pp->enh_subject, pp->enh_detail};
		char spec[32];
		codes_format(&rc, spec, sizeof(spec));
		for (int c = 0; c < CMD_COUNT; c++) {
			struct text t = {0};
			struct diags d = {0};
			struct policy *p = NULL;
			static char got[8192], want[8192];
			enum stage st = stage_for((enum smtp_cmd)c);
			if (!(pp->commands & CMDBIT(c)))
				continue;
			add_rule(&t, 0, &rc, st);
			write_file("test.conf", t.buf);
			free(t.buf);
			ck_assert_msg(config_load(cpath, &p, NULL, &d) == 0,
				      "%s at %s: does not load:%s", spec,
				      stage_name(st), all_diags(&d));
			loader_at(&d, want, sizeof(want));
			explain_at(spec, st, got, sizeof(got));
			ck_assert_msg(strcmp(got, want) == 0,
				      "%s at %s: --explain says\n%.1500s\nthe "
				      "loader says\n%.1500s",
				      spec, stage_name(st), got, want);
			policy_free(&p);
			diags_free(&d);
			checked++;
		}
	}
	ck_assert_msg(checked >= 60, "got %zu comparisons, want >= 60",
		      checked);
}
END_TEST

/* hold_early_verdicts moves a connect rule's reply from MAIL to RCPT, and
 * the judgement with it; a note is said once, not once per rule. */
START_TEST(test_lint_place_and_once)
{
	static const struct {
		const char *conf;
		size_t notes;
		const char *phrase; /* in a note; NULL: none about MAIL */
	} cases[] = {
	    {R("  stage = connect\n  verdict = tempfail\n"
	       "  reply = \"450 4.2.0\"\n"),
	     1, "does not list 450 as a reply to MAIL, which carries the reply "
		"of a connect rule"},
	    {"hold_early_verdicts = true\n" R(
		 "  stage = connect\n  verdict = tempfail\n"
		 "  reply = \"450 4.2.0\"\n"),
	     0, NULL},
	    {"rule \"a\" {\n  stage = rcpt\n  recipient = { \"a@x.example\" }\n"
	     "  verdict = reject\n  reply = \"554 5.7.1\"\n}\n"
	     "rule \"b\" {\n  stage = rcpt\n  recipient = { \"b@x.example\" }\n"
	     "  verdict = reject\n  reply = \"554 5.7.1\"\n}\n",
	     2, "IANA lists X.7.1"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diags d = {0};
		struct policy *p = NULL;
		bool found = cases[i].phrase == NULL;
		write_file("test.conf", cases[i].conf);
		ck_assert_msg(config_load(cpath, &p, NULL, &d) == 0,
			      "case %zu: does not load:%s", i, all_diags(&d));
		for (size_t k = 0; k < d.count; k++)
			if (cases[i].phrase != NULL &&
			    strstr(d.item[k].text, cases[i].phrase) != NULL)
				found = true;
		ck_assert_msg(d.nnotes == cases[i].notes && d.nwarnings == 0 &&
				  found,
			      "case %zu: got %zu notes:%s; want %zu, with \"%s\"",
			      i, d.nnotes, all_diags(&d), cases[i].notes,
			      cases[i].phrase ? cases[i].phrase : "-");
		policy_free(&p);
		diags_free(&d);
	}
}
END_TEST

/* --- text that must go out whole ------------------------------------- */

/* n lines of len octets ('x', a space every 50 when spaced) */
static void text_rule(struct text *t, const char *stage, const char *code,
		      int n, size_t len, bool spaced, const char *extra)
{
	tprintf(t, "rule \"r\" {\n  stage = %s\n  verdict = %s\n  reply = "
		   "\"%s\"\n  text = {",
		stage, code[0] == '5' ? "reject" : "tempfail", code);
	for (int k = 0; k < n; k++) {
		tprintf(t, "%s\"", k ? ",\n" : " ");
		for (size_t i = 0; i < len; i++)
			tprintf(t, "%c", spaced && i % 50 == 49 ? ' ' : 'x');
		if (k == n - 1 && extra != NULL)
			tprintf(t, "%s", extra);
		tprintf(t, "\"");
	}
	tprintf(t, " }\n}\n");
}

/* Render rule 0 as sent in the worst case: every placeholder at its
 * longest and the first line short by Sendmail's longest prefix. */
static void render_worst(const struct policy *p, struct reply *out)
{
	const struct rule *r = &p->rules[0];
	static char lines[REPLY_MAX_LINES][EXPAND_LINE_MAX];
	const char *text[REPLY_MAX_LINES];
	char err[256];

	for (size_t i = 0; i < r->ntext; i++) {
		size_t o = 0;
		for (const char *s = r->text[i]; *s != '\0'; s++) {
			if (s[0] == '$' && s[1] == '$') {
				lines[i][o++] = '$';
				s++;
			} else if (s[0] == '$') {
				while (s[1] == '_' || (s[1] >= 'a' && s[1] <= 'z'))
					s++;
				memset(lines[i] + o, 'A', PLACEHOLDER_WORST);
				o += PLACEHOLDER_WORST;
			} else {
				lines[i][o++] = *s;
			}
		}
		lines[i][o] = '\0';
		text[i] = lines[i];
	}
	ck_assert_msg(reply_render(&r->code, text, r->ntext,
				   policy_reply_reserve(r, r->stage, NULL),
				   out, err, sizeof(err)) == 0,
		      "render: %s", err);
}

static const struct fit_case {
	const char *stage, *code;
	int n;
	size_t len;
	bool spaced;
	const char *extra; /* appended to the last line */
	const char *phrase; /* the error; NULL: it loads */
} fit_cases[] = {
    /* 32 full lines: the first keeps room for "<rcpt>... " at RCPT */
    {"rcpt", "550 5.7.1", 32, 495, false, NULL,
     "text takes up to 33 reply lines"},
    {"mail", "553 5.1.8", 32, 495, false, NULL,
     "text takes up to 33 reply lines"},
    {"helo", "450 4.7.1", 32, 495, false, NULL,
     "text takes up to 33 reply lines"},
    /* no prefix: 451 and 554 (err.c), and the end of DATA */
    {"rcpt", "451 4.7.1", 32, 495, false, NULL, NULL},
    {"rcpt", "554 5.7.1", 32, 495, false, NULL, NULL},
    {"eom", "550 5.7.1", 32, 495, false, NULL, NULL},
    {"rcpt", "550 5.7.1", 31, 495, false, NULL, NULL},
    /* a long literal line is wrapped, not refused */
    {"eom", "550 5.7.1", 1, 1200, true, NULL, NULL},
    {"rcpt", "550 5.7.1", 1, 1200, false, NULL, NULL},
    {"eom", "550 5.7.1", 11, 1400, true, NULL,
     "text takes up to 33 reply lines"},
    /* placeholders at their longest */
    {"rcpt", "550 5.7.1", 31, 40, false, " $recipient", NULL},
    {"eom", "550 5.7.1", 32, 400, true, " $sender",
     "placeholders at their longest"},
    {"eom", "550 5.7.1", 1, 10,
     false, " $sender $sender $sender $sender $sender $sender $sender "
	    "$sender",
     "text line 1 can reach 2090 octets (8 placeholders at 259 octets "
     "each); a text line is at most 2047"},
    {"eom", "550 5.7.1", 1, 2048, true, NULL,
     "text line 1 is 2048 octets; a text line is at most 2047"},
    {"eom", "550 5.7.1", 1, 2047, true, NULL, NULL},
    /* a placeholder counts 259 octets: 231 + 259 = 490 fits a later line
     * (490 is the most a line holds when it is all '%'), 232 does not */
    {"rcpt", "550 5.7.1", 32, 230, false, " $recipient", NULL},
    {"rcpt", "550 5.7.1", 32, 231, false, " $recipient",
     "text takes up to 34 reply lines"},
};

START_TEST(test_text_fits)
{
	const struct fit_case *c = &fit_cases[_i];
	struct text t = {0};
	struct diags d = {0};
	struct policy *p = NULL;
	int rc;

	text_rule(&t, c->stage, c->code, c->n, c->len, c->spaced, c->extra);
	write_file("test.conf", t.buf);
	free(t.buf);
	rc = config_load(cpath, &p, NULL, &d);
	if (c->phrase != NULL) {
		ck_assert_msg(rc == -1 && has_diag(&d, true, 5, c->phrase),
			      "case %d: got rc %d:%s; want an error at line 5 "
			      "with \"%s\"",
			      _i, rc, all_diags(&d), c->phrase);
	} else {
		static struct reply r;
		ck_assert_msg(rc == 0 && d.nwarnings == 0,
			      "case %d: got rc %d:%s; want it to load", _i, rc,
			      all_diags(&d));
		render_worst(p, &r);
		ck_assert_msg(!r.truncated && r.nlines <= REPLY_MAX_LINES,
			      "case %d: loads, but the worst case is cut "
			      "(%zu lines)",
			      _i, r.nlines);
		policy_free(&p);
	}
	diags_free(&d);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad, 0, NCASES(bad_cases));
	tcase_add_loop_test(tc, test_warn, 0, NCASES(warn_cases));
	tcase_add_test(tc, test_hold_early_clean);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_globals);
	tcase_add_loop_test(tc, test_settings_diff, 0, NCASES(diff_cases));
	tcase_add_loop_test(tc, test_reply_defaults, 0, NCASES(reply_cases));
	tcase_add_test(tc, test_conditions);
	tcase_add_test(tc, test_comments_in_lists);
	tcase_add_test(tc, test_list_built_once);
	tcase_add_test(tc, test_need_stages);
	tcase_add_test(tc, test_need_stages_held_dns);
	tcase_add_test(tc, test_shipped);
	tcase_add_test(tc, test_shipped_is_safe);
	tcase_add_loop_test(tc, test_text_fits, 0, NCASES(fit_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("lint");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_practice_loads);
	tcase_add_test(tc, test_suggestions_load);
	tcase_add_test(tc, test_explain_agrees);
	tcase_add_test(tc, test_lint_place_and_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	find_conf_files();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
