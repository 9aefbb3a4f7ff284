/*
 * milter.h - the libmilter glue: callbacks that feed the policy engine and
 * turn its decisions into smfi_* calls, and the current-policy pointer.
 */
#ifndef RCM_MILTER_H
#define RCM_MILTER_H

#include "core/policy.h"

/* Install p as the policy for new connections (takes over the reference). */
void milter_set_policy(struct policy *p);

/* A new reference to the current policy, or NULL before the first. */
const struct policy *milter_get_policy(void);

/* Register the callbacks with libmilter (smfi_register). 0 or -1. */
int milter_register(void);

/* Log every rule's counters and the per-reply-code counts. */
void milter_log_counters(void);

#endif
