/*
 * store.h - a store of small timed values shared by sessions, reloads,
 * restarts and, with Redis, by several milters: sliding-window counters
 * and expiring stamps. Two back ends behind one interface: LMDB (a
 * directory on this host, store_lmdb.c) and Redis (store_redis.c).
 *
 * Knows nothing of mail policy: keys are opaque octets chosen by the
 * caller, times are given by the caller (lib/clock.h), so that tests
 * control them. Every operation is atomic on its key (an LMDB write
 * transaction; one Lua script on Redis): concurrent additions are never
 * lost. Safe to use from many threads at once. Never logs: every failure
 * returns -1 and says what failed in err.
 */
#ifndef RCM_STORE_H
#define RCM_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Keys longer than this are cut and end in a hash of the whole key. */
#define STORE_KEY_MAX 400

/*
 * Open the store spec names: "redis://[:PASSWORD@]HOST[:PORT][/DB]"
 * (Redis; port 6379 and database 0 by default), else the absolute path
 * of a directory that holds the LMDB files (created there when missing;
 * the directory itself must exist and be writable). timeout_ms bounds
 * each Redis connection attempt and command. Returns NULL with err; a
 * Redis server that does not answer now is not fatal (each operation
 * connects again): the store is returned, with err saying why ("" when
 * all is well).
 */
struct store *store_open(const char *spec, unsigned timeout_ms, char *err,
			 size_t errlen);

/* Close st (NULL allowed) and set *st NULL; no operation may be running. */
void store_close(struct store **st);

/* Is spec a Redis one? Checks the syntax of either kind: 0, or -1 with
 * err (a path that is not absolute, a bad URL). */
int store_spec_check(const char *spec, char *err, size_t errlen);

/* "lmdb" or "redis". */
const char *store_kind(const struct store *st);

/*
 * A sliding-window counter in slots of slot_ms: add add (0: only look)
 * to the slot that holds now_ms, then *total is the sum of the nslots
 * slots that end with it (older slots are dropped). The key is forgotten
 * nslots slots after its last addition. 0, or -1 with err.
 */
int store_count(struct store *st, const char *key, uint64_t now_ms,
		uint64_t slot_ms, unsigned nslots, uint64_t add,
		uint64_t *total, char *err, size_t errlen);

/*
 * A stamp set once: when key holds a live stamp, *first is it; else key
 * gets now_ms, alive until now_ms + ttl_ms, and *first is now_ms. 0, or
 * -1 with err.
 */
int store_first(struct store *st, const char *key, uint64_t now_ms,
		uint64_t ttl_ms, uint64_t *first, char *err, size_t errlen);

/* key holds value until now_ms + ttl_ms. 0, or -1 with err. */
int store_set(struct store *st, const char *key, uint64_t now_ms,
	      uint64_t value, uint64_t ttl_ms, char *err, size_t errlen);

/*
 * 1 and *value when key holds a live value, which then lives until now_ms
 * + ttl_ms (ttl_ms 0: as long as it did); 0 when it holds none; -1 with
 * err. One atomic step.
 */
int store_touch(struct store *st, const char *key, uint64_t now_ms,
		uint64_t ttl_ms, uint64_t *value, char *err, size_t errlen);

/* --- for the back ends (store.c) -------------------------------------- */

struct store_ops {
	const char *kind;
	int (*count)(struct store *st, const char *key, size_t klen,
		     uint64_t now_ms, uint64_t slot_ms, unsigned nslots,
		     uint64_t add, uint64_t *total, char *err, size_t errlen);
	int (*first)(struct store *st, const char *key, size_t klen,
		     uint64_t now_ms, uint64_t ttl_ms, uint64_t *first,
		     char *err, size_t errlen);
	int (*set)(struct store *st, const char *key, size_t klen,
		   uint64_t now_ms, uint64_t value, uint64_t ttl_ms, char *err,
		   size_t errlen);
	int (*touch)(struct store *st, const char *key, size_t klen,
		     uint64_t now_ms, uint64_t ttl_ms, uint64_t *value,
		     char *err, size_t errlen);
	void (*close)(struct store *st);
};

struct store {
	const struct store_ops *ops;
};

struct store *store_lmdb_open(const char *dir, char *err, size_t errlen);
struct store *store_redis_open(const char *url, unsigned timeout_ms,
			       char *err, size_t errlen);

#endif
