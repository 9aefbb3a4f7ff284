/*
 * keep.c - the process's store of state between sessions (keep.h).
 */
#include <stdio.h>

#include "core/cond.h"
#include "core/keep.h"
#include "core/stats.h"

static struct store *installed;

void keep_install(struct store *st)
{
	__atomic_store_n(&installed, st, __ATOMIC_RELEASE);
}

struct store *keep_store(void)
{
	return __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
}

int keep_failed(struct session *s, const char *err)
{
	bool tempfail = s->policy->state_error == STATE_ERROR_TEMPFAIL;

	if (s->store_err[0] == '\0')
		snprintf(s->store_err, sizeof(s->store_err), "%s",
			 err != NULL ? err : "no state store is open");
	stats_state_error(tempfail);
	return tempfail ? COND_STATE : 0;
}
