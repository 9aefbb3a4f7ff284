/*
 * script.h - the transaction script language of the protocol tests (.mt
 * files, tests/proto/README.md "Script language"): one SMTP connection's
 * events as the MTA hands them to a milter, one command a line.
 *
 * One parser for every reader: mtclient turns the commands into milter
 * packets, replycode-milter --simulate into calls of the transaction core.
 * Pure parsing: no libmilter, no sockets, no logging; errors come back with
 * the line number and a message.
 */
#ifndef RCM_SCRIPT_H
#define RCM_SCRIPT_H

#include <stddef.h>
#include <stdio.h>

#define SCRIPT_ARG_MAX (64 * 1024 * 1024) /* one argument, octets */

/* The commands, in the order of tests/proto/README.md's table. */
enum script_ev {
	SCRIPT_NONE,
	SCRIPT_NEGOTIATE,
	SCRIPT_CONNECT,
	SCRIPT_HELO,
	SCRIPT_MAIL,
	SCRIPT_RCPT,
	SCRIPT_DATA,
	SCRIPT_HEADER,
	SCRIPT_EOH,
	SCRIPT_BODY,
	SCRIPT_EOM,
	SCRIPT_ABORT,
	SCRIPT_QUIT,
	SCRIPT_UNKNOWN,
	SCRIPT_EV_COUNT
};

/* One argument: p is NUL-terminated, len excludes the NUL; an argument
 * may hold NUL bytes of its own ("\x00"), so len is the truth. */
struct script_arg {
	char *p;
	size_t len;
};

/* A macro given for an event with "macro STAGE name=value". */
struct script_macro {
	struct script_arg name, value;
};

/* negotiate: which of version=, actions=, protocol= were given. */
#define SCRIPT_NEG_VERSION 1u
#define SCRIPT_NEG_ACTIONS 2u
#define SCRIPT_NEG_PROTOCOL 4u

/*
 * One command. arg are the words after the command's name (connect: HOST
 * ADDRESS [PORT]; helo: NAME; mail, rcpt: ADDR [ESMTP-ARGS]; header: NAME
 * VALUE; body, unknown: TEXT), checked for number and form. macro are the
 * macros the script gave for this event since its previous one, in order.
 */
struct script_cmd {
	enum script_ev ev;
	int line;
	size_t nargs;
	struct script_arg *arg;
	size_t nmacros;
	struct script_macro *macro;
	unsigned long port;		       /* connect: 0 when not given */
	unsigned neg_set;		       /* negotiate: SCRIPT_NEG_* */
	unsigned long version, actions, protocol; /* negotiate, as given */
};

/* A parsed script; owns everything it points to. */
struct script {
	struct script_cmd *cmd;
	size_t n, cap;
};

/*
 * Read a whole script from fp into sc (zeroed by the caller). Returns 0,
 * or -1 with the line to blame in *errline (0 when no line is) and the
 * message in err; sc then holds what was read so far (free it).
 */
int script_read(FILE *fp, struct script *sc, int *errline, char *err,
		size_t errlen);

/*
 * Append a command of kind e to sc, zeroed but for its kind (for a front
 * end that builds a script itself); NULL when memory runs out.
 */
struct script_cmd *script_append(struct script *sc, enum script_ev e);

/* Set *a to a copy of p[0..len) with a NUL after it; 0, or -1 out of
 * memory. */
int script_arg_set(struct script_arg *a, const char *p, size_t len);

/* Free what sc owns; sc may then be read into again. */
void script_free(struct script *sc);

/* A command's name as written in a script ("connect"); "" for NONE. */
const char *script_ev_name(enum script_ev e);

#endif
