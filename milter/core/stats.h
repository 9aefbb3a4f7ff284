/*
 * stats.h - counters that live as long as the process, and the policy new
 * connections start on.
 *
 * A policy is frozen and replaced whole at every reload; its counters must
 * not be. Each rule is bound at load to the counters of its name
 * (stats_bind()), which outlive every policy: a reload that keeps a rule
 * keeps its counts, and a rule taken out and put back finds them again.
 * The same holds for the reply pairs given, the decisions per stage, the
 * sessions and messages, internal errors, reloads and the time spent per
 * message. Counting is one atomic add, no lock. No libmilter, no logging:
 * stats_report() hands log lines to its caller, stats_prometheus() writes
 * the Prometheus text exposition format into a buffer.
 */
#ifndef RCM_STATS_H
#define RCM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/policy.h"

/* The counters of one rule name. Updated atomically. */
struct rule_stats {
	uint64_t hits;	   /* the rule's conditions held (dry run included) */
	uint64_t enforced; /* ... in enforce mode: the rule acted */
	uint64_t would;	   /* ... in dry-run mode: logged what it would do */
};

/* The replies given with one code pair and verdict. */
struct reply_stats {
	uint64_t given;
};

/*
 * Bind every rule of p (and its failure policy's reply) to the counters
 * of its name and reply pair, creating those not seen before. Returns 0,
 * or -1 when memory runs out.
 */
int stats_bind(struct policy *p);

/* Count one hit of rule r, in dry-run mode or not (nothing when r is not
 * bound). */
void stats_rule_hit(const struct rule *r, bool dry_run);

/* Rule r's hits since the process started (0 for a rule not bound). */
uint64_t stats_rule_hits(const struct rule *r);

/* A session began (a connection the MTA opened to the milter). */
void stats_session(void);

/* A message reached its end; ns: the time the milter spent on it. */
void stats_message(uint64_t ns);

/*
 * A decision given to the MTA at stage st: verdict v, and the reply it
 * carried (rs NULL: none, or the MTA's own).
 */
void stats_decision(enum stage st, enum verdict v, struct reply_stats *rs);

/* The failure policy decided after an internal error (verdict v). */
void stats_internal(enum verdict v);

/* A DNS list lookup (A or TXT), from the cache or not, and how it ended
 * (enum dns_status of lib/dns.h). */
void stats_dns(bool txt, bool cached, int status);
/* The state store failed a rate limit or greylisting: answered by
 * ignoring it, or by the failure policy (state_error = tempfail). */
void stats_state_error(bool tempfail);

/* A reload: it loaded (the policy's generation goes up) or was refused. */
void stats_reload(bool done);

/* The first policy loaded, at start (generation 1). */
void stats_started(void);

/*
 * Report the counters of p's rules, one line each, then the hits summed
 * per reply code of enforced reject and tempfail rules, through line().
 */
void stats_report(const struct policy *p,
		  void (*line)(void *arg, const char *text), void *arg);

/*
 * Every counter in the Prometheus text exposition format (version
 * 0.0.4), metric names prefixed replycode_milter_, p's rules described;
 * into *buf (malloc'd, the caller frees it) of *len octets. Returns 0,
 * or -1 when memory runs out.
 */
int stats_prometheus(const struct policy *p, char **buf, size_t *len);

/* Free every counter (at exit; rules still bound must not count again). */
void stats_free_all(void);

/*
 * The policy new connections start on. policy_install() takes over p's
 * reference (NULL: none) and drops the old one's; policy_current() gives
 * a new reference, or NULL before the first install.
 */
void policy_install(struct policy *p);
const struct policy *policy_current(void);

#endif
