/*
 * store_redis.c - the store on a Redis server (store.h), shared by the
 * milters of a fleet.
 *
 * Every operation is one Lua script run by the server (EVALSHA, loaded
 * on each new connection; EVAL when the server lost it): atomic, so
 * concurrent additions from every milter are never lost. Connections are
 * kept in a pool and reused; one is taken per operation and given back,
 * or dropped after an error (the next operation connects again). Each
 * connection attempt and each command waits at most the timeout. Never
 * logs.
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "lib/store.h"

/*
 * KEYS[1] the counter (a hash: slot -> count); ARGV: the current slot,
 * the oldest slot kept, what to add, the key's life in ms.
 */
static const char count_lua[] =
    "local cur, oldest, add = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "if add ~= 0 then redis.call('HINCRBY', KEYS[1], cur, add) end\n"
    "local t = redis.call('HGETALL', KEYS[1])\n"
    "local sum = 0\n"
    "for i = 1, #t, 2 do\n"
    "  if tonumber(t[i]) < oldest or tonumber(t[i]) > tonumber(cur) then\n"
    "    redis.call('HDEL', KEYS[1], t[i])\n"
    "  else sum = sum + tonumber(t[i + 1]) end\n"
    "end\n"
    "if add ~= 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end\n"
    "return tostring(sum)\n";

/* KEYS[1] the stamp; ARGV: now, its life in ms. */
static const char first_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then return v end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return ARGV[1]\n";

/* KEYS[1] the value; ARGV: its new life in ms, 0: unchanged. */
static const char touch_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and ARGV[1] ~= '0' then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
    "end\n"
    "return v\n";

enum { SCRIPT_COUNT, SCRIPT_FIRST, SCRIPT_TOUCH, NSCRIPTS };
static const char *const scripts[NSCRIPTS] = {count_lua, first_lua,
					      touch_lua};

struct conn {
	redisContext *c;
	struct conn *next;
};

struct redis_store {
	struct store base;
	char host[256];
	int port, db;
	char password[128];
	struct timeval timeout;
	pthread_mutex_t lock; /* the pool and the scripts' digests */
	struct conn *idle;
	char sha[NSCRIPTS][41];
};

static void reply_err(const redisContext *c, const redisReply *r, char *err,
		      size_t errlen, const char *what)
{
	if (r == NULL)
		snprintf(err, errlen, "Redis %s: %s", what,
			 c->errstr[0] != '\0' ? c->errstr : "no reply");
	else
		snprintf(err, errlen, "Redis %s: %.*s", what, (int)r->len,
			 r->str != NULL ? r->str : "unexpected reply");
}

/* Run a command that must answer OK or a status; 0, or -1 with err. */
static int simple(redisContext *c, char *err, size_t errlen,
		  const char *what, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		reply_err(c, r, err, errlen, what);
		rc = -1;
	}
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* A new connection: authenticated, on its database, scripts loaded. */
static redisContext *connect_new(struct redis_store *s, char *err,
				 size_t errlen)
{
	redisContext *c = redisConnectWithTimeout(s->host, s->port, s->timeout);

	if (c == NULL || c->err) {
		snprintf(err, errlen, "Redis %s:%d: %s", s->host, s->port,
			 c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, s->timeout) != REDIS_OK ||
	    (s->password[0] != '\0' &&
	     simple(c, err, errlen, "AUTH", "AUTH %s", s->password) != 0) ||
	    (s->db != 0 &&
	     simple(c, err, errlen, "SELECT", "SELECT %d", s->db) != 0)) {
		if (c->err)
			snprintf(err, errlen, "Redis %s:%d: %s", s->host,
				 s->port, c->errstr);
		redisFree(c);
		return NULL;
	}
	for (int i = 0; i < NSCRIPTS; i++) {
		redisReply *r = redisCommand(c, "SCRIPT LOAD %s", scripts[i]);
		if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
			reply_err(c, r, err, errlen, "SCRIPT LOAD");
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		pthread_mutex_lock(&s->lock);
		memcpy(s->sha[i], r->str, 40);
		s->sha[i][40] = '\0';
		pthread_mutex_unlock(&s->lock);
		freeReplyObject(r);
	}
	return c;
}

/* Take a connection from the pool (*pooled), or make one. */
static redisContext *take(struct redis_store *s, bool *pooled, char *err,
			  size_t errlen)
{
	struct conn *k;
	redisContext *c;

	pthread_mutex_lock(&s->lock);
	k = s->idle;
	if (k != NULL)
		s->idle = k->next;
	pthread_mutex_unlock(&s->lock);
	*pooled = k != NULL;
	if (k == NULL)
		return connect_new(s, err, errlen);
	c = k->c;
	free(k);
	return c;
}

/* Give c back to the pool. */
static void give(struct redis_store *s, redisContext *c)
{
	struct conn *k;

	if (c->err || (k = malloc(sizeof(*k))) == NULL) {
		redisFree(c);
		return;
	}
	k->c = c;
	pthread_mutex_lock(&s->lock);
	k->next = s->idle;
	s->idle = k;
	pthread_mutex_unlock(&s->lock);
}

/* Drop every idle connection. */
static void drain(struct redis_store *s)
{
	struct conn *k;

	pthread_mutex_lock(&s->lock);
	k = s->idle;
	s->idle = NULL;
	pthread_mutex_unlock(&s->lock);
	while (k != NULL) {
		struct conn *next = k->next;
		redisFree(k->c);
		free(k);
		k = next;
	}
}

/*
 * Run one command on a connection of the pool. A pooled connection the
 * server had closed (it restarted, or closed it while idle) is dropped
 * with every other idle one, and the command goes once more on a new
 * connection. Returns the reply (the caller frees it; an error reply
 * too), or NULL with err.
 */
static redisReply *command(struct redis_store *s, int argc,
			   const char **argv, const size_t *argl, char *err,
			   size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool pooled, retry;
		redisContext *c = take(s, &pooled, err, errlen);
		redisReply *r;
		if (c == NULL)
			return NULL;
		r = redisCommandArgv(c, argc, argv, argl);
		if (r != NULL) {
			give(s, c);
			return r;
		}
		snprintf(err, errlen, "Redis %s:%d: %s", s->host, s->port,
			 c->errstr[0] != '\0' ? c->errstr : "no reply");
		/* Only a connection the server had closed is tried again: a
		 * timeout may come after the server ran the command, and
		 * running it twice would count twice. */
		retry = pooled && c->err == REDIS_ERR_EOF;
		redisFree(c);
		if (!retry)
			return NULL;
		drain(s);
	}
	return NULL;
}

/*
 * Run script i on key with up to four decimal arguments; its answer, a
 * decimal string or nil, into *out (*found: not nil). 0, or -1 with err.
 */
static int run(struct redis_store *s, int i, const char *key, size_t klen,
	       int nargs, const uint64_t *args, uint64_t *out, bool *found,
	       char *err, size_t errlen)
{
	char a[4][24], sha[41];
	const char *argv[8];
	size_t argl[8];
	redisReply *r;
	int argc = 0, rc = -1;

	pthread_mutex_lock(&s->lock);
	memcpy(sha, s->sha[i], sizeof(sha));
	pthread_mutex_unlock(&s->lock);
	argv[argc] = "EVALSHA";
	argl[argc++] = 7;
	argv[argc] = sha;
	argl[argc++] = strlen(sha);
	argv[argc] = "1";
	argl[argc++] = 1;
	argv[argc] = key;
	argl[argc++] = klen;
	for (int k = 0; k < nargs && k < 4; k++) {
		snprintf(a[k], sizeof(a[k]), "%llu", (unsigned long long)args[k]);
		argv[argc] = a[k];
		argl[argc++] = strlen(a[k]);
	}
	r = command(s, argc, argv, argl, err, errlen);
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* the server restarted or was flushed: send the script */
		freeReplyObject(r);
		argv[0] = "EVAL";
		argl[0] = 4;
		argv[1] = scripts[i];
		argl[1] = strlen(scripts[i]);
		r = command(s, argc, argv, argl, err, errlen);
	}
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING) {
		*out = strtoull(r->str, NULL, 10);
		*found = true;
		rc = 0;
	} else if (r->type == REDIS_REPLY_NIL) {
		*found = false;
		rc = 0;
	} else {
		snprintf(err, errlen, "Redis %s: %.*s", argv[0], (int)r->len,
			 r->str != NULL ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
	return rc;
}

static int r_count(struct store *st, const char *key, size_t klen,
		   uint64_t now, uint64_t slot_ms, unsigned nslots,
		   uint64_t add, uint64_t *total, char *err, size_t errlen)
{
	uint64_t cur = now / slot_ms;
	uint64_t args[4] = {cur, cur >= nslots ? cur - nslots + 1 : 0, add,
			    nslots * slot_ms};
	bool found;

	return run((struct redis_store *)st, SCRIPT_COUNT, key, klen, 4, args,
		   total, &found, err, errlen);
}

static int r_first(struct store *st, const char *key, size_t klen,
		   uint64_t now, uint64_t ttl_ms, uint64_t *first, char *err,
		   size_t errlen)
{
	uint64_t args[2] = {now, ttl_ms > 0 ? ttl_ms : 1};
	bool found;

	return run((struct redis_store *)st, SCRIPT_FIRST, key, klen, 2, args,
		   first, &found, err, errlen);
}

/* SET, not scripted: one command is atomic already. */
static int r_set(struct store *st, const char *key, size_t klen, uint64_t now,
		 uint64_t value, uint64_t ttl_ms, char *err, size_t errlen)
{
	char v[24], ttl[24];
	const char *argv[5] = {"SET", key, v, "PX", ttl};
	size_t argl[5] = {3, klen, 0, 2, 0};
	redisReply *r;
	int rc = 0;

	(void)now;
	argl[2] = (size_t)snprintf(v, sizeof(v), "%llu",
				   (unsigned long long)value);
	argl[4] = (size_t)snprintf(ttl, sizeof(ttl), "%llu",
				   (unsigned long long)(ttl_ms > 0 ? ttl_ms : 1));
	r = command((struct redis_store *)st, 5, argv, argl, err, errlen);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "Redis SET: %.*s", (int)r->len, r->str);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

static int r_touch(struct store *st, const char *key, size_t klen,
		   uint64_t now, uint64_t ttl_ms, uint64_t *value, char *err,
		   size_t errlen)
{
	uint64_t args[1] = {ttl_ms};
	bool found = false;

	(void)now;
	if (run((struct redis_store *)st, SCRIPT_TOUCH, key, klen, 1, args,
		value, &found, err, errlen) != 0)
		return -1;
	return found ? 1 : 0;
}

static void r_close(struct store *st)
{
	struct redis_store *s = (struct redis_store *)st;

	drain(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct store_ops redis_ops = {
    "redis", r_count, r_first, r_set, r_touch, r_close,
};

/* redis://[:PASSWORD@]HOST[:PORT][/DB] into s. 0, or -1 with err. */
static int parse_url(struct redis_store *s, const char *url, char *err,
		     size_t errlen)
{
	const char *p = url + strlen("redis://"), *at = strrchr(p, '@');
	const char *slash, *colon;
	char *end;
	size_t n;

	s->port = 6379;
	if (at != NULL) {
		const char *pw = memchr(p, ':', (size_t)(at - p));
		pw = pw != NULL ? pw + 1 : p;
		if ((size_t)(at - pw) >= sizeof(s->password))
			goto bad;
		memcpy(s->password, pw, (size_t)(at - pw));
		p = at + 1;
	}
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', n);
	if (colon != NULL) {
		long port = strtol(colon + 1, &end, 10);
		if (end != p + n || end == colon + 1 || port < 1 || port > 65535)
			goto bad;
		s->port = (int)port;
		n = (size_t)(colon - p);
	}
	if (n == 0 || n >= sizeof(s->host))
		goto bad;
	memcpy(s->host, p, n);
	if (slash != NULL && slash[1] != '\0') {
		long db = strtol(slash + 1, &end, 10);
		if (*end != '\0' || db < 0 || db > 65535)
			goto bad;
		s->db = (int)db;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "\"%s\": want redis://[:PASSWORD@]HOST[:PORT][/DB], e.g. "
		 "\"redis://127.0.0.1:6379/0\"",
		 url);
	return -1;
}

struct store *store_redis_open(const char *url, unsigned timeout_ms,
			       char *err, size_t errlen)
{
	struct redis_store *s = calloc(1, sizeof(*s));
	redisContext *c;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (parse_url(s, url, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	s->base.ops = &redis_ops;
	s->timeout.tv_sec = timeout_ms / 1000;
	s->timeout.tv_usec = (timeout_ms % 1000) * 1000;
	pthread_mutex_init(&s->lock, NULL);
	/* One connection now: a wrong address or password shows at start.
	 * A server that is down is not fatal: each operation tries again. */
	if ((c = connect_new(s, err, errlen)) != NULL)
		give(s, c);
	else if (strstr(err, "AUTH") != NULL || strstr(err, "SELECT") != NULL) {
		r_close(&s->base);
		return NULL;
	}
	return &s->base;
}
