/*
 * settings.h - the settings the process reads once, at start: the socket,
 * who to run as, the socket's mode, the pid file, libmilter's timeout,
 * where and how often the counters are written for Prometheus, and the
 * state store (where, and its timeout).
 *
 * They are not policy: SIGHUP swaps the policy, but the socket is open,
 * privileges are dropped and libmilter is set up by then, so a reload
 * cannot change these. config_load() fills them alongside the policy;
 * the process keeps the ones it started with and, on a reload, reports
 * what changed with settings_diff(). Needs no libconfuse: the front ends
 * include it.
 */
#ifndef RCM_CONFIG_SETTINGS_H
#define RCM_CONFIG_SETTINGS_H

#include <stddef.h>

struct settings {
	char *socket;	 /* owned; libmilter syntax; set by every load */
	char *user;	 /* owned; NULL: do not change user */
	char *group;	 /* owned; NULL: the user's group */
	int socket_mode; /* -1: leave as the umask gives */
	char *pidfile;	 /* owned; NULL: none */
	int timeout;	 /* seconds libmilter waits for the MTA */
	char *stats_file; /* owned; NULL: none. The Prometheus text file */
	int stats_interval; /* seconds between two writes of stats_file */
	char *state;	 /* owned: where rate limits and greylisting keep
			    their state: an LMDB directory or a redis://
			    URL (lib/store.h) */
	unsigned state_timeout; /* ms a Redis connection or command may take */
};

/* Free what s owns and zero it; s may be zeroed already (not NULL). */
void settings_free(struct settings *s);

#define SETTINGS_COUNT	  10  /* the options of struct settings */
#define SETTING_VALUE_MAX 120 /* octets of a value as text, with NUL */

/* One option whose value differs, as the config writes it ("" unset). */
struct setting_change {
	const char *name; /* the option: "socket", "timeout", ... */
	char from[SETTING_VALUE_MAX], to[SETTING_VALUE_MAX];
};

/*
 * The options whose value differs from was to now, in the config file's
 * order, into out. Returns how many (0 to SETTINGS_COUNT). Values longer
 * than SETTING_VALUE_MAX - 4 octets are cut with "...".
 */
size_t settings_diff(const struct settings *was, const struct settings *now,
		     struct setting_change out[SETTINGS_COUNT]);

#endif
