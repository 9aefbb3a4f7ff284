/*
 * keep.h - the state kept between sessions: the one store (lib/store.h)
 * the process opened for its rate limits and greylisting, and what a
 * condition does when that store fails.
 *
 * The store lives as long as the process, like the counters (stats.h),
 * not in a policy: a reload keeps it, and what it holds. The front end
 * installs it once, before the first session, and takes it away after
 * the last. No libmilter, no logging: a failure is written into the
 * session (session.store_err) for the transaction core to report, and
 * counted.
 */
#ifndef RCM_KEEP_H
#define RCM_KEEP_H

#include "core/policy.h"
#include "lib/store.h"

/* The store new operations use; NULL: none installed. */
void keep_install(struct store *st);
struct store *keep_store(void);

/*
 * A stateful condition could not use the store (err says why, NULL: none
 * is installed). Recorded in s for a report, counted, and answered as
 * the policy's state_error says: 0 (ignore: the condition does not
 * hold) or COND_STATE (tempfail: the failure policy answers).
 */
int keep_failed(struct session *s, const char *err);

#endif
