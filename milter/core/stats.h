/*
 * stats.h - counters that live as long as the process, and the policy new
 * connections start on.
 *
 * A policy is frozen and replaced whole at every reload; its counters must
 * not be. Each rule is bound at load to the counters of its name
 * (stats_bind()), which outlive every policy: a reload that keeps a rule
 * keeps its counts, and a rule taken out and put back finds them again.
 * No libmilter, no logging: stats_report() hands lines to its caller.
 */
#ifndef RCM_STATS_H
#define RCM_STATS_H

#include <stdint.h>

#include "core/policy.h"

/* The counters of one rule name. Updated atomically. */
struct rule_stats {
	uint64_t hits; /* the rule's conditions held (dry run included) */
};

/*
 * Bind every rule of p to the counters of its name, creating those not
 * seen before. Returns 0, or -1 when memory runs out.
 */
int stats_bind(struct policy *p);

/* Count one hit of rule r (nothing for a rule not bound). */
void stats_rule_hit(const struct rule *r);

/* Rule r's hits since the process started (0 for a rule not bound). */
uint64_t stats_rule_hits(const struct rule *r);

/*
 * Report the counters of p's rules, one line each, then the hits summed
 * per reply code of enforced reject and tempfail rules, through line().
 */
void stats_report(const struct policy *p,
		  void (*line)(void *arg, const char *text), void *arg);

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
