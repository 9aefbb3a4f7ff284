/*
 * cond_greylist.c - greylist, greylist_delay, greylist_retry_window,
 * greylist_pass_lifetime, greylist_allowlist_after: greylisting (RFC 6647)
 * of the triplet (client network, sender, recipient), at stage rcpt. The
 * condition holds while the triplet must wait: its rule tempfails it,
 * with $retry_in the time left.
 *
 * A triplet seen the first time is stamped (store_first, one atomic
 * step: every milter of a fleet agrees on its first attempt) and waits
 * greylist_delay; a retry after that, within greylist_retry_window, passes
 * it. A passed triplet passes at once for greylist_pass_lifetime after
 * its last message. A client network whose triplets passed
 * greylist_allowlist_after times within greylist_pass_lifetime passes
 * every triplet (0: never). The network is the /24 of an IPv4 client and
 * the /64 of an IPv6 one (a sender's retries often come from another host
 * of its pool); a client with no address (local) is never greylisted.
 *
 * The rule's other conditions are tried first: skips (authenticated
 * clients, allowlisted networks) are ordinary conditions of the rule
 * (not_authenticated...), and a skipped session touches no state.
 */
#include <stdio.h>
#include <string.h>

#include "core/cond.h"
#include "core/keep.h"
#include "lib/clock.h"

#define DAY_MS (86400ull * 1000)
#define ALLOW_SLOTS 36 /* the allowlist's counter, over the pass lifetime */

static const struct cond_opt opts[] = {
	{"greylist", COPT_BOOL, MATCH_BOOL, false},
	{"greylist_delay", COPT_STR, MATCH_RANGE, false},
	{"greylist_retry_window", COPT_STR, MATCH_RANGE, false},
	{"greylist_pass_lifetime", COPT_STR, MATCH_RANGE, false},
	{"greylist_allowlist_after", COPT_INT, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

struct greylist {
	uint64_t delay_ms, retry_ms, pass_ms;
	long allow_after;
	char prefix[140];
};

/*
 * Greylisting asks for a retry: its rule tempfails (or only logs, with
 * continue), and not with 452, which says the server is out of storage.
 */
static bool verdict_fits(const struct cond_builder *b)
{
	const char *reply = b->str(b->ctx, "reply");

	if (b->verdict >= 0 && b->verdict != VERDICT_TEMPFAIL &&
	    b->verdict != VERDICT_CONTINUE) {
		cond_report(b, true, "greylist",
			    "greylisting asks the sender to retry: its rule's "
			    "verdict is tempfail (reply \"451 4.7.1\" or "
			    "\"450 4.2.0\"), or continue to only log it, not "
			    "%s",
			    verdict_name((enum verdict)b->verdict));
		return false;
	}
	if (reply != NULL && strncmp(reply, "452", 3) == 0)
		cond_report(b, false, "greylist",
			    "reply %s: 452 says the server is out of "
			    "storage, which greylisting is not; use \"451 "
			    "4.7.1\" or \"450 4.2.0\"",
			    reply);
	return true;
}

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	struct greylist g = {5 * 60000, 2 * DAY_MS, 35 * DAY_MS, 5, ""};
	bool on = false, given = b->flag(b->ctx, "greylist", &on);
	long n;

	for (const struct cond_opt *o = opts + 1; o->name != NULL; o++)
		if (!given && b->given(b->ctx, o->name)) {
			cond_report(b, true, o->name,
				    "%s needs greylist = true", o->name);
			return 0;
		}
	if (!given)
		return 0;
	if (!on) {
		cond_report(b, true, "greylist",
			    "greylist = false: remove it (a rule greylists "
			    "with greylist = true)");
		return 0;
	}
	if (!cond_stage_ok(k, b, "greylist") || !verdict_fits(b))
		return 0;
	if (!cond_duration(b, "greylist_delay", 1000, DAY_MS, &g.delay_ms) ||
	    !cond_duration(b, "greylist_retry_window", 60000, 60 * DAY_MS,
			   &g.retry_ms) ||
	    !cond_duration(b, "greylist_pass_lifetime", 60000, 366 * DAY_MS,
			   &g.pass_ms))
		return 0;
	if (b->num(b->ctx, "greylist_allowlist_after", &n)) {
		if (n < 0 || n > 1000000) {
			cond_report(b, true, "greylist_allowlist_after",
				    "greylist_allowlist_after %ld: want 0 "
				    "(never) to 1000000 passes",
				    n);
			return 0;
		}
		g.allow_after = n;
	}
	snprintf(g.prefix, sizeof(g.prefix), "rcm:grey:%.100s:", b->rule);
	return cond_add_copy(k, b, "greylist", &g, sizeof(g));
}

/*
 * A triplet's key: the sender's length before it, so that no sender and
 * recipient can make another pair's key ("a|b", "c" against "a", "b|c").
 */
static void triplet(char *key, size_t len, const char *prefix,
		    const char *what, const char *net, const char *from,
		    const char *to)
{
	snprintf(key, len, "%s%s:%s|%zu:%s|%s", prefix, what, net, strlen(from),
		 from, to);
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct greylist *g = c->data;
	struct store *db = keep_store();
	char net[64], from[COND_KEY_MAX / 3], to[COND_KEY_MAX / 3];
	char key[COND_KEY_MAX], err[300];
	uint64_t now = clock_now_ms(), first, total, passed;
	uint64_t allow_slot = (g->pass_ms + ALLOW_SLOTS - 1) / ALLOW_SLOTS;
	int rc;

	(void)st;
	s->msg.retry_ms = 0;
	if (!cond_client_net(s, net, sizeof(net)))
		return 0;
	/* no sender or no recipient (an MTA that skipped MAIL): no triplet */
	if ((rc = cond_addr_key(&s->msg.sender, false, from, sizeof(from))) <=
		0 ||
	    (rc = cond_addr_key(&s->msg.rcpt, false, to, sizeof(to))) <= 0)
		return rc;
	if (db == NULL)
		return keep_failed(s, NULL);
	/* an allowlisted client network */
	snprintf(key, sizeof(key), "%sclient:%s", g->prefix, net);
	if (g->allow_after > 0) {
		if (store_count(db, key, now, allow_slot, ALLOW_SLOTS + 1, 0,
				&total, err, sizeof(err)) != 0)
			return keep_failed(s, err);
		if (total >= (uint64_t)g->allow_after)
			return 0;
	}
	/* a passed triplet: its life starts again */
	triplet(key, sizeof(key), g->prefix, "pass", net, from, to);
	rc = store_touch(db, key, now, g->pass_ms, &passed, err, sizeof(err));
	if (rc < 0)
		return keep_failed(s, err);
	if (rc == 1)
		return 0;
	/* its first attempt, and is the delay over? */
	triplet(key, sizeof(key), g->prefix, "wait", net, from, to);
	if (store_first(db, key, now, g->delay_ms + g->retry_ms, &first, err,
			sizeof(err)) != 0)
		return keep_failed(s, err);
	if (now < first + g->delay_ms) {
		s->msg.retry_ms = first + g->delay_ms - now;
		return 1;
	}
	triplet(key, sizeof(key), g->prefix, "pass", net, from, to);
	if (store_set(db, key, now, now, g->pass_ms, err, sizeof(err)) != 0)
		return keep_failed(s, err);
	if (g->allow_after > 0) {
		snprintf(key, sizeof(key), "%sclient:%s", g->prefix, net);
		if (store_count(db, key, now, allow_slot, ALLOW_SLOTS + 1, 1,
				&total, err, sizeof(err)) != 0)
			return keep_failed(s, err);
	}
	return 0;
}

static const struct addr_fact *address(const struct cond *c,
				       const struct session *s)
{
	(void)c;
	return s->msg.sender.state != ADDR_OK ? &s->msg.sender : &s->msg.rcpt;
}

const struct cond_kind kind_greylist = {
	.name = "greylist",
	.opts = opts,
	.first = STAGE_RCPT,
	.last = STAGE_RCPT,
	.known_when = "greylisting reads the recipient, one at a time, at "
		      "stage rcpt",
	.build = build,
	.eval = eval,
	.needs = 1u << STAGE_CONNECT | 1u << STAGE_MAIL | 1u << STAGE_RCPT,
	.free = free,
	.stored = true,
	.gives = 1u << PH_RETRY_IN,
	.address = address,
};
