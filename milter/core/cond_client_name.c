/*
 * cond_client_name.c - client_name, client_name_regex: the client's host
 * name as the MTA found it; "unknown" when it has none (the entry
 * "unknown" matches exactly that).
 */
#include <string.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"client_name", COPT_LIST, MATCH_DOMAIN, true},
	{"client_name_regex", COPT_LIST, MATCH_REGEX, true},
	{NULL, 0, 0, false},
};

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return cond_build_lists(k, b, COND_LIST_UNKNOWN, NULL);
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct cond_lists *l = c->data;
	(void)st;

	if (s->too_long & FACT_CLIENT_NAME)
		return COND_TOO_LONG;
	if (s->client_name[0] == '\0' || strcmp(s->client_name, "unknown") == 0)
		return l->match_unknown;
	return cond_match_text(l, s->client_name, strlen(s->client_name));
}

const struct cond_kind kind_client_name = {
	.name = "client_name",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "the client is known from stage connect on",
	.build = build,
	.eval = eval,
	.free = cond_lists_free,
};
