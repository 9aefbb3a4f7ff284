/*
 * config.c - read the config file, check every option, and compile it into
 * an immutable struct policy (see config.h).
 *
 * The only file that calls cfg_*. Never logs and never exits: every finding
 * becomes a diagnostic with file and line. A policy leaves this file only
 * when there was no error; on any error all that was built is freed.
 *
 * The file is read twice. First by a small scanner of our own, which finds
 * the line of every section, option and list value, refuses ${...} (which
 * libconfuse would replace with an environment variable) and include(),
 * and blanks out comments. Then by libconfuse, on the blanked text:
 * libconfuse 3.3 miscounts lines after a comment and fails on a comment
 * inside a list, so it never sees one.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <confuse.h>

#include "config/config.h"
#include "lib/listfile.h"

#define CONFIG_FILE_MAX (64u << 20) /* bytes of config file we read */
#define DIAGS_MAX	500	    /* diagnostics kept; the rest counted */
#define NAME_MAX_LEN	64	    /* rule and list names */
#define TEXT_MAX_LINES	REPLY_MAX_LINES

/* --- diagnostics ----------------------------------------------------- */

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

/* --- the scanner ----------------------------------------------------- */

enum tok_type {
	T_WORD,
	T_STR,
	T_LBRACE,
	T_RBRACE,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_EQ,
	T_PLUSEQ,
};

struct tok {
	enum tok_type type;
	int line;
	char *text; /* owned; T_WORD and T_STR: the value, unescaped */
};

/* A section ("rule", "list", "on_error") as the scanner saw it. */
struct scan_sec {
	char *kind;  /* owned */
	char *title; /* owned; NULL: no title */
	int line;
};

/* One "name = value" or "name += value" in a section (sec -1: top). */
struct scan_opt {
	int sec;
	char *name; /* owned */
	int line;
	bool append;
	size_t first_val, nvals; /* into scan.val_line */
};

struct scan {
	struct tok *tok;
	size_t ntok, captok;
	struct scan_sec *sec;
	size_t nsec, capsec;
	struct scan_opt *opt;
	size_t nopt, capopt;
	int *val_line;
	size_t nval, capval;
	bool cut; /* a string or comment runs to the end of the file */
};

/* A named list of the config. */
enum list_type { LT_ADDRESS, LT_DOMAIN, LT_EMAIL, LT_REGEX, LT_COUNT };

static const char *const list_type_names[LT_COUNT] = {"address", "domain",
						      "email", "regex"};

/* One list entry and where it was written. */
struct entry {
	const char *text; /* borrowed from libconfuse or a listfile */
	const char *file; /* NULL: the config file */
	int line;
	bool case_sensitive;
};

struct nlist {
	const char *name; /* borrowed from libconfuse */
	enum list_type type;
	bool case_sensitive;
	int line;
	struct listfile *lf; /* owned; NULL when no file */
	char *file;	     /* owned: resolved path of its file */
	int file_line;	     /* line of its "file =" */
	bool bad;	     /* errors already reported */
	bool used;
};

/* Files loaded by "file:PATH" entries of conditions. */
struct loaded_file {
	char *path; /* owned */
	struct listfile *lf;
};

struct loader {
	const char *path;
	char dir[PATH_MAX]; /* directory of the config file */
	struct diags *d;
	bool strict;
	size_t nwarnings;
	struct scan sc;
	struct policy *p;
	struct nlist *lists;
	size_t nlists;
	struct loaded_file *files;
	size_t nfiles;
	char **notes; /* owned: reply notes already reported, "CODE: text" */
	size_t nnotes, notes_cap;
};

/*
 * Report a finding: "FILE:LINE: rule NAME: error: text". line <= 0 leaves
 * the line out; rule NULL leaves the rule out (what may then be "list X"
 * or "on_error" through the caller's text). A warning is an error under
 * strict = true; a note stays a note.
 */
__attribute__((format(printf, 6, 0))) static void
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

__attribute__((format(printf, 6, 0))) static void
vreport(struct loader *L, bool error, int line, const char *what,
	const char *name, const char *fmt, va_list ap)
{
	vreport_sev(L, error ? FINDING_ERROR : FINDING_WARNING, line, what,
		    name, fmt, ap);
}

__attribute__((format(printf, 4, 5))) static void
error_at(struct loader *L, int line, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(L, true, line, rule != NULL ? "rule" : NULL, rule, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void
warn_at(struct loader *L, int line, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(L, false, line, rule != NULL ? "rule" : NULL, rule, fmt, ap);
	va_end(ap);
}

/* The same, in another context: "list NAME", "on_error". */
__attribute__((format(printf, 6, 7))) static void
report_in(struct loader *L, bool error, int line, const char *what,
	  const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(L, error, line, what, name, fmt, ap);
	va_end(ap);
}

static int grow(void *pp, size_t *cap, size_t n, size_t size)
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

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->ntok; i++)
		free(sc->tok[i].text);
	for (size_t i = 0; i < sc->nsec; i++) {
		free(sc->sec[i].kind);
		free(sc->sec[i].title);
	}
	for (size_t i = 0; i < sc->nopt; i++)
		free(sc->opt[i].name);
	free(sc->tok);
	free(sc->sec);
	free(sc->opt);
	free(sc->val_line);
	memset(sc, 0, sizeof(*sc));
}

static int add_tok(struct scan *sc, enum tok_type t, int line, const char *s,
		   size_t n)
{
	struct tok *k;

	if (grow(&sc->tok, &sc->captok, sc->ntok, sizeof(*sc->tok)) != 0)
		return -1;
	k = &sc->tok[sc->ntok];
	k->type = t;
	k->line = line;
	k->text = NULL;
	if (s != NULL && (k->text = strndup(s, n)) == NULL)
		return -1;
	sc->ntok++;
	return 0;
}

static bool word_char(char c)
{
	return c != '\0' && strchr(" \t\r\n\f\v#{}(),=\"'", c) == NULL;
}

/*
 * Split buf into tokens the way libconfuse does, count lines, blank out
 * comments (newlines kept) and report every "${" outside a comment.
 * Returns the number of errors found, or -1 when memory runs out.
 */
static int scan_lex(struct loader *L, char *buf, size_t len)
{
	struct scan *sc = &L->sc;
	int line = 1, errors = 0;
	size_t i = 0;
	char *val = malloc(len + 1);

	if (val == NULL)
		return -1;
	while (i < len) {
		char c = buf[i];
		if (c == '\n') {
			line++;
			i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
			   c == '\v') {
			i++;
		} else if (c == '#' || (c == '/' && buf[i + 1] == '/')) {
			while (i < len && buf[i] != '\n')
				buf[i++] = ' ';
		} else if (c == '/' && buf[i + 1] == '*') {
			int start = line;
			buf[i] = buf[i + 1] = ' ';
			i += 2;
			while (i < len &&
			       !(buf[i] == '*' && buf[i + 1] == '/')) {
				if (buf[i] == '\n')
					line++;
				else
					buf[i] = ' ';
				i++;
			}
			if (i >= len) {
				error_at(L, start, NULL,
					 "comment \"/*\" is never closed");
				errors++;
				sc->cut = true;
				break;
			}
			buf[i] = buf[i + 1] = ' ';
			i += 2;
		} else if (c == '"' || c == '\'') {
			int start = line;
			size_t n = 0;
			i++;
			while (i < len && buf[i] != c) {
				char v = buf[i];
				if (v == '$' && buf[i + 1] == '{' && c == '"') {
					error_at(L, line, NULL,
						 "${...} is expanded by the "
						 "config parser as an "
						 "environment variable; write "
						 "$name");
					errors++;
				}
				if (v == '\\' && i + 1 < len) {
					v = buf[++i];
					if (c == '"' && v == 'n')
						v = '\n';
					else if (c == '"' && v == 't')
						v = '\t';
					else if (c == '\'' && v != '\'' &&
						 v != '\\')
						val[n++] = '\\';
				}
				if (buf[i] == '\n')
					line++;
				val[n++] = v;
				i++;
			}
			if (i >= len) {
				error_at(L, start, NULL,
					 "the string opened with %c at line "
					 "%d is never closed",
					 c, start);
				errors++;
				sc->cut = true;
				break;
			}
			i++;
			if (add_tok(sc, T_STR, start, val, n) != 0)
				goto nomem;
		} else if (c == '+' && buf[i + 1] == '=') {
			if (add_tok(sc, T_PLUSEQ, line, NULL, 0) != 0)
				goto nomem;
			i += 2;
		} else if (strchr("{}(),=", c) != NULL) {
			static const enum tok_type t[] = {T_LBRACE, T_RBRACE,
							  T_LPAREN, T_RPAREN,
							  T_COMMA,  T_EQ};
			if (add_tok(sc, t[strchr("{}(),=", c) - "{}(),="], line,
				    NULL, 0) != 0)
				goto nomem;
			i++;
		} else {
			size_t s = i;
			while (i < len && word_char(buf[i]) &&
			       !(buf[i] == '+' && buf[i + 1] == '=')) {
				if (buf[i] == '$' && buf[i + 1] == '{') {
					error_at(L, line, NULL,
						 "${...} is expanded by the "
						 "config parser as an "
						 "environment variable; write "
						 "$name");
					errors++;
				}
				i++;
			}
			if (add_tok(sc, T_WORD, line, buf + s, i - s) != 0)
				goto nomem;
		}
	}
	free(val);
	return errors;
nomem:
	free(val);
	return -1;
}

/* What the brace or parenthesis at token i opens, for a message. */
static void opener_name(const struct scan *sc, size_t i, char *buf,
			size_t buflen)
{
	const struct tok *t = sc->tok;

	if (t[i].type == T_LPAREN && i >= 1 && t[i - 1].type == T_WORD)
		snprintf(buf, buflen, "the \"(\" of %.64s", t[i - 1].text);
	else if (i >= 2 && t[i - 1].type == T_EQ && t[i - 2].type == T_WORD)
		snprintf(buf, buflen, "the list of %.64s", t[i - 2].text);
	else if (i >= 2 && t[i - 2].type == T_WORD &&
		 (t[i - 1].type == T_STR || t[i - 1].type == T_WORD))
		snprintf(buf, buflen, "%.64s \"%.64s\"", t[i - 2].text,
			 t[i - 1].text);
	else if (i >= 1 && t[i - 1].type == T_WORD)
		snprintf(buf, buflen, "%.64s", t[i - 1].text);
	else
		snprintf(buf, buflen, "a block");
}

/*
 * Every "{" and "(" must be closed, and nothing closed that was not
 * opened: libconfuse takes the end of the file as the end of an open
 * section, so a truncated file would load. Reports the line where each
 * unclosed block opened. Returns the number of errors.
 */
static int scan_balance(struct loader *L)
{
	const struct scan *sc = &L->sc;
	size_t *open = malloc((sc->ntok + 1) * sizeof(*open)), depth = 0;
	int errors = 0;
	char what[160];

	if (open == NULL)
		return -1;
	/* after a string or comment that never ends, blocks end early too:
	 * that error says all */
	for (size_t i = 0; i < sc->ntok && !sc->cut; i++) {
		enum tok_type ty = sc->tok[i].type;
		if (ty == T_LBRACE || ty == T_LPAREN) {
			open[depth++] = i;
		} else if (ty == T_RBRACE || ty == T_RPAREN) {
			enum tok_type want = ty == T_RBRACE ? T_LBRACE : T_LPAREN;
			if (depth == 0 || sc->tok[open[depth - 1]].type != want) {
				error_at(L, sc->tok[i].line, NULL,
					 "\"%c\" closes nothing that is open",
					 ty == T_RBRACE ? '}' : ')');
				errors++;
				break;
			}
			depth--;
		}
	}
	while (depth > 0 && errors == 0 && !sc->cut) {
		size_t i = open[--depth];
		opener_name(sc, i, what, sizeof(what));
		error_at(L, sc->tok[i].line, NULL,
			 "%s, opened with \"%c\" at line %d, is never closed "
			 "(the file ends first)",
			 what, sc->tok[i].type == T_LBRACE ? '{' : '(',
			 sc->tok[i].line);
		errors += 1;
	}
	free(open);
	return errors;
}

static bool tok_is(const struct scan *sc, size_t i, enum tok_type t)
{
	return i < sc->ntok && sc->tok[i].type == t;
}

static bool tok_value(const struct scan *sc, size_t i)
{
	return tok_is(sc, i, T_WORD) || tok_is(sc, i, T_STR);
}

static int add_val_line(struct scan *sc, int line)
{
	if (grow(&sc->val_line, &sc->capval, sc->nval, sizeof(int)) != 0)
		return -1;
	sc->val_line[sc->nval++] = line;
	return 0;
}

static int find_opt_in(const struct scan *sc, int sec, const char *name,
		       size_t before)
{
	for (size_t k = 0; k < before && k < sc->nopt; k++)
		if (sc->opt[k].sec == sec && !sc->opt[k].append &&
		    strcmp(sc->opt[k].name, name) == 0)
			return (int)k;
	return -1;
}

/*
 * Walk the tokens and note every section, option and value with its line.
 * Stops quietly at anything it does not understand: libconfuse reports
 * syntax errors. Returns the number of errors found, or -1 on no memory.
 */
static int scan_structure(struct loader *L)
{
	struct scan *sc = &L->sc;
	int stack[16], depth = 0, sec = -1, errors = 0;
	size_t i = 0;

	while (i < sc->ntok) {
		const struct tok *t = &sc->tok[i];
		if (t->type == T_RBRACE) {
			if (depth == 0)
				break;
			sec = stack[--depth];
			i++;
			continue;
		}
		if (t->type != T_WORD)
			break;
		if (tok_is(sc, i + 1, T_EQ) || tok_is(sc, i + 1, T_PLUSEQ)) {
			struct scan_opt *o;
			bool app = tok_is(sc, i + 1, T_PLUSEQ);
			int prev =
			    app ? -1 : find_opt_in(sc, sec, t->text, sc->nopt);
			if (prev >= 0) {
				error_at(L, t->line, NULL,
					 "%s is set twice (also at line %d)",
					 t->text, sc->opt[prev].line);
				errors++;
			}
			if (grow(&sc->opt, &sc->capopt, sc->nopt,
				 sizeof(*sc->opt)) != 0)
				return -1;
			o = &sc->opt[sc->nopt];
			o->sec = sec;
			o->line = t->line;
			o->append = app;
			o->first_val = sc->nval;
			o->nvals = 0;
			if ((o->name = strdup(t->text)) == NULL)
				return -1;
			sc->nopt++;
			i += 2;
			if (tok_is(sc, i, T_LBRACE)) {
				i++;
				while (tok_value(sc, i)) {
					if (add_val_line(sc, sc->tok[i].line))
						return -1;
					o->nvals++;
					i++;
					if (tok_is(sc, i, T_COMMA))
						i++;
				}
				if (!tok_is(sc, i, T_RBRACE))
					break;
				i++;
			} else if (tok_value(sc, i)) {
				if (add_val_line(sc, sc->tok[i].line))
					return -1;
				o->nvals++;
				i++;
			} else {
				break;
			}
		} else if (tok_is(sc, i + 1, T_LPAREN)) {
			if (strcmp(t->text, "include") == 0) {
				error_at(L, t->line, NULL,
					 "include() is not supported: keep "
					 "the config in one file (lists can "
					 "be in files: see \"file\")");
				errors++;
			}
			while (i < sc->ntok && sc->tok[i].type != T_RPAREN)
				i++;
			i++;
		} else if (tok_is(sc, i + 1, T_LBRACE) ||
			   (tok_value(sc, i + 1) &&
			    tok_is(sc, i + 2, T_LBRACE))) {
			bool titled = !tok_is(sc, i + 1, T_LBRACE);
			struct scan_sec *s;
			if (depth == (int)(sizeof(stack) / sizeof(stack[0])))
				break;
			if (grow(&sc->sec, &sc->capsec, sc->nsec,
				 sizeof(*sc->sec)) != 0)
				return -1;
			s = &sc->sec[sc->nsec];
			s->line = t->line;
			s->title = NULL;
			if ((s->kind = strdup(t->text)) == NULL)
				return -1;
			sc->nsec++;
			if (titled &&
			    (s->title = strdup(sc->tok[i + 1].text)) == NULL)
				return -1;
			if (titled && depth == 0) {
				for (size_t k = 0; k + 1 < sc->nsec; k++) {
					const struct scan_sec *o = &sc->sec[k];
					if (o->title != NULL &&
					    strcmp(o->kind, s->kind) == 0 &&
					    strcmp(o->title, s->title) == 0) {
						error_at(L, s->line, NULL,
							 "duplicate %s name "
							 "\"%s\" (first at "
							 "line %d)",
							 s->kind, s->title,
							 o->line);
						errors++;
						break;
					}
				}
			}
			stack[depth++] = sec;
			sec = (int)sc->nsec - 1;
			i += titled ? 3 : 2;
		} else {
			break;
		}
	}
	return errors;
}

/* The section of kind and title (title NULL: untitled); -2 when unknown. */
static int scan_sec_find(const struct scan *sc, const char *kind,
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

static int scan_sec_line(const struct scan *sc, int sec)
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
static int opt_line(const struct scan *sc, int sec, const char *name,
		    int fallback)
{
	int k = scan_opt_last(sc, sec, name);

	return k >= 0 ? sc->opt[k].line : fallback;
}

static bool opt_given(const struct scan *sc, int sec, const char *name)
{
	return scan_opt_last(sc, sec, name) >= 0;
}

/* Line of the idx-th value of a list option. */
static int val_line(const struct scan *sc, int sec, const char *name,
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

/* --- libconfuse ------------------------------------------------------ */

/* libconfuse has no user pointer for its error callback. */
static __thread struct loader *cfg_loader;

__attribute__((format(printf, 2, 0))) static void
cfg_errfn(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct loader *L = cfg_loader;
	char msg[400];
	const char *title = NULL;

	if (L == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg != NULL && cfg->name != NULL && cfg->title != NULL &&
	    (strcmp(cfg->name, "rule") == 0 || strcmp(cfg->name, "list") == 0))
		title = cfg->title;
	report_in(L, true, cfg != NULL ? cfg->line : 0,
		  title != NULL ? cfg->name : NULL, title, "%s", msg);
}

#define LIST_OPT(n) CFG_STR_LIST(n, NULL, CFGF_NODEFAULT)

static cfg_opt_t rule_opts[] = {
    CFG_STR("stage", NULL, CFGF_NODEFAULT),
    CFG_STR("verdict", NULL, CFGF_NODEFAULT),
    CFG_STR("reply", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("text", NULL, CFGF_NODEFAULT),
    CFG_STR("mode", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("add_header", NULL, CFGF_NODEFAULT),
    CFG_STR("log", NULL, CFGF_NODEFAULT),
    LIST_OPT("client_address"),
    LIST_OPT("not_client_address"),
    LIST_OPT("client_name"),
    LIST_OPT("not_client_name"),
    LIST_OPT("client_name_regex"),
    LIST_OPT("not_client_name_regex"),
    LIST_OPT("helo"),
    LIST_OPT("not_helo"),
    LIST_OPT("helo_regex"),
    LIST_OPT("not_helo_regex"),
    CFG_BOOL("helo_literal", cfg_false, CFGF_NODEFAULT),
    LIST_OPT("sender"),
    LIST_OPT("not_sender"),
    LIST_OPT("sender_domain"),
    LIST_OPT("not_sender_domain"),
    LIST_OPT("sender_regex"),
    LIST_OPT("not_sender_regex"),
    LIST_OPT("recipient"),
    LIST_OPT("not_recipient"),
    LIST_OPT("recipient_domain"),
    LIST_OPT("not_recipient_domain"),
    LIST_OPT("recipient_regex"),
    LIST_OPT("not_recipient_regex"),
    CFG_INT("min_recipients", 0, CFGF_NODEFAULT),
    CFG_INT("max_recipients", 0, CFGF_NODEFAULT),
    CFG_STR("min_size", NULL, CFGF_NODEFAULT),
    CFG_STR("max_size", NULL, CFGF_NODEFAULT),
    CFG_STR("header", NULL, CFGF_NODEFAULT),
    LIST_OPT("header_regex"),
    LIST_OPT("not_header_regex"),
    LIST_OPT("body_regex"),
    CFG_BOOL("authenticated", cfg_false, CFGF_NODEFAULT),
    CFG_BOOL("tls", cfg_false, CFGF_NODEFAULT),
    CFG_STR("macro", NULL, CFGF_NODEFAULT),
    LIST_OPT("macro_regex"),
    LIST_OPT("not_macro_regex"),
    CFG_END()};

static cfg_opt_t list_opts[] = {
    CFG_STR("type", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("entries", NULL, CFGF_NODEFAULT),
    CFG_STR("file", NULL, CFGF_NODEFAULT),
    CFG_BOOL("case_sensitive", cfg_false, CFGF_NONE), CFG_END()};

static cfg_opt_t on_error_opts[] = {CFG_STR("verdict", "tempfail", CFGF_NONE),
				    CFG_STR("reply", NULL, CFGF_NODEFAULT),
				    CFG_STR_LIST("text", NULL, CFGF_NODEFAULT),
				    CFG_END()};

#define DEFAULT_SOCKET "unix:/run/replycode-milter/replycode-milter.sock"

static cfg_opt_t top_opts[] = {
    CFG_STR("socket", DEFAULT_SOCKET, CFGF_NONE),
    CFG_STR("user", "", CFGF_NONE),
    CFG_STR("group", "", CFGF_NONE),
    CFG_STR("socket_mode", "0660", CFGF_NONE),
    CFG_STR("pidfile", "", CFGF_NONE),
    CFG_STR("mode", "enforce", CFGF_NONE),
    CFG_BOOL("strict", cfg_false, CFGF_NONE),
    CFG_BOOL("hold_early_verdicts", cfg_false, CFGF_NONE),
    CFG_INT("timeout", 30, CFGF_NONE),
    CFG_STR("body_match_span", "64K", CFGF_NONE),
    CFG_SEC("on_error", on_error_opts, CFGF_NONE),
    CFG_SEC("list", list_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
    CFG_SEC("rule", rule_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
    CFG_END()};

/* --- small parsers --------------------------------------------------- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A host name or address after '@' of inet:/inet6: */
static bool host_ok(const char *h, bool v6)
{
	if (*h == '\0' || strlen(h) > 255)
		return false;
	if (v6 && *h == '[') /* libmilter takes [addr] too */
		return h[strlen(h) - 1] == ']' && strlen(h) > 2;
	for (; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-' || *h == '.' ||
		      (v6 && *h == ':')))
			return false;
	return true;
}

/*
 * Check a libmilter socket spec: unix:/path, local:/path, inet:PORT,
 * inet:PORT@HOST, inet6:PORT, inet6:PORT@HOST.
 */
static int socket_check(const char *s, char *err, size_t errlen)
{
	const char *p;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		if (*p != '/') {
			snprintf(err, errlen,
				 "socket \"%s\": a unix socket needs an "
				 "absolute path, e.g. \"%s\"",
				 s, DEFAULT_SOCKET);
			return -1;
		}
		if (strlen(p) >= 108) {
			snprintf(err, errlen,
				 "socket \"%s\": the path is longer than a "
				 "unix socket allows (107 bytes)",
				 s);
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		bool v6 = s[4] == '6';
		const char *at;
		long port;
		p = strchr(s, ':') + 1;
		at = strchr(p, '@');
		if (!all_digits(p, at ? (size_t)(at - p) : strlen(p)) ||
		    (port = strtol(p, NULL, 10)) < 1 || port > 65535) {
			snprintf(
			    err, errlen,
			    "socket \"%s\": want a port number 1..65535 "
			    "after \"%s\", e.g. \"%s8890@%s\"",
			    s, v6 ? "inet6:" : "inet:", v6 ? "inet6:" : "inet:",
			    v6 ? "::1" : "127.0.0.1");
			return -1;
		}
		if (at != NULL && !host_ok(at + 1, v6)) {
			snprintf(err, errlen,
				 "socket \"%s\": \"%s\" is not a host name or "
				 "address",
				 s, at + 1);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen,
		 "socket \"%s\": want unix:/path, local:/path, inet:PORT@HOST "
		 "or inet6:PORT@HOST (libmilter syntax; Postfix's "
		 "inet:host:port is not it)",
		 s);
	return -1;
}

/* "10M" -> 10485760. Suffixes K, M, G (1024-based), either case. */
static int size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t n = strlen(s), i;

	if (n > 0 && strchr("kKmMgG", s[n - 1]) != NULL) {
		switch (s[n - 1]) {
		case 'k':
		case 'K':
			mul = 1024;
			break;
		case 'm':
		case 'M':
			mul = 1024 * 1024;
			break;
		default:
			mul = 1024 * 1024 * 1024;
		}
		n--;
	}
	if (!all_digits(s, n))
		return -1;
	for (i = 0; i < n; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int mode_parse(const char *s, enum rule_mode *out)
{
	if (strcmp(s, "enforce") == 0)
		*out = MODE_ENFORCE;
	else if (strcmp(s, "dry-run") == 0)
		*out = MODE_DRY_RUN;
	else
		return -1;
	return 0;
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/*
 * Check the $placeholders of a template. Returns 0 and sets *has when it
 * has any '$' (the engine must expand it), or -1 with err.
 */
static int placeholders_check(const char *t, bool *has, char *err,
			      size_t errlen)
{
	for (const char *s = t; *s != '\0'; s++) {
		size_t n = 0;
		if (*s != '$')
			continue;
		*has = true;
		if (s[1] == '$') {
			s++;
			continue;
		}
		while (is_ident(s[1 + n]))
			n++;
		if (n == 0) {
			snprintf(err, errlen,
				 "'$' at position %zu starts no placeholder; "
				 "write $$ for a '$'",
				 (size_t)(s - t) + 1);
			return -1;
		}
		if (!policy_placeholder_known(s + 1, n)) {
			snprintf(err, errlen,
				 "unknown placeholder $%.*s (known: "
				 "$client_addr $client_name $helo $sender "
				 "$recipient $queue_id $rule, and $$ for '$')",
				 (int)(n > 40 ? 40 : n), s + 1);
			return -1;
		}
		s += n;
	}
	return 0;
}

/*
 * Length of a template as sent when every placeholder is empty; *nph is
 * set to the number of placeholders in it.
 */
static size_t literal_len(const char *t, bool placeholders, size_t *nph)
{
	size_t n = 0;

	*nph = 0;
	if (!placeholders)
		return strlen(t);
	for (const char *s = t; *s != '\0'; s++) {
		if (*s == '$' && s[1] == '$') {
			s++;
		} else if (*s == '$' && is_ident(s[1])) {
			while (is_ident(s[1]))
				s++;
			(*nph)++;
			continue;
		}
		n++;
	}
	return n;
}

/* The template t with "$$" made '$' (it has no placeholder). NULL: no
 * memory. */
static char *literal_text(const char *t, bool placeholders)
{
	char *out = malloc(strlen(t) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *t != '\0'; t++) {
		if (placeholders && t[0] == '$' && t[1] == '$')
			t++;
		*o++ = *t;
	}
	*o = '\0';
	return out;
}

/* --- lists and condition entries ------------------------------------- */

struct entries {
	struct entry *e;     /* owned array; the strings are borrowed */
	struct nlist **from; /* per entry: the named list it came from */
	size_t n, cap;
};

static void entries_free(struct entries *es)
{
	free(es->e);
	free(es->from);
	memset(es, 0, sizeof(*es));
}

static int entries_add(struct entries *es, const char *text, const char *file,
		       int line, bool cs, struct nlist *from)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 16;
		struct entry *e = realloc(es->e, cap * sizeof(*e));
		struct nlist **f;
		if (e == NULL)
			return -1;
		es->e = e;
		f = realloc(es->from, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		es->from = f;
		es->cap = cap;
	}
	es->e[es->n].text = text;
	es->e[es->n].file = file;
	es->e[es->n].line = line;
	es->e[es->n].case_sensitive = cs;
	es->from[es->n] = from;
	es->n++;
	return 0;
}

/* Resolve path against the config file's directory into buf. */
static const char *resolve(struct loader *L, const char *path, char *buf,
			   size_t buflen)
{
	if (path[0] == '/' || L->dir[0] == '\0')
		snprintf(buf, buflen, "%s", path);
	else
		snprintf(buf, buflen, "%s/%s", L->dir, path);
	return buf;
}

/* Load a list file once; NULL with err on failure. */
static struct loaded_file *file_load(struct loader *L, const char *path,
				     char *err, size_t errlen)
{
	char full[PATH_MAX + 64];
	struct loaded_file *f;
	struct listfile *lf;

	resolve(L, path, full, sizeof(full));
	for (size_t i = 0; i < L->nfiles; i++)
		if (strcmp(L->files[i].path, full) == 0)
			return &L->files[i];
	if ((lf = listfile_load(full, err, errlen)) == NULL)
		return NULL;
	f = realloc(L->files, (L->nfiles + 1) * sizeof(*f));
	if (f == NULL || (f[L->nfiles].path = strdup(full)) == NULL) {
		if (f != NULL)
			L->files = f;
		listfile_free(&lf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	L->files = f;
	f[L->nfiles].lf = lf;
	return &f[L->nfiles++];
}

static struct nlist *nlist_find(struct loader *L, const char *name)
{
	for (size_t i = 0; i < L->nlists; i++)
		if (strcmp(L->lists[i].name, name) == 0)
			return &L->lists[i];
	return NULL;
}

static const char *a_an(const char *word)
{
	return strchr("aeiou", word[0]) != NULL ? "an" : "a";
}

/* Read the named lists. Returns the number of errors. */
static int lists_load(struct loader *L, cfg_t *cfg)
{
	unsigned n = cfg_size(cfg, "list");
	int errors = 0;

	L->lists = calloc(n ? n : 1, sizeof(*L->lists));
	if (L->lists == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		cfg_t *ls = cfg_getnsec(cfg, "list", i);
		struct nlist *nl = &L->lists[L->nlists++];
		const char *type = cfg_getstr(ls, "type");
		const char *file = cfg_getstr(ls, "file");
		int sec = scan_sec_find(&L->sc, "list", cfg_title(ls));
		int line = scan_sec_line(&L->sc, sec);
		unsigned ne = cfg_size(ls, "entries");
		char err[400];

		nl->name = cfg_title(ls);
		nl->line = line;
		nl->file_line = opt_line(&L->sc, sec, "file", line);
		nl->case_sensitive = cfg_getbool(ls, "case_sensitive");
		nl->bad = true; /* until it loads */
		if (!name_ok(nl->name)) {
			report_in(L, true, line, "list", nl->name,
				  "a list name is 1 to %d letters, digits, "
				  "'.', '_' or '-'",
				  NAME_MAX_LEN);
			errors++;
			continue;
		}
		if (type == NULL) {
			report_in(L, true, line, "list", nl->name,
				  "type is missing (address, domain, email "
				  "or regex)");
			errors++;
			continue;
		}
		for (nl->type = 0; nl->type < LT_COUNT; nl->type++)
			if (strcmp(type, list_type_names[nl->type]) == 0)
				break;
		if (nl->type == LT_COUNT) {
			report_in(L, true, opt_line(&L->sc, sec, "type", line),
				  "list", nl->name,
				  "type \"%s\" is not one of address, domain, "
				  "email, regex",
				  type);
			errors++;
			continue;
		}
		if (ne == 0 && file == NULL) {
			report_in(L, true, line, "list", nl->name,
				  "the list has neither entries nor file");
			errors++;
			continue;
		}
		if (file != NULL) {
			char full[PATH_MAX + 64];
			resolve(L, file, full, sizeof(full));
			if ((nl->file = strdup(full)) == NULL)
				return -1;
			nl->lf = listfile_load(full, err, sizeof(err));
			if (nl->lf == NULL) {
				report_in(L, true,
					  opt_line(&L->sc, sec, "file", line),
					  "list", nl->name, "%s", err);
				errors++;
				continue;
			}
		}
		if (nl->case_sensitive &&
		    (nl->type == LT_ADDRESS || nl->type == LT_DOMAIN))
			report_in(L, false,
				  opt_line(&L->sc, sec, "case_sensitive", line),
				  "list", nl->name,
				  "case_sensitive has no effect on %s %s list",
				  a_an(list_type_names[nl->type]),
				  list_type_names[nl->type]);
		nl->bad = false;
	}
	return errors;
}

/* The entries of a named list, in order: inline ones, then its file. */
static int nlist_entries(struct loader *L, struct nlist *nl, cfg_t *cfg,
			 struct entries *out)
{
	cfg_t *ls = cfg_gettsec(cfg, "list", nl->name);
	int sec = scan_sec_find(&L->sc, "list", nl->name);
	unsigned ne = cfg_size(ls, "entries");

	for (unsigned k = 0; k < ne; k++)
		if (entries_add(out, cfg_getnstr(ls, "entries", k), NULL,
				val_line(&L->sc, sec, "entries", k, nl->line),
				nl->case_sensitive, nl) != 0)
			return -1;
	for (size_t k = 0; nl->lf != NULL && k < nl->lf->n; k++)
		if (entries_add(out, nl->lf->entries[k].text, nl->file,
				nl->lf->entries[k].line, nl->case_sensitive,
				nl) != 0)
			return -1;
	return 0;
}

/* --- conditions ------------------------------------------------------ */

/* A list condition: option name, what it reads, from which stage. */
struct cond_def {
	const char *opt;
	enum subject subject;
	enum matcher matcher;
	enum stage first, last;
	bool negatable;
};

static const struct cond_def cond_defs[] = {
    {"client_address", SUBJ_CLIENT_ADDR, MATCH_ADDR, STAGE_CONNECT, STAGE_EOM,
     true},
    {"client_name", SUBJ_CLIENT_NAME, MATCH_DOMAIN, STAGE_CONNECT, STAGE_EOM,
     true},
    {"client_name_regex", SUBJ_CLIENT_NAME, MATCH_REGEX, STAGE_CONNECT,
     STAGE_EOM, true},
    {"helo", SUBJ_HELO, MATCH_DOMAIN, STAGE_HELO, STAGE_EOM, true},
    {"helo_regex", SUBJ_HELO, MATCH_REGEX, STAGE_HELO, STAGE_EOM, true},
    {"sender", SUBJ_SENDER, MATCH_EMAIL, STAGE_MAIL, STAGE_EOM, true},
    {"sender_domain", SUBJ_SENDER, MATCH_DOMAIN, STAGE_MAIL, STAGE_EOM, true},
    {"sender_regex", SUBJ_SENDER, MATCH_REGEX, STAGE_MAIL, STAGE_EOM, true},
    {"recipient", SUBJ_RECIPIENT, MATCH_EMAIL, STAGE_RCPT, STAGE_EOM, true},
    {"recipient_domain", SUBJ_RECIPIENT, MATCH_DOMAIN, STAGE_RCPT, STAGE_EOM,
     true},
    {"recipient_regex", SUBJ_RECIPIENT, MATCH_REGEX, STAGE_RCPT, STAGE_EOM,
     true},
    {"header_regex", SUBJ_HEADER, MATCH_REGEX, STAGE_HEADER, STAGE_HEADER,
     true},
    {"body_regex", SUBJ_BODY, MATCH_REGEX, STAGE_BODY, STAGE_EOM, false},
    {"macro_regex", SUBJ_MACRO, MATCH_REGEX, STAGE_CONNECT, STAGE_EOM, true},
};
#define NCOND_DEFS (sizeof(cond_defs) / sizeof(cond_defs[0]))

/* Why a subject cannot be seen at a stage. */
static const char *known_when(enum subject s)
{
	switch (s) {
	case SUBJ_HELO:
	case SUBJ_HELO_LITERAL:
		return "the HELO name is known from stage helo on";
	case SUBJ_SENDER:
		return "the sender is known from stage mail on";
	case SUBJ_RECIPIENT:
	case SUBJ_RCPT_COUNT:
		return "recipients are known from stage rcpt on";
	case SUBJ_SIZE:
		return "the size is known from stage mail on";
	case SUBJ_HEADER:
		return "headers are seen one by one at stage header only";
	case SUBJ_BODY:
		return "the body is seen at stages body and eom only";
	case SUBJ_AUTH:
		return "authentication is known from stage mail on";
	case SUBJ_TLS:
		return "TLS is known from stage helo on";
	default:
		return "it is not known at that stage";
	}
}

static enum list_type list_type_for(enum matcher m)
{
	switch (m) {
	case MATCH_ADDR:
		return LT_ADDRESS;
	case MATCH_DOMAIN:
		return LT_DOMAIN;
	case MATCH_EMAIL:
		return LT_EMAIL;
	default:
		return LT_REGEX;
	}
}

/* What a rule being compiled needs to say where it is. */
struct rctx {
	struct loader *L;
	cfg_t *cfg; /* top level */
	cfg_t *rs;  /* the rule's section */
	int sec;    /* scan section */
	int line;   /* the rule's line */
	const char *name;
	struct rule *r;
	bool stage_ok;
	int errors;
};

static struct cond *cond_new(struct rctx *x, enum subject s, enum matcher m,
			     bool negate)
{
	struct rule *r = x->r;
	struct cond *c;

	/* r->cond is sized for every option a rule can have */
	c = &r->cond[r->ncond++];
	memset(c, 0, sizeof(*c));
	c->subject = s;
	c->matcher = m;
	c->negate = negate;
	c->body_slot = -1;
	c->rcpt_slot = -1;
	return c;
}

static bool stage_sees(struct rctx *x, const char *opt, enum subject s,
		       enum stage first, enum stage last)
{
	if (!x->stage_ok || (x->r->stage >= first && x->r->stage <= last))
		return true;
	error_at(x->L, opt_line(&x->L->sc, x->sec, opt, x->line), x->name,
		 "%s cannot be used at stage %s: %s", opt,
		 stage_name(x->r->stage), known_when(s));
	x->errors++;
	return false;
}

/*
 * Gather the entries of list condition opt: inline entries, "list:NAME"
 * and "file:PATH". Returns 0, or -1 when an error was reported (or
 * memory ran out: then *nomem).
 */
static int gather(struct rctx *x, const char *opt, enum list_type want,
		  struct entries *es, bool *nomem)
{
	struct loader *L = x->L;
	unsigned n = cfg_size(x->rs, opt);
	int bad = 0;

	if (n == 0) {
		error_at(L, opt_line(&L->sc, x->sec, opt, x->line), x->name,
			 "%s = {} has no entries: it would never match", opt);
		return -1;
	}
	for (unsigned k = 0; k < n; k++) {
		const char *s = cfg_getnstr(x->rs, opt, k);
		int line = val_line(&L->sc, x->sec, opt, k, x->line);
		char err[400];
		if (strncmp(s, "list:", 5) == 0) {
			struct nlist *nl = nlist_find(L, s + 5);
			if (nl == NULL) {
				error_at(L, line, x->name,
					 "%s: \"%s\": no list \"%s\" is "
					 "defined",
					 opt, s, s + 5);
				bad++;
				continue;
			}
			nl->used = true;
			if (nl->bad) {
				bad++; /* reported with the list */
				continue;
			}
			if (nl->type != want) {
				error_at(L, line, x->name,
					 "%s wants %s %s list, but list \"%s\" "
					 "is %s %s list",
					 opt, a_an(list_type_names[want]),
					 list_type_names[want], nl->name,
					 a_an(list_type_names[nl->type]),
					 list_type_names[nl->type]);
				bad++;
				continue;
			}
			if (nlist_entries(L, nl, x->cfg, es) != 0) {
				*nomem = true;
				return -1;
			}
		} else if (strncmp(s, "file:", 5) == 0) {
			struct loaded_file *lf =
			    file_load(L, s + 5, err, sizeof(err));
			if (lf == NULL) {
				error_at(L, line, x->name, "%s: %s", opt, err);
				bad++;
				continue;
			}
			for (size_t j = 0; j < lf->lf->n; j++)
				if (entries_add(es, lf->lf->entries[j].text,
						lf->path,
						lf->lf->entries[j].line, false,
						NULL) != 0) {
					*nomem = true;
					return -1;
				}
		} else if (entries_add(es, s, NULL, line, false, NULL) != 0) {
			*nomem = true;
			return -1;
		}
	}
	return bad ? -1 : 0;
}

/* Report a bad entry where it was written. */
static void entry_error(struct rctx *x, const char *opt,
			const struct entries *es, size_t i, const char *err)
{
	const struct entry *e = &es->e[i];
	struct nlist *from = es->from[i];
	char q[80]; /* the entry, control bytes masked */

	match_quote(q, sizeof(q), e->text, strlen(e->text));
	if (from != NULL) {
		if (e->file != NULL)
			report_in(x->L, true, from->file_line, "list",
				  from->name, "%s:%d: \"%s\": %s", e->file,
				  e->line, q, err);
		else
			report_in(x->L, true, e->line, "list", from->name,
				  "\"%s\": %s", q, err);
	} else if (e->file != NULL) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, opt, x->line),
			 x->name, "%s: %s:%d: \"%s\": %s", opt, e->file,
			 e->line, q, err);
	} else {
		error_at(x->L, e->line, x->name, "%s: \"%s\": %s", opt, q, err);
	}
}

/*
 * Build the matcher of condition c from its entries. Every bad entry is
 * reported. Returns 0, -1 when an entry was bad, -2 when memory ran out.
 */
static int cond_build(struct rctx *x, const char *opt, struct cond *c,
		      const struct entries *es)
{
	char err[400];
	int bad = 0;
	bool cs = es->n > 0;

	/* local parts compare with case when every entry's list says so */
	for (size_t i = 0; i < es->n; i++)
		cs = cs && es->e[i].case_sensitive;
	switch (c->matcher) {
	case MATCH_ADDR:
		if ((c->addrs = addr_set_new()) == NULL)
			return -2;
		break;
	case MATCH_DOMAIN:
		if ((c->domains = domain_set_new()) == NULL)
			return -2;
		break;
	case MATCH_EMAIL:
		if ((c->emails = email_set_new(cs)) == NULL)
			return -2;
		break;
	default:
		if ((c->regexes = regex_list_new()) == NULL)
			return -2;
		break;
	}
	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->e[i];
		int rc;
		if (c->subject == SUBJ_CLIENT_NAME &&
		    c->matcher == MATCH_DOMAIN &&
		    strcmp(e->text, "unknown") == 0) {
			c->match_unknown = true;
			continue;
		}
		switch (c->matcher) {
		case MATCH_ADDR:
			rc = addr_set_add(c->addrs, e->text, err, sizeof(err));
			break;
		case MATCH_DOMAIN:
			rc = domain_set_add_entry(c->domains, e->text, err,
						  sizeof(err));
			break;
		case MATCH_EMAIL:
			rc =
			    email_set_add(c->emails, e->text, err, sizeof(err));
			break;
		default:
			rc = regex_list_add(
			    c->regexes, e->text,
			    (e->case_sensitive ? 0 : REGEX_CASELESS) |
				(c->subject == SUBJ_BODY ? REGEX_STREAM : 0),
			    err, sizeof(err));
			break;
		}
		if (rc == 0)
			continue;
		if (rc < -1)
			return -2;
		if (es->from[i] == NULL || !es->from[i]->bad)
			entry_error(x, opt, es, i, err);
		bad++;
	}
	if (c->matcher == MATCH_EMAIL && !cs && bad == 0)
		for (size_t i = 0; i < es->n; i++)
			if (es->e[i].case_sensitive) {
				warn_at(
				    x->L,
				    opt_line(&x->L->sc, x->sec, opt, x->line),
				    x->name,
				    "%s mixes the case_sensitive list "
				    "\"%s\" with other entries: local "
				    "parts compare without case",
				    opt, es->from[i]->name);
				break;
			}
	/* a named list's errors are reported once, with the list */
	for (size_t i = 0; bad && i < es->n; i++)
		if (es->from[i] != NULL)
			es->from[i]->bad = true;
	return bad ? -1 : 0;
}

/* One list condition opt (or not_opt). Returns -2 when memory ran out. */
static int cond_list(struct rctx *x, const struct cond_def *def, bool negate)
{
	char opt[64];
	struct entries es = {0};
	bool nomem = false;
	struct cond *c;
	int rc;

	snprintf(opt, sizeof(opt), "%s%s", negate ? "not_" : "", def->opt);
	if (!opt_given(&x->L->sc, x->sec, opt) && cfg_size(x->rs, opt) == 0)
		return 0;
	if (!stage_sees(x, opt, def->subject, def->first, def->last))
		return 0;
	if (gather(x, opt, list_type_for(def->matcher), &es, &nomem) != 0) {
		entries_free(&es);
		x->errors++;
		return nomem ? -2 : 0;
	}
	c = cond_new(x, def->subject, def->matcher, negate);
	rc = cond_build(x, opt, c, &es);
	entries_free(&es);
	if (rc == -2)
		return -2;
	if (rc != 0)
		x->errors++;
	return 0;
}

static void cond_bool(struct rctx *x, const char *opt, enum subject s,
		      enum stage first)
{
	struct cond *c;

	if (cfg_size(x->rs, opt) == 0)
		return;
	if (!stage_sees(x, opt, s, first, STAGE_EOM))
		return;
	c = cond_new(x, s, MATCH_BOOL, false);
	c->want = cfg_getbool(x->rs, opt);
}

/* min_recipients / max_recipients: one range condition. */
static void cond_rcpt_count(struct rctx *x)
{
	bool has_min = cfg_size(x->rs, "min_recipients") > 0;
	bool has_max = cfg_size(x->rs, "max_recipients") > 0;
	long min = has_min ? cfg_getint(x->rs, "min_recipients") : 0;
	long max = has_max ? cfg_getint(x->rs, "max_recipients") : 0;
	const char *opt = has_min ? "min_recipients" : "max_recipients";
	struct cond *c;

	if (!has_min && !has_max)
		return;
	if (!stage_sees(x, opt, SUBJ_RCPT_COUNT, STAGE_RCPT, STAGE_EOM))
		return;
	if (min < 0 || max < 0) {
		error_at(x->L,
			 opt_line(&x->L->sc, x->sec,
				  min < 0 ? "min_recipients" : "max_recipients",
				  x->line),
			 x->name, "a number of recipients cannot be negative");
		x->errors++;
		return;
	}
	if (has_min && has_max && min > max) {
		error_at(x->L,
			 opt_line(&x->L->sc, x->sec, "max_recipients", x->line),
			 x->name,
			 "max_recipients %ld is less than min_recipients %ld: "
			 "the rule would never match",
			 max, min);
		x->errors++;
		return;
	}
	c = cond_new(x, SUBJ_RCPT_COUNT, MATCH_RANGE, false);
	c->min = (uint64_t)min;
	c->max = has_max ? (uint64_t)max : UINT64_MAX;
}

/* min_size / max_size: one range condition. */
static void cond_size(struct rctx *x)
{
	const char *smin = cfg_getstr(x->rs, "min_size");
	const char *smax = cfg_getstr(x->rs, "max_size");
	uint64_t min = 0, max = UINT64_MAX;
	struct cond *c;

	if (smin == NULL && smax == NULL)
		return;
	if (!stage_sees(x, smin ? "min_size" : "max_size", SUBJ_SIZE,
			STAGE_MAIL, STAGE_EOM))
		return;
	if (smin != NULL && size_parse(smin, &min) != 0) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, "min_size", x->line),
			 x->name,
			 "min_size \"%s\": want a number of bytes with an "
			 "optional K, M or G suffix, e.g. \"10M\"",
			 smin);
		x->errors++;
		return;
	}
	if (smax != NULL && size_parse(smax, &max) != 0) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, "max_size", x->line),
			 x->name,
			 "max_size \"%s\": want a number of bytes with an "
			 "optional K, M or G suffix, e.g. \"10M\"",
			 smax);
		x->errors++;
		return;
	}
	if (min > max) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, "max_size", x->line),
			 x->name,
			 "max_size is less than min_size: the rule would "
			 "never match");
		x->errors++;
		return;
	}
	c = cond_new(x, SUBJ_SIZE, MATCH_RANGE, false);
	c->min = min;
	c->max = max;
}

/* An RFC 5322 field name: printable ASCII but ':' and space. */
static bool field_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == ':')
			return false;
	return true;
}

/*
 * header + header_regex, macro + macro_regex: a name and its regexes.
 * Returns -2 when memory ran out.
 */
static int cond_named(struct rctx *x, const char *nameopt, const char *reopt)
{
	const char *name = cfg_getstr(x->rs, nameopt);
	char nre[64], err[200];
	bool pos, neg;
	int rc = 0;
	const struct cond_def *def = NULL;

	snprintf(nre, sizeof(nre), "not_%s", reopt);
	pos = opt_given(&x->L->sc, x->sec, reopt) || cfg_size(x->rs, reopt) > 0;
	neg = opt_given(&x->L->sc, x->sec, nre) || cfg_size(x->rs, nre) > 0;
	for (size_t i = 0; i < NCOND_DEFS; i++)
		if (strcmp(cond_defs[i].opt, reopt) == 0)
			def = &cond_defs[i];
	if (name == NULL && !pos && !neg)
		return 0;
	if (name == NULL) {
		error_at(
		    x->L,
		    opt_line(&x->L->sc, x->sec, pos ? reopt : nre, x->line),
		    x->name, "%s needs %s: which one to look at",
		    pos ? reopt : nre, nameopt);
		x->errors++;
		return 0;
	}
	if (!pos && !neg) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, nameopt, x->line),
			 x->name, "%s needs %s (or %s): what to look for in it",
			 nameopt, reopt, nre);
		x->errors++;
		return 0;
	}
	if (strcmp(nameopt, "header") == 0 &&
	    !field_name_ok(name, strlen(name))) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, nameopt, x->line),
			 x->name,
			 "header \"%s\" is not a header field name "
			 "(printable ASCII, no ':' or space)",
			 name);
		x->errors++;
		return 0;
	}
	if (strcmp(nameopt, "macro") == 0 &&
	    (name[0] == '\0' || reply_text_check(name, err, sizeof(err)) != 0 ||
	     strchr(name, ' ') != NULL)) {
		error_at(x->L, opt_line(&x->L->sc, x->sec, nameopt, x->line),
			 x->name,
			 "macro \"%s\" is not a macro name, e.g. "
			 "\"{daemon_name}\" or \"j\"",
			 name);
		x->errors++;
		return 0;
	}
	for (int n = 0; n < 2 && rc == 0; n++) {
		size_t at = x->r->ncond;
		if (!(n == 0 ? pos : neg))
			continue;
		rc = cond_list(x, def, n == 1);
		if (rc == 0 && x->r->ncond > at &&
		    (x->r->cond[at].name = strdup(name)) == NULL)
			rc = -2;
	}
	return rc;
}

/* --- replies, text, headers, log ------------------------------------- */

/* Where a finding about a rule or on_error goes. */
struct where {
	struct loader *L;
	cfg_t *cs;	  /* its section */
	int sec;	  /* scan section */
	int line;	  /* the section's line */
	const char *what; /* "rule" or "on_error" */
	const char *name; /* rule name or NULL */
};

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

__attribute__((format(printf, 4, 5))) static void
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
static int reply_check(const struct where *w, const char *spec,
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
 * for text with placeholders at their longest (policy.h). Returns 0 when
 * memory ran out.
 */
static size_t text_lines_most(const struct reply_code *code, const char *t,
			      bool placeholders, bool first, size_t reserve)
{
	size_t nph, len = literal_len(t, placeholders, &nph), most = 0;
	char *lit;

	if (!first)
		reserve = 0;
	if (nph > 0) {
		len += nph * PLACEHOLDER_WORST;
		if (len > EXPAND_LINE_MAX - 1)
			len = EXPAND_LINE_MAX - 1;
		return reply_lines_bound(code, len, reserve);
	}
	if ((lit = literal_text(t, placeholders)) == NULL)
		return 0;
	for (size_t r = 0; r <= reserve; r = r == 0 ? 6 : r + 1) {
		size_t n = reply_wire_lines(code, lit, r);
		if (n > most)
			most = n;
	}
	free(lit);
	return most;
}

/*
 * Will the text go out whole? Counts the wire lines (wrapping, the first
 * line's room for Sendmail's prefix, placeholders at their longest)
 * against REPLY_MAX_LINES. Returns the number of errors, -1: no memory.
 */
static int text_fits(const struct where *w, const struct reply_code *code,
		     char **text, size_t n, bool placeholders, size_t reserve)
{
	size_t total = 0, nph = 0, any = 0;

	for (size_t k = 0; k < n; k++) {
		size_t lines = text_lines_most(code, text[k], placeholders,
					       k == 0, reserve);
		size_t len = literal_len(text[k], placeholders, &nph);
		if (lines == 0)
			return -1;
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

/*
 * Check text lines and copy them into *out. code: the reply they go with
 * (NULL: a quarantine reason); reserve: the most room Sendmail's prefix
 * takes on its first line. placeholders: whether $name may be used.
 * Returns the number of errors, or -1 when memory ran out.
 */
static int text_take(const struct where *w, const struct reply_code *code,
		     size_t reserve, bool placeholders, char ***out,
		     size_t *nout, bool *has)
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
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return -1;
	*nout = n;
	for (unsigned k = 0; k < n; k++) {
		const char *t = cfg_getnstr(w->cs, "text", k);
		int line = val_line(&w->L->sc, w->sec, "text", k, w->line);
		char err[300];
		bool h = false;
		if ((*out)[k] = strdup(t), (*out)[k] == NULL)
			return -1;
		if (reply_text_check(t, err, sizeof(err)) != 0) {
			wreport(w, true, line, "text: %s", err);
			errors++;
			continue;
		}
		/* without placeholders the text is sent as written */
		if (placeholders &&
		    placeholders_check(t, &h, err, sizeof(err)) != 0) {
			wreport(w, true, line, "text: %s", err);
			errors++;
			continue;
		}
		*has = *has || h;
	}
	if (code != NULL && errors == 0)
		errors = text_fits(w, code, *out, n, placeholders, reserve);
	return errors;
}

static bool sends_reply(enum verdict v)
{
	return v == VERDICT_REJECT || v == VERDICT_TEMPFAIL;
}

/* add_header = { "Name: value", ... }. Returns errors, -1 on no memory. */
static int headers_take(const struct where *w, struct rule *r)
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
	    (r->hdr_value = calloc(n, sizeof(char *))) == NULL)
		return -1;
	r->nheaders = n;
	for (unsigned k = 0; k < n; k++) {
		const char *h = cfg_getnstr(w->cs, "add_header", k);
		const char *colon = strchr(h, ':');
		const char *v;
		int line =
		    val_line(&w->L->sc, w->sec, "add_header", k, w->line);
		char err[300];
		bool has = false;
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
		    placeholders_check(v, &has, err, sizeof(err)) != 0) {
			wreport(w, true, line, "add_header \"%s\": %s", h, err);
			errors++;
			continue;
		}
		r->hdr_name[k] = strndup(h, (size_t)(colon - h));
		r->hdr_value[k] = strdup(v);
		if (r->hdr_name[k] == NULL || r->hdr_value[k] == NULL)
			return -1;
	}
	return errors;
}

/* --- rules ----------------------------------------------------------- */

#define RULE_MAX_CONDS (2 * NCOND_DEFS + 8)

static const char *const stage_list =
    "connect, helo, mail, rcpt, data, header, eoh, body, eom";

/*
 * Compile rule section rs into r. Returns the number of errors, or -1
 * when memory ran out.
 */
static int rule_compile(struct loader *L, cfg_t *cfg, cfg_t *rs, struct rule *r)
{
	struct rctx x = {0};
	struct where w = {0};
	const char *s;
	char err[300];
	bool stage_ok, verdict_ok;
	int n;

	x.L = L;
	x.cfg = cfg;
	x.rs = rs;
	x.name = cfg_title(rs);
	x.sec = scan_sec_find(&L->sc, "rule", x.name);
	x.line = scan_sec_line(&L->sc, x.sec);
	x.r = r;
	w.L = L;
	w.cs = rs;
	w.sec = x.sec;
	w.line = x.line;
	w.what = "rule";
	w.name = x.name;

	if ((r->name = strdup(x.name)) == NULL ||
	    (r->file = strdup(L->path)) == NULL)
		return -1;
	r->line = x.line;
	r->mode = L->p->default_mode;
	if (!name_ok(x.name)) {
		error_at(L, x.line, x.name,
			 "a rule name is 1 to %d letters, digits, '.', '_' "
			 "or '-'",
			 NAME_MAX_LEN);
		x.errors++;
	}

	/* stage, verdict, mode */
	s = cfg_getstr(rs, "stage");
	stage_ok = s != NULL && stage_parse(s, &r->stage) == 0;
	if (s == NULL)
		error_at(L, x.line, x.name, "stage is missing (one of %s)",
			 stage_list);
	else if (!stage_ok)
		error_at(L, opt_line(&L->sc, x.sec, "stage", x.line), x.name,
			 "stage \"%s\" is not one of %s", s, stage_list);
	x.errors += !stage_ok;
	x.stage_ok = stage_ok;
	s = cfg_getstr(rs, "verdict");
	verdict_ok = s != NULL && verdict_parse(s, &r->verdict) == 0;
	if (s == NULL)
		error_at(L, x.line, x.name,
			 "verdict is missing (one of reject, tempfail, "
			 "accept, discard, quarantine, continue)");
	else if (!verdict_ok)
		error_at(L, opt_line(&L->sc, x.sec, "verdict", x.line), x.name,
			 "verdict \"%s\" is not one of reject, tempfail, "
			 "accept, discard, quarantine, continue",
			 s);
	x.errors += !verdict_ok;
	s = cfg_getstr(rs, "mode");
	if (s != NULL && mode_parse(s, &r->mode) != 0) {
		error_at(L, opt_line(&L->sc, x.sec, "mode", x.line), x.name,
			 "mode \"%s\" is not enforce or dry-run", s);
		x.errors++;
	}
	if (stage_ok && verdict_ok && r->verdict == VERDICT_DISCARD &&
	    r->stage <= STAGE_HELO) {
		error_at(L, opt_line(&L->sc, x.sec, "verdict", x.line), x.name,
			 "discard cannot be used at stage %s: there is no "
			 "message yet to discard, and Postfix ignores it there",
			 stage_name(r->stage));
		x.errors++;
	}

	/* conditions */
	if ((r->cond = calloc(RULE_MAX_CONDS, sizeof(*r->cond))) == NULL)
		return -1;
	for (size_t i = 0; i < NCOND_DEFS; i++) {
		const struct cond_def *def = &cond_defs[i];
		if (def->subject == SUBJ_HEADER || def->subject == SUBJ_MACRO)
			continue;
		if (cond_list(&x, def, false) == -2)
			return -1;
		if (def->negatable && cond_list(&x, def, true) == -2)
			return -1;
	}
	if (cond_named(&x, "header", "header_regex") == -2 ||
	    cond_named(&x, "macro", "macro_regex") == -2)
		return -1;
	cond_bool(&x, "helo_literal", SUBJ_HELO_LITERAL, STAGE_HELO);
	cond_bool(&x, "authenticated", SUBJ_AUTH, STAGE_MAIL);
	cond_bool(&x, "tls", SUBJ_TLS, STAGE_HELO);
	cond_rcpt_count(&x);
	cond_size(&x);

	if (!verdict_ok)
		return x.errors;

	/* reply and text */
	s = cfg_getstr(rs, "reply");
	if (sends_reply(r->verdict)) {
		n = reply_check(&w, s,
				r->verdict == VERDICT_REJECT ? "550 5.7.1"
							     : "451 4.7.1",
				r->verdict, stage_ok ? r->stage : STAGE_EOM,
				&r->code);
		x.errors += n;
		if (n == 0) {
			n = text_take(&w, &r->code,
				      policy_reply_reserve(r, r->stage, NULL),
				      true, &r->text, &r->ntext,
				      &r->has_placeholders);
			if (n < 0)
				return -1;
			x.errors += n;
		}
	} else {
		if (s != NULL) {
			error_at(L, opt_line(&L->sc, x.sec, "reply", x.line),
				 x.name,
				 "%s %s rule sends no reply: remove reply",
				 a_an(verdict_name(r->verdict)),
				 verdict_name(r->verdict));
			x.errors++;
		}
		if (r->verdict == VERDICT_QUARANTINE) {
			bool has = false;
			n = text_take(&w, NULL, 0, true, &r->text, &r->ntext,
				      &has);
			if (n < 0)
				return -1;
			x.errors += n;
		} else if (cfg_size(rs, "text") > 0 ||
			   opt_given(&L->sc, x.sec, "text")) {
			error_at(L, opt_line(&L->sc, x.sec, "text", x.line),
				 x.name,
				 "%s %s rule sends no text: remove text",
				 a_an(verdict_name(r->verdict)),
				 verdict_name(r->verdict));
			x.errors++;
		}
	}

	/* side effects */
	n = headers_take(&w, r);
	if (n < 0)
		return -1;
	x.errors += n;
	s = cfg_getstr(rs, "log");
	if (s != NULL) {
		bool has = false;
		int line = opt_line(&L->sc, x.sec, "log", x.line);
		if (reply_text_check(s, err, sizeof(err)) != 0 ||
		    placeholders_check(s, &has, err, sizeof(err)) != 0) {
			error_at(L, line, x.name, "log: %s", err);
			x.errors++;
		} else if ((r->log = strdup(s)) == NULL) {
			return -1;
		}
	}
	if (r->verdict == VERDICT_CONTINUE && r->nheaders == 0 &&
	    r->log == NULL && x.errors == 0)
		warn_at(L, x.line, x.name,
			"a continue rule with no add_header and no log does "
			"nothing");
	if (r->nheaders > 0 && x.errors == 0 &&
	    (sends_reply(r->verdict) || r->verdict == VERDICT_DISCARD))
		warn_at(
		    L, opt_line(&L->sc, x.sec, "add_header", x.line), x.name,
		    "add_header does nothing on %s %s rule: the message is "
		    "not delivered",
		    a_an(verdict_name(r->verdict)), verdict_name(r->verdict));

	/* pre-render a reply that needs no placeholders */
	if (x.errors == 0 && sends_reply(r->verdict) && !r->has_placeholders &&
	    reply_render(&r->code, (const char *const *)r->text, r->ntext,
			 policy_reply_reserve(r, r->stage, NULL), &r->rendered,
			 err, sizeof(err)) != 0) {
		error_at(L, x.line, x.name, "reply: %s", err);
		x.errors++;
	}
	return x.errors;
}

/* --- the whole policy ------------------------------------------------ */

/* Read the failure policy. Returns the number of errors, -1 on no memory. */
static int failure_compile(struct loader *L, cfg_t *cfg)
{
	struct failure_policy *f = &L->p->failure;
	cfg_t *cs = cfg_getsec(cfg, "on_error");
	struct where w = {0};
	const char *v = cfg_getstr(cs, "verdict");
	const char *reply = cfg_getstr(cs, "reply");
	char **text = NULL;
	size_t ntext = 0, reserve;
	bool has = false;
	char err[300];
	int errors = 0;

	w.L = L;
	w.cs = cs;
	w.sec = scan_sec_find(&L->sc, "on_error", NULL);
	w.line = w.sec >= 0 ? scan_sec_line(&L->sc, w.sec) : 0;
	w.what = "on_error";
	if (strcmp(v, "tempfail") == 0) {
		f->verdict = VERDICT_TEMPFAIL;
	} else if (strcmp(v, "reject") == 0) {
		f->verdict = VERDICT_REJECT;
	} else if (strcmp(v, "accept") == 0) {
		f->verdict = VERDICT_ACCEPT;
	} else {
		wreport(&w, true, opt_line(&L->sc, w.sec, "verdict", w.line),
			"verdict \"%s\" is not one of tempfail, reject, accept",
			v);
		return 1;
	}
	if (f->verdict == VERDICT_ACCEPT) {
		wreport(&w, false, opt_line(&L->sc, w.sec, "verdict", w.line),
			"verdict accept fails open: mail is accepted "
			"unfiltered when the milter breaks");
		if (reply != NULL || cfg_size(cs, "text") > 0) {
			wreport(&w, true,
				opt_line(&L->sc, w.sec,
					 reply != NULL ? "reply" : "text",
					 w.line),
				"an accept verdict sends no reply: remove "
				"reply and text");
			return 1;
		}
		return 0;
	}
	/* checked as the answer to RCPT, where it is given most often */
	errors = reply_check(&w, reply,
			     f->verdict == VERDICT_TEMPFAIL ? "451 4.3.0"
							    : "550 5.3.0",
			     f->verdict, STAGE_RCPT, &f->code);
	if (errors > 0)
		return errors;
	reserve = reply_prefix_room(f->code.basic, CMD_RCPT, SIZE_MAX);
	errors = text_take(&w, &f->code, reserve, false, &text, &ntext, &has);
	if (errors == 0) {
		static const char *const dflt_temp[] = {
		    "Temporary internal error, try again later"};
		static const char *const dflt_rej[] = {
		    "Internal error, message refused"};
		const char *const *t = (const char *const *)text;
		if (ntext == 0) {
			t = f->verdict == VERDICT_TEMPFAIL ? dflt_temp
							   : dflt_rej;
			ntext = 1;
		}
		if (reply_render(&f->code, t, ntext, reserve, &f->rendered,
				 err, sizeof(err)) != 0) {
			wreport(&w, true, 0, "reply: %s", err);
			errors++;
		}
		if (text == NULL)
			ntext = 0;
	}
	for (size_t i = 0; i < ntext; i++)
		free(text[i]);
	free(text);
	return errors;
}

/* Read the global options. Returns the number of errors, -1: no memory. */
static int globals_compile(struct loader *L, cfg_t *cfg)
{
	struct policy *p = L->p;
	const char *s;
	char err[400];
	int errors = 0;
	long t;
	uint64_t span = 0;

	p->strict = cfg_getbool(cfg, "strict");
	L->strict = p->strict;
	p->hold_early = cfg_getbool(cfg, "hold_early_verdicts");
	s = cfg_getstr(cfg, "socket");
	if (socket_check(s, err, sizeof(err)) != 0) {
		error_at(L, opt_line(&L->sc, -1, "socket", 0), NULL, "%s", err);
		errors++;
	}
	if ((p->socket = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "user");
	if (s[0] != '\0' && (p->user = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "group");
	if (s[0] != '\0' && (p->group = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "pidfile");
	if (s[0] != '\0' && s[0] != '/') {
		error_at(L, opt_line(&L->sc, -1, "pidfile", 0), NULL,
			 "pidfile \"%s\": want an absolute path", s);
		errors++;
	}
	if (s[0] != '\0' && (p->pidfile = strdup(s)) == NULL)
		return -1;
	s = cfg_getstr(cfg, "socket_mode");
	p->socket_mode = -1;
	if (s[0] != '\0') {
		size_t n = strlen(s);
		bool ok = n >= 3 && n <= 4 && strspn(s, "01234567") == n;
		long m = ok ? strtol(s, NULL, 8) : -1;
		if (!ok || m > 0777) {
			error_at(
			    L, opt_line(&L->sc, -1, "socket_mode", 0), NULL,
			    "socket_mode \"%s\": want an octal mode such "
			    "as \"0660\", or \"\" to leave it to the umask",
			    s);
			errors++;
		}
		p->socket_mode = (int)m;
	}
	s = cfg_getstr(cfg, "mode");
	if (mode_parse(s, &p->default_mode) != 0) {
		error_at(L, opt_line(&L->sc, -1, "mode", 0), NULL,
			 "mode \"%s\" is not enforce or dry-run", s);
		errors++;
	}
	t = cfg_getint(cfg, "timeout");
	if (t < 1 || t > 3600) {
		error_at(L, opt_line(&L->sc, -1, "timeout", 0), NULL,
			 "timeout %ld: want 1 to 3600 seconds", t);
		errors++;
	}
	p->timeout = (int)t;
	s = cfg_getstr(cfg, "body_match_span");
	if (size_parse(s, &span) != 0 || span < BODY_SPAN_MIN ||
	    span > BODY_SPAN_MAX) {
		error_at(L, opt_line(&L->sc, -1, "body_match_span", 0), NULL,
			 "body_match_span \"%s\": want %dK to %dM octets (a "
			 "number with an optional K or M suffix, e.g. \"64K\")",
			 s, BODY_SPAN_MIN / 1024,
			 BODY_SPAN_MAX / (1024 * 1024));
		errors++;
	}
	p->body_span = (size_t)span;
	return errors;
}

static bool ends_evaluation(const struct rule *r)
{
	return r->mode == MODE_ENFORCE && r->verdict != VERDICT_CONTINUE;
}

/*
 * The stage index, the slots, the events and the checks across rules.
 * Returns -1 when memory runs out.
 */
static int policy_link(struct loader *L)
{
	struct policy *p = L->p;
	const struct rule *stopper[STAGE_COUNT] = {NULL};

	for (size_t i = 0; i < p->nrules; i++)
		p->nstage[p->rules[i].stage]++;
	for (int st = 0; st < STAGE_COUNT; st++) {
		if (p->nstage[st] == 0)
			continue;
		p->by_stage[st] = calloc(p->nstage[st], sizeof(struct rule *));
		if (p->by_stage[st] == NULL)
			return -1;
		p->nstage[st] = 0;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];
		const struct rule *y = stopper[r->stage];
		p->by_stage[r->stage][p->nstage[r->stage]++] = r;
		if (y != NULL)
			warn_at(L, r->line, r->name,
				"rule %s can never match: rule %s before it "
				"at stage %s matches everything",
				r->name, y->name, stage_name(r->stage));
		else if (r->ncond == 0 && ends_evaluation(r))
			stopper[r->stage] = r;
		for (size_t k = 0; k < r->ncond; k++) {
			struct cond *c = &r->cond[k];
			if (c->subject == SUBJ_BODY)
				c->body_slot = (int)p->nbody_slots++;
			if (c->subject == SUBJ_RECIPIENT &&
			    r->stage > STAGE_RCPT)
				c->rcpt_slot = (int)p->nrcpt_slots++;
		}
	}
	p->need_stages = policy_events(p);
	return 0;
}

/* Read the file, check what our scanner checks, blank the comments. */
static char *read_config(struct loader *L, int *errors)
{
	FILE *f = fopen(L->path, "r");
	struct stat st;
	char *buf;
	size_t n;

	*errors = 0;
	if (f == NULL) {
		error_at(L, 0, NULL, "cannot open: %s", strerror(errno));
		*errors = 1;
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > CONFIG_FILE_MAX) {
		error_at(L, 0, NULL, "not a regular file of at most %u bytes",
			 CONFIG_FILE_MAX);
		fclose(f);
		*errors = 1;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 2);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || n > (size_t)st.st_size) {
		error_at(L, 0, NULL, "cannot read: %s",
			 ferror(f) ? strerror(errno) : "the file is growing");
		fclose(f);
		free(buf);
		*errors = 1;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	buf[n + 1] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		int line = 1;
		for (const char *c = buf; *c != '\0'; c++)
			line += *c == '\n';
		error_at(L, line, NULL, "NUL byte in the config file");
		*errors = 1;
		free(buf);
		return NULL;
	}
	return buf;
}

static void loader_free(struct loader *L)
{
	for (size_t i = 0; i < L->nlists; i++) {
		free(L->lists[i].file);
		listfile_free(&L->lists[i].lf);
	}
	free(L->lists);
	for (size_t i = 0; i < L->nfiles; i++) {
		free(L->files[i].path);
		listfile_free(&L->files[i].lf);
	}
	free(L->files);
	for (size_t i = 0; i < L->nnotes; i++)
		free(L->notes[i]);
	free(L->notes);
	scan_free(&L->sc);
}

static void nomem(struct loader *L)
{
	error_at(L, 0, NULL, "out of memory while loading the config");
}

int config_load(const char *path, struct policy **out, struct diags *d)
{
	struct loader L = {0};
	cfg_t *cfg = NULL;
	char *buf = NULL;
	const char *slash;
	size_t base = d->nerrors;
	int errors = 0, n;
	unsigned nrules;

	*out = NULL;
	L.path = path;
	L.d = d;
	slash = strrchr(path, '/');
	if (slash != NULL)
		snprintf(L.dir, sizeof(L.dir), "%.*s",
			 (int)(slash == path ? 1 : slash - path), path);

	buf = read_config(&L, &n);
	if (buf == NULL) {
		if (n == 0)
			nomem(&L);
		goto fail;
	}
	n = scan_lex(&L, buf, strlen(buf));
	if (n >= 0 && scan_balance(&L) < 0)
		n = -1;
	if (n >= 0 && scan_structure(&L) < 0)
		n = -1;
	if (n < 0) {
		nomem(&L);
		goto fail;
	}
	/* the scanner's findings (${, include, duplicates) stop the load */
	if (d->nerrors > base)
		goto fail;

	cfg = cfg_init(top_opts, CFGF_NONE);
	if (cfg == NULL) {
		nomem(&L);
		goto fail;
	}
	cfg_set_error_function(cfg, cfg_errfn);
	cfg_loader = &L;
	n = cfg_parse_buf(cfg, buf);
	cfg_loader = NULL;
	if (n != CFG_SUCCESS) {
		if (d->nerrors == base)
			error_at(&L, 0, NULL, "cannot parse the config");
		goto fail;
	}

	if ((L.p = calloc(1, sizeof(*L.p))) == NULL ||
	    (L.p->file = strdup(path)) == NULL) {
		nomem(&L);
		goto fail;
	}
	L.p->refs = 1;
	n = globals_compile(&L, cfg);
	if (n >= 0)
		errors += n;
	if (n >= 0 && (n = failure_compile(&L, cfg)) >= 0)
		errors += n;
	if (n >= 0 && (n = lists_load(&L, cfg)) >= 0)
		errors += n;
	if (n < 0) {
		nomem(&L);
		goto fail;
	}
	nrules = cfg_size(cfg, "rule");
	L.p->rules = calloc(nrules ? nrules : 1, sizeof(*L.p->rules));
	if (L.p->rules == NULL) {
		nomem(&L);
		goto fail;
	}
	for (unsigned i = 0; i < nrules; i++) {
		L.p->nrules++;
		n = rule_compile(&L, cfg, cfg_getnsec(cfg, "rule", i),
				 &L.p->rules[i]);
		if (n < 0) {
			nomem(&L);
			goto fail;
		}
		errors += n;
	}
	for (size_t i = 0; errors == 0 && i < L.nlists; i++)
		if (!L.lists[i].used && !L.lists[i].bad)
			report_in(&L, false, L.lists[i].line, "list",
				  L.lists[i].name,
				  "the list is not used by any rule");
	if (errors == 0 && d->nerrors == base && policy_link(&L) != 0) {
		nomem(&L);
		goto fail;
	}
	if (d->nerrors > base)
		goto fail;
	L.p->nwarnings = L.nwarnings;
	*out = L.p;
	L.p = NULL;
	cfg_free(cfg);
	free(buf);
	loader_free(&L);
	return 0;
fail:
	if (d->nerrors == base)
		error_at(&L, 0, NULL, "the config did not load");
	policy_free(&L.p);
	if (cfg != NULL)
		cfg_free(cfg);
	free(buf);
	loader_free(&L);
	return -1;
}
