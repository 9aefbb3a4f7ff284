/*
 * cond_sender.c - sender, sender_domain, sender_regex: the envelope
 * sender of MAIL FROM, in its normal form ("<>" is the null sender).
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"sender", COPT_LIST, MATCH_EMAIL, true},
	{"sender_domain", COPT_LIST, MATCH_DOMAIN, true},
	{"sender_regex", COPT_LIST, MATCH_REGEX, true},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	return cond_match_address(c->data, &s->msg.sender);
}

static const struct addr_fact *address(const struct cond *c,
				       const struct session *s)
{
	(void)c;
	return &s->msg.sender;
}

const struct cond_kind kind_sender = {
	.name = "sender",
	.opts = opts,
	.first = STAGE_MAIL,
	.last = STAGE_EOM,
	.known_when = "the sender is known from stage mail on",
	.build = cond_build_each_list,
	.eval = eval,
	.needs = 1u << STAGE_MAIL,
	.free = cond_lists_free,
	.address = address,
};
