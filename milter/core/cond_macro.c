/*
 * cond_macro.c - macro with macro_regex: the value of an MTA macro
 * ("{daemon_name}", "j", ...), as the MTA sends it for the stage.
 */
#include <string.h>

#include "core/cond.h"

static const struct cond_opt opts[] = {
	{"macro", COPT_STR, MATCH_REGEX, false},
	{"macro_regex", COPT_LIST, MATCH_REGEX, true},
	{NULL, 0, 0, false},
};

static bool name_ok(const char *s)
{
	char err[200];

	return s[0] != '\0' && reply_text_check(s, err, sizeof(err)) == 0 &&
	       strchr(s, ' ') == NULL;
}

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	return cond_build_named(k, b, name_ok,
				"is not a macro name, e.g. \"{daemon_name}\" "
				"or \"j\"");
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct cond_lists *l = c->data;
	const char *v = cond_macro(s, l->name);
	(void)st;

	if (v == NULL)
		return 0;
	return regex_list_match(l->regexes, v, strlen(v));
}

const struct cond_kind kind_macro = {
	.name = "macro",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "macros are known from stage connect on",
	.build = build,
	.eval = eval,
	.free = cond_lists_free,
};
