/*
 * cond_size.c - min_size, max_size: the message's size, as SIZE= of MAIL
 * said it until DATA (not given: no match), then as counted from the
 * headers on.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"min_size", COPT_STR, MATCH_RANGE, false},
	{"max_size", COPT_STR, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

int size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t n = strlen(s), i;

	if (n > 0 && strchr("kKmMgG", s[n - 1]) != NULL) {
		switch (s[n - 1]) {
		case 'k':
		case 'K':
			mul = 1024;
			break;
		case 'm':
		case 'M':
			mul = 1024 * 1024;
			break;
		default:
			mul = 1024 * 1024 * 1024;
		}
		n--;
	}
	if (n == 0 || strspn(s, "0123456789") < n)
		return -1;
	for (i = 0; i < n; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	const char *smin = b->str(b->ctx, "min_size");
	const char *smax = b->str(b->ctx, "max_size");
	struct cond_range r = {0, UINT64_MAX};

	if (smin == NULL && smax == NULL)
		return 0;
	if (!cond_stage_ok(k, b, smin ? "min_size" : "max_size"))
		return 0;
	if (smin != NULL && size_parse(smin, &r.min) != 0) {
		cond_report(b, true, "min_size",
			    "min_size \"%s\": want a number of bytes with an "
			    "optional K, M or G suffix, e.g. \"10M\"",
			    smin);
		return 0;
	}
	if (smax != NULL && size_parse(smax, &r.max) != 0) {
		cond_report(b, true, "max_size",
			    "max_size \"%s\": want a number of bytes with an "
			    "optional K, M or G suffix, e.g. \"10M\"",
			    smax);
		return 0;
	}
	if (r.min > r.max) {
		cond_report(b, true, "max_size",
			    "max_size is less than min_size: the rule would "
			    "never match");
		return 0;
	}
	return cond_add_copy(k, b, smin ? "min_size" : "max_size", &r,
			     sizeof(r));
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	if (st <= STAGE_DATA)
		return s->msg.size_param > 0 &&
		       cond_in_range(c, s->msg.size_param);
	return cond_in_range(c, s->msg.size);
}

/* SIZE= at MAIL; from the header on, counted. */
static unsigned events(const struct cond *c)
{
	unsigned ev = 1u << STAGE_MAIL;

	if (c->rule_stage >= STAGE_HEADER)
		ev |= 1u << STAGE_HEADER | 1u << STAGE_EOH | 1u << STAGE_BODY;
	return ev;
}

const struct cond_kind kind_size = {
	.name = "size",
	.opts = opts,
	.first = STAGE_MAIL,
	.last = STAGE_EOM,
	.known_when = "the size is known from stage mail on",
	.build = build,
	.eval = eval,
	.events = events,
	.free = free,
};
