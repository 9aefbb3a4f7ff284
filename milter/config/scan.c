/*
 * scan.c - our own scanner of the config file, run before libconfuse.
 *
 * It finds the line of every section, option and list value (libconfuse
 * 3.3 miscounts lines after a comment), refuses ${...} (which libconfuse
 * would replace with an environment variable), include() and options set
 * twice, checks that every block is closed (libconfuse takes the end of
 * the file as the end of an open section) and blanks out comments
 * (libconfuse fails on a comment inside a list), so that libconfuse never
 * sees one. Uses diag.c only; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

void scan_free(struct scan *sc)
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

/* "${" where libconfuse would expand it. Returns 1, the error count. */
static int env_error(struct loader *L, int line)
{
	error_at(L, line, NULL,
		 "${...} is expanded by the config parser as an environment "
		 "variable; write $name");
	return 1;
}

/*
 * Split buf into tokens the way libconfuse does, count lines, blank out
 * comments (newlines kept) and report every "${" outside a comment.
 * Returns the number of errors found, or -1 when memory runs out.
 */
int scan_lex(struct loader *L, char *buf, size_t len)
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
				if (v == '$' && buf[i + 1] == '{' && c == '"')
					errors += env_error(L, line);
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
				if (buf[i] == '$' && buf[i + 1] == '{')
					errors += env_error(L, line);
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
int scan_balance(struct loader *L)
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
int scan_structure(struct loader *L)
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
