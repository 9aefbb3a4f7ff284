/*
 * cond_client_dnsbl.c - client_dnsbl, client_dnsbl_threshold: the client's
 * address is listed in DNS blocklists: IPv4 octets or IPv6 nibbles
 * reversed under each zone, as Postfix's reject_rbl_client.
 * Entries "zone[=answers][*weight]", built, looked up and evaluated by
 * core/dnsq.c.
 */
#include "core/dnsq.h"

static const struct cond_opt client_dnsbl_opts[] = {
    {"client_dnsbl", COPT_STRS, MATCH_BOOL, false},
    {"client_dnsbl_threshold", COPT_INT, MATCH_RANGE, false},
    {NULL, 0, 0, false},
};

DNSL_KIND(client_dnsbl, DNSQ_CLIENT, STAGE_CONNECT, 0,
	  "the client is known from stage connect on");
