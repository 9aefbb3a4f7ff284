/*
 * cond_client_name_rhsbl.c - client_name_rhsbl, client_name_rhsbl_threshold: the client's host name is listed in domain blocklists (Postfix's reject_rhsbl_reverse_client); a client without a name ("unknown") is never listed.
 * Entries "zone[=answers][*weight]"; built, looked up and evaluated
 * by core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt opts[] = {
	{"client_name_rhsbl", COPT_STRS, MATCH_BOOL, false},
	{"client_name_rhsbl_threshold", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return dnsl_build(k, b, DNSQ_CLIENT_NAME);
}

const struct cond_kind kind_client_name_rhsbl = {
	.name = "client_name_rhsbl",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "the client is known from stage connect on",
	.build = build,
	.eval = dnsl_eval,
	.free = dnsl_free,
};
