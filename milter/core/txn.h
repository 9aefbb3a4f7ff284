/*
 * txn.h - the transaction core: the events of one SMTP connection in,
 * outcomes out. Every front end drives the policy through it: the
 * libmilter glue (milter.c), --simulate (simulate.c) and the tests.
 *
 * It keeps the connection's facts and its current message's, holds a
 * connect or HELO verdict until RCPT when the policy says so, stops trying
 * rules after an accept, gathers the headers and quarantine that rules ask
 * for and gives them at end of message, undoes a refused RCPT, counts the
 * message's size and reads SIZE=. What it decides is reported, one line a
 * decision, to the front end's report function.
 *
 * Never includes libmilter's headers, never logs and never exits: an
 * internal failure (no memory, a regex at its limits) becomes the failure
 * policy's outcome and a report. A struct txn is used by one thread at a
 * time (libmilter calls one connection's callbacks in turn).
 */
#ifndef RCM_TXN_H
#define RCM_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/policy.h"

/* What the front end must do with the command the event answers. */
enum txn_action {
	TXN_CONTINUE, /* go on (SMFIS_CONTINUE) */
	TXN_ACCEPT,   /* accept, no more events for this message or
			 connection (SMFIS_ACCEPT) */
	TXN_REJECT,   /* refuse with the outcome's reply (SMFIS_REJECT) */
	TXN_TEMPFAIL, /* refuse for now with the reply (SMFIS_TEMPFAIL) */
	TXN_DISCARD,  /* accept and throw the message away (SMFIS_DISCARD) */
};

/* Something a rule asks the MTA to do to the message at its end. */
enum txn_effect_kind { TXN_ADD_HEADER, TXN_QUARANTINE };

#define TXN_HEADER_NAME_MAX 128
#define TXN_HEADER_VALUE_MAX 1024

struct txn_effect {
	enum txn_effect_kind kind;
	char name[TXN_HEADER_NAME_MAX];   /* TXN_ADD_HEADER */
	char value[TXN_HEADER_VALUE_MAX]; /* the header's value, or the
					     quarantine reason */
};

/*
 * The answer to one event. reply is set for TXN_REJECT and TXN_TEMPFAIL
 * (NULL when the failure policy's reply could not be had: the MTA then
 * sends its own); it and the effects stay valid until the next call on
 * the same txn. effects are only given by txn_eom(), in the order to apply
 * them, with TXN_CONTINUE or TXN_ACCEPT.
 */
struct txn_outcome {
	enum txn_action action;
	const struct reply *reply;
	size_t neffects;
	const struct txn_effect *const *effect;
};

/* What a report says. */
enum txn_report_kind {
	TXN_R_DECISION, /* a rule decided, or would have (dry run), or a
			   continue rule matched */
	TXN_R_RULE_LOG, /* a rule's log line */
	TXN_R_WOULD_HEADER, /* a dry-run rule would have added a header */
	TXN_R_INTERNAL, /* an internal error: the failure policy decides */
	TXN_R_DROPPED,	/* headers over the per-message limit not added */
	TXN_R_STATE,	/* the state store failed; state_error = ignore
			   let the rule go on as if it did not hold */
	TXN_R_EARLY,	/* a connect or HELO decision that applies to the
			   message, logged again once it has a queue id */
	TXN_R_DNS,	/* a DNS list lookup failed (text: which, why) */
};

enum txn_severity { TXN_INFO, TXN_WARNING, TXN_ERROR };

/*
 * One report. line is the whole log line, facts sanitised, prefixed with
 * the queue id or "connN" (at most TXN_LINE_MAX octets with the NUL); the
 * other fields are there for front ends that show decisions their own way.
 */
#define TXN_LINE_MAX 4096
struct txn_report {
	enum txn_report_kind kind;
	enum txn_severity severity;
	const struct rule *rule; /* NULL for the failure policy */
	enum stage stage;	 /* where it was decided or given */
	enum verdict verdict;
	bool dry_run;
	bool held;		   /* kept until RCPT (not given now) */
	bool from_hold;		   /* a held verdict given now, at RCPT */
	const struct reply *reply; /* NULL when none is sent */
	const char *text;	   /* RULE_LOG: the rendered log text;
				      WOULD_HEADER: the header name;
				      INTERNAL, STATE: what failed;
				      DNS: the lookup and why it failed */
	const char *line;
};

/* What the front end gives the core. */
struct txn_io {
	/* An MTA macro's value, or NULL when the MTA did not send it. */
	const char *(*macro)(void *arg, const char *name);
	/* Every report, in order (may be NULL). */
	void (*report)(void *arg, const struct txn_report *r);
	void *arg;
};

struct txn;

/*
 * A new connection on policy p (a reference is taken; txn_free drops it).
 * Returns NULL when memory runs out.
 */
struct txn *txn_new(const struct policy *p, const struct txn_io *io);

/* Free t (NULL allowed) and set *t NULL. */
void txn_free(struct txn **t);

/* The events t's policy needs, as (1 << stage) bits (policy_events()). */
unsigned txn_events(const struct txn *t);

/*
 * The stages whose events an MTA need not wait on under t's policy (the
 * milter protocol's no-reply steps), as (1 << stage) bits:
 *   - those that can only ever give TXN_CONTINUE: no rule at the stage, no
 *     condition observing it (so no scanner that can fail there), and for
 *     RCPT no connect or HELO verdict that may be held until it;
 *   - header, end of header and body, always: Postfix and Sendmail give
 *     the client a verdict on the content only after its final dot,
 *     whichever of these events it came at, so a decision there can wait
 *     for the next event the MTA waits on (see txn_set_noreply());
 *   - connect and HELO under hold_early_verdicts: their rejects and
 *     tempfails are held until the first RCPT, and what else they can
 *     give (an accept, the failure policy's verdict) waits in the same way
 *     for the next event the MTA waits on (MAIL, when it has rules).
 * EOM is never one of them.
 */
unsigned txn_quiet(const struct txn *t);

/*
 * The stages the front end agreed with the MTA not to answer (a subset of
 * txn_quiet()). 0 at first. At such a stage the outcome is always
 * TXN_CONTINUE: a decision made there (logged and counted there, as
 * before) is kept, no further rule is tried for the message (for the
 * connection, at connect or HELO), and the decision is the outcome of the
 * next event the front end answers: the end of the message when the MTA
 * waits on none of header, eoh and body.
 */
void txn_set_noreply(struct txn *t, unsigned stages);
unsigned txn_noreply(const struct txn *t);

/*
 * How report lines name the connection: the queue id once the MTA gave
 * one, else "connN". Written into buf (96 octets will do); returns buf.
 */
const char *txn_label(const struct txn *t, char *buf, size_t buflen);

/*
 * The events. host is the client's name as the MTA gives it ("[addr]" or
 * empty: not known); sa its address (NULL, or a family other than AF_INET
 * and AF_INET6: not known). argv are the MAIL and RCPT arguments as
 * libmilter gives them: the address, then its ESMTP parameters, NULL
 * terminated (NULL allowed).
 */
void txn_connect(struct txn *t, const char *host, const struct sockaddr *sa,
		 struct txn_outcome *o);
void txn_helo(struct txn *t, const char *helo, struct txn_outcome *o);
void txn_mail(struct txn *t, char *const *argv, struct txn_outcome *o);
void txn_rcpt(struct txn *t, char *const *argv, struct txn_outcome *o);
void txn_data(struct txn *t, struct txn_outcome *o);
void txn_header(struct txn *t, const char *name, const char *value,
		struct txn_outcome *o);
void txn_eoh(struct txn *t, struct txn_outcome *o);
void txn_body(struct txn *t, const unsigned char *chunk, size_t len,
	      struct txn_outcome *o);
void txn_eom(struct txn *t, struct txn_outcome *o);

/* The message ended without end of message (RSET, a lost connection);
 * t may be NULL (nothing to do). */
void txn_abort(struct txn *t);

/*
 * The failure policy's outcome, when the front end itself fails (no
 * memory, an effect the MTA refused): of t's policy, or of p when t is
 * NULL (p NULL too: tempfail with the MTA's own reply). Reports nothing.
 */
void txn_fail(struct txn *t, const struct policy *p, struct txn_outcome *o);

#endif
