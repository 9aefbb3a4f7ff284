/*
 * check_state.c - state kept between sessions, on a controlled clock
 * (clock_use): the embedded store's counters and stamps (lib/store.h),
 * durations, and through the transaction core the rate limit's sliding
 * window and keys and greylisting's timing, allowlisting and state_error.
 * Redis is tested against a real redis-server in tests/e2e/state.sh.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "load.h"
#include "core/keep.h"
#include "core/stats.h"
#include "core/txn.h"
#include "lib/clock.h"
#include "lib/store.h"

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

#define T0 1700000000000ull /* a Tuesday in 2023, in ms */

/* The folder of the last fresh_store(). */
static char store_dir[300];

/* A fresh LMDB store in its own folder under tmpdir, installed. */
static struct store *fresh_store(void)
{
	char *dir = store_dir, err[400];
	struct store *st;

	snprintf(store_dir, sizeof(store_dir), "%s/db.XXXXXX", tmpdir);
	ck_assert_ptr_nonnull(mkdtemp(store_dir));
	st = store_open(dir, 500, err, sizeof(err));
	ck_assert_msg(st != NULL, "store_open: %s", err);
	ck_assert_str_eq(store_kind(st), "lmdb");
	keep_install(st);
	return st;
}

static void drop_store(struct store *st)
{
	keep_install(NULL);
	store_close(&st);
	ck_assert_ptr_null(st);
}

/* --- durations -------------------------------------------------------- */

static const struct {
	const char *text;
	int rc;
	uint64_t ms;
	const char *shown;
} durations[] = {
    {"90s", 0, 90000, "1m30s"},	 {"5m", 0, 300000, "5m"},
    {"4h", 0, 14400000, "4h"},	 {"35d", 0, 35 * 86400000ull, "35d"},
    {"1h30m", 0, 5400000, "1h30m"}, {"250ms", 0, 250, "1s"},
    {"60", 0, 60000, "1m"},	 {"", -1, 0, NULL},
    {"m", -1, 0, NULL},		 {"5 m", -1, 0, NULL},
    {"5y", -1, 0, NULL},	 {"400d", -1, 0, NULL},
    {"99999999999999999999s", -1, 0, NULL},
};

START_TEST(test_duration)
{
	uint64_t ms = 7;
	char buf[DURATION_SHOW_MAX];
	int rc = duration_parse(durations[_i].text, &ms);

	ck_assert_msg(rc == durations[_i].rc, "\"%s\": got rc %d, want %d",
		      durations[_i].text, rc, durations[_i].rc);
	if (rc != 0)
		return;
	ck_assert_msg(ms == durations[_i].ms, "\"%s\": got %llu ms, want %llu",
		      durations[_i].text, (unsigned long long)ms,
		      (unsigned long long)durations[_i].ms);
	ck_assert_str_eq(duration_show(ms, buf, sizeof(buf)),
			 durations[_i].shown);
}
END_TEST

/* --- the store -------------------------------------------------------- */

START_TEST(test_store_counter)
{
	struct store *st = fresh_store();
	uint64_t total = 0;
	char err[300];

	/* 60 slots of 1 s: a window of 60 s */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(store_count(st, "k", T0 + 500, 1000, 60, 1,
					     &total, err, sizeof(err)),
				 0);
	ck_assert_uint_eq(total, 5);
	ck_assert_int_eq(store_count(st, "k", T0 + 30000, 1000, 60, 2, &total,
				     err, sizeof(err)),
			 0);
	ck_assert_uint_eq(total, 7);
	/* a look adds nothing */
	ck_assert_int_eq(store_count(st, "k", T0 + 30000, 1000, 60, 0, &total,
				     err, sizeof(err)),
			 0);
	ck_assert_uint_eq(total, 7);
	/* the first slot leaves the window 60 slots later */
	ck_assert_int_eq(store_count(st, "k", T0 + 59999, 1000, 60, 0, &total,
				     err, sizeof(err)),
			 0);
	ck_assert_uint_eq(total, 7);
	ck_assert_int_eq(store_count(st, "k", T0 + 60000, 1000, 60, 0, &total,
				     err, sizeof(err)),
			 0);
	ck_assert_uint_eq(total, 2);
	/* other keys are apart; long keys too, by their hash */
	{
		char a[1000], b[1000];
		memset(a, 'a', sizeof(a) - 1);
		a[sizeof(a) - 1] = '\0';
		memcpy(b, a, sizeof(b));
		b[sizeof(b) - 2] = 'b';
		ck_assert_int_eq(store_count(st, a, T0, 1000, 60, 3, &total,
					     err, sizeof(err)),
				 0);
		ck_assert_uint_eq(total, 3);
		ck_assert_int_eq(store_count(st, b, T0, 1000, 60, 1, &total,
					     err, sizeof(err)),
				 0);
		ck_assert_uint_eq(total, 1);
	}
	/* a stamp under a counter's key is not read as one */
	ck_assert_int_eq(store_touch(st, "k", T0, 0, &total, err, sizeof(err)),
			 0);
	drop_store(st);
}
END_TEST

START_TEST(test_store_stamps)
{
	struct store *st = fresh_store();
	uint64_t v = 0;
	char err[300];

	ck_assert_int_eq(store_touch(st, "s", T0, 0, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(store_first(st, "s", T0, 1000, &v, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(v, T0);
	/* set once: a later first keeps the first stamp */
	ck_assert_int_eq(
	    store_first(st, "s", T0 + 999, 1000, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, T0);
	/* until it expires */
	ck_assert_int_eq(
	    store_first(st, "s", T0 + 1000, 1000, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, T0 + 1000);
	ck_assert_int_eq(store_set(st, "t", T0, 42, 5000, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    store_touch(st, "t", T0 + 4999, 0, &v, err, sizeof(err)), 1);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(
	    store_touch(st, "t", T0 + 5000, 0, &v, err, sizeof(err)), 0);
	/* a touch gives it a new life */
	ck_assert_int_eq(store_set(st, "u", T0, 7, 5000, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    store_touch(st, "u", T0 + 4000, 5000, &v, err, sizeof(err)), 1);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(
	    store_touch(st, "u", T0 + 8999, 0, &v, err, sizeof(err)), 1);
	ck_assert_int_eq(
	    store_touch(st, "u", T0 + 9000, 0, &v, err, sizeof(err)), 0);
	/* touching what is not there makes nothing */
	ck_assert_int_eq(
	    store_touch(st, "w", T0, 5000, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(store_touch(st, "w", T0, 0, &v, err, sizeof(err)), 0);
	drop_store(st);
}
END_TEST

/* The store survives closing and opening again (a restart). */
START_TEST(test_store_reopen)
{
	struct store *st = fresh_store();
	char err[300];
	uint64_t total = 0;

	ck_assert_int_eq(store_count(st, "r", T0, 1000, 60, 4, &total, err,
				     sizeof(err)),
			 0);
	drop_store(st);
	st = store_open(store_dir, 500, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(store_count(st, "r", T0 + 1, 1000, 60, 0, &total, err,
				     sizeof(err)),
			 0);
	ck_assert_uint_eq(total, 4);
	store_close(&st);
}
END_TEST

START_TEST(test_store_bad_dir)
{
	char err[300];
	struct store *st = store_open("/nonexistent/rcm", 500, err, sizeof(err));

	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "/nonexistent/rcm: No such file") != NULL,
		      "%s", err);
	ck_assert_ptr_null(store_open("relative/dir", 500, err, sizeof(err)));
	ck_assert_msg(strstr(err, "want the absolute path") != NULL, "%s", err);
}
END_TEST

/* Threads adding at once lose nothing. */
#define THREADS 8
#define ADDS 250

static void *adder(void *arg)
{
	struct store *st = arg;
	uint64_t total;
	char err[300];

	for (int i = 0; i < ADDS; i++)
		if (store_count(st, "c", T0, 1000, 60, 1, &total, err,
				sizeof(err)) != 0)
			return (void *)1;
	return NULL;
}

START_TEST(test_store_concurrent)
{
	struct store *st = fresh_store();
	pthread_t t[THREADS];
	uint64_t total = 0;
	char err[300];
	void *rv;

	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, adder, st), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], &rv);
		ck_assert_ptr_null(rv);
	}
	ck_assert_int_eq(store_count(st, "c", T0, 1000, 60, 0, &total, err,
				     sizeof(err)),
			 0);
	ck_assert_uint_eq(total, THREADS * ADDS);
	drop_store(st);
}
END_TEST

/* --- through the transaction core ------------------------------------ */

struct seen {
	char lines[8192];
	size_t n;
	int state;
};

static void on_report(void *arg, const struct txn_report *r)
{
	struct seen *s = arg;
	int k = snprintf(s->lines + s->n, sizeof(s->lines) - s->n, "%s\n",
			 r->line);

	if (k > 0 && (size_t)k < sizeof(s->lines) - s->n)
		s->n += (size_t)k;
	s->state += r->kind == TXN_R_STATE;
}

static const char *auth_user;

static const char *on_macro(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "{auth_authen}") == 0)
		return auth_user;
	return NULL;
}

/*
 * One message from client to each recipient of rcpts (space separated);
 * the outcomes' replies, "ok" for a taken recipient, joined by " | ".
 */
static void message(const struct policy *p, const char *client,
		    const char *from, const char *rcpts, struct seen *seen,
		    char *out, size_t outlen)
{
	struct txn_io io = {on_macro, on_report, seen};
	struct txn *t = txn_new(p, &io);
	struct sockaddr_storage ss;
	struct txn_outcome o;
	char buf[512], *save = NULL;
	char *mail[2] = {(char *)from, NULL};
	size_t n = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(sockaddr_parse(client, &ss), 0);
	out[0] = '\0';
	txn_connect(t, "mx.example.net", (struct sockaddr *)&ss, &o);
	txn_helo(t, "mx.example.net", &o);
	txn_mail(t, mail, &o);
	snprintf(buf, sizeof(buf), "%s", rcpts);
	for (char *r = strtok_r(buf, " ", &save); r != NULL;
	     r = strtok_r(NULL, " ", &save)) {
		char *rcpt[2] = {r, NULL};
		char wire[1024] = "ok";
		txn_rcpt(t, rcpt, &o);
		if (o.reply != NULL)
			reply_format_wire(o.reply, wire, sizeof(wire));
		else if (o.action != TXN_CONTINUE)
			snprintf(wire, sizeof(wire), "action %d", o.action);
		wire[strcspn(wire, "\r\n")] = '\0';
		n += (size_t)snprintf(out + n, outlen - n, "%s%s",
				      n > 0 ? " | " : "", wire);
	}
	txn_eom(t, &o);
	txn_free(&t);
}

#define RATE_CONF(extra)                                                       \
	"rule \"rate\" {\n  stage = rcpt\n  verdict = tempfail\n"             \
	"  reply = \"450 4.7.1\"\n  text = \"slow down\"\n" extra "}\n"

/* A limit of 3 messages a minute trips at the 4th, exactly. */
START_TEST(test_rate_exact)
{
	struct store *st = fresh_store();
	struct policy *p = load_text(RATE_CONF(
	    "  rate_limit = 3\n  rate_window = \"1m\"\n"
	    "  rate_key = \"client_address\"\n"));
	struct seen seen = {0};
	char got[1024];

	clock_use(fake_clock);
	fake_now = T0;
	for (int i = 1; i <= 3; i++) {
		message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen,
			got, sizeof(got));
		ck_assert_msg(strcmp(got, "ok") == 0, "message %d: %s", i, got);
	}
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "450 4.7.1 slow down");
	/* another client has its own count */
	message(p, "192.0.2.2", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	/* a message counts once, however many recipients */
	message(p, "192.0.2.3", "a@example.org", "x@example.com y@example.com "
		"z@example.com w@example.com", &seen, got, sizeof(got));
	ck_assert_str_eq(got, "ok | ok | ok | ok");
	policy_free(&p);
	clock_use(NULL);
	drop_store(st);
}
END_TEST

/*
 * A burst at a window's edge: 10 messages at 59 s, then the next minute
 * must not let 10 more through at 61 s; they go once the burst is a
 * window (and at most a slot) old.
 */
START_TEST(test_rate_edge)
{
	struct store *st = fresh_store();
	struct policy *p = load_text(RATE_CONF(
	    "  rate_limit = 10\n  rate_window = \"1m\"\n"
	    "  rate_key = \"client_network\"\n"));
	struct seen seen = {0};
	char got[1024];
	int passed = 0;

	clock_use(fake_clock);
	fake_now = T0 - T0 % 60000 + 59000; /* 59 s into a minute */
	for (int i = 0; i < 10; i++) {
		message(p, "198.51.100.7", "a@example.org", "x@example.com",
			&seen, got, sizeof(got));
		ck_assert_str_eq(got, "ok");
	}
	/* the next minute, from the same /24 */
	for (int i = 0; i < 10; i++) {
		fake_now += 200;
		message(p, "198.51.100.8", "a@example.org", "x@example.com",
			&seen, got, sizeof(got));
		passed += strcmp(got, "ok") == 0;
	}
	ck_assert_int_eq(passed, 0);
	/* 60.5 s after the burst it still counts: no span of a minute
	 * sees more than 10 */
	fake_now = T0 - T0 % 60000 + 59000 + 60500;
	message(p, "198.51.100.9", "a@example.org", "x@example.com", &seen,
		got, sizeof(got));
	ck_assert_str_eq(got, "450 4.7.1 slow down");
	/* 61 s after it, it is forgotten; the refused attempts of the last
	 * minute (at 60.0 to 61.0 s, 6 of them, and the one just now) count:
	 * 3 more go, the 4th does not */
	fake_now = T0 - T0 % 60000 + 59000 + 61000;
	for (int i = 0; i < 3; i++) {
		message(p, "198.51.100.9", "a@example.org", "x@example.com",
			&seen, got, sizeof(got));
		ck_assert_msg(strcmp(got, "ok") == 0, "%d: %s", i, got);
	}
	message(p, "198.51.100.9", "a@example.org", "x@example.com", &seen,
		got, sizeof(got));
	ck_assert_str_eq(got, "450 4.7.1 slow down");
	policy_free(&p);
	clock_use(NULL);
	drop_store(st);
}
END_TEST

/* Keys: the recipients of an authenticated user per day; an
 * unauthenticated session has no key and is not counted. */
START_TEST(test_rate_keys)
{
	struct store *st = fresh_store();
	struct policy *p = load_text(
	    "rule \"user-rcpts\" {\n  stage = rcpt\n  verdict = tempfail\n"
	    "  reply = \"450 4.7.1\"\n  text = \"daily limit\"\n"
	    "  rate_limit = 3\n  rate_window = \"1d\"\n"
	    "  rate_key = \"authenticated\"\n  rate_event = \"recipients\"\n"
	    "}\n"
	    "rule \"sender-octets\" {\n  stage = eom\n  verdict = tempfail\n"
	    "  reply = \"452 4.3.1\"\n  text = \"too much\"\n"
	    "  rate_limit = \"1K\"\n  rate_window = \"1h\"\n"
	    "  rate_key = \"sender_domain\"\n  rate_event = \"octets\"\n"
	    "}\n");
	struct seen seen = {0};
	char got[1024];

	clock_use(fake_clock);
	fake_now = T0;
	auth_user = "alice";
	message(p, "192.0.2.1", "a@example.org", "a@x.example b@x.example",
		&seen, got, sizeof(got));
	ck_assert_str_eq(got, "ok | ok");
	fake_now += 12 * 3600 * 1000ull; /* later that day, from elsewhere */
	message(p, "203.0.113.5", "a@example.org", "c@x.example d@x.example",
		&seen, got, sizeof(got));
	ck_assert_str_eq(got, "ok | 450 4.7.1 daily limit");
	auth_user = "Bob"; /* keys compare without case */
	message(p, "203.0.113.5", "a@example.org", "e@x.example", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	auth_user = NULL;
	for (int i = 0; i < 5; i++) {
		message(p, "203.0.113.5", "a@example.org", "e@x.example",
			&seen, got, sizeof(got));
		ck_assert_str_eq(got, "ok");
	}
	fake_now += 12 * 3600 * 1000ull + 1000 + 1440 * 1000;
	auth_user = "ALICE";
	message(p, "192.0.2.1", "a@example.org", "f@x.example", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	auth_user = NULL;
	policy_free(&p);
	clock_use(NULL);
	drop_store(st);
}
END_TEST

#define GREY_CONF(extra)                                                       \
	"rule \"grey\" {\n  stage = rcpt\n  authenticated = false\n"          \
	"  greylist = true\n  greylist_delay = \"5m\"\n"                      \
	"  greylist_retry_window = \"4h\"\n"                                  \
	"  greylist_pass_lifetime = \"10d\"\n" extra                          \
	"  verdict = tempfail\n  reply = \"451 4.7.1\"\n"                     \
	"  text = \"Greylisted, try again in $retry_in\"\n}\n"

START_TEST(test_greylist_timing)
{
	struct store *st = fresh_store();
	struct policy *p = load_text(GREY_CONF(""));
	struct seen seen = {0};
	char got[1024];

	clock_use(fake_clock);
	fake_now = T0;
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "451 4.7.1 Greylisted, try again in 5m");
	/* again before the delay: refused, with the time left */
	fake_now += 90 * 1000 + 500;
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "451 4.7.1 Greylisted, try again in 3m30s");
	/* another host of the same /24 retries after the delay: passed */
	fake_now = T0 + 5 * 60 * 1000;
	message(p, "192.0.2.200", "A@Example.ORG", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	/* and stays passed, for the lifetime after its last message */
	fake_now += 9 * 86400 * 1000ull;
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	fake_now += 9 * 86400 * 1000ull;
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	/* a new triplet of the message is greylisted, the passed one not */
	message(p, "192.0.2.1", "a@example.org", "x@example.com y@example.com",
		&seen, got, sizeof(got));
	ck_assert_str_eq(got, "ok | 451 4.7.1 Greylisted, try again in 5m");
	/* a retry after the retry window starts again */
	fake_now += 5 * 60 * 1000 + 4 * 3600 * 1000;
	message(p, "192.0.2.1", "a@example.org", "y@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "451 4.7.1 Greylisted, try again in 5m");
	/* another network is another triplet; IPv6 by its /64 */
	message(p, "2001:db8:1:2::10", "a@example.org", "x@example.com", &seen,
		got, sizeof(got));
	ck_assert_str_eq(got, "451 4.7.1 Greylisted, try again in 5m");
	fake_now += 5 * 60 * 1000;
	message(p, "2001:db8:1:2:ffff::1", "a@example.org", "x@example.com",
		&seen, got, sizeof(got));
	ck_assert_str_eq(got, "ok");
	/* an authenticated client skips it by the rule's condition */
	auth_user = "alice";
	message(p, "203.0.113.9", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	auth_user = NULL;
	ck_assert_int_eq(seen.state, 0);
	policy_free(&p);
	clock_use(NULL);
	drop_store(st);
}
END_TEST

/* After 2 passes a client network passes every triplet. */
START_TEST(test_greylist_allowlist)
{
	struct store *st = fresh_store();
	struct policy *p =
	    load_text(GREY_CONF("  greylist_allowlist_after = 2\n"));
	struct seen seen = {0};
	char got[1024];
	const char *rcpt[] = {"a@example.com", "b@example.com"};

	clock_use(fake_clock);
	fake_now = T0;
	for (int i = 0; i < 2; i++) {
		message(p, "192.0.2.1", "s@example.org", rcpt[i], &seen, got,
			sizeof(got));
		ck_assert_str_eq(got, "451 4.7.1 Greylisted, try again in 5m");
		fake_now += 5 * 60 * 1000;
		message(p, "192.0.2.1", "s@example.org", rcpt[i], &seen, got,
			sizeof(got));
		ck_assert_str_eq(got, "ok");
	}
	message(p, "192.0.2.3", "other@example.net", "c@example.com", &seen,
		got, sizeof(got));
	ck_assert_str_eq(got, "ok");
	message(p, "192.0.3.3", "other@example.net", "c@example.com", &seen,
		got, sizeof(got));
	ck_assert_str_eq(got, "451 4.7.1 Greylisted, try again in 5m");
	policy_free(&p);
	clock_use(NULL);
	drop_store(st);
}
END_TEST

/* The value of one series in the Prometheus text of the counters. */
static double series(const struct policy *p, const char *name)
{
	char *text = NULL, *at;
	size_t len = 0;
	double v = -1;

	ck_assert_int_eq(stats_prometheus(p, &text, &len), 0);
	at = strstr(text, name);
	ck_assert_msg(at != NULL, "no %s in:\n%s", name, text);
	sscanf(at + strlen(name), " %lf", &v);
	free(text);
	return v;
}

#define IGNORED "replycode_milter_state_errors_total{action=\"ignore\"}"
#define TEMPFAILED "replycode_milter_state_errors_total{action=\"tempfail\"}"

/* No store: ignore lets mail through and says so; tempfail gives the
 * failure policy's answer. Both are counted. */
START_TEST(test_state_error)
{
	struct policy *p = load_text(GREY_CONF(""));
	struct seen seen = {0};
	char got[1024];

	double ignored = series(p, IGNORED), tempfailed = series(p, TEMPFAILED);

	keep_install(NULL);
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got, "ok");
	ck_assert_int_eq(seen.state, 1);
	ck_assert(series(p, IGNORED) == ignored + 1);
	ck_assert(series(p, TEMPFAILED) == tempfailed);
	ck_assert_msg(strstr(seen.lines, "state store failed: no state store "
					 "is open; state_error = ignore") !=
			  NULL,
		      "%s", seen.lines);
	policy_free(&p);
	p = load_text("state_error = \"tempfail\"\n" GREY_CONF(""));
	memset(&seen, 0, sizeof(seen));
	message(p, "192.0.2.1", "a@example.org", "x@example.com", &seen, got,
		sizeof(got));
	ck_assert_str_eq(got,
			 "451 4.3.0 Temporary internal error, try again later");
	ck_assert_msg(strstr(seen.lines, "the state store failed: no state "
					 "store is open") != NULL,
		      "%s", seen.lines);
	ck_assert(series(p, IGNORED) == ignored + 1);
	ck_assert(series(p, TEMPFAILED) == tempfailed + 1);
	policy_free(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");

	if (unit_dir_make() != 0)
		return 1;
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_duration, 0,
			    sizeof(durations) / sizeof(durations[0]));
	tcase_add_test(tc, test_store_counter);
	tcase_add_test(tc, test_store_stamps);
	tcase_add_test(tc, test_store_reopen);
	tcase_add_test(tc, test_store_bad_dir);
	tcase_add_test(tc, test_store_concurrent);
	tcase_add_test(tc, test_rate_exact);
	tcase_add_test(tc, test_rate_edge);
	tcase_add_test(tc, test_rate_keys);
	tcase_add_test(tc, test_greylist_timing);
	tcase_add_test(tc, test_greylist_allowlist);
	tcase_add_test(tc, test_state_error);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
