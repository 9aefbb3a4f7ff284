/*
 * policy.h - the compiled, immutable policy and the engine that applies it
 * to the facts of an SMTP session.
 *
 * A policy is built once by config.c, checked, then frozen: runtime code
 * reads it from many threads at once and never changes it, except the
 * per-rule counters, which are updated atomically. It is reference counted
 * so that a reload can swap in a new one while sessions in flight finish on
 * the one they started with. No libmilter and no libconfuse here.
 */
#ifndef RCM_POLICY_H
#define RCM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codes.h"
#include "core/reply.h"
#include "core/stage.h"
#include "lib/match.h"

/* What a condition looks at. */
enum subject {
	SUBJ_CLIENT_ADDR,  /* client IP address: addr set */
	SUBJ_CLIENT_NAME,  /* client host name or "unknown": domains/regex */
	SUBJ_HELO,	   /* HELO/EHLO argument: domains/regex */
	SUBJ_HELO_LITERAL, /* HELO is an address literal "[192.0.2.1]": bool */
	SUBJ_SENDER,	   /* envelope sender: emails/domains/regex */
	SUBJ_RECIPIENT,	   /* envelope recipient: emails/domains/regex */
	SUBJ_RCPT_COUNT,   /* number of recipients so far: num range */
	SUBJ_SIZE,	   /* SIZE= at MAIL, counted octets from header on */
	SUBJ_HEADER,	   /* a named header's value: regex */
	SUBJ_BODY,	   /* body text, streamed: regex */
	SUBJ_AUTH,	   /* {auth_authen} set: bool */
	SUBJ_TLS,	   /* {tls_version} set: bool */
	SUBJ_MACRO,	   /* a named MTA macro's value: regex */
	SUBJ_COUNT
};

/* How a condition matches its subject. */
enum matcher {
	MATCH_ADDR,   /* addrs */
	MATCH_DOMAIN, /* domains (for an address: its domain part) */
	MATCH_EMAIL,  /* emails (whole address, "<>" is the null sender) */
	MATCH_REGEX,  /* regexes */
	MATCH_BOOL,   /* want */
	MATCH_RANGE,  /* min <= value <= max */
};

struct cond {
	enum subject subject;
	enum matcher matcher;
	bool negate;		   /* the condition holds when it does NOT match */
	struct addr_set *addrs;	   /* owned; MATCH_ADDR */
	struct domain_set *domains; /* owned; MATCH_DOMAIN */
	struct email_set *emails;  /* owned; MATCH_EMAIL */
	struct regex_list *regexes; /* owned; MATCH_REGEX */
	bool match_unknown;	   /* SUBJ_CLIENT_NAME: entry "unknown" given */
	bool want;		   /* MATCH_BOOL */
	uint64_t min, max;	   /* MATCH_RANGE, inclusive */
	char *name;		   /* owned; SUBJ_HEADER / SUBJ_MACRO: which one */
	int body_slot;		   /* SUBJ_BODY: index into session body scans */
	int rcpt_slot;		   /* SUBJ_RECIPIENT after the rcpt stage:
				      index into session rcpt_hits */
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
	char **text;	   /* owned; template lines with $placeholders */
	size_t nheaders;
	char **hdr_name;   /* owned; add_header: name, and ... */
	char **hdr_value;  /* ... value template with $placeholders */
	char *log;	   /* owned or NULL: log line template */
	bool has_placeholders; /* text needs rendering per decision */
	struct reply rendered; /* pre-rendered reply when it has none, with
				  policy_reply_reserve(r, r->stage, NULL) */
	/* counters, updated atomically at run time */
	uint64_t hits;
};

/* The failure policy: what an internal error becomes. */
struct failure_policy {
	enum verdict verdict; /* tempfail (default), reject or accept */
	struct reply_code code;
	struct reply rendered;
};

struct policy {
	int refs; /* atomic */
	char *file;
	/* global options that take effect on reload (those read once at
	 * start are not policy: config/settings.h) */
	bool strict;
	bool hold_early; /* connect/helo verdicts given at first RCPT */
	enum rule_mode default_mode;
	size_t body_span; /* body_match_span: octets a body match may span
			     (match.h, body_scan); 0: BODY_SPAN_DEFAULT */
	struct failure_policy failure;
	/* rules, in file order, and an index by stage */
	size_t nrules;
	struct rule *rules; /* owned array */
	size_t nstage[STAGE_COUNT];
	struct rule **by_stage[STAGE_COUNT]; /* owned arrays of pointers */
	size_t nbody_slots; /* body conditions: streaming scanners needed */
	size_t nrcpt_slots; /* recipient conditions evaluated after rcpt */
	unsigned need_stages; /* bit (1 << stage): some rule reads it */
	/* macros the rules read, per stage, for smfi_setsymlist */
	size_t nwarnings; /* findings reported as warnings at load */
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
	/* message: reset by session_reset_message() */
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
	/* per message, sized from the policy */
	struct body_scan *body; /* nbody_slots scanners */
	bool *rcpt_hits;	/* nrcpt_slots flags: a recipient matched */
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
 * Expand $placeholders of a template into out (always NUL-terminated),
 * values sanitised and cut to PLACEHOLDER_MAX octets. "$$" is a '$'.
 * Names: client_addr client_name helo sender recipient queue_id rule.
 */
#define PLACEHOLDER_MAX 256
/* What a placeholder can become at most: PLACEHOLDER_MAX and "...". */
#define PLACEHOLDER_WORST (PLACEHOLDER_MAX + 3)
/* A text line after expansion is cut to this many octets. */
#define EXPAND_LINE_MAX 2048
void policy_expand(const char *tmpl, const struct rule *r,
		   const struct session *s, char *out, size_t outlen);

/* Is name a known placeholder? Used by config checks. */
bool policy_placeholder_known(const char *name, size_t len);

/*
 * The events the milter must receive for this policy, as (1 << stage)
 * bits: the stages that have rules, and those whose facts later rules or
 * placeholders read (a HELO condition at RCPT needs the HELO event). The
 * connect and eom events are always in it.
 */
unsigned policy_events(const struct policy *p);

/* References. policy_unref frees on the last one and sets *p NULL. */
const struct policy *policy_ref(const struct policy *p);
void policy_unref(const struct policy **p);

/* Free a policy that was never shared (a failed or checked-only load). */
void policy_free(struct policy **p);

#endif
