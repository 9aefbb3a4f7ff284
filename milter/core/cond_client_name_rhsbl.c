/*
 * cond_client_name_rhsbl.c - client_name_rhsbl,
 * client_name_rhsbl_threshold: the client's host name is listed in domain
 * blocklists, as Postfix's reject_rhsbl_reverse_client; a client without a
 * name ("unknown") is never listed.
 * Entries "zone[=answers][*weight]", built, looked up and evaluated by
 * core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt client_name_rhsbl_opts[] = {
    {"client_name_rhsbl", COPT_STRS, MATCH_BOOL, false},
    {"client_name_rhsbl_threshold", COPT_INT, MATCH_RANGE, false},
    {NULL, 0, 0, false},
};

DNSL_KIND(client_name_rhsbl, DNSQ_CLIENT_NAME, STAGE_CONNECT, 0,
	  "the client is known from stage connect on");
