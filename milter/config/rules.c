/*
 * rules.c - one rule ("rule NAME { ... }") compiled into a struct rule:
 * stage, verdict and mode, its conditions (conds.c), reply and text
 * (text.c); then the links across rules (stage index, slots, events,
 * rules that can never match).
 *
 * Uses diag.c, parse.c, conds.c and text.c; never logs, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

#define LIST_OPT(n) CFG_STR_LIST(n, NULL, CFGF_NODEFAULT)

cfg_opt_t rule_opts[] = {
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

static const char *const stage_list =
    "connect, helo, mail, rcpt, data, header, eoh, body, eom";

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
	n = log_take(&w, r);
	if (n < 0)
		return -1;
	x.errors += n;
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
