/*
 * txn.c - the transaction core (txn.h): a connection's and its message's
 * facts, what a stage's decision becomes, and the report of every
 * decision, for every front end alike.
 *
 * Rules it keeps (see the notes on reply codes):
 *   - a reply leaves here only with the reject or tempfail it belongs to;
 *   - the message context is reset at end of message AND at abort;
 *   - any internal failure becomes the failure policy's verdict, reported;
 *     never a silent accept;
 *   - mail data reaches report lines only sanitised.
 */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/stats.h"
#include "core/dnsq.h"
#include "core/txn.h"

#define PENDING_HEADERS_MAX 16 /* add_header effects per scope */
#define LOG_VALUE_MAX 200      /* octets of a fact in a report line */
#define NSCOPES 3	       /* connect, HELO, message */
#define EFFECTS_MAX (NSCOPES * (PENDING_HEADERS_MAX + 1))
#define EARLY_MAX 16 /* connect/HELO decisions logged again per message */

/* Effects from the rules of one scope: connection, HELO or message. */
struct effects {
	size_t nheaders;
	size_t dropped; /* headers over PENDING_HEADERS_MAX, reported */
	struct txn_effect header[PENDING_HEADERS_MAX];
	bool quarantine;
	struct txn_effect reason;
};

enum scope { SCOPE_CONNECT, SCOPE_HELO, SCOPE_MESSAGE };

struct txn {
	struct session s;
	struct txn_io io;
	unsigned long id;  /* connection number, for reports */
	bool accepted;	   /* a connect/helo accept: no more rules */
	enum stage accepted_at;
	bool held;	   /* a connect/helo verdict held until RCPT */
	enum stage held_at;
	enum verdict held_verdict;
	const struct rule *held_rule;
	bool held_dns; /* held: DNS lookups of held_rule failed (its own
			  reply is not the one given) */
	struct reply *held_reply; /* owned; allocated only when held */
	struct decision *d;	  /* owned; allocated at the first rule */
	const struct txn_effect *out[EFFECTS_MAX]; /* txn_eom's effects */
	/* connect and HELO decisions that apply to every message: logged
	 * again in each message once it has a queue id */
	size_t nearly;
	struct {
		const struct rule *rule;
		enum stage stage;
		enum verdict verdict;
	} early[EARLY_MAX];
	unsigned noreply; /* the front end's (txn_set_noreply) */
	enum stage report_st; /* the stage report_dns() reports at */
	/* A decision at a stage in noreply: kept for the next event the
	 * MTA waits on (txn_quiet()). One made at connect or HELO is the
	 * connection's and outlives message_done(). */
	bool deferred;
	enum stage later_at;
	struct txn_outcome later;
	/* Last, and never zeroed as a whole (about 30 KiB, mostly header
	 * text): only what effects_clear() resets is read before written. */
	struct effects fx[NSCOPES];
};

/* The stages whose decisions may wait for the end of the message: both
 * MTAs answer the client's final dot only, whatever event was refused. */
#define CONTENT_STAGES                                                         \
	(1u << STAGE_HEADER | 1u << STAGE_EOH | 1u << STAGE_BODY)

static unsigned long next_id;

/* --- facts ----------------------------------------------------------- */

static const char *macro_lookup(void *arg, const char *name)
{
	struct txn *t = arg;

	return t->io.macro != NULL ? t->io.macro(t->io.arg, name) : NULL;
}

/*
 * Copy an untrusted string into a bounded fact buffer; a value that does
 * not fit is marked with bit in *too_long, so that no rule matches a part.
 */
static void set_fact(char *dst, size_t dstlen, const char *src,
		     unsigned *too_long, unsigned bit)
{
	size_t n = src != NULL ? strnlen(src, dstlen) : 0;

	*too_long &= ~bit;
	if (n == dstlen) {
		*too_long |= bit;
		n = dstlen - 1;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void refresh_queue_id(struct txn *t)
{
	const char *qid = macro_lookup(t, "i");

	if (qid != NULL && qid[0] != '\0')
		snprintf(t->s.msg.queue_id, sizeof(t->s.msg.queue_id), "%s", qid);
}

/* SIZE= among the ESMTP parameters of MAIL; 0 when not given or bad. */
static uint64_t size_param(char *const *argv)
{
	for (size_t i = 1; argv != NULL && argv[0] != NULL && argv[i] != NULL;
	     i++) {
		if (strncasecmp(argv[i], "SIZE=", 5) == 0) {
			char *end;
			unsigned long long v = strtoull(argv[i] + 5, &end, 10);
			if (end != argv[i] + 5 && *end == '\0')
				return v;
		}
	}
	return 0;
}

/* --- reports --------------------------------------------------------- */

/* A sanitised copy for report lines. */
static const char *clean(const char *v, char *buf, size_t buflen)
{
	if (v == NULL || v[0] == '\0')
		return "-";
	reply_sanitize_value(v, strlen(v), buf, buflen, LOG_VALUE_MAX);
	return buf;
}

/* "NOQUEUE" style prefix: the queue id when known, else the connection. */
static void line_prefix(const struct txn *t, char *buf, size_t buflen)
{
	if (t->s.msg.queue_id[0] != '\0') {
		char q[80];
		snprintf(buf, buflen, "%s", clean(t->s.msg.queue_id, q, sizeof(q)));
	} else {
		snprintf(buf, buflen, "conn%lu", t->id);
	}
}

/*
 * " from_read=<...> to_read=<...>": how the rules read the addresses, for
 * each one whose normal form is not the raw value the line shows (which
 * stays as the MTA gave it, for forensics); "" when both are.
 */
static void read_as(const struct txn *t, char *out, size_t outlen)
{
	const struct addr_fact *a[2] = {&t->s.msg.sender, &t->s.msg.rcpt};
	static const char *const key[2] = {"from_read", "to_read"};
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < 2; i++) {
		char shown[ADDR_SHOW_MAX], v[LOG_VALUE_MAX + 4];
		int n;
		if (a[i]->state != ADDR_OK ||
		    strcmp(addr_fact_show(a[i], shown, sizeof(shown)),
			   a[i]->raw) == 0)
			continue;
		n = snprintf(out + o, outlen - o, " %s=%s", key[i],
			     clean(shown, v, sizeof(v)));
		if (n < 0 || (size_t)n >= outlen - o)
			break;
		o += (size_t)n;
	}
}

static void emit(struct txn *t, struct txn_report *r, const char *line)
{
	r->line = line;
	if (t->io.report != NULL)
		t->io.report(t->io.arg, r);
	r->line = NULL; /* it was the caller's */
}

/*
 * One line a decision. The reply's text may be long: it is cut to
 * REPORT_REPLY_MAX octets, and the cut is said, so that the facts after it
 * (client, sender, recipient and how the rules read them, each at most
 * LOG_VALUE_MAX) always fit the line.
 */
#define REPORT_REPLY_MAX 2400

static void report_decision(struct txn *t, struct txn_report *r,
			    const char *note)
{
	char pfx[96], wire[REPLY_WIRE_MAX * REPLY_MAX_LINES];
	char cn[LOG_VALUE_MAX + 4], ca[80], from[LOG_VALUE_MAX + 4],
	    to[LOG_VALUE_MAX + 4], as[2 * LOG_VALUE_MAX + 40];
	char line[TXN_LINE_MAX];
	const char *to_shown;
	size_t n = 1;

	line_prefix(t, pfx, sizeof(pfx));
	if (r->reply != NULL)
		n = (size_t)reply_format_wire(r->reply, wire, sizeof(wire));
	else
		snprintf(wire, sizeof(wire), "-");
	if (n > REPORT_REPLY_MAX) {
		char mark[64];
		int m = snprintf(mark, sizeof(mark),
				 "...[cut: %zu more octets]",
				 n - REPORT_REPLY_MAX + sizeof(mark));
		memcpy(wire + REPORT_REPLY_MAX - sizeof(mark), mark,
		       (size_t)m + 1);
	}
	read_as(t, as, sizeof(as));
	/* no RCPT event asked for: say so, rather than "-" */
	if (r->stage > STAGE_RCPT &&
	    !(t->s.policy->need_stages & (1u << STAGE_RCPT)))
		to_shown = "(not requested)";
	else
		to_shown = clean(t->s.msg.rcpt.raw, to, sizeof(to));
	snprintf(line, sizeof(line),
		 "%s: %s%s stage=%s rule=%s verdict=%s reply=\"%.2400s\" "
		 "client=%s[%s] from=%s to=%s%s%s",
		 pfx, r->dry_run ? "would " : "",
		 r->dry_run ? verdict_name(r->verdict) : "decision",
		 stage_name(r->stage), r->rule != NULL ? r->rule->name : "-",
		 verdict_name(r->verdict), wire,
		 clean(t->s.client_name, cn, sizeof(cn)),
		 clean(t->s.client_addr, ca, sizeof(ca)),
		 clean(t->s.msg.sender.raw, from, sizeof(from)), to_shown, as,
		 note != NULL ? note : "");
	r->kind = TXN_R_DECISION;
	emit(t, r, line);
}

/* A report about rule r other than a decision: "PFX: rule=NAME what". */
static void report_rule(struct txn *t, enum txn_report_kind kind,
			const struct rule *r, enum stage st, bool dry,
			const char *text, const char *what)
{
	struct txn_report rep = {0};
	char pfx[96], line[TXN_LINE_MAX];

	line_prefix(t, pfx, sizeof(pfx));
	snprintf(line, sizeof(line), "%s: rule=%s %s", pfx, r->name, what);
	rep.kind = kind;
	rep.rule = r;
	rep.stage = st;
	rep.verdict = r->verdict;
	rep.dry_run = dry;
	rep.text = text;
	emit(t, &rep, line);
}

/*
 * Remember a connect or HELO decision that applies to the messages of
 * the connection (an accept, a quarantine, a continue rule's headers or
 * log, a held verdict), to log it again in each message with its queue
 * id. A new HELO replaces what the last one decided.
 */
static void remember_early(struct txn *t, const struct rule *r, enum stage st,
			   enum verdict v)
{
	if (st > STAGE_HELO || t->nearly >= EARLY_MAX)
		return;
	t->early[t->nearly].rule = r;
	t->early[t->nearly].stage = st;
	t->early[t->nearly].verdict = v;
	t->nearly++;
}

static void forget_helo(struct txn *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nearly; i++)
		if (t->early[i].stage != STAGE_HELO)
			t->early[k++] = t->early[i];
	t->nearly = k;
}

/* Once the message has a queue id: the connection's decisions again. */
static void log_early(struct txn *t)
{
	char pfx[96], line[TXN_LINE_MAX];

	if (t->s.msg.early_logged || t->s.msg.queue_id[0] == '\0')
		return;
	t->s.msg.early_logged = true;
	line_prefix(t, pfx, sizeof(pfx));
	for (size_t i = 0; i < t->nearly; i++) {
		struct txn_report rep = {0};
		rep.kind = TXN_R_EARLY;
		rep.rule = t->early[i].rule;
		rep.stage = t->early[i].stage;
		rep.verdict = t->early[i].verdict;
		snprintf(line, sizeof(line),
			 "%s: decision stage=%s rule=%s verdict=%s applies to "
			 "this message (decided for the connection, before "
			 "it had a queue id)",
			 pfx, stage_name(rep.stage), rep.rule->name,
			 verdict_name(rep.verdict));
		emit(t, &rep, line);
	}
}

/* --- effects --------------------------------------------------------- */

/* Empty a scope's effects: its counts; the text is written before read. */
static void effects_clear(struct effects *fx)
{
	fx->nheaders = 0;
	fx->dropped = 0;
	fx->quarantine = false;
}

static struct effects *scope_of(struct txn *t, enum stage st)
{
	if (st == STAGE_CONNECT)
		return &t->fx[SCOPE_CONNECT];
	return st == STAGE_HELO ? &t->fx[SCOPE_HELO] : &t->fx[SCOPE_MESSAGE];
}

static void queue_header(struct txn *t, struct effects *fx,
			 const struct rule *r, size_t i)
{
	struct txn_effect *h;

	if (fx->nheaders >= PENDING_HEADERS_MAX) {
		fx->dropped++;
		return;
	}
	h = &fx->header[fx->nheaders++];
	h->kind = TXN_ADD_HEADER;
	snprintf(h->name, sizeof(h->name), "%s", r->hdr_name[i]);
	policy_expand(r->hdr_t[i], r, &t->s, h->value, sizeof(h->value));
}

static void queue_quarantine(struct txn *t, struct effects *fx,
			     const struct rule *r)
{
	char *reason = fx->reason.value;

	fx->quarantine = true;
	fx->reason.kind = TXN_QUARANTINE;
	reason[0] = '\0';
	if (r->ntext > 0)
		policy_expand(r->text_t[0], r, &t->s, reason,
			      sizeof(fx->reason.value));
	/* libmilter refuses an empty reason */
	if (reason[strspn(reason, " ")] == '\0')
		snprintf(reason, sizeof(fx->reason.value),
			 "quarantined by rule %s", r->name);
}

/* The engine reports each matching rule here: effects and reports. */
static void on_match(void *arg, const struct match_event *ev,
		     struct session *s)
{
	struct txn *t = arg;
	const struct rule *r = ev->rule;
	struct effects *fx = scope_of(t, ev->stage);
	(void)s;

	if (!ev->dry_run && r->verdict == VERDICT_CONTINUE &&
	    (r->nheaders > 0 || r->log_t != NULL))
		remember_early(t, r, ev->stage, r->verdict);
	if (ev->dry_run || r->verdict == VERDICT_CONTINUE) {
		struct txn_report rep = {0};
		rep.rule = r;
		rep.stage = ev->stage;
		rep.verdict = r->verdict;
		rep.dry_run = ev->dry_run;
		rep.reply = ev->reply;
		report_decision(t, &rep, NULL);
	}
	if (r->log_t != NULL) {
		char text[1024], what[1100];
		policy_expand(r->log_t, r, &t->s, text, sizeof(text));
		snprintf(what, sizeof(what), "%s%s",
			 ev->dry_run ? "would log: " : "", text);
		report_rule(t, TXN_R_RULE_LOG, r, ev->stage, ev->dry_run, text,
			    what);
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		if (ev->dry_run) {
			char what[200];
			snprintf(what, sizeof(what), "would add header %s",
				 r->hdr_name[i]);
			report_rule(t, TXN_R_WOULD_HEADER, r, ev->stage, true,
				    r->hdr_name[i], what);
			continue;
		}
		queue_header(t, fx, r, i);
	}
	if (!ev->dry_run && r->verdict == VERDICT_QUARANTINE)
		queue_quarantine(t, fx, r);
}

static bool has_effects(const struct txn *t)
{
	for (int i = 0; i < NSCOPES; i++)
		if (t->fx[i].nheaders > 0 || t->fx[i].quarantine)
			return true;
	return false;
}

/* The effects of every scope, in order, for txn_eom's outcome. */
static void gather_effects(struct txn *t, struct txn_outcome *o)
{
	size_t n = 0;

	for (int i = 0; i < NSCOPES; i++) {
		const struct effects *fx = &t->fx[i];
		for (size_t k = 0; k < fx->nheaders; k++)
			t->out[n++] = &fx->header[k];
		if (fx->quarantine)
			t->out[n++] = &fx->reason;
		if (fx->dropped > 0) {
			struct txn_report rep = {0};
			char pfx[96], line[256];
			line_prefix(t, pfx, sizeof(pfx));
			snprintf(line, sizeof(line),
				 "%s: %zu headers not added: at most %d a "
				 "message",
				 pfx, fx->dropped, PENDING_HEADERS_MAX);
			rep.kind = TXN_R_DROPPED;
			rep.severity = TXN_WARNING;
			rep.stage = STAGE_EOM;
			emit(t, &rep, line);
		}
	}
	o->neffects = n;
	o->effect = t->out;
}

/* --- decisions ------------------------------------------------------- */

static void outcome(struct txn_outcome *o, enum txn_action a,
		    const struct reply *r)
{
	o->action = a;
	o->reply = r;
	o->neffects = 0;
	o->effect = NULL;
}

static void outcome_failure(const struct policy *p, struct txn_outcome *o)
{
	if (p == NULL)
		outcome(o, TXN_TEMPFAIL, NULL);
	else if (p->failure.verdict == VERDICT_ACCEPT)
		outcome(o, TXN_ACCEPT, NULL);
	else
		outcome(o,
			p->failure.verdict == VERDICT_REJECT ? TXN_REJECT
							     : TXN_TEMPFAIL,
			&p->failure.rendered);
}

void txn_fail(struct txn *t, const struct policy *p, struct txn_outcome *o)
{
	if (t != NULL)
		p = t->s.policy;
	outcome_failure(p, o);
	if (p != NULL) {
		stats_internal(p->failure.verdict);
		stats_decision(STAGE_COUNT, p->failure.verdict,
			       o->reply != NULL ? p->failure.stats : NULL);
	}
}

/* An internal failure of the core itself: reported, failure policy. */
static void fail_internal(struct txn *t, enum stage st, const char *what,
			  struct txn_outcome *o)
{
	struct txn_report rep = {0};
	char pfx[96], line[TXN_LINE_MAX];

	outcome_failure(t->s.policy, o);
	stats_internal(t->s.policy->failure.verdict);
	stats_decision(st, t->s.policy->failure.verdict,
		       o->reply != NULL ? t->s.policy->failure.stats : NULL);
	line_prefix(t, pfx, sizeof(pfx));
	snprintf(line, sizeof(line),
		 "%s: stage=%s internal error: %s; failure policy gives %s",
		 pfx, stage_name(st), what,
		 verdict_name(t->s.policy->failure.verdict));
	rep.kind = TXN_R_INTERNAL;
	rep.severity = TXN_ERROR;
	rep.stage = st;
	rep.verdict = t->s.policy->failure.verdict;
	rep.text = what;
	emit(t, &rep, line);
}

/* A DNS lookup that failed: a warning, and what became of it. */
static void report_dns(void *arg, const char *what)
{
	struct txn *t = arg;
	struct txn_report rep = {0};
	char pfx[96], line[TXN_LINE_MAX], v[600];

	line_prefix(t, pfx, sizeof(pfx));
	reply_sanitize_value(what, strlen(what), v, sizeof(v), sizeof(v) - 4);
	snprintf(line, sizeof(line), "%s: stage=%s DNS lookup failed: %s; %s",
		 pfx, stage_name(t->report_st), v,
		 t->s.policy->dns.tempfail
		     ? "dns_error = tempfail: a rule it decides tempfails"
		     : "dns_error = ignore: taken as not listed");
	rep.kind = TXN_R_DNS;
	rep.severity = TXN_WARNING;
	rep.stage = t->report_st;
	rep.text = v;
	emit(t, &rep, line);
}

/* The state store failed and state_error = ignore let the rule go on. */
static void report_store(struct txn *t, enum stage st)
{
	struct txn_report rep = {0};
	char pfx[96], line[TXN_LINE_MAX];

	line_prefix(t, pfx, sizeof(pfx));
	snprintf(line, sizeof(line),
		 "%s: stage=%s state store failed: %s; state_error = ignore: "
		 "rate limits and greylisting pass",
		 pfx, stage_name(st), t->s.store_err);
	rep.kind = TXN_R_STATE;
	rep.severity = TXN_WARNING;
	rep.stage = st;
	rep.text = t->s.store_err;
	emit(t, &rep, line);
}

static enum txn_action action_of(enum verdict v)
{
	switch (v) {
	case VERDICT_REJECT:
		return TXN_REJECT;
	case VERDICT_TEMPFAIL:
		return TXN_TEMPFAIL;
	case VERDICT_ACCEPT:
		return TXN_ACCEPT;
	case VERDICT_DISCARD:
		return TXN_DISCARD;
	default:
		return TXN_CONTINUE;
	}
}

/* Keep a connect or HELO reject or tempfail until the first RCPT. */
static void hold(struct txn *t, enum stage st, struct txn_outcome *o)
{
	struct decision *d = t->d;

	if (t->held_reply == NULL)
		t->held_reply = malloc(sizeof(*t->held_reply));
	if (t->held_reply == NULL) {
		fail_internal(t, st, "out of memory while holding a verdict",
			      o);
		return;
	}
	*t->held_reply = *d->reply;
	t->held = true;
	t->held_at = st;
	t->held_verdict = d->verdict;
	t->held_rule = d->rule;
	t->held_dns = d->dns_failed;
	outcome(o, TXN_CONTINUE, NULL);
}

/* Turn the decision in t->d into the outcome for stage st. */
static void finish(struct txn *t, enum stage st, struct txn_outcome *o)
{
	const struct policy *p = t->s.policy;
	struct decision *d = t->d;
	bool hold_it = st <= STAGE_HELO && p->hold_early &&
		       !d->internal_error && verdict_sends_reply(d->verdict);
	struct txn_report rep = {0};

	rep.stage = st;
	rep.verdict = d->verdict;
	rep.reply = d->reply;
	if (d->dns_failed) {
		/* the rule could not be decided: its own reply and counters
		 * are not the ones given */
		rep.rule = d->rule;
		rep.held = hold_it;
		report_decision(t, &rep,
				hold_it ? " (DNS lookups failed, dns_error = "
					  "tempfail; held until RCPT)"
					: " (DNS lookups failed, dns_error = "
					  "tempfail)");
		if (!hold_it)
			stats_decision(st, d->verdict, NULL);
	} else if (d->internal_error) {
		fail_internal(t, st, d->error, o);
		report_decision(t, &rep, " (internal error)");
	} else if (d->rule != NULL) {
		rep.rule = d->rule;
		rep.held = hold_it;
		report_decision(t, &rep, hold_it ? " (held until RCPT)" : NULL);
		if (!hold_it) /* a held one counts where it is given */
			stats_decision(st, d->verdict,
				       d->reply != NULL ? d->rule->reply_stats
							: NULL);
		if (hold_it || d->verdict == VERDICT_ACCEPT ||
		    d->verdict == VERDICT_QUARANTINE)
			remember_early(t, d->rule, st, d->verdict);
	}

	outcome(o, action_of(d->verdict), d->reply);
	switch (d->verdict) {
	case VERDICT_REJECT:
	case VERDICT_TEMPFAIL:
		if (hold_it)
			hold(t, st, o);
		return;
	case VERDICT_ACCEPT:
		if (st <= STAGE_HELO) {
			t->accepted = true;
			t->accepted_at = st;
			if (has_effects(t))
				o->action = TXN_CONTINUE;
			return;
		}
		if (st == STAGE_EOM || !has_effects(t))
			return;
		/* Keep the header and quarantine of earlier rules: stop
		 * trying rules but stay for the end of the message. */
		t->s.msg.accepted = true;
		o->action = TXN_CONTINUE;
		return;
	default:
		return;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void eval_stage(struct txn *t, enum stage st, struct txn_outcome *o);

/* A decision kept from the message's own events (not the connection's,
 * made at connect or HELO, which outlives messages). */
static bool message_decision_kept(const struct txn *t)
{
	return t->deferred && t->later_at >= STAGE_MAIL;
}

/* A decision kept from the message's own events dies with it. */
static void forget_message_decision(struct txn *t)
{
	if (message_decision_kept(t))
		t->deferred = false;
}

/*
 * Evaluate stage st, the time it takes counted to the message's. A
 * decision at a stage the MTA does not wait on is kept, and given at the
 * next event it waits on (the end of the message at the latest); no rule
 * is tried in between, as none would be had it been given at once.
 */
static void eval(struct txn *t, enum stage st, struct txn_outcome *o)
{
	uint64_t t0;

	if (t->deferred) {
		if (st != STAGE_EOM && (t->noreply & (1u << st))) {
			outcome(o, TXN_CONTINUE, NULL);
		} else {
			*o = t->later;
			/* one made at connect or HELO is the connection's:
			 * given again at each event waited on, as the MTA
			 * keeps a connect or HELO answer */
			forget_message_decision(t);
		}
		return;
	}
	t0 = now_ns();
	eval_stage(t, st, o);
	t->s.msg.busy_ns += now_ns() - t0;
	if (o->action != TXN_CONTINUE && st != STAGE_EOM &&
	    (t->noreply & (1u << st))) {
		t->later = *o;
		t->later_at = st;
		t->deferred = true;
		outcome(o, TXN_CONTINUE, NULL);
	}
}

static void eval_stage(struct txn *t, enum stage st, struct txn_outcome *o)
{
	const struct policy *p = t->s.policy;

	outcome(o, TXN_CONTINUE, NULL);
	refresh_queue_id(t);
	if (st >= STAGE_MAIL)
		log_early(t);
	if (t->accepted || t->s.msg.accepted)
		return;
	/* A held verdict wins: nothing before RCPT may replace or undo it. */
	if (t->held && st < STAGE_RCPT)
		return;
	/* With no rule at this stage there is still work when conditions
	 * of later rules observe it: body scanners, recipients seen. */
	if (p->nstage[st] == 0 && !(p->watch & (1u << st)))
		return;
	if (t->d == NULL && (t->d = malloc(sizeof(*t->d))) == NULL) {
		fail_internal(t, st, "out of memory", o);
		return;
	}
	policy_eval(p, st, &t->s, on_match, t, t->d);
	t->report_st = st;
	dnsq_report(&t->s, report_dns, t);
	if (t->s.store_err[0] != '\0' && !t->d->internal_error)
		report_store(t, st);
	t->s.store_err[0] = '\0';
	finish(t, st, o);
}

/*
 * Give a held connect/HELO verdict at RCPT, rendered again for RCPT (room
 * for Sendmail's "<address>... ", $recipient filled in); the copy made
 * when it was held serves if that fails.
 */
static void answer_held(struct txn *t, struct txn_outcome *o)
{
	const struct reply *r = t->held_reply;
	struct txn_report rep = {0};

	refresh_queue_id(t);
	if (t->d == NULL)
		t->d = malloc(sizeof(*t->d));
	if (t->d != NULL && t->held_rule != NULL && !t->held_dns &&
	    policy_render(t->held_rule, STAGE_RCPT, &t->s, t->d) == 0)
		r = t->d->reply;
	rep.rule = t->held_rule;
	rep.stage = STAGE_RCPT;
	rep.verdict = t->held_verdict;
	rep.from_hold = true;
	rep.reply = r;
	report_decision(t, &rep,
			t->held_dns ? " (held from connect/helo: DNS lookups "
				      "failed, dns_error = tempfail)"
				    : " (held from connect/helo)");
	stats_decision(STAGE_RCPT, t->held_verdict,
		       t->held_rule != NULL && !t->held_dns
			   ? t->held_rule->reply_stats
			   : NULL);
	outcome(o, action_of(t->held_verdict), r);
}

/* --- the connection -------------------------------------------------- */

struct txn *txn_new(const struct policy *p, const struct txn_io *io)
{
	struct txn *t = malloc(sizeof(*t));

	if (t == NULL)
		return NULL;
	memset(t, 0, offsetof(struct txn, fx));
	for (int i = 0; i < NSCOPES; i++)
		effects_clear(&t->fx[i]);
	if (session_begin(&t->s, p) != 0) {
		free(t);
		return NULL;
	}
	if (io != NULL)
		t->io = *io;
	t->s.macro = macro_lookup;
	t->s.macro_arg = t;
	t->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	stats_session();
	return t;
}

void txn_free(struct txn **tp)
{
	struct txn *t = *tp;

	if (t == NULL)
		return;
	session_end(&t->s);
	free(t->held_reply);
	free(t->d);
	free(t);
	*tp = NULL;
}

unsigned txn_events(const struct txn *t)
{
	return t->s.policy->need_stages;
}

unsigned txn_quiet(const struct txn *t)
{
	const struct policy *p = t->s.policy;
	unsigned quiet = 0;

	for (enum stage st = 0; st < STAGE_EOM; st++)
		if (p->nstage[st] == 0 && !(p->watch & (1u << st)))
			quiet |= 1u << st;
	quiet |= CONTENT_STAGES; /* their decisions can wait (eval()) */
	if (p->hold_early) {
		/* A connect/HELO reject or tempfail is held until the first
		 * RCPT, so nothing there needs an answer: what else they can
		 * give (an accept, the failure policy's verdict) waits for
		 * the next event the MTA waits on, as content decisions do. */
		quiet |= 1u << STAGE_CONNECT | 1u << STAGE_HELO;
		if (p->nstage[STAGE_CONNECT] > 0 || p->nstage[STAGE_HELO] > 0)
			quiet &= ~(1u << STAGE_RCPT);
	}
	return quiet;
}

void txn_set_noreply(struct txn *t, unsigned stages)
{
	t->noreply = stages;
}

unsigned txn_noreply(const struct txn *t)
{
	return t->noreply;
}

const char *txn_label(const struct txn *t, char *buf, size_t buflen)
{
	line_prefix(t, buf, buflen);
	return buf;
}

static void message_done(struct txn *t)
{
	forget_message_decision(t);
	session_reset_message(&t->s);
	effects_clear(&t->fx[SCOPE_MESSAGE]);
}

void txn_connect(struct txn *t, const char *host, const struct sockaddr *sa,
		 struct txn_outcome *o)
{
	if (host == NULL || host[0] == '\0' || host[0] == '[')
		host = "unknown";
	set_fact(t->s.client_name, sizeof(t->s.client_name), host,
		 &t->s.too_long, FACT_CLIENT_NAME);
	session_set_client(&t->s, sa);
	eval(t, STAGE_CONNECT, o);
}

void txn_helo(struct txn *t, const char *helo, struct txn_outcome *o)
{
	set_fact(t->s.helo, sizeof(t->s.helo), helo, &t->s.too_long,
		 FACT_HELO);
	t->s.have_helo = true;
	/* A new HELO (a client may send several; Postfix repeats it after
	 * STARTTLS) replaces what the last one decided. */
	effects_clear(&t->fx[SCOPE_HELO]);
	forget_helo(t);
	if (t->held && t->held_at == STAGE_HELO)
		t->held = false;
	if (t->accepted && t->accepted_at == STAGE_HELO)
		t->accepted = false;
	if (t->deferred && t->later_at == STAGE_HELO)
		t->deferred = false;
	eval(t, STAGE_HELO, o);
}

void txn_mail(struct txn *t, char *const *argv, struct txn_outcome *o)
{
	message_done(t);
	addr_fact_set(&t->s.msg.sender, argv != NULL ? argv[0] : NULL);
	t->s.msg.size_param = size_param(argv);
	eval(t, STAGE_MAIL, o);
}

void txn_rcpt(struct txn *t, char *const *argv, struct txn_outcome *o)
{
	struct addr_fact prev = t->s.msg.rcpt;

	addr_fact_set(&t->s.msg.rcpt, argv != NULL ? argv[0] : NULL);
	if (t->held) {
		answer_held(t, o);
		return;
	}
	t->s.msg.rcpt_count++;
	eval(t, STAGE_RCPT, o);
	if (o->action == TXN_REJECT || o->action == TXN_TEMPFAIL) {
		/* Later stages see the last recipient that was taken. */
		t->s.msg.rcpt_count--;
		t->s.msg.rcpt = prev;
	}
}

void txn_data(struct txn *t, struct txn_outcome *o)
{
	eval(t, STAGE_DATA, o);
}

void txn_header(struct txn *t, const char *name, const char *value,
		struct txn_outcome *o)
{
	t->s.msg.hdr_name = name != NULL ? name : "";
	t->s.msg.hdr_value = value != NULL ? value : "";
	t->s.msg.hdr_value_len = strlen(t->s.msg.hdr_value);
	t->s.msg.size += strlen(t->s.msg.hdr_name) + 2 + t->s.msg.hdr_value_len + 2;
	eval(t, STAGE_HEADER, o);
	t->s.msg.hdr_name = NULL;
	t->s.msg.hdr_value = NULL;
}

void txn_eoh(struct txn *t, struct txn_outcome *o)
{
	t->s.msg.size += 2;
	eval(t, STAGE_EOH, o);
}

void txn_body(struct txn *t, const unsigned char *chunk, size_t len,
	      struct txn_outcome *o)
{
	t->s.msg.size += len;
	t->s.msg.chunk = chunk;
	t->s.msg.chunk_len = len;
	eval(t, STAGE_BODY, o);
	t->s.msg.chunk = NULL;
	t->s.msg.chunk_len = 0;
}

void txn_eom(struct txn *t, struct txn_outcome *o)
{
	/* decided at a header, eoh or body event of this message: as if
	 * answered there, where the message ended for the milter (a kept
	 * connect or HELO decision is the connection's: the message did
	 * reach its end) */
	bool decided_before = message_decision_kept(t);

	/* The end of the body first: matches that needed it, for the body
	 * rules too (policy.h). */
	t->s.msg.body_end = true;
	eval(t, STAGE_BODY, o);
	if (o->action == TXN_CONTINUE)
		eval(t, STAGE_EOM, o);
	forget_message_decision(t);
	if (o->action == TXN_CONTINUE || o->action == TXN_ACCEPT)
		gather_effects(t, o);
	if (!decided_before)
		stats_message(t->s.msg.busy_ns);
	/* The message's facts go now; its effects, which the outcome points
	 * to, at the next MAIL or abort (message_done). */
	session_reset_message(&t->s);
}

void txn_abort(struct txn *t)
{
	if (t != NULL)
		message_done(t);
}
