/*
 * mtclient.c - the MTA side of the Sendmail milter protocol (version 6),
 * driven by a script, for protocol tests and load runs.
 *
 * It speaks to a running milter the way Postfix's milter8 client does and
 * prints every reply the milter sends, reply text included, one line per
 * reply, so that tests can compare exact lines.  With -n and -j it repeats
 * the script over many connections and prints a summary (load driver).
 * The script language is described in tests/proto/README.md and in usage().
 *
 * It must never link libmilter (it is the other side of the protocol),
 * never trust the milter: every length is checked, every reply is capped,
 * and never decide what the MTA would do after a verdict: after a reject
 * the script goes on, the test decides what that means.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libmilter/mfdef.h> /* protocol constants only: no libmilter */

#include "lib/script.h" /* the script language, shared with --simulate */

#define MAX_REPLY    (1024 * 1024)	/* cap on one reply's data */
#define MAX_SESSIONS 1000000000L
#define MAX_PARALLEL 1024
#define MAX_SCRIPTS  4096	   /* load mode: script files, used in turn */
#define MAX_ERRSHOWN 10	   /* load mode: errors shown on stderr */
#define MAX_LATENCIES 100000000L /* -l: sessions whose time is kept */
#define DEF_TIMEOUT  10.0  /* seconds */
#define FLUSH_AT     65536 /* send when this much is queued */

/* Macro list stages in the SMFIC_OPTNEG reply (Postfix calls them SMFIM_). */
static const char *const symlist_stage[] = {
    "connect", "helo", "mail", "rcpt", "data", "eom", "eoh",
};

/* What Postfix 3.7 offers with milter_protocol = 6. */
#define OFFER_VERSION 6UL
#define OFFER_ACTIONS SMFI_CURR_ACTS
#define OFFER_PROTOCOL                                                         \
	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT |        \
	 SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN |         \
	 SMFIP_NODATA | SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_NR_CONN |          \
	 SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA |       \
	 SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |         \
	 SMFIP_HDR_LEADSPC)


/* Per event: its name, command letter, and the flags that turn it off. */
static const struct evinfo {
	const char *name;
	char cmd;
	unsigned long nosend;  /* SMFIP_NO*: milter does not want it */
	unsigned long noreply; /* SMFIP_NR_*: milter will not answer */
} evtab[SCRIPT_EV_COUNT] = {
    [SCRIPT_NONE] = {"", 0, 0, 0},
    [SCRIPT_NEGOTIATE] = {"negotiate", SMFIC_OPTNEG, 0, 0},
    [SCRIPT_CONNECT] = {"connect", SMFIC_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN},
    [SCRIPT_HELO] = {"helo", SMFIC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO},
    [SCRIPT_MAIL] = {"mail", SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL},
    [SCRIPT_RCPT] = {"rcpt", SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT},
    [SCRIPT_DATA] = {"data", SMFIC_DATA, SMFIP_NODATA, SMFIP_NR_DATA},
    [SCRIPT_HEADER] = {"header", SMFIC_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR},
    [SCRIPT_EOH] = {"eoh", SMFIC_EOH, SMFIP_NOEOH, SMFIP_NR_EOH},
    [SCRIPT_BODY] = {"body", SMFIC_BODY, SMFIP_NOBODY, SMFIP_NR_BODY},
    [SCRIPT_EOM] = {"eom", SMFIC_BODYEOB, 0, 0},
    [SCRIPT_ABORT] = {"abort", SMFIC_ABORT, 0, 0},
    [SCRIPT_QUIT] = {"quit", SMFIC_QUIT, 0, 0},
    [SCRIPT_UNKNOWN] = {"unknown", SMFIC_UNKNOWN, SMFIP_NOUNKNOWN, SMFIP_NR_UNKN},
};

/* A growable byte buffer; owns p.  len never exceeds cap. */
struct buf {
	unsigned char *p;
	size_t len;
	size_t cap;
};

/* One script command, its packets built once at parse time. */
struct cmd {
	enum script_ev ev;
	int line;
	struct buf pkt;	   /* the event's packet; body: the raw text */
	struct buf macros; /* SMFIC_MACRO packet to send first, or empty */
	unsigned long version, actions, protocol; /* negotiate */
};

/* A script's commands as packets; owns cmds.  Read-only once built
 * (shared by threads). */
struct plan {
	struct cmd *cmds;
	size_t n;
};

/* Where the milter listens, resolved once. */
struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	char name[512];
};

enum errkind { E_NONE, E_CLOSED, E_TIMEOUT, E_PROTO, E_SYS, E_CONNECT };

/* One connection to the milter and everything one session needs. */
struct session {
	int fd;
	int timeout_ms;
	struct buf in; /* bytes received, not yet parsed */
	size_t in_off;
	struct buf out;	 /* packets queued, not yet sent */
	struct buf text; /* output lines not yet printed */
	int quiet;
	int stream; /* print after every command */
	int oom;    /* text could not grow: session fails */
	unsigned long version, actions, protocol; /* negotiated */
	enum script_ev skip; /* milter replied skip to this event */
	enum script_ev cur;  /* event being run, for error lines */
	int quit_sent;
	enum errkind ekind;
	char err[512];
};

static void usage(void)
{
	fputs("usage: mtclient -s SOCKET [-T seconds] [-n repeat] [-j "
	      "parallel] [-q] [-l]\n"
	      "                [script-file|- [script-file...]]\n"
	      "  SOCKET: unix:/path, local:/path, /path, inet:PORT@HOST, "
	      "inet6:PORT@HOST\n"
	      "  -T  timeout for each read, write and connect (default 10)\n"
	      "  -n  run the script this many times, each on a new connection\n"
	      "  -j  over this many connections at once; with -n or -j a "
	      "summary\n"
	      "      line sessions=N ok=N failed=N elapsed=Xs is printed;\n"
	      "      with several script files, session K (from 0) runs file\n"
	      "      K modulo their number\n"
	      "  -q  do not print the replies\n"
	      "  -l  load mode: also print a line latency p50=Xms p99=Xms\n"
	      "      max=Xms (wall time of each successful session)\n"
	      "script commands, one a line (# starts a comment):\n"
	      "  negotiate [version=N] [actions=HEX] [protocol=HEX]\n"
	      "  macro STAGE name=value ...   (STAGE: connect helo mail rcpt "
	      "data\n"
	      "                                header eoh body eom unknown)\n"
	      "  connect HOST ADDRESS [PORT]  (ADDRESS - for unknown, /path "
	      "for local)\n"
	      "  helo NAME | mail ADDR [ARGS...] | rcpt ADDR [ARGS...] | data\n"
	      "  header NAME VALUE | eoh | body TEXT | eom | abort | quit\n"
	      "  unknown TEXT\n"
	      "arguments: bare words, or \"quoted\" with \\r \\n \\t \\\\ \\\" "
	      "\\xNN;\n"
	      "  \"text\"*N repeats the quoted text N times\n",
	      stderr);
}

/* ---- buffers ---- */

static int buf_reserve(struct buf *b, size_t more)
{
	size_t ncap;
	unsigned char *np;

	if (more > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + more <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + more)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = ncap;
	return 0;
}

static int buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int buf_addc(struct buf *b, unsigned char c)
{
	return buf_add(b, &c, 1);
}

static int buf_add32(struct buf *b, unsigned long v)
{
	unsigned char x[4];

	x[0] = (v >> 24) & 0xff;
	x[1] = (v >> 16) & 0xff;
	x[2] = (v >> 8) & 0xff;
	x[3] = v & 0xff;
	return buf_add(b, x, 4);
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static unsigned long get32(const unsigned char *p)
{
	return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) |
	       ((unsigned long)p[2] << 8) | p[3];
}

/* Start a packet: room for the length, then the command letter. */
static int pkt_begin(struct buf *b, char cmd, size_t *start)
{
	*start = b->len;
	if (buf_add32(b, 0) < 0 || buf_addc(b, (unsigned char)cmd) < 0)
		return -1;
	return 0;
}

/* Fill in the length of the packet begun at start. */
static int pkt_end(struct buf *b, size_t start)
{
	size_t n = b->len - start - 4;

	if (n > UINT32_MAX)
		return -1;
	b->p[start] = (n >> 24) & 0xff;
	b->p[start + 1] = (n >> 16) & 0xff;
	b->p[start + 2] = (n >> 8) & 0xff;
	b->p[start + 3] = n & 0xff;
	return 0;
}

/* A string on the wire: its bytes and a NUL. */
static int pkt_str(struct buf *b, const char *p, size_t n)
{
	if (buf_add(b, p, n) < 0 || buf_addc(b, 0) < 0)
		return -1;
	return 0;
}

/* ---- packets from the parsed script (milter/lib/script.h) ---- */

/* A macro list's pairs on the wire: name NUL value NUL ... */
static int macro_pkt(struct buf *b, enum script_ev e,
		     const struct script_cmd *sc)
{
	size_t start;
	int r = 0;

	r |= pkt_begin(b, SMFIC_MACRO, &start);
	r |= buf_addc(b, (unsigned char)evtab[e].cmd);
	for (size_t i = 0; i < sc->nmacros; i++) {
		r |= pkt_str(b, sc->macro[i].name.p, sc->macro[i].name.len);
		r |= pkt_str(b, sc->macro[i].value.p, sc->macro[i].value.len);
	}
	r |= pkt_end(b, start);
	return r ? -1 : 0;
}

/* Build one command's packets, once, before anything is sent. */
static int build_cmd(struct cmd *c, const struct script_cmd *sc)
{
	const struct script_arg *a = sc->arg;
	struct buf *b = &c->pkt;
	size_t i, start;
	int r = 0;

	memset(c, 0, sizeof(*c));
	c->ev = sc->ev;
	c->line = sc->line;
	if (sc->nmacros > 0 && macro_pkt(&c->macros, sc->ev, sc) < 0)
		return -1;
	switch (sc->ev) {
	case SCRIPT_NEGOTIATE:
		c->version = sc->neg_set & SCRIPT_NEG_VERSION ? sc->version
							      : OFFER_VERSION;
		c->actions = sc->neg_set & SCRIPT_NEG_ACTIONS ? sc->actions
							      : OFFER_ACTIONS;
		c->protocol = sc->neg_set & SCRIPT_NEG_PROTOCOL
				  ? sc->protocol
				  : OFFER_PROTOCOL;
		r |= pkt_begin(b, SMFIC_OPTNEG, &start);
		r |= buf_add32(b, c->version);
		r |= buf_add32(b, c->actions);
		r |= buf_add32(b, c->protocol);
		r |= pkt_end(b, start);
		break;
	case SCRIPT_CONNECT: {
		char fam;

		if (strcmp(a[1].p, "-") == 0)
			fam = SMFIA_UNKNOWN;
		else if (a[1].p[0] == '/')
			fam = SMFIA_UNIX;
		else if (memchr(a[1].p, ':', a[1].len) != NULL)
			fam = SMFIA_INET6;
		else
			fam = SMFIA_INET;
		r |= pkt_begin(b, SMFIC_CONNECT, &start);
		r |= pkt_str(b, a[0].p, a[0].len);
		r |= buf_addc(b, (unsigned char)fam);
		if (fam != SMFIA_UNKNOWN) {
			r |= buf_addc(b, (sc->port >> 8) & 0xff);
			r |= buf_addc(b, sc->port & 0xff);
			r |= pkt_str(b, a[1].p, a[1].len);
		}
		r |= pkt_end(b, start);
		break;
	}
	case SCRIPT_BODY:
		/* Kept raw: cut into chunks when sent. */
		r |= buf_add(b, a[0].p, a[0].len);
		break;
	default:
		/* helo, unknown, mail, rcpt, header: each argument a string */
		r |= pkt_begin(b, evtab[sc->ev].cmd, &start);
		for (i = 0; i < sc->nargs; i++)
			r |= pkt_str(b, a[i].p, a[i].len);
		r |= pkt_end(b, start);
		break;
	}
	return r ? -1 : 0;
}

static void plan_free(struct plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++) {
		buf_free(&pl->cmds[i].pkt);
		buf_free(&pl->cmds[i].macros);
	}
	free(pl->cmds);
	pl->cmds = NULL;
	pl->n = 0;
}

/* Every command of a parsed script as packets; 0, or -1 out of memory. */
static int plan_build(struct plan *pl, const struct script *sc)
{
	pl->cmds = calloc(sc->n ? sc->n : 1, sizeof(*pl->cmds));
	if (pl->cmds == NULL)
		return -1;
	for (pl->n = 0; pl->n < sc->n; pl->n++)
		if (build_cmd(&pl->cmds[pl->n], &sc->cmd[pl->n]) < 0) {
			pl->n++;
			return -1;
		}
	return 0;
}

/* ---- output ---- */

static void text_add(struct session *s, const char *p, size_t n)
{
	if (buf_add(&s->text, p, n) < 0)
		s->oom = 1;
}

static void text_str(struct session *s, const char *p)
{
	text_add(s, p, strlen(p));
}

static void __attribute__((format(printf, 2, 3)))
text_fmt(struct session *s, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	text_add(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Bytes from the milter: CR LF as \r \n, \ as \\, others as \xNN. */
static void text_esc(struct session *s, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char e[4];
	size_t i, run;

	for (i = 0; i < n;) {
		for (run = i; run < n && p[run] >= 0x20 && p[run] < 0x7f &&
			      p[run] != '\\';
		     run++)
			;
		if (run > i) {
			text_add(s, (const char *)p + i, run - i);
			i = run;
			continue;
		}
		if (p[i] == '\r') {
			text_add(s, "\\r", 2);
		} else if (p[i] == '\n') {
			text_add(s, "\\n", 2);
		} else if (p[i] == '\\') {
			text_add(s, "\\\\", 2);
		} else {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[p[i] >> 4];
			e[3] = hex[p[i] & 15];
			text_add(s, e, 4);
		}
		i++;
	}
}

/* Start an output line "event: ". */
static void text_event(struct session *s, enum script_ev e)
{
	text_str(s, evtab[e].name);
	text_add(s, ": ", 2);
}

/* ---- the connection ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((format(printf, 3, 4)))
fail(struct session *s, enum errkind k, const char *fmt, ...)
{
	va_list ap;

	s->ekind = k;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* Wait for the socket until the deadline; 0 ready, -1 timeout or error. */
static int wait_fd(struct session *s, short what, double deadline,
		   const char *doing)
{
	struct pollfd pfd;
	double left;
	int r;

	for (;;) {
		left = deadline - now();
		if (left <= 0) {
			fail(s, E_TIMEOUT, "timeout %s", doing);
			return -1;
		}
		pfd.fd = s->fd;
		pfd.events = what;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR) {
			fail(s, E_SYS, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

static int sock_connect(struct session *s, const struct target *tg)
{
	double deadline = now() + s->timeout_ms / 1000.0;
	int one = 1, soerr;
	socklen_t sl;

	for (;;) {
		s->fd = socket(tg->family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			fail(s, E_CONNECT, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(s->fd, (const struct sockaddr *)&tg->ss, tg->len) ==
		    0)
			break;
		if (errno == EINPROGRESS) {
			if (wait_fd(s, POLLOUT, deadline, "connecting") < 0)
				return -1;
			sl = sizeof(soerr);
			if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr,
				       &sl) < 0)
				soerr = errno;
			if (soerr == 0)
				break;
			errno = soerr;
		}
		/* A full listen queue on a unix socket: try again. */
		if (errno == EAGAIN && now() < deadline) {
			close(s->fd);
			s->fd = -1;
			usleep(1000);
			continue;
		}
		fail(s, E_CONNECT, "connect to %s: %s", tg->name,
		     strerror(errno));
		return -1;
	}
	if (tg->family != AF_UNIX)
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void sock_close(struct session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int is_closed_errno(int e)
{
	return e == EPIPE || e == ECONNRESET || e == ENOTCONN;
}

/* Send everything queued. */
static int flush_out(struct session *s)
{
	double deadline = now() + s->timeout_ms / 1000.0;
	size_t off = 0;
	ssize_t n;

	while (off < s->out.len) {
		n = send(s->fd, s->out.p + off, s->out.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(s, POLLOUT, deadline, "writing") < 0)
				return -1;
			continue;
		}
		if (n < 0 && is_closed_errno(errno))
			fail(s, E_CLOSED, "milter closed the connection");
		else
			fail(s, E_SYS, "send: %s", strerror(errno));
		return -1;
	}
	s->out.len = 0;
	return 0;
}

static int queue(struct session *s, const void *p, size_t n)
{
	if (buf_add(&s->out, p, n) < 0) {
		fail(s, E_SYS, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Read one packet from the milter: its command letter and data, which
 * stays valid until the next call.
 */
static int read_packet(struct session *s, unsigned char *cmd,
		       const unsigned char **data, size_t *len)
{
	double deadline = now() + s->timeout_ms / 1000.0;
	unsigned long plen = 0;
	size_t have, need;
	ssize_t n;

	if (s->out.len && flush_out(s) < 0)
		return -1;
	for (;;) {
		have = s->in.len - s->in_off;
		if (have >= 4) {
			plen = get32(s->in.p + s->in_off);
			if (plen < 1 || plen > MAX_REPLY + 1) {
				fail(s, E_PROTO, "bad reply length %lu", plen);
				return -1;
			}
			if (have >= 4 + plen)
				break;
		}
		/* Make room: move the unread part to the front. */
		if (s->in_off) {
			memmove(s->in.p, s->in.p + s->in_off, have);
			s->in.len = have;
			s->in_off = 0;
		}
		need = have >= 4 ? 4 + plen - have : 4 - have;
		if (need < 16384)
			need = 16384;
		if (buf_reserve(&s->in, need) < 0) {
			fail(s, E_SYS, "out of memory");
			return -1;
		}
		n = recv(s->fd, s->in.p + s->in.len, s->in.cap - s->in.len, 0);
		if (n > 0) {
			s->in.len += (size_t)n;
			continue;
		}
		if (n == 0) {
			fail(s, E_CLOSED, "milter closed the connection");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(s, POLLIN, deadline,
				    "waiting for a "
				    "reply") < 0)
				return -1;
			continue;
		}
		if (is_closed_errno(errno))
			fail(s, E_CLOSED, "milter closed the connection");
		else
			fail(s, E_SYS, "recv: %s", strerror(errno));
		return -1;
	}
	*cmd = s->in.p[s->in_off + 4];
	*data = s->in.p + s->in_off + 5;
	*len = plen - 1;
	s->in_off += 4 + plen;
	if (s->in_off == s->in.len)
		s->in.len = s->in_off = 0;
	return 0;
}

/*
 * Split data into exactly want NUL-terminated strings (want_max allows
 * optional ones at the end); returns how many, or -1.
 */
static int split_strings(const unsigned char *p, size_t len, int want_min,
			 int want_max, const unsigned char **str, size_t *slen)
{
	const unsigned char *z;
	int k = 0;

	while (len > 0) {
		if (k == want_max)
			return -1;
		z = memchr(p, 0, len);
		if (z == NULL)
			return -1;
		str[k] = p;
		slen[k] = (size_t)(z - p);
		k++;
		len -= (size_t)(z - p) + 1;
		p = z + 1;
	}
	return k >= want_min ? k : -1;
}

static const char *reply_name(unsigned char c)
{
	switch (c) {
	case SMFIR_CONTINUE:
		return "continue";
	case SMFIR_ACCEPT:
		return "accept";
	case SMFIR_REJECT:
		return "reject";
	case SMFIR_TEMPFAIL:
		return "tempfail";
	case SMFIR_DISCARD:
		return "discard";
	case SMFIR_SKIP:
		return "skip";
	case SMFIR_PROGRESS:
		return "progress";
	case SMFIR_CONN_FAIL:
		return "connfail";
	case SMFIR_SHUTDOWN:
		return "shutdown";
	default:
		return NULL;
	}
}

/*
 * Read and print the milter's replies to event e up to its final one:
 * modifications, progress and quarantine come before it.
 */
static int read_replies(struct session *s, enum script_ev e)
{
	const unsigned char *d, *str[2];
	size_t len, sl[2];
	unsigned char c;
	const char *name;
	int k;

	for (;;) {
		if (read_packet(s, &c, &d, &len) < 0)
			return -1;
		name = reply_name(c);
		if (name != NULL) {
			if (len != 0) {
				fail(s, E_PROTO, "reply %s carries %zu bytes",
				     name, len);
				return -1;
			}
			if (!s->quiet) {
				text_event(s, e);
				text_str(s, name);
				text_add(s, "\n", 1);
			}
			if (c == SMFIR_PROGRESS)
				continue;
			if (c == SMFIR_SKIP)
				s->skip = e;
			return 0;
		}
		switch (c) {
		case SMFIR_REPLYCODE:
			if (len == 0 || d[len - 1] != 0) {
				fail(s, E_PROTO,
				     "replycode without a NUL at "
				     "the end (%zu bytes)",
				     len);
				return -1;
			}
			if (!s->quiet) {
				text_event(s, e);
				text_str(s, "replycode ");
				text_esc(s, d, len - 1);
				text_add(s, "\n", 1);
			}
			return 0;
		case SMFIR_ADDHEADER:
			if (split_strings(d, len, 2, 2, str, sl) < 0)
				goto bad;
			if (!s->quiet) {
				text_event(s, e);
				text_str(s, "addheader ");
				text_esc(s, str[0], sl[0]);
				text_add(s, ": ", 2);
				text_esc(s, str[1], sl[1]);
				text_add(s, "\n", 1);
			}
			break;
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			if (len < 4 ||
			    split_strings(d + 4, len - 4, 2, 2, str, sl) < 0)
				goto bad;
			if (!s->quiet) {
				text_event(s, e);
				text_fmt(s, "%s %lu ",
					 c == SMFIR_INSHEADER ? "insheader"
							      : "chgheader",
					 get32(d));
				text_esc(s, str[0], sl[0]);
				text_add(s, ": ", 2);
				text_esc(s, str[1], sl[1]);
				text_add(s, "\n", 1);
			}
			break;
		case SMFIR_ADDRCPT:
		case SMFIR_DELRCPT:
		case SMFIR_QUARANTINE:
			if (split_strings(d, len, 1, 1, str, sl) < 0)
				goto bad;
			if (!s->quiet) {
				text_event(s, e);
				text_str(s, c == SMFIR_ADDRCPT ? "addrcpt "
					    : c == SMFIR_DELRCPT
						? "delrcpt "
						: "quarantine ");
				text_esc(s, str[0], sl[0]);
				text_add(s, "\n", 1);
			}
			break;
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_CHGFROM:
			k = split_strings(d, len, 1, 2, str, sl);
			if (k < 0)
				goto bad;
			if (!s->quiet) {
				text_event(s, e);
				text_str(s, c == SMFIR_CHGFROM
						? "chgfrom "
						: "addrcpt_par ");
				text_esc(s, str[0], sl[0]);
				if (k == 2 && sl[1]) {
					text_add(s, " ", 1);
					text_esc(s, str[1], sl[1]);
				}
				text_add(s, "\n", 1);
			}
			break;
		case SMFIR_REPLBODY:
			if (!s->quiet) {
				text_event(s, e);
				text_fmt(s, "replbody %zu\n", len);
			}
			break;
		case SMFIR_SETSYMLIST:
			if (!s->quiet) {
				text_event(s, e);
				text_str(s, "setsymlist ");
				text_esc(s, d, len);
				text_add(s, "\n", 1);
			}
			break;
		default:
			fail(s, E_PROTO,
			     "unknown reply '%c' (0x%02x) of %zu "
			     "bytes",
			     c >= 0x20 && c < 0x7f ? c : '?', c, len);
			return -1;
		}
	}
bad:
	fail(s, E_PROTO, "malformed reply '%c' of %zu bytes", c, len);
	return -1;
}

/* Negotiate: offer what the command says, print what the milter wants. */
static int negotiate(struct session *s, const struct cmd *c)
{
	const unsigned char *d, *z;
	unsigned char rc;
	size_t len;
	unsigned long stage;

	if (queue(s, c->pkt.p, c->pkt.len) < 0 ||
	    read_packet(s, &rc, &d, &len) < 0)
		return -1;
	if (rc != SMFIC_OPTNEG || len < 12) {
		fail(s, E_PROTO, "negotiation reply '%c' of %zu bytes",
		     rc >= 0x20 && rc < 0x7f ? rc : '?', len);
		return -1;
	}
	s->version = get32(d);
	s->actions = get32(d + 4);
	s->protocol = get32(d + 8);
	if (!s->quiet)
		text_fmt(s,
			 "negotiate: version %lu actions 0x%lx protocol "
			 "0x%lx\n",
			 s->version, s->actions, s->protocol);
	d += 12;
	len -= 12;
	while (len > 0) {
		if (len < 5 || (z = memchr(d + 4, 0, len - 4)) == NULL) {
			fail(s, E_PROTO,
			     "malformed macro list in "
			     "negotiation reply");
			return -1;
		}
		stage = get32(d);
		if (!s->quiet) {
			text_str(s, "negotiate: macros ");
			if (stage <
			    sizeof(symlist_stage) / sizeof(symlist_stage[0]))
				text_str(s, symlist_stage[stage]);
			else
				text_fmt(s, "stage%lu", stage);
			text_add(s, " ", 1);
			text_esc(s, d + 4, (size_t)(z - d - 4));
			text_add(s, "\n", 1);
		}
		len -= (size_t)(z + 1 - d);
		d = z + 1;
	}
	if (s->version > c->version) {
		fail(s, E_PROTO,
		     "milter protocol version %lu is newer than "
		     "offered %lu",
		     s->version, c->version);
		return -1;
	}
	if ((s->actions & c->actions) != s->actions) {
		fail(s, E_PROTO,
		     "milter asks for actions 0x%lx beyond the "
		     "offered 0x%lx",
		     s->actions, c->actions);
		return -1;
	}
	return 0;
}

static void not_sent(struct session *s, enum script_ev e, const char *why)
{
	if (s->quiet)
		return;
	text_event(s, e);
	text_fmt(s, "(not sent: milter asked %s %s)\n", why, evtab[e].name);
}

/* Send one event packet (already queued) and print its replies. */
static int event_replies(struct session *s, enum script_ev e)
{
	if (s->protocol & evtab[e].noreply) {
		if (!s->quiet) {
			text_event(s, e);
			text_str(s, "(no reply expected)\n");
		}
		if (s->out.len >= FLUSH_AT)
			return flush_out(s);
		return 0;
	}
	return read_replies(s, e);
}

static int run_body(struct session *s, const struct cmd *c)
{
	unsigned char hdr[5];
	size_t off = 0, n;

	do {
		if (s->skip == SCRIPT_BODY) {
			not_sent(s, SCRIPT_BODY, "to skip");
			return 0;
		}
		s->skip = SCRIPT_NONE;
		n = c->pkt.len - off;
		if (n > MILTER_CHUNK_SIZE)
			n = MILTER_CHUNK_SIZE;
		hdr[0] = ((n + 1) >> 24) & 0xff;
		hdr[1] = ((n + 1) >> 16) & 0xff;
		hdr[2] = ((n + 1) >> 8) & 0xff;
		hdr[3] = (n + 1) & 0xff;
		hdr[4] = SMFIC_BODY;
		if (queue(s, hdr, 5) < 0 || queue(s, c->pkt.p + off, n) < 0 ||
		    event_replies(s, SCRIPT_BODY) < 0)
			return -1;
		off += n;
	} while (off < c->pkt.len);
	return 0;
}

static int run_cmd(struct session *s, const struct cmd *c)
{
	const struct evinfo *ei = &evtab[c->ev];

	s->cur = c->ev;
	switch (c->ev) {
	case SCRIPT_NEGOTIATE:
		return negotiate(s, c);
	case SCRIPT_ABORT:
	case SCRIPT_QUIT:
		if (queue(s, c->pkt.p, c->pkt.len) < 0 || flush_out(s) < 0)
			return -1;
		if (c->ev == SCRIPT_QUIT)
			s->quit_sent = 1;
		if (!s->quiet) {
			text_event(s, c->ev);
			text_str(s, "sent\n");
		}
		return 0;
	default:
		break;
	}

	/* After a skip reply, Postfix sends no more events of that type. */
	if (s->skip != SCRIPT_NONE) {
		if (s->skip == c->ev) {
			not_sent(s, c->ev, "to skip");
			return 0;
		}
		s->skip = SCRIPT_NONE;
	}
	/* Macros go even when the event itself does not, as in Postfix. */
	if (c->macros.len && queue(s, c->macros.p, c->macros.len) < 0)
		return -1;
	if (s->protocol & ei->nosend) {
		not_sent(s, c->ev, "for no");
		return 0;
	}
	if (c->ev == SCRIPT_BODY)
		return run_body(s, c);
	if (queue(s, c->pkt.p, c->pkt.len) < 0)
		return -1;
	return event_replies(s, c->ev);
}

static void text_flush(struct session *s, FILE *fp)
{
	if (s->text.len) {
		fwrite(s->text.p, 1, s->text.len, fp);
		fflush(fp);
	}
	s->text.len = 0;
}

static const struct cmd auto_negotiate = {
    .ev = SCRIPT_NEGOTIATE,
    .version = OFFER_VERSION,
    .actions = OFFER_ACTIONS,
    .protocol = OFFER_PROTOCOL,
};

/* The auto negotiation packet, built once in main(). */
static struct buf auto_pkt;

/* Run the whole script on a new connection.  0 ok, -1 s->err says. */
static int run_session(struct session *s, const struct plan *sc,
		       const struct target *tg)
{
	struct cmd neg = auto_negotiate;
	size_t i = 0;
	int in_script = 0;

	s->ekind = E_NONE;
	s->err[0] = '\0';
	s->skip = SCRIPT_NONE;
	s->quit_sent = 0;
	s->protocol = s->actions = s->version = 0;
	s->in.len = s->in_off = s->out.len = 0;
	s->cur = SCRIPT_NEGOTIATE;
	if (sock_connect(s, tg) < 0)
		goto err;
	if (sc->n == 0 || sc->cmds[0].ev != SCRIPT_NEGOTIATE) {
		neg.pkt = auto_pkt;
		if (negotiate(s, &neg) < 0)
			goto err;
		if (s->stream)
			text_flush(s, stdout);
	}
	in_script = 1;
	for (i = 0; i < sc->n; i++) {
		if (run_cmd(s, &sc->cmds[i]) < 0)
			goto err;
		if (s->oom) {
			fail(s, E_SYS, "out of memory");
			goto err;
		}
		if (s->stream)
			text_flush(s, stdout);
	}
	in_script = 0;
	if (!s->quit_sent) {
		static const unsigned char quit[5] = {0, 0, 0, 1, SMFIC_QUIT};

		if (queue(s, quit, sizeof(quit)) < 0 || flush_out(s) < 0) {
			/* The script ran; a milter gone by now is fine. */
			s->out.len = 0;
		}
	}
	sock_close(s);
	return 0;
err:
	if (!s->quiet) {
		text_event(s, s->cur);
		switch (s->ekind) {
		case E_CLOSED:
			text_str(s, "closed\n");
			break;
		case E_TIMEOUT:
			text_str(s, "timeout\n");
			break;
		case E_PROTO:
			text_str(s, "protocol error\n");
			break;
		case E_CONNECT:
			text_str(s, "connect failed\n");
			break;
		default:
			text_str(s, "error\n");
			break;
		}
	}
	if (in_script) {
		size_t l = strlen(s->err);

		snprintf(s->err + l, sizeof(s->err) - l, " (line %d, %s)",
			 sc->cmds[i].line, evtab[s->cur].name);
	}
	sock_close(s);
	return -1;
}

/* ---- socket names ---- */

/* Parse a libmilter socket name; 0 ok, -1 with err filled. */
static int target_parse(const char *spec, struct target *tg, char *err,
			size_t errlen)
{
	const char *path = NULL, *rest, *at;
	struct addrinfo hints, *res;
	struct sockaddr_un *sun;
	char port[16], host[256];
	size_t hl;
	int r;

	memset(tg, 0, sizeof(*tg));
	snprintf(tg->name, sizeof(tg->name), "%s", spec);
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (strchr(spec, ':') == NULL)
		path = spec;
	if (path != NULL) {
		sun = (struct sockaddr_un *)&tg->ss;
		if (*path == '\0' || strlen(path) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "bad unix socket path \"%s\"",
				 path);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
		tg->len = sizeof(*sun);
		tg->family = AF_UNIX;
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	if (strncmp(spec, "inet:", 5) == 0) {
		hints.ai_family = AF_INET;
		rest = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		hints.ai_family = AF_INET6;
		rest = spec + 6;
	} else {
		snprintf(err, errlen, "unknown socket type in \"%s\"", spec);
		return -1;
	}
	at = strchr(rest, '@');
	if (at == NULL) {
		snprintf(host, sizeof(host), "%s",
			 hints.ai_family == AF_INET ? "127.0.0.1" : "::1");
		at = rest + strlen(rest);
	} else {
		const char *h = at + 1;

		hl = strlen(h);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
			h++;
			hl -= 2;
		}
		if (hl == 0 || hl >= sizeof(host)) {
			snprintf(err, errlen, "bad host in \"%s\"", spec);
			return -1;
		}
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	if (at == rest || (size_t)(at - rest) >= sizeof(port) ||
	    strspn(rest, "0123456789") != (size_t)(at - rest)) {
		snprintf(err, errlen, "bad port in \"%s\"", spec);
		return -1;
	}
	memcpy(port, rest, (size_t)(at - rest));
	port[at - rest] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	memcpy(&tg->ss, res->ai_addr, res->ai_addrlen);
	tg->len = res->ai_addrlen;
	tg->family = res->ai_family;
	freeaddrinfo(res);
	return 0;
}

/* ---- load mode ---- */

struct load {
	const struct plan *sc; /* nsc scripts, used in turn */
	long nsc;
	const struct target *tg;
	long total;
	int quiet;
	int timeout_ms;
	atomic_long next;
	atomic_long ok;
	atomic_long failed;
	atomic_int shown;
	pthread_mutex_t out_lock;
	double *lat; /* -l: seconds of session K, or -1 (failed); or NULL */
};

static void session_init(struct session *s, int timeout_ms, int quiet,
			 int stream)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->timeout_ms = timeout_ms;
	s->quiet = quiet;
	s->stream = stream;
}

static void session_free(struct session *s)
{
	sock_close(s);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->text);
}

static void *worker(void *arg)
{
	struct load *ld = arg;
	struct session s;
	long k;
	double t0;

	session_init(&s, ld->timeout_ms, ld->quiet, 0);
	for (;;) {
		k = atomic_fetch_add(&ld->next, 1);
		if (k >= ld->total)
			break;
		t0 = now();
		if (run_session(&s, &ld->sc[k % ld->nsc], ld->tg) == 0) {
			if (ld->lat != NULL)
				ld->lat[k] = now() - t0;
			atomic_fetch_add(&ld->ok, 1);
		} else {
			if (ld->lat != NULL)
				ld->lat[k] = -1;
			atomic_fetch_add(&ld->failed, 1);
			if (atomic_fetch_add(&ld->shown, 1) < MAX_ERRSHOWN) {
				pthread_mutex_lock(&ld->out_lock);
				fprintf(stderr, "mtclient: session %ld: %s\n",
					k + 1, s.err);
				pthread_mutex_unlock(&ld->out_lock);
			}
		}
		if (s.text.len) {
			pthread_mutex_lock(&ld->out_lock);
			text_flush(&s, stdout);
			pthread_mutex_unlock(&ld->out_lock);
		}
		s.oom = 0;
	}
	session_free(&s);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* -l: the percentiles of the successful sessions' times, in place (the
 * failed ones, -1, sort first and are skipped). */
static void print_latency(double *lat, long n)
{
	long first = 0, m;

	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	while (first < n && lat[first] < 0)
		first++;
	m = n - first;
	if (m == 0) {
		printf("latency none\n");
		return;
	}
	/* nearest rank: the smallest time at least P% of sessions reach */
	printf("latency p50=%.3fms p99=%.3fms max=%.3fms\n",
	       lat[first + (m * 50 + 99) / 100 - 1] * 1000,
	       lat[first + (m * 99 + 99) / 100 - 1] * 1000,
	       lat[n - 1] * 1000);
}

static int run_load(const struct plan *sc, long nsc,
		    const struct target *tg, long n, int j, int quiet,
		    int timeout_ms, int latency)
{
	struct load ld;
	pthread_t tid[MAX_PARALLEL];
	double t0;
	int i, started = 0;

	memset(&ld, 0, sizeof(ld));
	ld.sc = sc;
	ld.nsc = nsc;
	ld.tg = tg;
	ld.total = n;
	ld.quiet = quiet;
	ld.timeout_ms = timeout_ms;
	atomic_init(&ld.next, 0);
	atomic_init(&ld.ok, 0);
	atomic_init(&ld.failed, 0);
	atomic_init(&ld.shown, 0);
	if (latency && (n > MAX_LATENCIES ||
			(ld.lat = calloc((size_t)n, sizeof(*ld.lat))) == NULL)) {
		fprintf(stderr, "mtclient: -l: cannot keep %ld times\n", n);
		return 1;
	}
	pthread_mutex_init(&ld.out_lock, NULL);
	if (j > n)
		j = (int)n;
	t0 = now();
	for (i = 0; i < j; i++) {
		if (pthread_create(&tid[i], NULL, worker, &ld) != 0) {
			fprintf(stderr, "mtclient: cannot start thread %d\n",
				i + 1);
			break;
		}
		started++;
	}
	if (started == 0)
		worker(&ld);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (atomic_load(&ld.shown) > MAX_ERRSHOWN)
		fprintf(stderr,
			"mtclient: %d more failed sessions not "
			"shown\n",
			atomic_load(&ld.shown) - MAX_ERRSHOWN);
	printf("sessions=%ld ok=%ld failed=%ld elapsed=%.3fs\n", n,
	       atomic_load(&ld.ok), atomic_load(&ld.failed), now() - t0);
	if (ld.lat != NULL)
		print_latency(ld.lat, n);
	free(ld.lat);
	fflush(stdout);
	pthread_mutex_destroy(&ld.out_lock);
	return atomic_load(&ld.failed) ? 1 : 0;
}

/* ---- main ---- */

static int parse_long(const char *s, long min, long max, long *v)
{
	char *e;

	errno = 0;
	*v = strtol(s, &e, 10);
	return (*s == '\0' || *e || errno || *v < min || *v > max) ? -1 : 0;
}

/* Read one script file ("-": standard input); 0, or 2 with the error
 * printed. */
static int read_script_file(const char *file, struct plan *pl)
{
	struct script sc = {0};
	char err[512];
	int errline, rc;
	FILE *fp;

	if (strcmp(file, "-") == 0) {
		fp = stdin;
	} else if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "mtclient: %s: %s\n", file, strerror(errno));
		return 2;
	}
	rc = script_read(fp, &sc, &errline, err, sizeof(err));
	if (fp != stdin)
		fclose(fp);
	if (rc < 0) {
		if (errline)
			fprintf(stderr, "%s:%d: %s\n", file, errline, err);
		else
			fprintf(stderr, "%s: %s\n", file, err);
		script_free(&sc);
		return 2;
	}
	rc = plan_build(pl, &sc);
	script_free(&sc);
	if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", file);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	char *stdin_only[] = {"-"};
	char **files;
	struct plan *sc;
	struct target tg;
	struct session s;
	double timeout = DEF_TIMEOUT;
	long n = 1, j = 1, nsc, i;
	int quiet = 0, load = 0, latency = 0, ch, rc = 0;
	char err[512], *e;
	size_t start;

	while ((ch = getopt(argc, argv, "s:T:n:j:qlh")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'T':
			errno = 0;
			timeout = strtod(optarg, &e);
			if (*optarg == '\0' || *e || errno || !(timeout > 0) ||
			    timeout > 86400) {
				fprintf(stderr,
					"mtclient: bad timeout "
					"\"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_long(optarg, 1, MAX_SESSIONS, &n) < 0) {
				fprintf(stderr, "mtclient: bad -n \"%s\"\n",
					optarg);
				return 2;
			}
			load = 1;
			break;
		case 'j':
			if (parse_long(optarg, 1, MAX_PARALLEL, &j) < 0) {
				fprintf(stderr,
					"mtclient: bad -j \"%s\" (1 "
					"to %d)\n",
					optarg, MAX_PARALLEL);
				return 2;
			}
			load = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'l':
			latency = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	nsc = argc - optind;
	if (sock == NULL || nsc > MAX_SCRIPTS || (nsc > 1 && !load) ||
	    (latency && !load)) {
		usage();
		return 2;
	}
	files = nsc > 0 ? argv + optind : stdin_only;
	if (nsc == 0)
		nsc = 1;
	if (target_parse(sock, &tg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mtclient: %s\n", err);
		return 2;
	}
	sc = calloc((size_t)nsc, sizeof(*sc));
	if (sc == NULL) {
		fprintf(stderr, "mtclient: out of memory\n");
		return 1;
	}
	for (i = 0; i < nsc && rc == 0; i++)
		rc = read_script_file(files[i], &sc[i]);
	if (rc == 0 &&
	    (pkt_begin(&auto_pkt, SMFIC_OPTNEG, &start) < 0 ||
	     buf_add32(&auto_pkt, OFFER_VERSION) < 0 ||
	     buf_add32(&auto_pkt, OFFER_ACTIONS) < 0 ||
	     buf_add32(&auto_pkt, OFFER_PROTOCOL) < 0 ||
	     pkt_end(&auto_pkt, start) < 0)) {
		fprintf(stderr, "mtclient: out of memory\n");
		rc = 1;
	}
	signal(SIGPIPE, SIG_IGN);

	if (rc == 0 && load) {
		rc = run_load(sc, nsc, &tg, n, (int)j, quiet,
			      (int)(timeout * 1000), latency);
	} else if (rc == 0) {
		session_init(&s, (int)(timeout * 1000), quiet, 1);
		rc = run_session(&s, sc, &tg) == 0 ? 0 : 1;
		text_flush(&s, stdout);
		if (rc)
			fprintf(stderr, "mtclient: %s\n", s.err);
		session_free(&s);
	}
	for (i = 0; i < nsc; i++)
		plan_free(&sc[i]);
	free(sc);
	buf_free(&auto_pkt);
	return rc;
}
