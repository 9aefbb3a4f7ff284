/*
 * simulate.c - replycode-milter --simulate (simulate.h): one SMTP
 * connection replayed through the transaction core (txn.h) with no MTA.
 * The transaction comes from a .mt script (milter/lib/script.h, the
 * protocol tests' language) or from the command line; what the client
 * would see comes from the table of Postfix's and Sendmail's differences
 * (mta.h).
 *
 * It follows the MTA's side of the milter protocol as the milter asks for
 * it: events the policy does not need are not sent, nothing more of a
 * connection or message goes to the milter after it was refused or
 * accepted, a 421 ends the connection.
 *
 * Must never: include libmilter, change what the core decides, or print
 * mail data unmasked.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config/config.h"
#include "core/keep.h"
#include "core/mta.h"
#include "lib/script.h"
#include "simulate.h"
#include "core/txn.h"

#define SHOW_MAX 200	      /* octets of a value shown on an event line */
#define CHUNK_MAX 65535	      /* the MTAs' body chunks (MILTER_CHUNK_SIZE) */
#define MESSAGE_MAX (64 << 20) /* --message: octets read at most */

/* What became of a recipient, a message or the connection. */
enum result { R_ACCEPT, R_QUARANTINE, R_DISCARD, R_TEMPFAIL, R_REJECT,
	      R_OPEN, R_ABORTED };

static const char *const result_name[] = {
	"accept", "quarantine", "discard", "tempfail", "reject",
	"not finished", "aborted",
};

/* Exit status of each result; the session's is the worst seen. */
static const int result_exit[] = {
	SIM_EXIT_ACCEPT,  SIM_EXIT_QUARANTINE, SIM_EXIT_DISCARD,
	SIM_EXIT_TEMPFAIL, SIM_EXIT_REJECT,    SIM_EXIT_ACCEPT,
	SIM_EXIT_ACCEPT,
};

struct verdict_of {
	enum result r;
	char code[24]; /* "550 5.7.1", or "" */
};

struct rcpt {
	char *shown; /* owned, masked */
	bool pending; /* taken at RCPT: the message's outcome is its own */
	struct verdict_of v;
};

enum conn_state { C_OPEN, C_REFUSED, C_ACCEPTED, C_CLOSED };
enum msg_state { M_NONE, M_OPEN, M_REFUSED, M_ACCEPTED, M_DISCARDED,
		 M_DONE };

struct sim {
	struct txn *t;
	unsigned events; /* txn_events(): what the milter asks for */
	/* macros: the latest value of each name, pointing into the script */
	size_t nmacros, capmacros;
	const struct script_macro **macro;

	enum conn_state conn;
	struct verdict_of conn_v;
	const char *conn_why;
	enum msg_state msg;
	struct verdict_of msg_v;
	const char *msg_why;
	bool quarantined;
	size_t nrcpt, caprcpt, taken;
	struct rcpt *rcpt;
	bool any_message;

	const char *addr;   /* the MAIL or RCPT address of this event */
	bool from_hold;	    /* this event gave a held verdict */
	int worst;	    /* rank of the worst result */
	bool failed;	    /* out of memory */
	struct mta_answer ans;
};

/* --- printing -------------------------------------------------------- */

/* A value from the mail, masked and cut for an event line. */
static const char *shown(const char *v, size_t len, char *buf, size_t buflen)
{
	reply_sanitize_value(v, len, buf, buflen, SHOW_MAX);
	return buf;
}

static void result_seen(struct sim *s, enum result r)
{
	if (r <= R_REJECT && (int)r > s->worst)
		s->worst = (int)r;
}

static void set_verdict(struct verdict_of *v, enum result r,
			const struct reply *rep)
{
	v->r = r;
	v->code[0] = '\0';
	if (rep != NULL)
		snprintf(v->code, sizeof(v->code), "%s %s", rep->basic,
			 rep->enhanced);
}

static void print_wire(struct sim *s, const char *indent,
		       const struct mta_case *c)
{
	for (int m = 0; m < MTA_COUNT; m++) {
		mta_answer((enum mta)m, c, &s->ans);
		for (size_t i = 0; i < s->ans.nsay; i++) {
			const struct mta_say *say = &s->ans.say[i];
			for (size_t k = 0; k < say->nlines; k++)
				printf("%s%s %s: %s\n", indent,
				       mta_name((enum mta)m), say->when,
				       say->line[k]);
			if (say->also != NULL)
				printf("%s%s %s: the same\n", indent,
				       mta_name((enum mta)m), say->also);
		}
		if (s->ans.closes)
			printf("%s%s: closes the connection\n", indent,
			       mta_name((enum mta)m));
	}
}

/* The address the table needs at stage st. */
static const char *addr_at(const struct sim *s, enum stage st)
{
	return st == STAGE_MAIL || st == STAGE_RCPT ? s->addr : NULL;
}

static void on_report(void *arg, const struct txn_report *r)
{
	struct sim *s = arg;
	const char *name = r->rule != NULL ? r->rule->name : NULL;
	const char *v = verdict_name(r->verdict);
	char buf[SHOW_MAX + 8];

	switch (r->kind) {
	case TXN_R_DECISION:
		if (name == NULL) {
			printf("  failure policy: %s\n", v);
		} else if (r->dry_run) {
			struct mta_case c = {r->stage, false, r->verdict,
					     r->reply, addr_at(s, r->stage)};
			printf("  rule %s: would %s (dry run)\n", name, v);
			print_wire(s, "  would: ", &c);
		} else if (r->held) {
			printf("  rule %s: %s, held until RCPT\n", name, v);
		} else if (r->from_hold) {
			printf("  rule %s: %s, held from connect/HELO\n", name,
			       v);
			s->from_hold = true;
		} else {
			printf("  rule %s: %s\n", name, v);
		}
		return;
	case TXN_R_RULE_LOG:
		printf("  rule %s: %slog: %s\n", name, r->dry_run ? "would " : "",
		       shown(r->text, strlen(r->text), buf, sizeof(buf)));
		return;
	case TXN_R_WOULD_HEADER:
		printf("  rule %s: would add header %s\n", name, r->text);
		return;
	case TXN_R_INTERNAL:
		printf("  internal error: %s\n",
		       shown(r->text, strlen(r->text), buf, sizeof(buf)));
		return;
	case TXN_R_DROPPED: {
		const char *w = strstr(r->line, ": ");
		printf("  warning: %s\n", w != NULL ? w + 2 : r->line);
		return;
	}
	case TXN_R_STATE:
		printf("  warning: state store failed: %s\n",
		       shown(r->text, strlen(r->text), buf, sizeof(buf)));
		return;
	case TXN_R_EARLY: /* shown where it was decided */
		return;
	case TXN_R_DNS:
		printf("  DNS lookup failed: %s\n",
		       shown(r->text, strlen(r->text), buf, sizeof(buf)));
		return;
	}
}

static const char *macro_lookup(void *arg, const char *name)
{
	const struct sim *s = arg;
	size_t nl = strlen(name);
	bool braced = nl >= 2 && name[0] == '{' && name[nl - 1] == '}';

	/* as libmilter's smfi_getsymval: "{x}" finds "x" and back */
	for (size_t i = s->nmacros; i-- > 0;) {
		const char *m = s->macro[i]->name.p;
		size_t ml = s->macro[i]->name.len;
		bool mb = ml >= 2 && m[0] == '{' && m[ml - 1] == '}';
		if ((ml == nl && memcmp(m, name, nl) == 0) ||
		    (braced && !mb && ml == nl - 2 &&
		     memcmp(m, name + 1, ml) == 0) ||
		    (!braced && mb && nl == ml - 2 &&
		     memcmp(m + 1, name, nl) == 0))
			return s->macro[i]->value.p;
	}
	return NULL;
}

/* The macros that came with an event: the latest value of a name wins. */
static void take_macros(struct sim *s, const struct script_cmd *c)
{
	for (size_t i = 0; i < c->nmacros; i++) {
		const struct script_macro *m = &c->macro[i];
		size_t k;
		for (k = 0; k < s->nmacros; k++)
			if (s->macro[k]->name.len == m->name.len &&
			    memcmp(s->macro[k]->name.p, m->name.p,
				   m->name.len) == 0)
				break;
		if (k == s->nmacros) {
			if (s->nmacros == s->capmacros) {
				size_t n = s->capmacros ? 2 * s->capmacros : 16;
				const struct script_macro **nv =
				    realloc(s->macro, n * sizeof(*nv));
				if (nv == NULL) {
					s->failed = true;
					return;
				}
				s->macro = nv;
				s->capmacros = n;
			}
			s->nmacros++;
		}
		s->macro[k] = m;
	}
}

/* --- the transaction --------------------------------------------------- */

static bool refused(const struct txn_outcome *o)
{
	return o->action == TXN_REJECT || o->action == TXN_TEMPFAIL;
}

static enum result result_of(const struct txn_outcome *o)
{
	switch (o->action) {
	case TXN_REJECT:
		return R_REJECT;
	case TXN_TEMPFAIL:
		return R_TEMPFAIL;
	case TXN_DISCARD:
		return R_DISCARD;
	default:
		return R_ACCEPT;
	}
}

/* The wire lines of a reject or tempfail given at stage st. */
static void show_refusal(struct sim *s, enum stage st,
			 const struct txn_outcome *o)
{
	struct mta_case c = {st, s->from_hold,
			     o->action == TXN_REJECT ? VERDICT_REJECT
						     : VERDICT_TEMPFAIL,
			     o->reply, addr_at(s, st)};

	print_wire(s, "  ", &c);
	if (o->reply != NULL &&
	    (strcmp(o->reply->basic, "421") == 0 ||
	     strcmp(o->reply->basic, "521") == 0)) {
		s->conn = C_CLOSED;
		s->conn_why = "the connection was closed";
		set_verdict(&s->conn_v, result_of(o), o->reply);
	}
}

static struct rcpt *add_rcpt(struct sim *s, const char *addr, size_t len)
{
	char buf[SHOW_MAX + 8];
	struct rcpt *r;

	if (s->nrcpt == s->caprcpt) {
		size_t n = s->caprcpt ? 2 * s->caprcpt : 8;
		struct rcpt *nv = realloc(s->rcpt, n * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		s->rcpt = nv;
		s->caprcpt = n;
	}
	r = &s->rcpt[s->nrcpt];
	memset(r, 0, sizeof(*r));
	if ((r->shown = strdup(shown(addr, len, buf, sizeof(buf)))) == NULL)
		return NULL;
	s->nrcpt++;
	return r;
}

/* The message is over: one line, the outcome of each recipient. */
static void finish_message(struct sim *s)
{
	enum result mr;

	if (s->msg == M_NONE)
		return;
	switch (s->msg) {
	case M_REFUSED:
		mr = s->msg_v.r;
		break;
	case M_DISCARDED:
		mr = R_DISCARD;
		break;
	case M_DONE:
	case M_ACCEPTED:
		mr = s->quarantined ? R_QUARANTINE : R_ACCEPT;
		break;
	default:
		mr = R_OPEN;
		break;
	}
	if (s->conn == C_CLOSED && s->msg != M_DONE) {
		/* a 421 ended the transaction: what it took is lost too */
		s->msg = M_REFUSED;
		s->msg_v = s->conn_v;
		mr = s->msg_v.r;
	}
	printf("result:");
	if (s->nrcpt == 0)
		printf(" no recipient, %s%s%s", result_name[mr],
		       s->msg == M_REFUSED && s->msg_v.code[0] ? " " : "",
		       s->msg == M_REFUSED ? s->msg_v.code : "");
	for (size_t i = 0; i < s->nrcpt; i++) {
		struct rcpt *r = &s->rcpt[i];
		if (r->pending) {
			r->v.r = mr;
			r->v.code[0] = '\0';
			if (s->msg == M_REFUSED)
				r->v = s->msg_v;
		}
		printf("%s %s %s%s%s", i > 0 ? "," : "", r->shown,
		       result_name[r->v.r], r->v.code[0] ? " " : "",
		       r->v.code);
		result_seen(s, r->v.r);
		free(r->shown);
	}
	if (s->nrcpt == 0)
		result_seen(s, mr);
	printf("\n");
	s->nrcpt = 0;
	s->taken = 0;
	s->msg = M_NONE;
	s->quarantined = false;
}

/* Is the event for stage st one the milter asked for? */
static bool asked(const struct sim *s, enum stage st)
{
	return (s->events & (1u << st)) != 0;
}

static void print_event(const struct script_cmd *c)
{
	char buf[SHOW_MAX + 8];

	printf("%s:", script_ev_name(c->ev));
	switch (c->ev) {
	case SCRIPT_BODY:
		printf(" %zu octets", c->arg[0].len);
		break;
	case SCRIPT_HEADER:
		printf(" %s:", shown(c->arg[0].p, c->arg[0].len, buf,
				      sizeof(buf)));
		printf(" %s", shown(c->arg[1].p, c->arg[1].len, buf,
				     sizeof(buf)));
		break;
	default:
		for (size_t i = 0; i < c->nargs; i++)
			printf(" %s", shown(c->arg[i].p, c->arg[i].len, buf,
					     sizeof(buf)));
		break;
	}
}

/* Not sent to the milter, and why; the event line ends here. */
static void not_sent(const char *why)
{
	printf(" (not sent: %s)\n", why);
}

static void on_connect(struct sim *s, const struct script_cmd *c,
		       struct txn_outcome *o)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	const struct sockaddr *sa = NULL;

	if (inet_pton(AF_INET, c->arg[1].p, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)c->port);
		sa = (const struct sockaddr *)&ss;
	} else if (inet_pton(AF_INET6, c->arg[1].p, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)c->port);
		sa = (const struct sockaddr *)&ss;
	}
	txn_connect(s->t, c->arg[0].p, sa, o);
}

/* The whole connection was refused, accepted or closed at stage st. */
static void connection_decided(struct sim *s, enum stage st,
			       const struct txn_outcome *o)
{
	if (refused(o)) {
		show_refusal(s, st, o);
		if (s->conn == C_CLOSED)
			return;
		s->conn = C_REFUSED;
		s->conn_why = "the connection was refused";
		set_verdict(&s->conn_v, result_of(o), o->reply);
	} else if (o->action == TXN_ACCEPT) {
		s->conn = C_ACCEPTED;
		s->conn_why = "the connection was accepted";
		printf("  accept: the milter gets nothing more of this "
		       "connection\n");
	}
}

/* The message was refused, accepted or discarded at stage st. */
static void message_decided(struct sim *s, enum stage st,
			    const struct txn_outcome *o)
{
	if (refused(o)) {
		show_refusal(s, st, o);
		s->msg = M_REFUSED;
		s->msg_why = "the message was refused";
		set_verdict(&s->msg_v, result_of(o), o->reply);
	} else if (o->action == TXN_ACCEPT) {
		s->msg = M_ACCEPTED;
		s->msg_why = "the message was accepted";
		printf("  accept: the milter gets nothing more of this "
		       "message\n");
	} else if (o->action == TXN_DISCARD) {
		s->msg = M_DISCARDED;
		s->msg_why = "the message is discarded";
		printf("  discard: the client sees 250; the message is "
		       "thrown away\n");
	}
}

static void show_effects(const struct txn_outcome *o)
{
	char buf[TXN_HEADER_VALUE_MAX + 8];

	for (size_t i = 0; i < o->neffects; i++) {
		const struct txn_effect *e = o->effect[i];
		reply_sanitize_value(e->value, strlen(e->value), buf,
				     sizeof(buf), TXN_HEADER_VALUE_MAX);
		if (e->kind == TXN_ADD_HEADER)
			printf("  add header: %s: %s\n", e->name, buf);
		else
			printf("  quarantine: %s\n", buf);
	}
}

static void on_rcpt(struct sim *s, const struct script_cmd *c,
		    char *const *argv)
{
	struct txn_outcome o;
	struct rcpt *r = add_rcpt(s, c->arg[0].p, c->arg[0].len);

	if (r == NULL) {
		s->failed = true;
		printf("\n");
		return;
	}
	if (s->conn != C_OPEN || s->msg != M_OPEN) {
		const char *why = s->conn != C_OPEN ? s->conn_why : s->msg_why;
		if (s->conn == C_REFUSED || s->conn == C_CLOSED)
			r->v = s->conn_v;
		else if (s->msg == M_REFUSED)
			r->v = s->msg_v;
		else
			r->pending = true;
		not_sent(why);
		return;
	}
	if (!asked(s, STAGE_RCPT)) {
		r->pending = true;
		s->taken++;
		not_sent("the milter does not ask for it");
		return;
	}
	printf("\n");
	txn_rcpt(s->t, argv, &o);
	if (refused(&o)) {
		set_verdict(&r->v, result_of(&o), o.reply);
		show_refusal(s, STAGE_RCPT, &o);
		return;
	}
	r->pending = true;
	s->taken++;
	message_decided(s, STAGE_RCPT, &o);
}

/* Why the message's events go no further, or NULL. */
static const char *message_closed(const struct sim *s)
{
	if (s->conn != C_OPEN)
		return s->conn_why;
	if (s->msg == M_NONE)
		return "no MAIL";
	if (s->msg != M_OPEN)
		return s->msg_why;
	if (s->taken == 0)
		return "no recipient was taken";
	return NULL;
}

static enum stage stage_of(enum script_ev e)
{
	switch (e) {
	case SCRIPT_HELO:
		return STAGE_HELO;
	case SCRIPT_MAIL:
		return STAGE_MAIL;
	case SCRIPT_RCPT:
		return STAGE_RCPT;
	case SCRIPT_DATA:
		return STAGE_DATA;
	case SCRIPT_HEADER:
		return STAGE_HEADER;
	case SCRIPT_EOH:
		return STAGE_EOH;
	case SCRIPT_BODY:
		return STAGE_BODY;
	case SCRIPT_EOM:
		return STAGE_EOM;
	default:
		return STAGE_CONNECT;
	}
}

/* A content event: data, header, eoh, body. */
static void on_content(struct sim *s, const struct script_cmd *c)
{
	enum stage st = stage_of(c->ev);
	const char *why = message_closed(s);
	struct txn_outcome o = {0};

	if (why != NULL) {
		not_sent(why);
		return;
	}
	if (!asked(s, st)) {
		not_sent("the milter does not ask for it");
		return;
	}
	printf("\n");
	switch (c->ev) {
	case SCRIPT_DATA:
		txn_data(s->t, &o);
		break;
	case SCRIPT_HEADER:
		txn_header(s->t, c->arg[0].p, c->arg[1].p, &o);
		break;
	case SCRIPT_EOH:
		txn_eoh(s->t, &o);
		break;
	default:
		/* in the MTAs' chunks, each its own event */
		for (size_t off = 0; off < c->arg[0].len || off == 0;) {
			size_t n = c->arg[0].len - off;
			if (n > CHUNK_MAX)
				n = CHUNK_MAX;
			txn_body(s->t, (const unsigned char *)c->arg[0].p + off,
				 n, &o);
			off += n;
			if (o.action != TXN_CONTINUE || n == 0)
				break;
		}
		break;
	}
	message_decided(s, st, &o);
}

static void on_eom(struct sim *s)
{
	const char *why = message_closed(s);
	struct txn_outcome o;

	if (why != NULL) {
		not_sent(why);
		finish_message(s);
		return;
	}
	printf("\n");
	txn_eom(s->t, &o);
	if (o.action == TXN_CONTINUE || o.action == TXN_ACCEPT) {
		show_effects(&o);
		for (size_t i = 0; i < o.neffects; i++)
			if (o.effect[i]->kind == TXN_QUARANTINE)
				s->quarantined = true;
		s->msg = M_DONE;
	} else {
		message_decided(s, STAGE_EOM, &o);
	}
	finish_message(s);
}

/* argv for MAIL and RCPT: the arguments as the MTA gives them. */
static char **argv_of(const struct script_cmd *c)
{
	char **v = calloc(c->nargs + 1, sizeof(*v));

	for (size_t i = 0; v != NULL && i < c->nargs; i++)
		v[i] = c->arg[i].p;
	return v;
}

static void run_cmd(struct sim *s, const struct script_cmd *c)
{
	struct txn_outcome o;
	char **argv;

	if (c->ev == SCRIPT_NEGOTIATE)
		return;
	s->from_hold = false;
	s->addr = NULL;
	take_macros(s, c);
	print_event(c);
	switch (c->ev) {
	case SCRIPT_CONNECT:
		printf("\n");
		on_connect(s, c, &o);
		connection_decided(s, STAGE_CONNECT, &o);
		return;
	case SCRIPT_HELO:
		if (s->conn != C_OPEN) {
			not_sent(s->conn_why);
			return;
		}
		if (!asked(s, STAGE_HELO)) {
			not_sent("the milter does not ask for it");
			return;
		}
		printf("\n");
		txn_helo(s->t, c->arg[0].p, &o);
		connection_decided(s, STAGE_HELO, &o);
		return;
	case SCRIPT_MAIL:
		finish_message(s);
		s->any_message = true;
		s->msg = M_OPEN;
		if (s->conn != C_OPEN) {
			s->msg = s->conn == C_ACCEPTED ? M_ACCEPTED
						       : M_REFUSED;
			s->msg_v = s->conn_v;
			s->msg_why = s->conn_why;
			not_sent(s->conn_why);
			return;
		}
		if (!asked(s, STAGE_MAIL)) {
			not_sent("the milter does not ask for it");
			return;
		}
		printf("\n");
		if ((argv = argv_of(c)) == NULL) {
			s->failed = true;
			return;
		}
		s->addr = argv[0];
		txn_mail(s->t, argv, &o);
		message_decided(s, STAGE_MAIL, &o);
		free(argv);
		return;
	case SCRIPT_RCPT:
		if (s->msg == M_NONE) {
			not_sent("no MAIL");
			return;
		}
		if ((argv = argv_of(c)) == NULL) {
			s->failed = true;
			return;
		}
		s->addr = argv[0];
		on_rcpt(s, c, argv);
		free(argv);
		return;
	case SCRIPT_DATA:
	case SCRIPT_HEADER:
	case SCRIPT_EOH:
	case SCRIPT_BODY:
		on_content(s, c);
		return;
	case SCRIPT_EOM:
		on_eom(s);
		return;
	case SCRIPT_ABORT:
		printf("\n");
		if (s->msg != M_NONE) {
			txn_abort(s->t);
			for (size_t i = 0; i < s->nrcpt; i++)
				if (s->rcpt[i].pending) {
					s->rcpt[i].pending = false;
					s->rcpt[i].v.r = R_ABORTED;
				}
			finish_message(s);
		}
		return;
	case SCRIPT_UNKNOWN:
		not_sent("the milter takes no unknown commands");
		return;
	default: /* quit */
		printf("\n");
		return;
	}
}

/* --- the transaction from the command line ------------------------------ */

/* A command with n arguments (lens NULL: NUL-terminated strings). */
static struct script_cmd *cmd_args(struct script *sc, enum script_ev e,
				   size_t n, const char *const *args,
				   const size_t *lens)
{
	struct script_cmd *c = script_append(sc, e);

	if (c == NULL)
		return NULL;
	if (n > 0 && (c->arg = calloc(n, sizeof(*c->arg))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (script_arg_set(&c->arg[i], args[i],
			    lens != NULL ? lens[i] : strlen(args[i])) < 0)
			return NULL;
		c->nargs++;
	}
	return c;
}

/* "a@b" becomes "<a@b>", as the client writes it. */
static int angle(const char *a, char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, a[0] == '<' ? "%s" : "<%s>", a);

	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

/* MAIL or RCPT from "ADDR [ARGS...]": words split at blanks. */
static int envelope_cmd(struct script *sc, enum script_ev e, const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *w;
	const char *args[64];
	char addr[1024];
	size_t n = 0;
	int rc = -1;

	if (copy == NULL)
		return -1;
	for (w = strtok_r(copy, " \t", &save); w != NULL && n < 64;
	     w = strtok_r(NULL, " \t", &save))
		args[n++] = w;
	if (n > 0 && angle(args[0], addr, sizeof(addr)) == 0) {
		args[0] = addr;
		rc = cmd_args(sc, e, n, args, NULL) != NULL ? 0 : -1;
	}
	free(copy);
	return rc;
}

/* An RFC 5322 message: headers (folded lines kept, joined by CR LF),
 * then the body with CR LF line ends, as the MTAs hand them over. */
static int message_cmds(struct script *sc, const char *path, char *err,
			size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *hdr = NULL;
	size_t cap = 0, hlen = 0, blen = 0, bcap = 0;
	char *body = NULL;
	ssize_t n;
	bool in_body = false;
	int rc = -1;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %m", path);
		return -2;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		size_t l = (size_t)n;
		while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			l--;
		if (blen + l + 2 > MESSAGE_MAX) {
			snprintf(err, errlen, "%s: more than %d octets", path,
				 MESSAGE_MAX);
			goto out;
		}
		if (in_body) {
			if (blen + l + 2 + 1 > bcap) {
				size_t nc = bcap ? 2 * bcap : 4096;
				char *nb;
				while (nc < blen + l + 3)
					nc *= 2;
				if ((nb = realloc(body, nc)) == NULL)
					goto oom;
				body = nb;
				bcap = nc;
			}
			memcpy(body + blen, line, l);
			memcpy(body + blen + l, "\r\n", 2);
			blen += l + 2;
			continue;
		}
		if ((l > 0 && (line[0] == ' ' || line[0] == '\t')) &&
		    hdr != NULL) {
			char *nh = realloc(hdr, hlen + l + 3);
			if (nh == NULL)
				goto oom;
			hdr = nh;
			memcpy(hdr + hlen, "\r\n", 2);
			memcpy(hdr + hlen + 2, line, l);
			hlen += l + 2;
			hdr[hlen] = '\0';
			continue;
		}
		if (hdr != NULL) {
			/* the header before this line is complete */
			char *colon = strchr(hdr, ':');
			const char *args[2];
			size_t lens[2];
			if (colon == NULL) {
				snprintf(err, errlen,
					 "%s: a header line without ':'", path);
				goto out;
			}
			args[0] = hdr;
			lens[0] = (size_t)(colon - hdr);
			args[1] = colon + 1 + strspn(colon + 1, " \t");
			lens[1] = strlen(args[1]);
			if (cmd_args(sc, SCRIPT_HEADER, 2, args, lens) == NULL)
				goto oom;
			free(hdr);
			hdr = NULL;
		}
		if (l == 0) {
			in_body = true;
			continue;
		}
		if ((hdr = strndup(line, l)) == NULL)
			goto oom;
		hlen = l;
	}
	if (hdr != NULL) {
		snprintf(err, errlen, "%s: no blank line after the headers",
			 path);
		goto out;
	}
	if (script_append(sc, SCRIPT_EOH) == NULL)
		goto oom;
	{
		const char *args[1] = {body != NULL ? body : ""};
		size_t lens[1] = {blen};
		if (cmd_args(sc, SCRIPT_BODY, 1, args, lens) == NULL)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(line);
	free(hdr);
	free(body);
	fclose(f);
	return rc;
}

/* The options as a script: connect, helo, mail, rcpt..., message. */
static int script_from_options(const struct sim_options *o,
			       struct script *sc, char *err, size_t errlen)
{
	struct script_cmd *c;
	char addr[256], name[300];
	const char *comma, *args[2];
	int rc;

	snprintf(err, errlen, "out of memory");
	comma = o->client != NULL ? strchr(o->client, ',') : NULL;
	if (o->client == NULL) {
		snprintf(addr, sizeof(addr), "127.0.0.1");
		snprintf(name, sizeof(name), "localhost");
	} else {
		snprintf(addr, sizeof(addr), "%.*s",
			 comma != NULL ? (int)(comma - o->client) : 255,
			 o->client);
		snprintf(name, sizeof(name), comma != NULL ? "%s" : "[%s]",
			 comma != NULL ? comma + 1 : addr);
	}
	args[0] = name;
	args[1] = addr;
	if ((c = cmd_args(sc, SCRIPT_CONNECT, 2, args, NULL)) == NULL)
		return -1;
	/* every --macro comes with the connect event, and so lasts */
	if (o->nmacro > 0 &&
	    (c->macro = calloc(o->nmacro, sizeof(*c->macro))) == NULL)
		return -1;
	for (size_t i = 0; i < o->nmacro; i++) {
		const char *eq = strchr(o->macro[i], '=');
		if (eq == NULL || eq == o->macro[i]) {
			snprintf(err, errlen, "--macro %s: not NAME=VALUE",
				 o->macro[i]);
			return -3;
		}
		if (script_arg_set(&c->macro[i].name, o->macro[i],
			    (size_t)(eq - o->macro[i])) < 0 ||
		    script_arg_set(&c->macro[i].value, eq + 1, strlen(eq + 1)) < 0)
			return -1;
		c->nmacros++;
	}
	if (o->helo != NULL && cmd_args(sc, SCRIPT_HELO, 1, &o->helo, NULL) ==
				   NULL)
		return -1;
	if (o->from == NULL)
		return 0;
	if (envelope_cmd(sc, SCRIPT_MAIL, o->from) < 0) {
		snprintf(err, errlen, "--from \"%s\": no address", o->from);
		return -3;
	}
	for (size_t i = 0; i < o->nto; i++)
		if (envelope_cmd(sc, SCRIPT_RCPT, o->to[i]) < 0) {
			snprintf(err, errlen, "--to \"%s\": no address",
				 o->to[i]);
			return -3;
		}
	if (o->nto == 0)
		return 0;
	if (script_append(sc, SCRIPT_DATA) == NULL)
		return -1;
	if (o->message != NULL) {
		rc = message_cmds(sc, o->message, err, errlen);
		if (rc < 0)
			return rc == -2 ? -2 : -3;
	} else if (script_append(sc, SCRIPT_EOH) == NULL) {
		return -1;
	}
	return script_append(sc, SCRIPT_EOM) != NULL ? 0 : -1;
}

/* --- the run ------------------------------------------------------------- */

static int read_script(const char *file, struct script *sc)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char err[512];
	int line, rc;

	if (f == NULL) {
		fprintf(stderr, "replycode-milter: %s: %m\n", file);
		return EX_NOINPUT;
	}
	rc = script_read(f, sc, &line, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (rc == 0)
		return 0;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, err);
	else
		fprintf(stderr, "%s: %s\n", file, err);
	return EX_DATAERR;
}

static struct policy *load(const char *path)
{
	struct diags d = {0};
	struct policy *p = NULL;

	if (config_load(path, &p, NULL, &d) != 0)
		p = NULL;
	for (size_t i = 0; i < d.count; i++)
		if (!d.item[i].note)
			fprintf(stderr, "%s\n", d.item[i].text);
	diags_free(&d);
	return p;
}

static void private_store_end(char *dir);

/*
 * Rate limits and greylisting replay on a private, empty store of their
 * own (an LMDB directory made for the run, removed after it): a
 * simulation never reads or changes the milter's state, and shows what a
 * sender never seen before meets. 0, or -1 (said on stderr).
 */
static int private_store(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	struct store *st;
	char err[400];

	snprintf(dir, len, "%s/rcm-simulate.XXXXXX",
		 tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "replycode-milter: %s: %m\n", dir);
		dir[0] = '\0';
		return -1;
	}
	if ((st = store_open(dir, 1000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "replycode-milter: a private state store: %s\n",
			err);
		private_store_end(dir);
		return -1;
	}
	keep_install(st);
	return 0;
}

/* Close the private store and remove its directory. */
static void private_store_end(char *dir)
{
	struct store *st = keep_store();
	char f[PATH_MAX + 16];

	keep_install(NULL);
	store_close(&st);
	if (dir[0] == '\0')
		return;
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", dir);
	unlink(f);
	rmdir(dir);
	dir[0] = '\0';
}

int simulate_run(const char *path, const struct sim_options *o)
{
	char store_dir[PATH_MAX] = "";
	struct script sc = {0};
	struct policy *p;
	const struct policy *cp;
	struct sim *s;
	struct txn_io io = {macro_lookup, on_report, NULL};
	char err[600];
	int rc;

	if (o->script != NULL) {
		rc = read_script(o->script, &sc);
	} else {
		rc = script_from_options(o, &sc, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "replycode-milter: %s\n", err);
			rc = rc == -1 ? 1 : rc == -2 ? EX_NOINPUT : EX_USAGE;
		}
	}
	if (rc != 0) {
		script_free(&sc);
		return rc;
	}
	if ((p = load(path)) == NULL) {
		fprintf(stderr, "%s: the config has errors\n", path);
		script_free(&sc);
		return EX_CONFIG;
	}
	if (p->uses_store && private_store(store_dir, sizeof(store_dir)) != 0) {
		policy_free(&p);
		script_free(&sc);
		return 1;
	}
	s = calloc(1, sizeof(*s));
	io.arg = s;
	if (s == NULL || (s->t = txn_new(p, &io)) == NULL) {
		fprintf(stderr, "replycode-milter: out of memory\n");
		free(s);
		policy_free(&p);
		private_store_end(store_dir);
		script_free(&sc);
		return 1;
	}
	s->events = txn_events(s->t);
	for (size_t i = 0; i < sc.n && !s->failed; i++) {
		run_cmd(s, &sc.cmd[i]);
		if (sc.cmd[i].ev == SCRIPT_QUIT)
			break;
	}
	if (s->msg != M_NONE)
		finish_message(s);
	else if (!s->any_message) {
		enum result r = s->conn == C_OPEN || s->conn == C_ACCEPTED
				    ? R_ACCEPT
				    : s->conn_v.r;
		printf("result: connection %s%s%s\n", result_name[r],
		       r != R_ACCEPT && s->conn_v.code[0] ? " " : "",
		       r != R_ACCEPT ? s->conn_v.code : "");
		result_seen(s, r);
	}
	rc = s->failed ? 1 : result_exit[s->worst];
	if (s->failed)
		fprintf(stderr, "replycode-milter: out of memory\n");
	fflush(stdout);
	txn_free(&s->t);
	free(s->macro);
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i].shown);
	free(s->rcpt);
	free(s);
	cp = p;
	policy_unref(&cp);
	private_store_end(store_dir);
	script_free(&sc);
	return rc;
}
