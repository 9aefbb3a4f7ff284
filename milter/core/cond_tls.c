/*
 * cond_tls.c - tls: is the session encrypted (the MTA sent the
 * {tls_version} macro)?
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"tls", COPT_BOOL, MATCH_BOOL, false},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	return (cond_macro(s, "{tls_version}") != NULL) == cond_flag_want(c);
}

const struct cond_kind kind_tls = {
	.name = "tls",
	.opts = opts,
	.first = STAGE_HELO,
	.last = STAGE_EOM,
	.known_when = "TLS is known from stage helo on",
	.build = cond_build_flag,
	.eval = eval,
	.free = free,
};
