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

#include "stage.h"

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

enum finding_severity {
	FINDING_WARNING, /* an error under strict = true */
	FINDING_ERROR,	 /* the config does not load */
};

#define FINDING_TEXT_MAX 256
#define FINDINGS_MAX 8

struct finding {
	enum finding_severity severity;
	char text[FINDING_TEXT_MAX]; /* one sentence a postmaster understands */
};

struct findings {
	size_t count;
	struct finding item[FINDINGS_MAX];
};

/*
 * Check a reply code pair that a rule with verdict v gives in answer to
 * command cmd. Appends to out (never beyond FINDINGS_MAX); does not clear it.
 *   errors: class mismatch (550 4.7.1), reject not 5xx, tempfail not 4xx,
 *           a basic code outside 4xx/5xx for a reply, malformed values;
 *   warnings: enhanced code not in the registry; basic code IANA does not
 *           associate with the enhanced code; basic code RFC 5321 does not
 *           list for cmd; a transient-only detail with a 5xx; a
 *           permanent-only detail with a 4xx that IANA does not list either.
 * Returns the number of errors added.
 */
int codes_check(const struct reply_code *rc, enum verdict v, enum smtp_cmd cmd,
		struct findings *out);

#endif
