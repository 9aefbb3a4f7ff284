/*
 * cond_sender_rhsbl.c - sender_rhsbl, sender_rhsbl_threshold: the sender's
 * domain is listed in domain blocklists, as Postfix's reject_rhsbl_sender,
 * asked again for each message; the null sender is never listed.
 * Entries "zone[=answers][*weight]", built, looked up and evaluated by
 * core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt sender_rhsbl_opts[] = {
    {"sender_rhsbl", COPT_STRS, MATCH_BOOL, false},
    {"sender_rhsbl_threshold", COPT_INT, MATCH_RANGE, false},
    {NULL, 0, 0, false},
};

DNSL_KIND(sender_rhsbl, DNSQ_SENDER, STAGE_MAIL, 1u << STAGE_MAIL,
	  "the sender is known from stage mail on");
