/*
 * dnsname.c - the pure parts of DNS list lookups (dns.h): zones, query
 * names, answer filters, TXT text, the upstream setting. No libunbound,
 * no allocation, no logging: everything here is bounded and tested on
 * its own (tests/unit/check_dns.c, tests/fuzz/fuzz_dns.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns.h"
#include "lib/quote.h"

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Check the labels of name[0..len). 0, or -1 with err. */
static int labels_check(const char *name, size_t len, char *err, size_t errlen)
{
	size_t label = 0;

	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0) {
				snprintf(err, errlen, "an empty label");
				return -1;
			}
			label = 0;
			continue;
		}
		if (!label_char(name[i])) {
			snprintf(err, errlen,
				 "the octet '%c' at position %zu is not a "
				 "letter, digit, '-', '_' or '.'",
				 (name[i] >= 0x20 && name[i] < 0x7f) ? name[i]
								     : '?',
				 i + 1);
			return -1;
		}
		if (++label > 63) {
			snprintf(err, errlen, "a label longer than 63 octets");
			return -1;
		}
	}
	if (label == 0) {
		snprintf(err, errlen, "an empty label");
		return -1;
	}
	return 0;
}

/* The length of zone without its trailing dot. */
static size_t zone_len(const char *zone)
{
	size_t n = strlen(zone);

	return n > 0 && zone[n - 1] == '.' ? n - 1 : n;
}

int dns_zone_check(const char *zone, char *err, size_t errlen)
{
	size_t n = zone_len(zone);
	char why[96];

	if (n == 0) {
		snprintf(err, errlen, "an empty zone");
		return -1;
	}
	if (n > 200) {
		snprintf(err, errlen,
			 "a zone longer than 200 octets leaves no room for "
			 "the name looked up in it");
		return -1;
	}
	if (labels_check(zone, n, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "not a domain name: %s", why);
		return -1;
	}
	if (strchr(zone, '.') == NULL) {
		snprintf(err, errlen,
			 "a zone of one label is a top-level domain, not a "
			 "DNS list");
		return -1;
	}
	return 0;
}

int dns_name_ip(const unsigned char ip[16], const char *zone, char *out,
		size_t outlen)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	static const char hex[] = "0123456789abcdef";
	char rev[80];
	size_t o = 0;
	int n;

	if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u", ip[15], ip[14],
			 ip[13], ip[12]);
	} else {
		for (int i = 15; i >= 0; i--) {
			rev[o++] = hex[ip[i] & 0xf];
			rev[o++] = '.';
			rev[o++] = hex[ip[i] >> 4];
			rev[o++] = i > 0 ? '.' : '\0';
		}
	}
	n = snprintf(out, outlen, "%s.%.*s", rev, (int)zone_len(zone), zone);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int dns_name_domain(const char *domain, const char *zone, char *out,
		    size_t outlen)
{
	size_t dl = strlen(domain), zl = zone_len(zone);
	char why[96];
	int n;

	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == 0 || domain[0] == '[' ||
	    labels_check(domain, dl, why, sizeof(why)) != 0 ||
	    dl + 1 + zl > 253)
		return -1;
	n = snprintf(out, outlen, "%.*s.%.*s", (int)dl, domain, (int)zl, zone);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* --- answer filters ---------------------------------------------------- */

static void set_bit(uint64_t set[4], unsigned v)
{
	set[v / 64] |= (uint64_t)1 << (v % 64);
}

static bool has_bit(const uint64_t set[4], unsigned v)
{
	return (set[v / 64] >> (v % 64)) & 1;
}

/* A number 0..255 at *s; advances *s. 0, or -1. */
static int octet_num(const char **s, unsigned *out)
{
	unsigned v = 0;
	int digits = 0;

	while (**s >= '0' && **s <= '9') {
		v = v * 10 + (unsigned)(**s - '0');
		(*s)++;
		if (++digits > 3 || v > 255)
			return -1;
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

/* One octet field at *s into set: N, or [N..M;K;...]. 0, or -1. */
static int octet_field(const char **s, uint64_t set[4])
{
	unsigned a, b;

	if (**s != '[') {
		if (octet_num(s, &a) != 0)
			return -1;
		set_bit(set, a);
		return 0;
	}
	(*s)++;
	for (;;) {
		if (octet_num(s, &a) != 0)
			return -1;
		b = a;
		if ((*s)[0] == '.' && (*s)[1] == '.') {
			*s += 2;
			if (octet_num(s, &b) != 0 || b < a)
				return -1;
		}
		for (unsigned v = a; v <= b; v++)
			set_bit(set, v);
		if (**s == ';') {
			(*s)++;
			continue;
		}
		if (**s != ']')
			return -1;
		(*s)++;
		return 0;
	}
}

int dns_filter_parse(const char *s, struct dns_filter *f, char *err,
		     size_t errlen)
{
	const char *start = s;

	memset(f, 0, sizeof(*f));
	for (;;) {
		const char *pat = s;
		char q[80];
		if (f->n == DNS_FILTER_MAX) {
			snprintf(err, errlen, "more than %d answer patterns",
				 DNS_FILTER_MAX);
			return -1;
		}
		for (int i = 0; i < 4; i++) {
			if (octet_field(&s, f->octet[f->n][i]) != 0 ||
			    (i < 3 && *s++ != '.')) {
				size_t len = strcspn(pat, ",");
				match_quote(q, sizeof(q), pat, len);
				snprintf(err, errlen,
					 "answer \"%s\": want four octets, "
					 "each a number 0..255, a range "
					 "[N..M] or a list [N;M], e.g. "
					 "127.0.0.2 or 127.0.0.[4..11]",
					 q);
				return -1;
			}
		}
		f->n++;
		if (*s == '\0')
			return 0;
		if (*s != ',') {
			match_quote(q, sizeof(q), start, strlen(start));
			snprintf(err, errlen,
				 "answers \"%s\": patterns are separated by "
				 "','",
				 q);
			return -1;
		}
		s++;
	}
}

bool dns_filter_match(const struct dns_filter *f, uint32_t addr)
{
	if (f->n == 0)
		return true;
	for (unsigned p = 0; p < f->n; p++) {
		bool all = true;
		for (int i = 0; i < 4 && all; i++)
			all = has_bit(f->octet[p][i],
				      (addr >> (24 - 8 * i)) & 0xff);
		if (all)
			return true;
	}
	return false;
}

/* --- TXT ------------------------------------------------------------- */

int dns_txt_join(const unsigned char *rdata, size_t len, char *out,
		 size_t outlen, size_t *used)
{
	size_t o = *used;

	/* check first: a malformed record adds nothing */
	for (size_t i = 0; i < len; i += 1 + rdata[i])
		if (i + 1 + rdata[i] > len)
			return -1;
	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; i += 1 + rdata[i])
		for (size_t k = 0; k < rdata[i] && o + 1 < outlen; k++) {
			unsigned char c = rdata[i + 1 + k];
			out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
	out[o < outlen ? o : outlen - 1] = '\0';
	*used = o;
	return 0;
}

/* --- upstream -------------------------------------------------------- */

int dns_upstream_check(const char *upstream, char *err, size_t errlen)
{
	const char *s = upstream;
	int n = 0;

	if (strcmp(upstream, "system") == 0 ||
	    strcmp(upstream, "recursive") == 0)
		return 0;
	for (;;) {
		char one[80], addr[80], q[80];
		unsigned char buf[16];
		size_t len;
		char *at, *end;
		s += strspn(s, " ,\t");
		if (*s == '\0')
			break;
		len = strcspn(s, " ,\t");
		match_quote(q, sizeof(q), s, len);
		if (len >= sizeof(one)) {
			snprintf(err, errlen, "\"%s\" is not an address", q);
			return -1;
		}
		memcpy(one, s, len);
		one[len] = '\0';
		s += len;
		snprintf(addr, sizeof(addr), "%s", one);
		if ((at = strchr(addr, '@')) != NULL) {
			long port;
			*at = '\0';
			port = strtol(at + 1, &end, 10);
			if (at[1] < '0' || at[1] > '9' || *end != '\0' ||
			    port < 1 || port > 65535) {
				snprintf(err, errlen,
					 "\"%s\": want a port 1..65535 after "
					 "'@'",
					 q);
				return -1;
			}
		}
		if (inet_pton(AF_INET, addr, buf) != 1 &&
		    inet_pton(AF_INET6, addr, buf) != 1) {
			snprintf(err, errlen,
				 "\"%s\" is not \"system\", \"recursive\" or "
				 "an IP address (ADDR or ADDR@PORT)",
				 q);
			return -1;
		}
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen,
			 "empty: want \"system\", \"recursive\" or forwarder "
			 "addresses");
		return -1;
	}
	return 0;
}
