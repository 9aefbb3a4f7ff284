/*
 * stage.h - the SMTP stages a rule can hook and the verdicts it can give.
 *
 * Shared by the registry, the policy core and the milter glue. Pure data:
 * it must never include libmilter or libconfuse headers.
 */
#ifndef RCM_STAGE_H
#define RCM_STAGE_H

#include <stdbool.h>

enum stage {
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_HEADER,
	STAGE_EOH,
	STAGE_BODY,
	STAGE_EOM,
	STAGE_COUNT
};

enum verdict {
	VERDICT_CONTINUE, /* no decision: side effects only, go on */
	VERDICT_REJECT,	  /* 5xx */
	VERDICT_TEMPFAIL, /* 4xx */
	VERDICT_ACCEPT,	  /* stop filtering this message, let it through */
	VERDICT_DISCARD,  /* accept and throw away */
	VERDICT_QUARANTINE, /* hold in the MTA's queue */
	VERDICT_COUNT
};

/*
 * The SMTP command whose reply a stage's verdict becomes (RFC 5321 4.3.2).
 * The header, eoh, body and eom stages all answer the final dot of DATA.
 */
enum smtp_cmd {
	CMD_CONNECT,  /* the greeting */
	CMD_HELO,     /* EHLO or HELO */
	CMD_MAIL,
	CMD_RCPT,
	CMD_DATA,     /* DATA itself, before the message */
	CMD_DATA_END, /* after the final dot */
	CMD_COUNT
};

/* Names as written in the config: "connect", "reject", ... Never NULL. */
const char *stage_name(enum stage s);
const char *verdict_name(enum verdict v);

/* Does verdict v send a reply (reject, tempfail)? */
bool verdict_sends_reply(enum verdict v);
const char *smtp_cmd_name(enum smtp_cmd c);

/* Parse a name; 0 on success, -1 when the name is unknown. */
int stage_parse(const char *name, enum stage *out);
int verdict_parse(const char *name, enum verdict *out);

enum smtp_cmd stage_command(enum stage s);

/*
 * The command whose reply carries a rule's reject or tempfail. The MTA never
 * sends a connect- or HELO-stage reply as the greeting or the HELO answer:
 * Postfix gives a connect rule's reply to MAIL, both MTAs a HELO rule's
 * (Sendmail drops a connect rule's text: see the README's "How Postfix and
 * Sendmail differ"), and with hold_early_verdicts the milter gives both at
 * the first RCPT. Later stages: stage_command().
 */
enum smtp_cmd stage_reply_command(enum stage s, bool held);

/* Bits of a mask of stages; STAGEBIT_MESSAGE is every content stage. */
#define STAGEBIT(s) (1u << (s))
#define STAGEBIT_MESSAGE                                                       \
	(STAGEBIT(STAGE_HEADER) | STAGEBIT(STAGE_EOH) | STAGEBIT(STAGE_BODY) | \
	 STAGEBIT(STAGE_EOM))
#define STAGEBIT_ANY ((1u << STAGE_COUNT) - 1)

#endif
