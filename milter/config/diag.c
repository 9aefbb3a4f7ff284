/*
 * diag.c - the bottom of milter/config/: the diagnostics a load collects
 * (struct diags), findings with file, line and rule (error_at, warn_at,
 * report_in), and the line of every option the scanner saw.
 *
 * Imports nothing else of the folder: every other file of it may use this
 * one. Never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

#define DIAGS_MAX 500 /* diagnostics kept; the rest counted */

void diags_free(struct diags *d)
{
	free(d->item);
	memset(d, 0, sizeof(*d));
}

static void diags_add(struct diags *d, enum finding_severity sev,
		      const char *text)
{
	size_t n;

	if (sev == FINDING_ERROR)
		d->nerrors++;
	else if (sev == FINDING_WARNING)
		d->nwarnings++;
	else
		d->nnotes++;
	if (d->count >= DIAGS_MAX)
		return;
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *ni = realloc(d->item, cap * sizeof(*ni));
		if (ni == NULL)
			return; /* counted, not kept */
		d->item = ni;
		d->cap = cap;
	}
	n = strnlen(text, sizeof(d->item[0].text) - 1);
	d->item[d->count].error = sev == FINDING_ERROR;
	d->item[d->count].note = sev == FINDING_NOTE;
	memcpy(d->item[d->count].text, text, n);
	d->item[d->count].text[n] = '\0';
	d->count++;
}

/*
 * Report a finding: "FILE:LINE: rule NAME: error: text". line <= 0 leaves
 * the line out; rule NULL leaves the rule out (what may then be "list X"
 * or "on_error" through the caller's text). A warning is an error under
 * strict = true; a note stays a note.
 */
__attribute__((format(printf, 6, 0))) void
vreport_sev(struct loader *L, enum finding_severity sev, int line,
	    const char *what, const char *name, const char *fmt, va_list ap)
{
	char msg[512], text[1200];
	char where[128] = "";
	bool strict_made = false;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sev == FINDING_WARNING && L->strict) {
		sev = FINDING_ERROR;
		strict_made = true;
	}
	if (what != NULL && name != NULL)
		snprintf(where, sizeof(where), "%s %.80s: ", what, name);
	else if (what != NULL)
		snprintf(where, sizeof(where), "%s: ", what);
	if (line > 0)
		snprintf(text, sizeof(text), "%s:%d: %s%s: %s%s", L->path, line,
			 where, finding_severity_name(sev), msg,
			 strict_made ? " (a warning; strict = true)" : "");
	else
		snprintf(text, sizeof(text), "%s: %s%s: %s%s", L->path, where,
			 finding_severity_name(sev), msg,
			 strict_made ? " (a warning; strict = true)" : "");
	if (sev == FINDING_WARNING)
		L->nwarnings++;
	diags_add(L->d, sev, text);
}

__attribute__((format(printf, 6, 0))) void
vreport(struct loader *L, bool error, int line, const char *what,
	const char *name, const char *fmt, va_list ap)
{
	vreport_sev(L, error ? FINDING_ERROR : FINDING_WARNING, line, what,
		    name, fmt, ap);
}

__attribute__((format(printf, 4, 5))) void
error_at(struct loader *L, int line, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(L, true, line, rule != NULL ? "rule" : NULL, rule, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) void
warn_at(struct loader *L, int line, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(L, false, line, rule != NULL ? "rule" : NULL, rule, fmt, ap);
	va_end(ap);
}

/* The same, in another context: "list NAME", "on_error". */
__attribute__((format(printf, 6, 7))) void
report_in(struct loader *L, bool error, int line, const char *what,
	  const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(L, error, line, what, name, fmt, ap);
	va_end(ap);
}

int grow(void *pp, size_t *cap, size_t n, size_t size)
{
	void **p = pp;
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	np = realloc(*p, ncap * size);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* The section of kind and title (title NULL: untitled); -2 when unknown. */
int scan_sec_find(const struct scan *sc, const char *kind,
			 const char *title)
{
	for (size_t i = 0; i < sc->nsec; i++) {
		const struct scan_sec *s = &sc->sec[i];
		if (strcmp(s->kind, kind) != 0)
			continue;
		if ((title == NULL) != (s->title == NULL))
			continue;
		if (title == NULL || strcmp(title, s->title) == 0)
			return (int)i;
	}
	return -2;
}

int scan_sec_line(const struct scan *sc, int sec)
{
	return sec >= 0 && (size_t)sec < sc->nsec ? sc->sec[sec].line : 0;
}

/* Index of the assignment libconfuse keeps: the last "=", or -1. */
static int scan_opt_last(const struct scan *sc, int sec, const char *name)
{
	int found = -1;

	for (size_t k = 0; k < sc->nopt; k++)
		if (sc->opt[k].sec == sec && !sc->opt[k].append &&
		    strcmp(sc->opt[k].name, name) == 0)
			found = (int)k;
	if (found < 0) {
		for (size_t k = 0; k < sc->nopt; k++)
			if (sc->opt[k].sec == sec &&
			    strcmp(sc->opt[k].name, name) == 0)
				return (int)k;
	}
	return found;
}

/* Line of option name in section sec; fallback when not found. */
int opt_line(const struct scan *sc, int sec, const char *name,
		    int fallback)
{
	int k = scan_opt_last(sc, sec, name);

	return k >= 0 ? sc->opt[k].line : fallback;
}

bool opt_given(const struct scan *sc, int sec, const char *name)
{
	return scan_opt_last(sc, sec, name) >= 0;
}

/* Line of the idx-th value of a list option. */
int val_line(const struct scan *sc, int sec, const char *name,
		    size_t idx, int fallback)
{
	int k = scan_opt_last(sc, sec, name);

	if (k < 0)
		return fallback;
	for (size_t j = (size_t)k; j < sc->nopt; j++) {
		const struct scan_opt *o = &sc->opt[j];
		if (o->sec != sec || strcmp(o->name, name) != 0)
			continue;
		if (j != (size_t)k && !o->append)
			break;
		if (idx < o->nvals)
			return sc->val_line[o->first_val + idx];
		idx -= o->nvals;
	}
	return opt_line(sc, sec, name, fallback);
}

const char *a_an(const char *word)
{
	return strchr("aeiou", word[0]) != NULL ? "an" : "a";
}
