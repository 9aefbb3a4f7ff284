/*
 * cond_helo_rhsbl.c - helo_rhsbl, helo_rhsbl_threshold: the HELO name is listed in domain blocklists (Postfix's reject_rhsbl_helo); an address literal is never listed.
 * Entries "zone[=answers][*weight]"; built, looked up and evaluated
 * by core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt opts[] = {
	{"helo_rhsbl", COPT_STRS, MATCH_BOOL, false},
	{"helo_rhsbl_threshold", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return dnsl_build(k, b, DNSQ_HELO);
}

const struct cond_kind kind_helo_rhsbl = {
	.name = "helo_rhsbl",
	.opts = opts,
	.first = STAGE_HELO,
	.last = STAGE_EOM,
	.known_when = "the HELO name is known from stage helo on",
	.build = build,
	.eval = dnsl_eval,
	.needs = 1u << STAGE_HELO,
	.free = dnsl_free,
};
