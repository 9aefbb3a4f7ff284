/*
 * fuzz_reply.c - fuzz target for reply rendering: reply_render() on the
 * input split into text lines, reply_sanitize_value() and
 * reply_text_check() on the same bytes.
 *
 * Input: byte 0 chooses how (bit 0: a raw code pair from the next 16
 * bytes instead of a well-formed one; bit 1: a class that does not match
 * the basic code; bit 2: a huge reserve; bit 3: lines split at LF instead
 * of NUL), then 2 bytes of basic code, 2 of subject, 2 of detail, 2 of
 * reserve, 2 of sanitize maxlen and 1 of sanitize outlen; the rest is the
 * text. Every promise of reply.h is checked (fuzz_check_reply), and so is
 * the text itself: the rendered lines hold the sanitised input in order,
 * only blanks dropped at the cuts. Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codes.h"
#include "core/reply.h"
#include "fuzz.h"

#define TEXT_LINES_MAX 100

/* The bytes of s as rendered, blanks left out, appended to out. */
static size_t squeeze_input(const char *s, char *out, size_t o)
{
	for (; *s != '\0'; s++) {
		char c = fuzz_san((unsigned char)*s);
		if (c != ' ')
			out[o++] = c;
	}
	return o;
}

/* The text of a rendered line, '%' single, blanks left out. */
static size_t squeeze_line(const char *l, char *out, size_t o)
{
	for (; *l != '\0'; l++) {
		if (l[0] == '%' && l[1] == '%')
			l++;
		if (*l != ' ')
			out[o++] = *l;
	}
	return o;
}

static bool all_blank(char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (const char *s = lines[i]; *s != '\0'; s++)
			if (fuzz_san((unsigned char)*s) != ' ')
				return false;
	return true;
}

static void check_text(const struct reply *r, char *const *lines, size_t n,
		       size_t total)
{
	char *want = malloc(total + 1), *got;
	size_t nw = 0, ng = 0, keep;

	got = malloc((size_t)REPLY_MAX_LINES * REPLY_ESCAPED_MAX + 1);
	if (want == NULL || got == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		nw = squeeze_input(lines[i], want, nw);
	keep = r->truncated ? r->nlines - 1 : r->nlines;
	for (size_t i = 0; i < keep; i++)
		ng = squeeze_line(r->line[i], got, ng);
	if (r->truncated)
		FUZZ_CHECK(ng <= nw && memcmp(want, got, ng) == 0,
			   "truncated reply: the %zu lines kept are not the "
			   "start of the text",
			   keep);
	else
		FUZZ_CHECK(ng == nw && memcmp(want, got, ng) == 0,
			   "reply text differs from its input (%zu octets "
			   "rendered, %zu given, blanks left out)",
			   ng, nw);
	free(want);
	free(got);
}

static void check_sanitize(const uint8_t *in, size_t inlen, size_t outlen,
			   size_t maxlen)
{
	char *out = malloc(outlen ? outlen : 1);
	size_t n, eff, keep, want;

	if (out == NULL)
		abort();
	n = reply_sanitize_value((const char *)in, inlen, out,
				 outlen, maxlen);
	if (outlen == 0) {
		FUZZ_CHECK(n == 0, "outlen 0 gave %zu", n);
		free(out);
		return;
	}
	eff = outlen < 4 ? 0 : (maxlen < outlen - 4 ? maxlen : outlen - 4);
	keep = inlen < eff ? inlen : eff;
	want = keep + (inlen > keep && outlen > keep + 3 ? 3 : 0);
	FUZZ_CHECK(n == want && n < outlen && out[n] == '\0' &&
			   strlen(out) == n,
		   "sanitize %zu octets into %zu (maxlen %zu): %zu, want %zu",
		   inlen, outlen, maxlen, n, want);
	for (size_t i = 0; i < keep; i++)
		FUZZ_CHECK(out[i] == fuzz_san(in[i]),
			   "sanitize: octet %zu is 0x%02x, want 0x%02x", i,
			   (unsigned char)out[i], (unsigned char)fuzz_san(in[i]));
	if (want > keep)
		FUZZ_CHECK(memcmp(out + keep, "...", 3) == 0,
			   "sanitize: cut not marked");
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct reply_code rc;
	struct reply *r;
	char *buf, *lines[TEXT_LINES_MAX], err[256];
	size_t n, reserve, maxlen, outlen;
	uint8_t how = fuzz_u8(&in);
	int rcode;
	bool valid;

	if (how & 1) {
		rc.basic = (int)fuzz_u32(&in);
		rc.enh_class = (int)fuzz_u32(&in);
		rc.enh_subject = (int)fuzz_u32(&in);
		rc.enh_detail = (int)fuzz_u32(&in);
	} else {
		rc.basic = 400 + fuzz_u16(&in) % 200;
		rc.enh_class = rc.basic / 100;
		if (how & 2)
			rc.enh_class = 9 - rc.enh_class;
		rc.enh_subject = fuzz_u16(&in) % 1000;
		rc.enh_detail = fuzz_u16(&in) % 1000;
	}
	reserve = fuzz_u16(&in);
	if (how & 4)
		reserve = (size_t)-1 - reserve;
	maxlen = fuzz_u16(&in);
	if (maxlen >= 0xff00)
		maxlen = (size_t)-1 - (maxlen & 0xff);
	outlen = fuzz_u8(&in) * 3u;

	check_sanitize(in.p, in.n, outlen, maxlen);

	buf = fuzz_strndup(in.p, in.n);
	n = fuzz_split(buf, in.n, (how & 8) ? '\n' : '\0', lines,
		       TEXT_LINES_MAX);
	for (size_t i = 0; i < n; i++) {
		bool printable = true;
		for (const char *s = lines[i]; *s != '\0'; s++)
			if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
				printable = false;
		err[0] = '\0';
		FUZZ_CHECK((reply_text_check(lines[i], err, sizeof(err)) == 0) ==
				   printable,
			   "reply_text_check on line %zu: %s", i, err);
	}

	r = malloc(sizeof(*r));
	if (r == NULL)
		abort();
	memset(r, 0xa5, sizeof(*r));
	valid = rc.basic >= 400 && rc.basic <= 599 &&
		rc.enh_class == rc.basic / 100 && rc.enh_subject >= 0 &&
		rc.enh_subject <= 999 && rc.enh_detail >= 0 &&
		rc.enh_detail <= 999;
	err[0] = '\0';
	rcode = reply_render(&rc, (const char *const *)lines, n, reserve, r,
			     err, sizeof(err));
	FUZZ_CHECK((rcode == 0) == valid,
		   "reply_render(%d %d.%d.%d) returned %d (%s)", rc.basic,
		   rc.enh_class, rc.enh_subject, rc.enh_detail, rcode, err);
	if (rcode == 0) {
		fuzz_check_reply(r, reserve);
		if (all_blank(lines, n))
			FUZZ_CHECK(r->line[0][0] != '\0',
				   "blank text rendered as an empty line");
		else
			check_text(r, lines, n, in.n);
	} else {
		FUZZ_CHECK(err[0] != '\0', "failed without a message");
	}
	free(r);
	free(buf);
	return 0;
}
