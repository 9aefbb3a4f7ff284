/*
 * config.h - read a config file with libconfuse, check it, and compile it
 * into an immutable struct policy.
 *
 * milter/config/ is the only folder that calls cfg_*: runtime code reads
 * the policy, never the config. Never logs and never exits: every problem
 * comes back as a diagnostic naming file, line and (for rules) the rule.
 * This header needs no libconfuse: the front ends include it.
 */
#ifndef RCM_CONFIG_H
#define RCM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config/settings.h"
#include "core/policy.h"

struct diag {
	bool error;	 /* the config does not load */
	bool note;	 /* neither: advice shown by -t, never an error */
	char text[640]; /* "FILE:LINE: rule NAME: error: ..." */
};
/* A diag that is neither an error nor a note is a warning (an error under
 * strict = true, and then reported as one). */

struct diags {
	size_t count, nerrors, nwarnings, nnotes;
	size_t cap;
	struct diag *item; /* owned */
};

/*
 * Load and check path. On success returns 0, *out is a policy with one
 * reference and, when set is not NULL, *set holds the settings read once
 * at start (the caller frees them with settings_free); warnings may be in
 * d. On any error returns -1, *out is NULL, *set is zeroed and d holds at
 * least one error. d must be zeroed (or reset with diags_free) by the
 * caller first.
 */
int config_load(const char *path, struct policy **out, struct settings *set,
		struct diags *d);

void diags_free(struct diags *d);

#endif
