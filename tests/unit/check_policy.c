/*
 * check_policy.c - the rule engine on compiled configs: every condition,
 * first-match order, dry-run and continue, placeholders fed hostile values,
 * body matches across chunk boundaries, recipient memory after RCPT, the
 * failure policy, and envelope addresses: every spelling of an address
 * matches every kind of condition, and one that cannot be read gives the
 * failure policy. Configs are real files loaded by config_load.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "load.h"
#include "core/policy.h"
#include "core/stats.h"

struct macro {
	const char *name, *value;
};

struct facts {
	const char *addr;   /* client address, text */
	const char *name;   /* client name */
	const char *helo;
	const char *sender; /* as the MTA sends it: "<a@b>" */
	const char *rcpt;
	unsigned rcpt_count;
	unsigned long long size_param, size;
	const char *hdr_name, *hdr_value;
	struct macro macros[3];
};

static const char *lookup(void *arg, const char *name)
{
	const struct facts *f = arg;

	for (int i = 0; i < 3 && f->macros[i].name != NULL; i++)
		if (strcmp(f->macros[i].name, name) == 0)
			return f->macros[i].value;
	return NULL;
}

static void apply(struct session *s, const struct facts *f)
{
	if (f->addr != NULL) {
		struct sockaddr_storage ss;
		session_set_client(s, sockaddr_parse(f->addr, &ss) == 0
					  ? (struct sockaddr *)&ss
					  : NULL);
		if (!s->have_ip)
			snprintf(s->client_addr, sizeof(s->client_addr), "%s",
				 f->addr);
	}
	snprintf(s->client_name, sizeof(s->client_name), "%s",
		 f->name != NULL ? f->name : "unknown");
	if (f->helo != NULL) {
		snprintf(s->helo, sizeof(s->helo), "%s", f->helo);
		s->have_helo = true;
	}
	if (f->sender != NULL)
		addr_fact_set(&s->msg.sender, f->sender);
	if (f->rcpt != NULL)
		addr_fact_set(&s->msg.rcpt, f->rcpt);
	s->msg.rcpt_count = f->rcpt_count;
	s->msg.size_param = f->size_param;
	s->msg.size = f->size;
	s->msg.hdr_name = f->hdr_name;
	s->msg.hdr_value = f->hdr_value;
	s->msg.hdr_value_len = f->hdr_value != NULL ? strlen(f->hdr_value) : 0;
	s->macro = lookup;
	s->macro_arg = (void *)f;
}

/* What a decision looks like, in one comparable string. */
static void describe(const struct decision *d, char *buf, size_t len)
{
	char wire[4096] = "";

	if (d->reply != NULL)
		reply_format_wire(d->reply, wire, sizeof(wire));
	snprintf(buf, len, "%s %s%s%s", verdict_name(d->verdict),
		 d->rule != NULL ? d->rule->name : "-", wire[0] ? " " : "",
		 wire);
}

struct cond_case {
	const char *rule; /* the rule body, stage and verdict included */
	enum stage stage;
	struct facts facts;
	const char *want; /* describe() of the decision */
};

#define R(body) "rule \"r\" {\n" body "\n}\n"

static const struct cond_case cond_cases[] = {
	/* client address, v4 and v6, and negation */
	{R("stage = connect\nclient_address = {\"192.0.2.0/24\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"no\""),
	 STAGE_CONNECT, {.addr = "192.0.2.9"}, "reject r 554 5.7.1 no"},
	{R("stage = connect\nclient_address = {\"192.0.2.0/24\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"no\""),
	 STAGE_CONNECT, {.addr = "192.0.3.9"}, "continue -"},
	{R("stage = connect\nclient_address = {\"2001:db8::/32\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"no\""),
	 STAGE_CONNECT, {.addr = "2001:db8:1::1"}, "reject r 554 5.7.1 no"},
	{R("stage = connect\nnot_client_address = {\"127.0.0.0/8\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"no\""),
	 STAGE_CONNECT, {.addr = "127.0.0.1"}, "continue -"},
	{R("stage = connect\nnot_client_address = {\"127.0.0.0/8\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"no\""),
	 STAGE_CONNECT, {.addr = "10.1.1.1"}, "reject r 554 5.7.1 no"},
	/* client name: unknown, exact, subdomains, regex */
	{R("stage = connect\nclient_name = {\"unknown\"}\n"
	   "verdict = tempfail\nreply = \"421 4.7.0\"\ntext = \"who?\""),
	 STAGE_CONNECT, {.name = "unknown"}, "tempfail r 421 4.7.0 who?"},
	{R("stage = connect\nclient_name = {\".dyn.example.net\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"dyn\""),
	 STAGE_CONNECT, {.name = "h1.DYN.example.net"}, "reject r 554 5.7.1 dyn"},
	{R("stage = connect\nclient_name = {\".dyn.example.net\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"dyn\""),
	 STAGE_CONNECT, {.name = "dyn.example.net"}, "continue -"},
	{R("stage = connect\nclient_name_regex = {\"^[0-9-]+\\\\.pool\\\\.\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"pool\""),
	 STAGE_CONNECT, {.name = "10-1-2-3.pool.example.net"},
	 "reject r 554 5.7.1 pool"},
	/* HELO: name, regex, address literal */
	{R("stage = helo\nhelo = {\"localhost\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"liar\""),
	 STAGE_HELO, {.helo = "LOCALHOST"}, "reject r 550 5.7.1 liar"},
	{R("stage = helo\nhelo_regex = {\"^[^.]+$\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"unqualified\""),
	 STAGE_HELO, {.helo = "box"}, "reject r 550 5.7.1 unqualified"},
	{R("stage = helo\nhelo_literal = true\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"literal\""),
	 STAGE_HELO, {.helo = "[192.0.2.1]"}, "reject r 550 5.7.1 literal"},
	{R("stage = helo\nhelo_literal = true\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"literal\""),
	 STAGE_HELO, {.helo = "mx.example.test"}, "continue -"},
	/* sender: exact, null sender, domain, regex */
	{R("stage = mail\nsender = {\"Spammer@Example.COM\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"s\""),
	 STAGE_MAIL, {.sender = "<spammer@example.com>"}, "reject r 550 5.7.1 s"},
	{R("stage = mail\nsender = {\"<>\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"null\""),
	 STAGE_MAIL, {.sender = "<>"}, "reject r 550 5.7.1 null"},
	{R("stage = mail\nsender = {\"<>\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"null\""),
	 STAGE_MAIL, {.sender = "<a@b.test>"}, "continue -"},
	{R("stage = mail\nsender_domain = {\"example.com\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"d\""),
	 STAGE_MAIL, {.sender = "<x@sub.example.com>"}, "continue -"},
	{R("stage = mail\nsender_domain = {\".example.com\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"d\""),
	 STAGE_MAIL, {.sender = "<x@sub.example.com>"}, "reject r 550 5.7.1 d"},
	{R("stage = mail\nsender_regex = {\"^bulk[0-9]+@\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"re\""),
	 STAGE_MAIL, {.sender = "<bulk42@x.test>"}, "reject r 550 5.7.1 re"},
	/* recipient and count */
	{R("stage = rcpt\nrecipient = {\"blocked@example.test\"}\n"
	   "verdict = reject\nreply = \"550 5.1.1\"\ntext = \"gone\""),
	 STAGE_RCPT, {.rcpt = "<Blocked@example.test>"},
	 "reject r 550 5.1.1 gone"},
	{R("stage = rcpt\nmin_recipients = 3\n"
	   "verdict = tempfail\nreply = \"452 4.5.3\"\ntext = \"many\""),
	 STAGE_RCPT, {.rcpt = "<a@b.test>", .rcpt_count = 3},
	 "tempfail r 452 4.5.3 many"},
	{R("stage = rcpt\nmin_recipients = 3\n"
	   "verdict = tempfail\nreply = \"452 4.5.3\"\ntext = \"many\""),
	 STAGE_RCPT, {.rcpt = "<a@b.test>", .rcpt_count = 2}, "continue -"},
	/* size: SIZE= at MAIL, counted later */
	{R("stage = mail\nmin_size = \"10M\"\n"
	   "verdict = reject\nreply = \"552 5.3.4\"\ntext = \"big\""),
	 STAGE_MAIL, {.sender = "<a@b.test>", .size_param = 10485760},
	 "reject r 552 5.3.4 big"},
	{R("stage = mail\nmin_size = \"10M\"\n"
	   "verdict = reject\nreply = \"552 5.3.4\"\ntext = \"big\""),
	 STAGE_MAIL, {.sender = "<a@b.test>", .size_param = 10485759},
	 "continue -"},
	{R("stage = eom\nmax_size = \"1K\"\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"small\""),
	 STAGE_EOM, {.size = 1024}, "reject r 550 5.7.1 small"},
	{R("stage = eom\nmax_size = \"1K\"\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"small\""),
	 STAGE_EOM, {.size = 1025}, "continue -"},
	/* header */
	{R("stage = header\nheader = \"subject\"\n"
	   "header_regex = {\"(?i)viagra\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"h\""),
	 STAGE_HEADER, {.hdr_name = "Subject", .hdr_value = "buy VIAGRA"},
	 "reject r 550 5.7.1 h"},
	{R("stage = header\nheader = \"subject\"\n"
	   "header_regex = {\"(?i)viagra\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"h\""),
	 STAGE_HEADER, {.hdr_name = "X-Subject", .hdr_value = "viagra"},
	 "continue -"},
	/* authenticated, TLS, any macro */
	{R("stage = mail\nauthenticated = false\nsender_domain = "
	   "{\"example.test\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"auth first\""),
	 STAGE_MAIL, {.sender = "<a@example.test>"},
	 "reject r 550 5.7.1 auth first"},
	{R("stage = mail\nauthenticated = false\nsender_domain = "
	   "{\"example.test\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"auth first\""),
	 STAGE_MAIL,
	 {.sender = "<a@example.test>",
	  .macros = {{"{auth_authen}", "alice"}}},
	 "continue -"},
	{R("stage = helo\ntls = false\n"
	   "verdict = reject\nreply = \"550 5.7.10\"\ntext = \"tls\""),
	 STAGE_HELO, {.helo = "a.test", .macros = {{"{tls_version}", "TLSv1.3"}}},
	 "continue -"},
	{R("stage = connect\nmacro = \"{daemon_name}\"\n"
	   "macro_regex = {\"^submission$\"}\n"
	   "verdict = reject\nreply = \"554 5.7.1\"\ntext = \"m\""),
	 STAGE_CONNECT, {.macros = {{"{daemon_name}", "submission"}}},
	 "reject r 554 5.7.1 m"},
	/* every condition must hold */
	{R("stage = rcpt\nsender_domain = {\"a.test\"}\n"
	   "recipient_domain = {\"b.test\"}\n"
	   "verdict = reject\nreply = \"550 5.7.1\"\ntext = \"both\""),
	 STAGE_RCPT, {.sender = "<x@a.test>", .rcpt = "<y@c.test>"},
	 "continue -"},
};

static void eval_case(const struct cond_case *c, char *got, size_t len)
{
	struct policy *p = load_text(c->rule);
	struct session s;
	struct decision *d = malloc(sizeof(*d));

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, &c->facts);
	policy_eval(p, c->stage, &s, NULL, NULL, d);
	describe(d, got, len);
	free(d);
	session_end(&s);
	{
		const struct policy *cp = p;
		policy_unref(&cp);
	}
}

START_TEST(test_conditions)
{
	const struct cond_case *c = &cond_cases[_i];
	char got[4096];

	eval_case(c, got, sizeof(got));
	ck_assert_msg(strcmp(got, c->want) == 0,
		      "case %d (%s): got \"%s\", want \"%s\"", _i,
		      stage_name(c->stage), got, c->want);
}
END_TEST

/* --- envelope addresses: every spelling, and the unreadable ones ------ */

/*
 * Spellings of u@blocked.test that Postfix delivers to u@blocked.test
 * (match), and addresses that are not it, nor in its domain, though they
 * hold the same text (no match).
 */
static const struct {
	const char *addr;
	bool match;
} address_cases[] = {
    {"<u@blocked.test>", true},
    {"u@blocked.test", true},
    {"u@blocked.test>", true},
    {"<<u@blocked.test>>", true},
    {"<\"u\"@blocked.test>", true},
    {"<u@blocked.test >", true},
    {"< u@blocked.test>", true},
    {"<@a.test,@b.test:u@blocked.test>", true},
    {"<U@BLOCKED.TEST.>", true},
    {"<blocked.test!u>", true},
    {"<u%blocked.test>", true},
    {"<\"u@blocked.test\">", true},
    {"<u(comment)@blocked.test>", true},
    {"<Name <u@blocked.test>>", true},
    {"<\"@r.test:u\"@blocked.test>", true},
    {"<u@\"blocked.test\">", true},
    {"<\\u@blocked.test>", true},
    {"<u@blocked.test.evil>", false},
    {"<u@blocked.testx>", false},
    {"<\"u@blocked.test\"@other.test>", false},
    {"<u@blocked.test@other.test>", false},
    {"<blocked.test!u@other.test>", false},
    {"<u%blocked.test@other.test>", false},
};
#define NADDR (sizeof(address_cases) / sizeof(address_cases[0]))

/* Not readable: the failure policy, whatever the matcher. */
static const char *const unreadable[] = {
    "<u@blocked.test",
    "u@blocked.test>>",
    "u b@blocked.test",
    "u@blocked..test",
    "\"u@blocked.test",
    "u\x01@blocked.test",
    "<u@blocked.test, v@blocked.test>",
    "(u@blocked.test",
    "<u@blocked.test> <v@blocked.test>",
    "u@blocked.test\\",
};
#define NUNREAD (sizeof(unreadable) / sizeof(unreadable[0]))

/* Conditions on u@blocked.test: "sender" or "recipient", then these. */
static const char *const address_conds[] = {
    " = {\"U@Blocked.Test\"}",
    "_domain = {\"blocked.test\"}",
    "_regex = {\"^u@blocked\\\\.test$\"}",
    "_regex = {\"(?-i)@blocked\\\\.test$\"}",
};
#define NCONDS (sizeof(address_conds) / sizeof(address_conds[0]))

#define ON_ERROR                                                               \
	"on_error {\n verdict = tempfail\n reply = \"451 4.3.0\"\n"            \
	" text = \"try later\"\n}\n"

/*
 * Evaluate one address against one condition (address_conds[k], under
 * not_ when negate), for the sender at mail or the recipient at rcpt; the
 * decision described into got.
 */
static void eval_address(size_t k, bool negate, bool sender, const char *addr,
			 char *got, size_t len, struct decision *d)
{
	char conf[1024];
	struct policy *p;
	const struct policy *cp;
	struct session s;

	snprintf(conf, sizeof(conf),
		 ON_ERROR "rule \"r\" {\n stage = %s\n %s%s%s\n"
			  " verdict = reject\n reply = \"550 5.7.1\"\n"
			  " text = \"x\"\n}\n",
		 sender ? "mail" : "rcpt", negate ? "not_" : "",
		 sender ? "sender" : "recipient", address_conds[k]);
	p = load_text(conf);
	cp = p;
	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, sender ? &(struct facts){.sender = addr}
			 : &(struct facts){.sender = "<a@sender.test>",
					   .rcpt = addr});
	policy_eval(p, sender ? STAGE_MAIL : STAGE_RCPT, &s, NULL, NULL, d);
	describe(d, got, len);
	session_end(&s);
	policy_unref(&cp);
}

/*
 * Every spelling matches every kind of condition, sender and recipient;
 * the other addresses match none.
 */
START_TEST(test_address_spellings)
{
	size_t c = (size_t)_i % NADDR, k = (size_t)_i / NADDR % NCONDS;
	bool sender = (size_t)_i / NADDR / NCONDS == 0;
	const char *want =
	    address_cases[c].match ? "reject r 550 5.7.1 x" : "continue -";
	struct decision *d = malloc(sizeof(*d));
	char got[512];

	ck_assert_ptr_nonnull(d);
	eval_address(k, false, sender, address_cases[c].addr, got, sizeof(got),
		     d);
	ck_assert_msg(strcmp(got, want) == 0,
		      "%s %s, condition%s: got \"%s\", want \"%s\"",
		      sender ? "sender" : "recipient", address_cases[c].addr,
		      address_conds[k], got, want);
	free(d);
}
END_TEST

/*
 * An address that cannot be read gives the failure policy, never "no
 * match", also under not_; the error names the raw value.
 */
START_TEST(test_address_unreadable)
{
	size_t u = (size_t)_i % NUNREAD, k = (size_t)_i / NUNREAD % NCONDS;
	bool sender = (size_t)_i / NUNREAD / NCONDS % 2 == 0;
	bool negate = (size_t)_i / NUNREAD / NCONDS / 2 == 1;
	struct decision *d = malloc(sizeof(*d));
	char got[512], q[96], want[160];

	ck_assert_ptr_nonnull(d);
	eval_address(k, negate, sender, unreadable[u], got, sizeof(got), d);
	ck_assert_msg(d->internal_error &&
			  strcmp(got, "tempfail - 451 4.3.0 try later") == 0,
		      "%s%s %s, %s: got \"%s\"%s, want the failure policy",
		      negate ? "not_" : "", sender ? "sender" : "recipient",
		      unreadable[u], address_conds[k], got,
		      d->internal_error ? "" : " (no internal error)");
	match_quote(q, sizeof(q), unreadable[u], strlen(unreadable[u]));
	snprintf(want, sizeof(want), "rule r: the %s \"%s\" cannot be read (",
		 sender ? "sender" : "recipient", q);
	ck_assert_msg(strncmp(d->error, want, strlen(want)) == 0,
		      "got error \"%s\", want one starting \"%s\"", d->error,
		      want);
	free(d);
}
END_TEST

/* Only a rule that reads the address fails: first conditions first. */
START_TEST(test_address_unread_not_read)
{
	struct policy *p =
	    load_text(ON_ERROR "rule \"r\" {\n stage = rcpt\n"
			       " sender_domain = {\"x.test\"}\n"
			       " recipient_domain = {\"blocked.test\"}\n"
			       " verdict = reject\n}\n"
			       "rule \"later\" {\n stage = eom\n"
			       " recipient_domain = {\"review.test\"}\n"
			       " verdict = quarantine\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));
	struct session s;
	char got[512];

	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, &(struct facts){.sender = "<a@y.test>",
				  .rcpt = "<u@blocked.test"});
	/* rule r stops at its sender condition; the eom rule's recipient
	 * condition is noted at RCPT, and reads it */
	policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
	describe(d, got, sizeof(got));
	ck_assert_msg(d->internal_error &&
			  strcmp(got, "tempfail - 451 4.3.0 try later") == 0 &&
			  strcmp(d->error, "the recipient \"<u@blocked.test\" "
					   "cannot be read (unbalanced or "
					   "nested angle brackets)") == 0,
		      "got \"%s\" (%s), want the failure policy for the eom "
		      "rule's recipient",
		      got, d->error);
	session_end(&s);
	policy_unref(&cp);
	/* without the eom rule nothing reads it: no failure */
	p = load_text(ON_ERROR "rule \"r\" {\n stage = rcpt\n"
			       " sender_domain = {\"x.test\"}\n"
			       " recipient_domain = {\"blocked.test\"}\n"
			       " verdict = reject\n}\n");
	cp = p;
	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, &(struct facts){.sender = "<a@y.test>",
				  .rcpt = "<u@blocked.test"});
	policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
	describe(d, got, sizeof(got));
	ck_assert_msg(!d->internal_error && strcmp(got, "continue -") == 0,
		      "got \"%s\" (%s), want continue", got, d->error);
	session_end(&s);
	policy_unref(&cp);
	free(d);
}
END_TEST

/*
 * Long addresses: up to the fact's 511 octets they are read (a 400-octet
 * one used to match nothing, silently); longer ones give the failure
 * policy.
 */
START_TEST(test_address_long)
{
	static const size_t lens[] = {400, 511, 512, 4000};
	struct decision *d = malloc(sizeof(*d));
	char *addr = malloc(4001), got[512];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		memset(addr, 'x', n);
		addr[0] = '<';
		memcpy(addr + n - 14, "@blocked.test>", 14);
		addr[n] = '\0';
		eval_address(1, false, false, addr, got, sizeof(got), d);
		if (n < FACT_MAX) {
			ck_assert_msg(strcmp(got, "reject r 550 5.7.1 x") == 0,
				      "%zu octets: got \"%s\", want a reject",
				      n, got);
			continue;
		}
		ck_assert_msg(d->internal_error &&
				  strcmp(d->error,
					 "rule r: the recipient is longer than "
					 "the milter keeps") == 0,
			      "%zu octets: got \"%s\" (%s), want the failure "
			      "policy",
			      n, got, d->error);
	}
	free(addr);
	free(d);
}
END_TEST

/*
 * $sender and $recipient show the address as the rules read it, in <>;
 * one that could not be read, as the MTA gave it (sanitised).
 */
START_TEST(test_address_placeholders)
{
	static const struct {
		const char *sender, *rcpt, *want;
	} cases[] = {
	    {"<\"S\"@Sender.TEST.>", "u@blocked.test>",
	     "from <S@sender.test> to <u@blocked.test>"},
	    {"<>", "<@r.test:\"a b\"@x.test>", "from <> to <\"a b\"@x.test>"},
	    {"<\"\">", "<x.test!postmaster>", "from <> to <postmaster@x.test>"},
	    {"a b@x.test", "<u@d.test\x01>", "from a b@x.test to <u@d.test?>"},
	};
	struct policy *p =
	    load_text("rule \"echo\" {\n stage = rcpt\n verdict = reject\n"
		      " reply = \"550 5.7.1\"\n"
		      " text = \"from $sender to $recipient\"\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct session s;
		ck_assert_int_eq(session_begin(&s, p), 0);
		apply(&s, &(struct facts){.sender = cases[i].sender,
					  .rcpt = cases[i].rcpt});
		policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
		ck_assert_ptr_nonnull(d->reply);
		ck_assert_msg(d->reply->nlines == 1 &&
				  strcmp(d->reply->line[0], cases[i].want) == 0,
			      "case %zu: got \"%s\", want \"%s\"", i,
			      d->reply->line[0], cases[i].want);
		session_end(&s);
	}
	free(d);
	policy_unref(&cp);
}
END_TEST

/* Matches reported to the glue, in order. */
struct seen {
	int n;
	char what[8][128];
};

static void record(void *arg, const struct match_event *ev,
		   struct session *s)
{
	struct seen *seen = arg;
	(void)s;

	if (seen->n < 8)
		snprintf(seen->what[seen->n++], 128, "%s%s:%s",
			 ev->dry_run ? "would-" : "",
			 verdict_name(ev->rule->verdict), ev->rule->name);
}

START_TEST(test_first_match_dry_run_continue)
{
	struct policy *p = load_text(
		"rule \"dry\" {\n stage = rcpt\n mode = dry-run\n"
		" verdict = reject\n reply = \"550 5.7.1\"\n}\n"
		"rule \"tag\" {\n stage = rcpt\n verdict = continue\n"
		" add_header = {\"X-Tag: $rule\"}\n}\n"
		"rule \"first\" {\n stage = rcpt\n"
		" recipient_domain = {\"example.test\"}\n"
		" verdict = tempfail\n reply = \"451 4.7.1\"\n"
		" text = \"first\"\n}\n"
		"rule \"second\" {\n stage = rcpt\n verdict = reject\n"
		" reply = \"550 5.7.1\"\n text = \"second\"\n}\n");
	/* counters outlive a policy (core/stats.h): this test's hits */
	uint64_t dry0 = stats_rule_hits(&p->rules[0]);
	uint64_t second0 = stats_rule_hits(&p->rules[3]);
	struct session s;
	struct seen seen = {0};
	struct decision *d = malloc(sizeof(*d));
	char got[512];
	const struct policy *cp = p;

	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, &(struct facts){.rcpt = "<a@example.test>"});
	policy_eval(p, STAGE_RCPT, &s, record, &seen, d);
	describe(d, got, sizeof(got));
	ck_assert_msg(strcmp(got, "tempfail first 451 4.7.1 first") == 0,
		      "got \"%s\", want the first matching enforcing rule",
		      got);
	ck_assert_int_eq(seen.n, 3);
	ck_assert_str_eq(seen.what[0], "would-reject:dry");
	ck_assert_str_eq(seen.what[1], "continue:tag");
	ck_assert_str_eq(seen.what[2], "tempfail:first");
	ck_assert_uint_eq(stats_rule_hits(&p->rules[0]) - dry0, 1);
	ck_assert_uint_eq(stats_rule_hits(&p->rules[3]) - second0, 0);
	free(d);
	session_end(&s);
	policy_unref(&cp);
}
END_TEST

START_TEST(test_placeholders_hostile)
{
	struct policy *p = load_text(
		"rule \"echo\" {\n stage = rcpt\n verdict = reject\n"
		" reply = \"550 5.7.1\"\n"
		" text = \"to $recipient from $helo via $client_name $$5\"\n}\n");
	struct session s;
	struct decision *d = malloc(sizeof(*d));
	char *huge = malloc(10001);
	const struct policy *cp = p;

	memset(huge, 'A', 10000);
	huge[10000] = '\0';
	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, &(struct facts){.rcpt = "<100%@x.test>",
				   .helo = "%s%n\r\n550 5.0.0 bad\x01",
				   .name = huge});
	policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
	ck_assert_ptr_nonnull(d->reply);
	for (size_t i = 0; i < d->reply->nlines; i++) {
		const char *l = d->reply->line[i];
		ck_assert_msg(strpbrk(l, "\r\n\x01") == NULL,
			      "line %zu has a control byte: %s", i, l);
		for (const char *q = l; *q; q++) {
			if (*q == '%') {
				ck_assert_msg(q[1] == '%', "lone %% in %s", l);
				q++;
			}
		}
	}
	ck_assert_msg(strstr(d->reply->line[0], "to <100%%@x.test> from "
						"%%s%%n  550 5.0.0 bad?") !=
			      NULL,
		      "got \"%s\"", d->reply->line[0]);
	/* the 10,000-octet name is cut to PLACEHOLDER_MAX and marked */
	{
		char wire[8192];
		reply_format_wire(d->reply, wire, sizeof(wire));
		ck_assert_msg(strstr(wire, "AAA... $5") != NULL,
			      "got \"%s\"", wire);
		ck_assert_msg(strlen(wire) < 600, "value not capped: %zu",
			      strlen(wire));
	}
	free(huge);
	free(d);
	session_end(&s);
	policy_unref(&cp);
}
END_TEST

/*
 * Sendmail writes "<rcpt>... " before the first line of a 450, 550 or 553
 * reply at RCPT (err.c): that room is kept there, and only there.
 */
START_TEST(test_prefix_room)
{
	static const struct {
		const char *code;
		size_t lines, first_max;
	} cases[] = {
	    {"550 5.7.1", 2, 500 - 26}, /* "<someone@example.test>... " */
	    {"553 5.1.3", 2, 500 - 26},
	    {"451 4.7.1", 1, 500},
	    {"554 5.7.1", 1, 500},
	};
	char conf[1024], text[481];

	for (size_t i = 0; i < 60; i++)
		memcpy(text + 8 * i, "abcdefg ", 8);
	text[479] = '\0'; /* 479 octets, no blank at the end */
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct policy *p;
		const struct policy *cp;
		struct session s;
		struct decision *d = malloc(sizeof(*d));
		snprintf(conf, sizeof(conf),
			 "rule \"r\" {\n stage = rcpt\n verdict = %s\n"
			 " reply = \"%s\"\n text = \"%s\"\n}\n",
			 cases[k].code[0] == '5' ? "reject" : "tempfail",
			 cases[k].code, text);
		p = load_text(conf);
		cp = p;
		ck_assert_int_eq(session_begin(&s, p), 0);
		apply(&s, &(struct facts){.rcpt = "<someone@example.test>"});
		policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
		ck_assert_ptr_nonnull(d->reply);
		ck_assert_msg(d->reply->nlines == cases[k].lines &&
				  strlen(d->reply->line[0]) <=
				      cases[k].first_max,
			      "%s: got %zu lines, the first of %zu octets; want "
			      "%zu lines, the first at most %zu",
			      cases[k].code, d->reply->nlines,
			      strlen(d->reply->line[0]), cases[k].lines,
			      cases[k].first_max);
		free(d);
		session_end(&s);
		policy_unref(&cp);
	}
}
END_TEST

/* A body match split across chunks, at every split point. */
START_TEST(test_body_across_chunks)
{
	static const char body[] = "hello there, casino bonus inside";
	struct policy *p = load_text(
		"rule \"casino\" {\n stage = body\n"
		" body_regex = {\"casino bonus\"}\n verdict = reject\n"
		" reply = \"550 5.7.1\"\n text = \"b\"\n}\n"
		"rule \"at-eom\" {\n stage = eom\n"
		" body_regex = {\"there, ca\"}\n verdict = discard\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));
	size_t n = strlen(body);

	for (size_t cut = 1; cut < n; cut++) {
		struct session s;
		ck_assert_int_eq(session_begin(&s, p), 0);
		s.msg.chunk = (const unsigned char *)body;
		s.msg.chunk_len = cut;
		policy_eval(p, STAGE_BODY, &s, NULL, NULL, d);
		bool early = d->verdict == VERDICT_REJECT;
		if (!early) {
			s.msg.chunk = (const unsigned char *)body + cut;
			s.msg.chunk_len = n - cut;
			policy_eval(p, STAGE_BODY, &s, NULL, NULL, d);
		}
		ck_assert_msg(d->verdict == VERDICT_REJECT,
			      "split at %zu: got %s, want reject", cut,
			      verdict_name(d->verdict));
		s.msg.chunk = NULL;
		s.msg.chunk_len = 0;
		policy_eval(p, STAGE_EOM, &s, NULL, NULL, d);
		ck_assert_msg(d->verdict == VERDICT_DISCARD,
			      "split at %zu: eom got %s, want discard", cut,
			      verdict_name(d->verdict));
		session_end(&s);
	}
	free(d);
	policy_unref(&cp);
}
END_TEST

/* Feed body in chunks of chunk octets through policy_eval, as milter.c
 * does (end of body, then eom); the stage and verdict that decided. */
static enum stage feed_policy(const struct policy *p, struct session *s,
			      const char *body, size_t len, size_t chunk,
			      struct decision *d, match_fn on_match, void *arg)
{
	for (size_t off = 0; off < len; off += chunk) {
		s->msg.chunk = (const unsigned char *)body + off;
		s->msg.chunk_len = len - off < chunk ? len - off : chunk;
		policy_eval(p, STAGE_BODY, s, on_match, arg, d);
		if (d->verdict != VERDICT_CONTINUE)
			return STAGE_BODY;
	}
	s->msg.chunk = NULL;
	s->msg.chunk_len = 0;
	s->msg.body_end = true;
	policy_eval(p, STAGE_BODY, s, on_match, arg, d);
	if (d->verdict != VERDICT_CONTINUE)
		return STAGE_BODY;
	policy_eval(p, STAGE_EOM, s, on_match, arg, d);
	return STAGE_EOM;
}

/*
 * A 30 KB match over the MTAs' 65535-octet boundary, at stage body and
 * at stage eom, with the default span and with body_match_span set: found
 * wherever the boundary falls in it (a sample of cut points).
 */
START_TEST(test_body_long_match)
{
	static const char *const conf[] = {
	    "rule \"long\" {\n stage = body\n"
	    " body_regex = {\"BEGIN-SECRET[x\\\\r\\\\n]{9000,}END-SECRET\"}\n"
	    " verdict = reject\n reply = \"550 5.7.1\"\n}\n",
	    "body_match_span = \"32K\"\n"
	    "rule \"long\" {\n stage = eom\n"
	    " body_regex = {\"BEGIN-SECRET[x\\\\r\\\\n]{9000,}END-SECRET\"}\n"
	    " verdict = discard\n}\n",
	};
	size_t mlen = 30000, len = 65535 + mlen + 1000;
	char *body = malloc(len);
	struct decision *d = malloc(sizeof(*d));

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < len; i++)
		body[i] = i % 72 >= 70 ? "\r\n"[i % 72 - 70] : 'y';
	for (size_t k = 0; k < 2; k++) {
		struct policy *p = load_text(conf[k]);
		const struct policy *cp = p;
		for (size_t start = 65535 - mlen + 20; start < 65535;
		     start += 997) {
			struct session s;
			char *m = body + start;
			memset(m, 'x', mlen);
			memcpy(m, "BEGIN-SECRET", 12);
			memcpy(m + mlen - 10, "END-SECRET", 10);
			ck_assert_int_eq(session_begin(&s, p), 0);
			enum stage st =
			    feed_policy(p, &s, body, len, 65535, d, NULL, NULL);
			ck_assert_msg(d->verdict == (k == 0 ? VERDICT_REJECT
							    : VERDICT_DISCARD),
				      "config %zu, match at %zu: got %s at %s",
				      k, start, verdict_name(d->verdict),
				      stage_name(st));
			session_end(&s);
			for (size_t i = start; i < start + mlen; i++)
				body[i] =
				    i % 72 >= 70 ? "\r\n"[i % 72 - 70] : 'y';
		}
		/* the same body without the match goes through */
		{
			struct session s;
			ck_assert_int_eq(session_begin(&s, p), 0);
			feed_policy(p, &s, body, len, 65535, d, NULL, NULL);
			ck_assert_msg(d->verdict == VERDICT_CONTINUE,
				      "config %zu, no match: got %s", k,
				      verdict_name(d->verdict));
			session_end(&s);
		}
		policy_unref(&cp);
	}
	free(body);
	free(d);
}
END_TEST

static void count_events(void *arg, const struct match_event *ev,
			 struct session *s)
{
	(void)ev;
	(void)s;
	(*(int *)arg)++;
}

/*
 * A body rule whose match needs the end of the body ("bonus\z", or a
 * (?s).* still running at the last chunk) decides at the end of the
 * body, at stage body; a dry-run body rule that matched on an early
 * chunk is not reported again there.
 */
START_TEST(test_body_end)
{
	struct policy *p = load_text(
	    "rule \"seen\" {\n stage = body\n mode = dry-run\n"
	    " body_regex = {\"hello\"}\n verdict = reject\n"
	    " reply = \"550 5.7.1\"\n}\n"
	    "rule \"last\" {\n stage = body\n"
	    " body_regex = {\"bonus\\\\r\\\\n\\\\z\", \"(?s)casino.*bonus\"}\n"
	    " verdict = reject\n reply = \"550 5.7.1\"\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));
	static const char *const bodies[] = {
	    "hello there, a bonus\r\n",
	    "hello there, casino and then a bonus",
	};

	for (size_t b = 0; b < 2; b++) {
		struct session s;
		int events = 0;
		ck_assert_int_eq(session_begin(&s, p), 0);
		enum stage st = feed_policy(p, &s, bodies[b], strlen(bodies[b]),
					    8, d, count_events, &events);
		ck_assert_msg(d->verdict == VERDICT_REJECT && st == STAGE_BODY,
			      "body %zu: got %s at %s, want reject at body", b,
			      verdict_name(d->verdict), stage_name(st));
		ck_assert_msg(d->rule != NULL &&
				  strcmp(d->rule->name, "last") == 0,
			      "body %zu: decided by %s", b,
			      d->rule ? d->rule->name : "-");
		/* "seen" once, at its chunk; then "last" */
		ck_assert_msg(events == 2, "body %zu: got %d events, want 2",
			      b, events);
		session_end(&s);
	}
	free(d);
	policy_unref(&cp);
}
END_TEST

/* A body rule that does not decide (continue, dry-run) holds once a
 * message: not again with every chunk after its match (it used to be
 * logged, and its header queued, once more for each chunk). */
START_TEST(test_body_rule_once)
{
	static const char *const conf[] = {
	    "rule \"tag\" {\n stage = body\n body_regex = {\"casino\"}\n"
	    " verdict = continue\n add_header = {\"X-Tag: casino\"}\n}\n",
	    "rule \"watch\" {\n stage = body\n body_regex = {\"casino\"}\n"
	    " verdict = reject\n mode = dry-run\n}\n",
	};
	static char body[4096];

	memset(body, 'x', sizeof(body));
	memcpy(body + 10, "casino", 6);
	for (size_t k = 0; k < sizeof(conf) / sizeof(conf[0]); k++) {
		struct policy *p = load_text(conf[k]);
		const struct policy *cp = p;
		struct decision *d = malloc(sizeof(*d));
		/* counters belong to the rule's name for the whole process
		 * (core/stats.h): count this test's hits */
		uint64_t hits0 = stats_rule_hits(&p->rules[0]);
		for (int msg = 0; msg < 2; msg++) {
			struct session s;
			int calls = 0;
			ck_assert_int_eq(session_begin(&s, p), 0);
			feed_policy(p, &s, body, sizeof(body), 512, d,
				    count_events, &calls);
			ck_assert_msg(calls == 1 && d->verdict == VERDICT_CONTINUE,
				      "%s message %d: got %d reports, verdict %s; "
				      "want 1, continue",
				      conf[k], msg, calls, verdict_name(d->verdict));
			session_end(&s);
		}
		ck_assert_msg(stats_rule_hits(&p->rules[0]) - hits0 == 2,
			      "hits: got %llu, want 2",
			      (unsigned long long)(stats_rule_hits(&p->rules[0]) -
						   hits0));
		free(d);
		policy_unref(&cp);
	}
}
END_TEST

/* A body regex that hits its limit fails closed, at a chunk or at the
 * end of the body. */
START_TEST(test_body_limit)
{
	struct policy *p = load_text(
	    "on_error {\n verdict = tempfail\n reply = \"451 4.3.0\"\n"
	    " text = \"try later\"\n}\n"
	    "rule \"redos\" {\n stage = eom\n"
	    " body_regex = {\"(a+)+$\"}\n verdict = reject\n"
	    " reply = \"550 5.7.1\"\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));
	size_t len = 40000;
	char *body = malloc(len), got[512];

	memset(body, 'a', len);
	body[len - 1] = '!';
	for (size_t chunk = 4096; chunk <= 65535; chunk += 65535 - 4096) {
		struct session s;
		ck_assert_int_eq(session_begin(&s, p), 0);
		feed_policy(p, &s, body, len, chunk, d, NULL, NULL);
		describe(d, got, sizeof(got));
		ck_assert_msg(d->internal_error,
			      "chunks of %zu: no internal error: got %s", chunk,
			      got);
		ck_assert_str_eq(got, "tempfail - 451 4.3.0 try later");
		session_end(&s);
	}
	free(body);
	free(d);
	policy_unref(&cp);
}
END_TEST

/* A recipient condition after RCPT: any accepted recipient matched. */
START_TEST(test_recipient_memory)
{
	struct policy *p = load_text(
		"rule \"no-list\" {\n stage = rcpt\n"
		" recipient = {\"closed@example.test\"}\n verdict = reject\n"
		" reply = \"550 5.7.1\"\n}\n"
		"rule \"review\" {\n stage = eom\n"
		" recipient_domain = {\"review.test\"}\n"
		" verdict = quarantine\n text = \"r\"\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));
	struct session s;
	static const char *const rcpts[] = {"<a@example.test>",
					    "<b@review.test>",
					    "<c@example.test>"};

	ck_assert_int_eq(session_begin(&s, p), 0);
	policy_eval(p, STAGE_EOM, &s, NULL, NULL, d);
	ck_assert_int_eq(d->verdict, VERDICT_CONTINUE);
	for (int i = 0; i < 3; i++) {
		addr_fact_set(&s.msg.rcpt, rcpts[i]);
		policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
	}
	policy_eval(p, STAGE_EOM, &s, NULL, NULL, d);
	ck_assert_msg(d->verdict == VERDICT_QUARANTINE, "got %s",
		      verdict_name(d->verdict));
	/* a rejected recipient does not count, and a new message forgets */
	session_reset_message(&s);
	addr_fact_set(&s.msg.rcpt, "<closed@review.test>");
	policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
	policy_eval(p, STAGE_EOM, &s, NULL, NULL, d);
	ck_assert_msg(d->verdict == VERDICT_QUARANTINE,
		      "closed@review.test is not rejected: got %s",
		      verdict_name(d->verdict));
	session_reset_message(&s);
	addr_fact_set(&s.msg.rcpt, "<closed@example.test>");
	policy_eval(p, STAGE_RCPT, &s, NULL, NULL, d);
	ck_assert_int_eq(d->verdict, VERDICT_REJECT);
	policy_eval(p, STAGE_EOM, &s, NULL, NULL, d);
	ck_assert_int_eq(d->verdict, VERDICT_CONTINUE);
	session_end(&s);
	free(d);
	policy_unref(&cp);
}
END_TEST

/* A regex that runs out of its limits fails closed. */
START_TEST(test_failure_policy)
{
	struct policy *p = load_text(
		"on_error {\n verdict = tempfail\n reply = \"451 4.3.0\"\n"
		" text = \"try later\"\n}\n"
		"rule \"redos\" {\n stage = header\n header = \"Subject\"\n"
		" header_regex = {\"^(a+)+$\"}\n verdict = reject\n"
		" reply = \"550 5.7.1\"\n}\n");
	const struct policy *cp = p;
	struct decision *d = malloc(sizeof(*d));
	struct session s;
	char *v = malloc(30002);
	char got[512];

	memset(v, 'a', 30000);
	v[30000] = '!';
	v[30001] = '\0';
	ck_assert_int_eq(session_begin(&s, p), 0);
	apply(&s, &(struct facts){.hdr_name = "Subject", .hdr_value = v});
	policy_eval(p, STAGE_HEADER, &s, NULL, NULL, d);
	describe(d, got, sizeof(got));
	ck_assert_msg(d->internal_error, "no internal error: got %s", got);
	ck_assert_str_eq(got, "tempfail - 451 4.3.0 try later");
	session_end(&s);
	free(v);
	free(d);
	policy_unref(&cp);
}
END_TEST

/* Events: only what the rules read is asked of the MTA. */
START_TEST(test_events)
{
	struct policy *p = load_text(
		"rule \"r\" {\n stage = rcpt\n helo_regex = {\"x\"}\n"
		" verdict = reject\n reply = \"550 5.7.1\"\n}\n");
	const struct policy *cp = p;
	unsigned ev = policy_events(p);

	ck_assert_msg(ev == ((1u << STAGE_CONNECT) | (1u << STAGE_HELO) |
			     (1u << STAGE_MAIL) | (1u << STAGE_RCPT) |
			     (1u << STAGE_EOM)),
		      "got events 0x%x", ev);
	policy_unref(&cp);
}
END_TEST

/*
 * The events come from the compiled templates: "$$helo" is a '$' and the
 * word helo, no placeholder, so it needs no HELO event; "$helo" does.
 */
START_TEST(test_events_templates)
{
	static const struct {
		const char *text;
		unsigned extra; /* events beyond connect, mail, rcpt, eom */
	} c[] = {
	    {"text = \"costs $$helo\"", 0},
	    {"text = \"from $helo\"", 1u << STAGE_HELO},
	    {"log = \"$$sender\"", 0},
	    {"log = \"at $helo\"", 1u << STAGE_HELO},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char conf[512];
		struct policy *p;
		const struct policy *cp;
		unsigned want = (1u << STAGE_CONNECT) | (1u << STAGE_MAIL) |
				(1u << STAGE_RCPT) | (1u << STAGE_EOM) |
				c[i].extra;
		snprintf(conf, sizeof(conf),
			 "rule \"r\" {\n stage = rcpt\n verdict = reject\n"
			 " reply = \"550 5.7.1\"\n %s\n}\n",
			 c[i].text);
		p = load_text(conf);
		cp = p;
		ck_assert_msg(policy_events(p) == want,
			      "%s: got events 0x%x, want 0x%x", c[i].text,
			      policy_events(p), want);
		policy_unref(&cp);
	}
}
END_TEST

/* A template compiled once: its literal text, placeholders, expansion. */
START_TEST(test_template)
{
	static const struct {
		const char *src;
		int rc;
		const char *literal; /* or the start of the error */
		size_t count;
		unsigned uses;
		const char *expanded; /* $helo "h%\x01", $rule "r1" */
	} c[] = {
	    {"plain", 0, "plain", 0, 0, "plain"},
	    {"100$$ sure", 0, "100$ sure", 0, 0, "100$ sure"},
	    {"$$helo", 0, "$helo", 0, 0, "$helo"},
	    {"by $rule at $helo.", 0, "by  at .", 2,
	     1u << PH_RULE | 1u << PH_HELO, "by r1 at h%?."},
	    {"$helo$rule", 0, "", 2, 1u << PH_RULE | 1u << PH_HELO,
	     "h%?r1"},
	    {"$helox", -1, "unknown placeholder $helox", 0, 0, NULL},
	    {"cost: 5$", -1, "'$' at position 8 starts no placeholder", 0, 0,
	     NULL},
	    {"$ 5", -1, "'$' at position 1 starts no placeholder", 0, 0,
	     NULL},
	};
	struct session *s = calloc(1, sizeof(*s));
	struct rule r = {0};

	ck_assert_ptr_nonnull(s);
	snprintf(s->helo, sizeof(s->helo), "h%%\x01");
	r.name = (char *)"r1";
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct template *t = NULL;
		char err[300] = "", out[64];
		int rc = template_compile(c[i].src, true, &t, err, sizeof(err));
		ck_assert_msg(rc == c[i].rc, "\"%s\": got %d (%s), want %d",
			      c[i].src, rc, err, c[i].rc);
		if (rc != 0) {
			ck_assert_msg(strncmp(err, c[i].literal,
					      strlen(c[i].literal)) == 0,
				      "\"%s\": got error \"%s\", want \"%s...\"",
				      c[i].src, err, c[i].literal);
			ck_assert_ptr_null(t);
			continue;
		}
		ck_assert_str_eq(template_source(t), c[i].src);
		ck_assert_str_eq(template_literal(t), c[i].literal);
		ck_assert_uint_eq(template_literal_len(t), strlen(c[i].literal));
		ck_assert_uint_eq(template_count(t), c[i].count);
		ck_assert_uint_eq(template_uses(t), c[i].uses);
		policy_expand(t, &r, s, out, sizeof(out));
		ck_assert_str_eq(out, c[i].expanded);
		/* cut to the buffer, always terminated */
		policy_expand(t, &r, s, out, 3);
		ck_assert_uint_le(strlen(out), 2);
		template_free(&t);
		ck_assert_ptr_null(t);
	}
	/* without placeholders, text is taken as written */
	{
		struct template *t = NULL;
		char err[300];
		ck_assert_int_eq(template_compile("5$ $x", false, &t, err,
						  sizeof(err)),
				 0);
		ck_assert_str_eq(template_literal(t), "5$ $x");
		ck_assert_uint_eq(template_count(t), 0);
		template_free(&t);
	}
	free(s);
}
END_TEST

/* The decision for one RCPT on the session's own policy. */
static void rcpt_on(struct session *s, struct decision *d, char *got,
		    size_t len)
{
	addr_fact_set(&s->msg.rcpt, "<x@example.test>");
	policy_eval(s->policy, STAGE_RCPT, s, NULL, NULL, d);
	describe(d, got, len);
}

/*
 * Reload as main.c does it: a config with errors gives no policy and the
 * one in force stays; a good one replaces it for new sessions while a
 * session in flight keeps, and can still use, the one it started with.
 */
START_TEST(test_reload_keeps_policy)
{
	const char *a_text = "rule \"a\" {\n stage = rcpt\n verdict = reject\n"
			     " reply = \"550 5.7.1\"\n text = \"policy A\"\n}\n";
	struct policy *a = load_text(a_text);
	const struct policy *current = a, *old;
	struct policy *bad = NULL, *b;
	struct diags d = {0};
	struct session s;
	struct decision *dec = malloc(sizeof(*dec));
	char path[256], got[512];
	FILE *f;

	ck_assert_int_eq(session_begin(&s, current), 0);
	/* a broken config: refused, nothing replaces A */
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("rule \"x\" {\n stage = nowhere\n}\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(path, &bad, NULL, &d), -1);
	ck_assert_ptr_null(bad);
	ck_assert_msg(d.nerrors > 0 && strstr(d.item[0].text, "bad.conf:2:"),
		      "got \"%s\", want an error at bad.conf:2",
		      d.count ? d.item[0].text : "");
	diags_free(&d);
	/* a good one replaces it; the session keeps A to its end */
	b = load_text("rule \"b\" {\n stage = rcpt\n verdict = tempfail\n"
		      " reply = \"451 4.7.1\"\n text = \"policy B\"\n}\n");
	old = current;
	current = b;
	policy_unref(&old); /* the swap drops the global reference to A */
	rcpt_on(&s, dec, got, sizeof(got));
	ck_assert_msg(strcmp(got, "reject a 550 5.7.1 policy A") == 0,
		      "session in flight: got \"%s\", want policy A", got);
	session_end(&s);
	ck_assert_int_eq(session_begin(&s, current), 0);
	rcpt_on(&s, dec, got, sizeof(got));
	ck_assert_msg(strcmp(got, "tempfail b 451 4.7.1 policy B") == 0,
		      "new session: got \"%s\", want policy B", got);
	session_end(&s);
	policy_unref(&current);
	free(dec);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("engine");

	if (unit_dir_make() != 0)
		return 2;
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_conditions, 0,
			    sizeof(cond_cases) / sizeof(cond_cases[0]));
	tcase_add_test(tc, test_first_match_dry_run_continue);
	tcase_add_test(tc, test_placeholders_hostile);
	tcase_add_test(tc, test_body_rule_once);
	tcase_add_test(tc, test_prefix_room);
	tcase_add_test(tc, test_body_across_chunks);
	tcase_add_test(tc, test_body_long_match);
	tcase_add_test(tc, test_body_end);
	tcase_add_test(tc, test_body_limit);
	tcase_add_test(tc, test_recipient_memory);
	tcase_add_test(tc, test_failure_policy);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_templates);
	tcase_add_test(tc, test_template);
	tcase_add_test(tc, test_reload_keeps_policy);
	suite_add_tcase(s, tc);
	tc = tcase_create("addresses");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_address_spellings, 0,
			    (int)(NADDR * NCONDS * 2));
	tcase_add_loop_test(tc, test_address_unreadable, 0,
			    (int)(NUNREAD * NCONDS * 2 * 2));
	tcase_add_test(tc, test_address_unread_not_read);
	tcase_add_test(tc, test_address_long);
	tcase_add_test(tc, test_address_placeholders);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
