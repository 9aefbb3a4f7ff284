/*
 * loader.h - what the files of milter/config/ share; not for use outside
 * the folder (config.h is the public header).
 *
 * The files import each other in one direction only, bottom first:
 *   diag.c    the loader context, findings (error_at, warn_at, report_in),
 *             option line numbers, and nothing else of the folder
 *   parse.c   value parsers (names, sizes, modes, field names): nothing
 *   scan.c    our scanner (tokens, sections, options and their lines)
 *   lists.c   named lists, list files, condition entries
 *   conds.c   conditions (lists, booleans, ranges, named header/macro)
 *   text.c    reply codes, text, headers and log lines of a rule
 *   rules.c   one rule, then the links across rules
 *   settings.c the top-level and on_error option tables, the global
 *             options, the settings read once at start, the failure policy
 *   load.c    config_load(): read, scan, parse, compile, link
 * Everything here runs in the one thread that loads a config, never logs
 * and never exits: findings go to the loader's diags.
 */
#ifndef RCM_CONFIG_LOADER_H
#define RCM_CONFIG_LOADER_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <confuse.h>

#include "config/config.h"
#include "config/settings.h"
#include "core/policy.h"
#include "lib/listfile.h"

#define NAME_MAX_LEN   64 /* rule and list names */
#define TEXT_MAX_LINES REPLY_MAX_LINES

/* --- what the scanner finds (scan.c) ---------------------------------- */

enum tok_type {
	T_WORD,
	T_STR,
	T_LBRACE,
	T_RBRACE,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_EQ,
	T_PLUSEQ,
};

struct tok {
	enum tok_type type;
	int line;
	char *text; /* owned; T_WORD and T_STR: the value, unescaped */
};

/* A section ("rule", "list", "on_error") as the scanner saw it. */
struct scan_sec {
	char *kind;  /* owned */
	char *title; /* owned; NULL: no title */
	int line;
};

/* One "name = value" or "name += value" in a section (sec -1: top). */
struct scan_opt {
	int sec;
	char *name; /* owned */
	int line;
	bool append;
	size_t first_val, nvals; /* into scan.val_line */
};

struct scan {
	struct tok *tok;
	size_t ntok, captok;
	struct scan_sec *sec;
	size_t nsec, capsec;
	struct scan_opt *opt;
	size_t nopt, capopt;
	int *val_line;
	size_t nval, capval;
	bool cut; /* a string or comment runs to the end of the file */
};

/* --- named lists and entries (lists.c) -------------------------------- */

/* A named list of the config. */
enum list_type { LT_ADDRESS, LT_DOMAIN, LT_EMAIL, LT_REGEX, LT_COUNT };

extern const char *const list_type_names[LT_COUNT]; /* "address", ... */

/* One list entry and where it was written. */
struct entry {
	const char *text; /* borrowed from libconfuse, or a list file's
			     while it is read */
	const char *file; /* NULL: the config file */
	int line;
	bool case_sensitive;
};

struct nlist {
	const char *name; /* borrowed from libconfuse */
	enum list_type type;
	bool case_sensitive;
	int line;
	char *file;    /* owned: resolved path of its file; NULL: none */
	size_t nfile;  /* entries in the file (it is read again to build) */
	size_t n;      /* entries in all: inline and in the file */
	int file_line; /* line of its "file =" */
	bool bad;      /* errors already reported */
	bool used;
	/* Its sets as built for conditions that read it alone, by the
	 * entries() flags they were built with (NULL: not yet): each
	 * further such condition borrows them (core/cond.h). */
	struct cond_share *built[4];
};

/* Files named by "file:PATH" entries of conditions, checked once. */
struct loaded_file {
	char *path; /* owned */
	size_t n;   /* entries */
};

/*
 * Where the entries of a list condition come from, in order: an inline
 * entry, a "file:PATH", or a named list (its inline entries, then its
 * file). Files are read only when the matcher is built, straight into it,
 * so a million-entry list never exists twice in memory.
 */
struct source {
	const char *text;		/* an inline entry, or NULL */
	int line;			/* of the inline entry */
	const struct loaded_file *file; /* or a file, or NULL */
	struct nlist *from;		/* or a named list, or NULL */
};

struct sources {
	struct source *v; /* owned array; what it points to is borrowed */
	size_t n, cap;
};

/*
 * Called for each entry of the sources, with the named list it comes from
 * (NULL: none). Returns 0 to go on, -1 to stop.
 */
typedef int (*entry_fn)(void *ctx, const struct entry *e, struct nlist *from);

/* --- the loader context (diag.c) -------------------------------------- */

struct loader {
	const char *path;
	char dir[PATH_MAX]; /* directory of the config file */
	struct diags *d;
	bool strict;
	size_t nwarnings;
	struct scan sc;
	struct policy *p;
	struct nlist *lists;
	size_t nlists;
	struct loaded_file *files;
	size_t nfiles;
	char **notes; /* owned: reply notes already reported, "CODE: text" */
	size_t nnotes, notes_cap;
};

/*
 * Report a finding: "FILE:LINE: rule NAME: error: text". line <= 0 leaves
 * the line out; rule NULL leaves the rule out (what may then be "list X"
 * or "on_error" through the caller's text). A warning is an error under
 * strict = true; a note stays a note.
 */
__attribute__((format(printf, 6, 0))) void
vreport_sev(struct loader *L, enum finding_severity sev, int line,
	    const char *what, const char *name, const char *fmt, va_list ap);
/* The same with error (true) or warning (false). */
__attribute__((format(printf, 6, 0))) void
vreport(struct loader *L, bool error, int line, const char *what,
	const char *name, const char *fmt, va_list ap);
/* An error or a warning about rule (NULL: about no rule). */
__attribute__((format(printf, 4, 5))) void
error_at(struct loader *L, int line, const char *rule, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void
warn_at(struct loader *L, int line, const char *rule, const char *fmt, ...);
/* The same, in another context: "list NAME", "on_error". */
__attribute__((format(printf, 6, 7))) void
report_in(struct loader *L, bool error, int line, const char *what,
	  const char *name, const char *fmt, ...);

/* Make room for element n of *pp (cap elements of size now). 0 or -1. */
int grow(void *pp, size_t *cap, size_t n, size_t size);

/* "a" or "an" before word, for messages. */
const char *a_an(const char *word);

/* Where the scanner saw a section of kind and title (title NULL:
 * untitled); -2 when it did not. */
int scan_sec_find(const struct scan *sc, const char *kind, const char *title);
/* The line of section sec; 0 when unknown. */
int scan_sec_line(const struct scan *sc, int sec);
/* Line of option name in section sec (-1: top level); fallback when it is
 * not there. */
int opt_line(const struct scan *sc, int sec, const char *name, int fallback);
/* Is option name written in section sec? */
bool opt_given(const struct scan *sc, int sec, const char *name);
/* Line of the idx-th value of list option name. */
int val_line(const struct scan *sc, int sec, const char *name, size_t idx,
	     int fallback);

/* --- value parsers (parse.c) ------------------------------------------ */

/* A rule or list name: 1 to NAME_MAX_LEN of [A-Za-z0-9._-]. */
bool name_ok(const char *s);
/* n octets of s, at least one, all decimal digits. */
bool all_digits(const char *s, size_t n);
/* "enforce" or "dry-run". 0 / -1. */
int mode_parse(const char *s, enum rule_mode *out);
/* An RFC 5322 field name: printable ASCII but ':' and space. */
bool field_name_ok(const char *s, size_t n);

/* --- the scanner (scan.c) --------------------------------------------- */

/*
 * Split buf into tokens the way libconfuse does, count lines, blank out
 * comments (newlines kept) and report every "${" outside a comment.
 * Returns the number of errors found, or -1 when memory runs out.
 */
int scan_lex(struct loader *L, char *buf, size_t len);
/* Every "{" and "(" closed, nothing closed that was not opened. Errors
 * found, or -1. */
int scan_balance(struct loader *L);
/* Note every section, option and value with its line. Errors, or -1. */
int scan_structure(struct loader *L);
void scan_free(struct scan *sc);

/* --- lists (lists.c) -------------------------------------------------- */

extern cfg_opt_t list_opts[];

/* Read the named lists. Returns the number of errors, -1: no memory. */
int lists_load(struct loader *L, cfg_t *cfg);
/* The named list name, or NULL. */
struct nlist *nlist_find(struct loader *L, const char *name);
/* Load a list file once (path relative to the config's folder); NULL with
 * err on failure. */
struct loaded_file *file_load(struct loader *L, const char *path, char *err,
			      size_t errlen);
/* Append a source (text, file or from set). 0, or -1: no memory. */
int sources_add(struct sources *ss, const struct source *src);
/* Entries in a source. */
size_t source_count(const struct source *src);
/*
 * Call fn for every entry of the sources, in order (a named list's inline
 * entries from cfg, then its file). Returns 0, -1 when fn stopped, -2
 * with err filled when a file could no longer be read.
 */
int sources_each(const struct loader *L, cfg_t *cfg, const struct sources *ss,
		 entry_fn fn, void *ctx, char *err, size_t errlen);
void sources_free(struct sources *ss);
/* Free the lists and files the loader holds. */
void lists_free(struct loader *L);

/* --- conditions (conds.c) --------------------------------------------- */

/* What a rule being compiled needs to say where it is. */
struct rctx {
	struct loader *L;
	cfg_t *cfg; /* top level */
	cfg_t *rs;  /* the rule's section */
	int sec;    /* scan section */
	int line;   /* the rule's line */
	const char *name;
	struct rule *r;
	bool stage_ok;
	bool verdict_ok;
	int errors;
};

/* Build every condition of the rule in x (x->r->cond). Errors are counted
 * in x->errors. Returns -1 when memory ran out, else 0. */
int conds_compile(struct rctx *x);

/* --- replies, text, headers, log (text.c) ----------------------------- */

/* Where a finding about a rule or on_error goes. */
struct where {
	struct loader *L;
	cfg_t *cs;	  /* its section */
	int sec;	  /* scan section */
	int line;	  /* the section's line */
	const char *what; /* "rule" or "on_error" */
	const char *name; /* rule name or NULL */
};

__attribute__((format(printf, 4, 5))) void
wreport(const struct where *w, bool error, int line, const char *fmt, ...);
/*
 * Parse the reply spec (or the default) and report what codes_check finds
 * for a rule of stage st with verdict v. Returns the number of errors.
 */
int reply_check(const struct where *w, const char *spec, const char *dflt,
		enum verdict v, enum stage st, struct reply_code *out);
/* Text lines as written and compiled (both owned by whoever keeps them). */
struct texts {
	size_t n;
	char **text;
	struct template **tmpl;
	bool dynamic; /* a placeholder in some line */
};

/* The literal text of each line of t (what a line without placeholders
 * sends), into lit (t->n entries). */
void texts_literal(const struct texts *t, const char **lit);
/*
 * Check text lines and compile them into t (as written and compiled; the
 * caller frees both). code: the reply they go with (NULL: a quarantine
 * reason); reserve: the most room Sendmail's prefix takes on its first
 * line. placeholders: whether $name may be used (else the text is sent
 * as written). Returns the number of errors, or -1 when memory ran out.
 */
int text_take(const struct where *w, const struct reply_code *code,
	      size_t reserve, bool placeholders, struct texts *t);
/* add_header = { "Name: value", ... }. Returns errors, -1 on no memory. */
int headers_take(const struct where *w, struct rule *r);
/* log = "...". Returns errors, -1 on no memory. */
int log_take(const struct where *w, struct rule *r);

/* --- rules (rules.c) -------------------------------------------------- */

/* A rule's options for libconfuse: its own and every condition kind's
 * (NULL: no memory). */
cfg_opt_t *rule_options(void);

/* Compile rule section rs into r. Errors, or -1 when memory ran out. */
int rule_compile(struct loader *L, cfg_t *cfg, cfg_t *rs, struct rule *r);
/* The stage index, the slots, the events and the checks across rules.
 * Returns -1 when memory runs out. */
int policy_link(struct loader *L);

/* --- settings and global options (settings.c) ------------------------- */

/* --- list lookups (lookup.c) ------------------------------------------ */

/* Answer q against the loaded config's named lists. 0, or -1 with
 * q->error. */
int lookup_run(struct loader *L, cfg_t *cfg, struct config_lookup *q);

/* --- effective values (values.c) ------------------------------------ */

/* Append the effective global and on_error values of the loaded config.
 * 0, or -1 when memory ran out. */
int values_collect(struct loader *L, cfg_t *cfg, struct config_values *vals);

/* The top level's options for libconfuse (NULL: no memory). */
cfg_opt_t *top_options(void);

/* Read the global options: the settings read once at start into set
 * (zeroed by the caller), the rest into L->p. Errors, -1: no memory. */
int globals_compile(struct loader *L, cfg_t *cfg, struct settings *set);
/* Read the failure policy (on_error). Errors, -1: no memory. */
int failure_compile(struct loader *L, cfg_t *cfg);

#endif
