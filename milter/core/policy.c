/*
 * policy.c - the rule engine: which rule decides a stage, for the facts of
 * one session, and what it replies.
 *
 * Reads the frozen policy from many threads at once; writes only to the
 * caller's session and decision and to the atomic rule counters. Never
 * logs, never exits, never allocates after session_begin() (but for the
 * body scanners' buffers, at their first chunk): an internal failure (a
 * regex hitting its limits, no memory) becomes the failure policy's
 * verdict, never an accept.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cond.h"
#include "core/dnsq.h"
#include "core/policy.h"
#include "core/stats.h"
#include "lib/clock.h"

/* --- sessions -------------------------------------------------------- */

/* Set up, reset or free the state of every stateful condition. */
static int states_init(struct session *s, const struct policy *p)
{
	for (size_t i = 0; i < p->nstateful; i++) {
		const struct cond *c = p->stateful[i];
		if (c->kind->state_init != NULL &&
		    c->kind->state_init(c, s->state + c->state_at, p) != 0) {
			/* the ones before it were set up */
			for (size_t k = 0; k < i; k++) {
				const struct cond *e = p->stateful[k];
				if (e->kind->state_free != NULL)
					e->kind->state_free(
					    e, s->state + e->state_at);
			}
			return -1;
		}
	}
	return 0;
}

int session_begin(struct session *s, const struct policy *p)
{
	memset(s, 0, sizeof(*s));
	if (p->state_size > 0 &&
	    (s->state = calloc(1, p->state_size)) == NULL)
		return -1;
	if (p->nstage[STAGE_BODY] > 0) {
		s->body_fired =
		    calloc(p->nstage[STAGE_BODY], sizeof(*s->body_fired));
		if (s->body_fired == NULL)
			goto nomem;
	}
	s->policy = p;
	if (states_init(s, p) != 0 || dnsq_begin(s) != 0)
		goto nomem;
	s->policy = policy_ref(p);
	return 0;
nomem:
	s->policy = NULL;
	free(s->state);
	free(s->body_fired);
	s->state = NULL;
	s->body_fired = NULL;
	return -1;
}

void session_reset_message(struct session *s)
{
	const struct policy *p = s->policy;

	memset(&s->msg, 0, sizeof(s->msg));
	if (p == NULL)
		return;
	dnsq_reset_message(s);
	for (size_t i = 0; i < p->nstateful; i++) {
		const struct cond *c = p->stateful[i];
		if (c->kind->state_reset != NULL)
			c->kind->state_reset(c, s->state + c->state_at);
	}
	if (p->nstage[STAGE_BODY] > 0)
		memset(s->body_fired, 0,
		       p->nstage[STAGE_BODY] * sizeof(*s->body_fired));
}

void session_end(struct session *s)
{
	const struct policy *p = s->policy;

	for (size_t i = 0; p != NULL && s->state != NULL && i < p->nstateful;
	     i++) {
		const struct cond *c = p->stateful[i];
		if (c->kind->state_free != NULL)
			c->kind->state_free(c, s->state + c->state_at);
	}
	dnsq_end(s);
	free(s->state);
	free(s->body_fired);
	s->state = NULL;
	s->body_fired = NULL;
	policy_unref(&s->policy);
}

/* --- the client ----------------------------------------------------- */

void session_set_client(struct session *s, const struct sockaddr *sa)
{
	s->have_ip = false;
	s->client_addr[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, s->client_addr,
			  sizeof(s->client_addr));
		memset(s->client_ip, 0, 10);
		s->client_ip[10] = s->client_ip[11] = 0xff;
		memcpy(s->client_ip + 12, &in->sin_addr, 4);
		s->have_ip = true;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, s->client_addr,
			  sizeof(s->client_addr));
		memcpy(s->client_ip, &in6->sin6_addr, 16);
		s->have_ip = true;
	}
}

int sockaddr_parse(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	return -1;
}

/* --- envelope addresses --------------------------------------------- */

void addr_fact_clear(struct addr_fact *f)
{
	f->raw[0] = '\0';
	f->state = ADDR_NONE;
	f->norm.text[0] = '\0';
	f->norm.len = f->norm.at = 0;
	f->why[0] = '\0';
}

void addr_fact_set(struct addr_fact *f, const char *raw)
{
	size_t n = raw != NULL ? strnlen(raw, sizeof(f->raw)) : 0;

	addr_fact_clear(f);
	if (n == sizeof(f->raw)) {
		n--;
		f->state = ADDR_TOO_LONG;
	}
	if (n > 0)
		memcpy(f->raw, raw, n);
	f->raw[n] = '\0';
	if (f->state == ADDR_TOO_LONG)
		return;
	f->state =
	    envaddr_parse(f->raw, n, &f->norm, f->why, sizeof(f->why)) == 0
		? ADDR_OK
		: ADDR_BAD;
}

const char *addr_fact_show(const struct addr_fact *f, char *buf, size_t buflen)
{
	if (buflen == 0)
		return "";
	if (f->state == ADDR_OK)
		snprintf(buf, buflen, "<%s>", f->norm.text);
	else
		snprintf(buf, buflen, "%s", f->raw);
	return buf;
}

/* --- placeholders ---------------------------------------------------- */

_Static_assert(ADDR_SHOW_MAX <= PLACEHOLDER_BUF,
	       "an address shown must fit a placeholder's buffer");

struct expand_ctx {
	const struct rule *r;
	const struct session *s;
};

/* A placeholder's value, from the session's facts. */
static const char *placeholder_value(void *arg, enum placeholder ph,
				     char *buf)
{
	const struct expand_ctx *x = arg;
	const struct session *s = x->s;

	switch (ph) {
	case PH_CLIENT_ADDR:
		return s->client_addr;
	case PH_CLIENT_NAME:
		return s->client_name;
	case PH_HELO:
		return s->helo;
	case PH_SENDER:
		return addr_fact_show(&s->msg.sender, buf, PLACEHOLDER_BUF);
	case PH_RECIPIENT:
		return addr_fact_show(&s->msg.rcpt, buf, PLACEHOLDER_BUF);
	case PH_QUEUE_ID:
		return s->msg.queue_id;
	case PH_DNSBL_ZONE:
		return s->dns_zone;
	case PH_DNSBL_ANSWER:
		return s->dns_answer;
	case PH_DNSBL_TXT:
		return s->dns_txt;
	case PH_RETRY_IN:
		return s->msg.retry_ms > 0
			   ? duration_show(s->msg.retry_ms, buf,
					   PLACEHOLDER_BUF)
			   : "";
	default:
		return x->r != NULL ? x->r->name : "";
	}
}

void policy_expand(const struct template *t, const struct rule *r,
		   const struct session *s, char *out, size_t outlen)
{
	struct expand_ctx x = {r, s};

	template_expand(t, placeholder_value, &x, out, outlen);
}

/* --- conditions ------------------------------------------------------ */

static int cond_eval(const struct cond *c, enum stage st, struct session *s)
{
	int r = c->kind->eval(c, st, s);

	if (r < 0)
		return r;
	return c->negate ? !r : r != 0;
}

/*
 * Show every condition that observes stage st the event (before the
 * stage's rules, or once a recipient is taken). Returns 0, or a COND_*
 * failure with *failed the condition.
 */
static int observe(const struct policy *p, enum cond_moment when,
		   enum stage st, struct session *s, const struct cond **failed)
{
	if (!(p->watch & (1u << st)))
		return 0;
	for (size_t i = 0; i < p->nstateful; i++) {
		const struct cond *c = p->stateful[i];
		const struct cond_kind *k = c->kind;
		int rc;
		if (k->observe == NULL || !(k->observes & (1u << st)))
			continue;
		rc = k->observe(c, when, st, s, s->state + c->state_at);
		if (rc < 0) {
			*failed = c;
			return rc;
		}
	}
	return 0;
}

/* Does a condition of r hold by what the end of the body showed? */
static bool holds_late(const struct rule *r, const struct session *s)
{
	for (size_t k = 0; k < r->ncond; k++) {
		const struct cond *c = &r->cond[k];
		if (c->kind->late != NULL &&
		    c->kind->late(c, s->state + c->state_at))
			return true;
	}
	return false;
}

/* --- the engine ------------------------------------------------------ */

size_t policy_reply_reserve(const struct rule *r, enum stage st,
			    const struct session *s)
{
	switch (st) {
	case STAGE_MAIL:
		return reply_prefix_room(r->code.basic, CMD_MAIL,
					 s != NULL ? strlen(s->msg.sender.raw)
						   : SIZE_MAX);
	case STAGE_RCPT:
		return reply_prefix_room(r->code.basic, CMD_RCPT,
					 s != NULL ? strlen(s->msg.rcpt.raw)
						   : SIZE_MAX);
	case STAGE_CONNECT:
	case STAGE_HELO:
		return reply_prefix_room(r->code.basic, CMD_MAIL, SIZE_MAX);
	default:
		return 0;
	}
}

static int render_rule(const struct rule *r, enum stage st,
		       const struct session *s, struct decision *d)
{
	static const size_t max = REPLY_MAX_LINES + 1;
	char lines[REPLY_MAX_LINES + 1][EXPAND_LINE_MAX];
	const char *text[REPLY_MAX_LINES + 1];
	size_t n = r->ntext < max ? r->ntext : max;
	size_t reserve = policy_reply_reserve(r, st, s);

	if (!r->has_placeholders &&
	    reserve == policy_reply_reserve(r, r->stage, NULL)) {
		d->reply = &r->rendered;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		policy_expand(r->text_t[i], r, s, lines[i], sizeof(lines[i]));
		text[i] = lines[i];
	}
	if (reply_render(&r->code, text, n, reserve, &d->buf, d->error,
			 sizeof(d->error)) != 0)
		return -1;
	d->reply = &d->buf;
	return 0;
}

int policy_render(const struct rule *r, enum stage st, const struct session *s,
		  struct decision *d)
{
	d->reply = NULL;
	if (!verdict_sends_reply(r->verdict)) {
		snprintf(d->error, sizeof(d->error), "rule %s sends no reply",
			 r->name);
		return -1;
	}
	return render_rule(r, st, s, d);
}

static void fail(const struct policy *p, struct decision *d, const char *what)
{
	d->internal_error = true;
	d->rule = NULL;
	d->verdict = p->failure.verdict;
	d->reply = p->failure.verdict == VERDICT_ACCEPT ? NULL
							: &p->failure.rendered;
	if (what != NULL)
		snprintf(d->error, sizeof(d->error), "%s", what);
}

/*
 * Say what failed (a COND_* code) for d->error: which value was cut, which
 * address could not be read (its raw value, quoted, and why), or a regex.
 * a is the address the failing condition read, or NULL.
 */
static void failure_text(int code, const struct addr_fact *a,
			 const struct session *s, char *out, size_t outlen)
{
	const char *which = a == &s->msg.sender ? "sender" : "recipient";
	char q[96];

	if (code == COND_NOMEM) {
		snprintf(out, outlen, "out of memory");
	} else if (code == COND_STATE) {
		snprintf(out, outlen, "the state store failed: %s",
			 s->store_err);
	} else if (code == COND_UNREADABLE && a != NULL) {
		match_quote(q, sizeof(q), a->raw, strlen(a->raw));
		snprintf(out, outlen, "the %s \"%s\" cannot be read (%s)",
			 which, q, a->why);
	} else if (code == COND_TOO_LONG && a != NULL) {
		snprintf(out, outlen, "the %s is longer than the milter keeps",
			 which);
	} else if (code == COND_TOO_LONG) {
		snprintf(out, outlen,
			 "a value it reads is longer than the "
			 "milter keeps");
	} else {
		snprintf(out, outlen, "a regex hit its match limit");
	}
}

/* The address condition c reads, or NULL. */
static const struct addr_fact *address_of(const struct cond *c,
					  const struct session *s)
{
	return c->kind->address != NULL ? c->kind->address(c, s) : NULL;
}

/* DNS lookups of rule r failed and dns_error = tempfail: a tempfail,
 * not the failure policy (which is for the milter's own failures). */
static void dns_fail(const struct policy *p, const struct rule *r,
		     struct decision *d)
{
	d->dns_failed = true;
	d->rule = r;
	d->verdict = VERDICT_TEMPFAIL;
	d->reply = &p->dns.tempfail_reply;
	snprintf(d->error, sizeof(d->error),
		 "rule %.60s: DNS lookups failed, dns_error = tempfail",
		 r->name);
}

/* An observing condition failed: the failure policy decides. */
static void observe_failed(const struct policy *p, int code,
			   const struct cond *c, const struct session *s,
			   struct decision *d)
{
	const struct addr_fact *a = address_of(c, s);

	if (code == COND_LIMIT && a == NULL)
		snprintf(d->error, sizeof(d->error),
			 "%s regex hit its match limit", c->kind->name);
	else
		failure_text(code, a, s, d->error, sizeof(d->error));
	fail(p, d, NULL);
}

void policy_eval(const struct policy *p, enum stage st, struct session *s,
		 match_fn on_match, void *arg, struct decision *d)
{
	d->rule = NULL;
	d->verdict = VERDICT_CONTINUE;
	d->internal_error = false;
	d->dns_failed = false;
	d->error[0] = '\0';
	d->reply = NULL;

	const struct cond *failed = NULL;
	int rc;

	rc = observe(p, COND_BEFORE, st, s, &failed);
	if (rc < 0) {
		observe_failed(p, rc, failed, s, d);
		return;
	}
	for (size_t i = 0; i < p->nstage[st]; i++) {
		const struct rule *r = p->by_stage[st][i];
		struct match_event ev;
		int holds = 1;
		size_t k;

		if (st == STAGE_BODY &&
		    (s->body_fired[i] || (s->msg.body_end && !holds_late(r, s))))
			continue;

		for (k = 0; k < r->ncond && holds == 1; k++)
			holds = cond_eval(&r->cond[k], st, s);
		/* a rule that only logs (dry run) or lets the next rules
		 * decide (continue) takes a failed lookup as not listed */
		if (holds == COND_DNS_ERROR &&
		    (r->mode == MODE_DRY_RUN || r->verdict == VERDICT_CONTINUE))
			continue;
		if (holds == COND_DNS_ERROR) {
			dns_fail(p, r, d);
			return;
		}
		if (holds < 0) {
			char why[180];
			failure_text(holds, address_of(&r->cond[k - 1], s), s,
				     why, sizeof(why));
			snprintf(d->error, sizeof(d->error), "rule %.60s: %s",
				 r->name, why);
			fail(p, d, NULL);
			return;
		}
		if (holds == 0)
			continue;
		if (st == STAGE_BODY)
			s->body_fired[i] = true;
		stats_rule_hit(r, r->mode == MODE_DRY_RUN);
		ev.rule = r;
		ev.stage = st;
		ev.dry_run = r->mode == MODE_DRY_RUN;
		ev.reply = NULL;
		if (verdict_sends_reply(r->verdict)) {
			if (render_rule(r, st, s, d) != 0) {
				fail(p, d, NULL);
				return;
			}
			ev.reply = d->reply;
		}
		if (ev.dry_run || r->verdict == VERDICT_CONTINUE) {
			if (on_match != NULL)
				on_match(arg, &ev, s);
			d->reply = NULL;
			continue;
		}
		d->rule = r;
		d->verdict = r->verdict;
		if (on_match != NULL)
			on_match(arg, &ev, s);
		break;
	}
	if (st == STAGE_RCPT && !verdict_sends_reply(d->verdict)) {
		rc = observe(p, COND_TAKEN, st, s, &failed);
		if (rc < 0)
			observe_failed(p, rc, failed, s, d);
	}
}

/* --- which events are needed ---------------------------------------- */

/* The placeholders rule r's text, headers and log line use. */
static unsigned rule_uses(const struct rule *r)
{
	unsigned uses = r->log_t != NULL ? template_uses(r->log_t) : 0;

	for (size_t i = 0; i < r->ntext; i++)
		uses |= template_uses(r->text_t[i]);
	for (size_t i = 0; i < r->nheaders; i++)
		uses |= template_uses(r->hdr_t[i]);
	return uses;
}

#define BIT(st) (1u << (st))

unsigned policy_events(const struct policy *p)
{
	unsigned ev = BIT(STAGE_CONNECT) | BIT(STAGE_EOM);

	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		ev |= BIT(r->stage);
		if (r->stage >= STAGE_MAIL)
			ev |= BIT(STAGE_MAIL); /* a new message starts there */
		unsigned uses = rule_uses(r);
		if (uses & (1u << PH_HELO))
			ev |= BIT(STAGE_HELO);
		if (uses & (1u << PH_SENDER))
			ev |= BIT(STAGE_MAIL);
		if (uses & (1u << PH_RECIPIENT))
			ev |= BIT(STAGE_RCPT);
		/* a held verdict is given at RCPT, and its log line names
		 * the sender of MAIL; with dns_error = tempfail any deciding
		 * rule can give one (its DNS lookups failed) */
		if (p->hold_early && r->stage <= STAGE_HELO &&
		    (verdict_sends_reply(r->verdict) ||
		     (p->dns.tempfail && r->mode != MODE_DRY_RUN &&
		      r->verdict != VERDICT_CONTINUE)))
			ev |= BIT(STAGE_RCPT) | BIT(STAGE_MAIL);
		for (size_t k = 0; k < r->ncond; k++)
			ev |= cond_events(&r->cond[k]);
	}
	return ev;
}

/* --- per-session state --------------------------------------------- */

int policy_state_layout(struct policy *p)
{
	const size_t align = _Alignof(max_align_t);
	size_t n = 0;

	p->uses_store = false;
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t k = 0; k < p->rules[i].ncond; k++) {
			const struct cond *c = &p->rules[i].cond[k];
			n += c->kind->state_size != NULL &&
			     c->kind->state_size(c) > 0;
			p->uses_store = p->uses_store || c->kind->stored;
		}
	free(p->stateful);
	p->stateful = NULL;
	p->nstateful = 0;
	p->state_size = 0;
	p->watch = 0;
	free(p->dns.zone);
	p->dns.zone = NULL;
	p->dns.nzones = 0;
	if (dnsq_layout(p) != 0)
		return -1;
	for (size_t i = 0; i < p->nrules; i++)
		if (rule_uses(&p->rules[i]) & (1u << PH_DNSBL_TXT))
			p->dns.want_txt = true;
	if (n == 0)
		return 0;
	if ((p->stateful = calloc(n, sizeof(*p->stateful))) == NULL)
		return -1;
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t k = 0; k < p->rules[i].ncond; k++) {
			struct cond *c = &p->rules[i].cond[k];
			size_t size = c->kind->state_size != NULL
					  ? c->kind->state_size(c)
					  : 0;
			if (size == 0)
				continue;
			c->state_at = p->state_size;
			p->state_size += (size + align - 1) / align * align;
			p->stateful[p->nstateful++] = c;
			p->watch |= c->kind->observes;
		}
	return 0;
}

/* --- lifetime -------------------------------------------------------- */

const struct policy *policy_ref(const struct policy *p)
{
	if (p != NULL)
		__atomic_add_fetch(&((struct policy *)p)->refs, 1,
				   __ATOMIC_ACQ_REL);
	return p;
}

void policy_unref(const struct policy **pp)
{
	struct policy *p = (struct policy *)*pp;

	*pp = NULL;
	if (p != NULL && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(&p);
}

static void cond_free(struct cond *c)
{
	if (c->kind != NULL)
		c->kind->free(c->data);
	c->data = NULL;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static void templates_free(struct template **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		template_free(&v[i]);
	free(v);
}

void policy_free(struct policy **pp)
{
	struct policy *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];
		for (size_t k = 0; k < r->ncond; k++)
			cond_free(&r->cond[k]);
		free(r->cond);
		free(r->name);
		free(r->file);
		strv_free(r->text, r->ntext);
		strv_free(r->hdr_name, r->nheaders);
		strv_free(r->hdr_value, r->nheaders);
		templates_free(r->text_t, r->ntext);
		templates_free(r->hdr_t, r->nheaders);
		template_free(&r->log_t);
		free(r->log);
	}
	free(p->rules);
	free(p->stateful);
	free(p->dns.zone);
	free(p->dns.upstream);
	for (int st = 0; st < STAGE_COUNT; st++)
		free(p->by_stage[st]);
	free(p->file);
	free(p);
	*pp = NULL;
}
