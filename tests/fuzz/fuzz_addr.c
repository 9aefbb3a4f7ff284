/*
 * fuzz_addr.c - fuzz target for address sets: each input line is an entry
 * for addr_set_add() ("192.0.2.0/24", "[IPv6:2001:db8::1]", ...), or, when
 * it starts with '?', an address for addr_parse() to look up.
 *
 * Checked against a naive model kept here: an entry is a 128-bit network
 * and a prefix length (IPv4 text on the IPv4-mapped scale), an address
 * matches when any entry's first bits equal its own. Every looked-up
 * address, every accepted network, its neighbours across the prefix
 * boundary and raw 16-octet strings from the input must get the same
 * answer from addr_set_match() as from the model; the entry count must
 * match; accepted IPv4 text must have four parts without leading zeros.
 * Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "match.h"

#define LINES_MAX 256

struct entry {
	unsigned char net[16];
	unsigned len; /* 0..128 */
};

static bool prefix_eq(const unsigned char *a, const unsigned char *b,
		      unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff00 >> bits) & 0xff) == 0;
}

static bool model_match(const struct entry *e, size_t n,
			const unsigned char a[16])
{
	for (size_t i = 0; i < n; i++)
		if (prefix_eq(e[i].net, a, e[i].len))
			return true;
	return false;
}

static size_t model_count(const struct entry *e, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < i && !(e[k].len == e[i].len &&
				  memcmp(e[k].net, e[i].net, 16) == 0))
			k++;
		c += k == i;
	}
	return c;
}

/* Four dot-separated decimal parts 0..255 without leading zeros. */
static bool strict_v4(const char *s, size_t n)
{
	size_t part = 0, len = 0;
	unsigned v = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (len == 0 || v > 255 || part == 4)
				return false;
			part++;
			len = 0;
			v = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || (len == 1 && v == 0))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		len++;
	}
	return part == 4;
}

/* Model an accepted entry from its text. */
static void model_add(const char *text, struct entry *e)
{
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	char addr[128];
	const char *a = addr;
	size_t n;
	bool v4;

	FUZZ_CHECK(alen < sizeof(addr), "accepted an entry of %zu octets",
		   alen);
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	FUZZ_CHECK(addr_parse(addr, e->net) == 0,
		   "addr_set_add took \"%s\", addr_parse refuses \"%s\"", text,
		   addr);
	v4 = strchr(addr, ':') == NULL;
	n = alen;
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		a++;
		n -= 2;
	}
	if (v4)
		FUZZ_CHECK(strict_v4(a, n), "accepted IPv4 text \"%s\"", text);
	e->len = v4 ? 32 : 128;
	if (slash != NULL)
		e->len = (unsigned)atoi(slash + 1);
	if (v4)
		e->len += 96;
	FUZZ_CHECK(e->len <= 128, "\"%s\": prefix length %u", text, e->len);
	for (unsigned b = e->len; b < 128; b++)
		FUZZ_CHECK(!(e->net[b / 8] & (0x80 >> (b % 8))),
			   "\"%s\" accepted with host bits set", text);
}

static void probe(const struct addr_set *s, const struct entry *e, size_t n,
		  const unsigned char a[16])
{
	bool got = addr_set_match(s, a), want = model_match(e, n, a);

	FUZZ_CHECK(got == want,
		   "addr_set_match gave %d, want %d for "
		   "%02x%02x:%02x%02x:...:%02x%02x:%02x%02x:%02x%02x",
		   got, want, a[0], a[1], a[2], a[3], a[10], a[11], a[12],
		   a[13], a[14], a[15]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strndup(data, size), *lines[LINES_MAX];
	struct entry *e = calloc(LINES_MAX, sizeof(*e));
	size_t n = fuzz_split(buf, size, '\n', lines, LINES_MAX), ne = 0;
	struct addr_set *s = addr_set_new();
	char err[256], *tiny = malloc(1);
	unsigned char a[16];

	if (e == NULL || s == NULL || tiny == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (lines[i][0] == '?')
			continue;
		err[0] = '\0';
		if (addr_set_add(s, lines[i], err, i % 4 == 3 ? 1 : sizeof(err)) ==
		    0) {
			model_add(lines[i], &e[ne++]);
		} else {
			FUZZ_CHECK(i % 4 == 3 || err[0] != '\0',
				   "\"%.60s\" refused without a message",
				   lines[i]);
		}
		addr_set_add(s, lines[i], tiny, 0);
	}
	FUZZ_CHECK(addr_set_count(s) == model_count(e, ne),
		   "addr_set_count %zu, want %zu", addr_set_count(s),
		   model_count(e, ne));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		if (lines[i][0] == '?' && addr_parse(lines[i] + 1, a) == 0)
			probe(s, e, ne, a);
		/* The raw octets of the line, and as an IPv4-mapped one. */
		memset(a, 0, sizeof(a));
		memcpy(a, lines[i], len < 16 ? len : 16);
		probe(s, e, ne, a);
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		probe(s, e, ne, a);
	}
	for (size_t i = 0; i < ne; i++) {
		unsigned len = e[i].len;
		memcpy(a, e[i].net, 16);
		probe(s, e, ne, a);
		for (unsigned b = len > 0 ? len - 1 : 0; b <= len && b < 128;
		     b++) {
			memcpy(a, e[i].net, 16);
			a[b / 8] ^= (unsigned char)(0x80 >> (b % 8));
			probe(s, e, ne, a);
		}
		memcpy(a, e[i].net, 16);
		for (unsigned b = len; b < 128; b++)
			a[b / 8] |= (unsigned char)(0x80 >> (b % 8));
		probe(s, e, ne, a);
	}
	FUZZ_CHECK(!addr_set_match(NULL, a), "a NULL set matched");
	addr_set_free(&s);
	FUZZ_CHECK(s == NULL, "addr_set_free left the pointer");
	free(tiny);
	free(e);
	free(buf);
	return 0;
}
