/*
 * cond_helo_literal.c - helo_literal: is the HELO argument an address
 * literal such as "[192.0.2.1]"?
 */
#include <string.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"helo_literal", COPT_BOOL, MATCH_BOOL, false},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	size_t n = strlen(s->helo);
	bool lit = s->have_helo && n >= 2 && s->helo[0] == '[' &&
		   s->helo[n - 1] == ']';
	(void)st;

	if (s->too_long & FACT_HELO)
		return COND_TOO_LONG;
	return lit == cond_flag_want(c);
}

const struct cond_kind kind_helo_literal = {
	.name = "helo_literal",
	.opts = opts,
	.first = STAGE_HELO,
	.last = STAGE_EOM,
	.known_when = "the HELO name is known from stage helo on",
	.build = cond_build_flag,
	.eval = eval,
	.needs = 1u << STAGE_HELO,
	.free = free,
};
