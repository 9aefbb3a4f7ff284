/*
 * dns.c - the resolver of DNS list lookups (dns.h), on libunbound: the
 * only file that includes its header or gets its flags (Makefile).
 *
 * One libunbound context per upstream setting, shared by every thread
 * (libunbound's own cache, its own recursion or forwarding), with the
 * process cache of dnscache.c in front of it. A call to dns_resolve()
 * answers what it can from the cache, sends the rest with
 * ub_resolve_async() at once, and sleeps on a condition variable until
 * all are answered or its time is up; one thread per context waits on
 * ub_fd() and runs ub_process(), whose callbacks fill the answers and
 * wake the caller. A caller that gives up leaves its batch to the
 * callbacks still due (a reference each): late answers fill the cache,
 * and the last one frees the batch. Never logs.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "lib/dns.h"

#define CACHE_MAX 20000 /* answers the process cache keeps */

struct batch;

struct dns_resolver {
	int refs; /* under reg_lock */
	char *upstream;
	struct ub_ctx *ctx;
	struct dns_cache *cache;
	pthread_t pump;
	int stop;	       /* atomic */
	pthread_mutex_t lock;  /* the batches */
	struct batch *batches; /* live ones, to free with the resolver */
};

struct slot {
	struct batch *b;
	size_t i;
};

struct batch {
	struct dns_resolver *r;
	struct batch *prev, *next;
	pthread_cond_t done;
	size_t pending; /* queries not answered */
	size_t refs;	/* the caller's (1 while it waits) + one per
			   query whose callback is due */
	size_t n;
	struct dns_query *q;
	struct slot *slot;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_resolver *current; /* the newest; under reg_lock */

/* --- answers --------------------------------------------------------- */

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {
	    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
	};
	return rcode >= 0 && rcode < 8 ? names[rcode] : "an unknown rcode";
}

/* What libunbound answered, into a. */
static void take_result(enum dns_type type, int err, struct ub_result *res,
			struct dns_answer *a)
{
	size_t used = 0;

	memset(a, 0, sizeof(*a));
	if (err != 0 || res == NULL) {
		a->status = DNS_FAILED;
		snprintf(a->why, sizeof(a->why), "resolver error: %s",
			 ub_strerror(err != 0 ? err : UB_NOMEM));
		return;
	}
	a->ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
	if (res->bogus) {
		a->status = DNS_FAILED;
		snprintf(a->why, sizeof(a->why), "DNSSEC bogus answer");
		return;
	}
	if (res->nxdomain || (res->rcode == 0 && !res->havedata)) {
		a->status = DNS_NONE;
		return;
	}
	if (res->rcode != 0) {
		a->status = DNS_FAILED;
		snprintf(a->why, sizeof(a->why), "%s from the server",
			 rcode_name(res->rcode));
		return;
	}
	for (int i = 0; res->data[i] != NULL; i++) {
		const unsigned char *d = (const unsigned char *)res->data[i];
		size_t len = (size_t)res->len[i];
		if (type == DNS_A && len == 4 && a->naddr < DNS_ADDRS_MAX) {
			a->addr[a->naddr++] = (uint32_t)d[0] << 24 |
					      (uint32_t)d[1] << 16 |
					      (uint32_t)d[2] << 8 | d[3];
		} else if (type == DNS_TXT) {
			/* records apart by a space; a malformed one left out */
			size_t before = used;
			if (used > 0 && used + 1 < sizeof(a->txt))
				a->txt[used++] = ' ';
			if (dns_txt_join(d, len, a->txt, sizeof(a->txt),
					 &used) != 0)
				used = before;
			a->txt[used] = '\0';
		}
	}
	a->status = (type == DNS_A && a->naddr == 0) ? DNS_NONE : DNS_FOUND;
}

/* Free b (its resolver's lock held). */
static void batch_free(struct batch *b)
{
	struct dns_resolver *r = b->r;

	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		r->batches = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	pthread_cond_destroy(&b->done);
	free(b->q);
	free(b->slot);
	free(b);
}

/* libunbound's callback, in the pump thread (from ub_process()). */
static void answered(void *arg, int err, struct ub_result *res)
{
	struct slot *s = arg;
	struct batch *b = s->b;
	struct dns_resolver *r = b->r;
	struct dns_answer a;

	take_result(b->q[s->i].type, err, res, &a);
	if (res != NULL)
		ub_resolve_free(res);
	dns_cache_put(r->cache, b->q[s->i].name, b->q[s->i].type, &a);
	pthread_mutex_lock(&r->lock);
	b->q[s->i].ans = a;
	b->pending--;
	if (--b->refs == 0)
		batch_free(b);
	else if (b->pending == 0)
		pthread_cond_signal(&b->done);
	pthread_mutex_unlock(&r->lock);
}

static void *pump(void *arg)
{
	struct dns_resolver *r = arg;
	struct pollfd p = {ub_fd(r->ctx), POLLIN, 0};

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int n = poll(&p, 1, 200);
		if (n > 0)
			ub_process(r->ctx);
		else if (n < 0 && errno != EINTR)
			break;
	}
	return NULL;
}

/* --- the resolver ---------------------------------------------------- */

static int setup(struct ub_ctx *ctx, const char *upstream, char *err,
		 size_t errlen)
{
	const char *s = upstream;
	int rc;

	if ((rc = ub_ctx_async(ctx, 1)) != 0)
		goto fail;
	if (strcmp(upstream, "recursive") == 0)
		return 0;
	/* a local resolver on 127.0.0.1 is what we want to ask */
	if ((rc = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no")) != 0)
		goto fail;
	if (strcmp(upstream, "system") == 0) {
		if ((rc = ub_ctx_resolvconf(ctx, NULL)) != 0) {
			snprintf(err, errlen,
				 "cannot read /etc/resolv.conf's nameservers: "
				 "%s",
				 ub_strerror(rc));
			return -1;
		}
		return 0;
	}
	for (;;) {
		char one[80];
		size_t len;
		s += strspn(s, " ,\t");
		if (*s == '\0')
			return 0;
		len = strcspn(s, " ,\t");
		snprintf(one, sizeof(one), "%.*s", (int)len, s);
		s += len;
		if ((rc = ub_ctx_set_fwd(ctx, one)) != 0) {
			snprintf(err, errlen, "forwarder %s: %s", one,
				 ub_strerror(rc));
			return -1;
		}
	}
fail:
	snprintf(err, errlen, "cannot set up libunbound: %s", ub_strerror(rc));
	return -1;
}

static void resolver_free(struct dns_resolver *r)
{
	if (r->ctx != NULL) {
		__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
		pthread_join(r->pump, NULL);
		ub_ctx_delete(r->ctx); /* no callback is called after it */
	}
	while (r->batches != NULL)
		batch_free(r->batches);
	dns_cache_free(&r->cache);
	pthread_mutex_destroy(&r->lock);
	free(r->upstream);
	free(r);
}

static struct dns_resolver *resolver_new(const char *upstream, char *err,
					 size_t errlen)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->upstream = strdup(upstream)) == NULL ||
	    (r->cache = dns_cache_new(CACHE_MAX, NULL)) == NULL) {
		if (r != NULL) {
			free(r->upstream);
			free(r);
		}
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	if ((r->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create a libunbound context");
		resolver_free(r);
		return NULL;
	}
	if (setup(r->ctx, upstream, err, errlen) != 0 ||
	    pthread_create(&r->pump, NULL, pump, r) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot start a thread");
		ub_ctx_delete(r->ctx);
		r->ctx = NULL;
		resolver_free(r);
		return NULL;
	}
	r->refs = 1;
	return r;
}

struct dns_resolver *dns_resolver_get(const char *upstream, char *err,
				      size_t errlen)
{
	struct dns_resolver *r, *old = NULL;

	err[0] = '\0';
	pthread_mutex_lock(&reg_lock);
	if (current != NULL && strcmp(current->upstream, upstream) == 0) {
		r = current;
		r->refs++;
	} else if ((r = resolver_new(upstream, err, errlen)) != NULL) {
		if (current != NULL && --current->refs == 0)
			old = current;
		current = r;
		r->refs++; /* current's own */
	}
	pthread_mutex_unlock(&reg_lock);
	if (old != NULL)
		resolver_free(old);
	return r;
}

void dns_resolver_put(struct dns_resolver **rp)
{
	struct dns_resolver *r = *rp;
	bool last;

	*rp = NULL;
	if (r == NULL)
		return;
	pthread_mutex_lock(&reg_lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&reg_lock);
	if (last)
		resolver_free(r);
}

void dns_resolver_shutdown(void)
{
	struct dns_resolver *r;

	pthread_mutex_lock(&reg_lock);
	r = current;
	current = NULL;
	pthread_mutex_unlock(&reg_lock);
	dns_resolver_put(&r);
}

/* --- resolving ------------------------------------------------------- */

static void failed(struct dns_answer *a, const char *why)
{
	memset(a, 0, sizeof(*a));
	a->status = DNS_FAILED;
	snprintf(a->why, sizeof(a->why), "%s", why);
}

void dns_resolve(struct dns_resolver *r, struct dns_query *q, size_t n,
		 long timeout_ms)
{
	struct batch *b;
	size_t misses = 0;
	struct timespec until;

	for (size_t i = 0; i < n; i++)
		if (!dns_cache_get(r->cache, q[i].name, q[i].type, &q[i].ans)) {
			q[i].ans.cached = false;
			misses++;
		}
	if (misses == 0)
		return;
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->q = calloc(misses, sizeof(*b->q))) == NULL ||
	    (b->slot = calloc(misses, sizeof(*b->slot))) == NULL) {
		if (b != NULL) {
			free(b->q);
			free(b);
		}
		for (size_t i = 0; i < n; i++)
			if (!q[i].ans.cached)
				failed(&q[i].ans, "out of memory");
		return;
	}
	b->r = r;
	b->n = misses;
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&b->done, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (size_t i = 0, k = 0; i < n; i++)
		if (!q[i].ans.cached) {
			snprintf(b->q[k].name, sizeof(b->q[k].name), "%s",
				 q[i].name);
			b->q[k].type = q[i].type;
			b->q[k].ans.status = DNS_PENDING;
			b->slot[k].b = b;
			b->slot[k].i = k;
			k++;
		}
	pthread_mutex_lock(&r->lock);
	b->pending = misses;
	b->refs = 1 + misses;
	b->next = r->batches;
	if (b->next != NULL)
		b->next->prev = b;
	r->batches = b;
	pthread_mutex_unlock(&r->lock);
	for (size_t k = 0; k < misses; k++) {
		int rc =
		    ub_resolve_async(r->ctx, b->q[k].name, (int)b->q[k].type, 1,
				     &b->slot[k], answered, NULL);
		if (rc != 0) {
			struct dns_answer a;
			char why[96];
			snprintf(why, sizeof(why), "resolver error: %s",
				 ub_strerror(rc));
			failed(&a, why);
			pthread_mutex_lock(&r->lock);
			b->q[k].ans = a;
			b->pending--;
			b->refs--;
			pthread_mutex_unlock(&r->lock);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (b->pending > 0)
		if (pthread_cond_timedwait(&b->done, &r->lock, &until) ==
		    ETIMEDOUT)
			break;
	for (size_t i = 0, k = 0; i < n; i++) {
		if (q[i].ans.cached)
			continue;
		if (b->q[k].ans.status == DNS_PENDING) {
			char why[64];
			snprintf(why, sizeof(why), "no answer within %ld ms",
				 timeout_ms);
			failed(&q[i].ans, why);
		} else
			q[i].ans = b->q[k].ans;
		k++;
	}
	if (--b->refs == 0)
		batch_free(b);
	pthread_mutex_unlock(&r->lock);
}
