/*
 * check_reply.c - unit tests for the reply renderer (milter/core/reply.c).
 *
 * Every rendered reply is checked against what libmilter and RFC 5321
 * accept: 1..32 lines, each wire line ("NNN-X.Y.Z " + text + CRLF) at most
 * 512 octets as the client sees it, at most 980 octets as handed to
 * smfi_setmlreply, only printable ASCII, every '%' doubled. The tables then
 * pin where lines wrap, what control bytes become, when the truncation
 * marker appears and what the helpers return.
 *
 * Must never depend on libmilter or on a running MTA.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codes.h"
#include "core/reply.h"

#define SAMPLE_571 "Delivery not authorized, message refused"
#define SAMPLE_511 "Bad destination mailbox address"
#define BIG	   25000

static struct reply R;
static char err[512];
static char textbuf[4][BIG];

static struct reply_code pair(int basic, int cls, int subj, int det)
{
	struct reply_code rc = {basic, cls, subj, det};
	return rc;
}

/* Render with the output filled with garbage first, so stale state shows. */
static int render(const struct reply_code *rc, const char *const *text,
		  size_t ntext, size_t reserve)
{
	memset(&R, 0x5a, sizeof(R));
	err[0] = '\0';
	return reply_render(rc, text, ntext, reserve, &R, err, sizeof(err));
}

/* Undo the '%' doubling of a stored line; -1 when a '%' is unpaired. */
static long unescape(const char *esc, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = esc; *p != '\0'; p++) {
		if (*p == '%') {
			if (p[1] != '%')
				return -1;
			p++;
		}
		if (o + 1 < outlen)
			out[o] = *p;
		o++;
	}
	if (outlen > 0)
		out[o < outlen ? o : outlen - 1] = '\0';
	return (long)o;
}

/* The guarantees of reply.h, for any rendered reply. */
static void check_shape(const struct reply *r, int ci, const char *basic,
			const char *enh)
{
	char plain[REPLY_ESCAPED_MAX + 1];

	ck_assert_msg(r->nlines >= 1 && r->nlines <= REPLY_MAX_LINES,
		      "case %d: got %zu lines, want 1..%d", ci, r->nlines,
		      REPLY_MAX_LINES);
	ck_assert_msg(strcmp(r->basic, basic) == 0,
		      "case %d: got basic \"%s\", want \"%s\"", ci, r->basic,
		      basic);
	ck_assert_msg(strcmp(r->enhanced, enh) == 0,
		      "case %d: got enhanced \"%s\", want \"%s\"", ci,
		      r->enhanced, enh);
	for (size_t i = 0; i < r->nlines; i++) {
		const char *l = r->line[i];
		size_t esc = strnlen(l, sizeof(r->line[i]));
		long un;
		size_t wire;

		ck_assert_msg(esc <= REPLY_ESCAPED_MAX,
			      "case %d line %zu: got escaped length %zu, "
			      "want <= %d",
			      ci, i, esc, REPLY_ESCAPED_MAX);
		for (size_t k = 0; k < esc; k++)
			ck_assert_msg(
			    (unsigned char)l[k] >= 0x20 &&
				(unsigned char)l[k] < 0x7f,
			    "case %d line %zu: got byte 0x%02x at %zu, "
			    "want printable ASCII",
			    ci, i, (unsigned char)l[k], k);
		un = unescape(l, plain, sizeof(plain));
		ck_assert_msg(un >= 0,
			      "case %d line %zu: got an unpaired '%%' in "
			      "\"%.60s\", want every '%%' doubled",
			      ci, i, l);
		wire = strlen(basic) + 1 + strlen(enh) + 1 + (size_t)un + 2;
		ck_assert_msg(wire <= REPLY_WIRE_MAX,
			      "case %d line %zu: got wire length %zu, "
			      "want <= %d",
			      ci, i, wire, REPLY_WIRE_MAX);
	}
}

/* Unescaped text of line i of R into buf. */
static size_t plain_line(size_t i, char *buf, size_t buflen)
{
	long n = unescape(R.line[i], buf, buflen);
	return n < 0 ? 0 : (size_t)n;
}

/* --- text built from runs of one character ---------------------------- */

struct run {
	char c;
	size_t n;
};

#define MAX_RUNS 4

static const char *build(const struct run *runs, char *buf)
{
	size_t o = 0;

	for (size_t i = 0; i < MAX_RUNS && runs[i].n > 0; i++) {
		memset(buf + o, runs[i].c, runs[i].n);
		o += runs[i].n;
	}
	buf[o] = '\0';
	return buf;
}

/* --- wrapping at the wire length ------------------------------------- */

#define MAX_SPANS 6

struct span {
	size_t off; /* where the line's text starts in the input */
	size_t len; /* how many octets of it */
};

/* clang-format off */
static const struct wrap_case {
	int basic, cls, subj, det;
	const char *want_basic, *want_enh;
	size_t reserve;
	struct run in[MAX_RUNS];
	size_t nlines;
	struct span want[MAX_SPANS];
} wrap_cases[] = {
	/* 0-1: 550 5.7.1: 512 - 2 - 10 = 500 octets of text */
	{ 550, 5, 7, 1, "550", "5.7.1", 0, { { 'a', 500 } }, 1,
	  { { 0, 500 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 0, { { 'a', 501 } }, 2,
	  { { 0, 500 }, { 500, 1 } } },
	/* 2-3: a two-digit detail leaves one octet less */
	{ 550, 5, 7, 30, "550", "5.7.30", 0, { { 'a', 499 } }, 1,
	  { { 0, 499 } } },
	{ 550, 5, 7, 30, "550", "5.7.30", 0, { { 'a', 500 } }, 2,
	  { { 0, 499 }, { 499, 1 } } },
	/* 4-5: three-digit subject and detail: 496 */
	{ 554, 5, 123, 456, "554", "5.123.456", 0, { { 'a', 496 } }, 1,
	  { { 0, 496 } } },
	{ 554, 5, 123, 456, "554", "5.123.456", 0, { { 'a', 497 } }, 2,
	  { { 0, 496 }, { 496, 1 } } },
	/* 6: a 4xx code has the same room */
	{ 451, 4, 7, 1, "451", "4.7.1", 0, { { 'a', 500 } }, 1,
	  { { 0, 500 } } },
	/* 7: the space right after a full line is cut, not carried over */
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 500 }, { ' ', 1 }, { 'b', 3 } }, 2,
	  { { 0, 500 }, { 501, 3 } } },
	/* 8: the space is the 500th octet: it ends the first line */
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 499 }, { ' ', 1 }, { 'b', 3 } }, 2,
	  { { 0, 499 }, { 500, 3 } } },
	/* 9: a word that fits a line is moved whole, not split */
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 300 }, { ' ', 1 }, { 'b', 300 } }, 2,
	  { { 0, 300 }, { 301, 300 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 250 }, { ' ', 1 }, { 'b', 250 } }, 2,
	  { { 0, 250 }, { 251, 250 } } },
	/* 11: a word longer than a line is moved, then cut */
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 1 }, { ' ', 1 }, { 'b', 600 } }, 3,
	  { { 0, 1 }, { 2, 500 }, { 502, 100 } } },
	/* 12-13: 2000 octets without a space are hard-cut */
	{ 550, 5, 7, 1, "550", "5.7.1", 0, { { 'x', 2000 } }, 4,
	  { { 0, 500 }, { 500, 500 }, { 1000, 500 }, { 1500, 500 } } },
	{ 550, 5, 7, 30, "550", "5.7.30", 0, { { 'x', 2000 } }, 5,
	  { { 0, 499 }, { 499, 499 }, { 998, 499 }, { 1497, 499 },
	    { 1996, 4 } } },
	/* 14-15: a run of blanks at the cut does not start the next line */
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 500 }, { ' ', 2 }, { 'b', 3 } }, 2,
	  { { 0, 500 }, { 502, 3 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 0,
	  { { 'a', 1 }, { ' ', 700 }, { 'b', 1 } }, 2,
	  { { 0, 500 }, { 701, 1 } } },
	/* 16-19: reserve_first shortens the first line only */
	{ 550, 5, 7, 1, "550", "5.7.1", 100, { { 'a', 400 } }, 1,
	  { { 0, 400 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 100, { { 'a', 401 } }, 2,
	  { { 0, 400 }, { 400, 1 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 100, { { 'a', 1000 } }, 3,
	  { { 0, 400 }, { 400, 500 }, { 900, 100 } } },
	{ 550, 5, 7, 30, "550", "5.7.30", 99, { { 'a', 900 } }, 3,
	  { { 0, 400 }, { 400, 499 }, { 899, 1 } } },
	/* 20: with a reserve the first line still wraps at a space */
	{ 550, 5, 7, 1, "550", "5.7.1", 100,
	  { { 'a', 390 }, { ' ', 1 }, { 'b', 20 } }, 2,
	  { { 0, 390 }, { 391, 20 } } },
	/*
	 * 21-24: Sendmail's "<address>... " for a 256-octet path is 262
	 * octets: honoured in full. Only a reserve that would leave less
	 * than 100 octets of text (no legal address) is not.
	 */
	{ 550, 5, 7, 1, "550", "5.7.1", 262, { { 'a', 1000 } }, 3,
	  { { 0, 238 }, { 238, 500 }, { 738, 262 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 400, { { 'a', 1000 } }, 3,
	  { { 0, 100 }, { 100, 500 }, { 600, 400 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", 450, { { 'a', 1000 } }, 3,
	  { { 0, 100 }, { 100, 500 }, { 600, 400 } } },
	{ 550, 5, 7, 1, "550", "5.7.1", (size_t)-1, { { 'a', 1000 } }, 3,
	  { { 0, 100 }, { 100, 500 }, { 600, 400 } } },
};
/* clang-format on */

START_TEST(test_wrap)
{
	const struct wrap_case *c = &wrap_cases[_i];
	struct reply_code rc = pair(c->basic, c->cls, c->subj, c->det);
	const char *text = build(c->in, textbuf[0]);
	char plain[REPLY_ESCAPED_MAX + 1];
	int ret = render(&rc, &text, 1, c->reserve);

	ck_assert_msg(ret == 0, "case %d: got %d (%s), want 0", _i, ret, err);
	check_shape(&R, _i, c->want_basic, c->want_enh);
	ck_assert_msg(R.nlines == c->nlines, "case %d: got %zu lines, want %zu",
		      _i, R.nlines, c->nlines);
	ck_assert_msg(R.wrapped == (c->nlines > 1),
		      "case %d: got wrapped %d, want %d", _i, R.wrapped,
		      c->nlines > 1);
	ck_assert_msg(!R.truncated, "case %d: got truncated, want not", _i);
	for (size_t i = 0; i < R.nlines; i++) {
		size_t n = plain_line(i, plain, sizeof(plain));
		ck_assert_msg(n == c->want[i].len,
			      "case %d line %zu: got %zu octets, want %zu", _i,
			      i, n, c->want[i].len);
		ck_assert_msg(memcmp(plain, text + c->want[i].off, n) == 0,
			      "case %d line %zu: got \"%.20s...\", want the "
			      "input from offset %zu (\"%.20s...\")",
			      _i, i, plain, c->want[i].off,
			      text + c->want[i].off);
		ck_assert_msg(i == 0 || plain[0] != ' ',
			      "case %d line %zu: got a line starting with a "
			      "space, want none",
			      _i, i);
	}
}
END_TEST

/* Several input lines: the reserve is for the first wire line only. */
/* clang-format off */
static const struct multi_case {
	size_t reserve;
	size_t nin;
	struct run in[3]; /* input line k is in[k].n times in[k].c */
	size_t nlines;
	struct run want[5];
} multi_cases[] = {
	{ 0, 2, { { 'a', 450 }, { 'b', 450 } }, 2,
	  { { 'a', 450 }, { 'b', 450 } } },
	{ 100, 2, { { 'a', 450 }, { 'b', 450 } }, 3,
	  { { 'a', 400 }, { 'a', 50 }, { 'b', 450 } } },
	{ 100, 2, { { 'a', 100 }, { 'b', 600 } }, 3,
	  { { 'a', 100 }, { 'b', 500 }, { 'b', 100 } } },
	{ 0, 3, { { 'a', 1 }, { 'b', 501 }, { 'c', 1 } }, 4,
	  { { 'a', 1 }, { 'b', 500 }, { 'b', 1 }, { 'c', 1 } } },
};
/* clang-format on */

START_TEST(test_multi)
{
	const struct multi_case *c = &multi_cases[_i];
	struct reply_code rc = pair(550, 5, 7, 1);
	const char *text[3];
	char plain[REPLY_ESCAPED_MAX + 1];
	int ret;

	for (size_t k = 0; k < c->nin; k++) {
		struct run one[MAX_RUNS] = {c->in[k]};
		text[k] = build(one, textbuf[k]);
	}
	ret = render(&rc, text, c->nin, c->reserve);
	ck_assert_msg(ret == 0, "case %d: got %d (%s), want 0", _i, ret, err);
	check_shape(&R, _i, "550", "5.7.1");
	ck_assert_msg(R.nlines == c->nlines, "case %d: got %zu lines, want %zu",
		      _i, R.nlines, c->nlines);
	for (size_t i = 0; i < R.nlines; i++) {
		size_t n = plain_line(i, plain, sizeof(plain));
		size_t same = strspn(plain, (char[]){c->want[i].c, '\0'});
		ck_assert_msg(n == c->want[i].n && same == n,
			      "case %d line %zu: got %zu octets (%zu '%c'), "
			      "want %zu '%c'",
			      _i, i, n, same, c->want[i].c, c->want[i].n,
			      c->want[i].c);
	}
}
END_TEST

/* --- '%' ----------------------------------------------------------------- */

#define MAX_PCT_LINES 3

/* clang-format off */
static const struct pct_case {
	const char *lit; /* the input, or NULL to build it from in */
	struct run in[MAX_RUNS];
	size_t nlines;
	size_t esc[MAX_PCT_LINES];   /* escaped length of each line */
	size_t plain[MAX_PCT_LINES]; /* and as the client sees it */
	const char *want_last;	     /* escaped last line, or NULL */
} pct_cases[] = {
	{ "100%", { { 0 } }, 1, { 5 }, { 4 }, "100%%" },
	{ "%abc%", { { 0 } }, 1, { 7 }, { 5 }, "%%abc%%" },
	{ "%", { { 0 } }, 1, { 2 }, { 1 }, "%%" },
	{ "%%", { { 0 } }, 1, { 4 }, { 2 }, "%%%%" },
	{ "%s%n%d", { { 0 } }, 1, { 9 }, { 6 }, "%%s%%n%%d" },
	{ "%1$s %.9999999f %*d", { { 0 } }, 1, { 22 }, { 19 },
	  "%%1$s %%.9999999f %%*d" },
	/* 6-7: '%' at the wrap boundary: the pair is never split */
	{ NULL, { { 'a', 499 }, { '%', 2 } }, 2, { 501, 2 }, { 500, 1 },
	  "%%" },
	{ NULL, { { 'a', 500 }, { '%', 1 } }, 2, { 500, 2 }, { 500, 1 },
	  "%%" },
	/* 8-9: 980 escaped octets come before 500 wire octets */
	{ NULL, { { '%', 600 } }, 2, { 980, 220 }, { 490, 110 }, NULL },
	{ NULL, { { 'a', 10 }, { '%', 600 } }, 2, { 980, 230 }, { 495, 115 },
	  NULL },
	/* 10: a '%' that would make 981 escaped octets starts a new line */
	{ NULL, { { 'a', 1 }, { '%', 600 } }, 2, { 979, 222 }, { 490, 111 },
	  NULL },
	/* 11: a cut forced by the escaped limit still prefers a space */
	{ NULL, { { '%', 480 }, { ' ', 1 }, { 'b', 100 } }, 2, { 960, 100 },
	  { 480, 100 }, NULL },
	/* 12: no space: hard cut at 490 '%' */
	{ NULL, { { '%', 499 }, { ' ', 1 }, { 'x', 1 } }, 2, { 980, 20 },
	  { 490, 11 }, "%%%%%%%%%%%%%%%%%% x" },
};
/* clang-format on */

START_TEST(test_percent)
{
	const struct pct_case *c = &pct_cases[_i];
	struct reply_code rc = pair(550, 5, 7, 1);
	const char *text = c->lit != NULL ? c->lit : build(c->in, textbuf[0]);
	char plain[REPLY_ESCAPED_MAX + 1];
	int ret = render(&rc, &text, 1, 0);

	ck_assert_msg(ret == 0, "case %d: got %d (%s), want 0", _i, ret, err);
	check_shape(&R, _i, "550", "5.7.1");
	ck_assert_msg(R.nlines == c->nlines, "case %d: got %zu lines, want %zu",
		      _i, R.nlines, c->nlines);
	for (size_t i = 0; i < R.nlines; i++) {
		size_t e = strlen(R.line[i]);
		size_t p = plain_line(i, plain, sizeof(plain));
		ck_assert_msg(e == c->esc[i] && p == c->plain[i],
			      "case %d line %zu: got %zu escaped / %zu plain "
			      "octets, want %zu / %zu",
			      _i, i, e, p, c->esc[i], c->plain[i]);
	}
	if (c->want_last != NULL)
		ck_assert_msg(strcmp(R.line[R.nlines - 1], c->want_last) == 0,
			      "case %d: got last line \"%.40s\", want \"%s\"",
			      _i, R.line[R.nlines - 1], c->want_last);
}
END_TEST

/* --- control bytes, non-ASCII and empty text ------------------------- */

/* clang-format off */
static const struct ctl_case {
	int basic, cls, subj, det;
	size_t nin;
	const char *in[2];
	const char *want; /* the one escaped line, or NULL: any non-blank */
} ctl_cases[] = {
	{ 550, 5, 7, 1, 1, { "a\rb\nc\td" }, "a b c d" },
	{ 550, 5, 7, 1, 1, { "\x01\x1b\x7f" }, "???" },
	{ 550, 5, 7, 1, 1, { "caf\xc3\xa9" }, "caf??" },
	{ 550, 5, 7, 1, 1, { "\x80\x9b\xff" }, "???" },
	{ 550, 5, 7, 1, 1, { "\x01" }, "?" },
	{ 550, 5, 7, 1, 1, { "\x1b[31m100%" }, "?[31m100%%" },
	{ 550, 5, 7, 1, 1, { "x\r\n\r\ny" }, "x    y" },
	/* 7-12: nothing to say: the registry's sample text */
	{ 550, 5, 7, 1, 1, { "\r\n\t" }, SAMPLE_571 },
	{ 550, 5, 7, 1, 1, { "" }, SAMPLE_571 },
	{ 550, 5, 7, 1, 0, { NULL }, SAMPLE_571 },
	{ 550, 5, 7, 1, 1, { "   \t " }, SAMPLE_571 },
	{ 550, 5, 7, 1, 2, { "", "\r\n" }, SAMPLE_571 },
	{ 451, 4, 7, 1, 1, { "" }, SAMPLE_571 },
	{ 550, 5, 1, 1, 1, { "" }, SAMPLE_511 },
	/* 14: X.7.30 is not in the registry's table: some text still */
	{ 550, 5, 7, 30, 1, { "" }, NULL },
	{ 599, 5, 999, 999, 0, { NULL }, NULL },
};
/* clang-format on */

START_TEST(test_control)
{
	const struct ctl_case *c = &ctl_cases[_i];
	struct reply_code rc = pair(c->basic, c->cls, c->subj, c->det);
	char basic[16], enh[48];
	int ret;

	snprintf(basic, sizeof(basic), "%d", c->basic);
	snprintf(enh, sizeof(enh), "%d.%d.%d", c->cls, c->subj, c->det);
	ret = render(&rc, c->nin > 0 ? c->in : NULL, c->nin, 0);
	ck_assert_msg(ret == 0, "case %d: got %d (%s), want 0", _i, ret, err);
	check_shape(&R, _i, basic, enh);
	ck_assert_msg(R.nlines == 1, "case %d: got %zu lines, want 1", _i,
		      R.nlines);
	if (c->want != NULL)
		ck_assert_msg(strcmp(R.line[0], c->want) == 0,
			      "case %d: got \"%s\", want \"%s\"", _i, R.line[0],
			      c->want);
	else
		ck_assert_msg(strspn(R.line[0], " ") < strlen(R.line[0]),
			      "case %d: got \"%s\", want non-blank text", _i,
			      R.line[0]);
}
END_TEST

/* --- more than 32 lines ---------------------------------------------- */

#define MANY 1000
static char many_buf[MANY][32];
static const char *many[MANY];

/* clang-format off */
static const struct trunc_case {
	size_t nin;	 /* input lines */
	size_t len;	 /* 0: "line N", else that many 'x' */
	size_t nshort;	 /* with len: the first nshort lines are "line N" */
	size_t nlines;
	bool truncated;
	size_t cut;	 /* cut_lines, the number the marker gives */
	const char *last; /* the last line, or NULL: "line <nlines>" */
} trunc_cases[] = {
	{ 1, 0, 0, 1, false, 0, NULL },
	{ 31, 0, 0, 31, false, 0, NULL },
	{ 32, 0, 0, 32, false, 0, NULL },
	{ 33, 0, 0, 32, true, 2, "(reply truncated: 2 more lines)" },
	{ 34, 0, 0, 32, true, 3, "(reply truncated: 3 more lines)" },
	{ 1000, 0, 0, 32, true, 969, "(reply truncated: 969 more lines)" },
	/* 6: one 20,000-octet line is 40 wire lines */
	{ 1, 20000, 0, 32, true, 9, "(reply truncated: 9 more lines)" },
	/* 7-8: wrapped lines count: 16 x 2 fit exactly, 17 x 2 do not */
	{ 16, 1000, 0, 32, false, 0, NULL },
	{ 17, 1000, 0, 32, true, 3, "(reply truncated: 3 more lines)" },
	/* 9: 31 short lines, then one that wraps into two */
	{ 32, 1000, 31, 32, true, 2, "(reply truncated: 2 more lines)" },
};
/* clang-format on */

START_TEST(test_truncate)
{
	const struct trunc_case *c = &trunc_cases[_i];
	struct reply_code rc = pair(550, 5, 7, 1);
	char want[64], wire[64];
	int ret, full;
	size_t sum = 0;

	memset(textbuf[0], 'x', c->len);
	textbuf[0][c->len] = '\0';
	for (size_t k = 0; k < c->nin; k++) {
		snprintf(many_buf[k], sizeof(many_buf[k]), "line %zu", k + 1);
		many[k] =
		    c->len > 0 && k >= c->nshort ? textbuf[0] : many_buf[k];
	}
	ret = render(&rc, many, c->nin, 0);
	ck_assert_msg(ret == 0, "case %d: got %d (%s), want 0", _i, ret, err);
	check_shape(&R, _i, "550", "5.7.1");
	ck_assert_msg(R.nlines == c->nlines, "case %d: got %zu lines, want %zu",
		      _i, R.nlines, c->nlines);
	ck_assert_msg(R.truncated == c->truncated,
		      "case %d: got truncated %d, want %d", _i, R.truncated,
		      c->truncated);
	ck_assert_msg(R.cut_lines == c->cut,
		      "case %d: got cut_lines %zu, "
		      "want %zu",
		      _i, R.cut_lines, c->cut);
	if (c->last != NULL) {
		snprintf(want, sizeof(want), "%s", c->last);
	} else if (c->len == 0) {
		snprintf(want, sizeof(want), "line %zu", c->nlines);
	} else {
		want[0] = '\0';
	}
	if (want[0] != '\0')
		ck_assert_msg(strcmp(R.line[R.nlines - 1], want) == 0,
			      "case %d: got last line \"%.60s\", want \"%s\"",
			      _i, R.line[R.nlines - 1], want);
	/* The line before the marker is kept as it was. */
	if (c->truncated && c->len == 0) {
		snprintf(want, sizeof(want), "line %zu", c->nlines - 1);
		ck_assert_msg(strcmp(R.line[R.nlines - 2], want) == 0,
			      "case %d: got line %zu \"%.60s\", want \"%s\"",
			      _i, R.nlines - 1, R.line[R.nlines - 2], want);
	}
	/* The log form agrees: "550-5.7.1 " per line, " | " between. */
	for (size_t i = 0; i < R.nlines; i++)
		sum += 10 + strlen(R.line[i]) + (i > 0 ? 3 : 0);
	full = reply_format_wire(&R, wire, sizeof(wire));
	ck_assert_msg(full == (int)sum, "case %d: got wire length %d, want %zu",
		      _i, full, sum);
}
END_TEST

/* --- pairs the renderer refuses -------------------------------------- */

/* clang-format off */
static const struct pair_case {
	int basic, cls, subj, det;
	int ret;
	const char *want_enh; /* when ret is 0 */
} pair_cases[] = {
	{ 250, 2, 0, 0, -1, NULL },
	{ 354, 3, 0, 0, -1, NULL },
	{ 399, 3, 9, 9, -1, NULL },
	{ 600, 6, 0, 0, -1, NULL },
	{ 0, 0, 0, 0, -1, NULL },
	{ -550, 5, 7, 1, -1, NULL },
	{ 550, 4, 7, 1, -1, NULL },
	{ 450, 5, 7, 1, -1, NULL },
	{ 550, 0, 0, 0, -1, NULL }, /* no enhanced code */
	{ 550, 2, 0, 0, -1, NULL },
	/* 10-13: a subject or detail libmilter's syntax check refuses */
	{ 550, 5, 1000, 1, -1, NULL },
	{ 550, 5, 7, 1000, -1, NULL },
	{ 550, 5, -1, 1, -1, NULL },
	{ 550, 5, 7, -2147483647 - 1, -1, NULL },
	/* 14-17: the edges that are fine */
	{ 400, 4, 0, 0, 0, "4.0.0" },
	{ 599, 5, 999, 999, 0, "5.999.999" },
	{ 421, 4, 4, 2, 0, "4.4.2" },
	{ 554, 5, 7, 30, 0, "5.7.30" },
};
/* clang-format on */

START_TEST(test_pairs)
{
	const struct pair_case *c = &pair_cases[_i];
	struct reply_code rc = pair(c->basic, c->cls, c->subj, c->det);
	const char *text = "text";
	int ret = render(&rc, &text, 1, 0);

	ck_assert_msg(ret == c->ret, "case %d: got %d (%s), want %d", _i, ret,
		      err, c->ret);
	if (ret != 0) {
		ck_assert_msg(err[0] != '\0',
			      "case %d: got an empty error, want a reason", _i);
	} else {
		char basic[16];
		snprintf(basic, sizeof(basic), "%d", c->basic);
		check_shape(&R, _i, basic, c->want_enh);
		ck_assert_msg(strcmp(R.line[0], "text") == 0,
			      "case %d: got \"%s\", want \"text\"", _i,
			      R.line[0]);
	}
}
END_TEST

/* --- reply_sanitize_value ------------------------------------------- */

#define GUARD 16

static char san_in[10240];
static char san_out[12000];

/* clang-format off */
static const struct san_case {
	const char *in; /* NULL: the 10 KB value built below */
	size_t inlen, outlen, maxlen;
	const char *want; /* NULL: check the 10 KB result by its shape */
	size_t wantlen;
} san_cases[] = {
	{ "abc", 3, 64, 10, "abc", 3 },
	{ "abc", 3, 64, 3, "abc", 3 },
	{ "abcdef", 6, 64, 3, "abc...", 6 },
	{ "", 0, 64, 10, "", 0 },
	{ "a\0b\r\nc\td", 8, 64, 10, "a?b  c d", 8 },
	{ "caf\xc3\xa9\x7f\x1b", 7, 64, 10, "caf????", 7 },
	{ "100%", 4, 64, 10, "100%", 4 }, /* '%' is for the renderer */
	/* 7: the length given wins over the NUL */
	{ "ab\0cd", 2, 64, 10, "ab", 2 },
	/* 8-11: out smaller than maxlen: the buffer wins */
	{ "abcdefghij", 10, 8, 100, "abcd...", 7 },
	{ "abcd", 4, 8, 100, "abcd", 4 },
	{ "abcdef", 6, 4, 100, "...", 3 },
	{ "abcdef", 6, 1, 100, "", 0 },
	/* 12: "no limit" must not mean past the buffer */
	{ "abcdefghijklmnopqrst", 20, 8, SIZE_MAX, "abcd...", 7 },
	/* 13-14: 10 KB with CR, LF, NUL and high bytes inside */
	{ NULL, sizeof(san_in), 204, 200, NULL, 203 },
	{ NULL, sizeof(san_in), sizeof(san_out) - GUARD, 20000, NULL,
	  sizeof(san_in) },
};
/* clang-format on */

START_TEST(test_sanitize)
{
	const struct san_case *c = &san_cases[_i];
	const char *in = c->in;
	size_t n;

	if (in == NULL) {
		for (size_t k = 0; k < sizeof(san_in); k++)
			san_in[k] = "ab\r\n\0\x80 %"[k % 8];
		in = san_in;
	}
	memset(san_out, 'Z', sizeof(san_out));
	n = reply_sanitize_value(in, c->inlen, san_out, c->outlen, c->maxlen);
	ck_assert_msg(n == c->wantlen, "case %d: got length %zu, want %zu", _i,
		      n, c->wantlen);
	for (size_t k = c->outlen; k < c->outlen + GUARD; k++)
		ck_assert_msg(san_out[k] == 'Z',
			      "case %d: got a write at %zu, want none past "
			      "outlen %zu",
			      _i, k, c->outlen);
	if (c->outlen == 0)
		return;
	ck_assert_msg(san_out[n] == '\0' && strlen(san_out) == n,
		      "case %d: got strlen %zu, want %zu", _i, strlen(san_out),
		      n);
	if (c->want != NULL) {
		ck_assert_msg(strcmp(san_out, c->want) == 0,
			      "case %d: got \"%s\", want \"%s\"", _i, san_out,
			      c->want);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		unsigned char b = (unsigned char)san_out[k];
		ck_assert_msg(b >= 0x20 && b < 0x7f,
			      "case %d: got byte 0x%02x at %zu, want printable",
			      _i, b, k);
	}
	ck_assert_msg(memcmp(san_out, "ab  ?? %", 8) == 0,
		      "case %d: got \"%.8s\", want \"ab  ?? %%\"", _i, san_out);
	if (c->inlen > c->maxlen)
		ck_assert_msg(strcmp(san_out + n - 3, "...") == 0,
			      "case %d: got end \"%s\", want \"...\"", _i,
			      san_out + n - 3);
}
END_TEST

/* --- reply_text_check ----------------------------------------------- */

static char printable[0x7f - 0x20 + 1];

/* clang-format off */
static const struct tc_case {
	const char *text; /* NULL: every printable ASCII byte */
	int ret;
	const char *want1, *want2; /* in the error */
} tc_cases[] = {
	{ "Relaying denied", 0, NULL, NULL },
	{ NULL, 0, NULL, NULL },
	{ "", 0, NULL, NULL },
	{ "100% sure, $sender", 0, NULL, NULL },
	{ "\x01", -1, "0x01", "position 1" },
	{ "ab\x01", -1, "0x01", "position 3" },
	{ "caf\xc3\xa9", -1, "0xc3", "position 4" },
	{ "\r\n", -1, "0x0d", "position 1" },
	{ "line\n", -1, "0x0a", "position 5" },
	{ "tab\there", -1, "0x09", "position 4" },
	{ "del\x7f", -1, "0x7f", "position 4" },
	{ "\x1b[1m", -1, "0x1b", "position 1" },
};
/* clang-format on */

START_TEST(test_text_check)
{
	const struct tc_case *c = &tc_cases[_i];
	const char *text = c->text;
	int ret;

	if (text == NULL) {
		for (int b = 0x20; b < 0x7f; b++)
			printable[b - 0x20] = (char)b;
		printable[sizeof(printable) - 1] = '\0';
		text = printable;
	}
	err[0] = '\0';
	ret = reply_text_check(text, err, sizeof(err));
	ck_assert_msg(ret == c->ret, "case %d: got %d (%s), want %d", _i, ret,
		      err, c->ret);
	if (c->want1 != NULL)
		ck_assert_msg(strstr(err, c->want1) != NULL &&
				  strstr(err, c->want2) != NULL,
			      "case %d: got error \"%s\", want it to name "
			      "\"%s\" and \"%s\"",
			      _i, err, c->want1, c->want2);
}
END_TEST

/* --- reply_format_wire ---------------------------------------------- */

/* clang-format off */
static const struct fw_case {
	int basic, cls, subj, det;
	size_t nin;
	const char *in[3];
	size_t buflen;
	const char *want; /* what buf holds */
	int ret;	  /* the full length */
} fw_cases[] = {
	{ 550, 5, 7, 1, 2, { "a", "b" }, 256, "550-5.7.1 a | 550 5.7.1 b",
	  25 },
	{ 550, 5, 7, 1, 1, { "100%" }, 256, "550 5.7.1 100%", 14 },
	{ 550, 5, 7, 1, 1, { "x%%y" }, 256, "550 5.7.1 x%%y", 14 },
	{ 550, 5, 7, 1, 1, { "%s%n" }, 256, "550 5.7.1 %s%n", 14 },
	{ 451, 4, 7, 1, 3, { "a", "b%", "c" }, 256,
	  "451-4.7.1 a | 451-4.7.1 b% | 451 4.7.1 c", 40 },
	{ 550, 5, 7, 1, 1, { "a\r\nb" }, 256, "550 5.7.1 a  b", 14 },
	/* 6-9: a short buffer: cut, NUL-terminated, full length returned */
	{ 550, 5, 7, 1, 2, { "a", "b" }, 10, "550-5.7.1", 25 },
	{ 550, 5, 7, 1, 2, { "a", "b" }, 25, "550-5.7.1 a | 550 5.7.1 ", 25 },
	{ 550, 5, 7, 1, 2, { "a", "b" }, 26, "550-5.7.1 a | 550 5.7.1 b",
	  25 },
	{ 550, 5, 7, 1, 2, { "a", "b" }, 1, "", 25 },
	/* 10: a cut inside the text never leaves half of a "%%" */
	{ 550, 5, 7, 1, 1, { "1%%" }, 13, "550 5.7.1 1%", 13 },
	/* 11: buflen 0 writes nothing */
	{ 550, 5, 7, 1, 1, { "a" }, 0, NULL, 11 },
};
/* clang-format on */

START_TEST(test_format_wire)
{
	const struct fw_case *c = &fw_cases[_i];
	struct reply_code rc = pair(c->basic, c->cls, c->subj, c->det);
	char buf[300];
	int ret = render(&rc, c->in, c->nin, 0);

	ck_assert_msg(ret == 0, "case %d: got %d (%s), want 0", _i, ret, err);
	memset(buf, 'Z', sizeof(buf));
	ret = reply_format_wire(&R, buf, c->buflen);
	ck_assert_msg(ret == c->ret, "case %d: got %d, want %d", _i, ret,
		      c->ret);
	if (c->want != NULL)
		ck_assert_msg(strcmp(buf, c->want) == 0,
			      "case %d: got \"%s\", want \"%s\"", _i, buf,
			      c->want);
	for (size_t k = c->buflen; k < sizeof(buf); k++)
		ck_assert_msg(buf[k] == 'Z',
			      "case %d: got a write at %zu, want none past "
			      "buflen %zu",
			      _i, k, c->buflen);
}
END_TEST

#define NCASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* --- counting lines: exact, bounded, and Sendmail's prefix ------------ */

/* A small deterministic generator, so a failure can be replayed. */
static uint32_t lcg(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/*
 * Random text of every shape the wrapper meets (long words, runs of
 * blanks, '%' that doubles, control bytes that become blanks), at random
 * reserves: reply_wire_lines() counts what reply_render() makes, and
 * reply_lines_bound() is never below it.
 */
START_TEST(test_lines_counted_and_bounded)
{
	static const char alphabet[] = "aaaaaaaaaaaaaaaaaaa   %%\t\x01";
	static const struct reply_code codes[] = {
	    {550, 5, 7, 1}, {451, 4, 3, 0}, {552, 5, 3, 4}, {550, 5, 7, 606}};
	uint32_t state = 20261202u + (uint32_t)_i;
	static char text[2100];
	static struct reply r;
	char why[256];

	for (int round = 0; round < 400; round++) {
		const struct reply_code *rc = &codes[lcg(&state) % 4];
		size_t len = lcg(&state) % 2048, word = 1 + lcg(&state) % 600;
		size_t reserve = lcg(&state) % 3 == 0 ? 0 : lcg(&state) % 420;
		const char *one[1] = {text};
		size_t want, got, bound;
		for (size_t i = 0; i < len; i++) {
			/* words of up to `word` octets between blanks */
			text[i] = lcg(&state) % word == 0
				      ? ' '
				      : alphabet[lcg(&state) %
						 (sizeof(alphabet) - 1)];
		}
		text[len] = '\0';
		ck_assert_msg(reply_render(rc, one, 1, reserve, &r, why,
					   sizeof(why)) == 0,
			      "render: %s", why);
		want =
		    r.truncated ? REPLY_MAX_LINES - 1 + r.cut_lines : r.nlines;
		got = reply_wire_lines(rc, text, reserve);
		bound = reply_lines_bound(rc, len, reserve);
		ck_assert_msg(got == want,
			      "seed %d round %d: %zu octets, reserve %zu: "
			      "reply_wire_lines %zu, reply_render %zu",
			      _i, round, len, reserve, got, want);
		ck_assert_msg(
		    bound >= got,
		    "seed %d round %d: %zu octets, reserve %zu: bound "
		    "%zu below the %zu lines it takes",
		    _i, round, len, reserve, bound, got);
	}
}
END_TEST

/* The worst case for the bound: a blank right after each cut point. */
START_TEST(test_bound_worst)
{
	static const struct reply_code rc = {550, 5, 7, 1};
	static char text[2100];
	size_t room = 500;

	for (size_t len = 1; len < sizeof(text) - 1; len += 7) {
		for (size_t i = 0; i < len; i++)
			text[i] = i % room == 1 ? ' ' : 'w';
		text[len] = '\0';
		ck_assert_msg(reply_lines_bound(&rc, len, 0) >=
				  reply_wire_lines(&rc, text, 0),
			      "%zu octets: bound %zu, takes %zu", len,
			      reply_lines_bound(&rc, len, 0),
			      reply_wire_lines(&rc, text, 0));
	}
}
END_TEST

static const struct prefix_case {
	int basic;
	enum smtp_cmd cmd;
	size_t addrlen, want;
} prefix_cases[] = {
    /* err.c: only 450, 550 and 553 get "<address>... " */
    {550, CMD_RCPT, 15, 15 + 4},
    {450, CMD_RCPT, 15, 19},
    {553, CMD_MAIL, 2, 6}, /* "<>... " */
    {451, CMD_RCPT, 15, 0},
    {452, CMD_RCPT, 15, 0},
    {552, CMD_MAIL, 15, 0},
    {554, CMD_RCPT, 15, 0},
    {421, CMD_MAIL, 15, 0},
    /* e_to is cleared before every other command */
    {550, CMD_DATA_END, 15, 0},
    {550, CMD_HELO, 15, 0},
    {550, CMD_DATA, 15, 0},
    /* shortenstring(to, MAXSHORTSTR): at most 203 octets, then "... " */
    {550, CMD_RCPT, 202, 206},
    {550, CMD_RCPT, 203, 207},
    {550, CMD_RCPT, 300, 207},
    {550, CMD_RCPT, (size_t)-1, REPLY_SENDMAIL_PREFIX_MAX},
};

START_TEST(test_prefix_room)
{
	const struct prefix_case *c = &prefix_cases[_i];
	size_t got = reply_prefix_room(c->basic, c->cmd, c->addrlen);

	ck_assert_msg(got == c->want,
		      "case %d: %d at %s, address of %zu: got %zu, want %zu",
		      _i, c->basic, smtp_cmd_name(c->cmd), c->addrlen, got,
		      c->want);
}
END_TEST

static Suite *reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_wrap, 0, NCASES(wrap_cases));
	tcase_add_loop_test(tc, test_multi, 0, NCASES(multi_cases));
	tcase_add_loop_test(tc, test_percent, 0, NCASES(pct_cases));
	tcase_add_loop_test(tc, test_control, 0, NCASES(ctl_cases));
	tcase_add_loop_test(tc, test_truncate, 0, NCASES(trunc_cases));
	tcase_add_loop_test(tc, test_pairs, 0, NCASES(pair_cases));
	tcase_add_loop_test(tc, test_sanitize, 0, NCASES(san_cases));
	tcase_add_loop_test(tc, test_text_check, 0, NCASES(tc_cases));
	tcase_add_loop_test(tc, test_format_wire, 0, NCASES(fw_cases));
	tcase_add_loop_test(tc, test_lines_counted_and_bounded, 0, 8);
	tcase_add_test(tc, test_bound_worst);
	tcase_add_loop_test(tc, test_prefix_room, 0, NCASES(prefix_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
