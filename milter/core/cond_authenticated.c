/*
 * cond_authenticated.c - authenticated: did the client log in (SMTP AUTH:
 * the MTA sent the {auth_authen} macro)?
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"authenticated", COPT_BOOL, MATCH_BOOL, false},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	return (cond_macro(s, "{auth_authen}") != NULL) == cond_flag_want(c);
}

const struct cond_kind kind_authenticated = {
	.name = "authenticated",
	.opts = opts,
	.first = STAGE_MAIL,
	.last = STAGE_EOM,
	.known_when = "authentication is known from stage mail on",
	.build = cond_build_flag,
	.eval = eval,
	.free = free,
};
