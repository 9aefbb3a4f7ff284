/*
 * script.c - the parser of the transaction script language (script.h):
 * words, quoting, escapes and "..."*N repeats, then each command checked
 * for its arguments. Shared by mtclient and --simulate: one parser.
 *
 * Must never: link or include libmilter, print, or exit. Every length is
 * bounded by SCRIPT_ARG_MAX.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/script.h"

static const char *const ev_name[SCRIPT_EV_COUNT] = {
	[SCRIPT_NONE] = "",	       [SCRIPT_NEGOTIATE] = "negotiate",
	[SCRIPT_CONNECT] = "connect", [SCRIPT_HELO] = "helo",
	[SCRIPT_MAIL] = "mail",       [SCRIPT_RCPT] = "rcpt",
	[SCRIPT_DATA] = "data",	       [SCRIPT_HEADER] = "header",
	[SCRIPT_EOH] = "eoh",	       [SCRIPT_BODY] = "body",
	[SCRIPT_EOM] = "eom",	       [SCRIPT_ABORT] = "abort",
	[SCRIPT_QUIT] = "quit",       [SCRIPT_UNKNOWN] = "unknown",
};

const char *script_ev_name(enum script_ev e)
{
	return e < SCRIPT_EV_COUNT ? ev_name[e] : "";
}

/* A growable byte string; owns p. */
struct bytes {
	char *p;
	size_t len, cap;
};

static int bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		char *np;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The words of one line. */
struct words {
	struct script_arg *v;
	size_t n, cap;
};

static void words_clear(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].p);
	w->n = 0;
}

/*
 * Read a quoted part starting after its opening quote at *pp; append its
 * bytes, repeated if "..."*N follows, to b. Leaves *pp after it.
 */
static int quoted(const char **pp, const char *end, struct bytes *b,
		  char *err, size_t errlen)
{
	const char *p = *pp;
	struct bytes seg = {0};
	unsigned long rep = 1;
	int hi, lo;
	char c;

	for (;;) {
		if (p >= end) {
			snprintf(err, errlen, "unterminated quoted string");
			goto fail;
		}
		c = *p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (p >= end) {
				snprintf(err, errlen, "\\ at end of line");
				goto fail;
			}
			switch (*p++) {
			case 'r':
				c = '\r';
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '\\':
				c = '\\';
				break;
			case '"':
				c = '"';
				break;
			case 'x':
				if (end - p < 2 || (hi = hexval(p[0])) < 0 ||
				    (lo = hexval(p[1])) < 0) {
					snprintf(err, errlen,
						 "\\x needs two hex digits");
					goto fail;
				}
				c = (char)(hi * 16 + lo);
				p += 2;
				break;
			default:
				snprintf(err, errlen, "unknown escape \\%c",
					 p[-1]);
				goto fail;
			}
		}
		if (bytes_add(&seg, &c, 1) < 0)
			goto oom;
	}
	if (p < end && *p == '*' && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
		rep = 0;
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			rep = rep * 10 + (unsigned long)(*p - '0');
			if (rep > SCRIPT_ARG_MAX) {
				snprintf(err, errlen, "repeat count too big");
				goto fail;
			}
		}
	}
	if (seg.len && rep > (SCRIPT_ARG_MAX - b->len) / seg.len) {
		snprintf(err, errlen, "argument longer than %d bytes",
			 SCRIPT_ARG_MAX);
		goto fail;
	}
	for (unsigned long i = 0; i < rep; i++)
		if (bytes_add(b, seg.p, seg.len) < 0)
			goto oom;
	free(seg.p);
	*pp = p;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(seg.p);
	return -1;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Split a line into words. */
static int tokenize(const char *line, size_t n, struct words *w, char *err,
		    size_t errlen)
{
	const char *p = line, *end = line + n;
	struct bytes b = {0};

	words_clear(w);
	for (;;) {
		while (p < end && blank(*p))
			p++;
		if (p >= end || *p == '#')
			return 0;
		b.len = 0;
		if (bytes_add(&b, "", 0) < 0)
			goto oom;
		while (p < end && !blank(*p)) {
			if (*p == '"') {
				p++;
				if (quoted(&p, end, &b, err, errlen) < 0)
					goto fail;
			} else if (b.len >= SCRIPT_ARG_MAX) {
				snprintf(err, errlen,
					 "argument longer than %d bytes",
					 SCRIPT_ARG_MAX);
				goto fail;
			} else if (bytes_add(&b, p++, 1) < 0) {
				goto oom;
			}
		}
		if (w->n == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 16;
			struct script_arg *nv =
			    realloc(w->v, ncap * sizeof(*nv));
			if (nv == NULL)
				goto oom;
			w->v = nv;
			w->cap = ncap;
		}
		w->v[w->n].p = b.p;
		w->v[w->n].len = b.len;
		w->n++;
		b.p = NULL;
		b.len = b.cap = 0;
	}
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(b.p);
	return -1;
}

static int parse_hex(const char *s, unsigned long *v)
{
	char *e;
	unsigned long long x;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		s += 2;
	if (*s == '\0' || hexval((unsigned char)*s) < 0)
		return -1;
	errno = 0;
	x = strtoull(s, &e, 16);
	if (errno || *e || x > UINT32_MAX)
		return -1;
	*v = (unsigned long)x;
	return 0;
}

static enum script_ev ev_byname(const char *s)
{
	for (int i = SCRIPT_NEGOTIATE; i < SCRIPT_EV_COUNT; i++)
		if (strcmp(ev_name[i], s) == 0)
			return (enum script_ev)i;
	return SCRIPT_NONE;
}

/* Events that macros may be given for. */
static int macro_stage_ok(enum script_ev e)
{
	return e >= SCRIPT_CONNECT && e <= SCRIPT_UNKNOWN &&
	       e != SCRIPT_ABORT && e != SCRIPT_QUIT;
}

/* What is carried from line to line. */
struct pstate {
	struct script_macro *pending[SCRIPT_EV_COUNT]; /* owned */
	size_t npending[SCRIPT_EV_COUNT];
	int pending_line[SCRIPT_EV_COUNT];
	int seen_event;
};

int script_arg_set(struct script_arg *a, const char *p, size_t len)
{
	if ((a->p = malloc(len + 1)) == NULL)
		return -1;
	memcpy(a->p, p, len);
	a->p[len] = '\0';
	a->len = len;
	return 0;
}

struct script_cmd *script_append(struct script *sc, enum script_ev e)
{
	struct script_cmd *c;

	if (sc->n == sc->cap) {
		size_t ncap = sc->cap ? sc->cap * 2 : 32;
		struct script_cmd *nv = realloc(sc->cmd, ncap * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		sc->cmd = nv;
		sc->cap = ncap;
	}
	c = &sc->cmd[sc->n++];
	memset(c, 0, sizeof(*c));
	c->ev = e;
	return c;
}

static void free_macros(struct script_macro *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name.p);
		free(m[i].value.p);
	}
	free(m);
}

#define NEED(cond, msg)                                                        \
	do {                                                                   \
		if (!(cond)) {                                                 \
			snprintf(err, errlen, "%s: %s", w->v[0].p, (msg));     \
			return -1;                                             \
		}                                                              \
	} while (0)

static int add_macros(struct pstate *ps, const struct words *w, char *err,
		      size_t errlen, int line)
{
	enum script_ev e;
	struct script_macro *nv;

	NEED(w->n >= 3, "needs a stage and name=value pairs");
	e = ev_byname(w->v[1].p);
	NEED(macro_stage_ok(e), "unknown stage");
	for (size_t i = 2; i < w->n; i++) {
		const char *eq = memchr(w->v[i].p, '=', w->v[i].len);
		struct script_macro *m;
		NEED(eq != NULL && eq != w->v[i].p,
		     "arguments must be name=value");
		nv = realloc(ps->pending[e],
			     (ps->npending[e] + 1) * sizeof(*nv));
		if (nv == NULL)
			goto oom;
		ps->pending[e] = nv;
		m = &nv[ps->npending[e]];
		memset(m, 0, sizeof(*m));
		ps->npending[e]++;
		if (script_arg_set(&m->name, w->v[i].p, (size_t)(eq - w->v[i].p)) <
			0 ||
		    script_arg_set(&m->value, eq + 1,
			     w->v[i].len - (size_t)(eq + 1 - w->v[i].p)) < 0)
			goto oom;
	}
	if (ps->pending_line[e] == 0)
		ps->pending_line[e] = line;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Check one event line's arguments; fill c's numbers. */
static int check_args(struct script_cmd *c, const struct words *w, char *err,
		      size_t errlen)
{
	switch (c->ev) {
	case SCRIPT_NEGOTIATE:
		for (size_t i = 1; i < w->n; i++) {
			const char *a = w->v[i].p;
			char *end;
			if (strncmp(a, "actions=", 8) == 0) {
				NEED(parse_hex(a + 8, &c->actions) == 0,
				     "bad hexadecimal number");
				c->neg_set |= SCRIPT_NEG_ACTIONS;
			} else if (strncmp(a, "protocol=", 9) == 0) {
				NEED(parse_hex(a + 9, &c->protocol) == 0,
				     "bad hexadecimal number");
				c->neg_set |= SCRIPT_NEG_PROTOCOL;
			} else if (strncmp(a, "version=", 8) == 0) {
				a += 8;
				errno = 0;
				c->version = strtoul(a, &end, 10);
				NEED(*a >= '0' && *a <= '9' && !*end &&
					 !errno && c->version >= 2 &&
					 c->version <= 6,
				     "version must be 2 to 6");
				c->neg_set |= SCRIPT_NEG_VERSION;
			} else {
				NEED(0, "arguments are version=N, "
					"actions=HEX, protocol=HEX");
			}
		}
		return 0;
	case SCRIPT_CONNECT:
		NEED(w->n == 3 || w->n == 4, "needs HOSTNAME ADDRESS [PORT]");
		if (w->n == 4) {
			char *end;
			errno = 0;
			c->port = strtoul(w->v[3].p, &end, 10);
			NEED(w->v[3].p[0] >= '0' && w->v[3].p[0] <= '9' &&
				 !*end && !errno && c->port <= 65535,
			     "port must be 0 to 65535");
		}
		return 0;
	case SCRIPT_HELO:
	case SCRIPT_UNKNOWN:
	case SCRIPT_BODY:
		NEED(w->n == 2, "needs exactly one argument");
		return 0;
	case SCRIPT_MAIL:
	case SCRIPT_RCPT:
		NEED(w->n >= 2, "needs an address");
		return 0;
	case SCRIPT_HEADER:
		NEED(w->n == 3, "needs NAME VALUE");
		return 0;
	default:
		NEED(w->n == 1, "takes no arguments");
		return 0;
	}
}

static int add_cmd(struct script *sc, struct pstate *ps, struct words *w,
		   int line, char *err, size_t errlen)
{
	enum script_ev e = ev_byname(w->v[0].p);
	struct script_cmd *c;

	if (strcmp(w->v[0].p, "macro") == 0)
		return add_macros(ps, w, err, errlen, line);
	if (e == SCRIPT_NONE) {
		snprintf(err, errlen, "unknown command \"%s\"", w->v[0].p);
		return -1;
	}
	if (e == SCRIPT_NEGOTIATE)
		NEED(!ps->seen_event, "must come before every event");
	ps->seen_event = 1;
	if ((c = script_append(sc, e)) == NULL)
		goto oom;
	c->line = line;
	if (check_args(c, w, err, errlen) < 0)
		return -1;
	/* The words after the name now belong to the command. */
	if (w->n > 1) {
		c->arg = malloc((w->n - 1) * sizeof(*c->arg));
		if (c->arg == NULL)
			goto oom;
		memcpy(c->arg, w->v + 1, (w->n - 1) * sizeof(*c->arg));
		c->nargs = w->n - 1;
		w->n = 1;
	}
	/* Macros given for this stage go with it. */
	if (macro_stage_ok(e) && ps->npending[e] > 0) {
		c->macro = ps->pending[e];
		c->nmacros = ps->npending[e];
		ps->pending[e] = NULL;
		ps->npending[e] = 0;
		ps->pending_line[e] = 0;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void script_free(struct script *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		struct script_cmd *c = &sc->cmd[i];
		for (size_t k = 0; k < c->nargs; k++)
			free(c->arg[k].p);
		free(c->arg);
		free_macros(c->macro, c->nmacros);
	}
	free(sc->cmd);
	sc->cmd = NULL;
	sc->n = sc->cap = 0;
}

int script_read(FILE *fp, struct script *sc, int *errline, char *err,
		size_t errlen)
{
	struct pstate ps;
	struct words w = {0};
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	int lineno = 0, rc = -1;

	memset(&ps, 0, sizeof(ps));
	*errline = 0;
	while ((n = getline(&line, &lcap, fp)) >= 0) {
		lineno++;
		if (tokenize(line, (size_t)n, &w, err, errlen) < 0)
			goto out;
		if (w.n == 0)
			continue;
		if (add_cmd(sc, &ps, &w, lineno, err, errlen) < 0)
			goto out;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < SCRIPT_EV_COUNT; i++) {
		if (ps.npending[i] > 0) {
			lineno = ps.pending_line[i];
			snprintf(err, errlen,
				 "macros for stage %s are never "
				 "sent: no %s command follows",
				 ev_name[i], ev_name[i]);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		*errline = lineno;
	for (int i = 0; i < SCRIPT_EV_COUNT; i++)
		free_macros(ps.pending[i], ps.npending[i]);
	words_clear(&w);
	free(w.v);
	free(line);
	return rc;
}
