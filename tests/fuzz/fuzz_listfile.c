/*
 * fuzz_listfile.c - fuzz target for list files: the input (after its
 * first byte) is written to a scratch file and read with listfile_read()
 * and listfile_load().
 *
 * Byte 0 chooses what each entry is handed to, as the config loader
 * would: '0' nothing (only kept), '1' addr_set_add, '2'
 * domain_set_add_entry, '3' email_set_add, '4' regex_list_add (other
 * values: modulo 5). Both readers are checked against a reference reader
 * kept here (listfile.h's format: BOM, CRLF, trimmed blanks, whole-line
 * comments, 4096-octet lines, no NUL): the same entries, the same line
 * numbers, and an error at the same line, in the form "PATH:LINE: ...".
 * Writes only its own scratch directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/listfile.h"
#include "lib/match.h"

struct ref {
	size_t n;
	char **text;
	int *line;
	int bad_line; /* 0: the file is fine */
};

/* The reference reader: entries and their lines, or the first bad line. */
static void ref_read(const uint8_t *p, size_t len, struct ref *r)
{
	size_t i = 0;
	int line = 0;

	memset(r, 0, sizeof(*r));
	r->text = calloc(len + 1, sizeof(char *));
	r->line = calloc(len + 1, sizeof(int));
	if (r->text == NULL || r->line == NULL)
		abort();
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		size_t s = i, e;
		const uint8_t *nl = memchr(p + i, '\n', len - i);
		e = nl != NULL ? (size_t)(nl - p) : len;
		line++;
		i = e + 1;
		if (e > s && p[e - 1] == '\r')
			e--;
		if (e - s > LISTFILE_LINE_MAX || memchr(p + s, 0, e - s)) {
			r->bad_line = line;
			return;
		}
		while (s < e && (p[s] == ' ' || p[s] == '\t'))
			s++;
		while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (s == e || p[s] == '#')
			continue;
		r->text[r->n] = fuzz_strndup(p + s, e - s);
		r->line[r->n++] = line;
	}
}

static void ref_free(struct ref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->text[i]);
	free(r->text);
	free(r->line);
}

struct sink {
	int mode;
	size_t n;
	bool refused; /* the last add returned -1 */
	const struct ref *ref;
	struct addr_set *addrs;
	struct domain_set *domains;
	struct email_set *emails;
	struct regex_list *regexes;
};

static int add(void *arg, const char *entry, char *err, size_t errlen)
{
	struct sink *k = arg;
	size_t len = strlen(entry);
	int r;

	FUZZ_CHECK(len > 0 && len <= LISTFILE_LINE_MAX && entry[0] != '#' &&
			   entry[0] != ' ' && entry[0] != '\t' &&
			   entry[len - 1] != ' ' && entry[len - 1] != '\t' &&
			   strchr(entry, '\n') == NULL,
		   "entry %zu is not trimmed or has a line break: \"%.60s\"",
		   k->n, entry);
	FUZZ_CHECK(k->n < k->ref->n && strcmp(entry, k->ref->text[k->n]) == 0,
		   "entry %zu is \"%.60s\", want \"%.60s\"", k->n, entry,
		   k->n < k->ref->n ? k->ref->text[k->n] : "(none)");
	k->n++;
	switch (k->mode) {
	case 1:
		r = addr_set_add(k->addrs, entry, err, errlen);
		break;
	case 2:
		r = domain_set_add_entry(k->domains, entry, err, errlen);
		break;
	case 3:
		r = email_set_add(k->emails, entry, err, errlen);
		break;
	case 4:
		r = regex_list_add(k->regexes, entry, REGEX_CASELESS, err,
				   errlen);
		break;
	default:
		r = 0;
		break;
	}
	k->refused = r != 0;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t m = fuzz_u8(&in);
	struct sink k = {0};
	struct ref ref;
	struct listfile *lf;
	char path[300], err[512], want[320];
	int n;

	k.mode = (m >= '0' && m <= '4') ? m - '0' : m % 5;
	k.ref = &ref;
	k.addrs = addr_set_new();
	k.domains = domain_set_new();
	k.emails = email_set_new(false);
	k.regexes = regex_list_new();
	if (k.addrs == NULL || k.domains == NULL || k.emails == NULL ||
	    k.regexes == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/list", fuzz_dir());
	fuzz_write(path, in.p, in.n);
	ref_read(in.p, in.n, &ref);

	n = listfile_read(path, add, &k, err, sizeof(err));
	if (n >= 0) {
		FUZZ_CHECK(ref.bad_line == 0 && (size_t)n == ref.n &&
				   k.n == ref.n,
			   "listfile_read gave %d entries (%zu seen), want "
			   "%zu%s",
			   n, k.n, ref.n,
			   ref.bad_line ? " and an error" : "");
	} else if (!k.refused) {
		/* The file itself is bad. */
		FUZZ_CHECK(ref.bad_line != 0 && k.n == ref.n,
			   "listfile_read failed (%.100s) with no bad line "
			   "or refused entry",
			   err);
		snprintf(want, sizeof(want), "%s:%d: ", path, ref.bad_line);
		FUZZ_CHECK(strncmp(err, want, strlen(want)) == 0,
			   "error \"%.100s\", want it to start \"%s\"", err,
			   want);
	} else {
		/* An entry was refused: the error names its line. */
		snprintf(want, sizeof(want), "%s:%d: ", path,
			 ref.line[k.n - 1]);
		FUZZ_CHECK(strncmp(err, want, strlen(want)) == 0 &&
				   err[strlen(want)] != '\0',
			   "error \"%.100s\", want \"%s<message>\"", err, want);
	}

	lf = listfile_load(path, err, sizeof(err));
	if (ref.bad_line != 0) {
		FUZZ_CHECK(lf == NULL, "listfile_load took a bad file (line %d)",
			   ref.bad_line);
	} else {
		FUZZ_CHECK(lf != NULL && lf->n == ref.n,
			   "listfile_load: %s, %zu entries, want %zu",
			   lf == NULL ? err : "ok", lf ? lf->n : 0, ref.n);
		for (size_t i = 0; i < lf->n; i++)
			FUZZ_CHECK(strcmp(lf->entries[i].text, ref.text[i]) ==
						   0 &&
					   lf->entries[i].line == ref.line[i],
				   "listfile_load entry %zu: \"%.60s\" line %d, "
				   "want \"%.60s\" line %d",
				   i, lf->entries[i].text, lf->entries[i].line,
				   ref.text[i], ref.line[i]);
		listfile_free(&lf);
		FUZZ_CHECK(lf == NULL, "listfile_free left the pointer");
	}
	ref_free(&ref);
	addr_set_free(&k.addrs);
	domain_set_free(&k.domains);
	email_set_free(&k.emails);
	regex_list_free(&k.regexes);
	return 0;
}
