/*
 * fuzz_dns.c - fuzz target for what the DNS list code reads from outside:
 * the TXT RDATA a DNS server sends (dns_txt_join()), and the entries of a
 * config ("zone=answers*weight": dnsl_entry_parse(), dns_filter_parse())
 * and the names built from hostile HELO names and domains.
 *
 * The input: one byte picks the part, the rest is its data.
 * Checked: a TXT text is NUL-terminated within its buffer, printable ASCII
 * only, never longer than the octets of its strings, and a malformed
 * RDATA adds nothing; a filter that parses matches an address exactly
 * when a naive model of its patterns does; an entry that parses has a
 * zone that dns_zone_check() takes and a weight in range; a query name
 * is at most 253 octets of letters, digits, '-', '_' and dots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsq.h"
#include "fuzz.h"
#include "lib/dns.h"

static void txt(const uint8_t *d, size_t n)
{
	char out[DNS_TXT_MAX];
	size_t used = 0, octets = 0;
	bool wellformed = true;
	int rc;

	for (size_t i = 0; i < n; i += 1 + d[i]) {
		if (i + 1 + d[i] > n) {
			wellformed = false;
			break;
		}
		octets += d[i];
	}
	memcpy(out, "x", 2);
	used = 1;
	rc = dns_txt_join(d, n, out, sizeof(out), &used);
	FUZZ_CHECK((rc == 0) == wellformed, "rc %d for %s RDATA", rc,
		   wellformed ? "well-formed" : "malformed");
	FUZZ_CHECK(strlen(out) == used, "used %zu, text %zu", used,
		   strlen(out));
	FUZZ_CHECK(used < sizeof(out), "used %zu", used);
	if (!wellformed) {
		FUZZ_CHECK(used == 1 && strcmp(out, "x") == 0,
			   "a malformed RDATA added text");
		return;
	}
	FUZZ_CHECK(
	    used == 1 + (octets < sizeof(out) - 2 ? octets : sizeof(out) - 2),
	    "%zu octets gave %zu", octets, used - 1);
	for (size_t i = 0; i < used; i++)
		FUZZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f, "octet 0x%02x kept",
			   (unsigned char)out[i]);
}

/* The model: does pattern text p (no ',') match a? -1: not a pattern. */
static int model_pattern(const char *p, uint32_t a)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = (a >> (24 - 8 * i)) & 0xff;
		bool hit = false;
		char *end;
		if (*p == '[') {
			p++;
			for (;;) {
				long lo = strtol(p, &end, 10), hi;
				if (end == p)
					return -1;
				p = end;
				hi = lo;
				if (p[0] == '.' && p[1] == '.') {
					hi = strtol(p + 2, &end, 10);
					p = end;
				}
				if ((long)v >= lo && (long)v <= hi)
					hit = true;
				if (*p == ';') {
					p++;
					continue;
				}
				if (*p != ']')
					return -1;
				p++;
				break;
			}
		} else {
			long x = strtol(p, &end, 10);
			if (end == p)
				return -1;
			p = end;
			hit = (long)v == x;
		}
		if (!hit)
			return 0;
		if (i < 3 && *p++ != '.')
			return -1;
	}
	return 1;
}

static void filter(const char *s, uint32_t a)
{
	struct dns_filter f;
	char err[300], copy[600];
	bool model = false;

	if (dns_filter_parse(s, &f, err, sizeof(err)) != 0)
		return;
	FUZZ_CHECK(f.n >= 1 && f.n <= DNS_FILTER_MAX, "%u patterns", f.n);
	snprintf(copy, sizeof(copy), "%s", s);
	for (char *p = strtok(copy, ","); p != NULL; p = strtok(NULL, ","))
		if (model_pattern(p, a) == 1)
			model = true;
	FUZZ_CHECK(dns_filter_match(&f, a) == model,
		   "\"%s\" against %08x: %d, the model %d", s, a,
		   dns_filter_match(&f, a), model);
}

static void entry(const char *s)
{
	struct dnsl_entry e;
	char err[400];
	int rc = dnsl_entry_parse(s, &e, err, sizeof(err));

	if (rc != 0)
		return;
	FUZZ_CHECK(dns_zone_check(e.zone, err, sizeof(err)) == 0,
		   "zone \"%s\": %s", e.zone, err);
	FUZZ_CHECK(e.weight != 0 && e.weight >= -1000 && e.weight <= 1000,
		   "weight %ld", e.weight);
	free(e.zone);
}

static void name(const char *s)
{
	char out[DNS_NAME_MAX];

	if (dns_name_domain(s, "dbl.example", out, sizeof(out)) != 0)
		return;
	FUZZ_CHECK(strlen(out) <= 253, "a name of %zu octets", strlen(out));
	for (const char *p = out; *p != '\0'; p++)
		FUZZ_CHECK((*p >= 'a' && *p <= 'z') ||
			       (*p >= 'A' && *p <= 'Z') ||
			       (*p >= '0' && *p <= '9') || *p == '-' ||
			       *p == '_' || *p == '.',
			   "octet 0x%02x in a name", (unsigned char)*p);
	FUZZ_CHECK(strstr(out, "..") == NULL, "an empty label in %s", out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t which = fuzz_u8(&in);
	char s[520];
	size_t n = in.n < sizeof(s) - 1 ? in.n : sizeof(s) - 1;

	if (which % 4 == 0) {
		txt(in.p, in.n);
		return 0;
	}
	memcpy(s, in.p, n);
	s[n] = '\0';
	switch (which % 4) {
	case 1: {
		/* the last 4 octets are the address */
		uint32_t a = 0;
		size_t len = strlen(s);
		if (len >= 4) {
			for (int i = 0; i < 4; i++)
				a = a << 8 | (uint8_t)s[len - 4 + i];
			s[len - 4] = '\0';
		}
		filter(s, a);
		break;
	}
	case 2:
		entry(s);
		break;
	default:
		name(s);
		break;
	}
	return 0;
}
