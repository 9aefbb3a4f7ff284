/*
 * stats.c - counters for the life of the process, keyed by rule name, and
 * the holder of the current policy (stats.h).
 *
 * Binding happens at load, under a lock; counting at run time is one
 * atomic add through the pointer the rule holds, with no lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"

struct named_stats {
	char *name; /* owned */
	struct rule_stats st;
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct named_stats **table; /* owned; entries never move */
static size_t ntable, captable;

static struct rule_stats *find_or_add(const char *name)
{
	struct named_stats *e;

	for (size_t i = 0; i < ntable; i++)
		if (strcmp(table[i]->name, name) == 0)
			return &table[i]->st;
	if (ntable == captable) {
		size_t cap = captable ? 2 * captable : 64;
		struct named_stats **t = realloc(table, cap * sizeof(*t));
		if (t == NULL)
			return NULL;
		table = t;
		captable = cap;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->name = strdup(name)) == NULL) {
		free(e);
		return NULL;
	}
	table[ntable++] = e;
	return &e->st;
}

int stats_bind(struct policy *p)
{
	int rc = 0;

	pthread_mutex_lock(&stats_lock);
	for (size_t i = 0; i < p->nrules && rc == 0; i++) {
		p->rules[i].stats = find_or_add(p->rules[i].name);
		if (p->rules[i].stats == NULL)
			rc = -1;
	}
	pthread_mutex_unlock(&stats_lock);
	return rc;
}

void stats_rule_hit(const struct rule *r)
{
	if (r->stats != NULL)
		__atomic_add_fetch(&r->stats->hits, 1, __ATOMIC_RELAXED);
}

uint64_t stats_rule_hits(const struct rule *r)
{
	return r->stats != NULL
		   ? __atomic_load_n(&r->stats->hits, __ATOMIC_RELAXED)
		   : 0;
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
		if (r->verdict == VERDICT_REJECT ||
		    r->verdict == VERDICT_TEMPFAIL)
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

void stats_free_all(void)
{
	pthread_mutex_lock(&stats_lock);
	for (size_t i = 0; i < ntable; i++) {
		free(table[i]->name);
		free(table[i]);
	}
	free(table);
	table = NULL;
	ntable = captable = 0;
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
