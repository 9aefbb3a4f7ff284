/*
 * cond.h - condition kinds: one file each (cond_*.c), behind one table of
 * operations (cond_kinds[] in cond.c). Adding a kind is a new file and
 * one row in that table; nothing else names it.
 *
 * A kind says which rule options it reads, and how to build conditions
 * from them (through struct cond_builder, which the config loader fills:
 * a kind never sees libconfuse), which stages can see it, how a condition
 * is evaluated on a session's facts, which events it needs from the MTA,
 * and what per-session state it keeps (sized, set up, reset with each
 * message, freed by the engine, so a kind never leaks state across
 * messages). No libmilter, no libconfuse, no logging.
 */
#ifndef RCM_COND_H
#define RCM_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/listfile.h"
#include "core/policy.h"

struct cond_kind;

/* What an option of a kind holds, for the config's option table. */
enum cond_opt_type {
	COPT_LIST, /* a list of entries: inline, "list:NAME", "file:PATH";
		      "not_NAME" too when negatable */
	COPT_BOOL,
	COPT_INT,
	COPT_STR,
	COPT_STRS, /* a list of strings the kind reads itself (count(),
		      item()) */
};

struct cond_opt {
	const char *name;
	enum cond_opt_type type;
	enum matcher matcher; /* COPT_LIST: how its entries match */
	bool negatable;	      /* COPT_LIST: "not_NAME" exists */
};

/*
 * The list matchers of a condition that matches entries: one of the sets,
 * by matcher, built by the builder's entries() from the rule's option.
 */
struct cond_share;
struct cond_lists {
	enum matcher matcher;
	struct addr_set *addrs;
	struct domain_set *domains;
	struct email_set *emails;
	struct regex_list *regexes;
	bool match_unknown; /* the entry "unknown" was given (see
			       COND_LIST_UNKNOWN) */
	char *name;	    /* owned or NULL: which header or macro */
	struct cond_share *share; /* NULL: the sets are l's own; else they
				     are borrowed from share */
};

/*
 * The sets of a named list read alone by several conditions: built once
 * a load, held by every condition that reads them, freed with the last
 * (cond_lists_free). The count changes only while a policy is built or
 * freed, never while sessions read it.
 */
struct cond_share {
	unsigned refs;
	struct cond_lists sets; /* the owned sets (its name and share unused) */
};

/*
 * Hand l's sets to a new share (l then borrows them from it, one
 * reference). Returns the share, or NULL when memory runs out (l then
 * still owns its sets, nothing changed).
 */
struct cond_share *cond_lists_share(struct cond_lists *l);

/* Let l (with no sets of its own) read share's sets: one reference more. */
void cond_lists_borrow(struct cond_lists *l, struct cond_share *share);

/* entries() flags */
#define COND_LIST_UNKNOWN 1u /* for a domain matcher, the entry "unknown"
				is not a domain: it sets match_unknown */
#define COND_LIST_STREAM 2u  /* regexes match a streamed body */

/*
 * What the config loader gives a kind while it compiles one rule. Every
 * problem is reported through error() at the option's line, naming the
 * rule; a kind then builds no condition, and the rule does not load.
 */
struct cond_builder {
	const char *rule; /* the rule's name */
	int verdict;	  /* the rule's enum verdict; -1: not known */
	void *ctx;
	enum stage stage; /* the rule's stage */
	bool stage_ok;	  /* false: the stage was bad (already reported) */
	/* Was opt written in the rule (an empty list included)? */
	bool (*given)(void *ctx, const char *opt);
	/* opt's value: NULL / false when not written. */
	const char *(*str)(void *ctx, const char *opt);
	bool (*num)(void *ctx, const char *opt, long *out);
	bool (*flag)(void *ctx, const char *opt, bool *out);
	/* Report a finding at opt's line (the rule's when opt is NULL). */
	void (*report)(void *ctx, bool error, const char *opt,
		       const char *msg);
	/*
	 * Build *into (matcher m) from list option opt's entries, each bad
	 * one reported where it was written. Returns 0, -1 (reported), -2
	 * when memory ran out.
	 */
	int (*entries)(void *ctx, const char *opt, enum matcher m,
		       unsigned flags, struct cond_lists *into);
	/* COPT_STRS opt: how many entries, entry i, and a finding about
	 * entry i reported at its own line. */
	size_t (*count)(void *ctx, const char *opt);
	const char *(*item)(void *ctx, const char *opt, size_t i);
	void (*report_item)(void *ctx, const char *opt, size_t i,
			    const char *msg);
	/* A new condition of kind k in the rule; NULL: no memory. */
	struct cond *(*add)(void *ctx, const struct cond_kind *k, bool negate);
};

/* When a kind observes an event (struct cond_kind.observe). */
enum cond_moment {
	COND_BEFORE, /* the stage's event, before its rules are tried */
	COND_TAKEN,  /* RCPT: the recipient was taken (not refused) */
};

/*
 * What eval() returns besides 1 (holds) and 0 (does not), before
 * negation: the failure policy decides, never "no match".
 */
#define COND_LIMIT	(-1) /* a regex hit its limits */
#define COND_TOO_LONG	(-2) /* the fact it reads was cut */
#define COND_UNREADABLE (-3) /* an address could not be read */
#define COND_DNS_ERROR	(-4) /* DNS lookups failed, dns_error = tempfail:
				not the failure policy, a DNS tempfail */
#define COND_STATE	(-5) /* the state store failed (keep.h) */
#define COND_NOMEM	(-6) /* no memory to find out: never "no match" */

struct cond_kind {
	const char *name;	     /* in messages */
	const struct cond_opt *opts; /* ends with a NULL name */
	enum stage first, last;	     /* the stages that can see it */
	const char *known_when;	     /* why not at another stage */
	/*
	 * Read the kind's options of the rule and add its conditions
	 * (none when none of its options is written). Returns 0, or -2
	 * when memory ran out; problems go to b->report().
	 */
	int (*build)(const struct cond_kind *k, const struct cond_builder *b);
	/* 1 holds, 0 not, or a COND_* failure; before negation. */
	int (*eval)(const struct cond *c, enum stage st, struct session *s);
	/* The events (1 << stage) it needs from the MTA; events(), when
	 * set, adds those that depend on c (its rule's stage, ...). */
	unsigned needs;
	unsigned (*events)(const struct cond *c);
	/* Free c->data (NULL allowed). */
	void (*free)(void *data);
	/* It keeps state between sessions in the store (keep.h). */
	bool stored;
	/* The placeholders (1u << PH_*) that only a rule with a condition of
	 * this kind has a value for ($retry_in: greylisting). */
	unsigned gives;
	/* --- optional ---------------------------------------------------- */
	/* Octets of per-session state for c (0 or NULL: none). */
	size_t (*state_size)(const struct cond *c);
	int (*state_init)(const struct cond *c, void *st,
			  const struct policy *p); /* 0, or -1: no memory */
	void (*state_reset)(const struct cond *c, void *st); /* new message */
	void (*state_free)(const struct cond *c, void *st);
	/* The stages (1 << stage) at which observe() wants the events. */
	unsigned observes;
	/* See an event; 0, or a COND_* failure. */
	int (*observe)(const struct cond *c, enum cond_moment when,
		       enum stage st, struct session *s, void *st_data);
	/* Does c hold by what the end of the body showed just now? */
	bool (*late)(const struct cond *c, const void *st);
	/* The envelope address c reads, to say why it could not. */
	const struct addr_fact *(*address)(const struct cond *c,
					   const struct session *s);
};

/* Every kind, in the order their conditions are tried within a rule. */
extern const struct cond_kind *const cond_kinds[];
extern const size_t cond_nkinds;

/* Conditions a rule can have at most (every option of every kind). */
size_t cond_max_per_rule(void);

/* --- helpers for kinds ------------------------------------------------ */

/*
 * Build every list option of k that is written (NAME, then not_NAME),
 * one condition each, whose data is a struct cond_lists with a copy of
 * name (NULL allowed). flags go to entries(). Returns 0, or -2 when
 * memory ran out.
 */
int cond_build_lists(const struct cond_kind *k, const struct cond_builder *b,
		     unsigned flags, const char *name);

/* cond_build_lists() with no flags and no name: the build of a kind made
 * only of list options. */
int cond_build_each_list(const struct cond_kind *k,
			 const struct cond_builder *b);

/*
 * A kind whose first option (a string) names what its list option (the
 * second) looks in: header with header_regex, macro with macro_regex.
 * Both must be given; name_ok() checks the name, why says what is wrong.
 */
int cond_build_named(const struct cond_kind *k, const struct cond_builder *b,
		     bool (*name_ok)(const char *name), const char *why);

/*
 * Add a condition of kind k (not negated, from option opt) whose data is
 * a copy of size octets at data. Returns 0, or -2 when memory ran out.
 */
int cond_add_copy(const struct cond_kind *k, const struct cond_builder *b,
		  const char *opt, const void *data, size_t size);

/* A kind of one boolean option: its condition holds when the fact's
 * truth is the option's value (cond_flag_want()). */
int cond_build_flag(const struct cond_kind *k, const struct cond_builder *b);
bool cond_flag_want(const struct cond *c);

/*
 * A kind of two integer options, min_X and max_X (its first two): one
 * range condition. what names the count in messages ("a number of
 * recipients").
 */
int cond_build_count(const struct cond_kind *k, const struct cond_builder *b,
		     const char *what);

/* "10M" and the like: octets with an optional K, M or G. 0, or -1. */
int size_parse(const char *s, uint64_t *out);

/* Free a struct cond_lists made by cond_build_lists(). */
void cond_lists_free(void *data);

/* Match a text fact (domains or regexes), or an envelope address. */
int cond_match_text(const struct cond_lists *l, const char *v, size_t len);
int cond_match_address(const struct cond_lists *l, const struct addr_fact *a);

/* May a rule at b's stage use option opt of k? Reports when not. */
bool cond_stage_ok(const struct cond_kind *k, const struct cond_builder *b,
		   const char *opt);

/* Report a formatted finding about opt (see struct cond_builder). */
void cond_report(const struct cond_builder *b, bool error, const char *opt,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The value of MTA macro name, NULL when not sent or empty. */
const char *cond_macro(const struct session *s, const char *name);

/* The state of c in session s (c must have state: state_at is not
 * COND_NO_STATE). */
void *cond_state(const struct cond *c, const struct session *s);

/* The option c came from, as a rule writes it: "not_sender_domain",
 * "header \"Subject\" header_regex". */
void cond_describe(const struct cond *c, char *buf, size_t len);

/* The events (1 << stage) condition c needs from the MTA. */
unsigned cond_events(const struct cond *c);

/* Conditions of a range kind: min <= value <= max. */
struct cond_range {
	uint64_t min, max;
};
bool cond_in_range(const struct cond *c, uint64_t v);

/* --- keys of state kept between sessions (keep.h) -------------------- */

/* Octets a key's text may have (with its NUL). */
#define COND_KEY_MAX 1200

/*
 * The client's network as a key: "192.0.2.0/24" for IPv4, the first 64
 * bits for IPv6 ("2001:db8:1:2::/64"). false when the address is not
 * known (a local client).
 */
bool cond_client_net(const struct session *s, char *buf, size_t len);

/* v in buf in lower case, as a key: 1, or 0 when v is NULL or empty. */
int cond_key_lower(const char *v, char *buf, size_t len);

/*
 * An envelope address as a key, in its normal form in lower case ("<>"
 * for the null sender), or its domain only (none for the null sender).
 * Returns 1, 0 when there is none, or a COND_* failure when it could not
 * be read.
 */
int cond_addr_key(const struct addr_fact *a, bool domain, char *buf,
		  size_t len);

/* A duration option of a kind (lib/clock.h) into *ms; false (reported)
 * when it is written wrong or out of [min_ms, max_ms]. Not written:
 * *ms is left as it is. */
bool cond_duration(const struct cond_builder *b, const char *opt,
		   uint64_t min_ms, uint64_t max_ms, uint64_t *ms);

#endif
