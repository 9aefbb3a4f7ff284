/*
 * dnscache.c - the process-wide cache of DNS list answers (dns.h): a
 * hash table of (name, type) to answer, each kept for its TTL, behind
 * one mutex. A cached answer costs a hash lookup and a copy, never a
 * round trip through the resolver's thread. Never logs.
 */
#include <pthread.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns.h"

#define BUCKETS 4096

struct centry {
	struct centry *next;
	time_t expires;
	enum dns_type type;
	struct dns_answer ans;
	char name[]; /* NUL-terminated */
};

struct dns_cache {
	pthread_mutex_t lock;
	time_t (*clock)(void);
	size_t max, count;
	struct centry *bucket[BUCKETS];
};

static time_t mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct dns_cache *dns_cache_new(size_t max, time_t (*clock)(void))
{
	struct dns_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->clock = clock != NULL ? clock : mono_seconds;
	c->max = max;
	return c;
}

void dns_cache_free(struct dns_cache **cp)
{
	struct dns_cache *c = *cp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		while (c->bucket[i] != NULL) {
			struct centry *e = c->bucket[i];
			c->bucket[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cp = NULL;
}

/* FNV-1a over the name, case folded (DNS names compare without case). */
static size_t hash(const char *name, enum dns_type type)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;

	for (; *name != '\0'; name++) {
		unsigned char ch = (unsigned char)*name;
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		h = (h ^ ch) * 16777619u;
	}
	return h % BUCKETS;
}

/* The entry of (name, type) in its bucket, *prev the link to it. */
static struct centry **find(struct dns_cache *c, const char *name,
			    enum dns_type type)
{
	struct centry **p = &c->bucket[hash(name, type)];

	for (; *p != NULL; p = &(*p)->next)
		if ((*p)->type == type && strcasecmp((*p)->name, name) == 0)
			return p;
	return p;
}

bool dns_cache_get(struct dns_cache *c, const char *name, enum dns_type type,
		   struct dns_answer *out)
{
	struct centry **p, *e;
	bool hit = false;
	time_t now;

	pthread_mutex_lock(&c->lock);
	now = c->clock();
	p = find(c, name, type);
	if ((e = *p) != NULL) {
		if (e->expires > now) {
			*out = e->ans;
			out->ttl = (unsigned)(e->expires - now);
			out->cached = true;
			hit = true;
		} else {
			*p = e->next;
			free(e);
			c->count--;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Drop every expired entry. Under the lock. */
static void sweep(struct dns_cache *c, time_t now)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		struct centry **p = &c->bucket[i];
		while (*p != NULL) {
			struct centry *e = *p;
			if (e->expires > now) {
				p = &e->next;
				continue;
			}
			*p = e->next;
			free(e);
			c->count--;
		}
	}
}

void dns_cache_put(struct dns_cache *c, const char *name, enum dns_type type,
		   const struct dns_answer *a)
{
	size_t nl = strlen(name) + 1;
	struct centry **p, *e;
	unsigned ttl = a->ttl < DNS_TTL_MAX ? a->ttl : DNS_TTL_MAX;
	time_t now;

	if (ttl == 0 || (a->status != DNS_FOUND && a->status != DNS_NONE))
		return;
	pthread_mutex_lock(&c->lock);
	now = c->clock();
	p = find(c, name, type);
	if (*p == NULL && c->count >= c->max) {
		sweep(c, now);
		p = find(c, name, type);
	}
	if (*p != NULL) { /* a newer answer replaces the old one */
		e = *p;
	} else if (c->count < c->max && (e = malloc(sizeof(*e) + nl)) != NULL) {
		memcpy(e->name, name, nl);
		e->type = type;
		e->next = NULL;
		*p = e;
		c->count++;
	} else {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	e->ans = *a;
	e->ans.cached = false;
	e->expires = now + (time_t)ttl;
	pthread_mutex_unlock(&c->lock);
}

size_t dns_cache_count(struct dns_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
