/*
 * milter.h - the libmilter glue (milter.c): its callbacks feed the
 * transaction core; these functions let the process set libmilter up and
 * run it without including libmilter's headers itself.
 */
#ifndef RCM_MILTER_H
#define RCM_MILTER_H

#include <stddef.h>

/*
 * Register the callbacks and set the socket (libmilter syntax) and the
 * timeout (seconds). Returns 0; -1 when the socket or timeout is refused,
 * -2 when registering failed; err says which.
 */
int milter_setup(const char *sock, int timeout, char *err, size_t errlen);

/* Open the socket (removing a stale unix socket first). 0 or -1. */
int milter_open_socket(void);

/* Serve connections until milter_stop(); 0 when it ended cleanly. */
int milter_run(void);

/* Ask milter_run() to return (libmilter's smfi_stop()). */
void milter_stop(void);

#endif
