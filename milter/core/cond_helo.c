/*
 * cond_helo.c - helo, helo_regex: the HELO or EHLO argument.
 */
#include <string.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"helo", COPT_LIST, MATCH_DOMAIN, true},
	{"helo_regex", COPT_LIST, MATCH_REGEX, true},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	if (s->too_long & FACT_HELO)
		return COND_TOO_LONG;
	if (!s->have_helo)
		return 0;
	return cond_match_text(c->data, s->helo, strlen(s->helo));
}

const struct cond_kind kind_helo = {
	.name = "helo",
	.opts = opts,
	.first = STAGE_HELO,
	.last = STAGE_EOM,
	.known_when = "the HELO name is known from stage helo on",
	.build = cond_build_each_list,
	.eval = eval,
	.needs = 1u << STAGE_HELO,
	.free = cond_lists_free,
};
