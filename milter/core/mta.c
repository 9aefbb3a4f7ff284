/*
 * mta.c - the table of what Postfix and Sendmail put on the wire for a
 * milter's reply (mta.h). Each row says where it comes from: tests/e2e
 * (seen with Postfix 3.7 and Sendmail 8.17) or the MTA's source (Postfix
 * smtpd.c, smtpd_chat.c and milter8.c; Sendmail srvrsmtp.c, milter.c and
 * err.c).
 *
 * Must never: include libmilter, log, allocate.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mta.h"

const char *mta_name(enum mta m)
{
	return m == MTA_POSTFIX ? "postfix" : "sendmail";
}

/* Sendmail: MAXSHORTSTR and shortenstring() (libsmutil/snprintf.c). */
#define SM_SHORT 203

void mta_sendmail_prefix(const char *addr, char *buf, size_t buflen)
{
	size_t l = strlen(addr), m = (SM_SHORT - 3) / 2;

	if (l < SM_SHORT)
		snprintf(buf, buflen, "%s... ", addr);
	else
		snprintf(buf, buflen, "%.*s...%s... ", (int)m, addr,
			 addr + l - m);
}

static struct mta_say *say(struct mta_answer *a, const char *when,
			   const char *also)
{
	struct mta_say *s = &a->say[a->nsay++];

	s->when = when;
	s->also = also;
	s->nlines = 0;
	return s;
}

static void __attribute__((format(printf, 2, 3)))
line(struct mta_say *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nlines >= REPLY_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(s->line[s->nlines++], MTA_LINE_MAX, fmt, ap);
	va_end(ap);
}

/* A rendered text line as the client sees it: "%%" is one '%'. */
static void unescape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < outlen; in++) {
		out[o++] = *in;
		if (in[0] == '%' && in[1] == '%')
			in++;
	}
	out[o] = '\0';
}

/*
 * The milter's reply, or the MTA's own one-line text when it sent none,
 * on the wire; with Sendmail's "<addr>... " on the first line when pfx.
 */
static void put_reply(struct mta_say *s, const struct reply *r,
		      const char *own, const char *pfx)
{
	char text[REPLY_ESCAPED_MAX + 1];
	const char *first_pfx = "";

	if (r == NULL) {
		/* own: "550 5.7.1 Command rejected" */
		if (pfx != NULL && (strncmp(own, "450", 3) == 0 ||
				    strncmp(own, "550", 3) == 0 ||
				    strncmp(own, "553", 3) == 0))
			line(s, "%.10s%s%s", own, pfx, own + 10);
		else
			line(s, "%s", own);
		return;
	}
	if (pfx != NULL && (strcmp(r->basic, "450") == 0 ||
			    strcmp(r->basic, "550") == 0 ||
			    strcmp(r->basic, "553") == 0))
		first_pfx = pfx;
	for (size_t i = 0; i < r->nlines; i++) {
		unescape(r->line[i], text, sizeof(text));
		line(s, "%s%c%s %s%s", r->basic,
		     i + 1 < r->nlines ? '-' : ' ', r->enhanced,
		     i == 0 ? first_pfx : "", text);
	}
}

static bool code_is(const struct reply *r, const char *code)
{
	return r != NULL && strcmp(r->basic, code) == 0;
}

/* Where a stage's reply is given; the command's name for mta_say. */
static const char *when_of(enum stage st, bool held)
{
	if (held || st == STAGE_RCPT)
		return "RCPT";
	switch (st) {
	case STAGE_CONNECT:
	case STAGE_HELO:
	case STAGE_MAIL:
		return "MAIL";
	case STAGE_DATA:
		return "DATA";
	default:
		return "end-of-data";
	}
}

/*
 * Postfix (smtpd.c, milter8.c): a connect or HELO reply is kept and given
 * to MAIL and the other commands after it; the greeting turns into
 * Postfix's own 554 for a 5xx and 421 for a 421, HELO stays 250. A 421 or
 * 521 closes the connection wherever it is given (smtpd_chat.c). Without
 * a reply: 550 5.7.1 Command rejected, 451 4.7.1 Service unavailable.
 */
static void postfix(const struct mta_case *c, struct mta_answer *a)
{
	const struct reply *r = c->reply;
	bool reject = c->verdict == VERDICT_REJECT;
	const char *own = reject
			      ? "550 5.7.1 Command rejected"
			      : "451 4.7.1 Service unavailable - try again later";
	bool closing = code_is(r, "421") || code_is(r, "521");

	if (c->stage == STAGE_CONNECT && !c->held) {
		if (closing) {
			line(say(a, "greeting", NULL),
			     "421 " MTA_HOST
			     " Service unavailable - try again later");
			a->closes = true;
			a->text_dropped = true;
			return;
		}
		if (reject)
			line(say(a, "greeting", NULL),
			     "554 " MTA_HOST " ESMTP not accepting connections");
		put_reply(say(a, "MAIL", "VRFY ETRN AUTH"), r, own, NULL);
		return;
	}
	if (c->stage == STAGE_HELO && !c->held) {
		if (closing) {
			put_reply(say(a, "HELO", NULL), r, own, NULL);
			a->closes = true;
			return;
		}
		put_reply(say(a, "MAIL", "VRFY ETRN AUTH"), r, own, NULL);
		return;
	}
	put_reply(say(a, when_of(c->stage, c->held), NULL), r, own, NULL);
	a->closes = closing;
}

/*
 * Sendmail (srvrsmtp.c, milter.c, err.c). Connect: the reply's text is
 * dropped (milter.c turns it into reject, tempfail or, for a one-line
 * "421 ", shutdown): a reject greets 554 and answers every later command
 * 550 5.0.0 Command rejected; a tempfail greets 220 and answers MAIL 451
 * 4.3.2; a shutdown greets 421 4.7.0 and closes. HELO: the reply is given
 * whole to every later command but HELO, NOOP, RSET and QUIT; a 421 is the
 * HELO's answer and closes. MAIL and RCPT: "<addr>... " in front of a 450,
 * 550 or 553 (err.c). A 421 closes the connection.
 */
static void sendmail(const struct mta_case *c, struct mta_answer *a)
{
	const struct reply *r = c->reply;
	bool reject = c->verdict == VERDICT_REJECT;
	const char *own = reject ? "550 5.7.1 Command rejected"
				 : "451 4.3.2 Please try again later";
	bool is421 = code_is(r, "421");
	const char *when = when_of(c->stage, c->held);
	char pfx[REPLY_SENDMAIL_PREFIX_MAX + 8];

	if (c->stage == STAGE_CONNECT && !c->held) {
		a->text_dropped = true;
		if (is421 && r->nlines == 1) {
			line(say(a, "greeting", NULL),
			     "421 4.7.0 " MTA_HOST " closing connection");
			a->closes = true;
		} else if (reject) {
			line(say(a, "greeting", NULL),
			     "554 " MTA_HOST " ESMTP not accepting messages");
			line(say(a, "MAIL", "RCPT DATA VRFY ETRN"),
			     "550 5.0.0 Command rejected");
		} else {
			line(say(a, "MAIL", NULL),
			     "451 4.3.2 Please try again later");
		}
		return;
	}
	if (c->stage == STAGE_HELO && !c->held) {
		if (is421) {
			put_reply(say(a, "HELO", NULL), r, own, NULL);
			a->closes = true;
		} else if (r == NULL && reject) {
			line(say(a, "MAIL", "RCPT DATA VRFY ETRN"),
			     "550 5.0.0 Command rejected");
		} else if (r == NULL) {
			line(say(a, "MAIL", NULL),
			     "451 4.3.2 Please try again later");
		} else {
			put_reply(say(a, "MAIL", "RCPT DATA VRFY ETRN"), r, own,
				  NULL);
		}
		return;
	}
	if (strcmp(when, "end-of-data") == 0 && r == NULL && reject)
		own = "554 5.7.1 Command rejected";
	pfx[0] = '\0';
	if ((strcmp(when, "MAIL") == 0 || strcmp(when, "RCPT") == 0) &&
	    c->addr != NULL && c->addr[0] != '\0')
		mta_sendmail_prefix(c->addr, pfx, sizeof(pfx));
	put_reply(say(a, when, NULL), r, own, pfx[0] != '\0' ? pfx : NULL);
	a->closes = is421;
}

void mta_answer(enum mta m, const struct mta_case *c, struct mta_answer *out)
{
	out->nsay = 0;
	out->closes = false;
	out->text_dropped = false;
	if (c->verdict != VERDICT_REJECT && c->verdict != VERDICT_TEMPFAIL)
		return;
	if (m == MTA_POSTFIX)
		postfix(c, out);
	else
		sendmail(c, out);
}
