/*
 * conds.c - the conditions of a rule, as the condition kinds build them
 * (core/cond.h): what a kind sees of the rule being compiled (struct
 * cond_builder: its options, where to report, the entries of a list
 * option gathered from inline entries, named lists and files, and a
 * matcher built from them, each bad entry reported where it was written).
 *
 * Uses diag.c, parse.c and lists.c; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "core/cond.h"

/*
 * Gather the sources of the entries of list condition opt: inline
 * entries, "list:NAME" and "file:PATH". Returns 0, or -1 when an error was
 * reported (or memory ran out: then *nomem).
 */
static int gather(struct rctx *x, const char *opt, enum list_type want,
		  struct sources *ss, bool *nomem)
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
		struct source src = {NULL, line, NULL, NULL};
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
			src.from = nl;
		} else if (strncmp(s, "file:", 5) == 0) {
			src.file = file_load(L, s + 5, err, sizeof(err));
			if (src.file == NULL) {
				error_at(L, line, x->name, "%s: %s", opt, err);
				bad++;
				continue;
			}
		} else {
			src.text = s;
		}
		if (sources_add(ss, &src) != 0) {
			*nomem = true;
			return -1;
		}
	}
	return bad ? -1 : 0;
}

/* Report a bad entry where it was written. */
static void entry_error(struct rctx *x, const char *opt, const struct entry *e,
			const struct nlist *from, const char *err)
{
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

/* Building a matcher from the entries of its sources, one at a time. */
struct build {
	struct rctx *x;
	const char *opt;
	struct cond_lists *l;
	unsigned flags;
	int bad;    /* entries reported */
	bool nomem; /* stopped: memory ran out */
};

static int build_entry(void *ctx, const struct entry *e, struct nlist *from)
{
	struct build *b = ctx;
	struct cond_lists *l = b->l;
	char err[400];
	int rc;

	if ((b->flags & COND_LIST_UNKNOWN) && l->matcher == MATCH_DOMAIN &&
	    strcmp(e->text, "unknown") == 0) {
		l->match_unknown = true;
		return 0;
	}
	switch (l->matcher) {
	case MATCH_ADDR:
		rc = addr_set_add(l->addrs, e->text, err, sizeof(err));
		break;
	case MATCH_DOMAIN:
		rc = domain_set_add_entry(l->domains, e->text, err,
					  sizeof(err));
		break;
	case MATCH_EMAIL:
		rc = email_set_add(l->emails, e->text, err, sizeof(err));
		break;
	default:
		rc = regex_list_add(
		    l->regexes, e->text,
		    (e->case_sensitive ? 0 : REGEX_CASELESS) |
			((b->flags & COND_LIST_STREAM) ? REGEX_STREAM : 0),
		    err, sizeof(err));
		break;
	}
	if (rc == 0)
		return 0;
	if (rc < -1) {
		b->nomem = true;
		return -1;
	}
	if (from == NULL || !from->bad)
		entry_error(b->x, b->opt, e, from, err);
	b->bad++;
	return 0;
}

/*
 * Build matcher l from the entries of its sources. Every bad entry is
 * reported. Returns 0, -1 when an entry was bad, -2 when memory ran out.
 */
static int lists_build(struct rctx *x, const char *opt, struct cond_lists *l,
		       unsigned flags, const struct sources *ss)
{
	struct build b = {x, opt, l, flags, 0, false};
	const struct nlist *mixed = NULL; /* a case_sensitive list */
	size_t total = 0;
	bool cs = true;
	char err[400];
	int rc;

	/* local parts compare with case when every entry's list says so */
	for (size_t i = 0; i < ss->n; i++) {
		const struct source *src = &ss->v[i];
		size_t n = source_count(src);
		bool src_cs = src->from != NULL && src->from->case_sensitive;
		total += n;
		if (n > 0 && !src_cs)
			cs = false;
		if (n > 0 && src_cs && mixed == NULL)
			mixed = src->from;
	}
	cs = cs && total > 0;
	switch (l->matcher) {
	case MATCH_ADDR:
		if ((l->addrs = addr_set_new()) == NULL)
			return -2;
		break;
	case MATCH_DOMAIN:
		if ((l->domains = domain_set_new()) == NULL)
			return -2;
		break;
	case MATCH_EMAIL:
		if ((l->emails = email_set_new(cs)) == NULL)
			return -2;
		break;
	default:
		if ((l->regexes = regex_list_new()) == NULL)
			return -2;
		break;
	}
	rc = sources_each(x->L, x->cfg, ss, build_entry, &b, err, sizeof(err));
	if (b.nomem)
		return -2;
	if (rc == -2) { /* a file changed since it was checked */
		error_at(x->L, opt_line(&x->L->sc, x->sec, opt, x->line),
			 x->name, "%s: %s", opt, err);
		b.bad++;
	}
	if (l->matcher == MATCH_EMAIL && !cs && b.bad == 0 && mixed != NULL)
		warn_at(x->L, opt_line(&x->L->sc, x->sec, opt, x->line),
			x->name,
			"%s mixes the case_sensitive list \"%s\" with other "
			"entries: local parts compare without case",
			opt, mixed->name);
	/* a named list's errors are reported once, with the list */
	for (size_t i = 0; b.bad && i < ss->n; i++)
		if (ss->v[i].from != NULL && source_count(&ss->v[i]) > 0)
			ss->v[i].from->bad = true;
	return b.bad ? -1 : 0;
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

/* --- what a condition kind sees of a rule (struct cond_builder) ------- */

static bool b_given(void *ctx, const char *opt)
{
	struct rctx *x = ctx;

	return opt_given(&x->L->sc, x->sec, opt) || cfg_size(x->rs, opt) > 0;
}

static const char *b_str(void *ctx, const char *opt)
{
	struct rctx *x = ctx;

	return cfg_getstr(x->rs, opt);
}

static bool b_num(void *ctx, const char *opt, long *out)
{
	struct rctx *x = ctx;

	if (cfg_size(x->rs, opt) == 0)
		return false;
	*out = cfg_getint(x->rs, opt);
	return true;
}

static bool b_flag(void *ctx, const char *opt, bool *out)
{
	struct rctx *x = ctx;

	if (cfg_size(x->rs, opt) == 0)
		return false;
	*out = cfg_getbool(x->rs, opt);
	return true;
}

static void b_report(void *ctx, bool error, const char *opt, const char *msg)
{
	struct rctx *x = ctx;
	int line = opt != NULL ? opt_line(&x->L->sc, x->sec, opt, x->line)
			       : x->line;

	if (error) {
		error_at(x->L, line, x->name, "%s", msg);
		x->errors++;
	} else {
		warn_at(x->L, line, x->name, "%s", msg);
	}
}

static int b_entries(void *ctx, const char *opt, enum matcher m,
		     unsigned flags, struct cond_lists *into)
{
	struct rctx *x = ctx;
	struct sources ss = {0};
	struct nlist *alone;
	bool nomem = false;
	int rc;

	_Static_assert((COND_LIST_UNKNOWN | COND_LIST_STREAM) <
			   sizeof(alone->built) / sizeof(alone->built[0]),
		       "struct nlist.built is indexed by the entries() flags");
	if (gather(x, opt, list_type_for(m), &ss, &nomem) != 0) {
		sources_free(&ss);
		x->errors++;
		return nomem ? -2 : -1;
	}
	/* a named list read alone is built once a load, then shared */
	alone = ss.n == 1 ? ss.v[0].from : NULL;
	if (alone != NULL && alone->built[flags] != NULL) {
		cond_lists_borrow(into, alone->built[flags]);
		sources_free(&ss);
		return 0;
	}
	rc = lists_build(x, opt, into, flags, &ss);
	sources_free(&ss);
	if (rc == -1)
		x->errors++;
	if (rc == 0 && alone != NULL &&
	    (alone->built[flags] = cond_lists_share(into)) == NULL)
		return -2;
	return rc;
}

static size_t b_count(void *ctx, const char *opt)
{
	struct rctx *x = ctx;

	return cfg_size(x->rs, opt);
}

static const char *b_item(void *ctx, const char *opt, size_t i)
{
	struct rctx *x = ctx;

	return cfg_getnstr(x->rs, opt, (unsigned)i);
}

static void b_report_item(void *ctx, const char *opt, size_t i,
			  const char *msg)
{
	struct rctx *x = ctx;

	error_at(x->L, val_line(&x->L->sc, x->sec, opt, i, x->line), x->name,
		 "%s: %s", opt, msg);
	x->errors++;
}

static struct cond *b_add(void *ctx, const struct cond_kind *k, bool negate)
{
	struct rctx *x = ctx;
	struct rule *r = x->r;
	struct cond *c;

	/* r->cond is sized for every option a rule can have */
	c = &r->cond[r->ncond++];
	memset(c, 0, sizeof(*c));
	c->kind = k;
	c->opt = k->name;
	c->rule_stage = r->stage;
	c->negate = negate;
	c->state_at = COND_NO_STATE;
	return c;
}

/* Every kind reads its options of the rule and adds its conditions. */
int conds_compile(struct rctx *x)
{
	const struct cond_builder b = {
		.rule = x->name,
		.verdict = x->verdict_ok ? (int)x->r->verdict : -1,
		.ctx = x,
		.stage = x->r->stage,
		.stage_ok = x->stage_ok,
		.given = b_given,
		.str = b_str,
		.num = b_num,
		.flag = b_flag,
		.report = b_report,
		.entries = b_entries,
		.count = b_count,
		.item = b_item,
		.report_item = b_report_item,
		.add = b_add,
	};

	if ((x->r->cond = calloc(cond_max_per_rule(), sizeof(*x->r->cond))) ==
	    NULL)
		return -1;
	for (size_t i = 0; i < cond_nkinds; i++)
		if (cond_kinds[i]->build(cond_kinds[i], &b) == -2)
			return -1;
	return 0;
}

