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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/policy.h"

/* --- sessions -------------------------------------------------------- */

int session_begin(struct session *s, const struct policy *p)
{
	memset(s, 0, sizeof(*s));
	if (p->nbody_slots > 0) {
		s->body = calloc(p->nbody_slots, sizeof(*s->body));
		if (s->body == NULL)
			return -1;
		for (size_t i = 0; i < p->nbody_slots; i++)
			body_scan_init(&s->body[i], p->body_span);
	}
	if (p->nrcpt_slots > 0) {
		s->rcpt_hits = calloc(p->nrcpt_slots, sizeof(*s->rcpt_hits));
		if (s->rcpt_hits == NULL)
			goto nomem;
	}
	if (p->nstage[STAGE_BODY] > 0) {
		s->body_fired =
		    calloc(p->nstage[STAGE_BODY], sizeof(*s->body_fired));
		if (s->body_fired == NULL)
			goto nomem;
	}
	s->policy = policy_ref(p);
	return 0;
nomem:
	for (size_t i = 0; s->body != NULL && i < p->nbody_slots; i++)
		body_scan_free(&s->body[i]);
	free(s->body);
	free(s->rcpt_hits);
	s->body = NULL;
	s->rcpt_hits = NULL;
	return -1;
}

void session_reset_message(struct session *s)
{
	const struct policy *p = s->policy;

	s->queue_id[0] = '\0';
	addr_fact_clear(&s->sender);
	addr_fact_clear(&s->rcpt);
	s->rcpt_count = 0;
	s->size_param = 0;
	s->size = 0;
	s->accepted = false;
	s->hdr_name = NULL;
	s->hdr_value = NULL;
	s->hdr_value_len = 0;
	s->chunk = NULL;
	s->chunk_len = 0;
	s->body_end = false;
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nbody_slots; i++)
		body_scan_reset(&s->body[i]);
	if (p->nrcpt_slots > 0)
		memset(s->rcpt_hits, 0, p->nrcpt_slots * sizeof(*s->rcpt_hits));
	if (p->nstage[STAGE_BODY] > 0)
		memset(s->body_fired, 0,
		       p->nstage[STAGE_BODY] * sizeof(*s->body_fired));
}

void session_end(struct session *s)
{
	if (s->policy != NULL) {
		for (size_t i = 0; s->body != NULL && i < s->policy->nbody_slots;
		     i++)
			body_scan_free(&s->body[i]);
	}
	free(s->body);
	free(s->rcpt_hits);
	free(s->body_fired);
	s->body = NULL;
	s->rcpt_hits = NULL;
	s->body_fired = NULL;
	policy_unref(&s->policy);
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

static const char *const placeholder_names[] = {
	"client_addr", "client_name", "helo", "sender",
	"recipient",   "queue_id",    "rule",
};
#define NPLACEHOLDERS (sizeof(placeholder_names) / sizeof(placeholder_names[0]))

/* Length of the known placeholder name at s, longest first; 0 if none. */
static size_t placeholder_at(const char *s, size_t *which)
{
	size_t best = 0;

	for (size_t i = 0; i < NPLACEHOLDERS; i++) {
		size_t n = strlen(placeholder_names[i]);
		if (n > best && strncmp(s, placeholder_names[i], n) == 0) {
			best = n;
			*which = i;
		}
	}
	return best;
}

bool policy_placeholder_known(const char *name, size_t len)
{
	for (size_t i = 0; i < NPLACEHOLDERS; i++)
		if (strlen(placeholder_names[i]) == len &&
		    strncmp(name, placeholder_names[i], len) == 0)
			return true;
	return false;
}

/* A placeholder's value; buf (ADDR_SHOW_MAX octets) holds an address. */
static const char *placeholder_value(size_t which, const struct rule *r,
				     const struct session *s, char *buf)
{
	switch (which) {
	case 0:
		return s->client_addr;
	case 1:
		return s->client_name;
	case 2:
		return s->helo;
	case 3:
		return addr_fact_show(&s->sender, buf, ADDR_SHOW_MAX);
	case 4:
		return addr_fact_show(&s->rcpt, buf, ADDR_SHOW_MAX);
	case 5:
		return s->queue_id;
	default:
		return r != NULL ? r->name : "";
	}
}

void policy_expand(const char *tmpl, const struct rule *r,
		   const struct session *s, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (const char *t = tmpl; *t != '\0' && o + 1 < outlen; t++) {
		size_t which = 0, n;
		char val[PLACEHOLDER_MAX + 4], addr[ADDR_SHOW_MAX];
		if (t[0] != '$') {
			out[o++] = *t;
			continue;
		}
		if (t[1] == '$') {
			out[o++] = '$';
			t++;
			continue;
		}
		n = placeholder_at(t + 1, &which);
		if (n == 0) {
			out[o++] = '$';
			continue;
		}
		const char *v = placeholder_value(which, r, s, addr);
		size_t vn = reply_sanitize_value(v, strlen(v), val, sizeof(val),
						 PLACEHOLDER_MAX);
		if (vn > outlen - 1 - o)
			vn = outlen - 1 - o;
		memcpy(out + o, val, vn);
		o += vn;
		t += n;
	}
	out[o] = '\0';
}

/* --- conditions ------------------------------------------------------ */

static int match_text(const struct cond *c, const char *v, size_t len)
{
	switch (c->matcher) {
	case MATCH_DOMAIN:
		return domain_set_match(c->domains, v) ? 1 : 0;
	case MATCH_REGEX:
		return regex_list_match(c->regexes, v, len);
	default:
		return 0;
	}
}

/*
 * 1 holds, 0 does not, COND_LIMIT a regex hit its limits, COND_TOO_LONG
 * the fact was cut, COND_UNREADABLE an address could not be read. Before
 * negation.
 */
#define COND_LIMIT	(-1)
#define COND_TOO_LONG	(-2)
#define COND_UNREADABLE (-3)

/*
 * Match an envelope address by the condition's matcher, in its normal
 * form: every spelling of an address matches alike, and one that could
 * not be read or was cut never counts as "no match".
 */
static int match_address(const struct cond *c, const struct addr_fact *a)
{
	switch (a->state) {
	case ADDR_NONE:
		return 0;
	case ADDR_TOO_LONG:
		return COND_TOO_LONG;
	case ADDR_BAD:
		return COND_UNREADABLE;
	case ADDR_OK:
		break;
	}
	switch (c->matcher) {
	case MATCH_EMAIL:
		return email_set_match(c->emails, &a->norm) ? 1 : 0;
	case MATCH_DOMAIN:
		return domain_set_match(c->domains, envaddr_domain(&a->norm))
			   ? 1
			   : 0;
	case MATCH_REGEX:
		return regex_list_match(c->regexes, a->norm.text, a->norm.len);
	default:
		return 0;
	}
}

static bool in_range(const struct cond *c, uint64_t v)
{
	return v >= c->min && v <= c->max;
}

static const char *macro(const struct session *s, const char *name)
{
	const char *v;

	if (s->macro == NULL)
		return NULL;
	v = s->macro(s->macro_arg, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Which fact a condition reads, as a FACT_* bit; 0 for none cut. */
static unsigned fact_of(const struct cond *c)
{
	switch (c->subject) {
	case SUBJ_CLIENT_NAME:
		return FACT_CLIENT_NAME;
	case SUBJ_HELO:
	case SUBJ_HELO_LITERAL:
		return FACT_HELO;
	default:
		return 0; /* addresses say so themselves (match_address) */
	}
}

static int cond_raw(const struct cond *c, enum stage st, struct session *s)
{
	const char *v;

	if (s->too_long & fact_of(c))
		return COND_TOO_LONG;
	switch (c->subject) {
	case SUBJ_CLIENT_ADDR:
		return s->have_ip && addr_set_match(c->addrs, s->client_ip);
	case SUBJ_CLIENT_NAME:
		if (s->client_name[0] == '\0' ||
		    strcmp(s->client_name, "unknown") == 0)
			return c->match_unknown;
		return match_text(c, s->client_name, strlen(s->client_name));
	case SUBJ_HELO:
		if (!s->have_helo)
			return 0;
		return match_text(c, s->helo, strlen(s->helo));
	case SUBJ_HELO_LITERAL: {
		size_t n = strlen(s->helo);
		bool lit = s->have_helo && n >= 2 && s->helo[0] == '[' &&
			   s->helo[n - 1] == ']';
		return lit == c->want;
	}
	case SUBJ_SENDER:
		return match_address(c, &s->sender);
	case SUBJ_RECIPIENT:
		if (st == STAGE_RCPT)
			return match_address(c, &s->rcpt);
		if (c->rcpt_slot >= 0 && s->rcpt_hits != NULL)
			return s->rcpt_hits[c->rcpt_slot];
		return 0;
	case SUBJ_RCPT_COUNT:
		return in_range(c, s->rcpt_count);
	case SUBJ_SIZE:
		if (st <= STAGE_DATA)
			return s->size_param > 0 && in_range(c, s->size_param);
		return in_range(c, s->size);
	case SUBJ_HEADER:
		if (s->hdr_name == NULL || c->name == NULL ||
		    strcasecmp(s->hdr_name, c->name) != 0)
			return 0;
		return regex_list_match(c->regexes, s->hdr_value,
					s->hdr_value_len);
	case SUBJ_BODY:
		return body_scan_matched(&s->body[c->body_slot]);
	case SUBJ_AUTH:
		return (macro(s, "{auth_authen}") != NULL) == c->want;
	case SUBJ_TLS:
		return (macro(s, "{tls_version}") != NULL) == c->want;
	case SUBJ_MACRO:
		v = macro(s, c->name);
		if (v == NULL)
			return 0;
		return regex_list_match(c->regexes, v, strlen(v));
	default:
		return 0;
	}
}

static int cond_eval(const struct cond *c, enum stage st, struct session *s)
{
	int r = cond_raw(c, st, s);

	if (r < 0)
		return r;
	return c->negate ? !r : r != 0;
}

/*
 * Feed a body chunk to every body scanner of the policy (or, with end,
 * tell each that the body is complete), before any rule is tried, so
 * that no rule's short-circuit leaves a scanner behind.
 */
static int feed_body(const struct policy *p, struct session *s, bool end)
{
	for (int st = STAGE_BODY; st <= STAGE_EOM; st++) {
		for (size_t i = 0; i < p->nstage[st]; i++) {
			const struct rule *r = p->by_stage[st][i];
			for (size_t k = 0; k < r->ncond; k++) {
				const struct cond *c = &r->cond[k];
				struct body_scan *b;
				if (c->subject != SUBJ_BODY)
					continue;
				b = &s->body[c->body_slot];
				if ((end ? body_scan_end(b, c->regexes)
					 : body_scan_feed(b, c->regexes,
							  s->chunk,
							  s->chunk_len)) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* Does a body condition of r hold by a match found at the end of body? */
static bool holds_late(const struct rule *r, const struct session *s)
{
	for (size_t k = 0; k < r->ncond; k++)
		if (r->cond[k].subject == SUBJ_BODY &&
		    body_scan_late(&s->body[r->cond[k].body_slot]))
			return true;
	return false;
}

/*
 * After a recipient is taken, note which later-stage conditions it meets.
 * Returns 0, or a COND_* failure.
 */
static int note_recipient(const struct policy *p, struct session *s)
{
	for (int st = STAGE_DATA; st < STAGE_COUNT; st++) {
		for (size_t i = 0; i < p->nstage[st]; i++) {
			const struct rule *r = p->by_stage[st][i];
			for (size_t k = 0; k < r->ncond; k++) {
				const struct cond *c = &r->cond[k];
				int m;
				if (c->subject != SUBJ_RECIPIENT ||
				    c->rcpt_slot < 0 || s->rcpt_hits[c->rcpt_slot])
					continue;
				m = match_address(c, &s->rcpt);
				if (m < 0)
					return m;
				s->rcpt_hits[c->rcpt_slot] = m != 0;
			}
		}
	}
	return 0;
}

/* --- the engine ------------------------------------------------------ */

static bool sends_reply(enum verdict v)
{
	return v == VERDICT_REJECT || v == VERDICT_TEMPFAIL;
}

size_t policy_reply_reserve(const struct rule *r, enum stage st,
			    const struct session *s)
{
	switch (st) {
	case STAGE_MAIL:
		return reply_prefix_room(r->code.basic, CMD_MAIL,
					 s != NULL ? strlen(s->sender.raw)
						   : SIZE_MAX);
	case STAGE_RCPT:
		return reply_prefix_room(r->code.basic, CMD_RCPT,
					 s != NULL ? strlen(s->rcpt.raw)
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
		policy_expand(r->text[i], r, s, lines[i], sizeof(lines[i]));
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
	if (!sends_reply(r->verdict)) {
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
	const char *which = a == &s->sender ? "sender" : "recipient";
	char q[96];

	if (code == COND_UNREADABLE && a != NULL) {
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

/* The address a condition reads, or NULL. */
static const struct addr_fact *address_of(const struct cond *c,
					  const struct session *s)
{
	if (c->subject == SUBJ_SENDER)
		return &s->sender;
	return c->subject == SUBJ_RECIPIENT ? &s->rcpt : NULL;
}

void policy_eval(const struct policy *p, enum stage st, struct session *s,
		 match_fn on_match, void *arg, struct decision *d)
{
	d->rule = NULL;
	d->verdict = VERDICT_CONTINUE;
	d->internal_error = false;
	d->error[0] = '\0';
	d->reply = NULL;

	if ((st == STAGE_BODY || st == STAGE_EOM) && p->nbody_slots > 0 &&
	    feed_body(p, s, st == STAGE_EOM || s->body_end) < 0) {
		fail(p, d, "body regex hit its match limit");
		return;
	}
	for (size_t i = 0; i < p->nstage[st]; i++) {
		const struct rule *r = p->by_stage[st][i];
		struct match_event ev;
		int holds = 1;
		size_t k;

		if (st == STAGE_BODY &&
		    (s->body_fired[i] || (s->body_end && !holds_late(r, s))))
			continue;

		for (k = 0; k < r->ncond && holds == 1; k++)
			holds = cond_eval(&r->cond[k], st, s);
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
		__atomic_add_fetch(&((struct rule *)r)->hits, 1,
				   __ATOMIC_RELAXED);
		ev.rule = r;
		ev.stage = st;
		ev.dry_run = r->mode == MODE_DRY_RUN;
		ev.reply = NULL;
		if (sends_reply(r->verdict)) {
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
	if (st == STAGE_RCPT && !sends_reply(d->verdict) &&
	    p->nrcpt_slots > 0) {
		int n = note_recipient(p, s);
		if (n < 0) {
			failure_text(n, &s->rcpt, s, d->error,
				     sizeof(d->error));
			fail(p, d, NULL);
		}
	}
}

/* --- which events are needed ---------------------------------------- */

static bool rule_uses(const struct rule *r, const char *placeholder)
{
	for (size_t i = 0; i < r->ntext; i++)
		if (strstr(r->text[i], placeholder) != NULL)
			return true;
	for (size_t i = 0; i < r->nheaders; i++)
		if (strstr(r->hdr_value[i], placeholder) != NULL)
			return true;
	return r->log != NULL && strstr(r->log, placeholder) != NULL;
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
		if (rule_uses(r, "$helo"))
			ev |= BIT(STAGE_HELO);
		if (rule_uses(r, "$sender"))
			ev |= BIT(STAGE_MAIL);
		if (rule_uses(r, "$recipient"))
			ev |= BIT(STAGE_RCPT);
		/* a held verdict is given at RCPT, and its log line names
		 * the sender of MAIL */
		if (p->hold_early && r->stage <= STAGE_HELO &&
		    sends_reply(r->verdict))
			ev |= BIT(STAGE_RCPT) | BIT(STAGE_MAIL);
		for (size_t k = 0; k < r->ncond; k++) {
			switch (r->cond[k].subject) {
			case SUBJ_HELO:
			case SUBJ_HELO_LITERAL:
				ev |= BIT(STAGE_HELO);
				break;
			case SUBJ_SENDER:
				ev |= BIT(STAGE_MAIL);
				break;
			case SUBJ_RECIPIENT:
			case SUBJ_RCPT_COUNT:
				ev |= BIT(STAGE_RCPT);
				break;
			case SUBJ_SIZE:
				/* SIZE= at MAIL; from the header on, counted */
				ev |= BIT(STAGE_MAIL);
				if (r->stage >= STAGE_HEADER)
					ev |= BIT(STAGE_HEADER) |
					      BIT(STAGE_EOH) | BIT(STAGE_BODY);
				break;
			case SUBJ_BODY:
				ev |= BIT(STAGE_BODY);
				break;
			default:
				break;
			}
		}
	}
	return ev;
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
	addr_set_free(&c->addrs);
	domain_set_free(&c->domains);
	email_set_free(&c->emails);
	regex_list_free(&c->regexes);
	free(c->name);
	c->name = NULL;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
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
		free(r->log);
	}
	free(p->rules);
	for (int st = 0; st < STAGE_COUNT; st++)
		free(p->by_stage[st]);
	free(p->file);
	free(p);
	*pp = NULL;
}
