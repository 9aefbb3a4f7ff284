/*
 * cond_ratelimit.c - rate_limit, rate_window, rate_key, rate_event: holds
 * when the events of one key (a client, a sender, a user...) in the last
 * rate_window pass rate_limit. The counts are kept in the store (keep.h),
 * so they outlive the session, a reload and a restart, and are shared by
 * every milter on the same Redis.
 *
 * Counting: an event counts when the rule is tried on it and the rule's
 * other conditions held (they are tried first: an allowlisted or
 * authenticated client that a condition skips is not counted), before the
 * rule decides. An attempt the rule then refuses counts too, as Postfix's
 * anvil counts every request: a client that keeps trying while over its
 * limit stays over it until it slows down. Add and compare are one atomic
 * step in the store, so concurrent sessions, on one milter or many,
 * never pass the limit between them.
 *
 * The window slides: it is cut into RATE_SLOTS slots, and the count is
 * the sum of the slots that cover the last rate_window (one slot more
 * than the window, so that no event of the window is left out). A burst
 * at the edge of a window is thus still counted after the edge, and no
 * span of rate_window ever lets more than rate_limit events through; the
 * price is that an event is forgotten between rate_window and
 * rate_window + 1/RATE_SLOTS of it after it happened. Fixed windows
 * (reset every minute) would let 2 x rate_limit through across an edge,
 * and a token bucket lets a burst of rate_limit after a full window on
 * top of a steady rate.
 */
#include <stdio.h>
#include <string.h>

#include "core/cond.h"
#include "core/keep.h"
#include "lib/clock.h"

#define RATE_SLOTS 60

enum rate_key {
	RK_CLIENT_ADDRESS,
	RK_CLIENT_NETWORK,
	RK_CLIENT_NAME,
	RK_HELO,
	RK_SENDER,
	RK_SENDER_DOMAIN,
	RK_AUTHENTICATED,
	RK_RECIPIENT,
	RK_COUNT
};

static const struct {
	const char *name;
	enum stage known; /* the first stage it is known at */
} keys[RK_COUNT] = {
    [RK_CLIENT_ADDRESS] = {"client_address", STAGE_CONNECT},
    [RK_CLIENT_NETWORK] = {"client_network", STAGE_CONNECT},
    [RK_CLIENT_NAME] = {"client_name", STAGE_CONNECT},
    [RK_HELO] = {"helo", STAGE_HELO},
    [RK_SENDER] = {"sender", STAGE_MAIL},
    [RK_SENDER_DOMAIN] = {"sender_domain", STAGE_MAIL},
    [RK_AUTHENTICATED] = {"authenticated", STAGE_MAIL},
    [RK_RECIPIENT] = {"recipient", STAGE_RCPT},
};

enum rate_event { RE_CONNECTIONS, RE_MESSAGES, RE_RECIPIENTS, RE_OCTETS,
		  RE_COUNT };

static const struct {
	const char *name;
	enum stage first, last; /* the stages its rule may be at */
	const char *why;
} events_[RE_COUNT] = {
    [RE_CONNECTIONS] = {"connections", STAGE_CONNECT, STAGE_EOM,
			"a connection counts the first time the rule is "
			"tried in it"},
    [RE_MESSAGES] = {"messages", STAGE_MAIL, STAGE_EOM,
		     "a message is known from stage mail on"},
    [RE_RECIPIENTS] = {"recipients", STAGE_RCPT, STAGE_RCPT,
		       "recipients are counted one by one at stage rcpt"},
    [RE_OCTETS] = {"octets", STAGE_EOM, STAGE_EOM,
		   "a message's size is known at stage eom"},
};

static const struct cond_opt opts[] = {
	{"rate_limit", COPT_STR, MATCH_RANGE, false},
	{"rate_window", COPT_STR, MATCH_RANGE, false},
	{"rate_key", COPT_STR, MATCH_RANGE, false},
	{"rate_event", COPT_STR, MATCH_RANGE, false},
	{NULL, 0, 0, false},
};

struct rate {
	enum rate_key key;
	enum rate_event event;
	uint64_t limit;
	uint64_t window_ms;
	char prefix[160]; /* of its keys in the store */
};

/* Per session: was this connection or message counted, and the total. */
struct rate_state {
	bool conn_counted, msg_counted;
	uint64_t total;
};

static int find(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

static int build(const struct cond_kind *k, const struct cond_builder *b)
{
	const char *lim = b->str(b->ctx, "rate_limit");
	const char *key = b->str(b->ctx, "rate_key");
	const char *ev = b->str(b->ctx, "rate_event");
	const char *keynames[RK_COUNT], *evnames[RE_COUNT];
	struct rate r = {0};
	int i;

	for (i = 0; i < RK_COUNT; i++)
		keynames[i] = keys[i].name;
	for (i = 0; i < RE_COUNT; i++)
		evnames[i] = events_[i].name;
	if (lim == NULL && key == NULL && ev == NULL &&
	    !b->given(b->ctx, "rate_window"))
		return 0;
	if (lim == NULL || key == NULL || !b->given(b->ctx, "rate_window")) {
		cond_report(b, true,
			    lim != NULL ? "rate_limit"
			    : key != NULL ? "rate_key"
			    : ev != NULL ? "rate_event"
					 : "rate_window",
			    "a rate limit needs rate_limit, rate_window and "
			    "rate_key (rate_event is messages when not "
			    "given)%s%s%s",
			    lim == NULL ? "; rate_limit is missing" : "",
			    key == NULL ? "; rate_key is missing" : "",
			    !b->given(b->ctx, "rate_window")
				? "; rate_window is missing"
				: "");
		return 0;
	}
	if ((i = find(key, keynames, RK_COUNT)) < 0) {
		cond_report(b, true, "rate_key",
			    "rate_key \"%s\" is not one of client_address, "
			    "client_network, client_name, helo, sender, "
			    "sender_domain, authenticated, recipient",
			    key);
		return 0;
	}
	r.key = (enum rate_key)i;
	if ((i = find(ev != NULL ? ev : "messages", evnames, RE_COUNT)) < 0) {
		cond_report(b, true, "rate_event",
			    "rate_event \"%s\" is not one of connections, "
			    "messages, recipients, octets",
			    ev);
		return 0;
	}
	r.event = (enum rate_event)i;
	if (size_parse(lim, &r.limit) != 0 ||
	    (r.event != RE_OCTETS && strspn(lim, "0123456789") != strlen(lim))) {
		cond_report(b, true, "rate_limit",
			    "rate_limit \"%s\": want a number of %s%s", lim,
			    events_[r.event].name,
			    r.event == RE_OCTETS
				? " with an optional K, M or G suffix"
				: "");
		return 0;
	}
	r.window_ms = 60000;
	if (!cond_duration(b, "rate_window", 1000, 366ull * 86400 * 1000,
			   &r.window_ms))
		return 0;
	if (!b->stage_ok)
		return 0;
	if (b->stage < events_[r.event].first ||
	    b->stage > events_[r.event].last) {
		cond_report(b, true, ev != NULL ? "rate_event" : "rate_limit",
			    "rate_event %s cannot be used at stage %s: %s",
			    events_[r.event].name, stage_name(b->stage),
			    events_[r.event].why);
		return 0;
	}
	if (b->stage < keys[r.key].known) {
		cond_report(b, true, "rate_key",
			    "rate_key %s cannot be used at stage %s: it is "
			    "known from stage %s on",
			    keys[r.key].name, stage_name(b->stage),
			    stage_name(keys[r.key].known));
		return 0;
	}
	if (r.key == RK_RECIPIENT && r.event != RE_RECIPIENTS) {
		cond_report(b, true, "rate_key",
			    "rate_key recipient counts recipients only (a "
			    "message has many): set rate_event = "
			    "\"recipients\"");
		return 0;
	}
	if (b->verdict == VERDICT_REJECT)
		cond_report(b, false, "rate_limit",
			    "a rate limit passes with time: a reject (5xx) "
			    "bounces mail that would go through later; use "
			    "tempfail, e.g. reply \"450 4.7.1\" or \"421 "
			    "4.7.28\"");
	/* the rule's name keeps its counts apart from other rules' */
	snprintf(r.prefix, sizeof(r.prefix), "rcm:rate:%.100s:%s:%s:",
		 b->rule, events_[r.event].name, keys[r.key].name);
	return cond_add_copy(k, b, "rate_limit", &r, sizeof(r));
}

/* The value of c's key in s into buf: 1, 0 none, or a COND_* failure. */
static int key_value(const struct rate *r, const struct session *s,
		     char *buf, size_t len)
{
	const char *v = NULL;

	switch (r->key) {
	case RK_CLIENT_ADDRESS:
		v = s->have_ip ? s->client_addr : NULL;
		break;
	case RK_CLIENT_NETWORK:
		return cond_client_net(s, buf, len) ? 1 : 0;
	case RK_CLIENT_NAME:
		if (s->too_long & FACT_CLIENT_NAME)
			return COND_TOO_LONG;
		v = strcmp(s->client_name, "unknown") != 0 ? s->client_name
							   : NULL;
		break;
	case RK_HELO:
		if (s->too_long & FACT_HELO)
			return COND_TOO_LONG;
		v = s->have_helo ? s->helo : NULL;
		break;
	case RK_SENDER:
	case RK_SENDER_DOMAIN:
		return cond_addr_key(&s->msg.sender,
				     r->key == RK_SENDER_DOMAIN, buf, len);
	case RK_AUTHENTICATED:
		v = cond_macro(s, "{auth_authen}");
		break;
	case RK_RECIPIENT:
		return cond_addr_key(&s->msg.rcpt, false, buf, len);
	case RK_COUNT:
		break;
	}
	return cond_key_lower(v, buf, len);
}

static int eval(const struct cond *c, enum stage st, struct session *s)
{
	const struct rate *r = c->data;
	struct rate_state *rs = cond_state(c, s);
	char key[COND_KEY_MAX + 160], value[COND_KEY_MAX], err[300];
	uint64_t window = r->window_ms, now, add = 1;
	int rc;

	(void)st;
	if ((r->event == RE_CONNECTIONS && rs->conn_counted) ||
	    (r->event == RE_MESSAGES && rs->msg_counted))
		return rs->total > r->limit;
	if ((rc = key_value(r, s, value, sizeof(value))) <= 0)
		return rc;
	if (r->event == RE_OCTETS)
		add = s->msg.size > 0 ? s->msg.size : 1;
	snprintf(key, sizeof(key), "%s%s", r->prefix, value);
	if (keep_store() == NULL)
		return keep_failed(s, NULL);
	now = clock_now_ms();
	if (store_count(keep_store(), key, now,
			(window + RATE_SLOTS - 1) / RATE_SLOTS, RATE_SLOTS + 1,
			add, &rs->total, err, sizeof(err)) != 0)
		return keep_failed(s, err);
	rs->conn_counted = true;
	rs->msg_counted = true;
	return rs->total > r->limit;
}

static size_t state_size(const struct cond *c)
{
	(void)c;
	return sizeof(struct rate_state);
}

/* A new message: a connection's count stays, a message's goes. */
static void state_reset(const struct cond *c, void *st)
{
	const struct rate *r = c->data;
	struct rate_state *rs = st;

	rs->msg_counted = false;
	if (r->event != RE_CONNECTIONS)
		rs->total = 0;
}

/* The key's fact must come from the MTA. */
static unsigned events(const struct cond *c)
{
	const struct rate *r = c->data;

	return 1u << keys[r->key].known;
}

static const struct addr_fact *address(const struct cond *c,
				       const struct session *s)
{
	const struct rate *r = c->data;

	if (r->key == RK_SENDER || r->key == RK_SENDER_DOMAIN)
		return &s->msg.sender;
	return r->key == RK_RECIPIENT ? &s->msg.rcpt : NULL;
}

const struct cond_kind kind_ratelimit = {
	.name = "rate limit",
	.opts = opts,
	.first = STAGE_CONNECT,
	.last = STAGE_EOM,
	.known_when = "",
	.build = build,
	.eval = eval,
	.events = events,
	.free = free,
	.stored = true,
	.state_size = state_size,
	.state_reset = state_reset,
	.address = address,
};
