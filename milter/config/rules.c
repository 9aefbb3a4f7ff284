/*
 * rules.c - one rule ("rule NAME { ... }") compiled into a struct rule:
 * stage, verdict and mode, its conditions (conds.c), reply and text
 * (text.c); then the links across rules (stage index, slots, events,
 * rules that can never match).
 *
 * Uses diag.c, parse.c, conds.c and text.c; never logs, never exits.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "core/cond.h"

/*
 * A rule's options: its own, then every condition kind's (core/cond.h),
 * put together once (rule_options()).
 */
static const cfg_opt_t rule_own_opts[] = {
    CFG_STR("stage", NULL, CFGF_NODEFAULT),
    CFG_STR("verdict", NULL, CFGF_NODEFAULT),
    CFG_STR("reply", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("text", NULL, CFGF_NODEFAULT),
    CFG_STR("mode", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("add_header", NULL, CFGF_NODEFAULT),
    CFG_STR("log", NULL, CFGF_NODEFAULT),
};
#define NRULE_OWN_OPTS (sizeof(rule_own_opts) / sizeof(rule_own_opts[0]))

static cfg_opt_t *rule_opts; /* for the life of the process */
static pthread_once_t rule_opts_once = PTHREAD_ONCE_INIT;

static cfg_opt_t kind_opt(const char *name, enum cond_opt_type type)
{
	switch (type) {
	case COPT_LIST:
	case COPT_STRS: {
		cfg_opt_t o = CFG_STR_LIST(name, NULL, CFGF_NODEFAULT);
		return o;
	}
	case COPT_BOOL: {
		cfg_opt_t o = CFG_BOOL(name, cfg_false, CFGF_NODEFAULT);
		return o;
	}
	case COPT_INT: {
		cfg_opt_t o = CFG_INT(name, 0, CFGF_NODEFAULT);
		return o;
	}
	default: {
		cfg_opt_t o = CFG_STR(name, NULL, CFGF_NODEFAULT);
		return o;
	}
	}
}

static void rule_opts_build(void)
{
	size_t n = NRULE_OWN_OPTS + cond_max_per_rule() + 1, k = 0;
	cfg_opt_t *o = calloc(n, sizeof(*o));
	const cfg_opt_t end = CFG_END();

	if (o == NULL)
		return; /* the loader says: out of memory */
	for (size_t i = 0; i < NRULE_OWN_OPTS; i++)
		o[k++] = rule_own_opts[i];
	for (size_t i = 0; i < cond_nkinds; i++)
		for (const struct cond_opt *c = cond_kinds[i]->opts;
		     c->name != NULL; c++) {
			char *not_name = NULL;
			o[k++] = kind_opt(c->name, c->type);
			if (!c->negatable)
				continue;
			if (asprintf(&not_name, "not_%s", c->name) < 0) {
				free(o);
				return;
			}
			o[k++] = kind_opt(not_name, c->type);
		}
	o[k] = end;
	rule_opts = o;
}

cfg_opt_t *rule_options(void)
{
	pthread_once(&rule_opts_once, rule_opts_build);
	return rule_opts;
}

static const char *const stage_list =
    "connect, helo, mail, rcpt, data, header, eoh, body, eom";

/*
 * A placeholder that only some kinds of condition give a value to
 * ($retry_in) needs one of them in the rule. Returns the errors.
 */
static int placeholders_given(struct rctx *x)
{
	const struct rule *r = x->r;
	unsigned uses = r->log_t != NULL ? template_uses(r->log_t) : 0;
	unsigned given = 0, need = 0;
	int errors = 0;

	for (size_t i = 0; i < r->ntext; i++)
		uses |= r->text_t != NULL && r->text_t[i] != NULL
			    ? template_uses(r->text_t[i])
			    : 0;
	for (size_t i = 0; i < r->nheaders; i++)
		uses |= r->hdr_t != NULL && r->hdr_t[i] != NULL
			    ? template_uses(r->hdr_t[i])
			    : 0;
	for (size_t k = 0; k < cond_nkinds; k++)
		need |= cond_kinds[k]->gives;
	for (size_t i = 0; i < r->ncond; i++)
		given |= r->cond[i].kind->gives;
	for (int ph = 0; ph < PH_COUNT; ph++) {
		unsigned bit = 1u << ph;
		if (!(uses & need & bit) || (given & bit))
			continue;
		for (size_t k = 0; k < cond_nkinds; k++)
			if (cond_kinds[k]->gives & bit) {
				error_at(x->L, x->line, x->name,
					 "$%s has a value only in a rule with "
					 "a %s condition",
					 placeholder_name((enum placeholder)ph),
					 cond_kinds[k]->name);
				errors++;
				break;
			}
	}
	return errors;
}

/* A rule's text: into r, as written and compiled. See text_take(). */
static int take_rule_text(const struct where *w, struct rule *r,
			  const struct reply_code *code, size_t reserve)
{
	struct texts t = {0};
	int n = text_take(w, code, reserve, true, &t);

	r->ntext = t.n;
	r->text = t.text;
	r->text_t = t.tmpl;
	r->has_placeholders = t.dynamic;
	return n;
}

/*
 * Compile rule section rs into r. Returns the number of errors, or -1
 * when memory ran out.
 */
int rule_compile(struct loader *L, cfg_t *cfg, cfg_t *rs, struct rule *r)
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
	x.verdict_ok = verdict_ok;
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
	if (conds_compile(&x) != 0)
		return -1;

	if (!verdict_ok)
		return x.errors;

	/* reply and text */
	s = cfg_getstr(rs, "reply");
	if (verdict_sends_reply(r->verdict)) {
		n = reply_check(&w, s,
				r->verdict == VERDICT_REJECT ? "550 5.7.1"
							     : "451 4.7.1",
				r->verdict, stage_ok ? r->stage : STAGE_EOM,
				&r->code);
		x.errors += n;
		if (n == 0) {
			n = take_rule_text(&w, r, &r->code,
					   policy_reply_reserve(r, r->stage,
								NULL));
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
			n = take_rule_text(&w, r, NULL, 0);
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
	n = log_take(&w, r);
	if (n < 0)
		return -1;
	x.errors += n;
	if (x.errors == 0)
		x.errors += placeholders_given(&x);
	if (r->verdict == VERDICT_CONTINUE && r->nheaders == 0 &&
	    r->log == NULL && x.errors == 0)
		warn_at(L, x.line, x.name,
			"a continue rule with no add_header and no log does "
			"nothing");
	if (r->nheaders > 0 && x.errors == 0 &&
	    (verdict_sends_reply(r->verdict) || r->verdict == VERDICT_DISCARD))
		warn_at(
		    L, opt_line(&L->sc, x.sec, "add_header", x.line), x.name,
		    "add_header does nothing on %s %s rule: the message is "
		    "not delivered",
		    a_an(verdict_name(r->verdict)), verdict_name(r->verdict));

	/* pre-render a reply that needs no placeholders */
	if (x.errors == 0 && verdict_sends_reply(r->verdict) && !r->has_placeholders) {
		const char *lit[REPLY_MAX_LINES];
		struct texts t = {r->ntext, r->text, r->text_t, false};
		texts_literal(&t, lit);
		if (reply_render(&r->code, lit, r->ntext,
				 policy_reply_reserve(r, r->stage, NULL),
				 &r->rendered, err, sizeof(err)) != 0) {
			error_at(L, x.line, x.name, "reply: %s", err);
			x.errors++;
		}
	}
	return x.errors;
}

static bool ends_evaluation(const struct rule *r)
{
	return r->mode == MODE_ENFORCE && r->verdict != VERDICT_CONTINUE;
}

/*
 * The stage index, the slots, the events and the checks across rules.
 * Returns -1 when memory runs out.
 */
int policy_link(struct loader *L)
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
	}
	if (policy_state_layout(p) != 0)
		return -1;
	p->need_stages = policy_events(p);
	return 0;
}
