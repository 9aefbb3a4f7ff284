/*
 * check_codes.c - unit tests of the reply code registry (milter/core/codes.c):
 * the tables row by row against IANA's CSV, the basic codes against
 * RFC 5321 4.3.2, reply spec parsing and defaults, and every pairing check.
 *
 * Reads tests/data/iana-enhanced-status-codes.csv from the current directory;
 * the directory can be given as argv[1] or in RCM_TESTDATA. Needs nothing but
 * codes.c, stage.c and Check.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codes.h"

/* ---- the IANA CSV ------------------------------------------------------- */

#define CSV_NAME      "iana-enhanced-status-codes.csv"
#define CSV_MAX_BYTES (1u << 20)
#define CSV_MAX_ROWS  256
#define CSV_FIELDS    7
#define IANA_ROWS     79 /* X.0.0 .. X.7.28 */

enum { F_CODE, F_SAMPLE, F_ASSOC, F_DESC, F_REF };

struct csv_row {
	char *f[CSV_FIELDS];
};

static struct csv_row csv_header;
static struct csv_row csv_rows[CSV_MAX_ROWS];
static int csv_nrows = -1; /* data rows; -1 until loaded */
static char csv_path[512];
static char csv_error[512] = "not loaded";

static void row_free(struct csv_row *row)
{
	for (int i = 0; i < CSV_FIELDS; i++) {
		free(row->f[i]);
		row->f[i] = NULL;
	}
}

static void csv_free(void)
{
	row_free(&csv_header);
	for (int r = 0; r < CSV_MAX_ROWS; r++)
		row_free(&csv_rows[r]);
}

struct csv_in {
	const char *buf;
	size_t n, i;
	int line;
};

__attribute__((format(printf, 2, 3))) static int csv_fail(struct csv_in *in,
							  const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(csv_error, sizeof(csv_error), "line %d: ", in->line);

	va_start(ap, fmt);
	vsnprintf(csv_error + k, sizeof(csv_error) - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/* One field, RFC 4180: a quoted field may hold commas, "" and line breaks.
 * *out is malloc'ed. */
static int csv_field(struct csv_in *in, char **out)
{
	const char *b = in->buf;
	size_t start = in->i, len = 0;
	char *fld = malloc(in->n - start + 1), *q;

	if (fld == NULL)
		return csv_fail(in, "out of memory");
	if (in->i < in->n && b[in->i] == '"') {
		for (in->i++;; in->i++) {
			if (in->i >= in->n) {
				free(fld);
				return csv_fail(in, "unterminated quoted "
						    "field");
			}
			if (b[in->i] == '"' && in->i + 1 < in->n &&
			    b[in->i + 1] == '"')
				in->i++;
			else if (b[in->i] == '"')
				break;
			else if (b[in->i] == '\n')
				in->line++;
			fld[len++] = b[in->i];
		}
		in->i++;
	} else {
		for (; in->i < in->n && !strchr(",\r\n", b[in->i]); in->i++) {
			if (b[in->i] == '"') {
				free(fld);
				return csv_fail(in, "quote in an unquoted "
						    "field");
			}
			fld[len++] = b[in->i];
		}
	}
	fld[len] = '\0';
	q = realloc(fld, len + 1);
	*out = q != NULL ? q : fld;
	return 0;
}

/* One record into row; fields are freed by the caller, even on error. */
static int csv_record(struct csv_in *in, struct csv_row *row)
{
	int nf = 0;

	for (;;) {
		if (nf == CSV_FIELDS)
			return csv_fail(in, "more than %d fields", CSV_FIELDS);
		if (csv_field(in, &row->f[nf]) != 0)
			return -1;
		nf++;
		if (in->i < in->n && in->buf[in->i] == ',') {
			in->i++;
			continue;
		}
		if (in->i < in->n && in->buf[in->i] == '\r')
			in->i++;
		if (in->i < in->n && in->buf[in->i] == '\n') {
			in->i++;
			in->line++;
			break;
		}
		if (in->i >= in->n)
			break;
		return csv_fail(in, "text after a quoted field");
	}
	if (nf != CSV_FIELDS)
		return csv_fail(in, "%d fields, want %d", nf, CSV_FIELDS);
	return 0;
}

static int csv_parse(const char *buf, size_t n)
{
	struct csv_in in = {buf, n, 0, 1};

	if (n == 0 || csv_record(&in, &csv_header) != 0)
		return n == 0 ? csv_fail(&in, "empty file") : -1;
	csv_nrows = 0;
	while (in.i < n) {
		if (csv_nrows == CSV_MAX_ROWS)
			return csv_fail(&in, "more than %d rows", CSV_MAX_ROWS);
		if (csv_record(&in, &csv_rows[csv_nrows++]) != 0)
			return -1;
	}
	return 0;
}

static void csv_load(const char *dir)
{
	FILE *fp;
	char *buf;
	size_t n;

	snprintf(csv_path, sizeof(csv_path), "%s/%s", dir, CSV_NAME);
	fp = fopen(csv_path, "rb");
	if (fp == NULL) {
		snprintf(csv_error, sizeof(csv_error), "cannot open it: %s",
			 strerror(errno));
		return;
	}
	buf = malloc(CSV_MAX_BYTES);
	if (buf == NULL) {
		fclose(fp);
		snprintf(csv_error, sizeof(csv_error), "out of memory");
		return;
	}
	n = fread(buf, 1, CSV_MAX_BYTES, fp);
	if (n == CSV_MAX_BYTES)
		snprintf(csv_error, sizeof(csv_error), "more than %u bytes",
			 CSV_MAX_BYTES);
	else if (csv_parse(buf, n) == 0)
		csv_error[0] = '\0';
	else
		csv_nrows = -1;
	free(buf);
	fclose(fp);
}

/* IANA wraps long fields: a line break and the blanks around it -> one space.
 * Returns whether anything was folded. */
static int fold(const char *in, char *out, size_t outlen)
{
	size_t j = 0;
	int folded = 0;

	for (size_t i = 0; in[i] != '\0' && j + 1 < outlen; i++) {
		if (in[i] == '\n' || in[i] == '\r') {
			while (j > 0 &&
			       (out[j - 1] == ' ' || out[j - 1] == '\t'))
				j--;
			while (in[i + 1] == ' ' || in[i + 1] == '\t' ||
			       in[i + 1] == '\n' || in[i + 1] == '\r')
				i++;
			out[j++] = ' ';
			folded = 1;
			continue;
		}
		out[j++] = in[i];
	}
	out[j] = '\0';
	return folded;
}

/* "[RFC7505] (Standards Track); [RFC7504] (...)" -> "RFC 7505, RFC 7504" */
static void norm_reference(const char *in, char *out, size_t outlen)
{
	size_t j = 0;

	out[0] = '\0';
	for (const char *p = strchr(in, '['); p != NULL;
	     p = strchr(p + 1, '[')) {
		const char *end = strchr(p, ']');
		int len;
		if (end == NULL)
			break;
		len = (int)(end - p - 1);
		if (strncmp(p + 1, "RFC", 3) == 0)
			j += (size_t)snprintf(out + j, outlen - j, "%sRFC %.*s",
					      j ? ", " : "", len - 3, p + 4);
		else
			j += (size_t)snprintf(out + j, outlen - j, "%s%.*s",
					      j ? ", " : "", len, p + 1);
		if (j >= outlen)
			break;
	}
}

/* "X.7.12" -> 7, 12 */
static int parse_x_code(const char *s, int *subject, int *detail)
{
	char tail;

	return sscanf(s, "X.%d.%d%c", subject, detail, &tail) == 2 ? 0 : -1;
}

/* Every 3-digit number in s, in order; returns how many. */
static int numbers(const char *s, int *out, int max)
{
	int n = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
		    p[2] >= '0' && p[2] <= '9' &&
		    !(p[3] >= '0' && p[3] <= '9') &&
		    (p == s || !(p[-1] >= '0' && p[-1] <= '9'))) {
			if (n < max)
				out[n] = atoi(p);
			n++;
			p += 2;
		}
	}
	return n;
}

static const struct csv_row *csv_find(int subject, int detail)
{
	for (int r = 0; r < csv_nrows; r++) {
		int s, d;
		if (parse_x_code(csv_rows[r].f[F_CODE], &s, &d) == 0 &&
		    s == subject && d == detail)
			return &csv_rows[r];
	}
	return NULL;
}

static int is_fixup(int s, int d)
{
	return (s == 6 && d == 10) || (s == 7 && d == 28);
}

START_TEST(test_csv_loaded)
{
	static const char *const want[CSV_FIELDS] = {
	    "Code",
	    "Sample Text",
	    "Associated basic status code",
	    "Description",
	    "Reference",
	    "Submitter",
	    "Change Controller",
	};

	ck_assert_msg(csv_nrows >= 0, "%s: got error \"%s\", want it loaded",
		      csv_path, csv_error);
	ck_assert_msg(csv_nrows == IANA_ROWS, "%s: got %d rows, want %d",
		      csv_path, csv_nrows, IANA_ROWS);
	for (int i = 0; i < CSV_FIELDS; i++)
		ck_assert_msg(strcmp(csv_header.f[i], want[i]) == 0,
			      "header column %d: got \"%s\", want \"%s\"", i,
			      csv_header.f[i], want[i]);
}
END_TEST

/* Our reading of IANA's "Associated basic status code" column. */
static void expected_assoc(const char *text, int *assoc, int *class_only)
{
	memset(assoc, 0, sizeof(int) * CODES_MAX_ASSOC);
	*class_only = 0;
	if (strcmp(text, "Any") == 0 || strcmp(text, "Not given") == 0 ||
	    text[0] == '\0' ||
	    strstr(text, "(other 4XX or 5XX codes are allowed)") != NULL)
		return;
	if (strcmp(text, "5XX") == 0) {
		*class_only = 5;
		return;
	}
	numbers(text, assoc, CODES_MAX_ASSOC - 1);
}

/* RFC 3463's permanence, from the description IANA copied. */
static enum permanence expected_perm(const char *desc)
{
	if (strstr(desc, "only useful for permanent") != NULL ||
	    strstr(desc, "useful only as a permanent") != NULL ||
	    strstr(desc, "should be used as a permanent") != NULL)
		return PERM_PERMANENT_ONLY;
	if (strstr(desc, "useful only as a persistent transient") != NULL ||
	    strstr(desc, "should be used as a persistent transient") != NULL)
		return PERM_TRANSIENT_ONLY;
	return PERM_EITHER;
}

START_TEST(test_csv_row)
{
	const struct csv_row *row = &csv_rows[_i];
	const struct enhanced_info *e;
	char sample[512], assoc[512], desc[2048], ref[256];
	int s, d, want_assoc[CODES_MAX_ASSOC], want_class_only;

	ck_assert_msg(parse_x_code(row->f[F_CODE], &s, &d) == 0,
		      "row %d: got code \"%s\", want X.n.n", _i,
		      row->f[F_CODE]);
	e = codes_enhanced(s, d);
	ck_assert_msg(e != NULL, "%s: got no table row, want one",
		      row->f[F_CODE]);
	fold(row->f[F_SAMPLE], sample, sizeof(sample));
	fold(row->f[F_ASSOC], assoc, sizeof(assoc));
	fold(row->f[F_DESC], desc, sizeof(desc));
	norm_reference(row->f[F_REF], ref, sizeof(ref));

	if (!is_fixup(s, d)) {
		ck_assert_msg(strcmp(e->sample, sample) == 0,
			      "%s sample: got \"%s\", want \"%s\"",
			      row->f[F_CODE], e->sample, sample);
		ck_assert_msg(strcmp(e->assoc_text, assoc) == 0,
			      "%s assoc_text: got \"%s\", want \"%s\"",
			      row->f[F_CODE], e->assoc_text, assoc);
	}
	ck_assert_msg(strcmp(e->reference, ref) == 0,
		      "%s reference: got \"%s\", want \"%s\"", row->f[F_CODE],
		      e->reference, ref);
	ck_assert_msg(e->perm == expected_perm(desc),
		      "%s permanence: got %d, want %d (from \"%s\")",
		      row->f[F_CODE], (int)e->perm, (int)expected_perm(desc),
		      desc);

	expected_assoc(is_fixup(s, d) ? "Not given" : assoc, want_assoc,
		       &want_class_only);
	ck_assert_msg(e->assoc_class_only == want_class_only,
		      "%s assoc_class_only: got %d, want %d", row->f[F_CODE],
		      e->assoc_class_only, want_class_only);
	for (int k = 0; k < CODES_MAX_ASSOC; k++)
		ck_assert_msg(e->assoc[k] == want_assoc[k],
			      "%s assoc[%d]: got %d, want %d (from \"%s\")",
			      row->f[F_CODE], k, e->assoc[k], want_assoc[k],
			      assoc);
}
END_TEST

/* The documented departures from IANA's text, one by one. */
START_TEST(test_csv_fixups)
{
	const struct csv_row *r610 = csv_find(6, 10), *r608 = csv_find(6, 8);
	const struct csv_row *r728 = csv_find(7, 28);
	const struct enhanced_info *e610 = codes_enhanced(6, 10);
	const struct enhanced_info *e608 = codes_enhanced(6, 8);
	const struct enhanced_info *e728 = codes_enhanced(7, 28);

	ck_assert_msg(r610 && r608 && r728, "got rows %p %p %p, want all",
		      (void *)r610, (void *)r608, (void *)r728);
	ck_assert_msg(e610 && e608 && e728, "got table rows %p %p %p, want all",
		      (void *)e610, (void *)e608, (void *)e728);
	/* X.6.10: IANA has no text; ours is X.6.8's, its association stays
	 * IANA's empty field. */
	ck_assert_msg(r610->f[F_SAMPLE][0] == '\0' &&
			  r610->f[F_ASSOC][0] == '\0',
		      "CSV X.6.10: got \"%s\" / \"%s\", want both empty",
		      r610->f[F_SAMPLE], r610->f[F_ASSOC]);
	ck_assert_msg(strstr(r610->f[F_DESC], "duplicate of X.6.8") != NULL,
		      "CSV X.6.10 description: got \"%s\", want a duplicate "
		      "of X.6.8",
		      r610->f[F_DESC]);
	ck_assert_msg(strcmp(e610->sample, e608->sample) == 0,
		      "X.6.10 sample: got \"%s\", want X.6.8's \"%s\"",
		      e610->sample, e608->sample);
	ck_assert_msg(strcmp(e610->assoc_text, "") == 0 && e610->assoc[0] == 0,
		      "X.6.10 assoc: got \"%s\"/%d, want \"\"/0",
		      e610->assoc_text, e610->assoc[0]);
	/* X.7.28: the basic-code column holds the description. */
	ck_assert_msg(strncmp(r728->f[F_ASSOC], "The message appears", 19) == 0,
		      "CSV X.7.28 assoc: got \"%s\", want the misplaced "
		      "description",
		      r728->f[F_ASSOC]);
	ck_assert_msg(strcmp(e728->sample, "Mail flood detected") == 0 &&
			  strcmp(e728->sample, r728->f[F_SAMPLE]) == 0,
		      "X.7.28 sample: got \"%s\", want \"Mail flood detected\"",
		      e728->sample);
	ck_assert_msg(strcmp(e728->assoc_text, "Not given") == 0 &&
			  e728->assoc[0] == 0 && e728->assoc_class_only == 0,
		      "X.7.28 assoc: got \"%s\"/%d/%d, want \"Not given\"/0/0",
		      e728->assoc_text, e728->assoc[0], e728->assoc_class_only);
}
END_TEST

/* Exactly two fields are wrapped over lines in IANA's CSV. */
START_TEST(test_csv_folds)
{
	char buf[512], got[256] = "";
	size_t n = 0;

	for (int r = 0; r < csv_nrows; r++) {
		if (fold(csv_rows[r].f[F_SAMPLE], buf, sizeof(buf)))
			n += (size_t)snprintf(got + n, sizeof(got) - n,
					      "%s sample;",
					      csv_rows[r].f[F_CODE]);
		if (n < sizeof(got) &&
		    fold(csv_rows[r].f[F_ASSOC], buf, sizeof(buf)))
			n += (size_t)snprintf(got + n, sizeof(got) - n,
					      "%s assoc;",
					      csv_rows[r].f[F_CODE]);
		if (n >= sizeof(got))
			break;
	}
	ck_assert_msg(strcmp(got, "X.5.0 assoc;X.6.8 sample;") == 0,
		      "folded fields: got \"%s\", want \"X.5.0 assoc;X.6.8 "
		      "sample;\"",
		      got);
}
END_TEST

/* The table is the CSV plus X.7.29 and X.7.30, nothing else. */
START_TEST(test_table_is_csv)
{
	size_t n = codes_enhanced_count();

	ck_assert_msg(n == (size_t)csv_nrows + 2,
		      "table rows: got %zu, want %d (CSV) + 2", n, csv_nrows);
	for (size_t i = 0; i < n; i++) {
		const struct enhanced_info *e = codes_enhanced_at(i);
		int late =
		    e->subject == 7 && (e->detail == 29 || e->detail == 30);
		ck_assert_msg(late || csv_find(e->subject, e->detail) != NULL,
			      "table row X.%d.%d: got no CSV row, want one",
			      e->subject, e->detail);
	}
}
END_TEST

START_TEST(test_late_codes)
{
	static const struct {
		int detail;
		const char *sample, *ref;
	} want[] = {
	    {29, "ARC validation failure", "RFC 8617"},
	    {30, "REQUIRETLS support required", "RFC 8689"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct enhanced_info *e =
		    codes_enhanced(7, want[i].detail);
		ck_assert_msg(e != NULL, "X.7.%d: got none, want a row",
			      want[i].detail);
		ck_assert_msg(strcmp(e->sample, want[i].sample) == 0 &&
				  strcmp(e->reference, want[i].ref) == 0,
			      "X.7.%d: got \"%s\" (%s), want \"%s\" (%s)",
			      want[i].detail, e->sample, e->reference,
			      want[i].sample, want[i].ref);
		ck_assert_msg(strcmp(e->assoc_text, "Not given") == 0 &&
				  e->assoc[0] == 0 &&
				  e->assoc_class_only == 0 &&
				  e->perm == PERM_EITHER,
			      "X.7.%d: got assoc \"%s\"/%d/%d perm %d, want "
			      "\"Not given\", any, either",
			      want[i].detail, e->assoc_text, e->assoc[0],
			      e->assoc_class_only, (int)e->perm);
	}
}
END_TEST

/* Every basic code IANA names is in the basic table. */
START_TEST(test_csv_basic_codes_known)
{
	for (int r = 0; r < csv_nrows; r++) {
		int nums[32], n = numbers(csv_rows[r].f[F_ASSOC], nums, 32);
		for (int k = 0; k < n && k < 32; k++)
			ck_assert_msg(codes_basic(nums[k]) != NULL,
				      "%s names %d: got no basic row, want one",
				      csv_rows[r].f[F_CODE], nums[k]);
	}
}
END_TEST

/* ---- basic codes against RFC 5321 4.3.2 ---------------------------------- */

/* The replies RFC 5321 4.3.2 lists per command (RFC 7504 adds 521 to the
 * greeting and 556 to RCPT), transcribed separately from codes.c. */
static const int rfc_replies[CMD_COUNT][16] = {
    [CMD_CONNECT] = {220, 554, 521, 421},
    [CMD_HELO] = {250, 504, 550, 502, 500, 501, 421},
    [CMD_MAIL] = {250, 552, 451, 452, 550, 553, 503, 455, 555, 500, 501, 421},
    [CMD_RCPT] = {250, 251, 550, 551, 552, 553, 450, 451, 452, 503, 455, 555,
		  556, 500, 501, 421},
    [CMD_DATA] = {354, 503, 554, 500, 501, 421},
    [CMD_DATA_END] = {250, 552, 554, 451, 452, 450, 550, 500, 501, 421},
};

static const struct {
	int code;
	const char *ref;
} rfc_codes[] = {
    {211, "RFC 5321"}, {214, "RFC 5321"}, {220, "RFC 5321"}, {221, "RFC 5321"},
    {250, "RFC 5321"}, {251, "RFC 5321"}, {252, "RFC 5321"}, {354, "RFC 5321"},
    {421, "RFC 5321"}, {450, "RFC 5321"}, {451, "RFC 5321"}, {452, "RFC 5321"},
    {455, "RFC 5321"}, {500, "RFC 5321"}, {501, "RFC 5321"}, {502, "RFC 5321"},
    {503, "RFC 5321"}, {504, "RFC 5321"}, {550, "RFC 5321"}, {551, "RFC 5321"},
    {552, "RFC 5321"}, {553, "RFC 5321"}, {554, "RFC 5321"}, {555, "RFC 5321"},
    {521, "RFC 7504"}, {556, "RFC 7504"}, {432, "RFC 4954"}, {454, "RFC 4954"},
    {500, "RFC 4954"}, {530, "RFC 4954"}, {534, "RFC 4954"}, {535, "RFC 4954"},
    {538, "RFC 4954"}, {235, "RFC 4954"},
};

START_TEST(test_rfc_code)
{
	const struct basic_info *b = codes_basic(rfc_codes[_i].code);

	ck_assert_msg(b != NULL, "%d: got no row, want one",
		      rfc_codes[_i].code);
	ck_assert_msg(strstr(b->reference, rfc_codes[_i].ref) != NULL,
		      "%d reference: got \"%s\", want it to name %s", b->code,
		      b->reference, rfc_codes[_i].ref);
}
END_TEST

START_TEST(test_basic_commands)
{
	const struct basic_info *b = codes_basic_at((size_t)_i);
	unsigned want = 0;

	for (int c = 0; c < CMD_COUNT; c++)
		for (int k = 0; k < 16 && rfc_replies[c][k] != 0; k++)
			if (rfc_replies[c][k] == b->code)
				want |= CMDBIT(c);
	ck_assert_msg(b->commands == want, "%d commands: got %#x, want %#x",
		      b->code, b->commands, want);
}
END_TEST

START_TEST(test_basic_rows)
{
	size_t n = codes_basic_count();

	for (size_t i = 0; i < n; i++) {
		const struct basic_info *b = codes_basic_at(i);
		ck_assert_msg(b->code >= 200 && b->code <= 599,
			      "row %zu: got code %d, want 200..599", i,
			      b->code);
		if (i > 0)
			ck_assert_msg(codes_basic_at(i - 1)->code < b->code,
				      "row %zu: got %d after %d, want sorted "
				      "without duplicates",
				      i, b->code, codes_basic_at(i - 1)->code);
		ck_assert_msg(codes_basic(b->code) == b,
			      "codes_basic(%d): got another row, want row %zu",
			      b->code, i);
		ck_assert_msg(
		    b->meaning && b->meaning[0] && b->reference &&
			b->reference[0],
		    "%d: got an empty meaning or reference, want text",
		    b->code);
		ck_assert_msg((b->commands & ~CMDBIT_ANY) == 0,
			      "%d: got commands %#x, want within %#x", b->code,
			      b->commands, CMDBIT_ANY);
		if (b->code / 100 == 3)
			ck_assert_msg(b->default_enhanced == NULL,
				      "%d: got default \"%s\", want none",
				      b->code, b->default_enhanced);
		else
			ck_assert_msg(b->default_enhanced != NULL,
				      "%d: got no default enhanced code, want "
				      "one",
				      b->code);
	}
	ck_assert_msg(codes_basic_at(n) == NULL,
		      "codes_basic_at(%zu): got a row, want NULL", n);
	ck_assert_msg(codes_basic(599) == NULL && codes_basic(0) == NULL,
		      "codes_basic(599/0): got a row, want NULL");
}
END_TEST

START_TEST(test_enhanced_rows)
{
	size_t n = codes_enhanced_count();

	for (size_t i = 0; i < n; i++) {
		const struct enhanced_info *e = codes_enhanced_at(i);
		int k;
		if (i > 0) {
			const struct enhanced_info *p =
			    codes_enhanced_at(i - 1);
			ck_assert_msg(
			    p->subject < e->subject ||
				(p->subject == e->subject &&
				 p->detail < e->detail),
			    "row %zu: got X.%d.%d after X.%d.%d, want "
			    "sorted without duplicates",
			    i, e->subject, e->detail, p->subject, p->detail);
		}
		ck_assert_msg(codes_enhanced(e->subject, e->detail) == e,
			      "codes_enhanced(%d, %d): got another row, want "
			      "row %zu",
			      e->subject, e->detail, i);
		ck_assert_msg(e->sample && e->sample[0] && e->reference &&
				  e->reference[0] && e->assoc_text,
			      "X.%d.%d: got an empty sample or reference, want "
			      "text",
			      e->subject, e->detail);
		for (k = 0; k < CODES_MAX_ASSOC && e->assoc[k] != 0; k++)
			ck_assert_msg(codes_basic(e->assoc[k]) != NULL,
				      "X.%d.%d assoc %d: got an unknown code, "
				      "want a basic row",
				      e->subject, e->detail, e->assoc[k]);
		ck_assert_msg(k < CODES_MAX_ASSOC,
			      "X.%d.%d: got assoc without its 0 end, want one",
			      e->subject, e->detail);
		ck_assert_msg(e->assoc_class_only == 0 ||
				  e->assoc_class_only == 4 ||
				  e->assoc_class_only == 5,
			      "X.%d.%d: got class_only %d, want 0, 4 or 5",
			      e->subject, e->detail, e->assoc_class_only);
		ck_assert_msg(e->default_basic4 / 100 == 4 &&
				  codes_basic(e->default_basic4) != NULL &&
				  e->default_basic5 / 100 == 5 &&
				  codes_basic(e->default_basic5) != NULL,
			      "X.%d.%d: got defaults %d/%d, want a known 4xx "
			      "and 5xx",
			      e->subject, e->detail, e->default_basic4,
			      e->default_basic5);
	}
	ck_assert_msg(codes_enhanced_at(n) == NULL,
		      "codes_enhanced_at(%zu): got a row, want NULL", n);
	ck_assert_msg(codes_enhanced(9, 9) == NULL,
		      "codes_enhanced(9, 9): got a row, want NULL");
}
END_TEST

/* ---- spec parsing and defaults ------------------------------------------ */

static const struct spec_case {
	const char *spec;
	const char *want;   /* codes_format() output, or NULL: parse error */
	const char *phrase; /* in the error text */
} spec_cases[] = {
    /* both given */
    {"550 5.7.1", "550 5.7.1", NULL},
    {"  550\t 5.7.1  ", "550 5.7.1", NULL},
    {"550 4.7.1", "550 4.7.1", NULL}, /* pairing is codes_check's job */
    {"451 5.0.0", "451 5.0.0", NULL},
    {"250 2.0.0", "250 2.0.0", NULL},
    {"599 5.999.999", "599 5.999.999", NULL},
    /* enhanced alone: default_basic4/5 */
    {"5.7.1", "550 5.7.1", NULL},
    {"4.7.1", "451 4.7.1", NULL},
    {"5.3.4", "552 5.3.4", NULL},
    {"4.5.3", "452 4.5.3", NULL},
    {"5.2.2", "552 5.2.2", NULL},
    {"4.2.2", "452 4.2.2", NULL},
    {"5.1.1", "550 5.1.1", NULL},
    {"4.3.1", "452 4.3.1", NULL},
    {"5.1.10", "556 5.1.10", NULL},
    {"5.7.0", "550 5.7.0", NULL},
    {"4.7.15", "450 4.7.15", NULL},
    {"5.7.30", "550 5.7.30", NULL},
    {"5.9.9", "550 5.9.9", NULL}, /* unknown: the generic one */
    {"4.9.9", "451 4.9.9", NULL},
    {"2.0.0", "250 2.0.0", NULL},
    /* basic alone: default_enhanced, else X.0.0 */
    {"452", "452 4.3.1", NULL},
    {"550", "550 5.7.1", NULL},
    {"554", "554 5.3.0", NULL},
    {"421", "421 4.3.0", NULL},
    {"451", "451 4.3.0", NULL},
    {"552", "552 5.3.4", NULL},
    {"556", "556 5.1.10", NULL},
    {"599", "599 5.0.0", NULL}, /* no better default: X.0.0 */
    {"499", "499 4.0.0", NULL},
    {"299", "299 2.0.0", NULL},
    {"250", "250 2.0.0", NULL},
    {"354", "354", NULL}, /* 3xx: no enhanced code */
    /* syntax errors */
    {"05.7.1", NULL, "class 05 has a leading zero"},
    {"550 5.07.1", NULL, "subject 07 has a leading zero"},
    {"550 5.7.01", NULL, "detail 01 has a leading zero"},
    {"5.7.1000", NULL, "more than 3 digits"},
    {"5.1000.1", NULL, "more than 3 digits"},
    {"3.7.1", NULL, "not 2 (success), 4"},
    {"55.7.1", NULL, "class 55 is not 2"},
    {"600", NULL, "outside 200 to 599"},
    {"199", NULL, "outside 200 to 599"},
    {"055", NULL, "outside 200 to 599"},
    {"55", NULL, "exactly three digits"},
    {"5500", NULL, "exactly three digits"},
    {"55a", NULL, "is not a reply code"},
    {"", NULL, "empty reply"},
    {"   ", NULL, "empty reply"},
    {"5.7", NULL, "class.subject.detail"},
    {"5.7.1.2", NULL, "class.subject.detail"},
    {"5..1", NULL, "class.subject.detail"},
    {"5.7.", NULL, "class.subject.detail"},
    {"550-5.7.1", NULL, "class.subject.detail"},
    {"5.7.1 550", NULL, "reply code before the enhanced code"},
    {"550 451", NULL, "got two reply codes"},
    {"5.7.1 5.7.2", NULL, "got two enhanced codes"},
    {"550 5.7.1 Relaying denied", NULL, "unexpected text \"Relaying"},
    {"550 5.7.1\x01", NULL, "\"5.7.1?\" is not an enhanced code"},
};

START_TEST(test_spec)
{
	const struct spec_case *c = &spec_cases[_i];
	struct reply_code rc;
	char err[256] = "", got[64], enh[16];
	int r = codes_parse_spec(c->spec, &rc, err, sizeof(err));

	if (c->want == NULL) {
		ck_assert_msg(r == -1,
			      "case %d \"%s\": got success, want error", _i,
			      c->spec);
		ck_assert_msg(strstr(err, c->phrase) != NULL,
			      "case %d \"%s\": got error \"%s\", want \"%s\" "
			      "in it",
			      _i, c->spec, err, c->phrase);
		return;
	}
	ck_assert_msg(r == 0, "case %d \"%s\": got error \"%s\", want %s", _i,
		      c->spec, err, c->want);
	codes_format(&rc, got, sizeof(got));
	ck_assert_msg(strcmp(got, c->want) == 0,
		      "case %d \"%s\": got %s, want %s", _i, c->spec, got,
		      c->want);
	codes_format_enhanced(&rc, enh, sizeof(enh));
	{
		const char *sp = strchr(c->want, ' ');
		const char *want_enh = sp ? sp + 1 : "";
		ck_assert_msg(strcmp(enh, want_enh) == 0,
			      "case %d \"%s\": got enhanced \"%s\", want "
			      "\"%s\"",
			      _i, c->spec, enh, want_enh);
	}
}
END_TEST

START_TEST(test_spec_null)
{
	struct reply_code rc;
	char err[128] = "";

	ck_assert_msg(codes_parse_spec(NULL, &rc, err, sizeof(err)) == -1,
		      "NULL spec: got success, want -1");
	ck_assert_msg(err[0] != '\0', "NULL spec: got no error text, want one");
}
END_TEST

START_TEST(test_format_truncates)
{
	struct reply_code rc = {550, 5, 7, 1};
	char small[5];

	ck_assert_msg(codes_format(&rc, small, sizeof(small)) == 9,
		      "codes_format: got another length, want 9");
	ck_assert_msg(strcmp(small, "550 ") == 0,
		      "codes_format into 5 bytes: got \"%s\", want \"550 \"",
		      small);
}
END_TEST

/* ---- pairing checks ------------------------------------------------------ */

static void findings_text(const struct findings *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->count && n < len; i++)
		n += (size_t)snprintf(
		    buf + n, len - n, "%s%s: %s", i ? " | " : "",
		    finding_severity_name(f->item[i].severity),
		    f->item[i].text);
}

static void count(const struct findings *f, int *nerr, int *nwarn, int *nnote)
{
	*nerr = *nwarn = *nnote = 0;
	for (size_t i = 0; i < f->count; i++) {
		if (f->item[i].severity == FINDING_ERROR)
			(*nerr)++;
		else if (f->item[i].severity == FINDING_WARNING)
			(*nwarn)++;
		else
			(*nnote)++;
	}
}

static int has_phrase(const struct findings *f, const char *phrase)
{
	for (size_t i = 0; i < f->count; i++)
		if (strstr(f->item[i].text, phrase) != NULL)
			return 1;
	return 0;
}

#define R    VERDICT_REJECT
#define T    VERDICT_TEMPFAIL
#define ANYN (-1) /* any number of notes */

static const struct check_case {
	const char *spec;
	enum verdict v;
	enum stage st;
	bool held;
	int nerr, nwarn, nnote;
	const char *phrase; /* in some finding; NULL when none is wanted */
} check_cases[] = {
    /* well paired, no finding at all */
    {"550 5.7.1", R, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"452 4.3.1", T, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"550 5.1.1", R, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"452 4.5.3", T, STAGE_RCPT, false, 0, 0, 1,
     "IANA lists X.5.3 with 451, not with 452; Postfix sends it"},
    {"451 4.5.3", T, STAGE_RCPT, false, 0, 0, 0, NULL}, /* IANA */
    {"552 5.3.4", R, STAGE_EOM, false, 0, 0, 0, NULL},
    {"552 5.3.4", R, STAGE_MAIL, false, 0, 0, 0, NULL},
    {"421 4.3.0", T, STAGE_CONNECT, false, 0, 0, 0, NULL},
    {"421 4.4.2", T, STAGE_HELO, false, 0, 0, 0, NULL},
    {"556 5.1.10", R, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"550 5.7.17", R, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"450 4.7.15", T, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"451 4.7.15", T, STAGE_RCPT, false, 0, 0, 0, NULL}, /* "other 4XX" */
    {"550 5.7.28", R, STAGE_EOM, false, 0, 0, 0, NULL},
    {"550 5.7.29", R, STAGE_EOM, false, 0, 0, 0, NULL},
    {"550 5.7.30", R, STAGE_EOM, false, 0, 0, 0, NULL},
    {"550 5.0.0", R, STAGE_MAIL, false, 0, 0, 0, NULL},
    {"451 4.4.1", T, STAGE_MAIL, false, 0, 0, 0, NULL},
    {"503 5.5.1", R, STAGE_DATA, false, 0, 0, 0, NULL},
    /* connect and HELO replies are judged at MAIL (RCPT when held) */
    {"550 5.7.25", R, STAGE_CONNECT, false, 0, 0, 0, NULL},
    {"550 5.7.1", R, STAGE_HELO, false, 0, 0, 0, NULL},
    {"450 4.7.1", T, STAGE_CONNECT, true, 0, 0, 2, "RFC 3463"},
    /* what the MTAs send themselves: clean, with notes */
    {"450 4.7.1", T, STAGE_RCPT, false, 0, 0, 2,
     "RFC 3463 says X.7.1 is useful only for permanent failures, but 450 "
     "is a transient failure (4xx); Postfix sends it"},
    {"450 4.7.25", T, STAGE_RCPT, false, 0, 0, 1,
     "IANA lists X.7.25 with 550, not with 450; Postfix sends it"},
    {"450 4.1.8", T, STAGE_RCPT, false, 0, 0, 1,
     "IANA lists X.1.8 with 451, 501, not with 450; Postfix sends it"},
    {"450 4.1.2", T, STAGE_RCPT, false, 0, 0, 1, "RFC 3463"},
    {"450 4.1.1", T, STAGE_RCPT, false, 0, 0, 2, "IANA lists X.1.1 with"},
    {"504 5.5.2", R, STAGE_RCPT, false, 0, 0, 2,
     "RFC 5321 does not list 504 as a reply to RCPT; Postfix sends 504 "
     "5.5.2 there"},
    {"554 5.7.1", R, STAGE_RCPT, false, 0, 0, 2,
     "IANA lists X.7.1 with 451, 454, 502, 503, 533, 550, 551, not with "
     "554; Postfix sends it"},
    {"554 5.7.1", R, STAGE_EOM, false, 0, 0, 1, NULL},
    {"550 5.5.3", R, STAGE_RCPT, false, 0, 0, 1, "IANA lists X.5.3 with"},
    {"421 4.7.0", T, STAGE_CONNECT, false, 0, 0, 1, "Postfix sends it"},
    {"552 5.2.2", R, STAGE_RCPT, false, 0, 0, 1,
     "useful only for transient failures, but 552 is a permanent "
     "failure (5xx); IANA lists 552 for it"},
    {"421 4.3.2", T, STAGE_CONNECT, false, 0, 0, 1, NULL},
    {"451 4.3.2", T, STAGE_MAIL, false, 0, 0, 1, "Sendmail sends it"},
    {"451 4.7.1", T, STAGE_RCPT, false, 0, 0, 1, "IANA lists 451 for it"},
    {"452 4.2.2", T, STAGE_RCPT, false, 0, 0, 1, "Gmail sends it"},
    {"550 5.4.1", R, STAGE_RCPT, false, 0, 0, 2, "Microsoft 365 sends it"},
    /* notes only: IANA knows the enhanced code, practice not the pair,
     * and the basic code fits its subject */
    {"550 5.3.4", R, STAGE_EOM, false, 0, 0, 1,
     "IANA lists X.3.4 with 552, 554, not with 550"},
    {"554 5.3.0", R, STAGE_RCPT, false, 0, 0, 1,
     "RFC 5321 does not list 554 as a reply to RCPT"},
    {"451 4.3.0", T, STAGE_DATA, false, 0, 0, 1,
     "RFC 5321 does not list 451 as a reply to DATA"},
    /* errors */
    {"550 4.7.1", R, STAGE_RCPT, false, 1, 0, 0,
     "enhanced code 4.7.1 has class 4 but the reply code 550 is a "
     "permanent failure (5xx): use 550 5.7.1"},
    {"451 5.7.1", T, STAGE_RCPT, false, 1, 0, ANYN,
     "has class 5 but the reply code 451 is a transient failure (4xx): "
     "use 451 4.7.1"},
    {"451 5.7.1", R, STAGE_RCPT, false, 2, 0, ANYN,
     "a reject rule needs a permanent"},
    {"451 4.7.1", R, STAGE_RCPT, false, 1, 0, ANYN,
     "use tempfail for a 4xx reply"},
    {"550 5.7.1", T, STAGE_RCPT, false, 1, 0, ANYN,
     "use reject for a 5xx reply"},
    {"250 2.0.0", R, STAGE_RCPT, false, 1, 0, 0,
     "needs a permanent failure (5xx) reply code, but 250 is a success"},
    {"250 2.0.0", T, STAGE_RCPT, false, 1, 0, 0,
     "needs a transient failure (4xx)"},
    {"354", R, STAGE_DATA, false, 1, 0, 0, "354 is an intermediate reply"},
    {"250 5.7.1", R, STAGE_RCPT, false, 2, 0, 0,
     "reply code 250 is a success reply"},
    /* other verdicts: pairing only */
    {"250 2.0.0", VERDICT_ACCEPT, STAGE_RCPT, false, 1, 0, 0,
     "can only send 4xx and 5xx"},
    {"550 4.7.1", VERDICT_ACCEPT, STAGE_RCPT, false, 1, 0, 0, "use"},
    {"451 4.7.1", VERDICT_QUARANTINE, STAGE_CONNECT, false, 0, 0, 1, NULL},
    {"550 5.7.1", VERDICT_DISCARD, STAGE_CONNECT, false, 0, 0, 0, NULL},
    {"552 5.2.2", VERDICT_CONTINUE, STAGE_HELO, false, 0, 0, 1, "transient"},
    /* warnings: RFC 3463 against a pair nobody uses */
    {"552 5.4.1", R, STAGE_RCPT, false, 0, 1, 0,
     "RFC 3463 gives 5.4.1 to transient failures only"},
    {"550 5.4.5", R, STAGE_RCPT, false, 0, 0, ANYN, NULL}, /* Gmail */
    {"550 5.4.2", R, STAGE_RCPT, false, 0, 1, 0,
     "neither IANA nor the MTAs in practice pair them: use"},
    {"452 4.3.4", T, STAGE_EOM, false, 0, 1, 0,
     "RFC 3463 gives 4.3.4 to permanent failures only"},
    {"451 4.1.3", T, STAGE_RCPT, false, 0, 1, 0, "permanent failures only"},
    {"450 4.1.6", T, STAGE_RCPT, false, 0, 1, 0, "permanent failures only"},
    /* warnings: unregistered */
    {"550 5.9.9", R, STAGE_RCPT, false, 0, 1, 0,
     "enhanced code 5.9.9 is unregistered"},
    {"550 5.7.999", R, STAGE_RCPT, false, 0, 1, 0, "5.7.999 is unregistered"},
    {"550 5.7.606", R, STAGE_RCPT, false, 0, 1, 0,
     "it is Microsoft 365's own code"},
    {"451 4.7.612", T, STAGE_RCPT, false, 0, 1, 0, "Microsoft 365"},
    /* warnings: a basic code that does not fit the subject */
    {"552 5.1.1", R, STAGE_RCPT, false, 0, 1, 0,
     "neither IANA nor the MTAs in practice pair 552 with X.1.1"},
    {"556 5.7.1", R, STAGE_RCPT, false, 0, 1, 0, "security or policy"},
    {"451 4.7.17", T, STAGE_RCPT, false, 0, 0, 1, NULL}, /* 5XX: note */
    {"452 4.7.1", T, STAGE_RCPT, false, 0, 1, 0, "permanent failures only"},
    {"452 4.1.0", T, STAGE_RCPT, false, 0, 1, 0,
     "and 452 (\"Requested action not taken: insufficient system "
     "storage\") does not fit its subject, addressing (X.1.x): use "
     "451 4.1.0"},
    /* warnings: a basic code that does not fit the stage */
    {"552 5.3.4", R, STAGE_HELO, false, 0, 1, 0,
     "552 (\"Requested mail action aborted: exceeded storage "
     "allocation\") does not fit a rule at the helo stage"},
    {"552 5.3.4", R, STAGE_HELO, true, 0, 1, 0, "helo stage"},
    {"551 5.7.1", R, STAGE_MAIL, false, 0, 1, 0,
     "does not fit a rule at the mail stage"},
    {"551 5.7.1", R, STAGE_RCPT, false, 0, 0, 0, NULL},
    {"521 5.3.2", R, STAGE_RCPT, false, 0, 1, 0, "rcpt stage"},
    {"521 5.3.2", R, STAGE_CONNECT, false, 0, 0, 1,
     "RFC 7504 does not list 521 as a reply to MAIL, which carries the "
     "reply of a connect rule"},
    {"530 5.7.0", R, STAGE_HELO, false, 0, 1, 0, "helo stage"},
    {"535 5.7.8", R, STAGE_MAIL, false, 0, 1, 0,
     "answers a command a milter never sees"},
    {"599 5.0.0", R, STAGE_RCPT, false, 0, 1, 0,
     "not defined by RFC 5321 nor named by the IANA registry"},
    {"500 5.5.2", R, STAGE_CONNECT, false, 0, 1, 0, "connect stage"},
    /* one finding per problem, problems add up */
    {"550 4.2.2", T, STAGE_HELO, false, 2, 0, 0, "use"},
    {"552 5.4.1", R, STAGE_HELO, false, 0, 2, 0, "does not fit"},
    {"552 5.1.3", R, STAGE_HELO, false, 0, 2, 0, "X.1.3"},
};

START_TEST(test_check)
{
	const struct check_case *c = &check_cases[_i];
	struct reply_code rc;
	struct findings f = {0};
	char err[256], text[4096];
	int r, nerr, nwarn, nnote;

	ck_assert_msg(codes_parse_spec(c->spec, &rc, err, sizeof(err)) == 0,
		      "case %d \"%s\": got parse error \"%s\", want success",
		      _i, c->spec, err);
	r = codes_check(&rc, c->v, c->st, c->held, &f);
	findings_text(&f, text, sizeof(text));
	count(&f, &nerr, &nwarn, &nnote);
	ck_assert_msg(nerr == c->nerr && nwarn == c->nwarn && r == c->nerr &&
			  (c->nnote == ANYN || nnote == c->nnote),
		      "case %d \"%s\" %s at %s%s: got %d errors (returned %d), "
		      "%d warnings, %d notes [%s], want %d errors, %d "
		      "warnings, %d notes",
		      _i, c->spec, verdict_name(c->v), stage_name(c->st),
		      c->held ? " (held)" : "", nerr, r, nwarn, nnote, text,
		      c->nerr, c->nwarn, c->nnote);
	if (c->phrase != NULL)
		ck_assert_msg(has_phrase(&f, c->phrase),
			      "case %d \"%s\": got [%s], want \"%s\" in it", _i,
			      c->spec, text, c->phrase);
	for (size_t i = 0; i < f.count; i++)
		ck_assert_msg(strlen(f.item[i].text) + 1 < FINDING_TEXT_MAX,
			      "case %d: got a finding cut at %d bytes, want it "
			      "whole",
			      _i, FINDING_TEXT_MAX);
}
END_TEST

/* Values no spec can produce, straight into codes_check(). */
static const struct raw_case {
	struct reply_code rc;
	enum verdict v;
	enum stage st;
	int nerr;
	const char *phrase;
} raw_cases[] = {
    {{700, 5, 7, 1}, R, STAGE_RCPT, 1, "outside 200 to 599"},
    {{0, 0, 0, 0}, R, STAGE_RCPT, 1, "reply code 0 is outside"},
    {{550, 3, 7, 1}, R, STAGE_RCPT, 1, "class 3 is not 2, 4 or 5"},
    {{550, 5, 1000, 1}, R, STAGE_RCPT, 1, "part outside 0 to 999"},
    {{550, 5, 7, -1}, R, STAGE_RCPT, 1, "part outside 0 to 999"},
    {{550, 5, 7, 1000}, R, STAGE_RCPT, 1, "part outside 0 to 999"},
    {{550, 5, -1, 0}, R, STAGE_RCPT, 1, "part outside 0 to 999"},
    {{550, 0, 0, 0}, R, STAGE_RCPT, 1, "has no enhanced status code"},
    {{550, 5, 7, 1},
     (enum verdict)VERDICT_COUNT,
     STAGE_RCPT,
     1,
     "unknown verdict"},
    {{550, 5, 7, 1}, R, (enum stage)STAGE_COUNT, 1, "unknown stage"},
};

START_TEST(test_check_raw)
{
	const struct raw_case *c = &raw_cases[_i];
	struct findings f = {0};
	char text[4096];
	int r = codes_check(&c->rc, c->v, c->st, false, &f), nerr, nwarn, nnote;

	findings_text(&f, text, sizeof(text));
	count(&f, &nerr, &nwarn, &nnote);
	ck_assert_msg(r == c->nerr && nerr == c->nerr && nwarn == 0,
		      "case %d: got %d errors (returned %d), %d warnings [%s], "
		      "want %d errors",
		      _i, nerr, r, nwarn, text, c->nerr);
	ck_assert_msg(has_phrase(&f, c->phrase),
		      "case %d: got [%s], want \"%s\" in it", _i, text,
		      c->phrase);
}
END_TEST

START_TEST(test_check_limits)
{
	struct reply_code bad = {550, 4, 7, 1};
	struct findings f = {0};
	int r;

	for (int i = 0; i < FINDINGS_MAX + 3; i++) {
		r = codes_check(&bad, R, STAGE_RCPT, false, &f);
		ck_assert_msg(r == 1, "call %d: got %d errors, want 1", i, r);
	}
	ck_assert_msg(f.count == FINDINGS_MAX, "got %zu findings, want %d",
		      f.count, FINDINGS_MAX);
	r = codes_check(&bad, R, STAGE_RCPT, false, NULL);
	ck_assert_msg(r == 1, "NULL out: got %d errors, want 1", r);
	r = codes_check(NULL, R, STAGE_RCPT, false, NULL);
	ck_assert_msg(r == 1, "NULL code: got %d errors, want 1", r);
}
END_TEST

/* ---- the sweep: every pair, verdict and place -----------------------------
 */

/* The enhanced codes of the sweep: every registered one (k < ne), an
 * unknown subject, an unknown detail and a provider's private code. */
static void sweep_enhanced(size_t k, int *subject, int *detail)
{
	static const int extra[3][2] = {{8, 8}, {7, 999}, {7, 606}};
	size_t ne = codes_enhanced_count();

	if (k < ne) {
		*subject = codes_enhanced_at(k)->subject;
		*detail = codes_enhanced_at(k)->detail;
	} else {
		*subject = extra[k - ne][0];
		*detail = extra[k - ne][1];
	}
}
#define SWEEP_EXTRA 3

/* The basic codes of the sweep: the registry's and 599. */
static int sweep_basic(size_t i)
{
	return i < codes_basic_count() ? codes_basic_at(i)->code : 599;
}

/* May cmd carry basic: RFC 5321 lists it or a practice row sends it? */
static int command_allows(int basic, enum smtp_cmd cmd)
{
	const struct basic_info *b = codes_basic(basic);

	if (b != NULL && (b->commands & CMDBIT(cmd)))
		return 1;
	for (size_t i = 0; i < codes_practice_count(); i++) {
		const struct practice_pair *p = codes_practice_at(i);
		if (p->basic == basic && (p->commands & CMDBIT(cmd)))
			return 1;
	}
	return 0;
}

/* Does IANA or practice pair rc's codes? */
static int pair_known(const struct reply_code *rc)
{
	const struct enhanced_info *e =
	    codes_enhanced(rc->enh_subject, rc->enh_detail);
	size_t from = 0;

	if (e == NULL)
		return 0;
	if (codes_practice_next(rc, &from) != NULL)
		return 1;
	if (e->assoc_class_only != 0)
		return rc->basic / 100 == e->assoc_class_only;
	if (e->assoc[0] == 0)
		return 1;
	for (int k = 0; k < CODES_MAX_ASSOC && e->assoc[k] != 0; k++)
		if (e->assoc[k] == rc->basic)
			return 1;
	return 0;
}

/*
 * Is the suggestion s clean where finding f was made? 0 when it is, else
 * -1 with the reason in why.
 */
static int suggestion_clean(const struct reply_code *from,
			    const struct reply_code *s, enum verdict v,
			    enum stage st, bool held, char *why, size_t whylen)
{
	struct findings f = {0};
	char text[4096];
	bool replies = v == R || v == T;
	int nerr, nwarn, nnote, want = v == R ? 5 : 4;

	if (!replies)
		want = from->basic / 100;
	/* 421 and 521 close the connection: only when the rule said so */
	if ((s->basic == 421 || s->basic == 521) && s->basic != from->basic) {
		snprintf(why, whylen,
			 "%d %d.%d.%d %s at %s suggests %d %d.%d.%d, which "
			 "closes the connection",
			 from->basic, from->enh_class, from->enh_subject,
			 from->enh_detail, verdict_name(v), stage_name(st),
			 s->basic, s->enh_class, s->enh_subject, s->enh_detail);
		return -1;
	}
	codes_check(s, v, st, held, &f);
	count(&f, &nerr, &nwarn, &nnote);
	if (s->basic / 100 == want && s->enh_class == want && pair_known(s) &&
	    (!replies ||
	     command_allows(s->basic, stage_reply_command(st, held))) &&
	    nerr == 0 && nwarn == 0)
		return 0;
	findings_text(&f, text, sizeof(text));
	snprintf(why, whylen,
		 "%d %d.%d.%d %s at %s%s suggests %d %d.%d.%d: want the "
		 "verdict's class, a pair IANA or practice knows, a code the "
		 "carrying command may get and no warning; got [%s]",
		 from->basic, from->enh_class, from->enh_subject,
		 from->enh_detail, verdict_name(v), stage_name(st),
		 held ? " (held)" : "", s->basic, s->enh_class, s->enh_subject,
		 s->enh_detail, text);
	return -1;
}

/* One codes_check() call of the sweep; 0 when all is well, else -1 with
 * the reason in why. *nsug counts the suggestions checked. */
static int sweep_one(const struct reply_code *rc, enum verdict v, enum stage st,
		     bool held, char *why, size_t whylen, int *nsug)
{
	struct findings f = {0};
	char text[4096];
	int r = codes_check(rc, v, st, held, &f), nerr, nwarn, nnote;

	count(&f, &nerr, &nwarn, &nnote);
	for (size_t i = 0; i < f.count; i++) {
		if (strlen(f.item[i].text) + 1 >= FINDING_TEXT_MAX)
			nerr = -1;
		if (f.item[i].suggests) {
			(*nsug)++;
			if (suggestion_clean(rc, &f.item[i].suggestion, v, st,
					     held, why, whylen) != 0)
				return -1;
		}
	}
	if (r == nerr && nerr <= 3 && nwarn <= 2 && nnote <= 3)
		return 0;
	findings_text(&f, text, sizeof(text));
	snprintf(why, whylen,
		 "%d %d.%d.%d %s at %s: got %d errors (returned %d, -1: a "
		 "text cut short), %d warnings, %d notes [%s], want the count "
		 "returned, at most 3 errors, 2 warnings and 3 notes",
		 rc->basic, rc->enh_class, rc->enh_subject, rc->enh_detail,
		 verdict_name(v), stage_name(st), nerr, r, nwarn, nnote, text);
	return -1;
}

/*
 * Every basic code with every enhanced code (classes 2, 4, 5, none),
 * every verdict, stage and hold setting: texts are whole, the return value
 * is the error count, no kind of problem is told twice, and every pair a
 * finding suggests is itself clean there (the verdict's class, known to
 * IANA or practice, allowed for the carrying command, no warning).
 */
START_TEST(test_check_sweep)
{
	int basic = sweep_basic((size_t)_i), nsug = 0;
	size_t ne = codes_enhanced_count() + SWEEP_EXTRA;
	char why[4600] = "";
	int bad = 0;

	for (size_t k = 0; k < ne && !bad; k++) {
		int subject, detail;
		sweep_enhanced(k, &subject, &detail);
		for (int cls = 2; cls <= 5 && !bad; cls++) {
			struct reply_code rc = {basic, cls == 3 ? 0 : cls,
						subject, detail};
			for (int v = 0; v < VERDICT_COUNT && !bad; v++)
				for (int st = 0; st < STAGE_COUNT && !bad; st++)
					for (int h = 0; h < 2 && !bad; h++)
						bad = sweep_one(
						    &rc, (enum verdict)v,
						    (enum stage)st, h == 1, why,
						    sizeof(why), &nsug);
		}
	}
	ck_assert_msg(!bad, "%s", why);
	if (basic >= 400 && basic != 599)
		ck_assert_msg(nsug > 0,
			      "%d: got no suggestion in the whole sweep, want "
			      "some (is the suggestion code reached?)",
			      basic);
}
END_TEST

/* ---- the practice table ----------------------------------------------------
 */

/* A place whose reply the command c carries. */
static int place_for(enum smtp_cmd c, enum stage *st, bool *held)
{
	*held = false;
	switch (c) {
	case CMD_CONNECT:
		*st = STAGE_CONNECT;
		return 0;
	case CMD_HELO:
		*st = STAGE_HELO;
		return 0;
	case CMD_MAIL:
		*st = STAGE_MAIL;
		return 0;
	case CMD_RCPT:
		*st = STAGE_RCPT;
		return 0;
	case CMD_DATA:
		*st = STAGE_DATA;
		return 0;
	case CMD_DATA_END:
		*st = STAGE_EOM;
		return 0;
	default:
		return -1;
	}
}

START_TEST(test_practice_row)
{
	const struct practice_pair *p = codes_practice_at((size_t)_i);
	struct reply_code rc = {p->basic, p->enh_class, p->enh_subject,
				p->enh_detail};
	const struct basic_info *b = codes_basic(p->basic);
	enum verdict v = p->basic / 100 == 5 ? R : T;

	ck_assert_msg(p->basic / 100 == p->enh_class &&
			  (p->enh_class == 4 || p->enh_class == 5),
		      "row %d %d %d.%d.%d: got a class mismatch or a class "
		      "other than 4 and 5, want one failure class",
		      _i, p->basic, p->enh_class, p->enh_subject,
		      p->enh_detail);
	ck_assert_msg(b != NULL,
		      "row %d: got basic code %d, want one of the "
		      "registry's",
		      _i, p->basic);
	ck_assert_msg(codes_enhanced(p->enh_subject, p->enh_detail) != NULL,
		      "row %d %d %d.%d.%d: got an enhanced code IANA does not "
		      "register, want it in private_table instead",
		      _i, p->basic, p->enh_class, p->enh_subject,
		      p->enh_detail);
	ck_assert_msg(p->commands != 0 && (p->commands & ~CMDBIT_ANY) == 0,
		      "row %d: got commands %#x, want some within %#x", _i,
		      p->commands, CMDBIT_ANY);
	ck_assert_msg(p->who && p->who[0] && p->what && p->what[0] &&
			  p->source && p->source[0],
		      "row %d: got an empty who, what or source", _i);
	/* Clean with the verdict of its class wherever it is sent. */
	for (int c = 0; c < CMD_COUNT; c++) {
		struct findings f = {0};
		char text[4096];
		enum stage st;
		bool held;
		int nerr, nwarn, nnote;
		if (!(p->commands & CMDBIT(c)) ||
		    place_for((enum smtp_cmd)c, &st, &held) != 0)
			continue;
		codes_check(&rc, v, st, held, &f);
		findings_text(&f, text, sizeof(text));
		count(&f, &nerr, &nwarn, &nnote);
		ck_assert_msg(nerr == 0 && nwarn == 0,
			      "row %d %d %d.%d.%d (%s) at %s: got [%s], want "
			      "no error or warning",
			      _i, p->basic, p->enh_class, p->enh_subject,
			      p->enh_detail, p->who, stage_name(st), text);
	}
}
END_TEST

/* At least 60 distinct pairs, and rows of the same pair agree. */
START_TEST(test_practice_size)
{
	size_t n = codes_practice_count(), distinct = 0;

	for (size_t i = 0; i < n; i++) {
		const struct practice_pair *p = codes_practice_at(i);
		size_t j = 0;
		for (; j < i; j++) {
			const struct practice_pair *q = codes_practice_at(j);
			if (q->basic == p->basic &&
			    q->enh_class == p->enh_class &&
			    q->enh_subject == p->enh_subject &&
			    q->enh_detail == p->enh_detail)
				break;
		}
		distinct += j == i;
	}
	ck_assert_msg(distinct >= 60, "got %zu distinct pairs, want >= 60",
		      distinct);
	ck_assert_msg(codes_practice_at(n) == NULL,
		      "codes_practice_at(%zu): got a row, want NULL", n);
}
END_TEST

START_TEST(test_private_row)
{
	const struct private_code *c = codes_private_at((size_t)_i);

	ck_assert_msg(c->enh_class == 0 || c->enh_class == 4 ||
			  c->enh_class == 5,
		      "private row %d: got class %d", _i, c->enh_class);
	ck_assert_msg(c->detail_lo <= c->detail_hi && c->detail_hi <= 999,
		      "private row %d: got details %d..%d", _i, c->detail_lo,
		      c->detail_hi);
	for (int d = c->detail_lo; d <= c->detail_hi; d++) {
		struct reply_code rc = {c->enh_class == 4 ? 451 : 550,
					c->enh_class ? c->enh_class : 5,
					c->enh_subject, d};
		ck_assert_msg(codes_enhanced(c->enh_subject, d) == NULL,
			      "private row %d: X.%d.%d is registered with "
			      "IANA, want only unregistered codes",
			      _i, c->enh_subject, d);
		ck_assert_msg(codes_private(&rc) == c,
			      "codes_private(X.%d.%d): got another row",
			      c->enh_subject, d);
	}
}
END_TEST

/* ---- the defaults pass the checks (catches table typos) ------------------ */

static enum stage first_stage(unsigned mask)
{
	for (int s = 0; s < STAGE_COUNT; s++)
		if (mask & STAGEBIT(s))
			return (enum stage)s;
	return STAGE_RCPT;
}

START_TEST(test_basic_default_clean)
{
	const struct basic_info *b = codes_basic_at((size_t)_i);
	struct reply_code rc;
	struct findings f = {0};
	char spec[8], err[256], text[4096];
	int cls = b->code / 100, nerr, nwarn, nnote, r;

	snprintf(spec, sizeof(spec), "%d", b->code);
	ck_assert_msg(codes_parse_spec(spec, &rc, err, sizeof(err)) == 0,
		      "%d: got parse error \"%s\", want success", b->code, err);
	if (cls == 2 || cls == 3) {
		ck_assert_msg(
		    cls == 3 || (rc.enh_class == 2 &&
				 codes_enhanced(rc.enh_subject, rc.enh_detail)),
		    "%d: got class %d, want a registered 2.x.x", b->code,
		    rc.enh_class);
		ck_assert_msg(b->stages == 0,
			      "%d: got stages %#x, want none for a success",
			      b->code, b->stages);
		return;
	}
	ck_assert_msg((b->stages & ~STAGEBIT_ANY) == 0 &&
			  (b->subjects & ~0xffu) == 0,
		      "%d: got stages %#x subjects %#x, want within the masks",
		      b->code, b->stages, b->subjects);
	ck_assert_msg(b->commands == 0 || b->stages != 0,
		      "%d: RFC 5321 lists it for commands %#x, want a stage it "
		      "fits",
		      b->code, b->commands);
	r = codes_check(&rc, cls == 5 ? R : T, first_stage(b->stages), false,
			&f);
	findings_text(&f, text, sizeof(text));
	count(&f, &nerr, &nwarn, &nnote);
	ck_assert_msg(codes_enhanced(rc.enh_subject, rc.enh_detail) != NULL,
		      "%d: got default %s, want a registered code", b->code,
		      b->default_enhanced);
	if (b->stages != 0)
		ck_assert_msg(r == 0 && nwarn == 0,
			      "%d %s: got [%s], want no error or warning",
			      b->code, b->default_enhanced, text);
	else
		ck_assert_msg(r == 0 && nerr == 0 && nwarn == 1 &&
				  has_phrase(&f, "never sees"),
			      "%d %s: got [%s], want only the command warning",
			      b->code, b->default_enhanced, text);
}
END_TEST

/* Does IANA name a basic code of class cls that a milter can send? */
static int usable_listed(const struct enhanced_info *e, int cls)
{
	for (int k = 0; k < CODES_MAX_ASSOC && e->assoc[k] != 0; k++) {
		const struct basic_info *b = codes_basic(e->assoc[k]);
		if (e->assoc[k] / 100 == cls && b != NULL && b->commands != 0)
			return 1;
	}
	return 0;
}

/* _i = row * 2 + (class 4 or 5) */
START_TEST(test_enhanced_default_clean)
{
	const struct enhanced_info *e = codes_enhanced_at((size_t)(_i / 2));
	int cls = _i % 2 ? 5 : 4, nerr, nwarn, nnote, r;
	struct reply_code rc;
	struct findings f = {0};
	char spec[16], err[256], text[4096];
	const struct basic_info *b;

	snprintf(spec, sizeof(spec), "%d.%d.%d", cls, e->subject, e->detail);
	ck_assert_msg(codes_parse_spec(spec, &rc, err, sizeof(err)) == 0,
		      "%s: got parse error \"%s\", want success", spec, err);
	ck_assert_msg(rc.basic ==
			  (cls == 4 ? e->default_basic4 : e->default_basic5),
		      "%s: got %d, want the table's default", spec, rc.basic);
	b = codes_basic(rc.basic);
	ck_assert_msg(b != NULL && b->commands != 0 && b->stages != 0,
		      "%s: got default %d, want one a milter can send", spec,
		      rc.basic);
	r = codes_check(&rc, cls == 5 ? R : T, first_stage(b->stages), false,
			&f);
	findings_text(&f, text, sizeof(text));
	count(&f, &nerr, &nwarn, &nnote);
	ck_assert_msg(r == 0 && nerr == 0 && nwarn <= 1,
		      "%d %s: got [%s], want at most one warning", rc.basic,
		      spec, text);
	if (nwarn == 1) {
		/* only where RFC 3463 gives the detail to the other class,
		 * or IANA names no usable code of this class */
		int justified =
		    (e->perm == PERM_TRANSIENT_ONLY && cls == 5) ||
		    (e->perm == PERM_PERMANENT_ONLY && cls == 4) ||
		    (e->assoc_class_only != 0 && e->assoc_class_only != cls) ||
		    (e->assoc[0] != 0 && !usable_listed(e, cls));
		ck_assert_msg(justified, "%d %s: got [%s], want no warning",
			      rc.basic, spec, text);
	}
}
END_TEST

/* The documented departures from the default rule (codes.c). */
static const struct {
	int cls, subject, detail;
} rule_exceptions[] = {
    {4, 2, 2}, {4, 5, 3}, {5, 7, 0}, {4, 7, 15}, {5, 7, 16},
};

static int popcount(unsigned m)
{
	int n = 0;

	for (; m != 0; m &= m - 1)
		n++;
	return n;
}

/* The rule codes.c documents for default_basic4/5, computed. */
static int rule_default(const struct enhanced_info *e, int cls)
{
	int best = 0, best_n = -1, only421 = 0;

	for (int k = 0; k < CODES_MAX_ASSOC && e->assoc[k] != 0; k++) {
		const struct basic_info *b = codes_basic(e->assoc[k]);
		int n;
		if (e->assoc[k] / 100 != cls || b == NULL || b->commands == 0)
			continue;
		if (b->code == 421) {
			only421 = 1;
			continue;
		}
		n = popcount(b->commands);
		if (n > best_n || (n == best_n && b->code < best)) {
			best = b->code;
			best_n = n;
		}
	}
	if (best != 0)
		return best;
	if (only421)
		return 421;
	return cls == 4 ? 451 : 550;
}

/* _i = row * 2 + (class 4 or 5) */
START_TEST(test_enhanced_default_rule)
{
	const struct enhanced_info *e = codes_enhanced_at((size_t)(_i / 2));
	int cls = _i % 2 ? 5 : 4, want = rule_default(e, cls);
	int got = cls == 4 ? e->default_basic4 : e->default_basic5;

	for (size_t k = 0;
	     k < sizeof(rule_exceptions) / sizeof(rule_exceptions[0]); k++)
		if (rule_exceptions[k].cls == cls &&
		    rule_exceptions[k].subject == e->subject &&
		    rule_exceptions[k].detail == e->detail) {
			ck_assert_msg(got != want,
				      "%d.%d.%d: got %d, which the rule gives: "
				      "want it off the exception list",
				      cls, e->subject, e->detail, got);
			return;
		}
	ck_assert_msg(got == want, "%d.%d.%d default: got %d, want %d (rule)",
		      cls, e->subject, e->detail, got, want);
}
END_TEST

/* ---- runner ---------------------------------------------------------------
 */

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *codes_suite(void)
{
	Suite *s = suite_create("codes");
	TCase *tc;

	tc = tcase_create("iana_csv");
	tcase_add_test(tc, test_csv_loaded);
	tcase_add_loop_test(tc, test_csv_row, 0, csv_nrows > 0 ? csv_nrows : 0);
	tcase_add_test(tc, test_csv_fixups);
	tcase_add_test(tc, test_csv_folds);
	tcase_add_test(tc, test_table_is_csv);
	tcase_add_test(tc, test_late_codes);
	tcase_add_test(tc, test_csv_basic_codes_known);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_loop_test(tc, test_rfc_code, 0, N(rfc_codes));
	tcase_add_loop_test(tc, test_basic_commands, 0,
			    (int)codes_basic_count());
	tcase_add_test(tc, test_basic_rows);
	tcase_add_test(tc, test_enhanced_rows);
	suite_add_tcase(s, tc);

	tc = tcase_create("spec");
	tcase_add_loop_test(tc, test_spec, 0, N(spec_cases));
	tcase_add_test(tc, test_spec_null);
	tcase_add_test(tc, test_format_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_loop_test(tc, test_check, 0, N(check_cases));
	tcase_add_loop_test(tc, test_check_raw, 0, N(raw_cases));
	tcase_add_test(tc, test_check_limits);
	tcase_add_loop_test(tc, test_check_sweep, 0,
			    (int)codes_basic_count() + 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("practice");
	tcase_add_loop_test(tc, test_practice_row, 0,
			    (int)codes_practice_count());
	tcase_add_test(tc, test_practice_size);
	tcase_add_loop_test(tc, test_private_row, 0,
			    (int)codes_private_count());
	suite_add_tcase(s, tc);

	tc = tcase_create("defaults");
	tcase_add_loop_test(tc, test_basic_default_clean, 0,
			    (int)codes_basic_count());
	tcase_add_loop_test(tc, test_enhanced_default_clean, 0,
			    (int)codes_enhanced_count() * 2);
	tcase_add_loop_test(tc, test_enhanced_default_rule, 0,
			    (int)codes_enhanced_count() * 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("RCM_TESTDATA");
	SRunner *sr;
	int failed;

	if (argc > 1)
		dir = argv[1];
	if (dir == NULL || dir[0] == '\0')
		dir = "tests/data";
	csv_load(dir);
	sr = srunner_create(codes_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	csv_free();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
