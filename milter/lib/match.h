/*
 * match.h - the matching primitives of the policy core: address sets
 * (CIDR), string, domain and e-mail address sets, the envelope address
 * parser, PCRE2 regexes and regex lists, and a streaming body scanner.
 *
 * Every set and regex is built once while the config is loaded (one
 * thread), then only read: lookups take a const pointer, change nothing
 * and may run in many threads at once. Nothing here includes libmilter or
 * libconfuse, logs, or exits. Builders return 0 / -1 (or NULL) and fill
 * the caller's err buffer (always NUL-terminated when errlen > 0); the
 * caller decides what to say. Text from the wire (addresses, names, body)
 * is treated as hostile: lengths are bounded and an over-long value is
 * "no match" or an error, never an overflow; an envelope address that
 * cannot be read is an error the caller must fail closed on.
 */
#ifndef RCM_MATCH_H
#define RCM_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/quote.h" /* match_quote() */

/* --- addresses (match_addr.c) ----------------------------------------- */

/*
 * A set of IPv4 and IPv6 prefixes. Addresses are 16 octets in network
 * order; IPv4 is stored and looked up as IPv4-mapped IPv6 (::ffff:a.b.c.d),
 * so one set holds both families:
 *   0.0.0.0/0 matches every IPv4 address and no IPv6 one;
 *   ::/0 matches everything, IPv4 included (its mapped form is in ::/0);
 *   ::ffff:192.0.2.0/120 is the same entry as 192.0.2.0/24.
 * Overlapping prefixes are fine: an address matches when any entry holds
 * it. Internally one open-addressing hash table for IPv4 prefixes (8
 * octets a slot) and one for IPv6, keyed by (prefix length, network); a
 * lookup probes once per prefix length present in the set (at most 33 for
 * IPv4, 129 for IPv6), each probe asked of a filter first (bloom.h: from
 * 49 entries of a family on, 0.75 octet a slot), which turns away most
 * probes for networks the set does not hold before they touch the table;
 * the probes' filter blocks are prefetched together. An IPv4 address
 * probes only the IPv4 table (whether some IPv6 entry holds every
 * IPv4-mapped address is known from the entries). A million IPv4 entries
 * cost about 16 MiB of slots and 1.5 MiB of filter, in huge pages where
 * the kernel gives them (bigmem.h).
 */
struct addr_set;

/* A new empty set, or NULL when memory runs out. Free with addr_set_free. */
struct addr_set *addr_set_new(void);

/*
 * Add one entry, text (NUL-terminated, at most 100 octets):
 *   "192.0.2.1"  "192.0.2.0/24"  "2001:db8::/32"  "::1"  "[2001:db8::1]"
 *   "IPv6:2001:db8::1"  "[IPv6:2001:db8::1]"  "[192.0.2.0]/24"
 * A prefix length is decimal without leading zeros, 0-32 for IPv4 text,
 * 0-128 for IPv6 text. An entry with host bits set is REJECTED, with a
 * hint: "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?".
 * IPv4 with fewer than four parts ("1.2.3"), leading zeros, zone ids
 * ("fe80::1%eth0") and anything else are rejected. Adding an entry that
 * is already there changes nothing. Returns 0, or -1 with err filled
 * (also "out of memory").
 */
int addr_set_add(struct addr_set *s, const char *text, char *err,
		 size_t errlen);

/*
 * Parse one address (no prefix) in any of the forms above into out;
 * IPv4 becomes IPv4-mapped. Returns 0, or -1 (out unspecified).
 */
int addr_parse(const char *text, unsigned char out[16]);

/* Is addr in the set? s may be NULL (no match). Thread-safe, read-only. */
bool addr_set_match(const struct addr_set *s, const unsigned char addr[16]);

/* Number of distinct entries. */
size_t addr_set_count(const struct addr_set *s);

/* Free the set and set *s to NULL; s or *s NULL is fine. */
void addr_set_free(struct addr_set **s);

/* --- string sets (match_set.c) ---------------------------------------- */

/*
 * An open-addressing hash set of byte strings (any octets, NUL included,
 * at most UINT32_MAX octets). With nocase, ASCII letters compare without
 * case (other octets exactly). The set keeps its own copies; its slots
 * are in huge pages where the kernel gives them (bigmem.h). A filter
 * (bloom.h, 0.75 octet a slot) answers most lookups of strings the set
 * does not hold without a walk through the slots.
 */
struct str_set;

/* A new empty set, or NULL when memory runs out. */
struct str_set *str_set_new(bool nocase);

/*
 * Add s[0..len). Adding a string already there changes nothing. Returns 0,
 * or -1 when memory runs out or len is too big.
 */
int str_set_add(struct str_set *set, const char *s, size_t len);

/* Is s[0..len) in the set? set may be NULL (no). Thread-safe, read-only. */
bool str_set_has(const struct str_set *set, const char *s, size_t len);

/* Number of distinct strings. */
size_t str_set_count(const struct str_set *set);

/* Free the set and set *set to NULL; NULL is fine. */
void str_set_free(struct str_set **set);

/* --- domain sets (match_set.c) ---------------------------------------- */

#define DOMAIN_MAX 253 /* octets, without the trailing dot */

/*
 * A set of domain names, each entry either exact or "subdomains":
 *   domain_set_add(s, "example.com", false): example.com only;
 *   domain_set_add(s, "example.com", true): every name strictly below it
 *     (a.example.com, a.b.example.com), NOT example.com itself.
 * "example.com and everything below it" is the two entries together.
 * The config syntax is the config layer's choice; domain_set_add_entry()
 * offers the usual one. Matching is ASCII case-insensitive and ignores one
 * trailing dot; its cost is one hash lookup per label of the name.
 */
struct domain_set;

/* A new empty set, or NULL when memory runs out. */
struct domain_set *domain_set_new(void);

/*
 * Add name (one trailing dot ignored). Checked: 1-253 octets, labels of
 * 1-63 octets of letters, digits, '-' and '_'. A subdomains entry may be
 * a single label ("com": every name under com). Returns 0, or -1 with
 * err filled ("domain \"a..b\": empty label").
 */
int domain_set_add(struct domain_set *s, const char *name, bool with_subdomains,
		   char *err, size_t errlen);

/*
 * Add one entry in the usual config syntax: "example.com" is exact,
 * ".example.com" and "*.example.com" are its subdomains only. Returns 0,
 * or -1 with err filled.
 */
int domain_set_add_entry(struct domain_set *s, const char *text, char *err,
			 size_t errlen);

/*
 * Does domain (NUL-terminated, from the wire) match? s may be NULL (no).
 * A name longer than 253 octets (plus one dot), or empty, matches
 * nothing. Thread-safe, read-only.
 */
bool domain_set_match(const struct domain_set *s, const char *domain);

/* Number of distinct entries (exact and subdomains counted apart). */
size_t domain_set_count(const struct domain_set *s);

/* Free the set and set *s to NULL; NULL is fine. */
void domain_set_free(struct domain_set **s);

/* --- envelope addresses (match_envaddr.c) ---------------------------- */

#define ENVADDR_MAX 512 /* octets of input envaddr_parse() reads */

/*
 * An envelope address in normal form: the address Postfix delivers to
 * (see envaddr_parse), as text without angle brackets. text[0..at) is the
 * local part, quoted only when it is not an RFC 822 dot-string ("a b"@d,
 * "a@b"@d; "v"@d is v@d); when at < len, text[at] is the '@' and the
 * domain follows: lower-case, no trailing dot, either labels of atom
 * octets between single dots or one literal "[...]". at == len: no domain
 * ("postmaster"). len == 0: the null sender. Always NUL-terminated, never
 * longer than the input plus two quotes.
 */
struct envaddr {
	char text[ENVADDR_MAX + 3];
	size_t len;
	size_t at;
};

/*
 * Read in[0..n) (any octets, from the wire or the config) the way Postfix
 * reads MAIL FROM and RCPT TO (smtpd's extract_addr(), tok822_parse(),
 * quote_822_local() and the canonical rewrite; the file says what exactly):
 * blanks, one pair of <> around it all, "<<u@d>>", a '>' left at the end,
 * a phrase before "<u@d>", comments "(...)", source routes "@a,@b:",
 * backslash escapes, quoted strings joined unquoted, "d!u" and "u%d"
 * without an '@' as u@d, one trailing dot of the domain, and the domain's
 * case. "<>", "", "<\"\">" and "<@>" are the null sender. Returns 0 with
 * a filled, or -1 with a empty and err (when errlen > 0) saying why: more
 * than ENVADDR_MAX octets, a NUL or control octet (TAB is a blank), an
 * unclosed quote, comment or literal, unbalanced or nested <>, two words
 * side by side (two addresses), ',' or ';' outside a source route, an
 * empty or malformed domain. Thread-safe; uses about 4 KiB of stack.
 */
int envaddr_parse(const char *in, size_t n, struct envaddr *a, char *err,
		  size_t errlen);

/* The domain of a (without the '@'), or "" when it has none. */
const char *envaddr_domain(const struct envaddr *a);

/* --- e-mail address sets (match_set.c) -------------------------------- */

#define EMAIL_MAX 320 /* octets of a config entry */

/*
 * A set of e-mail addresses, kept in normal form (envaddr_parse), so that
 * every spelling of an entry matches it. Domains always compare without
 * case; local parts without (ASCII) case unless local_case_sensitive.
 */
struct email_set;

/* A new empty set, or NULL when memory runs out. */
struct email_set *email_set_new(bool local_case_sensitive);

/*
 * Add one address, in any spelling envaddr_parse reads: "User@Example.COM",
 * "<user@example.com>", "\"user\"@example.com", the null sender "<>" or
 * "" and, alone of the addresses without a domain, "postmaster" (RFC 5321
 * 4.1.1.3). At most EMAIL_MAX octets; the local part must not be empty;
 * the domain must be a valid domain name or an address literal "[...]".
 * Returns 0, or -1 with err filled.
 */
int email_set_add(struct email_set *s, const char *addr, char *err,
		  size_t errlen);

/*
 * Is the address a (normal form, from envaddr_parse) in the set? s may be
 * NULL (no). Thread-safe, read-only.
 */
bool email_set_match(const struct email_set *s, const struct envaddr *a);

/* Number of distinct entries. */
size_t email_set_count(const struct email_set *s);

/* Free the set and set *s to NULL; NULL is fine. */
void email_set_free(struct email_set **s);

/* --- regexes (match_regex.c) ------------------------------------------ */

/* Compile flags for regex_compile. */
#define REGEX_CASELESS	0x01u /* (?i) */
#define REGEX_MULTILINE 0x02u /* (?m): ^ and $ at line breaks */
#define REGEX_DOTALL	0x04u /* (?s): . matches a newline */
#define REGEX_EXTENDED	0x08u /* (?x): blanks and # comments ignored */
#define REGEX_UTF                                                              \
	0x10u /* UTF-8 pattern; invalid UTF-8 in a                             \
		 subject is tolerated, never an error.                         \
		 Without it (*UTF) is refused. */
#define REGEX_STREAM                                                           \
	0x20u /* will also be matched against pieces of a                      \
		 longer text (REGEX_MORE, REGEX_PARTIAL):                      \
		 JIT-compiled for partial matching too, and                    \
		 for (?m)^ a second code (see REGEX_MORE).                     \
		 Refused with REGEX_UTF (a piece may end inside                \
		 a character), and \G and (*NOTEMPTY_ATSTART):                 \
		 they depend on where a search starts. */

/* Match options for regex_match_at, regex_list_match_at and regex_find. */
#define REGEX_NOTBOL 0x01u /* the subject does not start a line/text */
#define REGEX_NOTEOL 0x02u /* the subject does not end the text */
#define REGEX_MORE                                                             \
	0x04u /* more text follows the subject: (?m)^ may                      \
		 match after a newline that ends it (PCRE2                     \
		 says no there: PCRE2_ALT_CIRCUMFLEX). Needs                   \
		 REGEX_STREAM, else ignored. */
#define REGEX_PARTIAL                                                          \
	0x08u /* regex_find only: PCRE2_PARTIAL_HARD (and                      \
		 REGEX_MORE): report a match that more text                    \
		 could complete or change, see regex_find */

/*
 * The limits that keep a hostile subject from holding a thread, whatever
 * the pattern (ReDoS). PCRE2 counts its match limit per start position,
 * so it alone does not bound a call: each compiled pattern also carries a
 * callout at its start that checks a clock every few start positions and
 * ends the call, as an error, past REGEX_TIME_LIMIT_MS.
 *   REGEX_MATCH_LIMIT    PCRE2 match limit (per start position)
 *   REGEX_DEPTH_LIMIT    backtracking depth (interpreter)
 *   REGEX_HEAP_LIMIT_KIB backtracking memory per thread (interpreter)
 *   REGEX_JIT_STACK_MAX  JIT stack per thread, reserved at first use
 *   REGEX_TIME_LIMIT_MS  wall-clock time of one regex_match call
 */
#define REGEX_MATCH_LIMIT    1000000u
#define REGEX_DEPTH_LIMIT    100000u
#define REGEX_HEAP_LIMIT_KIB 20480u
#define REGEX_JIT_STACK_MAX  (4u * 1024 * 1024)
#define REGEX_TIME_LIMIT_MS  1000

struct regex;

/*
 * Compile pattern (PCRE2 syntax, NUL-terminated) with REGEX_* flags, and
 * JIT-compile it when the library can. Returns the regex (free with
 * regex_free), or NULL with err filled: "at offset 4: missing closing
 * parenthesis" (offset in octets into pattern), or "out of memory".
 */
struct regex *regex_compile(const char *pattern, uint32_t flags, char *err,
			    size_t errlen);

/*
 * Match subject[0..len) (NUL octets are fine). Returns 1 on a match, 0 on
 * none, -1 on an internal failure (a limit above hit, no memory): the
 * caller treats -1 as a failure, never as "no match". re NULL gives 0.
 * Thread-safe: per-thread match data, match context and JIT stack are
 * taken at a thread's first call (from those ended threads gave back, or
 * made) and given back when the thread exits (regex_thread_cleanup()).
 */
int regex_match(const struct regex *re, const char *subject, size_t len);

/*
 * The same, trying start positions from start on (start <= len): the
 * octets before start are context only, seen by lookbehind and \b; ^
 * (without (?m)) and \A never match when start > 0. opts: REGEX_NOTBOL,
 * REGEX_NOTEOL.
 */
int regex_match_at(const struct regex *re, const char *subject, size_t len,
		   size_t start, uint32_t opts);

/*
 * The same, saying where, with no attempt starting after last (SIZE_MAX:
 * anywhere; a bound to save time, kept by the time-limit callout, so not
 * by a pattern that could not be wrapped): 1 a match (*at, when at is not
 * NULL: the offset where the match attempt began, before any \K), 0
 * none, -1 a failure as above, and with REGEX_PARTIAL 2: a partial match
 * (pcre2partial(3), PCRE2_PARTIAL_HARD): the match attempt from *at
 * reached the end of the subject before it was settled, so more text may
 * complete it (or change it); every start position from start to before
 * *at can match nothing, whatever follows. A match (1) under
 * REGEX_PARTIAL never depends on the end of the subject: $, \z, \Z, \b,
 * \B and lookarounds there give 2. *at is never less than start.
 */
int regex_find(const struct regex *re, const char *subject, size_t len,
	       size_t start, size_t last, uint32_t opts, size_t *at);

/*
 * How many octets before a start position a match may read (its
 * lookbehinds, \b, (?m)^), at least 2: PCRE2's longest lookbehind times
 * the number of lookbehinds in the pattern, plus two (the CR LF a (?m)^
 * reads back). re NULL gives 2.
 */
size_t regex_lookbehind(const struct regex *re);

/* The pattern as given to regex_compile (owned by re). */
const char *regex_pattern(const struct regex *re);

/* Free re and set *re to NULL; NULL is fine. */
void regex_free(struct regex **re);

/*
 * Free the calling thread's match state (made again when needed) and the
 * states that ended threads left for the next ones (a thread's state
 * outlives it in a pool of up to 256, so that a thread per connection
 * does not map a JIT stack per connection). Call it when no other thread
 * matches any more (at exit, for leak checkers).
 */
void regex_thread_cleanup(void);

/* A list of regexes that matches when any of them does. */
struct regex_list;

/* A new empty list, or NULL when memory runs out. */
struct regex_list *regex_list_new(void);

/* Compile pattern and append it. Returns 0, or -1 with err filled. */
int regex_list_add(struct regex_list *l, const char *pattern, uint32_t flags,
		   char *err, size_t errlen);

/*
 * Append a compiled regex; the list owns it from then on, also on
 * failure (freed then). Returns 0, or -1 when memory runs out.
 */
int regex_list_append(struct regex_list *l, struct regex *re);

/*
 * 1 when any regex matches, 0 when none does, -1 when none matched and at
 * least one failed (see regex_match). l NULL or empty gives 0.
 */
int regex_list_match(const struct regex_list *l, const char *subject,
		     size_t len);
int regex_list_match_at(const struct regex_list *l, const char *subject,
			size_t len, size_t start, uint32_t opts);

size_t regex_list_count(const struct regex_list *l);
/* The i-th regex (borrowed), NULL when i is out of range. */
const struct regex *regex_list_get(const struct regex_list *l, size_t i);

/* Free the list and its regexes and set *l to NULL; NULL is fine. */
void regex_list_free(struct regex_list **l);

/* --- streaming body scanner (match_body.c) ---------------------------- */

#define BODY_SPAN_DEFAULT (64 * 1024) /* octets */
#define BODY_SPAN_MIN	  1024
#define BODY_SPAN_MAX	  (1024 * 1024)

/*
 * Finds regexes in a message body that arrives in chunks cut anywhere, as
 * if the whole body were one text, with memory bounded by the span S.
 *
 * Method: PCRE2's multi-segment matching (pcre2partial(3)) with
 * PCRE2_PARTIAL_HARD. For each regex the scanner knows the first start
 * position not yet settled. A hard partial search from there over the
 * text held and the new chunk either finds a match (one that does not
 * depend on what follows), or shows that no start before the end of the
 * data can match whatever follows, or stops at the first start P whose
 * attempt reached the end of the data. The scanner then holds the body
 * from P on, with the octets before P the regex may read
 * (regex_lookbehind()), and searches again from P when more arrives. At
 * the end of the body (body_scan_end) what is held is matched with the
 * end of the text where it is: $, \z and \b see the true end there.
 *
 * The span: a start still open once S octets from it are in hand (PCRE2
 * could not settle it from S octets: a match longer than S, or a pattern
 * that reads on, like (?s)a.*b, whose .* runs to the end of the data
 * before it backs off to the b) is judged once, on the text in hand: it
 * matches when a complete match starts there with the end of the data
 * taken as the end of the text ($ does not match there). The search then
 * goes on from the first start with fewer than S octets in hand.
 *
 * Guarantee: every match that PCRE2 settles reading at most S octets
 * from its start is found, wherever the chunks are cut (1-octet chunks
 * included): that is every match of at most S octets, counting what its
 * lookaheads, \b and $ read after it, and every match at all while no
 * start stays open for S octets (then the scanner gives what the whole
 * body gives). Its lookbehinds may read back up to min(regex_lookbehind(),
 * S) octets. A longer match may be missed (S + 1 octets in 1-octet
 * chunks: tests/unit/check_match.c). No match is found that the whole
 * body would not give, except by a start judged on the span: a pattern
 * that asks about what lies further than S octets after its start (\z,
 * (?!.*x)) reads the end of the data in hand as the end of the text.
 *
 * Memory: the text held is less than S plus the lookbehind octets L (the
 * largest min(regex_lookbehind(), S) of the regexes); while a chunk is
 * fed, up to S + L of its head may be copied behind it (the rest is
 * matched in place). So a scanner holds at most 2 * (S + L) octets of
 * buffer plus 8 octets a regex (body_scan_buffer_size()); usually L and a
 * few KiB. Time: each octet is searched about once; an open start is
 * searched again with each chunk until it is settled or judged. Per
 * regex and chunk: up to three searches, more (doubling the copied head,
 * at most log2(S) times) only while a start in the text held stays open;
 * each search under the regex limits above.
 *
 * One per message and body condition, owned by the caller (it may live
 * in an array); not shared between threads. Feed it the same regexes each
 * time, compiled with REGEX_STREAM (without it (?m)^ after a newline that
 * ends a chunk is missed, and PCRE2 interprets partial matches). Buffers
 * are allocated at the first feed and kept across body_scan_reset. The
 * fields are the scanner's own.
 */
struct body_scan {
	size_t span;	    /* S */
	unsigned char *buf; /* the text held, then a copied head of a chunk */
	size_t cap;	    /* octets allocated at buf */
	size_t hlen;	    /* octets held: the body from base on */
	uint64_t base;	    /* body offset of buf[0] */
	uint64_t total;	    /* body octets fed so far */
	uint64_t *next;	    /* per regex: the first start not yet settled */
	size_t nre;	    /* regexes next is for (0: not allocated) */
	size_t most;	    /* the most buf may need: 2 * (S + L) */
	bool matched;	    /* sticky */
	bool late;	    /* matched by body_scan_end */
	bool ended;	    /* body_scan_end was called */
	bool failed;	    /* sticky -1 */
};

/* Prepare s; span 0 means BODY_SPAN_DEFAULT, else clamped to MIN..MAX. */
void body_scan_init(struct body_scan *s, size_t span);

/*
 * Feed the next chunk (any octets, len may be 0). Returns 1 when the body
 * so far matches one of the regexes (sticky: later calls return 1 without
 * work), 0 not yet, -1 on an internal failure (a regex limit, no memory;
 * sticky too). list NULL or empty never matches.
 */
int body_scan_feed(struct body_scan *s, const struct regex_list *list,
		   const unsigned char *chunk, size_t len);
/* The same with a single regex. */
int body_scan_feed_regex(struct body_scan *s, const struct regex *re,
			 const unsigned char *chunk, size_t len);

/*
 * The body is complete: settle what is still open, with the end of the
 * text where it is. Returns as body_scan_feed; a second call, or a feed
 * after it, changes nothing. The empty body (nothing fed) is matched too.
 */
int body_scan_end(struct body_scan *s, const struct regex_list *list);
int body_scan_end_regex(struct body_scan *s, const struct regex *re);

/* Has a feed or the end matched since init or reset? */
bool body_scan_matched(const struct body_scan *s);

/* Did it match only at body_scan_end (the match needed the true end)? */
bool body_scan_late(const struct body_scan *s);

/* Octets of buffer held now (0 before the first feed). */
size_t body_scan_buffer_size(const struct body_scan *s);

/* Forget the message (for the next one on the connection); keeps buffers. */
void body_scan_reset(struct body_scan *s);

/* Free the buffers; s may be init'ed again. NULL is fine. */
void body_scan_free(struct body_scan *s);

#endif
