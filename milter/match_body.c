/*
 * match_body.c - a streaming regex scanner over a message body delivered
 * in chunks, with memory bounded by twice the window whatever the body
 * size. The method and its limits are described in match.h.
 *
 * One scanner per message and body rule, used by one thread at a time.
 * Never logs, never exits; an internal failure is -1, never "no match".
 */
#include <stdlib.h>
#include <string.h>

#include "match.h"

typedef int (*match_fn)(const void *re, const char *s, size_t len,
			size_t start);

static int one(const void *re, const char *s, size_t len, size_t start)
{
	return regex_match_at(re, s, len, start, REGEX_NOTEOL);
}

static int any(const void *l, const char *s, size_t len, size_t start)
{
	return regex_list_match_at(l, s, len, start, REGEX_NOTEOL);
}

void body_scan_init(struct body_scan *s, size_t window)
{
	if (window == 0)
		window = BODY_WINDOW_DEFAULT;
	if (window > BODY_WINDOW_MAX)
		window = BODY_WINDOW_MAX;
	memset(s, 0, sizeof(*s));
	s->window = window;
}

static int feed(struct body_scan *s, match_fn m, const void *re,
		const unsigned char *chunk, size_t len)
{
	size_t w = s->window, head, total;
	int r;

	if (s->matched)
		return 1;
	if (len == 0)
		return 0;
	if (chunk == NULL)
		return -1;
	if (w == 0)
		w = s->window = BODY_WINDOW_DEFAULT;
	if (s->buf == NULL) {
		s->buf = malloc(2 * w);
		if (s->buf == NULL)
			return -1;
	}
	/*
	 * (a) The seam: carry + the head of the chunk. Unless the carry
	 * starts the body, its first octet is context only: a match that
	 * starts there and crosses into the chunk is longer than w.
	 */
	head = len < w ? len : w;
	if (s->clen > 0) {
		memcpy(s->buf + s->clen, chunk, head);
		r = m(re, (const char *)s->buf, s->clen + head,
		      s->total > s->clen ? 1 : 0);
		if (r != 0)
			goto out;
	}
	/*
	 * (b) The chunk in place, when the seam did not cover it all. Its
	 * first octet is context only unless it starts the body: the seam
	 * tried that start position with the octets before it.
	 */
	if (s->clen == 0 || len > w) {
		r = m(re, (const char *)chunk, len, s->total > 0 ? 1 : 0);
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	/* The next carry: the last w octets of the body so far. */
	if (len >= w) {
		memcpy(s->buf, chunk + len - w, w);
		s->clen = w;
	} else {
		if (s->clen == 0)
			memcpy(s->buf, chunk, len);
		total = s->clen + len; /* <= 2w, all in buf */
		if (total > w) {
			memmove(s->buf, s->buf + total - w, w);
			s->clen = w;
		} else {
			s->clen = total;
		}
	}
	s->total += len;
	if (r > 0)
		s->matched = true;
	return r;
}

int body_scan_feed(struct body_scan *s, const struct regex_list *list,
		   const unsigned char *chunk, size_t len)
{
	if (s == NULL)
		return -1;
	if (list == NULL || regex_list_count(list) == 0)
		return s->matched ? 1 : 0;
	return feed(s, any, list, chunk, len);
}

int body_scan_feed_regex(struct body_scan *s, const struct regex *re,
			 const unsigned char *chunk, size_t len)
{
	if (s == NULL)
		return -1;
	if (re == NULL)
		return s->matched ? 1 : 0;
	return feed(s, one, re, chunk, len);
}

bool body_scan_matched(const struct body_scan *s)
{
	return s != NULL && s->matched;
}

size_t body_scan_buffer_size(const struct body_scan *s)
{
	return s != NULL && s->buf != NULL ? 2 * s->window : 0;
}

void body_scan_reset(struct body_scan *s)
{
	if (s == NULL)
		return;
	s->clen = 0;
	s->total = 0;
	s->matched = false;
}

void body_scan_free(struct body_scan *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	s->buf = NULL;
	s->clen = 0;
	s->total = 0;
	s->matched = false;
}
