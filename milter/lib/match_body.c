/*
 * match_body.c - finds regexes in a message body delivered in chunks cut
 * anywhere, as if the body were one text, with memory bounded by the span
 * whatever the body size: PCRE2's multi-segment partial matching. The
 * method, its guarantee and its bounds are described in match.h.
 *
 * One scanner per message and body condition, used by one thread at a
 * time. Never logs, never exits; an internal failure is -1, never "no
 * match".
 */
#include <stdlib.h>
#include <string.h>

#include "lib/match.h"

/* Octets of a chunk's head copied behind the text held at first. */
#define SEAM_FIRST 1024

/* The regexes of a condition: a list or a single one. */
struct rset {
	const struct regex_list *list;
	const struct regex *one;
	size_t n;
};

static const struct regex *rs_get(const struct rset *rs, size_t i)
{
	return rs->one != NULL ? rs->one : regex_list_get(rs->list, i);
}

/* Octets of body[at, at + len) that a search may see at once. */
struct view {
	const unsigned char *p;
	size_t len;
	uint64_t at;
};

static size_t context(const struct body_scan *s, const struct regex *re)
{
	size_t l = regex_lookbehind(re);

	return l < s->span ? l : s->span;
}

void body_scan_init(struct body_scan *s, size_t span)
{
	if (span == 0)
		span = BODY_SPAN_DEFAULT;
	if (span < BODY_SPAN_MIN)
		span = BODY_SPAN_MIN;
	if (span > BODY_SPAN_MAX)
		span = BODY_SPAN_MAX;
	memset(s, 0, sizeof(*s));
	s->span = span;
}

/*
 * buf holds at least n octets (keeping its text), doubling, but never
 * more than the most this scanner needs. 0, or -1: no memory.
 */
static int reserve(struct body_scan *s, size_t n)
{
	unsigned char *nb;
	size_t cap = s->cap ? s->cap : SEAM_FIRST;

	if (n <= s->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	if (cap > s->most)
		cap = n > s->most ? n : s->most;
	nb = realloc(s->buf, cap);
	if (nb == NULL)
		return -1;
	s->buf = nb;
	s->cap = cap;
	return 0;
}

/*
 * One state a regex, all at "nothing settled", and the most buffer the
 * regexes need. 0, or -1: no memory.
 */
static int prepare(struct body_scan *s, const struct rset *rs)
{
	size_t l = 1;

	if (s->nre != rs->n) {
		free(s->next);
		s->next = calloc(rs->n ? rs->n : 1, sizeof(*s->next));
		if (s->next == NULL) {
			s->nre = 0;
			return -1;
		}
		s->nre = rs->n;
	}
	for (size_t i = 0; i < rs->n; i++) {
		size_t c = context(s, rs_get(rs, i));
		if (c > l)
			l = c;
	}
	s->most = 2 * (s->span + l);
	return 0;
}

/*
 * Search v from the body offset from, with no attempt after last (body
 * offset; UINT64_MAX: none): regex_find() with the options of a view that
 * does not start the body (NOTBOL).
 */
static int search(const struct regex *re, const struct view *v, uint64_t from,
		  uint64_t last, uint32_t opts, uint64_t *at)
{
	size_t pos = 0;
	int r;

	if (v->at > 0)
		opts |= REGEX_NOTBOL;
	r = regex_find(re, (const char *)v->p, v->len, (size_t)(from - v->at),
		       last == UINT64_MAX ? SIZE_MAX : (size_t)(last - v->at),
		       opts, &pos);
	*at = v->at + pos;
	return r;
}

/*
 * The hard partial search from *next on: 1 a match, -1 a failure, else 0
 * with *next the first start still open (the end of v when none is).
 */
static int hard(const struct regex *re, const struct view *v, uint64_t *next)
{
	uint64_t at;
	int r =
	    search(re, v, *next, UINT64_MAX, REGEX_MORE | REGEX_PARTIAL, &at);

	if (r == 2)
		*next = at;
	else if (r == 0)
		*next = v->at + v->len;
	return r == 2 ? 0 : r;
}

/*
 * Settle what view v can settle for regex i, whose first open start is
 * in v with its lookbehind octets (or v starts the body). A start still
 * open with the span of octets from it in v is judged on v (match.h);
 * the search then goes on from the first start with less. Afterwards
 * every open start has less than the span from it in v. Returns 1, 0 or
 * -1.
 */
static int step(struct body_scan *s, const struct regex *re, size_t i,
		const struct view *v)
{
	uint64_t end = v->at + v->len, at;
	int r = hard(re, v, &s->next[i]);

	if (r != 0 || end - s->next[i] < s->span)
		return r;
	/* only the starts being judged: each is judged once */
	r = search(re, v, s->next[i], end - s->span, REGEX_MORE | REGEX_NOTEOL,
		   &at);
	if (r < 0 || (r == 1 && end - at >= s->span))
		return r;
	s->next[i] = end - s->span + 1;
	return hard(re, v, &s->next[i]);
}

/*
 * Regex i over the new chunk [t0, t0 + len). Starts whose lookbehind
 * octets lie before the chunk are searched over the text held followed by
 * the head of the chunk, copied behind it (the seam; *copied octets of it
 * are there already, shared by the regexes); the seam grows, doubling,
 * until those starts are settled or the chunk is all in it. The rest is
 * searched in the chunk itself.
 */
static int feed_one(struct body_scan *s, const struct regex *re, size_t i,
		    const unsigned char *chunk, size_t len, size_t *copied)
{
	uint64_t t0 = s->total;
	size_t ctx = context(s, re), k = 0;
	struct view v;
	int r;

	if (t0 > 0) {
		/* the span and lookbehind octets always end it: the start
		 * left open is then past the lookbehind (step()) */
		size_t most = s->span + ctx;
		k = *copied > SEAM_FIRST + ctx ? *copied : SEAM_FIRST + ctx;
		for (;;) {
			if (k > len)
				k = len;
			if (k > *copied) {
				if (reserve(s, s->hlen + k) != 0)
					return -1;
				memcpy(s->buf + s->hlen + *copied,
				       chunk + *copied, k - *copied);
				*copied = k;
			}
			v = (struct view){s->buf, s->hlen + k, s->base};
			r = step(s, re, i, &v);
			if (r != 0 || s->next[i] >= t0 + ctx || k == len)
				break;
			k = 2 * k < most ? 2 * k : most > k ? most : len;
		}
		if (r != 0 || k == len)
			return r;
	}
	v = (struct view){chunk, len, t0};
	return step(s, re, i, &v);
}

/* Keep the body from the earliest open start's lookbehind octets on. */
static int keep(struct body_scan *s, const struct rset *rs,
		const unsigned char *chunk, size_t len)
{
	uint64_t t0 = s->total, t1 = t0 + len, from = t1;
	size_t n;

	for (size_t i = 0; i < rs->n; i++) {
		size_t ctx = context(s, rs_get(rs, i));
		uint64_t f = s->next[i] > ctx ? s->next[i] - ctx : 0;
		if (f < from)
			from = f;
	}
	n = (size_t)(t1 - from);
	if (reserve(s, n) != 0)
		return -1;
	if (from >= t0) {
		memcpy(s->buf, chunk + (from - t0), n);
	} else {
		/* from >= base: every open start keeps its octets */
		memmove(s->buf, s->buf + (from - s->base), (size_t)(t0 - from));
		memcpy(s->buf + (t0 - from), chunk, len);
	}
	s->base = from;
	s->hlen = n;
	s->total = t1;
	return 0;
}

static int verdict(struct body_scan *s, int r)
{
	if (r > 0)
		s->matched = true;
	else if (r < 0)
		s->failed = true;
	return r;
}

static int feed(struct body_scan *s, const struct rset *rs,
		const unsigned char *chunk, size_t len)
{
	size_t copied = 0;

	if (s->matched)
		return 1;
	if (s->failed)
		return -1;
	if (len == 0 || s->ended)
		return 0;
	if (chunk == NULL || prepare(s, rs) != 0)
		return verdict(s, -1);
	for (size_t i = 0; i < rs->n; i++) {
		int r = feed_one(s, rs_get(rs, i), i, chunk, len, &copied);
		if (r != 0)
			return verdict(s, r);
	}
	return verdict(s, keep(s, rs, chunk, len));
}

static int end(struct body_scan *s, const struct rset *rs)
{
	struct view v;

	if (s->matched)
		return 1;
	if (s->failed)
		return -1;
	if (s->ended)
		return 0;
	s->ended = true;
	if (prepare(s, rs) != 0)
		return verdict(s, -1);
	v = (struct view){s->buf != NULL ? s->buf : (const unsigned char *)"",
			  s->hlen, s->base};
	for (size_t i = 0; i < rs->n; i++) {
		uint64_t at;
		int r =
		    search(rs_get(rs, i), &v, s->next[i], UINT64_MAX, 0, &at);
		if (r != 0) {
			s->late = r > 0;
			return verdict(s, r);
		}
	}
	return 0;
}

static struct rset rset_list(const struct regex_list *list)
{
	return (struct rset){list, NULL, regex_list_count(list)};
}

static struct rset rset_one(const struct regex *re)
{
	return (struct rset){NULL, re, re != NULL ? 1 : 0};
}

/* The calls below: s NULL is a failure, no regexes never match. */
static int call(struct body_scan *s, struct rset rs, const unsigned char *chunk,
		size_t len, bool finish)
{
	if (s == NULL)
		return -1;
	if (rs.n == 0)
		return s->matched ? 1 : 0;
	return finish ? end(s, &rs) : feed(s, &rs, chunk, len);
}

int body_scan_feed(struct body_scan *s, const struct regex_list *list,
		   const unsigned char *chunk, size_t len)
{
	return call(s, rset_list(list), chunk, len, false);
}

int body_scan_feed_regex(struct body_scan *s, const struct regex *re,
			 const unsigned char *chunk, size_t len)
{
	return call(s, rset_one(re), chunk, len, false);
}

int body_scan_end(struct body_scan *s, const struct regex_list *list)
{
	return call(s, rset_list(list), NULL, 0, true);
}

int body_scan_end_regex(struct body_scan *s, const struct regex *re)
{
	return call(s, rset_one(re), NULL, 0, true);
}

bool body_scan_matched(const struct body_scan *s)
{
	return s != NULL && s->matched;
}

bool body_scan_late(const struct body_scan *s)
{
	return s != NULL && s->late;
}

size_t body_scan_buffer_size(const struct body_scan *s)
{
	if (s == NULL)
		return 0;
	return s->cap + s->nre * sizeof(*s->next);
}

void body_scan_reset(struct body_scan *s)
{
	if (s == NULL)
		return;
	if (s->next != NULL)
		memset(s->next, 0, s->nre * sizeof(*s->next));
	s->hlen = 0;
	s->base = 0;
	s->total = 0;
	s->matched = false;
	s->late = false;
	s->ended = false;
	s->failed = false;
}

void body_scan_free(struct body_scan *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	free(s->next);
	s->buf = NULL;
	s->next = NULL;
	s->cap = 0;
	s->nre = 0;
	body_scan_reset(s);
}
