/*
 * match_regex.c - PCRE2 regexes and regex lists, JIT-compiled when the
 * library can, matched from many threads at once under hard limits.
 *
 * A compiled regex is read-only after regex_compile(). Each thread keeps
 * its own match data, match context (limits, the time-limit callout) and
 * JIT stack, taken at its first match and given back at thread exit
 * through a pthread key. libmilter runs a thread per connection, so what
 * a thread gives back is kept in a small pool for the next thread: the
 * 4 MiB JIT stack is mapped once, not once per connection. A pattern is
 * compiled as "(?C255)(?:PATTERN\E)" (after any leading (*OPTION) items) so
 * that PCRE2 calls us once per candidate start position: there a clock is read
 * every few calls and the match ends, as an error, past REGEX_TIME_LIMIT_MS.
 * PCRE2's own match limit counts per start position, so without that a 64 KiB
 * subject could hold a thread for minutes. A pattern that cannot be wrapped is
 * used as written, under the PCRE2 limits alone (none is known). A regex
 * compiled with REGEX_STREAM can also be searched in pieces of a longer text
 * (the body scanner): hard partial matching, JIT-compiled for it too, and where
 * (?m)^ can occur a second code with PCRE2_ALT_CIRCUMFLEX. Never logs, never
 * exits.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/match.h"

#define BUDGET_CALLOUT 255 /* the number of our start callout */
#define BUDGET_EVERY   8   /* read the clock every this many callouts */

struct regex {
	pcre2_code *code; /* for a whole text */
	pcre2_code *more; /* REGEX_STREAM: for a piece that more text follows
			     (code itself, or a copy where (?m)^ may match
			     after a final newline); else NULL */
	char *pattern;	  /* as given */
	uint32_t flags;
	size_t lookbehind; /* octets it may read before a start, >= 1 */
};

struct regex_list {
	struct regex **v;
	size_t n, cap;
};

/* Per-thread match state. */
struct rx_thread {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *js;
	struct timespec deadline;
	unsigned ticks;
	PCRE2_SIZE last; /* no attempt starts after it (regex_find) */
};

/*
 * Match states given back by threads that ended, for the next thread
 * (at most RX_POOL_MAX kept: more than that were in use at once only in
 * a burst, and are freed).
 */
#define RX_POOL_MAX 256

static pthread_key_t rx_key;
static pthread_once_t rx_once = PTHREAD_ONCE_INIT;
static bool rx_key_ok;
static pthread_mutex_t rx_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rx_thread *rx_pool[RX_POOL_MAX];
static size_t rx_pool_n;

static void rx_thread_free(struct rx_thread *t)
{
	if (t == NULL)
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mc);
	pcre2_jit_stack_free(t->js);
	free(t);
}

/* The key's destructor: a thread ends, its state goes to the pool. */
static void rx_thread_park(void *arg)
{
	struct rx_thread *t = arg;

	if (t == NULL)
		return;
	pthread_mutex_lock(&rx_pool_lock);
	if (rx_pool_n < RX_POOL_MAX) {
		rx_pool[rx_pool_n++] = t;
		t = NULL;
	}
	pthread_mutex_unlock(&rx_pool_lock);
	rx_thread_free(t);
}

static struct rx_thread *rx_thread_unpark(void)
{
	struct rx_thread *t = NULL;

	pthread_mutex_lock(&rx_pool_lock);
	if (rx_pool_n > 0)
		t = rx_pool[--rx_pool_n];
	pthread_mutex_unlock(&rx_pool_lock);
	return t;
}

static void rx_key_init(void)
{
	rx_key_ok = pthread_key_create(&rx_key, rx_thread_park) == 0;
}

static bool past(const struct timespec *now, const struct timespec *dl)
{
	return now->tv_sec > dl->tv_sec ||
	       (now->tv_sec == dl->tv_sec && now->tv_nsec > dl->tv_nsec);
}

/*
 * The clock is first read at the BUDGET_EVERY-th callout, which starts the
 * budget: a match that ends sooner never reads it.
 */
static int budget_callout(pcre2_callout_block *cb, void *arg)
{
	struct rx_thread *t = arg;
	struct timespec now;

	if (cb->start_match > t->last)
		return PCRE2_ERROR_NOMATCH; /* ends the search: no match */
	if (++t->ticks % BUDGET_EVERY != 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (t->ticks == BUDGET_EVERY) {
		t->deadline = now;
		t->deadline.tv_sec += REGEX_TIME_LIMIT_MS / 1000;
		t->deadline.tv_nsec +=
		    (long)(REGEX_TIME_LIMIT_MS % 1000) * 1000000L;
		if (t->deadline.tv_nsec >= 1000000000L) {
			t->deadline.tv_sec++;
			t->deadline.tv_nsec -= 1000000000L;
		}
		return 0;
	}
	if (past(&now, &t->deadline)) {
		return PCRE2_ERROR_CALLOUT;
	}
	return 0;
}

static struct rx_thread *rx_thread_get(void)
{
	struct rx_thread *t;

	pthread_once(&rx_once, rx_key_init);
	if (!rx_key_ok)
		return NULL;
	t = pthread_getspecific(rx_key);
	if (t != NULL)
		return t;
	if ((t = rx_thread_unpark()) != NULL)
		goto own;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	/* One ovector pair: we only ask whether it matches. */
	t->md = pcre2_match_data_create(1, NULL);
	t->mc = pcre2_match_context_create(NULL);
	if (t->md == NULL || t->mc == NULL) {
		rx_thread_free(t);
		return NULL;
	}
	pcre2_set_match_limit(t->mc, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(t->mc, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(t->mc, REGEX_HEAP_LIMIT_KIB);
	pcre2_set_callout(t->mc, budget_callout, t);
	t->js = pcre2_jit_stack_create(32 * 1024, REGEX_JIT_STACK_MAX, NULL);
	if (t->js != NULL) /* else PCRE2's 32 KiB on the machine stack */
		pcre2_jit_stack_assign(t->mc, NULL, t->js);
own:
	if (pthread_setspecific(rx_key, t) != 0) {
		rx_thread_free(t);
		return NULL;
	}
	return t;
}

void regex_thread_cleanup(void)
{
	struct rx_thread *t;

	pthread_once(&rx_once, rx_key_init);
	if (!rx_key_ok)
		return;
	t = pthread_getspecific(rx_key);
	if (t != NULL) {
		pthread_setspecific(rx_key, NULL);
		rx_thread_free(t);
	}
	while ((t = rx_thread_unpark()) != NULL)
		rx_thread_free(t);
}

static uint32_t compile_options(uint32_t flags)
{
	uint32_t o = 0;

	if (flags & REGEX_CASELESS)
		o |= PCRE2_CASELESS;
	if (flags & REGEX_MULTILINE)
		o |= PCRE2_MULTILINE;
	if (flags & REGEX_DOTALL)
		o |= PCRE2_DOTALL;
	if (flags & REGEX_EXTENDED)
		o |= PCRE2_EXTENDED;
	if (flags & REGEX_UTF)
		o |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	else
		o |= PCRE2_NEVER_UTF;
	return o;
}

/* Length of the leading "(*NAME)" / "(*NAME=digits)" option items. */
static size_t option_items(const char *p)
{
	static const char *const names[] = {"UTF",
					    "UCP",
					    "NO_AUTO_POSSESS",
					    "NO_DOTSTAR_ANCHOR",
					    "NO_JIT",
					    "NO_START_OPT",
					    "NOTEMPTY",
					    "NOTEMPTY_ATSTART",
					    "CR",
					    "LF",
					    "CRLF",
					    "ANYCRLF",
					    "ANY",
					    "NUL",
					    "BSR_ANYCRLF",
					    "BSR_UNICODE",
					    "LIMIT_HEAP=",
					    "LIMIT_MATCH=",
					    "LIMIT_DEPTH=",
					    "LIMIT_RECURSION="};
	size_t off = 0;

	for (;;) {
		const char *s = p + off, *close;
		bool known = false;
		if (s[0] != '(' || s[1] != '*')
			return off;
		close = strchr(s, ')');
		if (close == NULL)
			return off;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t n = strlen(names[i]);
			if (strncmp(s + 2, names[i], n) != 0)
				continue;
			if (names[i][n - 1] == '=') {
				const char *d = s + 2 + n;
				while (d < close && *d >= '0' && *d <= '9')
					d++;
				known = d == close && d > s + 2 + n;
			} else {
				known = s + 2 + n == close;
			}
			if (known)
				break;
		}
		if (!known)
			return off;
		off = (size_t)(close + 1 - p);
	}
}

/*
 * Compile PATTERN with opts, wrapped in the time-limit callout when it can
 * be (compile_wrapped below), as written when it cannot. NULL when memory
 * runs out (the pattern itself compiled before).
 */
static pcre2_code *compile_wrapped(const char *pattern, uint32_t opts);

static pcre2_code *compile_code(const char *pattern, uint32_t opts)
{
	pcre2_code *code = compile_wrapped(pattern, opts);
	int ec;
	PCRE2_SIZE eo;

	if (code == NULL)
		code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				     opts, &ec, &eo, NULL);
	return code;
}

/*
 * The octets before a start position a match may read: PCRE2's longest
 * lookbehind (\b, \B and \A count one) times the number of lookbehinds
 * written in the pattern (a nested lookbehind reads further back than
 * PCRE2 reports, pcre2partial(3); any spelling counts, even inside a class
 * or \Q...\E, so this errs on the long side), four octets a character
 * with UTF, plus two for a \b or (?m)^ at the far end (a (?m)^ reads
 * back a whole newline: CR LF under (*CRLF), (*ANYCRLF) and (*ANY)).
 */
static size_t lookbehind_octets(const pcre2_code *code, const char *pattern,
				bool utf)
{
	static const char *const opens[] = {
	    "(?<=",
	    "(?<!",
	    "(?<*",
	    "(*plb:",
	    "(*nlb:",
	    "(*naplb:",
	    "(*positive_lookbehind:",
	    "(*negative_lookbehind:",
	    "(*non_atomic_positive_lookbehind:"};
	uint32_t max = 0;
	size_t n = 0;

	if (pcre2_pattern_info(code, PCRE2_INFO_MAXLOOKBEHIND, &max) != 0)
		max = 0xffff; /* PCRE2's own bound on one lookbehind */
	for (const char *p = pattern; *p != '\0'; p++)
		for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++)
			if (strncasecmp(p, opens[i], strlen(opens[i])) == 0)
				n++;
	return (size_t)max * (n > 0 ? n : 1) * (utf ? 4 : 1) + 2;
}

/*
 * Can the pattern hold a multi-line circumflex? Only with a '^' and an
 * 'm' (the (?m) that turns it on) or REGEX_MULTILINE; a '^' of a class
 * counts too, so this never says no wrongly.
 */
static bool may_have_circm(const char *pattern, uint32_t flags)
{
	return strchr(pattern, '^') != NULL &&
	       ((flags & REGEX_MULTILINE) || strchr(pattern, 'm') != NULL);
}

/*
 * What a pattern holds that depends on where a search starts, so that it
 * cannot be searched in pieces: \G (true where the search starts) and
 * (*NOTEMPTY_ATSTART) (no empty match there). NULL when neither.
 */
static const char *start_dependent(const char *pattern)
{
	size_t head = option_items(pattern);

	for (const char *p = pattern; p < pattern + head; p++)
		if (strncmp(p, "(*NOTEMPTY_ATSTART)", 19) == 0)
			return "(*NOTEMPTY_ATSTART)";
	for (const char *p = pattern + head; *p != '\0'; p++) {
		if (*p != '\\' || p[1] == '\0')
			continue;
		if (p[1] == 'Q') { /* literal up to \E */
			const char *e = strstr(p + 2, "\\E");
			if (e == NULL)
				break;
			p = e + 1;
			continue;
		}
		if (p[1] == 'G')
			return "\\G";
		p++;
	}
	return NULL;
}

/*
 * Compile "(?C255)(?:PATTERN\E)"; when PATTERN ends inside a (?x) comment
 * that fails, and "(?C255)(?:PATTERN\E\n)" ends the comment (the newline
 * is then blank space of (?x)). NULL when neither compiles.
 */
static pcre2_code *compile_wrapped(const char *pattern, uint32_t opts)
{
	static const char *const tails[] = {"\\E)", "\\E\n)"};
	size_t head = option_items(pattern), n = strlen(pattern);
	char *w = malloc(n + 32);
	pcre2_code *code = NULL;
	int ec;
	PCRE2_SIZE eo;

	if (w == NULL)
		return NULL;
	for (size_t i = 0; code == NULL && i < 2; i++) {
		snprintf(w, n + 32, "%.*s(?C%d)(?:%s%s", (int)head, pattern,
			 BUDGET_CALLOUT, pattern + head, tails[i]);
		code = pcre2_compile((PCRE2_SPTR)w, PCRE2_ZERO_TERMINATED, opts,
				     &ec, &eo, NULL);
	}
	free(w);
	return code;
}

struct regex *regex_compile(const char *pattern, uint32_t flags, char *err,
			    size_t errlen)
{
	struct regex *re;
	pcre2_code *code, *wrapped;
	uint32_t opts = compile_options(flags);
	int ec;
	PCRE2_SIZE eo;

	if (errlen > 0)
		err[0] = '\0';
	if (pattern == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no pattern");
		return NULL;
	}
	/* Compile as written first: errors and offsets refer to it. */
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts,
			     &ec, &eo, NULL);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", ec);
		if (errlen > 0)
			snprintf(err, errlen, "at offset %zu: %s", (size_t)eo,
				 (char *)msg);
		return NULL;
	}
	if ((flags & REGEX_STREAM) && (flags & REGEX_UTF)) {
		/* a chunk may end inside a character, and PCRE2 takes the
		 * piece for invalid UTF-8 there instead of a partial match */
		if (errlen > 0)
			snprintf(err, errlen,
				 "UTF-8 patterns cannot be searched in pieces");
		pcre2_code_free(code);
		return NULL;
	}
	if ((flags & REGEX_STREAM) && start_dependent(pattern) != NULL) {
		if (errlen > 0)
			snprintf(err, errlen,
				 "%s depends on where a search starts, and "
				 "this text is searched in pieces",
				 start_dependent(pattern));
		pcre2_code_free(code);
		return NULL;
	}
	wrapped = compile_wrapped(pattern, opts);
	if (wrapped != NULL) {
		pcre2_code_free(code);
		code = wrapped;
	}
	re = calloc(1, sizeof(*re));
	if (re == NULL || (re->pattern = strdup(pattern)) == NULL)
		goto nomem;
	re->code = code;
	re->flags = flags;
	re->lookbehind = lookbehind_octets(code, pattern, flags & REGEX_UTF);
	/*
	 * For a text in pieces: hard partial matching, JIT-compiled too, and
	 * where (?m)^ can occur, a copy that lets it match after a newline
	 * at the end of a piece (PCRE2 says "no match" there without
	 * PCRE2_ALT_CIRCUMFLEX, even in partial mode, as if the piece ended
	 * the text).
	 */
	if (flags & REGEX_STREAM) {
		if (may_have_circm(pattern, flags)) {
			re->more =
			    compile_code(pattern, opts | PCRE2_ALT_CIRCUMFLEX);
			if (re->more == NULL)
				goto nomem;
			(void)pcre2_jit_compile(re->more,
						PCRE2_JIT_COMPLETE |
						    PCRE2_JIT_PARTIAL_HARD);
		} else {
			re->more = code;
		}
	}
	/* else (or when JIT fails) PCRE2 interprets */
	(void)pcre2_jit_compile(
	    code, re->more == code ? PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD
				   : PCRE2_JIT_COMPLETE);
	return re;
nomem:
	if (re != NULL)
		free(re->pattern);
	free(re);
	pcre2_code_free(code);
	if (errlen > 0)
		snprintf(err, errlen, "out of memory");
	return NULL;
}

int regex_find(const struct regex *re, const char *subject, size_t len,
	       size_t start, size_t last, uint32_t opts, size_t *at)
{
	struct rx_thread *t;
	const pcre2_code *code;
	uint32_t mo = 0;
	int rc;

	if (re == NULL)
		return 0;
	if (subject == NULL) {
		if (len > 0)
			return -1;
		subject = "";
	}
	if (start > len)
		return -1;
	t = rx_thread_get();
	if (t == NULL)
		return -1;
	if (opts & REGEX_NOTBOL)
		mo |= PCRE2_NOTBOL;
	if (opts & REGEX_NOTEOL)
		mo |= PCRE2_NOTEOL;
	code = re->code;
	if ((opts & (REGEX_MORE | REGEX_PARTIAL)) && re->more != NULL)
		code = re->more;
	if (opts & REGEX_PARTIAL)
		mo |= PCRE2_PARTIAL_HARD;
	t->ticks = 0;
	t->last = last;
	rc = pcre2_match(code, (PCRE2_SPTR)subject, len, start, mo, t->md,
			 t->mc);
	/* rc 0: matched, the ovector was too small (it never is) */
	if (rc >= 0 || rc == PCRE2_ERROR_PARTIAL) {
		/* where the attempt began, before any \K, never before start */
		if (at != NULL) {
			*at = pcre2_get_startchar(t->md);
			if (*at < start)
				*at = start;
		}
		return rc >= 0 ? 1 : 2;
	}
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

int regex_match_at(const struct regex *re, const char *subject, size_t len,
		   size_t start, uint32_t opts)
{
	return regex_find(re, subject, len, start, SIZE_MAX,
			  opts & ~REGEX_PARTIAL, NULL);
}

size_t regex_lookbehind(const struct regex *re)
{
	return re != NULL ? re->lookbehind : 2;
}

int regex_match(const struct regex *re, const char *subject, size_t len)
{
	return regex_match_at(re, subject, len, 0, 0);
}

const char *regex_pattern(const struct regex *re)
{
	return re != NULL ? re->pattern : NULL;
}

void regex_free(struct regex **re)
{
	if (re == NULL || *re == NULL)
		return;
	if ((*re)->more != (*re)->code)
		pcre2_code_free((*re)->more);
	pcre2_code_free((*re)->code);
	free((*re)->pattern);
	free(*re);
	*re = NULL;
}

/* --- lists ------------------------------------------------------------ */

struct regex_list *regex_list_new(void)
{
	return calloc(1, sizeof(struct regex_list));
}

int regex_list_append(struct regex_list *l, struct regex *re)
{
	if (l == NULL || re == NULL) {
		regex_free(&re);
		return -1;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		struct regex **nv = realloc(l->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			regex_free(&re);
			return -1;
		}
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = re;
	return 0;
}

int regex_list_add(struct regex_list *l, const char *pattern, uint32_t flags,
		   char *err, size_t errlen)
{
	struct regex *re = regex_compile(pattern, flags, err, errlen);

	if (re == NULL)
		return -1;
	if (regex_list_append(l, re) < 0) {
		if (errlen > 0)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int regex_list_match_at(const struct regex_list *l, const char *subject,
			size_t len, size_t start, uint32_t opts)
{
	bool failed = false;

	if (l == NULL)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		int r = regex_match_at(l->v[i], subject, len, start, opts);
		if (r > 0)
			return 1;
		if (r < 0)
			failed = true;
	}
	return failed ? -1 : 0;
}

int regex_list_match(const struct regex_list *l, const char *subject,
		     size_t len)
{
	return regex_list_match_at(l, subject, len, 0, 0);
}

size_t regex_list_count(const struct regex_list *l)
{
	return l != NULL ? l->n : 0;
}

const struct regex *regex_list_get(const struct regex_list *l, size_t i)
{
	return l != NULL && i < l->n ? l->v[i] : NULL;
}

void regex_list_free(struct regex_list **l)
{
	if (l == NULL || *l == NULL)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		regex_free(&(*l)->v[i]);
	free((*l)->v);
	free(*l);
	*l = NULL;
}
