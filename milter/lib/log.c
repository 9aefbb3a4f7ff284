/*
 * log.c - logging to syslog or stderr (see log.h).
 *
 * One line per call, written with a single write so that lines from
 * different threads never interleave. When stderr is systemd's journal
 * (JOURNAL_STREAM names it: a unit running the milter with -f), a line
 * starts with its syslog priority, "<3>", and carries no time stamp or
 * name: the journal adds both, and `journalctl -p warning` works.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static bool use_stderr = true;
static bool use_journal;
static const char *log_ident = "replycode-milter";

/* stderr is the stream JOURNAL_STREAM ("DEVICE:INODE") names. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_open(const char *ident, bool to_stderr)
{
	log_ident = ident;
	use_stderr = to_stderr;
	use_journal = to_stderr && stderr_is_journal();
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* A log line holds this much of a message; a longer one is cut, and the
 * cut is said at its end. */
#define LOG_MSG_MAX 4096

__attribute__((format(printf, 3, 0))) static void
vlog(int prio, const char *tag, const char *fmt, va_list ap, int err)
{
	char msg[LOG_MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	if (err != 0 && (size_t)n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
			      strerror(err));
	if ((size_t)n >= sizeof(msg)) {
		char mark[48];
		int m = snprintf(mark, sizeof(mark), "...[cut: %zu more octets]",
				 (size_t)n - (sizeof(msg) - 1));
		memcpy(msg + sizeof(msg) - 1 - (size_t)m, mark, (size_t)m + 1);
	}
	if (!use_stderr) {
		syslog(prio, "%s%s", tag, msg);
		return;
	}
	char line[LOG_MSG_MAX + 160];
	time_t now;
	struct tm tm;
	char ts[32];
	if (use_journal) {
		n = snprintf(line, sizeof(line), "<%d>%s%s\n", prio, tag, msg);
	} else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s %s[%ld]: %s%s\n", ts,
			     log_ident, (long)getpid(), tag, msg);
	}
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n
						      : sizeof(line) - 1;
		line[len - 1] = '\n';
		ssize_t w = write(STDERR_FILENO, line, len);
		(void)w;
	}
}

#define LOGFN(name, prio, tag, with_errno)                                  \
	void name(const char *fmt, ...)                                     \
	{                                                                   \
		int e = with_errno ? errno : 0;                             \
		va_list ap;                                                 \
		va_start(ap, fmt);                                          \
		vlog(prio, tag, fmt, ap, e);                                \
		va_end(ap);                                                 \
	}

LOGFN(log_info, LOG_INFO, "", 0)
LOGFN(log_warning, LOG_WARNING, "warning: ", 0)
LOGFN(log_error, LOG_ERR, "error: ", 0)
LOGFN(log_error_errno, LOG_ERR, "error: ", 1)

void log_fatal(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_CRIT, "panic: ", fmt, ap, 0);
	va_end(ap);
	abort();
}
