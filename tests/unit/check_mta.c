/*
 * check_mta.c - unit tests for the table of what Postfix and Sendmail put
 * on the wire (milter/core/mta.c): each row a verdict at a stage, and the exact
 * lines each MTA shows, flattened to "WHEN: LINE" lines. The rows that
 * tests/e2e/run.sh sees with the real MTAs are marked (e2e).
 *
 * Must never depend on libmilter or on a running MTA.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/mta.h"

/* A reply as reply_render() leaves it: lines '|'-separated, '%' doubled. */
static struct reply mk(const char *basic, const char *enh, const char *lines)
{
	struct reply r;
	const char *p = lines;

	memset(&r, 0, sizeof(r));
	snprintf(r.basic, sizeof(r.basic), "%s", basic);
	snprintf(r.enhanced, sizeof(r.enhanced), "%s", enh);
	while (p != NULL) {
		const char *bar = strchr(p, '|');
		snprintf(r.line[r.nlines++], sizeof(r.line[0]), "%.*s",
			 bar != NULL ? (int)(bar - p) : (int)strlen(p), p);
		p = bar != NULL ? bar + 1 : NULL;
	}
	return r;
}

static void flatten(const struct mta_answer *a, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < a->nsay; i++) {
		for (size_t k = 0; k < a->say[i].nlines; k++)
			o += (size_t)snprintf(out + o, outlen - o, "%s: %s\n",
					      a->say[i].when,
					      a->say[i].line[k]);
		if (a->say[i].also != NULL)
			o += (size_t)snprintf(out + o, outlen - o,
					      "also %s\n", a->say[i].also);
	}
	if (a->closes)
		snprintf(out + o, outlen - o, "closes\n");
}

static const struct row {
	enum mta m;
	enum stage st;
	bool held;
	enum verdict v;
	const char *basic, *enh, *lines; /* basic NULL: no reply */
	const char *addr;
	const char *want;
} rows[] = {
	/* connect reject (e2e) */
	{MTA_POSTFIX, STAGE_CONNECT, false, VERDICT_REJECT, "550", "5.7.1",
	 "Client refused", NULL,
	 "greeting: 554 HOST ESMTP not accepting connections\n"
	 "MAIL: 550 5.7.1 Client refused\nalso VRFY ETRN AUTH\n"},
	{MTA_SENDMAIL, STAGE_CONNECT, false, VERDICT_REJECT, "550", "5.7.1",
	 "Client refused", NULL,
	 "greeting: 554 HOST ESMTP not accepting messages\n"
	 "MAIL: 550 5.0.0 Command rejected\nalso RCPT DATA VRFY ETRN\n"},
	/* connect 421 (e2e) */
	{MTA_POSTFIX, STAGE_CONNECT, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Too busy", NULL,
	 "greeting: 421 HOST Service unavailable - try again later\n"
	 "closes\n"},
	{MTA_SENDMAIL, STAGE_CONNECT, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Too busy", NULL,
	 "greeting: 421 4.7.0 HOST closing connection\ncloses\n"},
	/* connect 421 of two lines: Sendmail takes it for a tempfail */
	{MTA_SENDMAIL, STAGE_CONNECT, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Too busy|later", NULL, "MAIL: 451 4.3.2 Please try again later\n"},
	/* connect tempfail: greeting 220 on both */
	{MTA_POSTFIX, STAGE_CONNECT, false, VERDICT_TEMPFAIL, "450", "4.7.1",
	 "Try later", NULL,
	 "MAIL: 450 4.7.1 Try later\nalso VRFY ETRN AUTH\n"},
	{MTA_SENDMAIL, STAGE_CONNECT, false, VERDICT_TEMPFAIL, "450", "4.7.1",
	 "Try later", NULL, "MAIL: 451 4.3.2 Please try again later\n"},
	/* HELO reject: given at MAIL, no Sendmail prefix (e2e) */
	{MTA_POSTFIX, STAGE_HELO, false, VERDICT_REJECT, "550", "5.7.1",
	 "HELO x refused", NULL,
	 "MAIL: 550 5.7.1 HELO x refused\nalso VRFY ETRN AUTH\n"},
	{MTA_SENDMAIL, STAGE_HELO, false, VERDICT_REJECT, "550", "5.7.1",
	 "HELO x refused", "<a@b.test>",
	 "MAIL: 550 5.7.1 HELO x refused\nalso RCPT DATA VRFY ETRN\n"},
	/* HELO 421: the HELO's answer, closed */
	{MTA_POSTFIX, STAGE_HELO, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Bye", NULL, "HELO: 421 4.3.0 Bye\ncloses\n"},
	{MTA_SENDMAIL, STAGE_HELO, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Bye", NULL, "HELO: 421 4.3.0 Bye\ncloses\n"},
	/* held to RCPT (e2e) */
	{MTA_POSTFIX, STAGE_CONNECT, true, VERDICT_REJECT, "550", "5.7.1",
	 "Client refused", "<ok@x.test>", "RCPT: 550 5.7.1 Client refused\n"},
	{MTA_SENDMAIL, STAGE_HELO, true, VERDICT_REJECT, "550", "5.7.1",
	 "HELO refused", "<ok@x.test>",
	 "RCPT: 550 5.7.1 <ok@x.test>... HELO refused\n"},
	{MTA_SENDMAIL, STAGE_CONNECT, true, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Too busy", "<ok@x.test>", "RCPT: 421 4.3.0 Too busy\ncloses\n"},
	/* MAIL: two lines, '%' single, prefix on the first only (e2e) */
	{MTA_POSTFIX, STAGE_MAIL, false, VERDICT_REJECT, "550", "5.7.1",
	 "Sender <50%%off@s.test> refused|Appeal (100%% read)",
	 "<50%off@s.test>",
	 "MAIL: 550-5.7.1 Sender <50%off@s.test> refused\n"
	 "MAIL: 550 5.7.1 Appeal (100% read)\n"},
	{MTA_SENDMAIL, STAGE_MAIL, false, VERDICT_REJECT, "550", "5.7.1",
	 "Sender <50%%off@s.test> refused|Appeal (100%% read)",
	 "<50%off@s.test>",
	 "MAIL: 550-5.7.1 <50%off@s.test>... Sender <50%off@s.test> refused\n"
	 "MAIL: 550 5.7.1 Appeal (100% read)\n"},
	/* no prefix on 451, 452, 552, 554; prefix on 450 and 553 */
	{MTA_SENDMAIL, STAGE_MAIL, false, VERDICT_TEMPFAIL, "452", "4.3.1",
	 "Busy", "<a@b>", "MAIL: 452 4.3.1 Busy\n"},
	{MTA_SENDMAIL, STAGE_RCPT, false, VERDICT_REJECT, "554", "5.7.1",
	 "No", "<a@b>", "RCPT: 554 5.7.1 No\n"},
	{MTA_SENDMAIL, STAGE_RCPT, false, VERDICT_TEMPFAIL, "450", "4.2.1",
	 "Busy", "<a@b>", "RCPT: 450 4.2.1 <a@b>... Busy\n"},
	{MTA_SENDMAIL, STAGE_RCPT, false, VERDICT_REJECT, "553", "5.1.3",
	 "Bad", "<a@b>", "RCPT: 553 5.1.3 <a@b>... Bad\n"},
	/* RCPT 421 closes on both (e2e) */
	{MTA_POSTFIX, STAGE_RCPT, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Closing", "<c@x>", "RCPT: 421 4.3.0 Closing\ncloses\n"},
	{MTA_SENDMAIL, STAGE_RCPT, false, VERDICT_TEMPFAIL, "421", "4.3.0",
	 "Closing", "<c@x>", "RCPT: 421 4.3.0 Closing\ncloses\n"},
	/* DATA and after the dot: as it is, no prefix (e2e) */
	{MTA_SENDMAIL, STAGE_DATA, false, VERDICT_REJECT, "554", "5.3.0",
	 "No data", NULL, "DATA: 554 5.3.0 No data\n"},
	{MTA_SENDMAIL, STAGE_HEADER, false, VERDICT_REJECT, "550", "5.7.1",
	 "Header", NULL, "end-of-data: 550 5.7.1 Header\n"},
	{MTA_POSTFIX, STAGE_EOM, false, VERDICT_REJECT, "554", "5.6.0",
	 "Refused|at end", NULL,
	 "end-of-data: 554-5.6.0 Refused\nend-of-data: 554 5.6.0 at end\n"},
	/* no reply from the milter: each MTA's own text */
	{MTA_POSTFIX, STAGE_RCPT, false, VERDICT_TEMPFAIL, NULL, NULL, NULL,
	 "<a@b>", "RCPT: 451 4.7.1 Service unavailable - try again later\n"},
	{MTA_SENDMAIL, STAGE_RCPT, false, VERDICT_REJECT, NULL, NULL, NULL,
	 "<a@b>", "RCPT: 550 5.7.1 <a@b>... Command rejected\n"},
	{MTA_SENDMAIL, STAGE_EOM, false, VERDICT_REJECT, NULL, NULL, NULL,
	 NULL, "end-of-data: 554 5.7.1 Command rejected\n"},
	{MTA_SENDMAIL, STAGE_HELO, false, VERDICT_TEMPFAIL, NULL, NULL, NULL,
	 NULL, "MAIL: 451 4.3.2 Please try again later\n"},
	/* verdicts without a reply show nothing */
	{MTA_POSTFIX, STAGE_RCPT, false, VERDICT_DISCARD, NULL, NULL, NULL,
	 "<a@b>", ""},
	{MTA_SENDMAIL, STAGE_EOM, false, VERDICT_QUARANTINE, NULL, NULL, NULL,
	 NULL, ""},
};

static struct mta_answer A;

START_TEST(test_table)
{
	const struct row *r = &rows[_i];
	struct reply rep;
	struct mta_case c = {r->st, r->held, r->v, NULL, r->addr};
	char got[4096];

	if (r->basic != NULL) {
		rep = mk(r->basic, r->enh, r->lines);
		c.reply = &rep;
	}
	mta_answer(r->m, &c, &A);
	flatten(&A, got, sizeof(got));
	ck_assert_msg(strcmp(got, r->want) == 0,
		      "row %d (%s, %s%s, %s): got\n%s\nwant\n%s", _i,
		      mta_name(r->m), stage_name(r->st),
		      r->held ? " held" : "", verdict_name(r->v), got,
		      r->want);
}
END_TEST

/* Sendmail's shortenstring(): below 203 octets as it is; from 203 on the
 * first 100, "...", the last 100. */
START_TEST(test_prefix)
{
	char addr[400], buf[REPLY_SENDMAIL_PREFIX_MAX + 8], want[512];

	memset(addr, 'a', 202);
	addr[202] = '\0';
	mta_sendmail_prefix(addr, buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), 206);
	for (int i = 0; i < 303; i++)
		addr[i] = (char)('0' + i % 10);
	addr[303] = '\0';
	mta_sendmail_prefix(addr, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%.100s...%s... ", addr, addr + 203);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(strlen(buf), 207);
	ck_assert_uint_eq(strlen(buf), REPLY_SENDMAIL_PREFIX_MAX);
}
END_TEST

static Suite *mta_suite(void)
{
	Suite *s = suite_create("mta");
	TCase *tc = tcase_create("table");

	tcase_add_loop_test(tc, test_table, 0,
			    (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_prefix);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mta_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
