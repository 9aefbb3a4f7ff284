/*
 * check_stats.c - the counters as stats_prometheus() writes them, after
 * transactions through the transaction core: the exact values and labels
 * a scripted set of sessions must give, a HELP and TYPE line for every
 * family, a histogram that adds up, counters kept across a second policy
 * with the same rule names, reloads and the policy's generation.
 *
 * Counters live for the whole process (stats.h) and CK_FORK=no runs every
 * test in one: each test compares two snapshots and checks what its own
 * transactions added.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "load.h"
#include "core/stats.h"
#include "core/txn.h"

#define M "replycode_milter_"

/* The exposition of every counter, p's rules described. */
static char *snapshot(const struct policy *p)
{
	char *buf = NULL, *text;
	size_t len = 0;

	ck_assert_int_eq(stats_prometheus(p, &buf, &len), 0);
	text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, buf, len);
	text[len] = '\0';
	ck_assert_uint_eq(strlen(text), len);
	free(buf);
	return text;
}

/* The value of the sample SERIES (name and labels as written), or -1
 * when there is none. */
static double value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; *l != '\0';) {
		const char *end = strchr(l, '\n');
		if (strncmp(l, series, n) == 0 && l[n] == ' ')
			return strtod(l + n + 1, NULL);
		if (end == NULL)
			break;
		l = end + 1;
	}
	return -1;
}

/* The samples of SERIES' family in text, for a failure message (Check
 * refuses a message as long as the whole exposition). */
static const char *family(const char *text, const char *series)
{
	static char out[2048];
	size_t n = strcspn(series, "{ "), k = 0;

	out[0] = '\0';
	for (const char *l = text; *l != '\0' && k < sizeof(out) - 1;) {
		size_t len = strcspn(l, "\n");
		if (strncmp(l, series, n) == 0) {
			int w = snprintf(out + k, sizeof(out) - k, "%.*s\n",
					 (int)len, l);
			k = w > 0 && (size_t)w < sizeof(out) - k
				? k + (size_t)w
				: sizeof(out) - 1;
		}
		l += len + (l[len] == '\n');
	}
	return out;
}

/* What SERIES gained between two snapshots (absent counts as 0). */
static double gained(const char *before, const char *after, const char *series)
{
	double a = value(after, series), b = value(before, series);

	ck_assert_msg(a >= 0, "no sample %s in:\n%s", series,
		      family(after, series));
	return a - (b < 0 ? 0 : b);
}

/* One session through the core: "connect ADDR", then each of the
 * events "mail ARG", "rcpt ARG", "eom", "abort"; *last: the outcome of
 * the last event. */
static void session(const struct policy *p, const char *addr,
		    const char *const *events, struct txn_outcome *last)
{
	struct txn *t = txn_new(p, NULL);
	struct sockaddr_storage ss;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(sockaddr_parse(addr, &ss), 0);
	memset(last, 0, sizeof(*last));
	txn_connect(t, "client.example", (struct sockaddr *)&ss, last);
	for (size_t i = 0; events[i] != NULL; i++) {
		char *argv[2] = {(char *)events[i] + 5, NULL};
		memset(last, 0, sizeof(*last));
		if (strncmp(events[i], "mail ", 5) == 0)
			txn_mail(t, argv, last);
		else if (strncmp(events[i], "rcpt ", 5) == 0)
			txn_rcpt(t, argv, last);
		else if (strcmp(events[i], "eom") == 0)
			txn_eom(t, last);
		else if (strcmp(events[i], "abort") == 0)
			txn_abort(t);
		else
			ck_abort_msg("bad event \"%s\"", events[i]);
	}
	txn_free(&t);
}

static const char policy_conf[] =
    "rule \"net\" {\n stage = connect\n client_address = {\"192.0.2.66\"}\n"
    " verdict = reject\n reply = \"554 5.7.1\"\n}\n"
    "rule \"watch\" {\n stage = mail\n sender = {\"spam@example.org\"}\n"
    " verdict = reject\n reply = \"550 5.7.1\"\n mode = dry-run\n}\n"
    "rule \"user\" {\n stage = rcpt\n recipient = {\"bad@example.net\"}\n"
    " verdict = reject\n reply = \"550 5.1.1\"\n}\n"
    "rule \"later\" {\n stage = rcpt\n recipient = {\"slow@example.net\"}\n"
    " verdict = tempfail\n reply = \"451 4.7.1\"\n}\n"
    "rule \"sender\" {\n stage = mail\n sender = {\"x@example.org\"}\n"
    " verdict = reject\n reply = \"553 5.7.1\"\n}\n";

/*
 * Four sessions: one refused at connect; one with a dry-run hit, a
 * refused and a deferred recipient and a message; one plain message; one
 * whose sender cannot be read (an internal error: on_error's tempfail).
 */
static void scripted_run(const struct policy *p)
{
	static const char *const refused[] = {NULL};
	static const char *const mixed[] = {"mail <spam@example.org>",
					    "rcpt <bad@example.net>",
					    "rcpt <slow@example.net>",
					    "rcpt <ok@example.net>",
					    "eom",
					    NULL};
	static const char *const plain[] = {
	    "mail <a@example.org>", "rcpt <ok@example.net>", "eom", NULL};
	static const char *const broken[] = {"mail <a@example..org>", NULL};
	struct txn_outcome o;

	session(p, "192.0.2.66", refused, &o);
	ck_assert_int_eq(o.action, TXN_REJECT);
	session(p, "192.0.2.7", mixed, &o);
	ck_assert_int_eq(o.action, TXN_CONTINUE);
	session(p, "192.0.2.7", plain, &o);
	ck_assert_int_eq(o.action, TXN_CONTINUE);
	session(p, "192.0.2.7", broken, &o);
	ck_assert_int_eq(o.action, TXN_TEMPFAIL);
}

/* Each sample the scripted run must add to, and by how much. */
static const struct {
	const char *series;
	double gain;
} gains[] = {
    {M "sessions_total", 4},
    {M "messages_total", 2},
    {M "decisions_total{stage=\"connect\",verdict=\"reject\"}", 1},
    {M "decisions_total{stage=\"rcpt\",verdict=\"reject\"}", 1},
    {M "decisions_total{stage=\"rcpt\",verdict=\"tempfail\"}", 1},
    {M "decisions_total{stage=\"mail\",verdict=\"tempfail\"}", 1},
    {M "internal_errors_total{verdict=\"tempfail\"}", 1},
    {M "rule_matches_total{rule=\"net\",mode=\"enforce\"}", 1},
    {M "rule_matches_total{rule=\"net\",mode=\"dry-run\"}", 0},
    {M "rule_matches_total{rule=\"watch\",mode=\"enforce\"}", 0},
    {M "rule_matches_total{rule=\"watch\",mode=\"dry-run\"}", 1},
    {M "rule_matches_total{rule=\"user\",mode=\"enforce\"}", 1},
    {M "rule_matches_total{rule=\"later\",mode=\"enforce\"}", 1},
    {M "rule_matches_total{rule=\"sender\",mode=\"enforce\"}", 0},
    {M "replies_total{code=\"554 5.7.1\",verdict=\"reject\"}", 1},
    {M "replies_total{code=\"550 5.1.1\",verdict=\"reject\"}", 1},
    {M "replies_total{code=\"451 4.7.1\",verdict=\"tempfail\"}", 1},
    {M "replies_total{code=\"451 4.3.0\",verdict=\"tempfail\"}", 1},
    {M "replies_total{code=\"553 5.7.1\",verdict=\"reject\"}", 0},
    {M "message_duration_seconds_count", 2},
    {M "message_duration_seconds_bucket{le=\"+Inf\"}", 2},
    {M "reloads_total{result=\"done\"}", 0},
    {M "reloads_total{result=\"refused\"}", 0},
};

START_TEST(test_gains)
{
	struct policy *p = load_text(policy_conf);
	const struct policy *cp = p;
	char *before = snapshot(p), *after;
	double got;

	scripted_run(p);
	after = snapshot(p);
	got = gained(before, after, gains[_i].series);
	ck_assert_msg(got == gains[_i].gain, "%s: gained %g, want %g\n%s",
		      gains[_i].series, got, gains[_i].gain,
		      family(after, gains[_i].series));
	free(before);
	free(after);
	policy_unref(&cp);
}
END_TEST

/* The rules of the policy given, exactly; a dry-run one's mode said. */
START_TEST(test_rule_info)
{
	static const char *const want[] = {
	    M "rule_info{rule=\"net\",stage=\"connect\",verdict=\"reject\","
	      "reply=\"554 5.7.1\",mode=\"enforce\"} 1\n",
	    M "rule_info{rule=\"watch\",stage=\"mail\",verdict=\"reject\","
	      "reply=\"550 5.7.1\",mode=\"dry-run\"} 1\n",
	    M "rule_info{rule=\"user\",stage=\"rcpt\",verdict=\"reject\","
	      "reply=\"550 5.1.1\",mode=\"enforce\"} 1\n",
	    M "rule_info{rule=\"later\",stage=\"rcpt\",verdict=\"tempfail\","
	      "reply=\"451 4.7.1\",mode=\"enforce\"} 1\n",
	    M "rule_info{rule=\"sender\",stage=\"mail\",verdict=\"reject\","
	      "reply=\"553 5.7.1\",mode=\"enforce\"} 1\n"};
	struct policy *p = load_text(policy_conf);
	const struct policy *cp = p;
	char *text = snapshot(p), *none = snapshot(NULL);
	size_t lines = 0;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(text, want[i]) != NULL,
			      "no line %sin:\n%s", want[i],
			      family(text, want[i]));
	for (const char *s = text; (s = strstr(s, "\n" M "rule_info{")); s++)
		lines++;
	ck_assert_msg(lines == 5, "rule_info lines: got %zu, want 5", lines);
	ck_assert_msg(strstr(none, M "rule_info{") == NULL,
		      "rule_info with no policy:\n%s",
		      family(none, M "rule_info"));
	ck_assert_msg(strstr(text, M "build_info{version=\"" VERSION "\"} 1\n"),
		      "no build_info " VERSION " in:\n%s",
		      family(text, M "build_info"));
	free(text);
	free(none);
	policy_unref(&cp);
}
END_TEST

/* The family a sample belongs to: its name, less a histogram's suffix
 * when its TYPE line says histogram. */
static void family_of(const char *text, const char *line, char *fam, size_t len)
{
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};
	size_t n = strcspn(line, "{ ");

	snprintf(fam, len, "%.*s", (int)n, line);
	for (size_t i = 0; i < 3; i++) {
		size_t k = strlen(sfx[i]);
		char type[256];
		if (n <= k || strcmp(fam + n - k, sfx[i]) != 0)
			continue;
		snprintf(type, sizeof(type), "# TYPE %.*s histogram\n",
			 (int)(n - k), fam);
		if (strstr(text, type) != NULL)
			fam[n - k] = '\0';
	}
}

/* Every sample's family has a HELP and a TYPE line before it; every
 * TYPE line a HELP line and a known type; names and labels as the
 * format wants them. */
START_TEST(test_help_and_type)
{
	struct policy *p = load_text(policy_conf);
	const struct policy *cp = p;
	char *text, *copy, *save = NULL;
	size_t samples = 0, families = 0;

	scripted_run(p); /* so that every labelled family has samples */
	text = snapshot(p);
	copy = strdup(text);
	ck_assert_ptr_nonnull(copy);
	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char fam[256], help[300], type[300], *at;
		if (strncmp(l, "# TYPE ", 7) == 0) {
			char name[256], kind[32];
			families++;
			ck_assert_int_eq(
			    sscanf(l, "# TYPE %255s %31s", name, kind), 2);
			snprintf(help, sizeof(help), "# HELP %s ", name);
			ck_assert_msg(strstr(text, help) != NULL &&
					  strstr(text, help) < strstr(text, l),
				      "no HELP before \"%s\"", l);
			ck_assert_msg(strcmp(kind, "counter") == 0 ||
					  strcmp(kind, "gauge") == 0 ||
					  strcmp(kind, "histogram") == 0,
				      "type %s in \"%s\"", kind, l);
			ck_assert_msg(strncmp(name, M, strlen(M)) == 0,
				      "name without the prefix: %s", l);
			continue;
		}
		if (l[0] == '#')
			continue;
		samples++;
		ck_assert_msg(strspn(l, "abcdefghijklmnopqrstuvwxyz_") ==
				  strcspn(l, "{ "),
			      "a name with other characters: \"%s\"", l);
		family_of(text, l, fam, sizeof(fam));
		snprintf(help, sizeof(help), "# HELP %s ", fam);
		snprintf(type, sizeof(type), "# TYPE %s ", fam);
		at = strstr(text, l);
		ck_assert_msg(strstr(text, help) != NULL &&
				  strstr(text, help) < at,
			      "no HELP line for \"%s\" before it", l);
		ck_assert_msg(strstr(text, type) != NULL &&
				  strstr(text, type) < at,
			      "no TYPE line for \"%s\" before it", l);
		snprintf(type, sizeof(type), "# TYPE %s counter\n", fam);
		if (strstr(fam, "_total") != NULL)
			ck_assert_msg(strstr(text, type) != NULL,
				      "%s is not a counter", fam);
	}
	/* build_info, start_time, sessions, messages, decisions, internal
	 * errors, reloads, last load, generation, rule matches, replies,
	 * rule_info, message duration, DNS lookups, state errors */
	ck_assert_uint_eq(families, 15);
	ck_assert_uint_ge(samples, 40);
	free(copy);
	free(text);
	policy_unref(&cp);
}
END_TEST

/* The buckets only grow, the last (+Inf) is the count, the sum is the
 * time the messages took (more than 0, less than the test took). */
START_TEST(test_histogram)
{
	struct policy *p = load_text(policy_conf);
	const struct policy *cp = p;
	struct timespec t0, t1;
	char *before, *after;
	double prev = 0, inf, count, sum, took;
	int buckets = 0;

	before = snapshot(p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	scripted_run(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	after = snapshot(p);
	took = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (const char *s = after;
	     (s = strstr(s, M "message_duration_seconds_bucket{le=\"")); s++) {
		double v = strtod(strchr(s, ' ') + 1, NULL);
		ck_assert_msg(v >= prev, "bucket %.40s: %g after %g", s, v,
			      prev);
		prev = v;
		buckets++;
	}
	ck_assert_int_eq(buckets, 15);
	inf = value(after, M "message_duration_seconds_bucket{le=\"+Inf\"}");
	count = value(after, M "message_duration_seconds_count");
	ck_assert_msg(inf == count && inf == prev,
		      "+Inf %g, count %g, last bucket %g", inf, count, prev);
	sum = gained(before, after, M "message_duration_seconds_sum");
	ck_assert_msg(sum > 0 && sum <= took + 1e-6,
		      "sum gained %.9f s, the run took %.9f s", sum, took);
	ck_assert_msg(gained(before, after,
			     M
			     "message_duration_seconds_bucket{le=\"10\"}") == 2,
		      "the two messages are not under 10 s:\n%s",
		      family(after, M "message_duration_seconds_bucket"));
	free(before);
	free(after);
	policy_unref(&cp);
}
END_TEST

/* A second policy with a rule of the same name (another stage, another
 * reply) counts on from the first one's counts. */
START_TEST(test_second_policy)
{
	struct policy *a = load_text(
	    "rule \"kept\" {\n stage = connect\n verdict = reject\n"
	    " reply = \"554 5.7.1\"\n client_address = {\"192.0.2.66\"}\n}\n");
	struct policy *b = NULL;
	const struct policy *ca = a, *cb;
	static const char *const none[] = {NULL};
	static const char *const mail[] = {"mail <a@example.org>", NULL};
	const char *kept = M "rule_matches_total{rule=\"kept\","
			     "mode=\"enforce\"}";
	char *s0 = snapshot(a), *s1, *s2;
	struct txn_outcome o;

	session(a, "192.0.2.66", none, &o);
	session(a, "192.0.2.66", none, &o);
	s1 = snapshot(a);
	ck_assert_msg(gained(s0, s1, kept) == 2, "first policy:\n%s",
		      family(s1, kept));
	b = load_text("rule \"kept\" {\n stage = mail\n verdict = tempfail\n"
		      " reply = \"451 4.7.1\"\n}\n");
	cb = b;
	policy_unref(&ca); /* the first policy is gone */
	session(b, "192.0.2.66", mail, &o);
	ck_assert_int_eq(o.action, TXN_TEMPFAIL);
	s2 = snapshot(b);
	ck_assert_msg(gained(s0, s2, kept) == 3, "second policy:\n%s",
		      family(s2, kept));
	ck_assert_msg(strstr(s2, M "rule_info{rule=\"kept\",stage=\"mail\","
				   "verdict=\"tempfail\",reply=\"451 4.7.1\","
				   "mode=\"enforce\"} 1\n") != NULL,
		      "rule_info is not the second policy's:\n%s",
		      family(s2, M "rule_info"));
	ck_assert_msg(strstr(s2, "stage=\"connect\",verdict=\"reject\","
				 "reply=\"554 5.7.1\"") == NULL,
		      "the first policy's rule still described:\n%s",
		      family(s2, M "rule_info"));
	ck_assert_msg(gained(s1, s2,
			     M "replies_total{code=\"554 5.7.1\","
			       "verdict=\"reject\"}") == 0 &&
			  gained(s0, s2,
				 M "replies_total{code=\"554 5.7.1\","
				   "verdict=\"reject\"}") == 2,
		      "the first policy's replies:\n%s",
		      family(s2, M "replies_total"));
	free(s0);
	free(s1);
	free(s2);
	policy_unref(&cb);
}
END_TEST

/* A time in seconds since the epoch within 2 s of now. */
static bool near(double t, time_t now)
{
	return t >= (double)now - 2 && t <= (double)now + 2;
}

/* Reloads done and refused; the generation goes up with each done. */
START_TEST(test_reloads)
{
	char *s0, *s1;
	double gen0;
	time_t now = time(NULL);

	stats_started();
	s0 = snapshot(NULL);
	gen0 = value(s0, M "policy_generation");
	ck_assert_msg(gen0 >= 1, "generation %g", gen0);
	ck_assert_msg(near(value(s0, M "start_time_seconds"), now),
		      "start time %g, now %lld",
		      value(s0, M "start_time_seconds"), (long long)now);
	stats_reload(true);
	stats_reload(false);
	stats_reload(false);
	stats_reload(true);
	s1 = snapshot(NULL);
	ck_assert_msg(
	    gained(s0, s1, M "reloads_total{result=\"done\"}") == 2 &&
		gained(s0, s1, M "reloads_total{result=\"refused\"}") == 2 &&
		gained(s0, s1, M "policy_generation") == 2,
	    "after 2 done and 2 refused:\n%s%s", family(s1, M "reloads_total"),
	    value(s1, M "policy_generation") >= 0 ? "" : "no generation");
	ck_assert_msg(near(value(s1, M "last_load_time_seconds"), now),
		      "last load %g, now %lld",
		      value(s1, M "last_load_time_seconds"), (long long)now);
	free(s0);
	free(s1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("prometheus");

	if (unit_dir_make() != 0)
		return 2;
	tcase_add_loop_test(tc, test_gains, 0,
			    (int)(sizeof(gains) / sizeof(gains[0])));
	tcase_add_test(tc, test_rule_info);
	tcase_add_test(tc, test_help_and_type);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_second_policy);
	tcase_add_test(tc, test_reloads);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
