/*
 * cond_received.c - min_received, max_received: how many "Received:"
 * headers the message has (so far, at stage header): the hop count, as
 * mail loops show it (RFC 5321 6.3; Postfix's hopcount_limit).
 *
 * The count is per-message state, counted at each header event before
 * the header's rules are tried.
 */
#include <strings.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"min_received", COPT_INT, MATCH_RANGE, false},
	{"max_received", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return cond_build_count(k, b, "a number of Received: headers");
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	return cond_in_range(c, *(const unsigned *)cond_state(c, s));
}

static size_t state_size(const struct cond *c)
{
	(void)c;
	return sizeof(unsigned);
}

static void state_reset(const struct cond *c, void *st)
{
	(void)c;
	*(unsigned *)st = 0;
}

static int observe(const struct cond *c, enum cond_moment when, enum stage st,
		   struct session *s, void *state)
{
	(void)c;
	(void)st;
	if (when == COND_BEFORE && s->msg.hdr_name != NULL &&
	    strcasecmp(s->msg.hdr_name, "Received") == 0)
		(*(unsigned *)state)++;
	return 0;
}

const struct cond_kind kind_received = {
	.name = "received",
	.opts = opts,
	.first = STAGE_HEADER,
	.last = STAGE_EOM,
	.known_when = "Received: headers are counted from stage header on",
	.build = build,
	.eval = eval,
	.needs = 1u << STAGE_HEADER,
	.free = free,
	.state_size = state_size,
	.state_reset = state_reset,
	.observes = 1u << STAGE_HEADER,
	.observe = observe,
};
