/*
 * cond_header.c - header with header_regex: the value of a named header,
 * seen one header at a time at stage header.
 */
#include <string.h>
#include <strings.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"header", COPT_STR, MATCH_REGEX, false},
	{"header_regex", COPT_LIST, MATCH_REGEX, true},
	{NULL, 0, 0, false},
};

/* An RFC 5322 field name: printable ASCII but ':' and space. */
static bool name_ok(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return false;
	return true;
}

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return cond_build_named(k, b, name_ok,
				"is not a header field name (printable "
				"ASCII, no ':' or space)");
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct cond_lists *l = c->data;
	(void)st;

	if (s->msg.hdr_name == NULL ||
	    strcasecmp(s->msg.hdr_name, l->name) != 0)
		return 0;
	return regex_list_match(l->regexes, s->msg.hdr_value,
				s->msg.hdr_value_len);
}

const struct cond_kind kind_header = {
	.name = "header",
	.opts = opts,
	.first = STAGE_HEADER,
	.last = STAGE_HEADER,
	.known_when = "headers are seen one by one at stage header only",
	.build = build,
	.eval = eval,
	.needs = 1u << STAGE_HEADER,
	.free = cond_lists_free,
};
