/*
 * explain.c - --explain: a reply pair described and judged stage by stage
 * (see explain.h). The judgement is codes_check()'s, word for word.
 *
 * Must never judge a pair itself: what it prints about a pair comes from
 * codes_check(), or --explain and the config check would disagree.
 */
#include <stdbool.h>
#include <string.h>

#include "core/codes.h"
#include "core/explain.h"

/* One situation a rule can give the reply in. */
struct place {
	enum stage stage;
	bool held;
};

static const struct place places[] = {
    {STAGE_CONNECT, false}, {STAGE_HELO, false},   {STAGE_CONNECT, true},
    {STAGE_HELO, true},	    {STAGE_MAIL, false},   {STAGE_RCPT, false},
    {STAGE_DATA, false},    {STAGE_HEADER, false}, {STAGE_EOH, false},
    {STAGE_BODY, false},    {STAGE_EOM, false},
};
#define NPLACES (sizeof(places) / sizeof(places[0]))

static void print_commands(FILE *out, unsigned mask)
{
	static const char *const names[CMD_COUNT] = {
	    "the greeting", "HELO", "MAIL", "RCPT", "DATA", "the end of DATA"};
	const char *sep = "";

	for (int c = 0; c < CMD_COUNT; c++) {
		if (mask & CMDBIT(c)) {
			fprintf(out, "%s%s", sep, names[c]);
			sep = ", ";
		}
	}
	fprintf(out, "%s\n", *sep ? "" : "no command a milter answers");
}

static bool same_findings(const struct findings *a, const struct findings *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (a->item[i].severity != b->item[i].severity ||
		    strcmp(a->item[i].text, b->item[i].text) != 0)
			return false;
	return true;
}

static void count(const struct findings *f, size_t *nerr, size_t *nwarn)
{
	*nerr = *nwarn = 0;
	for (size_t i = 0; i < f->count; i++) {
		if (f->item[i].severity == FINDING_ERROR)
			(*nerr)++;
		else if (f->item[i].severity == FINDING_WARNING)
			(*nwarn)++;
	}
}

static void describe(FILE *out, const struct reply_code *rc)
{
	const struct basic_info *b = codes_basic(rc->basic);
	const struct enhanced_info *e =
	    codes_enhanced(rc->enh_subject, rc->enh_detail);
	const struct private_code *pc;
	const struct practice_pair *p;
	size_t from = 0;
	bool any = false;

	if (b == NULL) {
		fprintf(out, "  %d: defined by no RFC and not named by IANA\n",
			rc->basic);
	} else {
		fprintf(out, "  %d: %s (%s)\n", rc->basic, b->meaning,
			b->reference);
		fprintf(out, "       %s lists it for: ",
			strstr(b->reference, "RFC 5321") != NULL
			    ? "RFC 5321"
			    : b->reference);
		print_commands(out, b->commands);
	}
	if (rc->enh_class == 0) {
		fprintf(out, "  no enhanced code\n");
	} else if (e == NULL) {
		pc = codes_private(rc);
		fprintf(out,
			"  %d.%d.%d: unregistered (not in the IANA "
			"registry)\n",
			rc->enh_class, rc->enh_subject, rc->enh_detail);
		if (pc != NULL)
			fprintf(out, "       %s's own code: %s (%s)\n", pc->who,
				pc->what, pc->source);
	} else {
		fprintf(out, "  %d.%d.%d: %s (%s)\n", rc->enh_class,
			rc->enh_subject, rc->enh_detail, e->sample,
			e->reference);
		fprintf(out, "       IANA basic codes: %s\n",
			e->assoc_text != NULL && e->assoc_text[0] != '\0'
			    ? e->assoc_text
			    : "Not given");
	}
	while ((p = codes_practice_next(rc, &from)) != NULL) {
		if (!any)
			fprintf(out, "  sent in practice by:\n");
		any = true;
		fprintf(out, "       %s at ", p->who);
		print_commands(out, p->commands);
		fprintf(out, "         \"%s\" (%s)\n", p->what, p->source);
	}
	if (!any && rc->basic >= 400 && rc->basic <= 599 && rc->enh_class != 0)
		fprintf(out, "  sent in practice by: none of the MTAs and "
			     "providers in the practice table\n");
}

static void place_name(FILE *out, const struct place *pl, bool first)
{
	fprintf(out, "%s%s%s", first ? "" : ", ", stage_name(pl->stage),
		pl->held ? " (held)" : "");
}

int explain_write(FILE *out, const char *spec)
{
	struct reply_code rc;
	char err[256], both[32];
	struct findings f[NPLACES];
	bool done[NPLACES] = {false};
	enum verdict v;

	if (codes_parse_spec(spec, &rc, err, sizeof(err)) != 0) {
		fprintf(out, "%s: %s\n", spec, err);
		return 1;
	}
	codes_format(&rc, both, sizeof(both));
	fprintf(out, "%s\n", both);
	describe(out, &rc);
	if (rc.basic < 400) {
		fprintf(out, "  not a failure code: a milter can only send "
			     "4xx and 5xx replies\n");
		return 1;
	}
	if (rc.basic == 421)
		fprintf(out, "  a 421 reply makes Postfix and Sendmail close "
			     "the connection\n");
	v = rc.basic >= 500 ? VERDICT_REJECT : VERDICT_TEMPFAIL;
	for (size_t i = 0; i < NPLACES; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		codes_check(&rc, v, places[i].stage, places[i].held, &f[i]);
	}
	fprintf(out, "  judged as the reply of a %s rule:\n", verdict_name(v));
	/* Places with the same findings share one paragraph. */
	for (size_t i = 0; i < NPLACES; i++) {
		size_t nerr, nwarn;
		if (done[i])
			continue;
		fprintf(out, "    at ");
		for (size_t j = i; j < NPLACES; j++) {
			if (!done[j] && same_findings(&f[i], &f[j])) {
				place_name(out, &places[j], j == i);
				done[j] = true;
			}
		}
		count(&f[i], &nerr, &nwarn);
		if (nerr > 0)
			fprintf(out, ": does not load\n");
		else if (nwarn > 0)
			fprintf(out, ": loads with a warning (refused under "
				     "strict = true)\n");
		else
			fprintf(out, ": well paired\n");
		for (size_t k = 0; k < f[i].count; k++)
			fprintf(out, "      %s: %s\n",
				finding_severity_name(f[i].item[k].severity),
				f[i].item[k].text);
	}
	for (size_t i = 0; i < NPLACES; i++) {
		size_t nerr, nwarn;
		count(&f[i], &nerr, &nwarn);
		if (nerr == 0)
			return 0;
	}
	return 1;
}
