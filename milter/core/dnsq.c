/*
 * dnsq.c - DNS list conditions on a session (dnsq.h): their entries,
 * the zones of the policy, the lookups of a session made once and kept,
 * and how a condition holds (weights, threshold, answer filters).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/dnsq.h"
#include "core/stats.h"
#include "lib/quote.h"

#define WEIGHT_MAX  1000
#define REPORTS_MAX 16 /* failed lookups kept for dnsq_report() */

/* The answers of one zone of the policy, in a session. */
struct zone_ans {
	struct dns_answer a, txt;
};

struct dnsq {
	struct dns_resolver *r; /* taken at the first lookup */
	long spent_ms;		/* DNS time of the connection so far */
	bool asked[DNSQ_SUBJECTS];
	bool nomem[DNSQ_SUBJECTS]; /* the lookup had no memory: the failure
				      policy decides, not dns_error */
	struct zone_ans *z; /* policy.dns.nzones */
	size_t nrep;
	unsigned lost; /* failures over REPORTS_MAX, not reported */
	char rep[REPORTS_MAX][DNS_NAME_MAX + 120];
};

/* --- entries ----------------------------------------------------------- */

int dnsl_entry_parse(const char *s, struct dnsl_entry *e, char *err,
		     size_t errlen)
{
	size_t zl = strcspn(s, "=*");
	const char *f = strchr(s, '=');
	const char *w = strchr(s, '*');
	char zone[DNS_NAME_MAX], filt[512], why[200], q[80];

	memset(e, 0, sizeof(*e));
	e->weight = 1;
	match_quote(q, sizeof(q), s, strlen(s));
	if (zl >= sizeof(zone)) {
		snprintf(err, errlen, "\"%s\": the zone is too long", q);
		return -1;
	}
	memcpy(zone, s, zl);
	zone[zl] = '\0';
	if (zl > 0 && zone[zl - 1] == '.')
		zone[zl - 1] = '\0';
	if (dns_zone_check(zone, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "\"%s\": zone: %s", q, why);
		return -1;
	}
	if (f != NULL) {
		size_t fl;
		f++;
		fl = w != NULL && w > f ? (size_t)(w - f) : strlen(f);
		if (w != NULL && w < f) {
			snprintf(err, errlen,
				 "\"%s\": write the answers before the weight: "
				 "zone=answers*weight",
				 q);
			return -1;
		}
		if (fl >= sizeof(filt)) {
			snprintf(err, errlen, "\"%s\": answers too long", q);
			return -1;
		}
		memcpy(filt, f, fl);
		filt[fl] = '\0';
		if (dns_filter_parse(filt, &e->filter, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "\"%s\": %s", q, why);
			return -1;
		}
	}
	if (w != NULL) {
		char *end;
		long v = strtol(w + 1, &end, 10);
		if (w[1] == '\0' || *end != '\0' || v == 0 || v < -WEIGHT_MAX ||
		    v > WEIGHT_MAX) {
			snprintf(err, errlen,
				 "\"%s\": weight \"%s\": want a whole number "
				 "from -%d to %d, not 0",
				 q, w + 1, WEIGHT_MAX, WEIGHT_MAX);
			return -1;
		}
		e->weight = v;
	}
	if ((e->zone = strdup(zone)) == NULL)
		return -2;
	return 0;
}

void dnsl_free(void *data)
{
	struct dnsl *l = data;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].zone);
	free(l->e);
	free(l);
}

int dnsl_build(const struct cond_kind *k, const struct cond_builder *b,
	       enum dnsq_subject subject)
{
	const char *opt = k->opts[0].name, *topt = k->opts[1].name;
	size_t n = b->count(b->ctx, opt);
	long threshold = 1, sum = 0;
	bool has_t = b->num(b->ctx, topt, &threshold);
	struct dnsl *l;
	struct cond *c;
	int bad = 0;

	if (!b->given(b->ctx, opt)) {
		if (has_t)
			cond_report(b, true, topt,
				    "%s needs %s: the zones whose weights it "
				    "adds up",
				    topt, opt);
		return 0;
	}
	if (!cond_stage_ok(k, b, opt))
		return 0;
	if (n == 0 || n > DNSL_MAX_ZONES) {
		cond_report(b, true, opt,
			    n == 0
				? "%s = {} has no zones: it would never match"
				: "%s has more than %d zones",
			    opt, DNSL_MAX_ZONES);
		return 0;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->e = calloc(n, sizeof(*l->e))) == NULL) {
		free(l);
		return -2;
	}
	l->subject = subject;
	l->threshold = threshold;
	for (size_t i = 0; i < n; i++) {
		char err[400];
		int rc = dnsl_entry_parse(b->item(b->ctx, opt, i), &l->e[l->n],
					  err, sizeof(err));
		if (rc == -2) {
			dnsl_free(l);
			return -2;
		}
		if (rc != 0) {
			b->report_item(b->ctx, opt, i, err);
			bad++;
			continue;
		}
		if (l->e[l->n].weight > 0)
			sum += l->e[l->n].weight;
		l->n++;
	}
	if (bad == 0 && (threshold < 1 || threshold > sum)) {
		cond_report(b, true, has_t ? topt : opt,
			    "%s %ld: want 1 to %ld, the sum of the positive "
			    "weights of %s, or the rule could never match",
			    topt, threshold, sum, opt);
		bad++;
	}
	if (bad > 0) {
		dnsl_free(l);
		return 0;
	}
	if ((c = b->add(b->ctx, k, false)) == NULL) {
		dnsl_free(l);
		return -2;
	}
	c->opt = opt;
	c->data = l;
	return 0;
}

/* --- the zones of a policy ------------------------------------------ */

static bool is_dns(const struct cond *c)
{
	return c->kind->eval == dnsl_eval;
}

int dnsq_layout(struct policy *p)
{
	struct policy_dns *d = &p->dns;

	for (size_t i = 0; i < p->nrules; i++)
		for (size_t k = 0; k < p->rules[i].ncond; k++) {
			struct cond *c = &p->rules[i].cond[k];
			struct dnsl *l = c->data;
			if (!is_dns(c))
				continue;
			for (size_t j = 0; j < l->n; j++) {
				size_t z;
				for (z = 0; z < d->nzones; z++)
					if (d->zone[z].subject ==
						(int)l->subject &&
					    strcasecmp(d->zone[z].name,
						       l->e[j].zone) == 0)
						break;
				if (z == d->nzones) {
					struct dns_zone_use *v =
					    realloc(d->zone, (d->nzones + 1) *
								 sizeof(*v));
					if (v == NULL)
						return -1;
					d->zone = v;
					v[z].name = l->e[j].zone;
					v[z].subject = (int)l->subject;
					d->nzones++;
				}
				l->e[j].zi = z;
			}
		}
	return 0;
}

/* --- a session's lookups --------------------------------------------- */

int dnsq_begin(struct session *s)
{
	const struct policy *p = s->policy;
	struct dnsq *q;

	if (p->dns.nzones == 0)
		return 0;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->z = calloc(p->dns.nzones, sizeof(*q->z))) == NULL) {
		free(q);
		return -1;
	}
	s->dns = q;
	return 0;
}

void dnsq_reset_message(struct session *s)
{
	struct dnsq *q = s->dns;

	if (q != NULL)
		q->asked[DNSQ_SENDER] = false;
}

void dnsq_end(struct session *s)
{
	struct dnsq *q = s->dns;

	if (q == NULL)
		return;
	dns_resolver_put(&q->r);
	free(q->z);
	free(q);
	s->dns = NULL;
}

void dnsq_set(struct session *s, enum dnsq_subject sub, size_t zi,
	      const struct dns_answer *a, const struct dns_answer *txt)
{
	struct dnsq *q = s->dns;

	q->asked[sub] = true;
	memset(&q->z[zi], 0, sizeof(q->z[zi]));
	q->z[zi].a.status = DNS_NONE;
	q->z[zi].txt.status = DNS_NONE;
	if (a != NULL)
		q->z[zi].a = *a;
	if (txt != NULL)
		q->z[zi].txt = *txt;
}

static void note_failure(struct dnsq *q, const char *name, const char *type,
			 const char *why)
{
	if (q->nrep == REPORTS_MAX) {
		q->lost++;
		return;
	}
	snprintf(q->rep[q->nrep++], sizeof(q->rep[0]), "%s %s: %s", name, type,
		 why);
}

void dnsq_report(struct session *s, void (*fn)(void *arg, const char *what),
		 void *arg)
{
	struct dnsq *q = s->dns;
	char line[80];

	if (q == NULL)
		return;
	for (size_t i = 0; i < q->nrep; i++)
		fn(arg, q->rep[i]);
	if (q->lost > 0) {
		snprintf(line, sizeof(line), "%u more lookups failed", q->lost);
		fn(arg, line);
	}
	q->nrep = 0;
	q->lost = 0;
}

/* What subject sub of s is, for its names: false when it has none that
 * can be looked up (no address, "unknown", an address literal, ...). */
static bool subject_of(const struct session *s, enum dnsq_subject sub,
		       const char **text)
{
	const char *v = NULL;

	switch (sub) {
	case DNSQ_CLIENT:
		return s->have_ip;
	case DNSQ_CLIENT_NAME:
		if (s->too_long & FACT_CLIENT_NAME ||
		    strcmp(s->client_name, "unknown") == 0)
			return false;
		v = s->client_name;
		break;
	case DNSQ_HELO:
		if (!s->have_helo || (s->too_long & FACT_HELO))
			return false;
		v = s->helo;
		break;
	default:
		if (s->msg.sender.state != ADDR_OK)
			return false;
		v = envaddr_domain(&s->msg.sender.norm);
		break;
	}
	*text = v;
	return v != NULL && v[0] != '\0';
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Ask the queries q[0..n) within the connection's time left, count them,
 * note the failures.
 */
static void ask(const struct policy *p, struct dnsq *d, struct dns_query *q,
		size_t n)
{
	long left = p->dns.timeout_ms - d->spent_ms;
	struct timespec t0;
	char err[sizeof(q->ans.why)];

	if (n == 0)
		return;
	if (d->r == NULL && (d->r = dns_resolver_get(p->dns.upstream, err,
						     sizeof(err))) == NULL) {
		for (size_t i = 0; i < n; i++) {
			q[i].ans.status = DNS_FAILED;
			snprintf(q[i].ans.why, sizeof(q[i].ans.why), "%s", err);
		}
	} else if (left <= 0) {
		for (size_t i = 0; i < n; i++) {
			q[i].ans.status = DNS_FAILED;
			snprintf(q[i].ans.why, sizeof(q[i].ans.why),
				 "the connection's DNS time (dns_timeout "
				 "%ld s) is spent",
				 p->dns.timeout_ms / 1000);
		}
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		dns_resolve(d->r, q, n, left);
		d->spent_ms += elapsed_ms(&t0);
	}
	for (size_t i = 0; i < n; i++) {
		stats_dns(q[i].type == DNS_TXT, q[i].ans.cached,
			  q[i].ans.status);
		if (q[i].ans.status == DNS_FAILED)
			note_failure(d, q[i].name,
				     q[i].type == DNS_A ? "A" : "TXT",
				     q[i].ans.why);
	}
}

/* Does zone answer z list the subject for any entry of the policy? */
static bool any_found(const struct zone_ans *z)
{
	return z->a.status == DNS_FOUND;
}

/* Look subject sub of s up in every zone of the policy that asks it. */
static void lookup(struct session *s, enum dnsq_subject sub)
{
	const struct policy *p = s->policy;
	struct dnsq *d = s->dns;
	size_t nz = p->dns.nzones, n = 0;
	struct dns_query *q = calloc(nz, sizeof(*q));
	size_t *at = calloc(nz, sizeof(*at));
	const char *text = NULL;
	bool has = subject_of(s, sub, &text);

	d->asked[sub] = true;
	d->nomem[sub] = has && (q == NULL || at == NULL);
	for (size_t z = 0; z < nz; z++) {
		if (p->dns.zone[z].subject != (int)sub)
			continue;
		memset(&d->z[z], 0, sizeof(d->z[z]));
		d->z[z].a.status = DNS_NONE;
		d->z[z].txt.status = DNS_NONE;
		if (!has)
			continue;
		if (q == NULL || at == NULL) {
			d->z[z].a.status = DNS_FAILED;
			snprintf(d->z[z].a.why, sizeof(d->z[z].a.why),
				 "out of memory");
			continue;
		}
		if ((sub == DNSQ_CLIENT
			 ? dns_name_ip(s->client_ip, p->dns.zone[z].name,
				       q[n].name, sizeof(q[n].name))
			 : dns_name_domain(text, p->dns.zone[z].name, q[n].name,
					   sizeof(q[n].name))) != 0)
			continue; /* a name that cannot be listed */
		q[n].type = DNS_A;
		at[n++] = z;
	}
	ask(p, d, q, n);
	for (size_t i = 0; i < n; i++)
		d->z[at[i]].a = q[i].ans;
	if (p->dns.want_txt && n > 0) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			if (!any_found(&d->z[at[i]]))
				continue;
			q[i].type = DNS_TXT;
			q[m] = q[i];
			at[m++] = at[i];
		}
		ask(p, d, q, m);
		for (size_t i = 0; i < m; i++)
			d->z[at[i]].txt = q[i].ans;
	}
	free(q);
	free(at);
}

/* Show answer a of zone e in the session's placeholders. */
static void show_hit(struct session *s, const struct dnsl_entry *e,
		     uint32_t addr, const struct zone_ans *z)
{
	struct in_addr in = {htonl(addr)};

	snprintf(s->dns_zone, sizeof(s->dns_zone), "%s", e->zone);
	inet_ntop(AF_INET, &in, s->dns_answer, sizeof(s->dns_answer));
	snprintf(s->dns_txt, sizeof(s->dns_txt), "%s",
		 z->txt.status == DNS_FOUND ? z->txt.txt : "");
}

int dnsl_eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct dnsl *l = c->data;
	struct dnsq *d = s->dns;
	long sum = 0;
	bool failed = false;
	const struct dnsl_entry *hit = NULL;
	uint32_t hit_addr = 0;
	(void)st;

	if (d == NULL)
		return COND_DNS_ERROR;
	if (!d->asked[l->subject])
		lookup(s, l->subject);
	if (d->nomem[l->subject])
		return COND_NOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct dnsl_entry *e = &l->e[i];
		const struct zone_ans *z = &d->z[e->zi];
		if (z->a.status == DNS_FAILED) {
			failed = true;
			continue;
		}
		if (z->a.status != DNS_FOUND)
			continue;
		for (unsigned k = 0; k < z->a.naddr; k++) {
			if (!dns_filter_match(&e->filter, z->a.addr[k]))
				continue;
			sum += e->weight;
			if (hit == NULL && e->weight > 0) {
				hit = e;
				hit_addr = z->a.addr[k];
			}
			break;
		}
	}
	if (sum >= l->threshold && hit != NULL) {
		show_hit(s, hit, hit_addr, &d->z[hit->zi]);
		return 1;
	}
	return failed && s->policy->dns.tempfail ? COND_DNS_ERROR : 0;
}
