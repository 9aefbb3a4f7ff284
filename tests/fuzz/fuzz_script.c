/*
 * fuzz_script.c - fuzz target for the transaction script language
 * (lib/script.h): the input is a script, read with script_read() from
 * memory.
 *
 * Checked: a script that reads gives only known commands, on lines that
 * never go back and exist in the input, each argument NUL-terminated at
 * its length and within SCRIPT_ARG_MAX; a script that does not read says
 * why, at a line of the input (or 0). Then every command whose arguments
 * are free text (helo, mail, rcpt, header, body and those without any) is
 * written again with each octet escaped as \xNN and read back: the same
 * commands with the same arguments, octet for octet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/script.h"

/* Lines of the input: a script line can be at most this one. */
static int lines_of(const uint8_t *p, size_t n)
{
	int lines = 1;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

static int reread(const char *text, size_t len, struct script *sc, char *err,
		  size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int line = 0, rc;

	if (f == NULL)
		abort();
	rc = script_read(f, sc, &line, err, errlen);
	fclose(f);
	return rc;
}

/* Is e a command this target writes again (free-text arguments)? */
static bool rewritable(enum script_ev e)
{
	switch (e) {
	case SCRIPT_HELO:
	case SCRIPT_MAIL:
	case SCRIPT_RCPT:
	case SCRIPT_DATA:
	case SCRIPT_HEADER:
	case SCRIPT_EOH:
	case SCRIPT_BODY:
	case SCRIPT_EOM:
	case SCRIPT_ABORT:
	case SCRIPT_QUIT:
		return true;
	default:
		return false;
	}
}

/* The rewritable commands of sc, every argument octet as \xNN. */
static char *rewrite(const struct script *sc, size_t *lenp, size_t *ncmds)
{
	size_t cap = 64, o = 0;
	char *out = malloc(cap);

	*ncmds = 0;
	for (size_t i = 0; out != NULL && i < sc->n; i++) {
		const struct script_cmd *c = &sc->cmd[i];
		const char *name = script_ev_name(c->ev);
		size_t need = strlen(name) + 2;
		if (!rewritable(c->ev))
			continue;
		for (size_t k = 0; k < c->nargs; k++)
			need += 3 + 4 * c->arg[k].len;
		if (o + need + 1 > cap) {
			while (o + need + 1 > cap)
				cap *= 2;
			if ((out = realloc(out, cap)) == NULL)
				abort();
		}
		o += (size_t)sprintf(out + o, "%s", name);
		for (size_t k = 0; k < c->nargs; k++) {
			out[o++] = ' ';
			out[o++] = '"';
			for (size_t j = 0; j < c->arg[k].len; j++)
				o += (size_t)sprintf(
				    out + o, "\\x%02x",
				    (unsigned char)c->arg[k].p[j]);
			out[o++] = '"';
		}
		out[o++] = '\n';
		(*ncmds)++;
	}
	if (out == NULL)
		abort();
	*lenp = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script sc = {0}, again = {0};
	int line = -1, rc, lines = lines_of(data, size), last = 0;
	char err[300] = "", err2[300] = "";
	FILE *f;

	if (size > 1 << 20)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (f == NULL) /* fmemopen refuses a 0-octet buffer */
		return 0;
	rc = script_read(f, &sc, &line, err, sizeof(err));
	fclose(f);
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0', "refused with no reason");
		FUZZ_CHECK(line >= 0 && line <= lines,
			   "error at line %d of %d: %s", line, lines, err);
		script_free(&sc);
		return 0;
	}
	for (size_t i = 0; i < sc.n; i++) {
		const struct script_cmd *c = &sc.cmd[i];
		FUZZ_CHECK(c->ev > SCRIPT_NONE && c->ev < SCRIPT_EV_COUNT,
			   "command %zu: kind %d", i, (int)c->ev);
		FUZZ_CHECK(c->line >= last && c->line >= 1 && c->line <= lines,
			   "command %zu at line %d after %d (of %d)", i,
			   c->line, last, lines);
		last = c->line;
		for (size_t k = 0; k < c->nargs; k++)
			FUZZ_CHECK(c->arg[k].p != NULL &&
					   c->arg[k].p[c->arg[k].len] == '\0' &&
					   c->arg[k].len <= SCRIPT_ARG_MAX,
				   "command %zu argument %zu", i, k);
	}
	{
		size_t len, n, j = 0;
		char *text = rewrite(&sc, &len, &n);
		if (len > 0) {
			FUZZ_CHECK(reread(text, len, &again, err2,
					  sizeof(err2)) == 0,
				   "its own commands, escaped, do not read: %s",
				   err2);
			FUZZ_CHECK(again.n == n, "read back %zu commands of %zu",
				   again.n, n);
			for (size_t i = 0; i < sc.n; i++) {
				const struct script_cmd *c = &sc.cmd[i],
							*d = &again.cmd[j];
				if (!rewritable(c->ev))
					continue;
				FUZZ_CHECK(d->ev == c->ev && d->nargs == c->nargs,
					   "command %zu read back as another",
					   i);
				for (size_t k = 0; k < c->nargs; k++)
					FUZZ_CHECK(d->arg[k].len ==
							   c->arg[k].len &&
						       memcmp(d->arg[k].p,
							      c->arg[k].p,
							      c->arg[k].len) == 0,
						   "command %zu argument %zu "
						   "read back changed",
						   i, k);
				j++;
			}
		}
		free(text);
	}
	script_free(&again);
	script_free(&sc);
	return 0;
}
