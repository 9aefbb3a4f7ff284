/*
 * conds.c - the conditions of a rule: list conditions (client_address,
 * sender_domain, header_regex, ...) and their not_ forms, booleans
 * (helo_literal, authenticated, tls) and ranges (recipients, size), each
 * checked against the rule's stage and compiled into a matcher.
 *
 * Uses diag.c, parse.c and lists.c; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

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

#define RULE_MAX_CONDS (2 * NCOND_DEFS + 8)

int conds_compile(struct rctx *x)
{
	struct rule *r = x->r;

	if ((r->cond = calloc(RULE_MAX_CONDS, sizeof(*r->cond))) == NULL)
		return -1;
	for (size_t i = 0; i < NCOND_DEFS; i++) {
		const struct cond_def *def = &cond_defs[i];
		if (def->subject == SUBJ_HEADER || def->subject == SUBJ_MACRO)
			continue;
		if (cond_list(x, def, false) == -2)
			return -1;
		if (def->negatable && cond_list(x, def, true) == -2)
			return -1;
	}
	if (cond_named(x, "header", "header_regex") == -2 ||
	    cond_named(x, "macro", "macro_regex") == -2)
		return -1;
	cond_bool(x, "helo_literal", SUBJ_HELO_LITERAL, STAGE_HELO);
	cond_bool(x, "authenticated", SUBJ_AUTH, STAGE_MAIL);
	cond_bool(x, "tls", SUBJ_TLS, STAGE_HELO);
	cond_rcpt_count(x);
	cond_size(x);
	return 0;
}
