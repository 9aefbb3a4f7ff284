/*
 * policy.h - the compiled, immutable policy and the engine that applies it
 * to the facts of an SMTP session.
 *
 * A policy is built once by config.c, checked, then frozen: runtime code
 * reads it from many threads at once and never changes it. Its rules'
 * counters are not in it: they live as long as the process (stats.h). It is reference counted
 * so that a reload can swap in a new one while sessions in flight finish on
 * the one they started with. No libmilter and no libconfuse here.
 */
#ifndef RCM_POLICY_H
#define RCM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/codes.h"
#include "core/reply.h"
#include "core/stage.h"
#include "core/template.h"
#include "lib/match.h"

/* How a condition matches its subject. */
enum matcher {
	MATCH_ADDR,   /* addrs */
	MATCH_DOMAIN, /* domains (for an address: its domain part) */
	MATCH_EMAIL,  /* emails (whole address, "<>" is the null sender) */
	MATCH_REGEX,  /* regexes */
	MATCH_BOOL,   /* want */
	MATCH_RANGE,  /* min <= value <= max */
};

struct rule_stats;
struct reply_stats;
struct dnsq;
struct cond_kind;

#define COND_NO_STATE ((size_t)-1)

/*
 * One condition of a rule: of a kind (cond.h), which owns its data and
 * says how it is evaluated.
 */
struct cond {
	const struct cond_kind *kind;
	const char *opt;	  /* the option it came from (static) */
	enum stage rule_stage;	  /* the stage of its rule */
	bool negate;		  /* holds when the kind's test does NOT */
	void *data;		  /* owned by the kind: matchers, ranges */
	size_t state_at;	  /* offset of its per-session state in
				     session.state; COND_NO_STATE: none */
};

enum rule_mode { MODE_ENFORCE, MODE_DRY_RUN };

#define RULE_MAX_HEADERS 8 /* add_header entries per rule */

struct rule {
	char *name;	   /* owned, unique */
	char *file;	   /* owned: config file it came from */
	int line;	   /* line of its "rule" block */
	enum stage stage;
	enum verdict verdict;
	enum rule_mode mode;
	size_t ncond;
	struct cond *cond; /* owned array */
	struct reply_code code; /* reject/tempfail only */
	size_t ntext;
	char **text;	   /* owned; text lines as written */
	struct template **text_t; /* owned; ntext, compiled */
	size_t nheaders;
	char **hdr_name;   /* owned; add_header: name, and ... */
	char **hdr_value;  /* ... value as written */
	struct template **hdr_t; /* owned; nheaders values, compiled */
	char *log;	   /* owned or NULL: log line as written */
	struct template *log_t; /* owned or NULL: log line, compiled */
	bool has_placeholders; /* text needs rendering per decision */
	struct reply rendered; /* pre-rendered reply when it has none, with
				  policy_reply_reserve(r, r->stage, NULL) */
	struct rule_stats *stats; /* the counters of its name, which outlive
				     the policy (stats.h); NULL: not bound */
	struct reply_stats *reply_stats; /* of its reply pair; NULL: none */
};

/* The failure policy: what an internal error becomes. */
struct failure_policy {
	enum verdict verdict; /* tempfail (default), reject or accept */
	struct reply_code code;
	struct reply rendered;
	struct reply_stats *stats; /* of its reply pair (stats.h) */
};

/* A zone the DNS list conditions ask, and of what (dnsq.h's subject). */
struct dns_zone_use {
	const char *name; /* a condition entry's (not owned) */
	int subject;
};

/* The DNS settings and the zones of the policy (core/dnsq.h). */
struct policy_dns {
	char *upstream;	  /* owned: dns_resolver */
	bool tempfail;	  /* dns_error = tempfail (else ignore) */
	long timeout_ms;  /* dns_timeout: a connection's DNS time */
	bool want_txt;	  /* a rule shows $dnsbl_txt */
	size_t nzones;
	struct dns_zone_use *zone; /* owned array */
	struct reply tempfail_reply; /* what dns_error = tempfail sends */
};

/* What a rate limit or greylisting does when its store fails. */
enum state_error {
	STATE_ERROR_IGNORE,   /* the condition does not hold: mail flows */
	STATE_ERROR_TEMPFAIL, /* the failure policy answers (on_error) */
};

struct policy {
	int refs; /* atomic */
	char *file;
	/* global options that take effect on reload (those read once at
	 * start are not policy: config/settings.h) */
	bool strict;
	bool hold_early; /* connect/helo verdicts given at first RCPT */
	enum rule_mode default_mode;
	enum state_error state_error; /* state_error */
	bool uses_store; /* some condition keeps state in the store (keep.h) */
	size_t body_span; /* body_match_span: octets a body match may span
			     (match.h, body_scan); 0: BODY_SPAN_DEFAULT */
	struct failure_policy failure;
	/* rules, in file order, and an index by stage */
	size_t nrules;
	struct rule *rules; /* owned array */
	size_t nstage[STAGE_COUNT];
	struct rule **by_stage[STAGE_COUNT]; /* owned arrays of pointers */
	/* conditions with per-session state (cond.h), and its size */
	size_t nstateful;
	const struct cond **stateful; /* owned array of pointers */
	size_t state_size;
	unsigned watch; /* bit (1 << stage): some condition observes it */
	unsigned need_stages; /* bit (1 << stage): some rule reads it */
	/* macros the rules read, per stage, for smfi_setsymlist */
	size_t nwarnings; /* findings reported as warnings at load */
	struct policy_dns dns;
};

/* --- sessions: the facts the engine reads ---------------------------- */

#define FACT_MAX 512 /* bound of every string fact we keep */
#define FACT_CLIENT_NAME 1u
#define FACT_HELO 2u

/* What became of an envelope address the MTA gave. */
enum addr_state {
	ADDR_NONE,     /* none given (before MAIL, or after a reset) */
	ADDR_OK,       /* read: norm holds its normal form */
	ADDR_TOO_LONG, /* longer than FACT_MAX - 1 octets: raw is cut */
	ADDR_BAD,      /* envaddr_parse() refused it: why says why */
};

/*
 * An envelope address (MAIL FROM, RCPT TO) as the MTA gave it, kept for
 * logs, and as the rules read it. A condition on an address that is not
 * ADDR_OK gives the failure policy, never "no match".
 */
struct addr_fact {
	char raw[FACT_MAX]; /* as given, cut to FACT_MAX - 1 octets */
	enum addr_state state;
	struct envaddr norm; /* ADDR_OK */
	char why[80];	     /* ADDR_BAD */
};

/* Keep raw (NULL is "") in f and read it with envaddr_parse(). */
void addr_fact_set(struct addr_fact *f, const char *raw);

/* Forget the address: ADDR_NONE, raw "". */
void addr_fact_clear(struct addr_fact *f);

/*
 * The address as placeholders show it: "<normal form>" ("<>" for the null
 * sender) when it was read, else the raw value. Written into buf (at
 * least ADDR_SHOW_MAX octets); returns buf.
 */
#define ADDR_SHOW_MAX (ENVADDR_MAX + 6)
const char *addr_fact_show(const struct addr_fact *f, char *buf, size_t buflen);

/*
 * Where the engine asks for an MTA macro's value. Returns NULL when the
 * MTA did not send it. Supplied by the milter glue (or a test).
 */
typedef const char *(*macro_fn)(void *arg, const char *name);

/*
 * The facts of one message, from MAIL to its end: reset as one unit
 * (session_reset_message() zeroes it), so a field added here can never
 * leak into the next message. Zeroed, every address is ADDR_NONE.
 */
struct message {
	char queue_id[64];
	struct addr_fact sender; /* ADDR_NONE before MAIL */
	struct addr_fact rcpt;	 /* current (rcpt stage) or last recipient */
	unsigned rcpt_count;
	uint64_t size_param; /* SIZE= of MAIL; 0 when not given */
	uint64_t size;	     /* octets seen from headers on */
	bool accepted;	     /* an accept verdict ended rule evaluation */
	/* the item the current stage is about */
	const char *hdr_name;
	const char *hdr_value;
	size_t hdr_value_len;
	const unsigned char *chunk;
	size_t chunk_len;
	bool body_end; /* the body is complete: set by the caller for
			  its policy_eval(STAGE_BODY) at end of message */
	uint64_t busy_ns; /* time spent deciding on it so far (txn.c) */
	uint64_t retry_ms; /* $retry_in: greylisting's time left, or 0 */
	bool early_logged; /* the connection's decisions were logged again
			      with its queue id (txn.c) */
};

struct session {
	const struct policy *policy; /* the one this session started with */
	/* connection */
	char client_addr[64]; /* text form, "" when unknown */
	unsigned char client_ip[16];
	bool have_ip;
	char client_name[FACT_MAX];
	char helo[FACT_MAX];
	bool have_helo;
	macro_fn macro;
	void *macro_arg;
	unsigned too_long; /* FACT_* bits: the value was longer than
			      FACT_MAX and was cut; a condition on it
			      fails closed instead of matching a part */
	struct message msg; /* reset by session_reset_message() */
	/* sized from the policy; reset with msg */
	unsigned char *state; /* the conditions' state (cond.h) */
	struct dnsq *dns; /* DNS lookups (core/dnsq.h); NULL: no DNS
			     conditions in the policy */
	/* the DNS list that listed a subject, for $dnsbl_zone,
	 * $dnsbl_answer, $dnsbl_txt: the last DNS list condition that held */
	char dns_zone[256];
	char dns_answer[16];
	char dns_txt[512];
	char store_err[200]; /* the last failure of the state store, for the
				transaction core to report ("": none) */
	bool *body_fired; /* nstage[STAGE_BODY] flags: that body rule held
			     in this message (it is tried once a message,
			     not again with every later chunk) */
};

/*
 * What the engine reports for each rule that matched, in order. Called for
 * dry-run rules and continue rules (which do not stop the evaluation) and
 * for the rule that decides. reply is NULL for verdicts that send none.
 */
struct match_event {
	const struct rule *rule;
	enum stage stage;
	bool dry_run;		  /* dry-run: log "would", do nothing */
	const struct reply *reply; /* rendered reply, or NULL */
};
typedef void (*match_fn)(void *arg, const struct match_event *ev,
			 struct session *s);

/* The outcome of one stage. */
struct decision {
	const struct rule *rule; /* the deciding rule; NULL: none, continue */
	enum verdict verdict;	 /* VERDICT_CONTINUE when no rule decided */
	bool internal_error;	 /* the failure policy decided */
	bool dns_failed;	 /* DNS lookups of rule failed and
				    dns_error = tempfail decided */
	char error[256];	 /* what failed, when internal_error */
	const struct reply *reply; /* for reject and tempfail, else NULL:
				      points into the rule, the policy or
				      buf below */
	struct reply buf;	 /* where a per-session reply is rendered */
};

/*
 * Start a session on policy p (takes a reference; session_end drops it).
 * Returns 0, or -1 when memory runs out (nothing to free then).
 */
int session_begin(struct session *s, const struct policy *p);
void session_reset_message(struct session *s);
void session_end(struct session *s);

/*
 * Set the client's address from the socket address the MTA gave: an
 * AF_INET or AF_INET6 one, else (NULL too) the address is not known.
 */
void session_set_client(struct session *s, const struct sockaddr *sa);

/* An IPv4 or IPv6 address in text into *ss (port 0). Returns 0, or -1. */
int sockaddr_parse(const char *text, struct sockaddr_storage *ss);

/*
 * Apply the rules of stage st to the facts in s. Rules that match but do
 * not decide (continue, dry-run) and the deciding rule are reported to
 * on_match (may be NULL). On an internal error (regex limit, no memory) the
 * failure policy decides and d->internal_error is set. Never fails itself.
 *
 * The body: at STAGE_BODY s->chunk is fed to every body scanner first. At
 * end of message the caller sets s->body_end and calls STAGE_BODY once
 * more (s->chunk NULL): the scanners see the true end of the body, and
 * only the body rules that hold because of a match found just then are
 * tried (the others were tried with each chunk). STAGE_EOM ends the body
 * too when that was not done.
 */
void policy_eval(const struct policy *p, enum stage st, struct session *s,
		 match_fn on_match, void *arg, struct decision *d);

/*
 * Render rule r's reply (reject or tempfail) as given at stage st for the
 * facts in s, into d (d->reply). Used for a connect or HELO verdict held
 * until RCPT. Returns 0, or -1 with d->error filled.
 */
int policy_render(const struct rule *r, enum stage st, const struct session *s,
		  struct decision *d);

/*
 * The room kept on the first line of rule r's reply at stage st for
 * Sendmail's "<address>... " prefix (reply_prefix_room()): for the address
 * in s at MAIL and RCPT, the longest Sendmail writes when s is NULL and at
 * connect and HELO (whose reply MAIL carries, before the address is known).
 */
size_t policy_reply_reserve(const struct rule *r, enum stage st,
			    const struct session *s);

/*
 * Expand template t (of rule r, NULL allowed) with the facts of s into
 * out (always NUL-terminated), values sanitised and cut to
 * PLACEHOLDER_MAX octets (template.h).
 */
void policy_expand(const struct template *t, const struct rule *r,
		   const struct session *s, char *out, size_t outlen);

/*
 * The events the milter must receive for this policy, as (1 << stage)
 * bits: the stages that have rules, and those whose facts later rules or
 * placeholders read (a HELO condition at RCPT needs the HELO event). The
 * connect and eom events are always in it.
 */
unsigned policy_events(const struct policy *p);

/*
 * Give every condition that keeps per-session state its place in
 * session.state, and list them (stateful, state_size, watch). Called
 * once the rules are built. Returns 0, or -1 when memory runs out.
 */
int policy_state_layout(struct policy *p);

/* References. policy_unref frees on the last one and sets *p NULL. */
const struct policy *policy_ref(const struct policy *p);
void policy_unref(const struct policy **p);

/* Free a policy that was never shared (a failed or checked-only load). */
void policy_free(struct policy **p);

#endif
