/*
 * cond_client_address.c - client_address: the client's IP address in a
 * set of addresses and networks (IPv4 and IPv6 CIDR).
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"client_address", COPT_LIST, MATCH_ADDR, true},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct cond_lists *l = c->data;
	(void)st;

	return s->have_ip && addr_set_match(l->addrs, s->client_ip);
}

const struct cond_kind kind_client_address = {
	.name = "client_address",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "the client is known from stage connect on",
	.build = cond_build_each_list,
	.eval = eval,
	.free = cond_lists_free,
};
