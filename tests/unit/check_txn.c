/*
 * check_txn.c - the transaction core: events in, outcomes and reports out,
 * with no libmilter. Each case is a policy and a script of events, each
 * event with the outcome it must give; the reports a case must (or must
 * not) produce are checked by substring.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "load.h"
#include "core/stats.h"
#include "core/txn.h"

/* Every report line, joined by newlines. */
struct seen {
	char lines[16384];
	size_t n;
	int internal, dropped, held, from_hold;
};

static void on_report(void *arg, const struct txn_report *r)
{
	struct seen *s = arg;
	int k = snprintf(s->lines + s->n, sizeof(s->lines) - s->n, "%s\n",
			 r->line);

	if (k > 0 && (size_t)k < sizeof(s->lines) - s->n)
		s->n += (size_t)k;
	s->internal += r->kind == TXN_R_INTERNAL;
	s->dropped += r->kind == TXN_R_DROPPED;
	s->held += r->held;
	s->from_hold += r->from_hold;
}

static const char *on_macro(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "i") == 0)
		return "QID42";
	return NULL;
}

/* An outcome as one comparable string: "reject 550 5.7.1 text | ...". */
static void describe(const struct txn_outcome *o, char *buf, size_t len)
{
	static const char *const names[] = {"continue", "accept", "reject",
					    "tempfail", "discard"};
	size_t n = (size_t)snprintf(buf, len, "%s", names[o->action]);

	if (o->reply != NULL) {
		char wire[4096];
		reply_format_wire(o->reply, wire, sizeof(wire));
		n += (size_t)snprintf(buf + n, len - n, " %s", wire);
	}
	for (size_t i = 0; i < o->neffects && n < len; i++) {
		const struct txn_effect *e = o->effect[i];
		if (e->kind == TXN_ADD_HEADER)
			n += (size_t)snprintf(buf + n, len - n,
					      " +header %s: %s", e->name,
					      e->value);
		else
			n += (size_t)snprintf(buf + n, len - n,
					      " +quarantine %s", e->value);
	}
}

/*
 * One event from a script line: "connect ADDR NAME", "helo NAME",
 * "mail ARG...", "rcpt ARG...", "data", "header NAME VALUE", "eoh",
 * "body TEXT", "eom", "abort".
 */
static void step(struct txn *t, const char *line, struct txn_outcome *o)
{
	char buf[1024], *argv[8] = {NULL};
	size_t argc = 0;
	char *w, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " ", &save); w != NULL && argc < 7;
	     w = strtok_r(NULL, argc >= 1 && strcmp(argv[0], "body") == 0
				     ? ""
				     : " ",
			  &save))
		argv[argc++] = w;
	memset(o, 0, sizeof(*o));
	if (strcmp(argv[0], "connect") == 0) {
		struct sockaddr_storage ss;
		ck_assert_int_eq(sockaddr_parse(argv[1], &ss), 0);
		txn_connect(t, argv[2], (struct sockaddr *)&ss, o);
	} else if (strcmp(argv[0], "helo") == 0) {
		txn_helo(t, argv[1], o);
	} else if (strcmp(argv[0], "mail") == 0) {
		txn_mail(t, argv + 1, o);
	} else if (strcmp(argv[0], "rcpt") == 0) {
		txn_rcpt(t, argv + 1, o);
	} else if (strcmp(argv[0], "data") == 0) {
		txn_data(t, o);
	} else if (strcmp(argv[0], "header") == 0) {
		txn_header(t, argv[1], argv[2], o);
	} else if (strcmp(argv[0], "eoh") == 0) {
		txn_eoh(t, o);
	} else if (strcmp(argv[0], "body") == 0) {
		txn_body(t, (const unsigned char *)argv[1], strlen(argv[1]),
			 o);
	} else if (strcmp(argv[0], "eom") == 0) {
		txn_eom(t, o);
	} else if (strcmp(argv[0], "abort") == 0) {
		txn_abort(t);
		o->action = TXN_CONTINUE;
	} else {
		ck_abort_msg("bad step \"%s\"", line);
	}
}

#define MAX_STEPS 20

struct txn_case {
	const char *name;
	const char *conf;
	struct {
		const char *event, *want; /* want: describe() of the outcome */
	} step[MAX_STEPS];
	const char *report_has;	 /* a report line contains this */
	const char *report_not;	 /* no report line contains this */
	int internal, dropped, held, from_hold; /* report counts */
	unsigned noreply; /* txn_set_noreply(): stages the MTA does not wait on */
};

#define NR_CONTENT (1u << STAGE_HEADER | 1u << STAGE_EOH | 1u << STAGE_BODY)
#define NR_EARLY (1u << STAGE_CONNECT | 1u << STAGE_HELO)
#define X64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X576 X64 X64 X64 X64 X64 X64 X64 X64 X64 /* over FACT_MAX */

static const struct txn_case cases[] = {
    {"held connect reject is given at the first RCPT, rendered for it",
     "hold_early_verdicts = true\n"
     "rule \"net\" {\n stage = connect\n client_address = {\"192.0.2.0/24\"}\n"
     " verdict = reject\n reply = \"550 5.7.1\"\n"
     " text = \"not from $client_addr to $recipient\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>",
       "reject 550 5.7.1 not from 192.0.2.7 to <b@example.net>"},
      {"rcpt <c@example.net>",
       "reject 550 5.7.1 not from 192.0.2.7 to <c@example.net>"}},
     "(held from connect/helo)", NULL, 0, 0, 1, 2, 0},
    {"a HELO verdict held, then replaced by a second HELO",
     "hold_early_verdicts = true\n"
     "rule \"h\" {\n stage = helo\n helo = {\"bad.example\"}\n"
     " verdict = tempfail\n reply = \"450 4.7.1\"\n text = \"later\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo bad.example", "continue"},
      {"helo good.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "continue"}},
     "(held until RCPT)", "held from", 0, 0, 1, 0, 0},
    {"a HELO accept stops later rules; a second HELO ends it",
     "rule \"ok\" {\n stage = helo\n helo = {\"friend.example\"}\n"
     " verdict = accept\n}\n"
     "rule \"no\" {\n stage = mail\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo friend.example", "accept"},
      {"mail <a@example.org>", "continue"},
      {"helo other.example", "continue"},
      {"mail <a@example.org>", "reject 550 5.7.1 Delivery not authorized, "
			       "message refused"}},
     NULL, NULL, 0, 0, 0, 0, 0},
    {"an accept keeps the headers of earlier rules for end of message",
     "rule \"tag\" {\n stage = connect\n verdict = continue\n"
     " add_header = {\"X-Seen: $client_addr\"}\n}\n"
     "rule \"ok\" {\n stage = mail\n verdict = accept\n}\n"
     "rule \"no\" {\n stage = rcpt\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "continue"},
      {"eom", "continue +header X-Seen: 192.0.2.7"},
      {"mail <a@example.org>", "continue"},
      {"eom", "continue +header X-Seen: 192.0.2.7"}},
     "QID42: decision stage=mail rule=ok", NULL, 0, 0, 0, 0, 0},
    {"a refused RCPT is not counted and later stages see the last taken",
     "rule \"bad\" {\n stage = rcpt\n recipient = {\"bad@example.net\"}\n"
     " verdict = reject\n reply = \"550 5.1.1\"\n text = \"no such user\"\n}\n"
     "rule \"two\" {\n stage = data\n min_recipients = 2\n verdict = reject\n"
     " reply = \"550 5.7.1\"\n text = \"too many, last $recipient\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <ok@example.net>", "continue"},
      {"rcpt <bad@example.net>", "reject 550 5.1.1 no such user"},
      {"data", "continue"},
      {"abort", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <ok@example.net>", "continue"},
      {"rcpt <ok2@example.net>", "continue"},
      {"data", "reject 550 5.7.1 too many, last <ok2@example.net>"}},
     NULL, NULL, 0, 0, 0, 0, 0},
    {"SIZE= at MAIL, counted size from the header on",
     "rule \"big\" {\n stage = mail\n min_size = 1000\n verdict = reject\n"
     " reply = \"552 5.3.4\"\n text = \"too big\"\n}\n"
     "rule \"counted\" {\n stage = eom\n min_size = 30\n verdict = reject\n"
     " reply = \"552 5.3.4\"\n text = \"too big now\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org> SIZE=1000", "reject 552 5.3.4 too big"},
      {"mail <a@example.org> SIZE=10x", "continue"},
      {"mail <a@example.org> size=999", "continue"},
      {"rcpt <b@example.net>", "continue"},
      {"header Subject hello", "continue"},
      {"eoh", "continue"},
      {"body 0123456789", "continue"},
      {"eom", "continue"},
      {"mail <a@example.org>", "continue"},
      {"header Subject hello", "continue"},
      {"eoh", "continue"},
      {"body 0123456789abcdef", "continue"},
      {"eom", "reject 552 5.3.4 too big now"}},
     NULL, NULL, 0, 0, 0, 0, 0},
    {"the message's effects do not leak into the next message",
     "rule \"tag\" {\n stage = mail\n sender = {\"a@example.org\"}\n"
     " verdict = quarantine\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"eom", "continue +quarantine quarantined by rule tag"},
      {"mail <b@example.org>", "continue"},
      {"eom", "continue"},
      {"mail <a@example.org>", "continue"},
      {"abort", "continue"},
      {"mail <b@example.org>", "continue"},
      {"eom", "continue"}},
     NULL, NULL, 0, 0, 0, 0, 0},
    {"headers over the limit are dropped and said",
     "rule \"many\" {\n stage = connect\n verdict = continue\n"
     " add_header = {\"X-1: a\", \"X-2: a\", \"X-3: a\", \"X-4: a\","
     " \"X-5: a\", \"X-6: a\", \"X-7: a\", \"X-8: a\"}\n}\n"
     "rule \"again\" {\n stage = connect\n verdict = continue\n"
     " add_header = {\"X-9: a\", \"X-10: a\", \"X-11: a\", \"X-12: a\","
     " \"X-13: a\", \"X-14: a\", \"X-15: a\", \"X-16: a\"}\n}\n"
     "rule \"over\" {\n stage = connect\n verdict = continue\n"
     " add_header = {\"X-17: a\"}\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"}},
     NULL, NULL, 0, 0, 0, 0, 0},
    {"an unreadable sender gives the failure policy, reported",
     "rule \"s\" {\n stage = mail\n sender = {\"a@example.org\"}\n"
     " verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example..org>",
       "tempfail 451 4.3.0 Temporary internal error, try again later"}},
     "internal error: rule s: the sender", NULL, 1, 0, 0, 0, 0},
    {"Received: headers counted per message, at eoh and at each header",
     "rule \"loop\" {\n stage = eoh\n min_received = 3\n verdict = reject\n"
     " reply = \"554 5.4.6\"\n text = \"too many hops\"\n}\n"
     "rule \"early\" {\n stage = header\n min_received = 5\n"
     " max_received = 5\n verdict = tempfail\n reply = \"451 4.4.6\"\n"
     " text = \"five so far\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"header Received a", "continue"},
      {"header received b", "continue"},
      {"header Subject x", "continue"},
      {"eoh", "continue"},
      {"abort", "continue"},
      {"mail <a@example.org>", "continue"},
      {"header Received a", "continue"},
      {"header Received b", "continue"},
      {"header RECEIVED c", "continue"},
      {"header X-Received d", "continue"},
      {"eoh", "reject 554 5.4.6 too many hops"},
      {"mail <a@example.org>", "continue"},
      {"header Received 1", "continue"},
      {"header Received 2", "continue"},
      {"header Received 3", "continue"},
      {"header Received 4", "continue"},
      {"header Received 5", "tempfail 451 4.4.6 five so far"}},
     NULL, NULL, 0, 0, 0, 0, 0},
    {"a connect decision for every message is logged again with the queue id",
     "rule \"tag\" {\n stage = connect\n verdict = continue\n"
     " add_header = {\"X-Seen: yes\"}\n}\n"
     "rule \"last\" {\n stage = mail\n sender = {\"x@example.org\"}\n"
     " verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"eom", "continue +header X-Seen: yes"}},
     "QID42: decision stage=connect rule=tag verdict=continue applies to "
     "this message",
     NULL, 0, 0, 0, 0, 0},
    {"a decision after RCPT says when no RCPT was asked for",
     "rule \"big\" {\n stage = eom\n min_size = 1\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"eoh", "continue"},
      {"body abc", "continue"},
      {"eom", "reject 550 5.7.1 Delivery not authorized, message refused"}},
     "to=(not requested)", "to=-", 0, 0, 0, 0, 0},
    {"dry-run rules report what they would do and decide nothing",
     "rule \"w\" {\n stage = rcpt\n verdict = reject\n mode = dry-run\n"
     " add_header = {\"X-W: 1\"}\n log = \"saw $recipient\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "continue"},
      {"eom", "continue"}},
     "rule=w would log: saw <b@example.net>", "decision", 0, 0, 0, 0, 0},
    /* The MTA waits on none of header, eoh, body (the no-reply steps
     * Postfix and Sendmail offer): a decision there is logged where it
     * is made and given at the end of the message; nothing after it is
     * tried. */
    {"a header reject the MTA does not wait for is given at end of message",
     "rule \"spam\" {\n stage = header\n header = \"Subject\"\n"
     " header_regex = {\"lottery\"}\n verdict = reject\n"
     " reply = \"550 5.7.1\"\n text = \"no lottery\"\n}\n"
     "rule \"late\" {\n stage = eom\n verdict = tempfail\n"
     " reply = \"451 4.7.1\"\n text = \"try later\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "continue"},
      {"header Subject lottery win", "continue"},
      {"header From x", "continue"},
      {"eoh", "continue"},
      {"body some text", "continue"},
      {"eom", "reject 550 5.7.1 no lottery"},
      {"mail <a@example.org>", "continue"},
      {"header Subject hello", "continue"},
      {"eoh", "continue"},
      {"eom", "tempfail 451 4.7.1 try later"}},
     "QID42: decision stage=header rule=spam verdict=reject",
     "stage=eom rule=spam", 0, 0, 0, 0, NR_CONTENT},
    {"a decision kept from a header is given at the first event answered",
     "rule \"spam\" {\n stage = header\n header = \"Subject\"\n"
     " header_regex = {\"lottery\"}\n verdict = tempfail\n"
     " reply = \"451 4.7.1\"\n text = \"later\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"header Subject lottery", "continue"},
      {"header Subject lottery", "continue"},
      {"eoh", "tempfail 451 4.7.1 later"}},
     "decision stage=header rule=spam", NULL, 0, 0, 0, 0,
     1u << STAGE_HEADER},
    {"a kept decision dies with its message (abort, next MAIL)",
     "rule \"b\" {\n stage = body\n body_regex = {\"casino\"}\n"
     " verdict = discard\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"body a casino here", "continue"},
      {"abort", "continue"},
      {"mail <a@example.org>", "continue"},
      {"body nothing", "continue"},
      {"eom", "continue"},
      {"mail <a@example.org>", "continue"},
      {"body casino", "continue"},
      {"mail <a@example.org>", "continue"},
      {"eom", "continue"},
      {"mail <a@example.org>", "continue"},
      {"body casino", "continue"},
      {"eom", "discard"}},
     "decision stage=body rule=b verdict=discard", NULL, 0, 0, 0, 0,
     NR_CONTENT},
    {"accept at a header the MTA does not wait for, given at the end",
     "rule \"ok\" {\n stage = header\n header = \"X-Ok\"\n"
     " header_regex = {\"yes\"}\n verdict = accept\n}\n"
     "rule \"no\" {\n stage = eom\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"header X-Ok yes", "continue"},
      {"eoh", "continue"},
      {"eom", "accept"}},
     "decision stage=header rule=ok verdict=accept", "rule=no", 0, 0, 0, 0,
     NR_CONTENT},
    /* Under hold_early_verdicts the MTA waits on neither connect nor
     * HELO: their rejects are held until RCPT, and what else they give
     * is kept for the next event it waits on. */
    {"under hold, a connect reject not waited for is still held to RCPT",
     "hold_early_verdicts = true\n"
     "rule \"net\" {\n stage = connect\n client_address = {\"192.0.2.0/24\"}\n"
     " verdict = reject\n reply = \"554 5.7.1\"\n text = \"go away\"\n}\n"
     "rule \"m\" {\n stage = mail\n sender = {\"x@example.org\"}\n"
     " verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "reject 554 5.7.1 go away"}},
     "(held from connect/helo)", NULL, 0, 0, 1, 1, NR_EARLY},
    {"under hold, a connect accept not waited for is given at each MAIL",
     "hold_early_verdicts = true\n"
     "rule \"friend\" {\n stage = connect\n"
     " client_address = {\"192.0.2.0/24\"}\n verdict = accept\n}\n"
     "rule \"h\" {\n stage = helo\n verdict = reject\n}\n"
     "rule \"m\" {\n stage = mail\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo host.example", "continue"},
      {"mail <a@example.org>", "accept"},
      {"mail <b@example.org>", "accept"}},
     "decision stage=connect rule=friend verdict=accept", "rule=h", 0, 0, 0,
     0, NR_EARLY},
    {"under hold, a connect internal error is given at each MAIL",
     "hold_early_verdicts = true\n"
     "rule \"name\" {\n stage = connect\n client_name = {\"bad.example\"}\n"
     " verdict = reject\n}\n"
     "rule \"m\" {\n stage = mail\n sender = {\"a@example.org\"}\n"
     " verdict = accept\n}\n",
     {{"connect 192.0.2.7 " X576, "continue"},
      {"helo host.example", "continue"},
      {"mail <a@example.org>",
       "tempfail 451 4.3.0 Temporary internal error, try again later"},
      {"abort", "continue"},
      {"mail <a@example.org>",
       "tempfail 451 4.3.0 Temporary internal error, try again later"}},
     "stage=connect internal error", "rule=m", 1, 0, 0, 0, NR_EARLY},
    {"under hold, a kept HELO accept dies with a second HELO",
     "hold_early_verdicts = true\n"
     "rule \"ok\" {\n stage = helo\n helo = {\"friend.example\"}\n"
     " verdict = accept\n}\n"
     "rule \"no\" {\n stage = mail\n verdict = reject\n"
     " reply = \"550 5.7.1\"\n text = \"no\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo friend.example", "continue"},
      {"helo other.example", "continue"},
      {"mail <a@example.org>", "reject 550 5.7.1 no"},
      {"helo friend.example", "continue"},
      {"mail <a@example.org>", "accept"}},
     "decision stage=helo rule=ok verdict=accept", NULL, 0, 0, 0, 0,
     NR_EARLY},
    {"a match only the end of the body shows, at end of message",
     "rule \"tail\" {\n stage = body\n body_regex = {\"bye\\\\z\"}\n"
     " verdict = reject\n reply = \"550 5.7.1\"\n text = \"tail\"\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"body say bye", "continue"},
      {"eom", "reject 550 5.7.1 tail"}},
     "decision stage=body rule=tail verdict=reject", NULL, 0, 0, 0, 0,
     NR_CONTENT},
    /* kept connection decisions and what ends them */
    {"a connect internal error given at each end of message waited on",
     "hold_early_verdicts = true\n"
     "rule \"name\" {\n stage = connect\n client_name = {\"bad.example\"}\n"
     " verdict = accept\n}\n"
     "rule \"b\" {\n stage = body\n body_regex = {\"zzz\"}\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 " X576, "continue"},
      {"helo host.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "continue"},
      {"header Subject x", "continue"},
      {"eoh", "continue"},
      {"body hello", "continue"},
      {"eom", "tempfail 451 4.3.0 Temporary internal error, try again later"},
      {"abort", "continue"},
      {"helo again.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"eom", "tempfail 451 4.3.0 Temporary internal error, try again later"}},
     "stage=connect internal error", NULL, 1, 0, 0, 0,
     NR_EARLY | 1u << STAGE_MAIL | 1u << STAGE_RCPT | NR_CONTENT},
    {"a HELO internal error kept, then a second HELO decides anew",
     "hold_early_verdicts = true\n"
     "rule \"h\" {\n stage = helo\n helo = {\"bad.example\"}\n"
     " verdict = reject\n}\n"
     "rule \"m\" {\n stage = mail\n sender = {\"x@example.org\"}\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo " X576, "continue"},
      {"helo good.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"rcpt <b@example.net>", "continue"}},
     "stage=helo internal error", NULL, 1, 0, 0, 0, NR_EARLY},
    {"a kept HELO accept outlives RSET; connect headers still added",
     "hold_early_verdicts = true\n"
     "rule \"tag\" {\n stage = connect\n verdict = continue\n"
     " add_header = {\"X-Seen: $client_addr\"}\n}\n"
     "rule \"ok\" {\n stage = helo\n helo = {\"friend.example\"}\n"
     " verdict = accept\n}\n"
     "rule \"no\" {\n stage = mail\n verdict = reject\n}\n",
     {{"connect 192.0.2.7 host.example", "continue"},
      {"helo friend.example", "continue"},
      {"mail <a@example.org>", "continue"},
      {"abort", "continue"},
      {"mail <a@example.org>", "continue"},
      {"eom", "continue +header X-Seen: 192.0.2.7"}},
     NULL, NULL, 0, 0, 0, 0, NR_EARLY},
};

START_TEST(test_txn_case)
{
	const struct txn_case *c = &cases[_i];
	struct policy *p = load_text(c->conf);
	struct seen *seen = calloc(1, sizeof(*seen));
	const struct txn_io io = {on_macro, on_report, seen};
	struct txn *t;
	const struct policy *cp = p;

	ck_assert_ptr_nonnull(seen);
	t = txn_new(p, &io);
	ck_assert_ptr_nonnull(t);
	txn_set_noreply(t, c->noreply);
	for (int i = 0; i < MAX_STEPS && c->step[i].event != NULL; i++) {
		struct txn_outcome o;
		char got[8192];
		step(t, c->step[i].event, &o);
		describe(&o, got, sizeof(got));
		ck_assert_msg(strcmp(got, c->step[i].want) == 0,
			      "%s: step %d \"%s\": got \"%s\", want \"%s\"",
			      c->name, i, c->step[i].event, got,
			      c->step[i].want);
	}
	if (c->report_has != NULL)
		ck_assert_msg(strstr(seen->lines, c->report_has) != NULL,
			      "%s: no report has \"%s\"; reports:\n%s",
			      c->name, c->report_has, seen->lines);
	if (c->report_not != NULL)
		ck_assert_msg(strstr(seen->lines, c->report_not) == NULL,
			      "%s: a report has \"%s\"; reports:\n%s",
			      c->name, c->report_not, seen->lines);
	ck_assert_msg(seen->internal == c->internal &&
			  seen->held == c->held &&
			  seen->from_hold == c->from_hold,
		      "%s: internal/held/from_hold reports: got %d/%d/%d, "
		      "want %d/%d/%d",
		      c->name, seen->internal, seen->held, seen->from_hold,
		      c->internal, c->held, c->from_hold);
	txn_free(&t);
	ck_assert_ptr_null(t);
	free(seen);
	policy_unref(&cp);
}
END_TEST

/* More add_header than a message takes: 16 kept, the rest said. */
#define DROPPED_CASE 7
START_TEST(test_dropped_headers)
{
	const struct txn_case *c = &cases[DROPPED_CASE];
	struct policy *p = load_text(c->conf);
	struct seen *seen = calloc(1, sizeof(*seen));
	const struct txn_io io = {on_macro, on_report, seen};
	struct txn *t = txn_new(p, &io);
	const struct policy *cp = p;
	struct txn_outcome o;

	step(t, "connect 192.0.2.7 host.example", &o);
	step(t, "mail <a@example.org>", &o);
	step(t, "eom", &o);
	ck_assert_uint_eq(o.neffects, 16);
	ck_assert_str_eq(o.effect[15]->name, "X-16");
	ck_assert_int_eq(seen->dropped, 1);
	ck_assert_msg(strstr(seen->lines, "1 headers not added: at most 16") !=
			  NULL,
		      "reports:\n%s", seen->lines);
	txn_free(&t);
	free(seen);
	policy_unref(&cp);
}
END_TEST

/* The front end's own failure: the failure policy, or tempfail. */
START_TEST(test_fail)
{
	struct policy *p = load_text("on_error {\n verdict = reject\n}\n"
				     "rule \"r\" {\n stage = connect\n"
				     " verdict = continue\n log = \"x\"\n}\n");
	const struct policy *cp = p;
	struct txn_outcome o;
	struct txn *t = txn_new(p, NULL);

	txn_fail(NULL, NULL, &o);
	ck_assert_int_eq(o.action, TXN_TEMPFAIL);
	ck_assert_ptr_null(o.reply);
	txn_fail(NULL, p, &o);
	ck_assert_int_eq(o.action, TXN_REJECT);
	ck_assert_str_eq(o.reply->basic, "550");
	txn_fail(t, NULL, &o);
	ck_assert_int_eq(o.action, TXN_REJECT);
	txn_free(&t);
	txn_free(&t); /* NULL is fine */
	policy_unref(&cp);
}
END_TEST

/*
 * The stages that can only say continue (the MTA need not wait there):
 * not those with a rule, a condition observing them, or (hold) the RCPT
 * that gives a held connect verdict; never EOM.
 */
#define Q(st) (1u << (st))
#define ALL_BUT_EOM ((1u << STAGE_EOM) - 1)

static const struct {
	const char *conf;
	unsigned want;
} quiet_cases[] = {
    {"# nothing\n", ALL_BUT_EOM},
    {"rule \"r\" {\n stage = rcpt\n recipient = { \"a@b.test\" }\n"
     " verdict = reject\n reply = \"550 5.1.1\"\n}\n",
     ALL_BUT_EOM & ~Q(STAGE_RCPT)},
    /* held connect verdicts: connect need not be answered, RCPT must */
    {"rule \"c\" {\n stage = connect\n client_address = { \"192.0.2.0/24\" }\n"
     " verdict = reject\n reply = \"550 5.7.1\"\n}\n"
     "hold_early_verdicts = true\n",
     ALL_BUT_EOM & ~Q(STAGE_RCPT)},
    {"rule \"h\" {\n stage = helo\n helo = { \"x.example\" }\n"
     " verdict = accept\n}\n"
     "rule \"m\" {\n stage = mail\n verdict = reject\n}\n"
     "hold_early_verdicts = true\n",
     ALL_BUT_EOM & ~Q(STAGE_MAIL) & ~Q(STAGE_RCPT)},
    {"rule \"c\" {\n stage = connect\n client_address = { \"192.0.2.0/24\" }\n"
     " verdict = reject\n reply = \"550 5.7.1\"\n}\n"
     "hold_early_verdicts = false\n",
     ALL_BUT_EOM & ~Q(STAGE_CONNECT)},
    /* header, eoh and body always: their decisions can wait */
    {"rule \"b\" {\n stage = eom\n body_regex = { \"x+y\" }\n"
     " verdict = reject\n"
     " reply = \"550 5.7.1\"\n}\n",
     ALL_BUT_EOM},
    {"rule \"h\" {\n stage = header\n header = \"Subject\"\n"
     " header_regex = { \"x\" }\n verdict = reject\n}\n"
     "rule \"e\" {\n stage = eoh\n min_received = 3\n verdict = reject\n}\n"
     "rule \"b\" {\n stage = body\n body_regex = { \"y\" }\n"
     " verdict = reject\n}\n"
     "rule \"d\" {\n stage = data\n verdict = reject\n}\n",
     ALL_BUT_EOM & ~Q(STAGE_DATA)},
};

START_TEST(test_quiet)
{
	struct policy *p = load_text(quiet_cases[_i].conf);
	const struct policy *cp = p;
	struct txn *t = txn_new(p, NULL);
	unsigned got;

	ck_assert_ptr_nonnull(t);
	got = txn_quiet(t);
	ck_assert_msg(got == quiet_cases[_i].want,
		      "case %d: got quiet 0x%x, want 0x%x", _i, got,
		      quiet_cases[_i].want);
	ck_assert_msg(txn_noreply(t) == 0, "case %d: noreply before set", _i);
	txn_set_noreply(t, got & Q(STAGE_MAIL));
	ck_assert_uint_eq(txn_noreply(t), got & Q(STAGE_MAIL));
	txn_free(&t);
	policy_unref(&cp);
}
END_TEST

/* Counters belong to the rule's name and outlive the policy. */
START_TEST(test_counters_survive_reload)
{
	static const char conf[] =
	    "rule \"r\" {\n stage = connect\n verdict = continue\n"
	    " log = \"x\"\n}\n";
	struct policy *p = load_text(conf);
	struct policy *q;
	const struct policy *cp = p, *cq;
	struct txn_outcome o;
	struct txn *t = txn_new(p, NULL);
	/* this test's hits: other tests may have counted a rule "r" */
	uint64_t h0 = stats_rule_hits(&p->rules[0]);

	step(t, "connect 192.0.2.7 host.example", &o);
	txn_free(&t);
	ck_assert_uint_eq(stats_rule_hits(&p->rules[0]) - h0, 1);
	q = load_text(conf);
	cq = q;
	policy_unref(&cp); /* the old policy goes */
	ck_assert_uint_eq(stats_rule_hits(&q->rules[0]) - h0, 1);
	t = txn_new(q, NULL);
	step(t, "connect 192.0.2.7 host.example", &o);
	txn_free(&t);
	ck_assert_uint_eq(stats_rule_hits(&q->rules[0]) - h0, 2);
	policy_unref(&cq);
}
END_TEST

static unsigned long long messages_total(const struct policy *p)
{
	char *buf = NULL, *m;
	size_t len = 0;
	unsigned long long n = 0;

	ck_assert_int_eq(stats_prometheus(p, &buf, &len), 0);
	m = strstr(buf, "\nreplycode_milter_messages_total ");
	ck_assert_ptr_nonnull(m);
	n = strtoull(m + strlen("\nreplycode_milter_messages_total "), NULL, 10);
	free(buf);
	return n;
}

/* A message that reaches its end under a kept connect decision is
 * counted in messages_total, as any message that reached its end. */
START_TEST(test_kept_connect_counts_message)
{
	struct policy *p = load_text(
	    "hold_early_verdicts = true\n"
	    "rule \"name\" {\n stage = connect\n client_name = {\"bad.example\"}\n"
	    " verdict = accept\n}\n");
	const struct policy *cp = p;
	struct txn *t = txn_new(p, NULL);
	struct txn_outcome o;
	unsigned long long before = messages_total(p);

	txn_set_noreply(t, NR_EARLY | 1u << STAGE_MAIL | 1u << STAGE_RCPT |
			       NR_CONTENT);
	step(t, "connect 192.0.2.7 " X576, &o);
	step(t, "mail <a@example.org>", &o);
	step(t, "eom", &o);
	ck_assert_int_eq(o.action, TXN_TEMPFAIL);
	ck_assert_uint_eq(messages_total(p) - before, 1);
	txn_free(&t);
	policy_unref(&cp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("core");

	if (unit_dir_make() != 0)
		return 2;
	tcase_add_loop_test(tc, test_txn_case, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_dropped_headers);
	tcase_add_test(tc, test_fail);
	tcase_add_loop_test(tc, test_quiet, 0,
			    (int)(sizeof(quiet_cases) / sizeof(quiet_cases[0])));
	tcase_add_test(tc, test_counters_survive_reload);
	tcase_add_test(tc, test_kept_connect_counts_message);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
