/*
 * fuzz_spec.c - fuzz target for reply specs: codes_parse_spec() on the
 * input as a string, then codes_format(), codes_check() and reply_render()
 * on what it accepted.
 *
 * Checked: the parser accepts exactly the grammar codes.h describes (an
 * independent reference below decides), the half it fills in has the
 * class of the half given, formatting and parsing again gives the same
 * pair, codes_check() keeps its bounds, and a pair that codes_check()
 * passes for reject or tempfail renders. An input starting with 0xff is
 * instead read as four raw ints, to feed codes_check() and reply_render()
 * values no parser would give. Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codes.h"
#include "core/reply.h"
#include "fuzz.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* Reference: a basic code is exactly 3 digits, 200..599. */
static bool ref_basic(const char *s, size_t n, int *out)
{
	if (n != 3 || !digits(s, 3))
		return false;
	*out = atoi((char[4]){s[0], s[1], s[2], '\0'});
	return *out >= 200 && *out <= 599;
}

/* Reference: class.subject.detail, parts 1-3 digits, no leading zero. */
static bool ref_enhanced(const char *s, size_t n, int v[3])
{
	size_t start = 0, part = 0;

	for (size_t i = 0; i <= n; i++) {
		char buf[4];
		size_t len;
		if (i < n && s[i] != '.')
			continue;
		len = i - start;
		if (part == 3 || len < 1 || len > 3 || !digits(s + start, len) ||
		    (len > 1 && s[start] == '0'))
			return false;
		memcpy(buf, s + start, len);
		buf[len] = '\0';
		v[part++] = atoi(buf);
		start = i + 1;
	}
	return part == 3 && (v[0] == 2 || v[0] == 4 || v[0] == 5);
}

/* Reference acceptance; fills what the spec itself says (0: not given). */
static bool ref_parse(const char *spec, int *basic, int enh[3])
{
	const char *tok[3];
	size_t len[3], ntok = 0;

	*basic = 0;
	enh[0] = enh[1] = enh[2] = 0;
	for (const char *p = spec; *p != '\0';) {
		if (blank(*p)) {
			p++;
			continue;
		}
		if (ntok == 3)
			return false;
		tok[ntok] = p;
		while (*p != '\0' && !blank(*p))
			p++;
		len[ntok] = (size_t)(p - tok[ntok]);
		ntok++;
	}
	if (ntok == 1)
		return memchr(tok[0], '.', len[0]) != NULL
			       ? ref_enhanced(tok[0], len[0], enh)
			       : ref_basic(tok[0], len[0], basic);
	return ntok == 2 && ref_basic(tok[0], len[0], basic) &&
	       ref_enhanced(tok[1], len[1], enh);
}

static void check_findings(const struct reply_code *rc, enum verdict v,
			   enum stage st, bool held, int *nerr)
{
	struct findings f;
	int errors = 0;

	memset(&f, 0, sizeof(f));
	*nerr = codes_check(rc, v, st, held, &f);
	FUZZ_CHECK(f.count <= FINDINGS_MAX, "%zu findings", f.count);
	for (size_t i = 0; i < f.count; i++) {
		size_t n = strnlen(f.item[i].text, FINDING_TEXT_MAX);
		FUZZ_CHECK(n > 0 && n < FINDING_TEXT_MAX,
			   "finding %zu: text of %zu octets", i, n);
		errors += f.item[i].severity == FINDING_ERROR;
		/* a suggested pair is clean: no error or warning of its own */
		if (f.item[i].suggests && *nerr >= 0) {
			struct findings g;
			memset(&g, 0, sizeof(g));
			FUZZ_CHECK(codes_check(&f.item[i].suggestion, v, st,
					       held, &g) == 0,
				   "suggestion %d %d.%d.%d has an error",
				   f.item[i].suggestion.basic,
				   f.item[i].suggestion.enh_class,
				   f.item[i].suggestion.enh_subject,
				   f.item[i].suggestion.enh_detail);
			for (size_t k = 0; k < g.count; k++)
				FUZZ_CHECK(g.item[k].severity == FINDING_NOTE,
					   "suggestion %d %d.%d.%d: %s",
					   f.item[i].suggestion.basic,
					   f.item[i].suggestion.enh_class,
					   f.item[i].suggestion.enh_subject,
					   f.item[i].suggestion.enh_detail,
					   g.item[k].text);
		}
	}
	FUZZ_CHECK(*nerr >= errors && (f.count < FINDINGS_MAX ||
				       *nerr == errors),
		   "codes_check returned %d, findings hold %d errors", *nerr,
		   errors);
}

/* codes_check and reply_render must agree on every pair. */
static void check_pair(const struct reply_code *rc, const char *text)
{
	static const enum verdict vs[] = {VERDICT_CONTINUE, VERDICT_REJECT,
					  VERDICT_TEMPFAIL, VERDICT_ACCEPT,
					  VERDICT_DISCARD, VERDICT_QUARANTINE,
					  (enum verdict)99};
	const char *lines[1] = {text};
	char buf[64], err[256];
	int nerr;

	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		for (int c = 0; c <= 2 * STAGE_COUNT; c++) {
			check_findings(rc, vs[i], (enum stage)(c / 2),
				       c % 2 == 1, &nerr);
			if (nerr == 0 && (vs[i] == VERDICT_REJECT ||
					  vs[i] == VERDICT_TEMPFAIL)) {
				struct reply *r = malloc(sizeof(*r));
				if (r == NULL)
					abort();
				err[0] = '\0';
				FUZZ_CHECK(reply_render(rc, lines, 1, 0, r, err,
							sizeof(err)) == 0,
					   "%d %d.%d.%d passes codes_check for "
					   "%s but does not render: %s",
					   rc->basic, rc->enh_class,
					   rc->enh_subject, rc->enh_detail,
					   verdict_name(vs[i]), err);
				FUZZ_CHECK(r->basic[0] ==
						   (vs[i] == VERDICT_REJECT
							    ? '5'
							    : '4'),
					   "%s rendered as %s",
					   verdict_name(vs[i]), r->basic);
				fuzz_check_reply(r, 0);
				free(r);
			}
		}
	}
	codes_format(rc, buf, sizeof(buf));
	codes_format_enhanced(rc, buf, 12);
	(void)codes_basic(rc->basic);
	(void)codes_enhanced(rc->enh_subject, rc->enh_detail);
}

static void raw(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct reply_code rc;

	rc.basic = (int)fuzz_u32(&in);
	rc.enh_class = (int)fuzz_u32(&in);
	rc.enh_subject = (int)fuzz_u32(&in);
	rc.enh_detail = (int)fuzz_u32(&in);
	/* Small values are the interesting ones: fold some of them. */
	if (rc.basic < 0 && rc.basic > -1000)
		rc.basic = -rc.basic;
	check_pair(&rc, "text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_code rc, again;
	char err[256], buf[64], *spec;
	char *tiny;
	int basic, enh[3], rcode;
	bool want;

	if (size > 0 && data[0] == 0xff) {
		raw(data + 1, size - 1);
		return 0;
	}
	spec = fuzz_strndup(data, size);
	err[0] = '\0';
	rcode = codes_parse_spec(spec, &rc, err, sizeof(err));
	want = ref_parse(spec, &basic, enh);
	FUZZ_CHECK((rcode == 0) == want,
		   "codes_parse_spec(\"%.40s\") returned %d (%s), the "
		   "grammar says %s",
		   spec, rcode, err, want ? "accept" : "reject");
	/* A tiny error buffer must not be overrun. */
	tiny = malloc(1);
	if (tiny == NULL)
		abort();
	codes_parse_spec(spec, &again, tiny, 1);
	free(tiny);
	if (rcode != 0) {
		FUZZ_CHECK(err[0] != '\0', "rejected \"%.40s\" without a "
			   "message", spec);
		free(spec);
		return 0;
	}
	FUZZ_CHECK(rc.basic >= 200 && rc.basic <= 599, "basic %d", rc.basic);
	if (basic != 0)
		FUZZ_CHECK(rc.basic == basic, "basic %d, spec says %d",
			   rc.basic, basic);
	if (enh[0] != 0)
		FUZZ_CHECK(rc.enh_class == enh[0] && rc.enh_subject == enh[1] &&
				   rc.enh_detail == enh[2],
			   "enhanced %d.%d.%d, spec says %d.%d.%d",
			   rc.enh_class, rc.enh_subject, rc.enh_detail, enh[0],
			   enh[1], enh[2]);
	if (basic == 0)
		FUZZ_CHECK(rc.basic / 100 == rc.enh_class,
			   "\"%.40s\": filled in basic %d for class %d", spec,
			   rc.basic, rc.enh_class);
	if (enh[0] == 0) {
		int cls = rc.basic / 100;
		FUZZ_CHECK(cls == 3 ? rc.enh_class == 0 : rc.enh_class == cls,
			   "\"%.40s\": filled in class %d for basic %d", spec,
			   rc.enh_class, rc.basic);
	}
	/* Round trip through codes_format. */
	codes_format(&rc, buf, sizeof(buf));
	FUZZ_CHECK(codes_parse_spec(buf, &again, err, sizeof(err)) == 0 &&
			   memcmp(&rc, &again, sizeof(rc)) == 0,
		   "\"%.40s\" formats as \"%s\", which parses differently",
		   spec, buf);
	check_pair(&rc, spec);
	free(spec);
	return 0;
}
