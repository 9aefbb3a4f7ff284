/*
 * cond_client_dnsbl.c - client_dnsbl, client_dnsbl_threshold: the client's address is listed in DNS blocklists (IPv4 octets or IPv6 nibbles reversed under each zone, as Postfix's reject_rbl_client).
 * Entries "zone[=answers][*weight]"; built, looked up and evaluated
 * by core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt opts[] = {
	{"client_dnsbl", COPT_STRS, MATCH_BOOL, false},
	{"client_dnsbl_threshold", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return dnsl_build(k, b, DNSQ_CLIENT);
}

const struct cond_kind kind_client_dnsbl = {
	.name = "client_dnsbl",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "the client is known from stage connect on",
	.build = build,
	.eval = dnsl_eval,
	.free = dnsl_free,
};
