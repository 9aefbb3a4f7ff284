/*
 * milter.c - the only file that speaks libmilter: each callback hands its
 * event to the transaction core (txn.h) and turns the outcome into an
 * SMFIS_* answer and smfi_* calls; the process (main.c) sets libmilter up
 * and runs it through the functions at the end.
 *
 * Rules it must keep (see the notes on reply codes):
 *   - a reply is set with smfi_setmlreply only right before returning the
 *     SMFIS_REJECT or SMFIS_TEMPFAIL it belongs to: libmilter keeps a reply
 *     that was set and not used and sends it with a later reject;
 *   - any failure of its own becomes the failure policy's verdict, logged;
 *     never a silent accept.
 */
#include <stdio.h>

#include <libmilter/mfapi.h>

#include "lib/log.h"
#include "milter.h"
#include "core/stats.h"
#include "core/txn.h"

/* Postfix allows headers of 100 KiB; libmilter's default is 64 KiB and a
 * longer one would drop the connection. */
#define MAX_DATA_SIZE (1024 * 1024 - 1)

static const char *macro_lookup(void *arg, const char *name)
{
	return smfi_getsymval(arg, (char *)name);
}

/* The core's reports become log lines at their severity. */
static void report(void *arg, const struct txn_report *r)
{
	(void)arg;
	if (r->severity == TXN_ERROR)
		log_error("%s", r->line);
	else if (r->severity == TXN_WARNING)
		log_warning("%s", r->line);
	else
		log_info("%s", r->line);
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

/* The answer for an outcome; a reply is set right here, right before. */
static sfsistat answer(SMFICTX *ctx, const struct txn_outcome *o)
{
	switch (o->action) {
	case TXN_REJECT:
	case TXN_TEMPFAIL:
		if (o->reply != NULL && set_reply(ctx, o->reply) != MI_SUCCESS)
			log_error("libmilter refused the reply %s %s; the MTA "
				  "sends its own text",
				  o->reply->basic, o->reply->enhanced);
		return o->action == TXN_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	case TXN_ACCEPT:
		return SMFIS_ACCEPT;
	case TXN_DISCARD:
		return SMFIS_DISCARD;
	default:
		return SMFIS_CONTINUE;
	}
}

/* The failure policy, when the glue itself fails. */
static sfsistat fail_closed(SMFICTX *ctx, struct txn *t, const char *what)
{
	const struct policy *p = policy_current();
	struct txn_outcome o;

	log_error("internal error: %s; failing with the failure policy", what);
	txn_fail(t, p, &o);
	policy_unref(&p);
	return answer(ctx, &o);
}

static struct txn *conn_of(SMFICTX *ctx)
{
	struct txn *t = smfi_getpriv(ctx);
	const struct txn_io io = {macro_lookup, report, ctx};
	const struct policy *p;

	if (t != NULL)
		return t;
	p = policy_current();
	t = p != NULL ? txn_new(p, &io) : NULL;
	policy_unref(&p); /* the transaction holds its own reference */
	if (t != NULL)
		smfi_setpriv(ctx, t);
	return t;
}

/* A callback's body: find the connection's transaction, feed it the
 * event, answer (not at all where the MTA agreed not to wait). */
#define EVENT(c, st, what, call) EVENT_ON(c, smfi_getpriv(c), st, what, call)
#define EVENT_ON(ctx, found, st, what, call)                                   \
	do {                                                                   \
		struct txn *t_ = (found);                                      \
		struct txn_outcome o_;                                         \
		if (t_ == NULL)                                                \
			return fail_closed(ctx, NULL,                          \
					   "no connection context at " what);  \
		call;                                                          \
		if (txn_noreply(t_) & (1u << (st)))                            \
			return SMFIS_NOREPLY; /* always continue there */      \
		return answer(ctx, &o_);                                       \
	} while (0)

/* Ask the MTA only for the events the policy reads, and not to wait where
 * the core says it need not (txn_quiet; libmilter fakes what it lacks). */
#define STEP(st, no, nr) {STAGE_##st, no, SMFIP_NR_##nr}
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3,
			     unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	static const struct {
		enum stage st;
		unsigned long no, noreply;
	} steps[] = {
	    STEP(CONNECT, 0, CONN),	       STEP(HELO, SMFIP_NOHELO, HELO),
	    STEP(MAIL, SMFIP_NOMAIL, MAIL),    STEP(RCPT, SMFIP_NORCPT, RCPT),
	    STEP(DATA, SMFIP_NODATA, DATA),    STEP(HEADER, SMFIP_NOHDRS, HDR),
	    STEP(EOH, SMFIP_NOEOH, EOH),       STEP(BODY, SMFIP_NOBODY, BODY),
	};
	struct txn *t = conn_of(ctx);
	unsigned long want = SMFIP_NOUNKNOWN, noreply = 0;
	(void)f2, (void)f3;

	if (t == NULL)
		return SMFIS_ALL_OPTS;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		unsigned bit = 1u << steps[i].st;
		if (!(txn_events(t) & bit)) {
			want |= steps[i].no;
		} else if ((txn_quiet(t) & bit) && (f1 & steps[i].noreply)) {
			want |= steps[i].noreply;
			noreply |= bit;
		}
	}
	txn_set_noreply(t, (unsigned)noreply);
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	EVENT_ON(ctx, conn_of(ctx), STAGE_CONNECT, "connect",
		 txn_connect(t_, host, sa, &o_));
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	EVENT(ctx, STAGE_HELO, "HELO", txn_helo(t_, helo, &o_));
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	EVENT(ctx, STAGE_MAIL, "MAIL", txn_mail(t_, argv, &o_));
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	EVENT(ctx, STAGE_RCPT, "RCPT", txn_rcpt(t_, argv, &o_));
}

static sfsistat cb_data(SMFICTX *ctx)
{
	EVENT(ctx, STAGE_DATA, "DATA", txn_data(t_, &o_));
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	EVENT(ctx, STAGE_HEADER, "header", txn_header(t_, name, value, &o_));
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	EVENT(ctx, STAGE_EOH, "end of headers", txn_eoh(t_, &o_));
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	EVENT(ctx, STAGE_BODY, "body", txn_body(t_, chunk, len, &o_));
}

/* Add the headers and quarantine that rules asked for. */
static sfsistat apply_effects(SMFICTX *ctx, struct txn *t,
			      const struct txn_outcome *o)
{
	for (size_t i = 0; i < o->neffects; i++) {
		const struct txn_effect *e = o->effect[i];
		if (e->kind == TXN_ADD_HEADER &&
		    smfi_addheader(ctx, (char *)e->name, (char *)e->value) !=
			MI_SUCCESS) {
			char l[96];
			log_error("%s: could not add header %s",
				  txn_label(t, l, sizeof(l)), e->name);
			return fail_closed(ctx, t, "smfi_addheader failed");
		}
		if (e->kind == TXN_QUARANTINE &&
		    smfi_quarantine(ctx, (char *)e->value) != MI_SUCCESS) {
			char l[96];
			log_error("%s: could not quarantine the message",
				  txn_label(t, l, sizeof(l)));
			return fail_closed(ctx, t, "smfi_quarantine failed");
		}
	}
	return answer(ctx, o);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	EVENT(ctx, STAGE_EOM, "end of message", txn_eom(t_, &o_);
	      return apply_effects(ctx, t_, &o_));
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	txn_abort(smfi_getpriv(ctx)); /* NULL is fine */
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct txn *t = smfi_getpriv(ctx);

	smfi_setpriv(ctx, NULL);
	txn_free(&t);
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
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

/* --- the process's use of libmilter (main.c) -------------------------- */

int milter_setup(const char *sock, int timeout, char *err, size_t errlen)
{
	if (smfi_register(desc) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_register failed");
		return -2;
	}
	if (smfi_setconn((char *)sock) != MI_SUCCESS) {
		snprintf(err, errlen, "bad socket %s", sock);
		return -1;
	}
	smfi_setmaxdatasize(MAX_DATA_SIZE);
	if (smfi_settimeout(timeout) != MI_SUCCESS) {
		snprintf(err, errlen, "bad timeout %d", timeout);
		return -1;
	}
	return 0;
}

int milter_open_socket(void)
{
	return smfi_opensocket(true) == MI_SUCCESS ? 0 : -1;
}

int milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

void milter_stop(void)
{
	smfi_stop();
}
