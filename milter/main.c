/*
 * main.c - the process: command line, config check, socket, privileges,
 * signals (SIGHUP reloads, SIGTERM stops, SIGUSR1 logs counters).
 *
 * libmilter's own signal thread stops the milter on SIGHUP, SIGTERM and
 * SIGINT, and any thread waiting for a signal may be the one that gets it.
 * So this file defines sigwait(), which the dynamic linker gives libmilter
 * (its only caller) instead of the C library's: libmilter's signal thread
 * then waits forever with every signal blocked, and the main thread, in
 * sigwaitinfo(), is the only taker of the process's signals, also while it
 * is busy reloading (they stay pending until it asks again).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/codes.h"
#include "core/cond.h"
#include "core/explain.h"
#include "core/keep.h"
#include "core/stats.h"
#include "lib/dns.h"
#include "lib/log.h"
#include "milter.h"
#include "simulate.h"

#ifndef VERSION
#define VERSION "0.1"
#endif
#ifndef DEFAULT_CONFIG
#define DEFAULT_CONFIG "/etc/replycode-milter/replycode-milter.conf"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: replycode-milter [-f] [-c FILE] [-p SOCKET] [-u USER] "
		"[-P PIDFILE]\n"
		"       replycode-milter -t [-c FILE]\n"
		"       replycode-milter -n [-c FILE]\n"
		"       replycode-milter [-c FILE] --lookup LIST VALUE\n"
		"       replycode-milter --explain \"550 5.7.1\"\n"
		"       replycode-milter [-c FILE] --simulate [SCRIPT]\n"
		"       replycode-milter [-c FILE] --simulate [--client ADDR[,NAME]] "
		"[--helo NAME]\n"
		"           [--from \"ADDR [SIZE=N]\"] [--to ADDR]... "
		"[--macro NAME=VALUE]...\n"
		"           [--message FILE]\n"
		"  -c FILE     config file (default %s)\n"
		"  -p SOCKET   socket, libmilter syntax: unix:/path or "
		"inet:PORT@HOST\n"
		"  -f          stay in the foreground and log to stderr\n"
		"  -u USER     run as this user after opening the socket\n"
		"  -P PIDFILE  write the process id here\n"
		"  -n          print the effective settings, defaults filled in, "
		"each with\n"
		"              the line that sets it, and a line a rule\n"
		"  --lookup L V does V match the named list L, and by which "
		"entry; exit 0\n"
		"              it does, 1 it does not\n"
		"  -t          check the config, print findings and a summary, "
		"exit 0 or 78\n"
		"  --explain C say what a reply code pair means, who sends it, "
		"and how the\n"
		"              config check judges it at every stage\n"
		"  --simulate  replay a transaction (a .mt script, - or none: "
		"standard\n"
		"              input; or the options below) through the policy "
		"and print\n"
		"              each decision and what Postfix and Sendmail "
		"answer; exit 0\n"
		"              accept, 2 reject, 3 tempfail, 4 discard, 5 "
		"quarantine\n"
		"  --client A[,N] the client's address and name (default "
		"127.0.0.1,localhost)\n"
		"  --helo N    the HELO name\n"
		"  --from S    MAIL FROM: the address, then ESMTP "
		"parameters (SIZE=N)\n"
		"  --to A      RCPT TO (repeatable)\n"
		"  --macro N=V an MTA macro ({auth_authen}=alice; "
		"repeatable)\n"
		"  --message F an RFC 5322 message: its headers and body\n"
		"  -V          print the version\n"
		"  -h          this help\n",
		DEFAULT_CONFIG);
}

/* Print the config's findings; returns the diags' error count. */
static size_t report(const struct diags *d, bool to_log)
{
	for (size_t i = 0; i < d->count; i++) {
		if (to_log && d->item[i].note)
			continue; /* advice: -t shows it */
		if (to_log && d->item[i].error)
			log_error("%s", d->item[i].text);
		else if (to_log)
			log_warning("%s", d->item[i].text);
		else
			fprintf(stderr, "%s\n", d->item[i].text);
	}
	return d->nerrors;
}

/* Load path; set (not NULL) gets the settings read once at start. */
static struct policy *load(const char *path, bool to_log,
			   struct settings *set)
{
	struct diags d = {0};
	struct policy *p = NULL;

	if (config_load(path, &p, set, &d) != 0)
		p = NULL;
	report(&d, to_log);
	diags_free(&d);
	return p;
}

/* -n: where a value came from. */
static void source(char *buf, size_t len, int line)
{
	if (line > 0)
		snprintf(buf, len, "line %d", line);
	else
		snprintf(buf, len, "default");
}

/* -n: one line a rule: where it is, what it does, on what. */
static void print_rule(const struct rule *r)
{
	char code[32] = "", conds[1024] = "", one[200];
	size_t o = 0;

	if (verdict_sends_reply(r->verdict)) {
		code[0] = ' ';
		codes_format(&r->code, code + 1, sizeof(code) - 1);
	}
	for (size_t k = 0; k < r->ncond && o < sizeof(conds); k++) {
		cond_describe(&r->cond[k], one, sizeof(one));
		o += (size_t)snprintf(conds + o, sizeof(conds) - o, "%s%s",
				      k > 0 ? ", " : "", one);
	}
	printf("# rule \"%s\", line %d: at %s, %s%s%s, %s\n", r->name, r->line,
	       stage_name(r->stage), verdict_name(r->verdict), code,
	       r->mode == MODE_DRY_RUN ? " (dry-run)" : "",
	       r->ncond > 0 ? conds : "always");
}

/*
 * -n: the effective settings, defaults filled in, each with where it came
 * from, then a line a rule, like postconf -n. Exit 0, or 78 when the
 * config does not load (its findings on stderr).
 */
static int print_effective(const char *path)
{
	struct diags d = {0};
	struct policy *p = NULL;
	struct config_values v = {0};
	char src[32];
	bool in_on_error = false;

	if (config_load_values(path, &p, &v, &d) != 0) {
		report(&d, false);
		diags_free(&d);
		return EX_CONFIG;
	}
	diags_free(&d);
	printf("# %s: the effective settings; after each, the line that "
	       "sets it or \"default\"\n",
	       path);
	for (size_t i = 0; i < v.n; i++) {
		const char *dot = strchr(v.v[i].name, '.');
		source(src, sizeof(src), v.v[i].line);
		if (dot != NULL && !in_on_error) {
			printf("%.*s {\n", (int)(dot - v.v[i].name), v.v[i].name);
			in_on_error = true;
		}
		printf("%s%s = %s # %s\n", dot != NULL ? "\t" : "",
		       dot != NULL ? dot + 1 : v.v[i].name, v.v[i].value, src);
	}
	if (in_on_error)
		printf("}\n");
	printf("# %zu rules, in file order (at each stage the first that "
	       "decides wins)\n",
	       p->nrules);
	for (size_t i = 0; i < p->nrules; i++)
		print_rule(&p->rules[i]);
	config_values_free(&v);
	policy_free(&p);
	return 0;
}

/*
 * --lookup LIST VALUE: does VALUE match the named list, and by which
 * entry (like postmap -q). Exit 0 it matches, 1 it does not, 78 the
 * config has errors or no such list, 64 a value the list cannot hold.
 */
static int lookup_list(const char *path, const char *list, const char *value)
{
	struct diags d = {0};
	struct config_lookup q = {0};
	int rc;

	q.list = list;
	q.value = value;
	rc = config_lookup(path, &q, &d);
	if (rc == -1) {
		report(&d, false);
		diags_free(&d);
		return EX_CONFIG;
	}
	diags_free(&d);
	if (rc == -2) {
		fprintf(stderr, "replycode-milter: %s\n", q.error);
		return q.bad_value ? EX_USAGE : EX_CONFIG;
	}
	if (!q.matched) {
		printf("%s: no entry of the %s list matches\n", list, q.type);
		return 1;
	}
	printf("%s: matches \"%s\" (%s)\n", list, q.entry, q.where);
	return 0;
}

static int check_only(const char *path)
{
	struct diags d = {0};
	struct policy *p = NULL;
	int rc = config_load(path, &p, NULL, &d);

	report(&d, false);
	if (rc == 0) {
		printf("%s: OK: %zu rules, %zu warnings, %zu notes\n", path,
		       p->nrules, d.nwarnings, d.nnotes);
		policy_free(&p);
	} else {
		printf("%s: FAILED: %zu errors, %zu warnings, %zu notes\n",
		       path, d.nerrors, d.nwarnings, d.nnotes);
	}
	diags_free(&d);
	return rc == 0 ? 0 : EX_CONFIG;
}

/* Who the milter runs as after start-up; uid -1 when it stays as it is. */
struct identity {
	uid_t uid;
	gid_t gid;
	const char *name;
};

static struct identity resolve_identity(const char *user, const char *group)
{
	struct identity id = {(uid_t)-1, (gid_t)-1, NULL};

	if (user != NULL && user[0] != '\0') {
		struct passwd *pw = getpwnam(user);
		if (pw == NULL)
			log_fatal(EX_NOUSER, "unknown user %s", user);
		id.uid = pw->pw_uid;
		id.gid = pw->pw_gid;
		id.name = user;
	}
	if (group != NULL && group[0] != '\0') {
		struct group *gr = getgrnam(group);
		if (gr == NULL)
			log_fatal(EX_NOUSER, "unknown group %s", group);
		id.gid = gr->gr_gid;
	}
	return id;
}

static void drop_privileges(const struct identity *id)
{
	if (id->name == NULL)
		return;
	if (setgid(id->gid) != 0 || initgroups(id->name, id->gid) != 0 ||
	    setuid(id->uid) != 0)
		log_fatal(EX_OSERR, "cannot become user %s: %s", id->name,
			  strerror(errno));
}

/* The socket's path, for a unix socket; NULL otherwise. */
static const char *unix_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	if (sock[0] == '/')
		return sock;
	return NULL;
}

/*
 * Why the socket could not be opened: libmilter only says that it failed.
 * For a unix socket, look at its folder and the path; for an inet socket,
 * bind the address ourselves and report the error.
 */
static void socket_why(const char *sock, char *buf, size_t buflen)
{
	const char *path = unix_path(sock);
	struct stat st;

	snprintf(buf, buflen, "libmilter gives no reason");
	if (path != NULL) {
		char dir[PATH_MAX];
		const char *slash = strrchr(path, '/');
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == NULL	 ? 1
			 : slash == path ? 1
					 : (int)(slash - path),
			 slash == NULL ? "." : path);
		if (stat(dir, &st) != 0)
			snprintf(buf, buflen, "folder %.300s: %s", dir,
				 strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			snprintf(buf, buflen, "%.300s is not a folder", dir);
		else if (access(dir, W_OK | X_OK) != 0)
			snprintf(buf, buflen,
				 "no permission to create a socket in %.300s: %s",
				 dir, strerror(errno));
		else if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			snprintf(buf, buflen,
				 "%s exists and is not a socket: remove it or "
				 "choose another path",
				 path);
		else if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			snprintf(buf, buflen, "the path is longer than %zu "
					      "octets",
				 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		else
			snprintf(buf, buflen,
				 "another milter may be listening on %s", path);
	} else if (strncmp(sock, "inet:", 5) == 0 ||
		   strncmp(sock, "inet6:", 6) == 0) {
		char port[16], host[256] = "";
		const char *p = strchr(sock, ':') + 1, *at = strchr(p, '@');
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
					 .ai_flags = AI_PASSIVE},
				*ai;
		size_t n = at != NULL ? (size_t)(at - p) : strlen(p);
		int fd, rc, one = 1;
		if (n >= sizeof(port))
			return;
		memcpy(port, p, n);
		port[n] = '\0';
		if (at != NULL)
			snprintf(host, sizeof(host), "%s", at + 1);
		hints.ai_family = sock[4] == '6' ? AF_INET6 : AF_INET;
		rc = getaddrinfo(at != NULL ? host : NULL, port, &hints, &ai);
		if (rc != 0) {
			snprintf(buf, buflen, "address %s port %s: %s",
				 at != NULL ? host : "*", port,
				 gai_strerror(rc));
			return;
		}
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd < 0) {
			snprintf(buf, buflen, "socket: %s", strerror(errno));
		} else {
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
					 sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
				snprintf(buf, buflen, "bind to %s port %s: %s",
					 at != NULL ? host : "*", port,
					 strerror(errno));
			close(fd);
		}
		freeaddrinfo(ai);
	}
}

/* Does a process listen on the unix socket at path? libmilter would
 * remove the socket and take it over silently. */
static bool unix_socket_in_use(const char *path)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct stat st;
	bool used = false;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    strlen(path) >= sizeof(un.sun_path))
		return false;
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		used = connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0;
		close(fd);
	}
	return used;
}

/*
 * Write the pid file as root without following a link planted there, and
 * only ever into a regular file (opened read-write and without blocking, so
 * that a FIFO or a device opens, and is then refused by its type).
 */
static void write_pidfile(const char *pidfile)
{
	int fd = open(pidfile, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
				   O_NONBLOCK,
		      0644);
	struct stat st;
	char line[32];
	int n;

	if (fd < 0)
		log_fatal(EX_CANTCREAT, "pidfile %s: %s%s", pidfile,
			  strerror(errno),
			  errno == ELOOP ? " (a symbolic link: refused)" : "");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		log_fatal(EX_CANTCREAT,
			  "pidfile %s: not a regular file: refused", pidfile);
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, line, (size_t)n) != n)
		log_fatal(EX_IOERR, "pidfile %s: %s", pidfile,
			  strerror(errno));
	close(fd);
}

/*
 * Each MTA connection takes a file descriptor: raise the soft limit to the
 * hard one, and say so when even that is low (libmilter's accept loop
 * spins when it runs out).
 */
#define FD_LOW 1024

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rl.rlim_cur = was;
			log_warning("cannot raise the limit of open files "
				    "from %llu: %s",
				    (unsigned long long)was, strerror(errno));
		}
	}
	if (rl.rlim_cur < FD_LOW)
		log_warning("only %llu open files allowed (ulimit -n): about "
			    "that many MTA connections at once at most; raise "
			    "it (LimitNOFILE= in systemd) to %d or more",
			    (unsigned long long)rl.rlim_cur, FD_LOW);
}

/*
 * libmilter starts a thread per MTA connection with the default
 * attributes. glibc's default stack is RLIMIT_STACK (8 MiB), and glibc
 * keeps only 40 MiB of ended threads' stacks for reuse: with more than
 * four connections at once, nearly every connection maps and unmaps a
 * stack of its own (strace -f -k: mmap 8392704 from mi_start_session).
 * The deepest path of a session thread (render_rule, the logging, PCRE2's
 * interpreter frames; gcc -fstack-usage) needs well under 256 KiB, so the
 * default for new threads becomes THREAD_STACK (never more than it was):
 * 80 ended connections' stacks are then reused. Sanitizers need more.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define THREAD_STACK (8u * 1024 * 1024)
#else
#define THREAD_STACK (512u * 1024)
#endif

static void set_thread_stack(void)
{
	pthread_attr_t attr;
	size_t was;

	if (pthread_getattr_default_np(&attr) != 0)
		return;
	if (pthread_attr_getstacksize(&attr, &was) == 0 && was > THREAD_STACK &&
	    pthread_attr_setstacksize(&attr, THREAD_STACK) == 0)
		pthread_setattr_default_np(&attr);
	pthread_attr_destroy(&attr);
}

static bool milter_done; /* atomic */

/* libmilter's signal thread parks here for good: see the top of the file. */
int sigwait(const sigset_t *set, int *sig)
{
	(void)set;
	(void)sig;
	for (;;)
		pause();
}

static void *run_milter(void *arg)
{
	int *rc = arg;

	*rc = milter_run();
	__atomic_store_n(&milter_done, true, __ATOMIC_RELEASE);
	/* Wake the main thread, which waits for signals. */
	kill(getpid(), SIGTERM);
	return NULL;
}

/*
 * libmilter's listener looks at smfi_stop() only between connections or
 * every 5 s: one connection of our own wakes it at once. Best effort.
 */
static void wake_listener(const char *sock)
{
	const char *path = unix_path(sock);
	int fd = -1;

	if (path != NULL) {
		struct sockaddr_un un = {.sun_family = AF_UNIX};
		if (strlen(path) >= sizeof(un.sun_path))
			return;
		strcpy(un.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0) /* refused: it has closed and is stopping */
			(void)!connect(fd, (struct sockaddr *)&un, sizeof(un));
	} else if (strncmp(sock, "inet:", 5) == 0 ||
		   strncmp(sock, "inet6:", 6) == 0) {
		char port[16], host[256] = "";
		const char *p = strchr(sock, ':') + 1, *at = strchr(p, '@');
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
		size_t n = at != NULL ? (size_t)(at - p) : strlen(p);
		if (n >= sizeof(port))
			return;
		memcpy(port, p, n);
		port[n] = '\0';
		snprintf(host, sizeof(host), "%s",
			 at != NULL ? at + 1 : "127.0.0.1");
		if (getaddrinfo(host, port, &hints, &ai) != 0)
			return;
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd >= 0) /* refused: it has closed and is stopping */
			(void)!connect(fd, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
	}
	if (fd >= 0)
		close(fd);
}

static bool stopping;
static bool asked_to_stop; /* a signal, not the milter loop, ended it */

/* milter_stop() sets the stop flag, then waits for the listener's lock. */
static void *stop_milter(void *arg)
{
	(void)arg;
	milter_stop();
	return NULL;
}

static void log_line(void *arg, const char *text)
{
	(void)arg;
	log_info("%s", text);
}

/* SIGUSR1 and exit: every rule's hits, then the hits per reply code. */
static void log_counters(void)
{
	const struct policy *p = policy_current();

	if (p != NULL)
		stats_report(p, log_line, NULL);
	policy_unref(&p);
}

/*
 * The settings the milter started with, as its config file gave them, and
 * the command line options that override some of them: a reload cannot
 * change any of these (config/settings.h).
 */
static struct settings started;
static const char *sock_opt, *user_opt, *pidfile_opt;

/* The command line option that overrides setting name, when given. */
static const char *overridden_by(const char *name)
{
	if (strcmp(name, "socket") == 0 && sock_opt != NULL)
		return "-p";
	if (strcmp(name, "user") == 0 && user_opt != NULL)
		return "-u";
	if (strcmp(name, "pidfile") == 0 && pidfile_opt != NULL)
		return "-P";
	return NULL;
}

/* Say which settings a reload's file changes: they wait for a restart. */
static void report_settings(const char *path, const struct settings *now)
{
	struct setting_change c[SETTINGS_COUNT];
	size_t n = settings_diff(&started, now, c);

	for (size_t i = 0; i < n; i++) {
		const char *opt = overridden_by(c[i].name);
		if (opt != NULL)
			log_warning("reload: %s changed from \"%s\" to \"%s\" "
				    "in %s, but the command line's %s sets it: "
				    "no effect",
				    c[i].name, c[i].from, c[i].to, path, opt);
		else
			log_warning("reload: %s changed from \"%s\" to \"%s\" "
				    "in %s: it takes effect at the next start; "
				    "until then the milter keeps \"%s\"",
				    c[i].name, c[i].from, c[i].to, path,
				    c[i].from);
	}
}

static time_t monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * Write the counters to stats_file for node_exporter's textfile
 * collector: into a new file beside it, then renamed over it, so that a
 * reader never sees half a file; mode 0644 whatever the umask, since
 * node_exporter reads it as a user of its own. A failure is logged when
 * it starts and when it ends, not every interval.
 */
static void write_stats(const char *file)
{
	static int failing; /* the errno of the last failure, 0: none */
	const struct policy *p = policy_current();
	char tmp[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int fd = -1, err = 0;

	if (stats_prometheus(p, &buf, &len) != 0) {
		err = ENOMEM;
	} else if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >=
		   (int)sizeof(tmp)) {
		err = ENAMETOOLONG;
	} else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
					O_CLOEXEC,
			      0644)) < 0) {
		err = errno;
	} else if (fchmod(fd, 0644) != 0) { /* readable under umask 077 */
		err = errno;
		close(fd);
		unlink(tmp);
	} else {
		size_t done = 0;
		while (done < len && err == 0) {
			ssize_t n = write(fd, buf + done, len - done);
			if (n < 0 && errno != EINTR)
				err = errno;
			else if (n > 0)
				done += (size_t)n;
		}
		if (close(fd) != 0 && err == 0)
			err = errno;
		if (err == 0 && rename(tmp, file) != 0)
			err = errno;
		if (err != 0)
			unlink(tmp);
	}
	free(buf);
	policy_unref(&p);
	if (err != 0 && err != failing)
		log_warning("cannot write stats_file %s: %s (its folder must be "
			    "writable by the milter's user); trying again every "
			    "stats_interval",
			    file, strerror(err));
	else if (err == 0 && failing != 0)
		log_info("stats_file %s written again", file);
	failing = err;
}

/*
 * Open the state store when p's rate limits or greylisting need one and
 * none is open: once, for the life of the process (a reload keeps it).
 * At start a store that cannot be opened stops the milter; at a reload
 * it is said, and those rules follow state_error until one opens.
 */
static void open_store(const struct policy *p, bool at_start)
{
	char err[500];
	struct store *st;

	if (!p->uses_store || keep_store() != NULL)
		return;
	st = store_open(started.state, started.state_timeout, err, sizeof(err));
	if (st == NULL && at_start)
		log_fatal(EX_CANTCREAT,
			  "state %s: %s (rate limits and greylisting keep "
			  "their state there: create the directory, owned by "
			  "the milter's user, or set state)",
			  started.state, err);
	if (st == NULL) {
		log_error("state %s: %s: rate limits and greylisting follow "
			  "state_error until a reload opens it",
			  started.state, err);
		return;
	}
	if (err[0] != '\0')
		log_warning("state %s: %s (tried again at each use)",
			    started.state, err);
	keep_install(st);
	log_info("state: %s store %s", store_kind(st), started.state);
}

static void reload(const char *path)
{
	struct settings set;
	struct policy *p;
	size_t nrules;

	log_info("SIGHUP: reloading %s", path);
	p = load(path, true, &set);
	if (p == NULL) {
		stats_reload(false);
		log_error("reload of %s failed: keeping the policy in force",
			  path);
		return;
	}
	stats_reload(true);
	report_settings(path, &set);
	settings_free(&set);
	open_store(p, false);
	nrules = p->nrules;
	policy_install(p);
	/* said once it is so: a test that waits for this line and connects
	 * gets the new policy */
	log_info("reloaded %s: %zu rules; new connections use it", path,
		 nrules);
	malloc_trim(0); /* give back what loading big lists used */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"explain", required_argument, NULL, 'E'},
		{"lookup", required_argument, NULL, 'L'},
		{"simulate", no_argument, NULL, 'S'},
		{"client", required_argument, NULL, 'C'},
		{"helo", required_argument, NULL, 'H'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'R'},
		{"macro", required_argument, NULL, 'M'},
		{"message", required_argument, NULL, 'G'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *sock = NULL, *user = NULL,
		   *pidfile = NULL;
	bool foreground = false, check = false, simulate = false,
	     effective = false;
	const char *lookup = NULL;
	static struct sim_options sim;
	struct policy *p;
	const char *upath;
	struct identity id;
	sigset_t set;
	pthread_t tid;
	int opt, milter_rc = 0, sig;
	time_t next_write;
	char why[512];

	while ((opt = getopt_long(argc, argv, "c:p:fu:P:tnVh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'p':
			sock = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'n':
			effective = true;
			break;
		case 'L':
			lookup = optarg;
			break;
		case 'E':
			return explain_write(stdout, optarg);
		case 'S':
			simulate = true;
			break;
		case 'C':
			sim.client = optarg;
			sim.given++;
			break;
		case 'H':
			sim.helo = optarg;
			sim.given++;
			break;
		case 'F':
			sim.from = optarg;
			sim.given++;
			break;
		case 'G':
			sim.message = optarg;
			sim.given++;
			break;
		case 'R':
		case 'M':
			if ((opt == 'R' ? sim.nto : sim.nmacro) >=
			    SIM_LIST_MAX) {
				fprintf(stderr, "at most %d of --to and of "
						"--macro\n",
					SIM_LIST_MAX);
				return EX_USAGE;
			}
			if (opt == 'R')
				sim.to[sim.nto++] = optarg;
			else
				sim.macro[sim.nmacro++] = optarg;
			sim.given++;
			break;
		case 'V':
			printf("replycode-milter %s\n", VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (simulate) {
		/* a script, or the transaction's options, not both */
		if (argc - optind > 1 || (optind < argc && sim.given > 0)) {
			usage(stderr);
			return EX_USAGE;
		}
		sim.script = optind < argc	? argv[optind]
			     : sim.given == 0 ? "-"
					      : NULL;
		int rc = simulate_run(path, &sim);
		dns_resolver_shutdown();
		return rc;
	}
	/* --lookup LIST VALUE: VALUE is the one word left */
	if (lookup != NULL && optind == argc - 1 && sim.given == 0)
		return lookup_list(path, lookup, argv[optind]);
	if (optind != argc || sim.given > 0 || lookup != NULL) {
		usage(stderr);
		return EX_USAGE;
	}
	if (check)
		return check_only(path);
	if (effective)
		return print_effective(path);

	/* Nothing the parent left open is ours to keep. */
	closefrom(STDERR_FILENO + 1);

	/* From here on the signals wait for sigwaitinfo() below: a SIGTERM
	 * while starting up stops the milter cleanly once it is up. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	log_open("replycode-milter", foreground);
	p = load(path, !foreground, &started);
	if (p == NULL)
		log_fatal(EX_CONFIG, "%s: the config has errors; not starting",
			  path);
	sock_opt = sock;
	user_opt = user;
	pidfile_opt = pidfile;
	if (sock == NULL)
		sock = started.socket;
	if (user == NULL)
		user = started.user;
	if (pidfile == NULL && started.pidfile != NULL &&
	    started.pidfile[0] != '\0')
		pidfile = started.pidfile;
	policy_install(p);
	stats_started();
	malloc_trim(0);

	/* Never root by accident: root only when named. */
	if (geteuid() == 0 && (user == NULL || user[0] == '\0'))
		log_fatal(EX_CONFIG,
			  "started as root with no user to run as: set user = "
			  "\"NAME\" in %s or give -u NAME (user = \"root\" if "
			  "you really mean it)",
			  path);
	if (geteuid() == 0 && strcmp(user, "root") == 0)
		log_warning("running as root because user = \"root\": any "
			    "flaw in the milter is a flaw with root's rights");
	raise_fd_limit();
	set_thread_stack();

	switch (milter_setup(sock, started.timeout, why, sizeof(why))) {
	case 0:
		break;
	case -1:
		log_fatal(EX_CONFIG, "%s", why);
	default:
		log_fatal(EX_SOFTWARE, "%s", why);
	}
	upath = unix_path(sock);
	id = resolve_identity(user, started.group);
	if (upath != NULL && unix_socket_in_use(upath))
		log_fatal(EX_UNAVAILABLE,
			  "cannot open socket %s: another milter is listening "
			  "on %s (stop it first)",
			  sock, upath);
	if (milter_open_socket() != 0) {
		socket_why(sock, why, sizeof(why));
		log_fatal(EX_UNAVAILABLE, "cannot open socket %s: %s", sock,
			  why);
	}
	if (upath != NULL) {
		if (started.socket_mode >= 0 &&
		    chmod(upath, (mode_t)started.socket_mode) != 0)
			log_fatal(EX_OSERR, "chmod %s: %s", upath,
				  strerror(errno));
		/* The milter's own user must be able to reach its socket
		 * (libmilter unlinks it at exit); the group is the MTA's. */
		if ((id.uid != (uid_t)-1 || id.gid != (gid_t)-1) &&
		    chown(upath, id.uid, id.gid) != 0)
			log_fatal(EX_OSERR, "chown %s: %s", upath,
				  strerror(errno));
	}
	if (!foreground && daemon(0, 0) != 0)
		log_fatal(EX_OSERR, "daemon: %s", strerror(errno));
	if (pidfile != NULL)
		write_pidfile(pidfile);
	drop_privileges(&id);
	umask(077);
	open_store(p, true);

	if (pthread_create(&tid, NULL, run_milter, &milter_rc) != 0)
		log_fatal(EX_OSERR, "cannot start the milter thread");
	log_info("started: %s, %zu rules, socket %s", path, p->nrules, sock);
	if (started.stats_file != NULL)
		write_stats(started.stats_file);

	next_write = monotonic_s() + started.stats_interval;
	while (!stopping) {
		if (started.stats_file != NULL) {
			/* every stats_interval, whatever signals come between */
			time_t now = monotonic_s();
			struct timespec wait = {0, 0};
			if (now >= next_write) {
				write_stats(started.stats_file);
				next_write = now + started.stats_interval;
			}
			wait.tv_sec = next_write - now;
			sig = sigtimedwait(&set, NULL, &wait);
		} else {
			sig = sigwaitinfo(&set, NULL);
		}
		if (sig < 0)
			continue;
		switch (sig) {
		case SIGHUP:
			reload(path);
			break;
		case SIGUSR1:
			log_counters();
			break;
		default:
			stopping = true;
			asked_to_stop = !__atomic_load_n(&milter_done,
							 __ATOMIC_ACQUIRE);
			break;
		}
	}
	if (!asked_to_stop)
		log_error("the milter loop ended by itself (socket error?)");
	log_info("stopping");
	{
		pthread_t stopper;
		bool joinable = true;
		struct timespec tick = {0, 20 * 1000 * 1000};
		if (pthread_create(&stopper, NULL, stop_milter, NULL) != 0) {
			milter_stop();
			joinable = false;
		}
		/* Wake the listener until it has seen the flag (about 5 s
		 * at most even if no wake-up gets through). */
		for (int i = 0; i < 300 && !__atomic_load_n(&milter_done,
							    __ATOMIC_ACQUIRE);
		     i++) {
			nanosleep(&tick, NULL);
			wake_listener(sock);
		}
		pthread_join(tid, NULL);
		/* milter_stop() returns once the loop it waits for is done */
		if (joinable)
			pthread_join(stopper, NULL);
	}
	log_counters();
	if (started.stats_file != NULL)
		write_stats(started.stats_file);
	policy_install(NULL);
	{
		struct store *st = keep_store();
		keep_install(NULL);
		store_close(&st);
	}
	/* the resolver's thread stopped and its context freed, now or by
	 * the last session still holding it */
	dns_resolver_shutdown();
	stats_free_all();
	if (pidfile != NULL && unlink(pidfile) != 0 && errno != ENOENT)
		log_warning("cannot remove pidfile %s: %s (its folder must be "
			    "writable by the milter's user)",
			    pidfile, strerror(errno));
	if (upath != NULL) {
		struct stat st;
		/* libmilter removes its socket at exit; make sure of it */
		if (lstat(upath, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    unlink(upath) != 0)
			log_warning("cannot remove socket %s: %s (its folder "
				    "must be writable by the milter's user)",
				    upath, strerror(errno));
	}
	settings_free(&started);
	return asked_to_stop && milter_rc == 0 ? 0 : 1;
}
