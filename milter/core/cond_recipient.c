/*
 * cond_recipient.c - recipient, recipient_domain, recipient_regex: at
 * stage rcpt the recipient of that RCPT TO; at a later stage, whether any
 * recipient taken so far in the message matched (per-message state, set
 * when a recipient is taken; a refused one does not count).
 */
#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"recipient", COPT_LIST, MATCH_EMAIL, true},
	{"recipient_domain", COPT_LIST, MATCH_DOMAIN, true},
	{"recipient_regex", COPT_LIST, MATCH_REGEX, true},
	{NULL, 0, 0, false},
};

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	if (st == STAGE_RCPT)
		return cond_match_address(c->data, &s->msg.rcpt);
	if (c->state_at != COND_NO_STATE)
		return *(const bool *)cond_state(c, s);
	return 0;
}

/* A flag for a rule after stage rcpt: some recipient matched. */
static size_t state_size(const struct cond *c)
{
	return c->rule_stage > STAGE_RCPT ? sizeof(bool) : 0;
}

static void state_reset(const struct cond *c, void *st)
{
	(void)c;
	*(bool *)st = false;
}

static int observe(const struct cond *c, enum cond_moment when, enum stage st,
		   struct session *s, void *state)
{
	bool *hit = state;
	int m;
	(void)st;

	if (when != COND_TAKEN || *hit)
		return 0;
	m = cond_match_address(c->data, &s->msg.rcpt);
	if (m < 0)
		return m;
	*hit = m != 0;
	return 0;
}

static const struct addr_fact *address(const struct cond *c,
				       const struct session *s)
{
	(void)c;
	return &s->msg.rcpt;
}

const struct cond_kind kind_recipient = {
	.name = "recipient",
	.opts = opts,
	.first = STAGE_RCPT,
	.last = STAGE_EOM,
	.known_when = "recipients are known from stage rcpt on",
	.build = cond_build_each_list,
	.eval = eval,
	.needs = 1u << STAGE_RCPT,
	.free = cond_lists_free,
	.state_size = state_size,
	.state_reset = state_reset,
	.observes = 1u << STAGE_RCPT,
	.observe = observe,
	.address = address,
};
