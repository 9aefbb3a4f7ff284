/*
 * simulate.h - replycode-milter --simulate: the transaction core's second
 * front end. Replays one SMTP connection (a .mt script, or the options
 * below) through the same core the milter uses, with no MTA, and prints
 * stage by stage each rule that matched, its verdict and the exact reply
 * lines Postfix and Sendmail put on the wire (mta.h), then the outcome per
 * recipient.
 *
 * Never includes libmilter. Prints to stdout, problems to stderr.
 */
#ifndef RCM_SIMULATE_H
#define RCM_SIMULATE_H

#include <stddef.h>

/* Exit statuses of --simulate (besides EX_USAGE 64, EX_DATAERR 65 for a
 * script error, EX_NOINPUT 66 for a file that cannot be read, EX_CONFIG
 * 78 for a config with errors, 1 for an internal failure). */
#define SIM_EXIT_ACCEPT 0
#define SIM_EXIT_REJECT 2
#define SIM_EXIT_TEMPFAIL 3
#define SIM_EXIT_DISCARD 4
#define SIM_EXIT_QUARANTINE 5

#define SIM_LIST_MAX 1000 /* --to and --macro, each */

/* The transaction from the command line; strings are argv's. */
struct sim_options {
	const char *script;  /* a .mt file, "-" for standard input, or NULL */
	const char *client;  /* --client ADDR[,NAME] */
	const char *helo;    /* --helo NAME */
	const char *from;    /* --from "ADDR [ESMTP-ARGS]" */
	const char *message; /* --message FILE */
	size_t nto, nmacro;
	const char *to[SIM_LIST_MAX];	 /* --to ADDR */
	const char *macro[SIM_LIST_MAX]; /* --macro NAME=VALUE */
	int given;			 /* how many of the options above */
};

/*
 * Load the config at path as the milter does and replay the transaction.
 * Returns the exit status (SIM_EXIT_* or one of the errors above).
 */
int simulate_run(const char *path, const struct sim_options *o);

#endif
