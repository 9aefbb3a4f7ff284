/*
 * codes.h - the registry of SMTP reply codes and enhanced status codes,
 * parsing of reply specs, and the pairing checks a reply must pass.
 *
 * Pure data and pure functions: no libmilter, no libconfuse, no logging,
 * no allocation. Every function is safe to call from any thread.
 */
#ifndef RCM_CODES_H
#define RCM_CODES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/stage.h"

/* A basic code and an enhanced code. enh_class 0 means "no enhanced code". */
struct reply_code {
	int basic;	 /* 200..599, or 0 when not given */
	int enh_class;	 /* 2, 4 or 5; 0 when not given */
	int enh_subject; /* 0..999 */
	int enh_detail;	 /* 0..999 */
};

/* Bits of basic_info.commands: which commands RFC 5321 4.3.2 allows it for. */
#define CMDBIT(c) (1u << (c))
#define CMDBIT_ANY ((1u << CMD_COUNT) - 1)

struct basic_info {
	int code;
	const char *meaning;   /* short text, e.g. "Requested action not taken: mailbox unavailable" */
	const char *reference; /* e.g. "RFC 5321" */
	unsigned commands;     /* CMDBIT() mask of commands it may answer */
	const char *default_enhanced; /* "X.Y.Z" with the class digit, e.g. "4.3.1" */
	unsigned stages;   /* STAGEBIT() mask of rule stages its meaning fits
			      (0: none; a milter cannot sensibly send it) */
	unsigned subjects; /* bit n: its meaning fits enhanced subject X.n.x */
};

enum permanence {
	PERM_EITHER,	     /* RFC 3463 puts no restriction */
	PERM_PERMANENT_ONLY, /* "only useful for permanent failures" */
	PERM_TRANSIENT_ONLY, /* "only useful as a persistent transient error" */
};

#define CODES_MAX_ASSOC 16

struct enhanced_info {
	int subject;
	int detail;
	const char *sample;	    /* IANA sample text */
	const char *assoc_text;	    /* IANA "Associated basic status code" as written */
	int assoc[CODES_MAX_ASSOC]; /* the basic codes it names, 0-terminated;
				       all zero: "Not given" / "Any" (any code) */
	int assoc_class_only;	    /* 4 or 5 when IANA says "4XX"/"5XX" only, else 0 */
	enum permanence perm;
	const char *reference;	    /* e.g. "RFC 3463" */
	int default_basic4;	    /* basic code used with class 4 when only the
				       enhanced code is given, e.g. 451 */
	int default_basic5;	    /* ... with class 5, e.g. 550 */
};

/* Lookups. NULL when the code is not in the registry. */
const struct basic_info *codes_basic(int code);
const struct enhanced_info *codes_enhanced(int subject, int detail);

/* Iteration over the whole tables, for tests and --explain. */
size_t codes_basic_count(void);
const struct basic_info *codes_basic_at(size_t i);
size_t codes_enhanced_count(void);
const struct enhanced_info *codes_enhanced_at(size_t i);

/*
 * Parse a reply spec: "550 5.7.1", "5.7.1" alone or "452" alone, surrounding
 * blanks allowed. The missing half is filled from the default tables
 * (basic_info.default_enhanced, enhanced_info.default_basic4/5; a basic code
 * with no better default gets the class-only X.0.0). Rejects: leading zeros,
 * more than 3 digits in a part, enhanced class other than 2/4/5, basic code
 * outside 200..599, anything else after the codes. On error returns -1 and
 * writes a sentence to err; out is then unspecified.
 */
int codes_parse_spec(const char *spec, struct reply_code *out, char *err,
		     size_t errlen);

/* Write "550 5.7.1" (or "550" with no enhanced code). Returns snprintf's value. */
int codes_format(const struct reply_code *rc, char *buf, size_t buflen);
/* Write "5.7.1" into buf (at least 12 bytes). */
int codes_format_enhanced(const struct reply_code *rc, char *buf, size_t buflen);

/*
 * Pairs that widely deployed MTAs and mailbox providers send, each with where
 * it comes from. The lint never warns about a pair listed here; --explain
 * names who sends it. Every row's enhanced code is in the IANA registry.
 */
struct practice_pair {
	int basic;
	int enh_class, enh_subject, enh_detail; /* class == basic / 100 */
	unsigned commands; /* CMDBIT(): the commands it answers there */
	const char *who;   /* "Postfix", "Sendmail", "Exim", "Gmail", ... */
	const char *what;  /* what it says there, e.g. "Relay access denied" */
	const char *source; /* file and function or parameter, or the
			       provider's published page */
};

size_t codes_practice_count(void);
const struct practice_pair *codes_practice_at(size_t i);
/* The first row for the pair rc at or after row *from (then *from is set
 * past it), NULL when there is none. Start with *from = 0. */
const struct practice_pair *codes_practice_next(const struct reply_code *rc,
						size_t *from);

/*
 * Enhanced codes that a provider sends although IANA never registered them
 * (Microsoft 365's 5.7.6xx, for one). They stay "unregistered" to the lint:
 * this table only lets a finding and --explain say whose code it is.
 */
struct private_code {
	int enh_class; /* 4 or 5; 0: either */
	int enh_subject, detail_lo, detail_hi;
	const char *who;
	const char *what;
	const char *source;
};

size_t codes_private_count(void);
const struct private_code *codes_private_at(size_t i);
const struct private_code *codes_private(const struct reply_code *rc);

enum finding_severity {
	FINDING_NOTE,	 /* shown by -t and --explain; never refuses a config */
	FINDING_WARNING, /* very likely a mistake; an error under strict */
	FINDING_ERROR,	 /* the config does not load */
};

#define FINDING_TEXT_MAX 320
#define FINDINGS_MAX 8

struct finding {
	enum finding_severity severity;
	bool suggests;		       /* text proposes the pair below */
	struct reply_code suggestion;  /* clean where the finding is: see
					  codes_check() */
	char text[FINDING_TEXT_MAX];   /* one sentence a postmaster understands */
};

struct findings {
	size_t count;
	struct finding item[FINDINGS_MAX];
};

/* "error", "warning" or "note". */
const char *finding_severity_name(enum finding_severity s);

/*
 * Check the reply pair rc that a rule of stage st with verdict v gives; held:
 * hold_early_verdicts is on (a connect or HELO verdict is then given at
 * RCPT). Appends to out (never beyond FINDINGS_MAX); does not clear it.
 *
 *   errors: class mismatch (550 4.7.1), reject not 5xx, tempfail not 4xx,
 *           a basic code outside 4xx/5xx for a reply, malformed values;
 *   warnings: an enhanced code IANA never registered; a basic code whose
 *           meaning does not fit the rule's stage (552 at HELO, 551 at MAIL)
 *           or that no RFC defines; a pair that neither IANA nor the practice
 *           table knows whose basic code's meaning does not fit the enhanced
 *           code's subject (552 5.1.1), or that RFC 3463 gives to the other
 *           class (550 5.4.1);
 *   notes:  RFC 3463's permanent-only / transient-only remarks and "IANA
 *           does not list this basic code for it" for a pair that IANA or
 *           practice uses; a basic code RFC 5321 does not list for the
 *           command that carries the reply (stage_reply_command()) although
 *           its meaning fits there (554 at RCPT, as Postfix sends it).
 *
 * A finding that proposes another pair sets suggests: that pair has the
 * verdict's class, IANA or the practice table pairs its codes, the carrying
 * command may get its basic code (RFC 5321 or practice), and it has no
 * warning or error of its own at st.
 *
 * Verdicts other than reject and tempfail get the pairing checks only.
 * Returns the number of errors added (counting those that did not fit).
 */
int codes_check(const struct reply_code *rc, enum verdict v, enum stage st,
		bool held, struct findings *out);

#endif
