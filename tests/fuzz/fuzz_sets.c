/*
 * fuzz_sets.c - fuzz target for domain and e-mail address sets: every
 * input line is offered to domain_set_add_entry() and to email_set_add()
 * (one set that folds the local part's case, one that keeps it), then
 * looked up in all the sets (an address through envaddr_parse(), whose
 * own promises fuzz_addr checks).
 *
 * Checked: domain matching against a naive model kept here (exact names,
 * and ".name"/"*.name" entries for the names strictly below), and that an
 * address added to an e-mail set reads as an envelope address and matches
 * itself (and, without case, its upper-case form). Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/match.h"

#define LINES_MAX 128

struct dentry {
	char name[DOMAIN_MAX + 2];
	bool sub;
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* The model's form of an accepted entry. */
static void model_add(const char *text, struct dentry *e)
{
	size_t n;

	e->sub = false;
	if (text[0] == '*' && text[1] == '.') {
		e->sub = true;
		text += 2;
	} else if (text[0] == '.') {
		e->sub = true;
		text++;
	}
	n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--;
	FUZZ_CHECK(n >= 1 && n <= DOMAIN_MAX, "accepted a %zu-octet domain",
		   n);
	for (size_t i = 0; i < n; i++)
		e->name[i] = lower(text[i]);
	e->name[n] = '\0';
}

static bool model_match(const struct dentry *e, size_t ne, const char *d)
{
	char name[DOMAIN_MAX + 2];
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		name[i] = lower(d[i]);
	name[n] = '\0';
	for (size_t i = 0; i < ne; i++) {
		size_t k = strlen(e[i].name);
		if (!e[i].sub && strcmp(name, e[i].name) == 0)
			return true;
		if (e[i].sub && n > k && name[n - k - 1] == '.' &&
		    strcmp(name + n - k, e[i].name) == 0)
			return true;
	}
	return false;
}

static void check_domain(const struct domain_set *s, const struct dentry *e,
			 size_t ne, const char *d)
{
	bool got = domain_set_match(s, d), want = model_match(e, ne, d);

	FUZZ_CHECK(got == want, "domain_set_match(\"%.80s\") gave %d, want %d",
		   d, got, want);
}

/* Does addr, read as an envelope address, match s? It must be readable. */
static bool email_match(const struct email_set *s, const char *addr)
{
	struct envaddr a;
	char err[128];

	FUZZ_CHECK(envaddr_parse(addr, strlen(addr), &a, err, sizeof(err)) == 0,
		   "\"%.60s\" was added to a set but does not read (%s)", addr,
		   err);
	return email_set_match(s, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strndup(data, size), *lines[LINES_MAX], err[256];
	size_t n = fuzz_split(buf, size, '\n', lines, LINES_MAX), ne = 0;
	struct dentry *e = calloc(LINES_MAX, sizeof(*e));
	bool *in_nocase = calloc(LINES_MAX, sizeof(bool));
	bool *in_cs = calloc(LINES_MAX, sizeof(bool));
	struct domain_set *ds = domain_set_new();
	struct email_set *nocase = email_set_new(false);
	struct email_set *cs = email_set_new(true);

	if (e == NULL || in_nocase == NULL || in_cs == NULL || ds == NULL ||
	    nocase == NULL || cs == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		if (domain_set_add_entry(ds, lines[i], err, sizeof(err)) == 0)
			model_add(lines[i], &e[ne++]);
		else
			FUZZ_CHECK(err[0] != '\0', "domain refused silently");
		domain_set_add_entry(ds, lines[i], NULL, 0);
		err[0] = '\0';
		in_nocase[i] = email_set_add(nocase, lines[i], err,
					     sizeof(err)) == 0;
		FUZZ_CHECK(in_nocase[i] || err[0] != '\0',
			   "address refused silently");
		in_cs[i] = email_set_add(cs, lines[i], err, 1) == 0;
		FUZZ_CHECK(in_cs[i] == in_nocase[i],
			   "\"%.60s\": the two sets disagree on taking it",
			   lines[i]);
	}
	FUZZ_CHECK(domain_set_count(ds) <= ne && email_set_count(nocase) <= n &&
			   email_set_count(nocase) <= email_set_count(cs),
		   "counts: %zu domains of %zu, %zu and %zu addresses",
		   domain_set_count(ds), ne, email_set_count(nocase),
		   email_set_count(cs));
	for (size_t i = 0; i < n; i++) {
		char up[EMAIL_MAX + 2];

		check_domain(ds, e, ne, lines[i]);
		if (!in_nocase[i])
			continue;
		FUZZ_CHECK(email_match(nocase, lines[i]) &&
			       email_match(cs, lines[i]),
			   "\"%.60s\" was added but does not match", lines[i]);
		snprintf(up, sizeof(up), "%s", lines[i]);
		for (char *c = up; *c != '\0'; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 32);
		FUZZ_CHECK(email_match(nocase, up),
			   "\"%.60s\" was added but \"%.60s\" does not match",
			   lines[i], up);
	}
	for (size_t i = 0; i < ne; i++) {
		char probe[DOMAIN_MAX + 8];
		snprintf(probe, sizeof(probe), "%s", e[i].name);
		check_domain(ds, e, ne, probe);
		snprintf(probe, sizeof(probe), "x.%s", e[i].name);
		check_domain(ds, e, ne, probe);
		snprintf(probe, sizeof(probe), "%s.", e[i].name);
		for (char *c = probe; *c != '\0'; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 32);
		check_domain(ds, e, ne, probe);
	}
	domain_set_free(&ds);
	email_set_free(&nocase);
	email_set_free(&cs);
	FUZZ_CHECK(ds == NULL && nocase == NULL && cs == NULL,
		   "a _free left its pointer");
	free(in_cs);
	free(in_nocase);
	free(e);
	free(buf);
	return 0;
}
