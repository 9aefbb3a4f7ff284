/*
 * cond_recipients.c - min_recipients, max_recipients: how many recipients
 * the message has so far (refused ones not counted).
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"min_recipients", COPT_INT, MATCH_RANGE, false},
	{"max_recipients", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return cond_build_count(k, b, "a number of recipients");
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	return cond_in_range(c, s->msg.rcpt_count);
}

const struct cond_kind kind_recipients = {
	.name = "recipients",
	.opts = opts,
	.first = STAGE_RCPT,
	.last = STAGE_EOM,
	.known_when = "recipients are known from stage rcpt on",
	.build = build,
	.eval = eval,
	.needs = 1u << STAGE_RCPT,
	.free = free,
};
