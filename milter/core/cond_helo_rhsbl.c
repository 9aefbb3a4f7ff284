/*
 * cond_helo_rhsbl.c - helo_rhsbl, helo_rhsbl_threshold: the HELO name is
 * listed in domain blocklists, as Postfix's reject_rhsbl_helo; an address
 * literal is never listed.
 * Entries "zone[=answers][*weight]", built, looked up and evaluated by
 * core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt helo_rhsbl_opts[] = {
    {"helo_rhsbl", COPT_STRS, MATCH_BOOL, false},
    {"helo_rhsbl_threshold", COPT_INT, MATCH_RANGE, false},
    {NULL, 0, 0, false},
};

DNSL_KIND(helo_rhsbl, DNSQ_HELO, STAGE_HELO, 1u << STAGE_HELO,
	  "the HELO name is known from stage helo on");
