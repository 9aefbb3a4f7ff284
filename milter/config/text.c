/*
 * text.c - what a rule or on_error says: the reply code (checked against
 * the code registry), its text lines (compiled as templates, and whether
 * the reply goes out whole), the headers a rule adds and its log line.
 *
 * Uses diag.c and parse.c; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "core/template.h"

__attribute__((format(printf, 4, 5))) static void
wreport_sev(const struct where *w, enum finding_severity sev, int line,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_sev(w->L, sev, line > 0 ? line : w->line, w->what, w->name,
		    fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) void
wreport(const struct where *w, bool error, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(w->L, error, line > 0 ? line : w->line, w->what, w->name, fmt,
		ap);
	va_end(ap);
}

/*
 * Has the note text about code been reported already? Remembers it when
 * not (when memory runs out it is reported again: nothing is lost).
 */
static bool note_seen(struct loader *L, const char *code, const char *text)
{
	char *key;

	if (asprintf(&key, "%s: %s", code, text) < 0)
		return false;
	for (size_t i = 0; i < L->nnotes; i++) {
		if (strcmp(L->notes[i], key) == 0) {
			free(key);
			return true;
		}
	}
	if (grow(&L->notes, &L->notes_cap, L->nnotes + 1, sizeof(char *)) !=
	    0) {
		free(key);
		return false;
	}
	L->notes[L->nnotes++] = key;
	return false;
}

/*
 * Parse the reply spec (or the default) and report what codes_check finds
 * for a rule of stage st with verdict v. Returns the number of errors.
 */
int reply_check(const struct where *w, const char *spec,
		       const char *dflt, enum verdict v, enum stage st,
		       struct reply_code *out)
{
	int line = opt_line(&w->L->sc, w->sec, "reply", w->line);
	struct findings f = {0};
	char err[256], code[32];
	int errors;

	if (codes_parse_spec(spec != NULL ? spec : dflt, out, err,
			     sizeof(err)) != 0) {
		wreport(w, true, line, "reply \"%s\": %s",
			spec != NULL ? spec : dflt, err);
		return 1;
	}
	errors = codes_check(out, v, st, w->L->p->hold_early, &f);
	codes_format(out, code, sizeof(code));
	for (size_t i = 0; i < f.count; i++) {
		/* notes are advice on a postmaster's choice, not on ours, and
		 * said once: at the first rule they apply to */
		if (f.item[i].severity == FINDING_NOTE &&
		    (spec == NULL || note_seen(w->L, code, f.item[i].text)))
			continue;
		wreport_sev(w, f.item[i].severity, line, "reply %s%s: %s", code,
			    spec == NULL ? " (the default)" : "",
			    f.item[i].text);
	}
	return errors;
}

/*
 * How many wire lines text line t takes at most, as the first text line
 * when first is set: its exact wrapping for literal text, at every room
 * Sendmail's address prefix can take (0 or 6 to reserve octets); a bound
 * for text with placeholders at their longest (template.h).
 */
static size_t text_lines_most(const struct reply_code *code,
			      const struct template *t, bool first,
			      size_t reserve)
{
	size_t nph = template_count(t), len = template_literal_len(t), most = 0;

	if (!first)
		reserve = 0;
	if (nph > 0) {
		len += nph * PLACEHOLDER_WORST;
		if (len > EXPAND_LINE_MAX - 1)
			len = EXPAND_LINE_MAX - 1;
		return reply_lines_bound(code, len, reserve);
	}
	for (size_t r = 0; r <= reserve; r = r == 0 ? 6 : r + 1) {
		size_t n = reply_wire_lines(code, template_literal(t), r);
		if (n > most)
			most = n;
	}
	return most;
}

/*
 * Will the text go out whole? Counts the wire lines (wrapping, the first
 * line's room for Sendmail's prefix, placeholders at their longest)
 * against REPLY_MAX_LINES. Returns the number of errors.
 */
static int text_fits(const struct where *w, const struct reply_code *code,
		     struct template *const *text, size_t n, size_t reserve)
{
	size_t total = 0, any = 0;

	for (size_t k = 0; k < n; k++) {
		size_t lines = text_lines_most(code, text[k], k == 0, reserve);
		size_t len = template_literal_len(text[k]);
		size_t nph = template_count(text[k]);
		any += nph;
		if (len + nph * PLACEHOLDER_WORST > EXPAND_LINE_MAX - 1) {
			int line = val_line(&w->L->sc, w->sec, "text",
					    (unsigned)k, w->line);
			if (nph == 0)
				wreport(w, true, line,
					"text line %zu is %zu octets; a text "
					"line is at most %d",
					k + 1, len, EXPAND_LINE_MAX - 1);
			else
				wreport(w, true, line,
					"text line %zu can reach %zu octets "
					"(%zu placeholders at %d octets each); "
					"a text line is at most %d",
					k + 1, len + nph * PLACEHOLDER_WORST,
					nph, PLACEHOLDER_WORST,
					EXPAND_LINE_MAX - 1);
			return 1;
		}
		total += lines;
	}
	if (total <= REPLY_MAX_LINES)
		return 0;
	wreport(w, true, opt_line(&w->L->sc, w->sec, "text", w->line),
		"text takes up to %zu reply lines, wrapped at 512 octets a "
		"line%s%s; a reply has at most %d, so it would be cut",
		total,
		reserve > 0 ? ", with room for Sendmail's \"<address>... \" "
			      "on the first"
			    : "",
		any > 0 ? ", placeholders at their longest" : "",
		REPLY_MAX_LINES);
	return 1;
}


/* The literal text of each line (what a line without placeholders sends),
 * into lit (n entries). */
void texts_literal(const struct texts *t, const char **lit)
{
	for (size_t i = 0; i < t->n; i++)
		lit[i] = template_literal(t->tmpl[i]);
}

/*
 * Check text lines and compile them into t (as written and compiled).
 * code: the reply they go with (NULL: a quarantine reason); reserve: the
 * most room Sendmail's prefix takes on its first line. placeholders:
 * whether $name may be used (else the text is sent as written).
 * Returns the number of errors, or -1 when memory ran out.
 */
int text_take(const struct where *w, const struct reply_code *code,
		     size_t reserve, bool placeholders, struct texts *t)
{
	unsigned n = cfg_size(w->cs, "text");
	int errors = 0;

	if (n == 0)
		return 0;
	if (code != NULL && n > TEXT_MAX_LINES) {
		wreport(w, true, opt_line(&w->L->sc, w->sec, "text", w->line),
			"text has %u lines; a reply has at most %d", n,
			TEXT_MAX_LINES);
		return 1;
	}
	if (code == NULL && n > 1) {
		wreport(w, true, opt_line(&w->L->sc, w->sec, "text", w->line),
			"the text of a quarantine rule is the reason, one "
			"line; it has %u",
			n);
		return 1;
	}
	if ((t->text = calloc(n, sizeof(*t->text))) == NULL ||
	    (t->tmpl = calloc(n, sizeof(*t->tmpl))) == NULL)
		return -1;
	t->n = n;
	for (unsigned k = 0; k < n; k++) {
		const char *s = cfg_getnstr(w->cs, "text", k);
		int line = val_line(&w->L->sc, w->sec, "text", k, w->line);
		char err[300];
		int rc;
		if ((t->text[k] = strdup(s)) == NULL)
			return -1;
		if (reply_text_check(s, err, sizeof(err)) != 0) {
			wreport(w, true, line, "text: %s", err);
			errors++;
			continue;
		}
		rc = template_compile(s, placeholders, &t->tmpl[k], err,
				      sizeof(err));
		if (rc == -2)
			return -1;
		if (rc != 0) {
			wreport(w, true, line, "text: %s", err);
			errors++;
			continue;
		}
		t->dynamic = t->dynamic || template_count(t->tmpl[k]) > 0;
	}
	if (code != NULL && errors == 0)
		errors = text_fits(w, code, t->tmpl, n, reserve);
	return errors;
}

/* add_header = { "Name: value", ... }. Returns errors, -1 on no memory. */
int headers_take(const struct where *w, struct rule *r)
{
	unsigned n = cfg_size(w->cs, "add_header");
	int errors = 0;

	if (n == 0)
		return 0;
	if (n > RULE_MAX_HEADERS) {
		wreport(w, true,
			opt_line(&w->L->sc, w->sec, "add_header", w->line),
			"add_header has %u entries; a rule may add at most %d",
			n, RULE_MAX_HEADERS);
		return 1;
	}
	if ((r->hdr_name = calloc(n, sizeof(char *))) == NULL ||
	    (r->hdr_value = calloc(n, sizeof(char *))) == NULL ||
	    (r->hdr_t = calloc(n, sizeof(*r->hdr_t))) == NULL)
		return -1;
	r->nheaders = n;
	for (unsigned k = 0; k < n; k++) {
		const char *h = cfg_getnstr(w->cs, "add_header", k);
		const char *colon = strchr(h, ':');
		const char *v;
		int line =
		    val_line(&w->L->sc, w->sec, "add_header", k, w->line);
		char err[300];
		int rc = 0;
		if (colon == NULL) {
			wreport(w, true, line,
				"add_header \"%s\": want \"Name: value\" (no "
				"':' found)",
				h);
			errors++;
			continue;
		}
		if (!field_name_ok(h, (size_t)(colon - h))) {
			wreport(w, true, line,
				"add_header \"%s\": \"%.*s\" is not a header "
				"field name (printable ASCII, no space)",
				h, (int)(colon - h), h);
			errors++;
			continue;
		}
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (reply_text_check(v, err, sizeof(err)) != 0 ||
		    (rc = template_compile(v, true, &r->hdr_t[k], err,
					   sizeof(err))) == -1) {
			wreport(w, true, line, "add_header \"%s\": %s", h, err);
			errors++;
			continue;
		}
		if (rc == -2)
			return -1;
		r->hdr_name[k] = strndup(h, (size_t)(colon - h));
		r->hdr_value[k] = strdup(v);
		if (r->hdr_name[k] == NULL || r->hdr_value[k] == NULL)
			return -1;
	}
	return errors;
}

int log_take(const struct where *w, struct rule *r)
{
	const char *s = cfg_getstr(w->cs, "log");
	char err[300];
	int rc = 0;

	if (s == NULL)
		return 0;
	if (reply_text_check(s, err, sizeof(err)) != 0 ||
	    (rc = template_compile(s, true, &r->log_t, err, sizeof(err))) ==
		-1) {
		wreport(w, true, opt_line(&w->L->sc, w->sec, "log", w->line),
			"log: %s", err);
		return 1;
	}
	if (rc == -2 || (r->log = strdup(s)) == NULL)
		return -1;
	return 0;
}
