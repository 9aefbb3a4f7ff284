/*
 * milter.c - the only file that speaks libmilter. It keeps the facts of a
 * connection and its current message, asks the policy engine for a
 * decision at each stage, and turns it into an SMFIS_* answer.
 *
 * Rules it must keep (see the notes on reply codes):
 *   - a reply is set with smfi_setmlreply only right before returning the
 *     SMFIS_REJECT or SMFIS_TEMPFAIL it belongs to: libmilter keeps a reply
 *     that was set and not used and sends it with a later reject;
 *   - the message context is reset at end of message AND at abort;
 *   - any internal failure becomes the failure policy's verdict (tempfail
 *     by default), logged; never a silent accept;
 *   - mail data reaches logs only sanitised.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "lib/log.h"
#include "milter.h"

#define PENDING_HEADERS_MAX 16
#define LOG_VALUE_MAX 200

struct pending_header {
	char name[128];
	char value[1024];
};

struct effects {
	size_t nheaders;
	size_t dropped; /* headers over PENDING_HEADERS_MAX, logged */
	struct pending_header header[PENDING_HEADERS_MAX];
	bool quarantine;
	char reason[PLACEHOLDER_MAX * 2];
};

struct conn {
	struct session s;
	SMFICTX *ctx;	    /* of the callback now running */
	unsigned long id;   /* connection number, for logs */
	bool accepted;	    /* a connect/helo accept: no more rules */
	enum stage accepted_at;
	bool held;	    /* a connect/helo verdict held until RCPT */
	enum stage held_at;
	enum verdict held_verdict;
	const struct rule *held_rule;
	struct reply *held_reply; /* owned; allocated only when held */
	struct effects conn_fx; /* from connect rules: every message */
	struct effects helo_fx; /* from the last HELO's rules: every message */
	struct effects msg_fx;	/* from this message's rules */
};

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct policy *current;
static unsigned long next_conn_id;

void milter_set_policy(struct policy *p)
{
	const struct policy *old;

	pthread_mutex_lock(&policy_lock);
	old = current;
	current = p;
	pthread_mutex_unlock(&policy_lock);
	policy_unref(&old);
}

const struct policy *milter_get_policy(void)
{
	const struct policy *p;

	pthread_mutex_lock(&policy_lock);
	p = policy_ref(current);
	pthread_mutex_unlock(&policy_lock);
	return p;
}

/* --- helpers --------------------------------------------------------- */

static const char *macro_lookup(void *arg, const char *name)
{
	struct conn *c = arg;

	return c->ctx != NULL ? smfi_getsymval(c->ctx, (char *)name) : NULL;
}

/*
 * Copy an untrusted string into a bounded fact buffer; a value that does
 * not fit is marked with bit in *too_long, so that no rule matches a part.
 */
static void set_fact(char *dst, size_t dstlen, const char *src,
		     unsigned *too_long, unsigned bit)
{
	size_t n = src != NULL ? strnlen(src, dstlen) : 0;

	*too_long &= ~bit;
	if (n == dstlen) {
		*too_long |= bit;
		n = dstlen - 1;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A sanitised copy for logs. */
static const char *clean(const char *v, char *buf, size_t buflen)
{
	if (v == NULL || v[0] == '\0')
		return "-";
	reply_sanitize_value(v, strlen(v), buf, buflen, LOG_VALUE_MAX);
	return buf;
}

static void refresh_queue_id(struct conn *c)
{
	const char *qid = smfi_getsymval(c->ctx, "i");

	if (qid != NULL && qid[0] != '\0')
		snprintf(c->s.queue_id, sizeof(c->s.queue_id), "%s", qid);
}

/* "NOQUEUE" style prefix: the queue id when known, else the connection. */
static void log_prefix(const struct conn *c, char *buf, size_t buflen)
{
	if (c->s.queue_id[0] != '\0') {
		char q[80];
		snprintf(buf, buflen, "%s",
			 clean(c->s.queue_id, q, sizeof(q)));
	} else {
		snprintf(buf, buflen, "conn%lu", c->id);
	}
}

/*
 * " from_read=<...> to_read=<...>": how the rules read the addresses, for
 * each one whose normal form is not the raw value the log shows (which
 * stays as the MTA gave it, for forensics); "" when both are.
 */
static void read_as(const struct conn *c, char *out, size_t outlen)
{
	const struct addr_fact *a[2] = {&c->s.sender, &c->s.rcpt};
	static const char *const key[2] = {"from_read", "to_read"};
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < 2; i++) {
		char shown[ADDR_SHOW_MAX], v[LOG_VALUE_MAX + 4];
		int n;
		if (a[i]->state != ADDR_OK ||
		    strcmp(addr_fact_show(a[i], shown, sizeof(shown)),
			   a[i]->raw) == 0)
			continue;
		n = snprintf(out + o, outlen - o, " %s=%s", key[i],
			     clean(shown, v, sizeof(v)));
		if (n < 0 || (size_t)n >= outlen - o)
			break;
		o += (size_t)n;
	}
}

/*
 * One line per decision. The reply's text may be long: it is cut to
 * LOG_REPLY_MAX octets, and the cut is said, so that the facts after it
 * (client, sender, recipient and how the rules read them, each at most
 * LOG_VALUE_MAX) always fit the log line (log.c's LOG_MSG_MAX).
 */
#define LOG_REPLY_MAX 2400

static void log_decision(const struct conn *c, const struct rule *r,
			 enum stage st, enum verdict v, bool dry,
			 const struct reply *reply, const char *note)
{
	char pfx[96], wire[REPLY_WIRE_MAX * REPLY_MAX_LINES];
	char cn[LOG_VALUE_MAX + 4], ca[80], from[LOG_VALUE_MAX + 4],
	    to[LOG_VALUE_MAX + 4], as[2 * LOG_VALUE_MAX + 40];
	size_t n = 1;

	log_prefix(c, pfx, sizeof(pfx));
	if (reply != NULL)
		n = (size_t)reply_format_wire(reply, wire, sizeof(wire));
	else
		snprintf(wire, sizeof(wire), "-");
	if (n > LOG_REPLY_MAX) {
		char mark[64];
		int m = snprintf(mark, sizeof(mark),
				 "...[cut: %zu more octets]",
				 n - LOG_REPLY_MAX + sizeof(mark));
		memcpy(wire + LOG_REPLY_MAX - sizeof(mark), mark,
		       (size_t)m + 1);
	}
	read_as(c, as, sizeof(as));
	log_info("%s: %s%s stage=%s rule=%s verdict=%s reply=\"%s\" "
		 "client=%s[%s] from=%s to=%s%s%s",
		 pfx, dry ? "would " : "", dry ? verdict_name(v) : "decision",
		 stage_name(st), r != NULL ? r->name : "-", verdict_name(v),
		 wire, clean(c->s.client_name, cn, sizeof(cn)),
		 clean(c->s.client_addr, ca, sizeof(ca)),
		 clean(c->s.sender.raw, from, sizeof(from)),
		 clean(c->s.rcpt.raw, to, sizeof(to)), as,
		 note != NULL ? note : "");
}

static void queue_header(struct conn *c, struct effects *fx,
			 const struct rule *r, size_t i)
{
	struct pending_header *h;

	if (fx->nheaders >= PENDING_HEADERS_MAX) {
		fx->dropped++;
		return;
	}
	h = &fx->header[fx->nheaders++];
	snprintf(h->name, sizeof(h->name), "%s", r->hdr_name[i]);
	policy_expand(r->hdr_value[i], r, &c->s, h->value, sizeof(h->value));
}

/* The engine reports each matching rule here: side effects and logs. */
static void on_match(void *arg, const struct match_event *ev,
		     struct session *s)
{
	struct conn *c = arg;
	const struct rule *r = ev->rule;
	struct effects *fx = ev->stage == STAGE_CONNECT ? &c->conn_fx
			     : ev->stage == STAGE_HELO	  ? &c->helo_fx
							  : &c->msg_fx;
	(void)s;

	if (ev->dry_run || r->verdict == VERDICT_CONTINUE)
		log_decision(c, r, ev->stage, r->verdict, ev->dry_run,
			     ev->reply, NULL);
	if (r->log != NULL) {
		char line[1024], pfx[96];
		policy_expand(r->log, r, &c->s, line, sizeof(line));
		log_prefix(c, pfx, sizeof(pfx));
		log_info("%s: rule=%s %s%s", pfx, r->name,
			 ev->dry_run ? "would log: " : "", line);
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		if (ev->dry_run) {
			char pfx[96];
			log_prefix(c, pfx, sizeof(pfx));
			log_info("%s: rule=%s would add header %s", pfx,
				 r->name, r->hdr_name[i]);
			continue;
		}
		queue_header(c, fx, r, i);
	}
	if (!ev->dry_run && r->verdict == VERDICT_QUARANTINE) {
		fx->quarantine = true;
		fx->reason[0] = '\0';
		if (r->ntext > 0)
			policy_expand(r->text[0], r, &c->s, fx->reason,
				      sizeof(fx->reason));
		/* libmilter refuses an empty reason */
		if (fx->reason[strspn(fx->reason, " ")] == '\0')
			snprintf(fx->reason, sizeof(fx->reason),
				 "quarantined by rule %s", r->name);
	}
}

/* Hand a rendered reply to libmilter: all its lines, NULL-terminated. */
static int set_reply(SMFICTX *ctx, const struct reply *r)
{
	char *l[REPLY_MAX_LINES + 1] = {NULL};

	for (size_t i = 0; i < r->nlines && i < REPLY_MAX_LINES; i++)
		l[i] = (char *)r->line[i];
	return smfi_setmlreply(
		ctx, r->basic, r->enhanced, l[0], l[1], l[2], l[3], l[4], l[5],
		l[6], l[7], l[8], l[9], l[10], l[11], l[12], l[13], l[14],
		l[15], l[16], l[17], l[18], l[19], l[20], l[21], l[22], l[23],
		l[24], l[25], l[26], l[27], l[28], l[29], l[30], l[31], NULL);
}

/* Answer with a reply: set it right here, right before returning. */
static sfsistat answer(struct conn *c, enum verdict v, const struct reply *r)
{
	sfsistat rc = v == VERDICT_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;

	if (r != NULL && set_reply(c->ctx, r) != MI_SUCCESS) {
		char pfx[96];
		log_prefix(c, pfx, sizeof(pfx));
		log_error("%s: libmilter refused the reply %s %s; the MTA "
			  "sends its own text",
			  pfx, r->basic, r->enhanced);
	}
	return rc;
}

static bool has_effects(const struct conn *c)
{
	return c->msg_fx.nheaders > 0 || c->msg_fx.quarantine ||
	       c->conn_fx.nheaders > 0 || c->conn_fx.quarantine ||
	       c->helo_fx.nheaders > 0 || c->helo_fx.quarantine;
}

static sfsistat fail_closed(SMFICTX *ctx, const char *what);

/* Turn a decision into the answer for stage st. */
static sfsistat finish(struct conn *c, enum stage st, struct decision *d)
{
	const struct policy *p = c->s.policy;

	if (d->internal_error) {
		char pfx[96];
		log_prefix(c, pfx, sizeof(pfx));
		log_error("%s: stage=%s internal error: %s; failure policy "
			  "gives %s",
			  pfx, stage_name(st), d->error,
			  verdict_name(d->verdict));
		log_decision(c, NULL, st, d->verdict, false, d->reply,
			     " (internal error)");
	} else if (d->rule != NULL) {
		bool hold = st <= STAGE_HELO && p->hold_early &&
			    (d->verdict == VERDICT_REJECT ||
			     d->verdict == VERDICT_TEMPFAIL);
		log_decision(c, d->rule, st, d->verdict, false, d->reply,
			     hold ? " (held until RCPT)" : NULL);
	}

	switch (d->verdict) {
	case VERDICT_REJECT:
	case VERDICT_TEMPFAIL:
		if (st <= STAGE_HELO && p->hold_early && !d->internal_error) {
			if (c->held_reply == NULL)
				c->held_reply = malloc(sizeof(*c->held_reply));
			if (c->held_reply == NULL)
				return fail_closed(c->ctx, "out of memory while "
							   "holding a verdict");
			*c->held_reply = *d->reply;
			c->held = true;
			c->held_at = st;
			c->held_verdict = d->verdict;
			c->held_rule = d->rule;
			return SMFIS_CONTINUE;
		}
		return answer(c, d->verdict, d->reply);
	case VERDICT_ACCEPT:
		if (st <= STAGE_HELO) {
			c->accepted = true;
			c->accepted_at = st;
			return has_effects(c) ? SMFIS_CONTINUE : SMFIS_ACCEPT;
		}
		if (st == STAGE_EOM || !has_effects(c))
			return SMFIS_ACCEPT;
		/* Keep the header and quarantine of earlier rules: stop
		 * trying rules but stay for the end of the message. */
		c->s.accepted = true;
		return SMFIS_CONTINUE;
	case VERDICT_DISCARD:
		return SMFIS_DISCARD;
	case VERDICT_QUARANTINE: /* applied at end of message */
	case VERDICT_CONTINUE:
	default:
		return SMFIS_CONTINUE;
	}
}

/* The failure policy, when the glue itself fails (no memory). */
static sfsistat fail_closed(SMFICTX *ctx, const char *what)
{
	const struct policy *p = milter_get_policy();
	sfsistat rc = SMFIS_TEMPFAIL;

	log_error("internal error: %s; failing with the failure policy", what);
	if (p != NULL) {
		if (p->failure.verdict == VERDICT_ACCEPT)
			rc = SMFIS_ACCEPT;
		else if (set_reply(ctx, &p->failure.rendered) == MI_SUCCESS)
			rc = p->failure.verdict == VERDICT_REJECT
				     ? SMFIS_REJECT
				     : SMFIS_TEMPFAIL;
		policy_unref(&p);
	}
	return rc;
}

static sfsistat eval(struct conn *c, SMFICTX *ctx, enum stage st)
{
	struct decision *d;
	sfsistat rc;

	c->ctx = ctx;
	refresh_queue_id(c);
	if (c->accepted || c->s.accepted)
		return SMFIS_CONTINUE;
	/* A held verdict wins: nothing before RCPT may replace or undo it. */
	if (c->held && st < STAGE_RCPT)
		return SMFIS_CONTINUE;
	/* With no rule at this stage there is still work when later rules
	 * read its facts: body scanners, recipients seen. */
	if (c->s.policy->nstage[st] == 0 &&
	    !(st == STAGE_BODY && c->s.policy->nbody_slots > 0) &&
	    !(st == STAGE_RCPT && c->s.policy->nrcpt_slots > 0))
		return SMFIS_CONTINUE;
	d = malloc(sizeof(*d));
	if (d == NULL)
		return fail_closed(ctx, "out of memory");
	policy_eval(c->s.policy, st, &c->s, on_match, c, d);
	rc = finish(c, st, d);
	free(d);
	return rc;
}

static struct conn *conn_new(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	const struct policy *p;

	if (c != NULL)
		return c;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	p = milter_get_policy();
	if (p == NULL || session_begin(&c->s, p) != 0) {
		policy_unref(&p);
		free(c);
		return NULL;
	}
	policy_unref(&p); /* the session holds its own reference */
	c->s.macro = macro_lookup;
	c->s.macro_arg = c;
	c->ctx = ctx;
	c->id = __atomic_add_fetch(&next_conn_id, 1, __ATOMIC_RELAXED);
	smfi_setpriv(ctx, c);
	return c;
}

static void message_done(struct conn *c)
{
	session_reset_message(&c->s);
	memset(&c->msg_fx, 0, sizeof(c->msg_fx));
}

/* --- callbacks ------------------------------------------------------- */

/* Ask the MTA only for the events the current policy reads. */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3,
			     unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = conn_new(ctx);
	const struct policy *p;
	unsigned long want = 0;
	unsigned need;
	(void)f2;
	(void)f3;

	if (c == NULL)
		return SMFIS_ALL_OPTS;
	p = c->s.policy;
	need = p->need_stages; /* policy_events(), worked out at load */
	if (!(need & (1u << STAGE_HELO)))
		want |= SMFIP_NOHELO;
	if (!(need & (1u << STAGE_MAIL)))
		want |= SMFIP_NOMAIL;
	if (!(need & (1u << STAGE_RCPT)))
		want |= SMFIP_NORCPT;
	if (!(need & (1u << STAGE_DATA)))
		want |= SMFIP_NODATA;
	if (!(need & (1u << STAGE_HEADER)))
		want |= SMFIP_NOHDRS;
	if (!(need & (1u << STAGE_EOH)))
		want |= SMFIP_NOEOH;
	if (!(need & (1u << STAGE_BODY)))
		want |= SMFIP_NOBODY;
	want |= SMFIP_NOUNKNOWN;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct conn *c = conn_new(ctx);

	if (c == NULL)
		return fail_closed(ctx, "out of memory at connect");
	if (host == NULL || host[0] == '\0' || host[0] == '[')
		set_fact(c->s.client_name, sizeof(c->s.client_name),
			 "unknown", &c->s.too_long, FACT_CLIENT_NAME);
	else
		set_fact(c->s.client_name, sizeof(c->s.client_name), host,
			 &c->s.too_long, FACT_CLIENT_NAME);
	c->s.have_ip = false;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, c->s.client_addr,
			  sizeof(c->s.client_addr));
		memset(c->s.client_ip, 0, 10);
		c->s.client_ip[10] = c->s.client_ip[11] = 0xff;
		memcpy(c->s.client_ip + 12, &in->sin_addr, 4);
		c->s.have_ip = true;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, c->s.client_addr,
			  sizeof(c->s.client_addr));
		memcpy(c->s.client_ip, &in6->sin6_addr, 16);
		c->s.have_ip = true;
	}
	return eval(c, ctx, STAGE_CONNECT);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return fail_closed(ctx, "no connection context at HELO");
	set_fact(c->s.helo, sizeof(c->s.helo), helo, &c->s.too_long,
		 FACT_HELO);
	c->s.have_helo = true;
	/* A new HELO (a client may send several; Postfix repeats it after
	 * STARTTLS) replaces what the last one decided. */
	memset(&c->helo_fx, 0, sizeof(c->helo_fx));
	if (c->held && c->held_at == STAGE_HELO)
		c->held = false;
	if (c->accepted && c->accepted_at == STAGE_HELO)
		c->accepted = false;
	return eval(c, ctx, STAGE_HELO);
}

static uint64_t size_param(char **argv)
{
	for (size_t i = 1; argv != NULL && argv[0] != NULL && argv[i] != NULL;
	     i++) {
		if (strncasecmp(argv[i], "SIZE=", 5) == 0) {
			char *end;
			unsigned long long v = strtoull(argv[i] + 5, &end, 10);
			if (end != argv[i] + 5 && *end == '\0')
				return v;
		}
	}
	return 0;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return fail_closed(ctx, "no connection context at MAIL");
	message_done(c);
	addr_fact_set(&c->s.sender, argv != NULL ? argv[0] : NULL);
	c->s.size_param = size_param(argv);
	return eval(c, ctx, STAGE_MAIL);
}

/*
 * Give a held connect/HELO verdict at RCPT, rendered again for RCPT (room
 * for Sendmail's "<address>... ", $recipient filled in); the copy made
 * when it was held serves if that fails.
 */
static sfsistat answer_held(struct conn *c)
{
	struct decision *d = malloc(sizeof(*d));
	const struct reply *r = c->held_reply;
	sfsistat rc;

	refresh_queue_id(c);
	if (d != NULL && c->held_rule != NULL &&
	    policy_render(c->held_rule, STAGE_RCPT, &c->s, d) == 0)
		r = d->reply;
	log_decision(c, c->held_rule, STAGE_RCPT, c->held_verdict, false, r,
		     " (held from connect/helo)");
	rc = answer(c, c->held_verdict, r);
	free(d);
	return rc;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	struct addr_fact prev;
	sfsistat rc;

	if (c == NULL)
		return fail_closed(ctx, "no connection context at RCPT");
	c->ctx = ctx;
	prev = c->s.rcpt;
	addr_fact_set(&c->s.rcpt, argv != NULL ? argv[0] : NULL);
	if (c->held)
		return answer_held(c);
	c->s.rcpt_count++;
	rc = eval(c, ctx, STAGE_RCPT);
	if (rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL) {
		/* Later stages see the last recipient that was taken. */
		c->s.rcpt_count--;
		c->s.rcpt = prev;
	}
	return rc;
}

static sfsistat cb_data(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return fail_closed(ctx, "no connection context at DATA");
	return eval(c, ctx, STAGE_DATA);
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	sfsistat rc;

	if (c == NULL)
		return fail_closed(ctx, "no connection context at header");
	c->s.hdr_name = name;
	c->s.hdr_value = value != NULL ? value : "";
	c->s.hdr_value_len = strlen(c->s.hdr_value);
	c->s.size += (name != NULL ? strlen(name) : 0) + 2 +
		     c->s.hdr_value_len + 2;
	rc = eval(c, ctx, STAGE_HEADER);
	c->s.hdr_name = NULL;
	c->s.hdr_value = NULL;
	return rc;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return fail_closed(ctx, "no connection context at end of "
					"headers");
	c->s.size += 2;
	return eval(c, ctx, STAGE_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);
	sfsistat rc;

	if (c == NULL)
		return fail_closed(ctx, "no connection context at body");
	c->s.size += len;
	c->s.chunk = chunk;
	c->s.chunk_len = len;
	rc = eval(c, ctx, STAGE_BODY);
	c->s.chunk = NULL;
	c->s.chunk_len = 0;
	return rc;
}

/* Add the headers and quarantine that rules asked for. */
static sfsistat apply_effects(struct conn *c, const struct effects *fx)
{
	char pfx[96];

	log_prefix(c, pfx, sizeof(pfx));
	for (size_t i = 0; i < fx->nheaders; i++) {
		if (smfi_addheader(c->ctx, (char *)fx->header[i].name,
				   (char *)fx->header[i].value) != MI_SUCCESS) {
			log_error("%s: could not add header %s", pfx,
				  fx->header[i].name);
			return fail_closed(c->ctx, "smfi_addheader failed");
		}
	}
	if (fx->dropped > 0)
		log_warning("%s: %zu headers not added: at most %d a message",
			    pfx, fx->dropped, PENDING_HEADERS_MAX);
	if (fx->quarantine &&
	    smfi_quarantine(c->ctx, (char *)fx->reason) != MI_SUCCESS) {
		log_error("%s: could not quarantine the message", pfx);
		return fail_closed(c->ctx, "smfi_quarantine failed");
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	sfsistat rc;

	if (c == NULL)
		return fail_closed(ctx, "no connection context at end of "
					"message");
	/* The end of the body first: matches that needed it, for the body
	 * rules too (policy.h). */
	c->s.body_end = true;
	rc = eval(c, ctx, STAGE_BODY);
	if (rc == SMFIS_CONTINUE)
		rc = eval(c, ctx, STAGE_EOM);
	if (rc == SMFIS_CONTINUE || rc == SMFIS_ACCEPT) {
		sfsistat fx = apply_effects(c, &c->conn_fx);
		if (fx == SMFIS_CONTINUE)
			fx = apply_effects(c, &c->helo_fx);
		if (fx == SMFIS_CONTINUE)
			fx = apply_effects(c, &c->msg_fx);
		if (fx != SMFIS_CONTINUE)
			rc = fx;
	}
	message_done(c);
	return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		message_done(c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	session_end(&c->s);
	free(c->held_reply);
	free(c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "replycode-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

int milter_register(void)
{
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}

/* Log every rule's hits, then the hits summed per reply code. */
void milter_log_counters(void)
{
	const struct policy *p = milter_get_policy();
	struct {
		char code[32];
		unsigned long long hits;
	} *per = NULL;
	size_t ncodes = 0;

	if (p == NULL)
		return;
	per = calloc(p->nrules + 1, sizeof(*per));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		unsigned long long hits =
			__atomic_load_n(&r->hits, __ATOMIC_RELAXED);
		char code[32] = "-";
		size_t k;
		if (r->verdict == VERDICT_REJECT ||
		    r->verdict == VERDICT_TEMPFAIL)
			codes_format(&r->code, code, sizeof(code));
		log_info("counter: rule=%s stage=%s verdict=%s reply=%s "
			 "hits=%llu",
			 r->name, stage_name(r->stage), verdict_name(r->verdict),
			 code, hits);
		if (per == NULL || code[0] == '-' || r->mode == MODE_DRY_RUN)
			continue;
		for (k = 0; k < ncodes && strcmp(per[k].code, code) != 0; k++)
			;
		if (k == ncodes)
			snprintf(per[ncodes++].code, sizeof(per[k].code), "%s",
				 code);
		per[k].hits += hits;
	}
	for (size_t k = 0; k < ncodes; k++)
		log_info("counter: reply=\"%s\" hits=%llu", per[k].code,
			 per[k].hits);
	free(per);
	policy_unref(&p);
}
