/*
 * dnsq.h - DNS list conditions on a session: client_dnsbl, client_dnswl,
 * client_name_rhsbl, helo_rhsbl, sender_rhsbl (one cond_*.c file each,
 * all built and evaluated here).
 *
 * What a session asks, it asks once: at the first condition that needs
 * a subject (the client's address, its name, the HELO name, the sender's
 * domain), every zone any rule of the policy looks that subject up in
 * is asked at once, in parallel (lib/dns.h), then the TXT records of
 * those that listed it when a rule shows $dnsbl_txt. Later conditions,
 * stages and rules read the answers kept in the session; the sender's
 * are asked again for each message. The connection's DNS time is
 * bounded (dns_timeout). A lookup that fails is reported (dnsq_report)
 * and counted, and is "not listed" (dns_error = ignore) or makes the
 * condition fail with COND_DNS_ERROR (dns_error = tempfail).
 * No libmilter, no libconfuse, no logging.
 */
#ifndef RCM_DNSQ_H
#define RCM_DNSQ_H

#include "core/cond.h"
#include "lib/dns.h"

/* What a DNS list condition looks up. */
enum dnsq_subject {
	DNSQ_CLIENT,	  /* the client's address, reversed */
	DNSQ_CLIENT_NAME, /* the client's host name */
	DNSQ_HELO,	  /* the HELO name */
	DNSQ_SENDER,	  /* the sender's domain (per message) */
	DNSQ_SUBJECTS
};

/* One zone of a condition: "zone[=answers][*weight]". */
struct dnsl_entry {
	char *zone; /* owned, no trailing dot */
	size_t zi;  /* its index in policy.dns.zone (dnsq_layout()) */
	struct dns_filter filter;
	long weight;
};

/* A DNS list condition's data. */
struct dnsl {
	enum dnsq_subject subject;
	size_t n;
	struct dnsl_entry *e; /* owned */
	long threshold;	      /* holds when the weights of the zones that
				 list the subject add up to this */
};

/* How many entries a condition may have. */
#define DNSL_MAX_ZONES 32

/*
 * Parse one entry "zone[=answers][*weight]" into e (e->zone allocated).
 * Returns 0, -1 with err, -2 when memory ran out.
 */
int dnsl_entry_parse(const char *s, struct dnsl_entry *e, char *err,
		     size_t errlen);

/*
 * One DNS list kind, after its table of options NAME_opts (NAME, the
 * zones, and NAME_threshold: written out in its file, where the docs
 * check reads them): what it looks up, from which stage on (and why not
 * before), the events it needs. Each cond_NAME.c is the table and this.
 */
#define DNSL_KIND(NAME, SUBJECT, FIRST, NEEDS, KNOWN_WHEN)                     \
	static int NAME##_build(const struct cond_kind *k,                     \
				const struct cond_builder *b)                  \
	{                                                                      \
		return dnsl_build(k, b, SUBJECT);                              \
	}                                                                      \
	const struct cond_kind kind_##NAME = {                                 \
	    .name = #NAME,                                                     \
	    .opts = NAME##_opts,                                               \
	    .first = FIRST,                                                    \
	    .last = STAGE_EOM,                                                 \
	    .known_when = KNOWN_WHEN,                                          \
	    .build = NAME##_build,                                             \
	    .eval = dnsl_eval,                                                 \
	    .needs = NEEDS,                                                    \
	    .free = dnsl_free,                                                 \
	}

/* A kind's build, eval and free (cond_client_dnsbl.c and the others). */
int dnsl_build(const struct cond_kind *k, const struct cond_builder *b,
	       enum dnsq_subject subject);
int dnsl_eval(const struct cond *c, enum stage st, struct session *s);
void dnsl_free(void *data);

/*
 * Gather every zone the policy's DNS conditions ask into p->dns.zone,
 * and link each entry to its zone. Called once the rules are built.
 * Returns 0, or -1 when memory ran out.
 */
int dnsq_layout(struct policy *p);

/* A session's DNS state: made in session_begin() when the policy has
 * DNS conditions, a new message forgets the sender's answers, freed in
 * session_end(). */
int dnsq_begin(struct session *s);
void dnsq_reset_message(struct session *s);
void dnsq_end(struct session *s);

/*
 * Take a and txt (NULL: not listed) as zone zi's answers in s, and
 * subject sub as asked: what a lookup would have left (for tests).
 */
void dnsq_set(struct session *s, enum dnsq_subject sub, size_t zi,
	      const struct dns_answer *a, const struct dns_answer *txt);

/*
 * The failed lookups not reported yet, one line each ("2.0.0.127.zen.
 * example A: no answer within 2000 ms"), to fn; then forgotten.
 */
void dnsq_report(struct session *s, void (*fn)(void *arg, const char *what),
		 void *arg);

#endif
