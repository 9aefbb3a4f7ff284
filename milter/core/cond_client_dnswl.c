/*
 * cond_client_dnswl.c - client_dnswl, client_dnswl_threshold: the client's
 * address is listed in DNS allowlists (asked as client_dnsbl), as
 * Postfix's permit_dnswl_client.
 * Entries "zone[=answers][*weight]", built, looked up and evaluated by
 * core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt client_dnswl_opts[] = {
    {"client_dnswl", COPT_STRS, MATCH_BOOL, false},
    {"client_dnswl_threshold", COPT_INT, MATCH_RANGE, false},
    {NULL, 0, 0, false},
};

DNSL_KIND(client_dnswl, DNSQ_CLIENT, STAGE_CONNECT, 0,
	  "the client is known from stage connect on");
