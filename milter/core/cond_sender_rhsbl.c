/*
 * cond_sender_rhsbl.c - sender_rhsbl, sender_rhsbl_threshold: the sender's domain is listed in domain blocklists (Postfix's reject_rhsbl_sender), asked again for each message; the null sender is never listed.
 * Entries "zone[=answers][*weight]"; built, looked up and evaluated
 * by core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt opts[] = {
	{"sender_rhsbl", COPT_STRS, MATCH_BOOL, false},
	{"sender_rhsbl_threshold", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return dnsl_build(k, b, DNSQ_SENDER);
}

const struct cond_kind kind_sender_rhsbl = {
	.name = "sender_rhsbl",
	.opts = opts,
	.first = STAGE_MAIL,
	.last = STAGE_EOM,
	.known_when = "the sender is known from stage mail on",
	.build = build,
	.eval = dnsl_eval,
	.needs = 1u << STAGE_MAIL,
	.free = dnsl_free,
};
