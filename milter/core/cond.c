/*
 * cond.c - the table of condition kinds, and what kinds share: list
 * conditions built from entries, matching a text or an envelope address,
 * stage checks, ranges, per-session state (cond.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cond.h"
#include "lib/clock.h"

/*
 * Every kind, in the order a rule's conditions are tried: one row a kind
 * (its file defines kind_NAME).
 */
#define COND_KINDS(X)                                                          \
	X(client_address)                                                      \
	X(client_name)                                                         \
	X(helo)                                                                \
	X(sender)                                                              \
	X(recipient)                                                           \
	X(body)                                                                \
	X(header)                                                              \
	X(macro)                                                               \
	X(helo_literal)                                                        \
	X(authenticated)                                                       \
	X(tls)                                                                 \
	X(recipients)                                                          \
	X(size)                                                                \
	X(received)                                                            \
	X(client_dnsbl)                                                        \
	X(client_dnswl)                                                        \
	X(client_name_rhsbl)                                                   \
	X(helo_rhsbl)                                                          \
	X(sender_rhsbl)                                                        \
	X(ratelimit)                                                           \
	X(greylist)

#define DECLARE(name) extern const struct cond_kind kind_##name;
#define ROW(name) &kind_##name,
COND_KINDS(DECLARE)
const struct cond_kind *const cond_kinds[] = {COND_KINDS(ROW)};
const size_t cond_nkinds = sizeof(cond_kinds) / sizeof(cond_kinds[0]);

size_t cond_max_per_rule(void)
{
	size_t n = 0;

	for (size_t i = 0; i < cond_nkinds; i++)
		for (const struct cond_opt *o = cond_kinds[i]->opts;
		     o->name != NULL; o++)
			n += o->negatable ? 2 : 1;
	return n;
}

void cond_report(const struct cond_builder *b, bool error, const char *opt,
		 const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->report(b->ctx, error, opt, msg);
}

bool cond_stage_ok(const struct cond_kind *k, const struct cond_builder *b,
		   const char *opt)
{
	if (!b->stage_ok || (b->stage >= k->first && b->stage <= k->last))
		return true;
	cond_report(b, true, opt, "%s cannot be used at stage %s: %s", opt,
		    stage_name(b->stage), k->known_when);
	return false;
}

static void sets_free(struct cond_lists *l)
{
	addr_set_free(&l->addrs);
	domain_set_free(&l->domains);
	email_set_free(&l->emails);
	regex_list_free(&l->regexes);
}

void cond_lists_free(void *data)
{
	struct cond_lists *l = data;

	if (l == NULL)
		return;
	if (l->share == NULL) {
		sets_free(l);
	} else if (--l->share->refs == 0) {
		sets_free(&l->share->sets);
		free(l->share);
	}
	free(l->name);
	free(l);
}

struct cond_share *cond_lists_share(struct cond_lists *l)
{
	struct cond_share *sh = calloc(1, sizeof(*sh));

	if (sh == NULL)
		return NULL;
	sh->refs = 1;
	sh->sets = *l;
	sh->sets.name = NULL;
	l->share = sh;
	return sh;
}

void cond_lists_borrow(struct cond_lists *l, struct cond_share *share)
{
	l->addrs = share->sets.addrs;
	l->domains = share->sets.domains;
	l->emails = share->sets.emails;
	l->regexes = share->sets.regexes;
	l->match_unknown = share->sets.match_unknown;
	l->share = share;
	share->refs++;
}

/* One list option, positive or negated. Returns 0, or -2: no memory. */
static int build_list(const struct cond_kind *k, const struct cond_builder *b,
		      const struct cond_opt *o, bool negate, unsigned flags,
		      const char *name)
{
	char opt[64];
	struct cond_lists *l;
	struct cond *c;
	int rc;

	snprintf(opt, sizeof(opt), "%s%s", negate ? "not_" : "", o->name);
	if (!b->given(b->ctx, opt) || !cond_stage_ok(k, b, opt))
		return 0;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (name != NULL && (l->name = strdup(name)) == NULL)) {
		cond_lists_free(l);
		return -2;
	}
	l->matcher = o->matcher;
	rc = b->entries(b->ctx, opt, o->matcher, flags, l);
	if (rc != 0) {
		cond_lists_free(l);
		return rc == -2 ? -2 : 0;
	}
	if ((c = b->add(b->ctx, k, negate)) == NULL) {
		cond_lists_free(l);
		return -2;
	}
	c->opt = o->name;
	c->data = l;
	return 0;
}

int cond_build_lists(const struct cond_kind *k, const struct cond_builder *b,
		     unsigned flags, const char *name)
{
	for (const struct cond_opt *o = k->opts; o->name != NULL; o++) {
		if (o->type != COPT_LIST)
			continue;
		if (build_list(k, b, o, false, flags, name) != 0 ||
		    (o->negatable &&
		     build_list(k, b, o, true, flags, name) != 0))
			return -2;
	}
	return 0;
}

int cond_build_each_list(const struct cond_kind *k,
			 const struct cond_builder *b)
{
	return cond_build_lists(k, b, 0, NULL);
}

int cond_build_named(const struct cond_kind *k, const struct cond_builder *b,
		     bool (*name_ok)(const char *name), const char *why)
{
	const char *nameopt = k->opts[0].name, *reopt = k->opts[1].name;
	const char *name = b->str(b->ctx, nameopt);
	char nre[64];
	bool pos, neg;

	snprintf(nre, sizeof(nre), "not_%s", reopt);
	pos = b->given(b->ctx, reopt);
	neg = b->given(b->ctx, nre);
	if (name == NULL && !pos && !neg)
		return 0;
	if (name == NULL) {
		cond_report(b, true, pos ? reopt : nre,
			    "%s needs %s: which one to look at",
			    pos ? reopt : nre, nameopt);
		return 0;
	}
	if (!pos && !neg) {
		cond_report(b, true, nameopt,
			    "%s needs %s (or %s): what to look for in it",
			    nameopt, reopt, nre);
		return 0;
	}
	if (!name_ok(name)) {
		cond_report(b, true, nameopt, "%s \"%s\" %s", nameopt, name,
			    why);
		return 0;
	}
	return cond_build_lists(k, b, 0, name);
}

int cond_add_copy(const struct cond_kind *k, const struct cond_builder *b,
		  const char *opt, const void *data, size_t size)
{
	void *copy = malloc(size);
	struct cond *c;

	if (copy == NULL)
		return -2;
	memcpy(copy, data, size);
	if ((c = b->add(b->ctx, k, false)) == NULL) {
		free(copy);
		return -2;
	}
	c->opt = opt;
	c->data = copy;
	return 0;
}

int cond_build_flag(const struct cond_kind *k, const struct cond_builder *b)
{
	const char *opt = k->opts[0].name;
	bool want;

	if (!b->flag(b->ctx, opt, &want) || !cond_stage_ok(k, b, opt))
		return 0;
	return cond_add_copy(k, b, opt, &want, sizeof(want));
}

bool cond_flag_want(const struct cond *c)
{
	return *(const bool *)c->data;
}

int cond_build_count(const struct cond_kind *k, const struct cond_builder *b,
		     const char *what)
{
	const char *omin = k->opts[0].name, *omax = k->opts[1].name;
	long min = 0, max = 0;
	bool has_min = b->num(b->ctx, omin, &min);
	bool has_max = b->num(b->ctx, omax, &max);
	const char *opt = has_min ? omin : omax;
	struct cond_range r;

	if (!has_min && !has_max)
		return 0;
	if (!cond_stage_ok(k, b, opt))
		return 0;
	if (min < 0 || max < 0) {
		cond_report(b, true, min < 0 ? omin : omax,
			    "%s cannot be negative", what);
		return 0;
	}
	if (has_min && has_max && min > max) {
		cond_report(b, true, omax,
			    "%s %ld is less than %s %ld: the rule would never "
			    "match",
			    omax, max, omin, min);
		return 0;
	}
	r.min = (uint64_t)min;
	r.max = has_max ? (uint64_t)max : UINT64_MAX;
	return cond_add_copy(k, b, opt, &r, sizeof(r));
}

int cond_match_text(const struct cond_lists *l, const char *v, size_t len)
{
	switch (l->matcher) {
	case MATCH_DOMAIN:
		return domain_set_match(l->domains, v) ? 1 : 0;
	case MATCH_REGEX:
		return regex_list_match(l->regexes, v, len);
	default:
		return 0;
	}
}

/*
 * Match an envelope address by the matcher, in its normal form: every
 * spelling of an address matches alike, and one that could not be read
 * or was cut never counts as "no match".
 */
/* 1: an address in its normal form to read; 0: none; or the COND_*
 * failure of one that could not be read or was cut. */
static int addr_readable(const struct addr_fact *a)
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
	return 1;
}

int cond_match_address(const struct cond_lists *l, const struct addr_fact *a)
{
	int r = addr_readable(a);

	if (r != 1)
		return r;
	switch (l->matcher) {
	case MATCH_EMAIL:
		return email_set_match(l->emails, &a->norm) ? 1 : 0;
	case MATCH_DOMAIN:
		return domain_set_match(l->domains, envaddr_domain(&a->norm))
			   ? 1
			   : 0;
	case MATCH_REGEX:
		return regex_list_match(l->regexes, a->norm.text, a->norm.len);
	default:
		return 0;
	}
}

const char *cond_macro(const struct session *s, const char *name)
{
	const char *v;

	if (s->macro == NULL)
		return NULL;
	v = s->macro(s->macro_arg, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

void *cond_state(const struct cond *c, const struct session *s)
{
	return s->state + c->state_at;
}

unsigned cond_events(const struct cond *c)
{
	return c->kind->needs |
	       (c->kind->events != NULL ? c->kind->events(c) : 0);
}

bool cond_in_range(const struct cond *c, uint64_t v)
{
	const struct cond_range *r = c->data;

	return v >= r->min && v <= r->max;
}

void cond_describe(const struct cond *c, char *buf, size_t len)
{
	const struct cond_lists *l = c->data;
	bool named = c->kind->opts[0].type == COPT_STR &&
		     c->kind->opts[1].name != NULL &&
		     c->kind->opts[1].type == COPT_LIST;

	if (named && l != NULL && l->name != NULL)
		snprintf(buf, len, "%s \"%s\" %s%s", c->kind->opts[0].name,
			 l->name, c->negate ? "not_" : "", c->opt);
	else
		snprintf(buf, len, "%s%s", c->negate ? "not_" : "", c->opt);
}

/* --- keys of state kept between sessions ----------------------------- */

bool cond_client_net(const struct session *s, char *buf, size_t len)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0,
						   0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *ip = s->client_ip;

	if (!s->have_ip)
		return false;
	if (memcmp(ip, v4mapped, sizeof(v4mapped)) == 0)
		snprintf(buf, len, "%u.%u.%u.0/24", ip[12], ip[13], ip[14]);
	else
		snprintf(buf, len, "%x:%x:%x:%x::/64", ip[0] << 8 | ip[1],
			 ip[2] << 8 | ip[3], ip[4] << 8 | ip[5],
			 ip[6] << 8 | ip[7]);
	return true;
}

int cond_key_lower(const char *v, char *buf, size_t len)
{
	if (v == NULL || v[0] == '\0')
		return 0;
	snprintf(buf, len, "%s", v);
	for (char *p = buf; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 1;
}

int cond_addr_key(const struct addr_fact *a, bool domain, char *buf,
		  size_t len)
{
	int r = addr_readable(a);

	if (r != 1)
		return r;
	return cond_key_lower(domain ? envaddr_domain(&a->norm)
				     : (a->norm.len > 0 ? a->norm.text : "<>"),
			      buf, len);
}

bool cond_duration(const struct cond_builder *b, const char *opt,
		   uint64_t min_ms, uint64_t max_ms, uint64_t *ms)
{
	const char *v = b->str(b->ctx, opt);
	char lo[DURATION_SHOW_MAX], hi[DURATION_SHOW_MAX];
	uint64_t d;

	if (v == NULL)
		return true;
	if (duration_parse(v, &d) != 0 || d < min_ms || d > max_ms) {
		cond_report(b, true, opt,
			    "%s \"%s\": want a duration from %s to %s: a "
			    "number with s, m, h or d (\"90s\", \"5m\", "
			    "\"4h\", \"35d\")",
			    opt, v, duration_show(min_ms, lo, sizeof(lo)),
			    duration_show(max_ms, hi, sizeof(hi)));
		return false;
	}
	*ms = d;
	return true;
}
