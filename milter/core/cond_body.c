/*
 * cond_body.c - body_regex: the body, streamed chunk by chunk through a
 * scanner of its own per session (match.h, struct body_scan), fed before
 * any rule of the stage is tried, so no rule's short cut leaves it behind.
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"body_regex", COPT_LIST, MATCH_REGEX, false},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return cond_build_lists(k, b, COND_LIST_STREAM, NULL);
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	(void)st;
	return body_scan_matched(cond_state(c, s));
}

static size_t state_size(const struct cond *c)
{
	(void)c;
	return sizeof(struct body_scan);
}

static int state_init(const struct cond *c, void *st, const struct policy *p)
{
	(void)c;
	body_scan_init(st, p->body_span);
	return 0;
}

static void state_reset(const struct cond *c, void *st)
{
	(void)c;
	body_scan_reset(st);
}

static void state_free(const struct cond *c, void *st)
{
	(void)c;
	body_scan_free(st);
}

/* A chunk, or at end of message the end of the body. */
static int observe(const struct cond *c, enum cond_moment when, enum stage st,
		   struct session *s, void *state)
{
	const struct cond_lists *l = c->data;
	int rc;

	if (when != COND_BEFORE)
		return 0;
	if (st == STAGE_EOM || s->msg.body_end)
		rc = body_scan_end(state, l->regexes);
	else
		rc = body_scan_feed(state, l->regexes, s->msg.chunk,
				    s->msg.chunk_len);
	return rc < 0 ? COND_LIMIT : 0;
}

static bool late(const struct cond *c, const void *st)
{
	(void)c;
	return body_scan_late(st);
}

const struct cond_kind kind_body = {
	.name = "body",
	.opts = opts,
	.first = STAGE_BODY,
	.last = STAGE_EOM,
	.known_when = "the body is seen at stages body and eom only",
	.build = build,
	.eval = eval,
	.needs = 1u << STAGE_BODY,
	.free = cond_lists_free,
	.state_size = state_size,
	.state_init = state_init,
	.state_reset = state_reset,
	.state_free = state_free,
	.observes = 1u << STAGE_BODY | 1u << STAGE_EOM,
	.observe = observe,
	.late = late,
};
