/*
 * store_lmdb.c - the embedded store (store.h): one LMDB environment in a
 * directory, shared by the threads of the milter (and by any process that
 * opens the same directory).
 *
 * Every change is one write transaction, so concurrent additions are
 * never lost. Commits are not flushed to disk one by one (MDB_NOSYNC):
 * the pages are in the kernel's cache once a transaction commits, so a
 * crash of the milter (kill -9) loses nothing; the environment is flushed
 * at most a second after a change, so a crash of the host loses at most
 * about the last second. Expired entries are swept a batch at a time
 * within later write transactions. Never logs.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/store.h"

/* The map's size: how large the file may grow (sparse until used). */
#define LMDB_MAP_SIZE (1024ull * 1024 * 1024)
#define SWEEP_BATCH 1000     /* entries looked at per sweep */
#define SWEEP_EVERY_MS 1000  /* between two sweeps while some are left */
#define SWEEP_ROUND_MS 60000 /* between two rounds over every entry */
#define SYNC_EVERY_MS 1000
#define MAX_SLOTS 256

struct lmdb_store {
	struct store base;
	MDB_env *env;
	MDB_dbi dbi;
	pthread_mutex_t lock; /* the fields below */
	uint64_t next_sweep, next_sync;
	char sweep_at[STORE_KEY_MAX + 1]; /* where the next sweep starts */
	size_t sweep_len;
};

/* The records: a tag octet, then fixed-width fields in host order. */
#define TAG_STAMP 'S'	/* value, expires */
#define TAG_COUNTER 'C' /* expires, n, n x (slot, count) */
#define STAMP_SIZE (1 + 16)
#define COUNTER_HEAD (1 + 8 + 4)

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void lmdb_err(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "LMDB %s: %s", what, mdb_strerror(rc));
}

/* When does the record in v stop being alive? 0: not a record. */
static uint64_t expires_of(const MDB_val *v)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size == STAMP_SIZE && p[0] == TAG_STAMP)
		return rd64(p + 9);
	if (v->mv_size >= COUNTER_HEAD && p[0] == TAG_COUNTER)
		return rd64(p + 1);
	return 0;
}

/* Drop expired entries, up to SWEEP_BATCH of them from where the last
 * sweep stopped, within the caller's write transaction. */
static void sweep(struct lmdb_store *s, MDB_txn *txn, uint64_t now)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, seen = 0;

	pthread_mutex_lock(&s->lock);
	if (now < s->next_sweep) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (mdb_cursor_open(txn, s->dbi, &cur) != 0) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	k.mv_data = s->sweep_at;
	k.mv_size = s->sweep_len;
	rc = s->sweep_len > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
			      : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && seen++ < SWEEP_BATCH) {
		uint64_t exp = expires_of(&v);
		if (exp != 0 && exp <= now)
			mdb_cursor_del(cur, 0);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && k.mv_size <= STORE_KEY_MAX) {
		memcpy(s->sweep_at, k.mv_data, k.mv_size);
		s->sweep_len = k.mv_size;
		s->next_sweep = now + SWEEP_EVERY_MS;
	} else {
		s->sweep_len = 0;
		s->next_sweep = now + SWEEP_ROUND_MS;
	}
	mdb_cursor_close(cur);
	pthread_mutex_unlock(&s->lock);
}

/* Flush to disk when the last flush is a second old. */
static void maybe_sync(struct lmdb_store *s, uint64_t now)
{
	bool due;

	pthread_mutex_lock(&s->lock);
	due = now >= s->next_sync;
	if (due)
		s->next_sync = now + SYNC_EVERY_MS;
	pthread_mutex_unlock(&s->lock);
	if (due)
		mdb_env_sync(s->env, 1);
}

/* Begin a transaction; commit or abort one, flushing when due. */
static int begin(struct lmdb_store *s, bool write, MDB_txn **txn, char *err,
		 size_t errlen)
{
	int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);

	if (rc != 0)
		lmdb_err(err, errlen, "begin", rc);
	return rc == 0 ? 0 : -1;
}

static int commit(struct lmdb_store *s, MDB_txn *txn, uint64_t now, char *err,
		  size_t errlen)
{
	int rc;

	sweep(s, txn, now);
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		lmdb_err(err, errlen, "commit", rc);
		return -1;
	}
	maybe_sync(s, now);
	return 0;
}

static int put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen,
	       void *data, size_t size, char *err, size_t errlen)
{
	MDB_val k = {klen, (void *)key}, v = {size, data};
	int rc = mdb_put(txn, dbi, &k, &v, 0);

	if (rc != 0) {
		lmdb_err(err, errlen, "put", rc);
		mdb_txn_abort(txn);
		return -1;
	}
	return 0;
}

static int l_count(struct store *st, const char *key, size_t klen,
		   uint64_t now, uint64_t slot_ms, unsigned nslots,
		   uint64_t add, uint64_t *total, char *err, size_t errlen)
{
	struct lmdb_store *s = (struct lmdb_store *)st;
	unsigned char rec[COUNTER_HEAD + (MAX_SLOTS + 1) * 16];
	uint64_t cur = now / slot_ms;
	uint64_t oldest = cur >= nslots ? cur - nslots + 1 : 0;
	MDB_val k = {klen, (void *)key}, v;
	MDB_txn *txn;
	uint32_t n = 0, kept = 0;
	bool found_cur = false;
	uint64_t sum = 0;
	int rc;

	if (nslots > MAX_SLOTS) {
		snprintf(err, errlen, "a counter has at most %d slots",
			 MAX_SLOTS);
		return -1;
	}
	if (begin(s, add != 0, &txn, err, errlen) != 0)
		return -1;
	rc = mdb_get(txn, s->dbi, &k, &v);
	if (rc == 0 && v.mv_size >= COUNTER_HEAD &&
	    ((unsigned char *)v.mv_data)[0] == TAG_COUNTER &&
	    rd64((unsigned char *)v.mv_data + 1) > now) {
		const unsigned char *p = v.mv_data;
		memcpy(&n, p + 9, 4);
		if (v.mv_size != COUNTER_HEAD + (size_t)n * 16 || n > MAX_SLOTS)
			n = 0; /* not one of ours: start again */
		for (uint32_t i = 0; i < n; i++) {
			uint64_t slot = rd64(p + COUNTER_HEAD + i * 16);
			uint64_t c = rd64(p + COUNTER_HEAD + i * 16 + 8);
			if (slot < oldest || slot > cur)
				continue;
			if (slot == cur) {
				c += add;
				found_cur = true;
			}
			wr64(rec + COUNTER_HEAD + kept * 16, slot);
			wr64(rec + COUNTER_HEAD + kept * 16 + 8, c);
			kept++;
			sum += c;
		}
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		lmdb_err(err, errlen, "get", rc);
		mdb_txn_abort(txn);
		return -1;
	}
	if (add == 0) {
		mdb_txn_abort(txn);
		*total = sum;
		return 0;
	}
	if (!found_cur) {
		wr64(rec + COUNTER_HEAD + kept * 16, cur);
		wr64(rec + COUNTER_HEAD + kept * 16 + 8, add);
		kept++;
		sum += add;
	}
	rec[0] = TAG_COUNTER;
	wr64(rec + 1, now + nslots * slot_ms);
	memcpy(rec + 9, &kept, 4);
	if (put(txn, s->dbi, key, klen, rec, COUNTER_HEAD + kept * 16, err,
		errlen) != 0)
		return -1;
	if (commit(s, txn, now, err, errlen) != 0)
		return -1;
	*total = sum;
	return 0;
}

/* The live stamp under key in txn: 1 (*value), 0 none, -1 error. */
static int stamp_get(struct lmdb_store *s, MDB_txn *txn, const char *key,
		     size_t klen, uint64_t now, uint64_t *value, char *err,
		     size_t errlen)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(txn, s->dbi, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		lmdb_err(err, errlen, "get", rc);
		return -1;
	}
	if (v.mv_size != STAMP_SIZE ||
	    ((unsigned char *)v.mv_data)[0] != TAG_STAMP ||
	    rd64((unsigned char *)v.mv_data + 9) <= now)
		return 0;
	*value = rd64((unsigned char *)v.mv_data + 1);
	return 1;
}

static int stamp_put(struct lmdb_store *s, MDB_txn *txn, const char *key,
		     size_t klen, uint64_t now, uint64_t value,
		     uint64_t ttl_ms, char *err, size_t errlen)
{
	unsigned char rec[STAMP_SIZE];

	rec[0] = TAG_STAMP;
	wr64(rec + 1, value);
	wr64(rec + 9, now + ttl_ms);
	if (put(txn, s->dbi, key, klen, rec, sizeof(rec), err, errlen) != 0)
		return -1;
	return commit(s, txn, now, err, errlen);
}

static int l_first(struct store *st, const char *key, size_t klen,
		   uint64_t now, uint64_t ttl_ms, uint64_t *first, char *err,
		   size_t errlen)
{
	struct lmdb_store *s = (struct lmdb_store *)st;
	MDB_txn *txn;
	int rc;

	if (begin(s, true, &txn, err, errlen) != 0)
		return -1;
	rc = stamp_get(s, txn, key, klen, now, first, err, errlen);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc < 0 ? -1 : 0;
	}
	*first = now;
	return stamp_put(s, txn, key, klen, now, now, ttl_ms, err, errlen);
}

static int l_set(struct store *st, const char *key, size_t klen, uint64_t now,
		 uint64_t value, uint64_t ttl_ms, char *err, size_t errlen)
{
	struct lmdb_store *s = (struct lmdb_store *)st;
	MDB_txn *txn;

	if (begin(s, true, &txn, err, errlen) != 0)
		return -1;
	return stamp_put(s, txn, key, klen, now, value, ttl_ms, err, errlen);
}

static int l_touch(struct store *st, const char *key, size_t klen,
		   uint64_t now, uint64_t ttl_ms, uint64_t *value, char *err,
		   size_t errlen)
{
	struct lmdb_store *s = (struct lmdb_store *)st;
	MDB_txn *txn;
	int rc;

	if (begin(s, ttl_ms > 0, &txn, err, errlen) != 0)
		return -1;
	rc = stamp_get(s, txn, key, klen, now, value, err, errlen);
	if (rc != 1 || ttl_ms == 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return stamp_put(s, txn, key, klen, now, *value, ttl_ms, err,
			 errlen) == 0
		   ? 1
		   : -1;
}

static void l_close(struct store *st)
{
	struct lmdb_store *s = (struct lmdb_store *)st;

	mdb_env_sync(s->env, 1);
	mdb_env_close(s->env);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct store_ops lmdb_ops = {
    "lmdb", l_count, l_first, l_set, l_touch, l_close,
};

struct store *store_lmdb_open(const char *dir, char *err, size_t errlen)
{
	struct lmdb_store *s = calloc(1, sizeof(*s));
	struct stat sb;
	MDB_txn *txn;
	int rc, dead = 0;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: %s", dir,
			 stat(dir, &sb) != 0 ? strerror(errno)
					     : "not a directory");
		free(s);
		return NULL;
	}
	s->base.ops = &lmdb_ops;
	pthread_mutex_init(&s->lock, NULL);
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, LMDB_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 1024)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOSYNC | MDB_NOTLS, 0600)) !=
		0) {
		snprintf(err, errlen, "LMDB in %s: %s", dir, mdb_strerror(rc));
		if (s->env != NULL)
			mdb_env_close(s->env);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	/* readers left by a process that died (kill -9) */
	mdb_reader_check(s->env, &dead);
	txn = NULL;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &s->dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		if (rc != 0 && txn != NULL && s->dbi == 0)
			mdb_txn_abort(txn);
		snprintf(err, errlen, "LMDB in %s: %s", dir, mdb_strerror(rc));
		mdb_env_close(s->env);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return &s->base;
}
