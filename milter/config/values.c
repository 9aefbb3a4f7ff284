/*
 * values.c - the effective value of every global option and of on_error,
 * as the loaded file sets it or as the default fills it in, with the line
 * that set it (replycode-milter -n, like postconf -n).
 *
 * Reads what load.c parsed and compiled; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "core/codes.h"

/* A string as the config language writes it: quoted, \ and " escaped,
 * control bytes as \xNN, so that it reads back the same. */
static void quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	if (outlen < 3)
		return;
	out[o++] = '"';
	for (; *s != '\0' && o + 6 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
			continue;
		}
		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static struct config_value *add(struct config_values *vals, const char *name,
				int line)
{
	struct config_value *v, *grown;

	grown = realloc(vals->v, (vals->n + 1) * sizeof(*vals->v));
	if (grown == NULL)
		return NULL;
	vals->v = grown;
	v = &vals->v[vals->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->line = line;
	return v;
}

/* The value of option o of section cs, as the config language writes it. */
static void value_of(cfg_t *cs, const cfg_opt_t *o, char *out, size_t outlen)
{
	switch (o->type) {
	case CFGT_INT:
		snprintf(out, outlen, "%ld", cfg_getint(cs, o->name));
		break;
	case CFGT_BOOL:
		snprintf(out, outlen, "%s",
			 cfg_getbool(cs, o->name) ? "true" : "false");
		break;
	default: {
		const char *s = cfg_getstr(cs, o->name);
		quote(out, outlen, s != NULL ? s : "");
		break;
	}
	}
}

/* on_error's text lines, { "a", "b" }. */
static void text_of(cfg_t *cs, char *out, size_t outlen)
{
	unsigned n = cfg_size(cs, "text");
	size_t o = 0;

	o += (size_t)snprintf(out, outlen, "{");
	for (unsigned i = 0; i < n && o < outlen; i++) {
		char q[600];
		quote(q, sizeof(q), cfg_getnstr(cs, "text", i));
		o += (size_t)snprintf(out + o, outlen - o, "%s %s",
				      i > 0 ? "," : "", q);
	}
	if (o < outlen)
		snprintf(out + o, outlen - o, " }");
}

int values_collect(struct loader *L, cfg_t *cfg, struct config_values *vals)
{
	cfg_t *oe = cfg_getsec(cfg, "on_error");
	int sec = scan_sec_find(&L->sc, "on_error", NULL);
	const struct failure_policy *f = &L->p->failure;
	struct config_value *v;

	for (const cfg_opt_t *o = top_options(); o->name != NULL; o++) {
		if (o->type == CFGT_SEC)
			continue;
		if ((v = add(vals, o->name, opt_line(&L->sc, -1, o->name, 0))) ==
		    NULL)
			return -1;
		value_of(cfg, o, v->value, sizeof(v->value));
	}
	if ((v = add(vals, "on_error.verdict",
		     opt_line(&L->sc, sec, "verdict", 0))) == NULL)
		return -1;
	quote(v->value, sizeof(v->value), verdict_name(f->verdict));
	if (f->verdict == VERDICT_ACCEPT)
		return 0;
	/* the reply and text in force, the defaults for the verdict when
	 * the file gives none */
	if ((v = add(vals, "on_error.reply",
		     opt_line(&L->sc, sec, "reply", 0))) == NULL)
		return -1;
	{
		char code[32];
		codes_format(&f->code, code, sizeof(code));
		quote(v->value, sizeof(v->value), code);
	}
	if ((v = add(vals, "on_error.text", opt_line(&L->sc, sec, "text", 0))) ==
	    NULL)
		return -1;
	if (cfg_size(oe, "text") > 0) {
		text_of(oe, v->value, sizeof(v->value));
	} else {
		char q[600];
		quote(q, sizeof(q), f->rendered.line[0]);
		snprintf(v->value, sizeof(v->value), "{ %s }", q);
	}
	return 0;
}

void config_values_free(struct config_values *vals)
{
	free(vals->v);
	vals->v = NULL;
	vals->n = 0;
}
