/*
 * stats.c - counters for the life of the process, keyed by rule name, and
 * the holder of the current policy (stats.h).
 *
 * Binding happens at load, under a lock; counting at run time is one
 * atomic add through the pointer the rule holds, with no lock.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/stats.h"

#ifndef VERSION
#define VERSION "0.1"
#endif

struct named_stats {
	char *name; /* owned */
	struct rule_stats st;
};

struct pair_stats {
	char code[32]; /* "550 5.7.1" */
	enum verdict verdict;
	struct reply_stats st;
};

/* Seconds a message may take, the upper bounds of the histogram. */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
				 0.025,	 0.05,	0.1,	0.25,  0.5,
				 1,	 2.5,	5,	10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct named_stats **table; /* owned; entries never move */
static size_t ntable, captable;
static struct pair_stats **pairs; /* owned; entries never move */
static size_t npairs, cappairs;

/* Process-wide counters, updated atomically. */
static struct {
	uint64_t sessions, messages;
	uint64_t decisions[STAGE_COUNT][VERDICT_COUNT];
	uint64_t internal[VERDICT_COUNT];
	uint64_t state_errors[2]; /* ignored, tempfailed */
	uint64_t reloads_done, reloads_refused, generation;
	uint64_t last_load; /* seconds since the epoch */
	uint64_t started;
	uint64_t msg_buckets[NBUCKETS + 1]; /* the last: over every bound */
	uint64_t msg_ns;
	uint64_t dns[2][2][4]; /* [txt][cached][enum dns_status] */
} g;

static void add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Grow an array of pointers to hold one more. 0, or -1. */
static int grow(void *pp, size_t n, size_t *cap)
{
	void **arr = *(void ***)pp;

	if (n < *cap)
		return 0;
	arr = realloc(arr, (*cap ? 2 * *cap : 64) * sizeof(*arr));
	if (arr == NULL)
		return -1;
	*(void ***)pp = arr;
	*cap = *cap ? 2 * *cap : 64;
	return 0;
}

static struct rule_stats *find_or_add(const char *name)
{
	struct named_stats *e;

	for (size_t i = 0; i < ntable; i++)
		if (strcmp(table[i]->name, name) == 0)
			return &table[i]->st;
	if (grow(&table, ntable, &captable) != 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->name = strdup(name)) == NULL) {
		free(e);
		return NULL;
	}
	table[ntable++] = e;
	return &e->st;
}

static struct reply_stats *pair_find_or_add(const struct reply_code *rc,
					    enum verdict v)
{
	char code[32];
	struct pair_stats *e;

	codes_format(rc, code, sizeof(code));
	for (size_t i = 0; i < npairs; i++)
		if (pairs[i]->verdict == v && strcmp(pairs[i]->code, code) == 0)
			return &pairs[i]->st;
	if (grow(&pairs, npairs, &cappairs) != 0 ||
	    (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->code, sizeof(e->code), "%s", code);
	e->verdict = v;
	pairs[npairs++] = e;
	return &e->st;
}

int stats_bind(struct policy *p)
{
	int rc = 0;

	pthread_mutex_lock(&stats_lock);
	for (size_t i = 0; i < p->nrules && rc == 0; i++) {
		struct rule *r = &p->rules[i];
		r->stats = find_or_add(r->name);
		if (verdict_sends_reply(r->verdict))
			r->reply_stats = pair_find_or_add(&r->code, r->verdict);
		if (r->stats == NULL ||
		    (verdict_sends_reply(r->verdict) && r->reply_stats == NULL))
			rc = -1;
	}
	if (rc == 0 && verdict_sends_reply(p->failure.verdict) &&
	    (p->failure.stats = pair_find_or_add(&p->failure.code,
						 p->failure.verdict)) == NULL)
		rc = -1;
	pthread_mutex_unlock(&stats_lock);
	return rc;
}

void stats_rule_hit(const struct rule *r, bool dry_run)
{
	if (r->stats == NULL)
		return;
	add(&r->stats->hits, 1);
	add(dry_run ? &r->stats->would : &r->stats->enforced, 1);
}

uint64_t stats_rule_hits(const struct rule *r)
{
	return r->stats != NULL ? get(&r->stats->hits) : 0;
}

void stats_session(void)
{
	add(&g.sessions, 1);
}

void stats_message(uint64_t ns)
{
	double sec = (double)ns / 1e9;
	size_t b = 0;

	while (b < NBUCKETS && sec > buckets[b])
		b++;
	add(&g.msg_buckets[b], 1);
	add(&g.msg_ns, ns);
	add(&g.messages, 1);
}

void stats_decision(enum stage st, enum verdict v, struct reply_stats *rs)
{
	if (st < STAGE_COUNT && v < VERDICT_COUNT)
		add(&g.decisions[st][v], 1);
	if (rs != NULL)
		add(&rs->given, 1);
}

void stats_dns(bool txt, bool cached, int status)
{
	if (status >= 0 && status < 4)
		add(&g.dns[txt][cached][status], 1);
}

void stats_internal(enum verdict v)
{
	if (v < VERDICT_COUNT)
		add(&g.internal[v], 1);
}

void stats_state_error(bool tempfail)
{
	add(&g.state_errors[tempfail ? 1 : 0], 1);
}

void stats_reload(bool done)
{
	if (!done) {
		add(&g.reloads_refused, 1);
		return;
	}
	add(&g.reloads_done, 1);
	add(&g.generation, 1);
	__atomic_store_n(&g.last_load, (uint64_t)time(NULL), __ATOMIC_RELAXED);
}

void stats_started(void)
{
	__atomic_store_n(&g.started, (uint64_t)time(NULL), __ATOMIC_RELAXED);
	__atomic_store_n(&g.last_load, (uint64_t)time(NULL), __ATOMIC_RELAXED);
	add(&g.generation, 1);
}

void stats_report(const struct policy *p,
		  void (*line)(void *arg, const char *text), void *arg)
{
	struct {
		char code[32];
		unsigned long long hits;
	} *per = calloc(p->nrules + 1, sizeof(*per));
	size_t ncodes = 0;
	char text[512];

	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		unsigned long long hits = stats_rule_hits(r);
		char code[32] = "-";
		size_t k;
		if (verdict_sends_reply(r->verdict))
			codes_format(&r->code, code, sizeof(code));
		snprintf(text, sizeof(text),
			 "counter: rule=%s stage=%s verdict=%s reply=%s "
			 "hits=%llu",
			 r->name, stage_name(r->stage), verdict_name(r->verdict),
			 code, hits);
		line(arg, text);
		if (per == NULL || code[0] == '-' || r->mode == MODE_DRY_RUN)
			continue;
		for (k = 0; k < ncodes && strcmp(per[k].code, code) != 0; k++)
			;
		if (k == ncodes)
			snprintf(per[ncodes++].code, sizeof(per[k].code), "%s",
				 code);
		per[k].hits += hits;
	}
	for (size_t k = 0; k < ncodes; k++) {
		snprintf(text, sizeof(text), "counter: reply=\"%s\" hits=%llu",
			 per[k].code, per[k].hits);
		line(arg, text);
	}
	free(per);
}

/* --- the Prometheus text format ----------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	bool nomem;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->nomem)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->nomem = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *b = realloc(o->buf, 2 * o->cap + (size_t)n);
		if (b == NULL) {
			o->nomem = true;
			return;
		}
		o->buf = b;
		o->cap = 2 * o->cap + (size_t)n;
	}
}

static void head(struct out *o, const char *name, const char *type,
		 const char *help)
{
	put(o, "# HELP replycode_milter_%s %s\n# TYPE replycode_milter_%s %s\n",
	    name, help, name, type);
}

int stats_prometheus(const struct policy *p, char **buf, size_t *len)
{
	struct out o = {malloc(4096), 0, 4096, false};
	uint64_t cum = 0;

	if (o.buf == NULL)
		return -1;
	head(&o, "build_info", "gauge", "The milter's version.");
	put(&o, "replycode_milter_build_info{version=\"%s\"} 1\n", VERSION);
	head(&o, "start_time_seconds", "gauge",
	     "When the milter started, in seconds since the epoch.");
	put(&o, "replycode_milter_start_time_seconds %llu\n",
	    (unsigned long long)get(&g.started));
	head(&o, "sessions_total", "counter",
	     "Sessions: connections the MTA opened to the milter.");
	put(&o, "replycode_milter_sessions_total %llu\n",
	    (unsigned long long)get(&g.sessions));
	head(&o, "messages_total", "counter",
	     "Messages that reached their end (the final dot).");
	put(&o, "replycode_milter_messages_total %llu\n",
	    (unsigned long long)get(&g.messages));
	head(&o, "decisions_total", "counter",
	     "Decisions given to the MTA, by stage and verdict (held "
	     "verdicts at rcpt, where they are given).");
	for (int st = 0; st < STAGE_COUNT; st++)
		for (int v = 0; v < VERDICT_COUNT; v++)
			if (get(&g.decisions[st][v]) > 0)
				put(&o,
				    "replycode_milter_decisions_total{stage=\"%s\","
				    "verdict=\"%s\"} %llu\n",
				    stage_name((enum stage)st),
				    verdict_name((enum verdict)v),
				    (unsigned long long)get(&g.decisions[st][v]));
	head(&o, "internal_errors_total", "counter",
	     "Internal errors, by the failure policy's verdict that answered "
	     "them.");
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (v == VERDICT_TEMPFAIL || get(&g.internal[v]) > 0)
			put(&o,
			    "replycode_milter_internal_errors_total{verdict=\"%s\"}"
			    " %llu\n",
			    verdict_name((enum verdict)v),
			    (unsigned long long)get(&g.internal[v]));
	head(&o, "dns_lookups_total", "counter",
	     "DNS list lookups, by record type, where the answer came from "
	     "(the milter's cache or the resolver) and what it was (found: "
	     "listed, none: not listed, failed: no answer).");
	for (int t = 0; t < 2; t++)
		for (int c = 0; c < 2; c++)
			for (int r = 1; r < 4; r++) {
				static const char *const res[4] = {
				    "", "found", "none", "failed"};
				if (c == 1 && r == 3)
					continue; /* never cached */
				put(&o,
				    "replycode_milter_dns_lookups_total{type=\"%s\","
				    "source=\"%s\",result=\"%s\"} %llu\n",
				    t ? "TXT" : "A", c ? "cache" : "resolver",
				    res[r],
				    (unsigned long long)get(&g.dns[t][c][r]));
			}
	head(&o, "state_errors_total", "counter",
	     "Failures of the state store (LMDB or Redis) met by a rate "
	     "limit or greylisting, by what state_error made of them.");
	put(&o, "replycode_milter_state_errors_total{action=\"ignore\"} %llu\n",
	    (unsigned long long)get(&g.state_errors[0]));
	put(&o,
	    "replycode_milter_state_errors_total{action=\"tempfail\"} %llu\n",
	    (unsigned long long)get(&g.state_errors[1]));
	head(&o, "reloads_total", "counter",
	     "Reloads (SIGHUP): done, or refused because the config has "
	     "errors.");
	put(&o, "replycode_milter_reloads_total{result=\"done\"} %llu\n",
	    (unsigned long long)get(&g.reloads_done));
	put(&o, "replycode_milter_reloads_total{result=\"refused\"} %llu\n",
	    (unsigned long long)get(&g.reloads_refused));
	head(&o, "last_load_time_seconds", "gauge",
	     "When the policy in force was loaded (start or the last good "
	     "reload), in seconds since the epoch.");
	put(&o, "replycode_milter_last_load_time_seconds %llu\n",
	    (unsigned long long)get(&g.last_load));
	head(&o, "policy_generation", "gauge",
	     "How many policies the milter has loaded: 1 at start, one more "
	     "with each good reload.");
	put(&o, "replycode_milter_policy_generation %llu\n",
	    (unsigned long long)get(&g.generation));
	pthread_mutex_lock(&stats_lock);
	head(&o, "rule_matches_total", "counter",
	     "Times a rule's conditions held, by rule and mode (enforce: it "
	     "acted; dry-run: it logged what it would have done); kept by "
	     "rule name across reloads.");
	for (size_t i = 0; i < ntable; i++) {
		put(&o,
		    "replycode_milter_rule_matches_total{rule=\"%s\","
		    "mode=\"enforce\"} %llu\n",
		    table[i]->name,
		    (unsigned long long)get(&table[i]->st.enforced));
		put(&o,
		    "replycode_milter_rule_matches_total{rule=\"%s\","
		    "mode=\"dry-run\"} %llu\n",
		    table[i]->name,
		    (unsigned long long)get(&table[i]->st.would));
	}
	head(&o, "replies_total", "counter",
	     "Replies given, by code pair and verdict (the failure policy's "
	     "included).");
	for (size_t i = 0; i < npairs; i++)
		put(&o,
		    "replycode_milter_replies_total{code=\"%s\",verdict=\"%s\"} "
		    "%llu\n",
		    pairs[i]->code, verdict_name(pairs[i]->verdict),
		    (unsigned long long)get(&pairs[i]->st.given));
	pthread_mutex_unlock(&stats_lock);
	head(&o, "rule_info", "gauge",
	     "The rules of the policy in force: stage, verdict, reply and "
	     "mode by rule name; always 1.");
	for (size_t i = 0; p != NULL && i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		char code[32] = "";
		if (verdict_sends_reply(r->verdict))
			codes_format(&r->code, code, sizeof(code));
		put(&o,
		    "replycode_milter_rule_info{rule=\"%s\",stage=\"%s\","
		    "verdict=\"%s\",reply=\"%s\",mode=\"%s\"} 1\n",
		    r->name, stage_name(r->stage), verdict_name(r->verdict),
		    code, r->mode == MODE_DRY_RUN ? "dry-run" : "enforce");
	}
	head(&o, "message_duration_seconds", "histogram",
	     "Time the milter spent on a message, from MAIL to its end "
	     "(inside its callbacks; not the time the MTA and client took).");
	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += get(&g.msg_buckets[b]);
		put(&o,
		    "replycode_milter_message_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n",
		    buckets[b], (unsigned long long)cum);
	}
	cum += get(&g.msg_buckets[NBUCKETS]);
	put(&o,
	    "replycode_milter_message_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\n",
	    (unsigned long long)cum);
	put(&o, "replycode_milter_message_duration_seconds_sum %.9f\n",
	    (double)get(&g.msg_ns) / 1e9);
	put(&o, "replycode_milter_message_duration_seconds_count %llu\n",
	    (unsigned long long)cum);
	if (o.nomem) {
		free(o.buf);
		return -1;
	}
	*buf = o.buf;
	*len = o.len;
	return 0;
}

void stats_free_all(void)
{
	pthread_mutex_lock(&stats_lock);
	for (size_t i = 0; i < ntable; i++) {
		free(table[i]->name);
		free(table[i]);
	}
	for (size_t i = 0; i < npairs; i++)
		free(pairs[i]);
	free(table);
	free(pairs);
	table = NULL;
	pairs = NULL;
	ntable = captable = npairs = cappairs = 0;
	pthread_mutex_unlock(&stats_lock);
}

/* --- the current policy ---------------------------------------------- */

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct policy *current;

void policy_install(struct policy *p)
{
	const struct policy *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = p;
	pthread_mutex_unlock(&current_lock);
	policy_unref(&old);
}

const struct policy *policy_current(void)
{
	const struct policy *p;

	pthread_mutex_lock(&current_lock);
	p = policy_ref(current);
	pthread_mutex_unlock(&current_lock);
	return p;
}
