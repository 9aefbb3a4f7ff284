/*
 * fuzz_regex.c - fuzz target for the regex layer: regex_compile() of a
 * pattern from the input, regex_match() and regex_match_at() on a subject
 * from the input, and the streaming body scanner fed the subject in
 * chunks.
 *
 * Input: byte 0 compile flags (REGEX_* bits), byte 1 match options and
 * body span (bits 0-1 REGEX_NOTBOL/NOTEOL, bits 2-3 the span in KiB - 1,
 * bits 4-5: the scanner is fed the subject 1, 8, 64 or 512 times over, so
 * that starts stay open past the span), byte 2 start offset, byte 3
 * chunk-size seed, then the pattern up to the first NUL, then the subject
 * (NUL octets allowed).
 * Checked: results are only -1, 0 or 1; regex_pattern() gives the
 * pattern back; regex_match_at() from 0 agrees with regex_match(); the
 * scanner is sticky once it matched, holds no more than match.h allows,
 * and, fed the whole subject and ended, agrees with regex_match() on it
 * whenever the subject is shorter than the span (no start can stay open
 * for the span, so the scanner must be exact); a list holding the regex
 * twice agrees with it. The time limits keep a hostile pattern from
 * hanging the fuzzer. Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint32_t flags = fuzz_u8(&in) & 0x1f;
	uint8_t b1 = fuzz_u8(&in);
	size_t start = fuzz_u8(&in), seed = fuzz_u8(&in), plen, slen, blen;
	const uint8_t *nul = memchr(in.p, 0, in.n);
	char *pattern, *subject, err[256];
	struct regex *re, *sre;
	struct regex_list *list;
	struct body_scan bs;
	int m, r, last = 0;

	plen = nul != NULL ? (size_t)(nul - in.p) : in.n;
	pattern = fuzz_strndup(in.p, plen);
	slen = nul != NULL ? in.n - plen - 1 : 0;
	subject = fuzz_strndup(nul != NULL ? nul + 1 : in.p, slen);

	err[0] = '\0';
	re = regex_compile(pattern, flags, err, sizeof(err));
	if (re == NULL) {
		FUZZ_CHECK(err[0] != '\0', "compile failed without a message");
		goto out;
	}
	FUZZ_CHECK(strcmp(regex_pattern(re), pattern) == 0,
		   "regex_pattern gave another pattern");
	m = regex_match(re, subject, slen);
	FUZZ_CHECK(m >= -1 && m <= 1, "regex_match returned %d", m);
	if (start > slen)
		start = slen;
	r = regex_match_at(re, subject, slen, start, b1 & 3);
	FUZZ_CHECK(r >= -1 && r <= 1, "regex_match_at returned %d", r);
	if (start == 0 && (b1 & 3) == 0)
		FUZZ_CHECK(r == m, "regex_match %d, regex_match_at from 0: %d",
			   m, r);

	/* The scanner, in chunks of 1..seed+1 octets, then the end. */
	sre = regex_compile(pattern, flags | REGEX_STREAM, err, sizeof(err));
	body_scan_init(&bs, (size_t)(1 + ((b1 >> 2) & 3)) * 1024);
	blen = slen << (3 * ((b1 >> 4) & 3));
	for (size_t o = 0; sre != NULL && o <= blen;) {
		size_t c = 1 + (seed ? (o * 7 + seed) % (seed + 1) : blen);
		if (o == blen) {
			r = body_scan_end_regex(&bs, sre);
			o++;
		} else {
			/* within one copy of the subject */
			if (c > slen - o % slen)
				c = slen - o % slen;
			r = body_scan_feed_regex(
			    &bs, sre, (const unsigned char *)subject + o % slen,
			    c);
			o += c;
		}
		FUZZ_CHECK(r >= -1 && r <= 1, "body_scan returned %d", r);
		FUZZ_CHECK(last != 1 || r == 1, "the scanner forgot a match");
		FUZZ_CHECK(body_scan_buffer_size(&bs) <= bs.most + 8,
			   "scanner holds %zu octets, at most %zu",
			   body_scan_buffer_size(&bs), bs.most + 8);
		last = r;
		if (r < 0)
			break;
	}
	if (sre != NULL && last >= 0 && m >= 0 && blen == slen &&
	    slen < bs.span)
		FUZZ_CHECK(last == m,
			   "the scanner says %d, the whole subject %d", last,
			   m);
	body_scan_free(&bs);
	regex_free(&sre);

	/* A list of it, twice: matches when the regex does. */
	list = regex_list_new();
	if (list == NULL)
		abort();
	if (regex_list_add(list, pattern, flags, err, sizeof(err)) == 0) {
		r = regex_list_append(list, re);
		re = NULL; /* the list owns it now, also on failure */
		if (r != 0)
			abort();
		r = regex_list_match(list, subject, slen);
		FUZZ_CHECK(r == m || m < 0 || r < 0,
			   "regex_list_match %d, regex_match %d", r, m);
		FUZZ_CHECK(regex_list_count(list) == 2 &&
				   regex_list_get(list, 2) == NULL,
			   "list of 2 has %zu", regex_list_count(list));
	}
	regex_list_free(&list);
	regex_free(&re);
out:
	regex_thread_cleanup();
	free(pattern);
	free(subject);
	return 0;
}
