/*
 * mta.h - how Postfix and Sendmail put a milter's verdict on the wire: one
 * table of their differences, for --simulate and the tests. README.md's
 * "How Postfix and Sendmail differ" describes exactly this table, and
 * tests/e2e/run.sh compares it with what the real MTAs answered.
 *
 * Core floor: pure functions on caller-owned memory; no libmilter, no
 * logging, no allocation. Text the MTA makes up names its host HOST.
 */
#ifndef RCM_MTA_H
#define RCM_MTA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/reply.h"
#include "core/stage.h"

enum mta { MTA_POSTFIX, MTA_SENDMAIL, MTA_COUNT };

/* "postfix", "sendmail". */
const char *mta_name(enum mta m);

/* The MTA's own host name in text it makes up. */
#define MTA_HOST "HOST"

/* One verdict as the milter hands it to the MTA. */
struct mta_case {
	enum stage stage;	   /* where the rule decided */
	bool held;		   /* a connect/HELO verdict kept until RCPT
				      (hold_early_verdicts): given there */
	enum verdict verdict;	   /* only reject and tempfail give a reply */
	const struct reply *reply; /* NULL: the milter sent none, the MTA
				      uses its own text */
	const char *addr;	   /* MAIL or RCPT: the address as the client
				      wrote it (the milter's argv[0]); NULL
				      elsewhere */
};

/* Room for a wire line: 512 octets, or more for Sendmail's prefix when
 * a reply was not rendered with room for it. */
#define MTA_LINE_MAX (REPLY_ESCAPED_MAX + REPLY_SENDMAIL_PREFIX_MAX + 16)

/* What the client sees in answer to one command. */
struct mta_say {
	const char *when;  /* "greeting", "HELO", "MAIL", "RCPT", "DATA" or
			      "end-of-data" (after the final dot) */
	const char *also;  /* later commands that get the same, or NULL:
			      "VRFY ETRN AUTH" */
	size_t nlines;	   /* 1..REPLY_MAX_LINES */
	char line[REPLY_MAX_LINES][MTA_LINE_MAX]; /* no CRLF, '%' single */
};

/*
 * The client's view of one verdict: at most two commands show it (a
 * refused greeting, then the command that gets the reply), in order;
 * none for a verdict without a reply (accept, discard, quarantine,
 * continue: the client sees the MTA's usual 250).
 */
struct mta_answer {
	size_t nsay;
	struct mta_say say[2];
	bool closes;	    /* the MTA closes the connection after it */
	bool text_dropped;  /* the milter's reply text is not shown */
};

/* Fill *out (caller-owned, about 70 KB) for MTA m and verdict c. */
void mta_answer(enum mta m, const struct mta_case *c, struct mta_answer *out);

/*
 * Sendmail's "<address>... " in front of the first line of a 450, 550 or
 * 553 reply to MAIL or RCPT: the address shortened as Sendmail's
 * shortenstring() does (more than 202 octets: the first 100, "...", the
 * last 100). Writes it to buf (at least REPLY_SENDMAIL_PREFIX_MAX + 1).
 */
void mta_sendmail_prefix(const char *addr, char *buf, size_t buflen);

#endif
