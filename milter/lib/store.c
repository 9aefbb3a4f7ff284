/*
 * store.c - the store's one interface over its back ends (store.h): which
 * back end a spec names, and keys cut to a size both accept.
 */
#include <stdio.h>
#include <string.h>

#include "lib/store.h"

#define REDIS_SCHEME "redis://"

int store_spec_check(const char *spec, char *err, size_t errlen)
{
	if (strncmp(spec, REDIS_SCHEME, strlen(REDIS_SCHEME)) == 0) {
		const char *h = spec + strlen(REDIS_SCHEME);
		const char *at = strrchr(h, '@');
		if (at != NULL)
			h = at + 1;
		if (*h == '\0' || *h == ':' || *h == '/') {
			snprintf(err, errlen,
				 "\"%s\": want redis://HOST[:PORT][/DB], e.g. "
				 "\"redis://127.0.0.1:6379/0\"",
				 spec);
			return -1;
		}
		return 0;
	}
	if (spec[0] != '/') {
		snprintf(err, errlen,
			 "\"%s\": want the absolute path of a directory (the "
			 "embedded store, e.g. \"/var/lib/replycode-milter\") "
			 "or redis://HOST[:PORT][/DB]",
			 spec);
		return -1;
	}
	return 0;
}

struct store *store_open(const char *spec, unsigned timeout_ms, char *err,
			 size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (store_spec_check(spec, err, errlen) != 0)
		return NULL;
	if (strncmp(spec, REDIS_SCHEME, strlen(REDIS_SCHEME)) == 0)
		return store_redis_open(spec, timeout_ms, err, errlen);
	return store_lmdb_open(spec, err, errlen);
}

void store_close(struct store **st)
{
	if (*st == NULL)
		return;
	(*st)->ops->close(*st);
	*st = NULL;
}

const char *store_kind(const struct store *st)
{
	return st->ops->kind;
}

/*
 * The key as stored: as given when short enough, else its first part and
 * a hash of the whole (FNV-1a, 64 bits), so that long keys stay apart.
 */
static size_t key_cut(const char *key, char *buf, size_t buflen)
{
	size_t n = strlen(key);
	uint64_t h = 14695981039346656037ull;

	if (n <= STORE_KEY_MAX)
		return n;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ull;
	}
	memcpy(buf, key, STORE_KEY_MAX - 17);
	snprintf(buf + STORE_KEY_MAX - 17, buflen - (STORE_KEY_MAX - 17),
		 "#%016llx", (unsigned long long)h);
	return STORE_KEY_MAX;
}

#define KEY(key)                                                               \
	char kb[STORE_KEY_MAX + 1];                                            \
	size_t klen = key_cut(key, kb, sizeof(kb));                            \
	const char *k = klen == strlen(key) ? key : kb

int store_count(struct store *st, const char *key, uint64_t now_ms,
		uint64_t slot_ms, unsigned nslots, uint64_t add,
		uint64_t *total, char *err, size_t errlen)
{
	KEY(key);
	if (slot_ms == 0 || nslots == 0) {
		snprintf(err, errlen, "a counter needs slots");
		return -1;
	}
	return st->ops->count(st, k, klen, now_ms, slot_ms, nslots, add,
			      total, err, errlen);
}

int store_first(struct store *st, const char *key, uint64_t now_ms,
		uint64_t ttl_ms, uint64_t *first, char *err, size_t errlen)
{
	KEY(key);
	return st->ops->first(st, k, klen, now_ms, ttl_ms, first, err, errlen);
}

int store_set(struct store *st, const char *key, uint64_t now_ms,
	      uint64_t value, uint64_t ttl_ms, char *err, size_t errlen)
{
	KEY(key);
	return st->ops->set(st, k, klen, now_ms, value, ttl_ms, err, errlen);
}

int store_touch(struct store *st, const char *key, uint64_t now_ms,
		uint64_t ttl_ms, uint64_t *value, char *err, size_t errlen)
{
	KEY(key);
	return st->ops->touch(st, k, klen, now_ms, ttl_ms, value, err, errlen);
}
