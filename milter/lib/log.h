/*
 * log.h - the one logging module: syslog (facility mail) or stderr.
 *
 * Levels: info, warning, error, fatal (config or environment: exits 78 or
 * 1), panic (a bug: aborts). The _errno variants append strerror(errno).
 * Lines about a session start with its connection or queue id; callers
 * must pass mail data only as %s arguments, already sanitised.
 */
#ifndef RCM_LOG_H
#define RCM_LOG_H

#include <stdbool.h>

#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Log to stderr (foreground) or to syslog under ident. */
void log_open(const char *ident, bool to_stderr);

void log_info(const char *fmt, ...) PRINTF(1, 2);
void log_warning(const char *fmt, ...) PRINTF(1, 2);
void log_error(const char *fmt, ...) PRINTF(1, 2);
void log_error_errno(const char *fmt, ...) PRINTF(1, 2);
void log_fatal(int status, const char *fmt, ...) PRINTF(2, 3)
	__attribute__((noreturn));
void log_panic(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

#endif
