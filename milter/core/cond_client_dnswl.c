/*
 * cond_client_dnswl.c - client_dnswl, client_dnswl_threshold: the client's address is listed in DNS allowlists (asked as client_dnsbl; Postfix's permit_dnswl_client).
 * Entries "zone[=answers][*weight]"; built, looked up and evaluated
 * by core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt opts[] = {
	{"client_dnswl", COPT_STRS, MATCH_BOOL, false},
	{"client_dnswl_threshold", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return dnsl_build(k, b, DNSQ_CLIENT);
}

const struct cond_kind kind_client_dnswl = {
	.name = "client_dnswl",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "the client is known from stage connect on",
	.build = build,
	.eval = dnsl_eval,
	.free = dnsl_free,
};
