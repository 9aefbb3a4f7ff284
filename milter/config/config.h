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

/*
 * The effective value of a global option or of on_error ("on_error.reply"),
 * as the config language writes it (strings quoted), and the line of the
 * file that set it; 0: the default, filled in.
 */
struct config_value {
	char name[40];
	char value[1200];
	int line;
};

struct config_values {
	size_t n;
	struct config_value *v; /* owned; in the order of the option table */
};

/*
 * config_load(), and when it loads, the effective value of every global
 * option and of on_error into *vals (zeroed by the caller; free it with
 * config_values_free). Returns 0, or -1 as config_load does.
 */
int config_load_values(const char *path, struct policy **out,
		       struct config_values *vals, struct diags *d);

void config_values_free(struct config_values *vals);

/*
 * Does value match the named list, and by which entry? list and value
 * are the question; the rest is the answer, set by config_lookup().
 */
struct config_lookup {
	const char *list, *value;
	bool matched;
	char type[16];	 /* the list's type: "address", "domain", ... */
	char entry[600]; /* the first entry that matches, as written */
	char where[600]; /* FILE:LINE of that entry */
	char error[400]; /* why the question has no answer */
	bool bad_value;	 /* ... because the value is not of the list's
			    kind (not: there is no such list) */
};

/*
 * Load path (as config_load(); an error there is in d and returns -1),
 * then answer q. Returns 0 (q->matched says whether it matches), -1 with
 * d holding the config's errors, or -2 with q->error (no such list, a
 * value the list's type cannot read).
 */
int config_lookup(const char *path, struct config_lookup *q,
		  struct diags *d);

#endif
