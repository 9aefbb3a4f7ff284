/*
 * check_script.c - unit tests for the transaction script parser
 * (milter/lib/script.c), shared by mtclient and --simulate: each row a
 * script, and either its commands flattened ("ev arg|arg [macros]") or
 * the error line and message.
 *
 * Must never depend on libmilter.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "lib/script.h"

/* Arguments printed with NUL as \0 so that lengths show. */
static size_t put(char *out, size_t outlen, const struct script_arg *a)
{
	size_t o = 0;

	for (size_t i = 0; i < a->len && o + 3 < outlen; i++) {
		if (a->p[i] == '\0') {
			out[o++] = '\\';
			out[o++] = '0';
		} else {
			out[o++] = a->p[i];
		}
	}
	out[o] = '\0';
	return o;
}

static void flatten(const struct script *sc, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sc->n && o < outlen; i++) {
		const struct script_cmd *c = &sc->cmd[i];
		o += (size_t)snprintf(out + o, outlen - o, "%d:%s",
				      c->line, script_ev_name(c->ev));
		for (size_t k = 0; k < c->nargs; k++) {
			o += (size_t)snprintf(out + o, outlen - o, "%s",
					      k ? "|" : " ");
			o += put(out + o, outlen - o, &c->arg[k]);
		}
		for (size_t k = 0; k < c->nmacros; k++) {
			o += (size_t)snprintf(out + o, outlen - o, " [");
			o += put(out + o, outlen - o, &c->macro[k].name);
			o += (size_t)snprintf(out + o, outlen - o, "=");
			o += put(out + o, outlen - o, &c->macro[k].value);
			o += (size_t)snprintf(out + o, outlen - o, "]");
		}
		if (c->ev == SCRIPT_CONNECT && c->port)
			o += (size_t)snprintf(out + o, outlen - o, " port=%lu",
					      c->port);
		if (c->ev == SCRIPT_NEGOTIATE)
			o += (size_t)snprintf(out + o, outlen - o,
					      " set=%u v=%lu a=%lx p=%lx",
					      c->neg_set, c->version,
					      c->actions, c->protocol);
		o += (size_t)snprintf(out + o, outlen - o, "\n");
	}
}

static const struct row {
	const char *in;
	int errline; /* 0: parses */
	const char *want; /* commands, or the error message */
} rows[] = {
	{"connect host.test 192.0.2.1 25\nhelo host.test\n", 0,
	 "1:connect host.test|192.0.2.1|25 port=25\n2:helo host.test\n"},
	{"# comment\n\n  mail <a@b> SIZE=10 # trailing\n", 0,
	 "3:mail <a@b>|SIZE=10\n"},
	{"header Subject \"a\\tb \\\"q\\\" \\x25\"\n", 0,
	 "1:header Subject|a\tb \"q\" %\n"},
	{"body \"ab\"*3\"c\"\n", 0, "1:body abababc\n"},
	{"body x\"\\x00\"y\n", 0, "1:body x\\0y\n"},
	{"body a*3\n", 0, "1:body a*3\n"},
	{"body \"\"\n", 0, "1:body \n"},
	{"macro mail {auth_authen}=alice i=\nmacro mail x=1\nconnect h -\n"
	 "mail <a@b>\nrcpt <c@d>\n",
	 0,
	 "3:connect h|-\n4:mail <a@b> [{auth_authen}=alice] [i=] [x=1]\n"
	 "5:rcpt <c@d>\n"},
	{"negotiate version=2 protocol=0x10\ndata\neom\nquit\n", 0,
	 "1:negotiate version=2|protocol=0x10 set=5 v=2 a=0 p=10\n2:data\n3:eom\n4:quit\n"},
	/* errors, with the line to blame */
	{"helo\n", 1, "helo: needs exactly one argument"},
	{"connect h 1.2.3.4 70000\n", 1, "connect: port must be 0 to 65535"},
	{"data x\n", 1, "data: takes no arguments"},
	{"nope\n", 1, "unknown command \"nope\""},
	{"helo \"abc\n", 1, "unterminated quoted string"},
	{"helo \"\\q\"\n", 1, "unknown escape \\q"},
	{"helo \"\\x4\"\n", 1, "\\x needs two hex digits"},
	{"helo a\nnegotiate\n", 2, "negotiate: must come before every event"},
	{"negotiate version=7\n", 1, "negotiate: version must be 2 to 6"},
	{"macro nowhere a=b\n", 1, "macro: unknown stage"},
	{"macro mail ab\n", 1, "macro: arguments must be name=value"},
	{"\nmacro eom i=1\nmail <a@b>\n", 2,
	 "macros for stage eom are never sent: no eom command follows"},
	{"body \"a\"*67108865\n", 1, "repeat count too big"},
	{"body \"ab\"*33554433\n", 1, "argument longer than 67108864 bytes"},
};

START_TEST(test_parse)
{
	const struct row *r = &rows[_i];
	struct script sc = {0};
	char err[512] = "", got[4096];
	int line = -1, rc;
	FILE *f = fmemopen((void *)r->in, strlen(r->in), "r");

	ck_assert_ptr_nonnull(f);
	rc = script_read(f, &sc, &line, err, sizeof(err));
	fclose(f);
	if (r->errline == 0) {
		ck_assert_msg(rc == 0, "row %d: error line %d: %s", _i, line,
			      err);
		flatten(&sc, got, sizeof(got));
		ck_assert_msg(strcmp(got, r->want) == 0,
			      "row %d: got\n%s\nwant\n%s", _i, got, r->want);
	} else {
		ck_assert_msg(rc == -1 && line == r->errline &&
				  strcmp(err, r->want) == 0,
			      "row %d: got %d line %d \"%s\", want line %d "
			      "\"%s\"",
			      _i, rc, line, err, r->errline, r->want);
	}
	script_free(&sc);
}
END_TEST

static Suite *script_suite(void)
{
	Suite *s = suite_create("script");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0,
			    (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(script_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
