/*
 * dns.h - DNS list lookups: the names to ask (an address reversed under
 * a zone, a domain under a zone), which answers count (answer filters),
 * the text of TXT answers made safe, a process-wide cache that honours
 * TTLs, and a resolver (libunbound) that asks many names at once.
 *
 * Knows nothing of mail policy. dnsname.c and dnscache.c are pure (no
 * libunbound); dns.c alone includes libunbound's header. Nothing here
 * logs or exits: functions return a status and fill a caller's buffer.
 */
#ifndef RCM_DNS_H
#define RCM_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DNS_NAME_MAX   256   /* a name as text, with the NUL (RFC 1035: 253) */
#define DNS_ADDRS_MAX  8     /* A records of one answer kept */
#define DNS_TXT_MAX    512   /* octets of a TXT answer kept, with the NUL */
#define DNS_TTL_MAX    86400 /* a TTL longer than this counts as this */
#define DNS_FILTER_MAX 16    /* patterns of one answer filter */

enum dns_type { DNS_A = 1, DNS_TXT = 16 };

enum dns_status {
	DNS_PENDING, /* not answered (yet) */
	DNS_FOUND,   /* records of the type were found */
	DNS_NONE,    /* NXDOMAIN, or the name has no record of the type */
	DNS_FAILED,  /* no answer: timeout, SERVFAIL, refused, ... (why) */
};

/* The answer to one query. */
struct dns_answer {
	enum dns_status status;
	unsigned naddr;		      /* DNS_A: addresses kept */
	uint32_t addr[DNS_ADDRS_MAX]; /* DNS_A: host order */
	char txt[DNS_TXT_MAX];	      /* DNS_TXT: the character-strings
					 joined, each octet that is not
					 printable ASCII as '?', cut */
	unsigned ttl;		      /* seconds the answer may be kept */
	bool cached;		      /* from the process cache */
	char why[96];		      /* DNS_FAILED: what went wrong */
};

struct dns_query {
	char name[DNS_NAME_MAX];
	enum dns_type type;
	struct dns_answer ans;
};

/* --- names (dnsname.c) ------------------------------------------------ */

/*
 * Check a zone (a DNS list's domain): letters, digits, '-', '_' and
 * dots, labels of 1 to 63 octets, at most 200 octets in all (room left
 * for what goes before it). A trailing dot is allowed (and dropped by
 * dns_name_*). Returns 0, or -1 with err.
 */
int dns_zone_check(const char *zone, char *err, size_t errlen);

/*
 * The name that looks up address ip (16 octets; IPv4-mapped is IPv4) in
 * zone: "4.3.2.1.zone" for 1.2.3.4, 32 nibbles reversed for IPv6.
 * Returns 0, or -1 when it does not fit out.
 */
int dns_name_ip(const unsigned char ip[16], const char *zone, char *out,
		size_t outlen);

/*
 * The name that looks up domain (a host or mail domain, no trailing
 * dot) in zone: "domain.zone". Returns 0, or -1 when the domain is not
 * one that can be asked (empty, an address literal, a label that is too
 * long or has other than letters, digits, '-', '_') or the name would
 * be longer than 253 octets.
 */
int dns_name_domain(const char *domain, const char *zone, char *out,
		    size_t outlen);

/*
 * Which A answers count: patterns of four octets, each a number, a range
 * "[4..11]" or a list "[2;4;6]" (the two mixed: "[2..4;9]"), patterns
 * separated by ','. Postfix's postscreen_dnsbl_sites syntax.
 */
struct dns_filter {
	unsigned n;			      /* 0: every answer counts */
	uint64_t octet[DNS_FILTER_MAX][4][4]; /* per pattern, per octet: a
						 256-bit set */
};

/* Parse s into f. Returns 0, or -1 with err naming what is wrong. */
int dns_filter_parse(const char *s, struct dns_filter *f, char *err,
		     size_t errlen);
bool dns_filter_match(const struct dns_filter *f, uint32_t addr);

/*
 * Join the character-strings of one TXT record's RDATA (each a length
 * octet and that many octets) to out, after what out already holds
 * (*used octets), cut at outlen - 1 and NUL-terminated; an octet that is
 * not printable ASCII becomes '?'. Returns 0, or -1 when the RDATA is
 * malformed (a string runs past its end): nothing is added then.
 */
int dns_txt_join(const unsigned char *rdata, size_t len, char *out,
		 size_t outlen, size_t *used);

/*
 * Check an upstream setting: "system" (the nameservers of
 * /etc/resolv.conf), "recursive" (ask the authoritative servers from the
 * root), or one or more forwarders "ADDR" or "ADDR@PORT" separated by
 * spaces or commas. Returns 0, or -1 with err.
 */
int dns_upstream_check(const char *upstream, char *err, size_t errlen);

/* --- the process cache (dnscache.c) ---------------------------------- */

struct dns_cache;

/*
 * A cache of at most max answers (DNS_FOUND and DNS_NONE ones; a failure
 * is never kept), each for its TTL, capped to DNS_TTL_MAX; a TTL of 0 is
 * not kept. clock (NULL: CLOCK_MONOTONIC seconds) is for tests. Safe for
 * many threads. NULL when memory ran out.
 */
struct dns_cache *dns_cache_new(size_t max, time_t (*clock)(void));
void dns_cache_free(struct dns_cache **c);

/* The answer to (name, type) while its TTL runs: true and *out (its ttl
 * the seconds left, cached set), or false. */
bool dns_cache_get(struct dns_cache *c, const char *name, enum dns_type type,
		   struct dns_answer *out);

/* Keep a (when it can be kept). When full, expired answers go first; if
 * none has, a is not kept. */
void dns_cache_put(struct dns_cache *c, const char *name, enum dns_type type,
		   const struct dns_answer *a);

/* Answers kept now (expired ones included until swept). */
size_t dns_cache_count(struct dns_cache *c);

/* --- the resolver (dns.c, libunbound) --------------------------------- */

struct dns_resolver;

/*
 * The process's resolver for upstream (dns_upstream_check()), with its
 * cache: the one in use when its upstream is the same, else a new one
 * (the old one lives on while anything holds it). Each call takes a
 * reference that dns_resolver_put() drops. NULL with err when it cannot
 * be set up (libunbound refused the upstream, no memory).
 */
struct dns_resolver *dns_resolver_get(const char *upstream, char *err,
				      size_t errlen);
void dns_resolver_put(struct dns_resolver **r);

/*
 * At exit: drop the process's own reference to the newest resolver, so
 * that it is freed (its thread stopped, its libunbound context and cache
 * freed) now, or when the last session that holds it puts it. A later
 * dns_resolver_get() makes a new one. Safe to call when none was made.
 */
void dns_resolver_shutdown(void);

/*
 * Answer the n queries in q: each from the cache when it is there, the
 * others asked at once, in parallel, waiting at most timeout_ms for all
 * of them; an unanswered one is DNS_FAILED ("timed out") and its late
 * answer still goes to the cache. Safe from many threads at once.
 */
void dns_resolve(struct dns_resolver *r, struct dns_query *q, size_t n,
		 long timeout_ms);

#endif
