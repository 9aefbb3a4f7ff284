/*
 * match_addr.c - sets of IPv4 and IPv6 prefixes (CIDR) and address
 * parsing.
 *
 * Two open-addressing hash tables keyed by (prefix length, network): one
 * for IPv4 (as IPv4-mapped IPv6 from the outside, 32 bits inside) and one
 * for the rest of IPv6. A lookup masks the address once per prefix length
 * present and probes. A big table has a filter in front of it (bloom.h),
 * which turns away most probes for networks the set does not hold before
 * they touch the table. Built at config load, then read-only: lookups
 * never write. Never logs, never exits.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/bigmem.h"
#include "lib/bloom.h"
#include "lib/hash.h"
#include "lib/match.h"

#define ADDR_TEXT_MAX 100
#define EMPTY4	      UINT64_MAX

/*
 * The tables get a filter (bloom.h) from 128 slots on: the first IPv4
 * table has 64 slots, and with a few entries a lookup there mostly meets
 * a free slot first, sooner than a filter answers (tests/bench/lookup
 * with 10 entries: 15 ns without, 19 with).
 */
#define ADDR_BLOOM_MIN 128

static size_t addr_bloom_blocks(size_t cap)
{
	return cap < ADDR_BLOOM_MIN ? 0 : bloom_blocks(cap);
}

struct key6 {
	uint64_t hi, lo;
};

struct addr_set {
	/* IPv4: key (len << 32) | network; EMPTY4 marks a free slot */
	uint64_t *t4;
	size_t cap4, n4;
	struct bloom bloom4; /* none below BLOOM_MIN_SLOTS */
	uint64_t lens4;	     /* bit L: some IPv4 entry of prefix length L */
	/* IPv6 (not IPv4-mapped): len6[i] is 0 for a free slot, else len+1 */
	struct key6 *t6;
	unsigned char *len6;
	size_t cap6, n6;
	struct bloom bloom6;
	uint64_t lens6[3]; /* bit L (0-128) */
	/* some IPv6 entry holds every IPv4-mapped address: one shorter than
	 * /96 over ::ffff:0:0 (/96 and longer ones there are IPv4 entries),
	 * so an IPv4 address needs no IPv6 probe */
	bool v6_holds_v4;
};

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0,	  0,
						0, 0, 0, 0, 0xff, 0xff};

/* The hash of an IPv4 key: the table index from its low bits, the
 * filter's block and bits from all 64. */
static uint64_t hash4(uint64_t k)
{
	return hash_mix64(k);
}

static uint64_t hash6(uint64_t hi, uint64_t lo, unsigned len)
{
	return hash_mix64(hi ^ hash_mix64(lo ^ ((uint64_t)len << 56)));
}

static uint64_t load_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void store_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint32_t mask32(unsigned len)
{
	return len == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - len));
}

/* Mask a 128-bit address to len bits. */
static struct key6 mask128(struct key6 a, unsigned len)
{
	if (len == 0) {
		a.hi = a.lo = 0;
	} else if (len < 64) {
		a.hi &= ~0ULL << (64 - len);
		a.lo = 0;
	} else if (len == 64) {
		a.lo = 0;
	} else if (len < 128) {
		a.lo &= ~0ULL << (128 - len);
	}
	return a;
}

struct addr_set *addr_set_new(void)
{
	return calloc(1, sizeof(struct addr_set));
}

/* Twice the slots, and the filter for them when they are that many. */
static int grow4(struct addr_set *s)
{
	size_t ncap = s->cap4 ? s->cap4 * 2 : 64;
	uint64_t *nt = bigmem_calloc(ncap, sizeof(*nt));
	struct bloom nb;

	if (nt == NULL || bloom_init(&nb, addr_bloom_blocks(ncap)) < 0) {
		bigmem_free(nt, ncap, sizeof(*nt));
		return -1;
	}
	for (size_t i = 0; i < ncap; i++)
		nt[i] = EMPTY4;
	for (size_t i = 0; i < s->cap4; i++) {
		uint64_t k = s->t4[i], h;
		size_t j;
		if (k == EMPTY4)
			continue;
		h = hash4(k);
		j = h & (ncap - 1);
		while (nt[j] != EMPTY4)
			j = (j + 1) & (ncap - 1);
		nt[j] = k;
		bloom_add(&nb, h);
	}
	bigmem_free(s->t4, s->cap4, sizeof(*s->t4));
	bloom_free(&s->bloom4);
	s->t4 = nt;
	s->bloom4 = nb;
	s->cap4 = ncap;
	return 0;
}

static int add4(struct addr_set *s, uint32_t net, unsigned len)
{
	uint64_t k = ((uint64_t)len << 32) | net, h = hash4(k);
	size_t j;

	if ((s->n4 + 1) * 4 > s->cap4 * 3 && grow4(s) < 0)
		return -1;
	j = h & (s->cap4 - 1);
	while (s->t4[j] != EMPTY4) {
		if (s->t4[j] == k)
			return 0;
		j = (j + 1) & (s->cap4 - 1);
	}
	s->t4[j] = k;
	s->n4++;
	s->lens4 |= 1ULL << len;
	bloom_add(&s->bloom4, h);
	return 0;
}

/* Is key k, of hash h, in the IPv4 table? The filter first. */
static bool has4(const struct addr_set *s, uint64_t k, uint64_t h)
{
	size_t j = h & (s->cap4 - 1);

	if (!bloom_has(&s->bloom4, h))
		return false;
	while (s->t4[j] != EMPTY4) {
		if (s->t4[j] == k)
			return true;
		j = (j + 1) & (s->cap4 - 1);
	}
	return false;
}

static int grow6(struct addr_set *s)
{
	size_t ncap = s->cap6 ? s->cap6 * 2 : 16;
	struct key6 *nt = bigmem_calloc(ncap, sizeof(*nt));
	unsigned char *nl = bigmem_calloc(ncap, 1);
	struct bloom nb;

	if (nt == NULL || nl == NULL ||
	    bloom_init(&nb, addr_bloom_blocks(ncap)) < 0) {
		bigmem_free(nt, ncap, sizeof(*nt));
		bigmem_free(nl, ncap, 1);
		return -1;
	}
	for (size_t i = 0; i < s->cap6; i++) {
		uint64_t h;
		size_t j;
		if (s->len6[i] == 0)
			continue;
		h = hash6(s->t6[i].hi, s->t6[i].lo, s->len6[i] - 1);
		j = h & (ncap - 1);
		while (nl[j] != 0)
			j = (j + 1) & (ncap - 1);
		nt[j] = s->t6[i];
		nl[j] = s->len6[i];
		bloom_add(&nb, h);
	}
	bigmem_free(s->t6, s->cap6, sizeof(*s->t6));
	bigmem_free(s->len6, s->cap6, 1);
	bloom_free(&s->bloom6);
	s->t6 = nt;
	s->len6 = nl;
	s->bloom6 = nb;
	s->cap6 = ncap;
	return 0;
}

static int add6(struct addr_set *s, struct key6 net, unsigned len)
{
	uint64_t h = hash6(net.hi, net.lo, len);
	size_t j;

	if ((s->n6 + 1) * 4 > s->cap6 * 3 && grow6(s) < 0)
		return -1;
	j = h & (s->cap6 - 1);
	while (s->len6[j] != 0) {
		if (s->len6[j] == len + 1 && s->t6[j].hi == net.hi &&
		    s->t6[j].lo == net.lo)
			return 0;
		j = (j + 1) & (s->cap6 - 1);
	}
	s->t6[j] = net;
	s->len6[j] = (unsigned char)(len + 1);
	s->n6++;
	bloom_add(&s->bloom6, h);
	s->lens6[len / 64] |= 1ULL << (len % 64);
	if (len < 96) {
		const struct key6 v4 = {0, 0x0000ffff00000000ULL};
		struct key6 m = mask128(v4, len);
		if (m.hi == net.hi && m.lo == net.lo)
			s->v6_holds_v4 = true;
	}
	return 0;
}

/* Is net/len, of hash h, in the IPv6 table? The filter first. */
static bool has6(const struct addr_set *s, struct key6 net, unsigned len,
		 uint64_t h)
{
	size_t j = h & (s->cap6 - 1);

	if (!bloom_has(&s->bloom6, h))
		return false;
	while (s->len6[j] != 0) {
		if (s->len6[j] == len + 1 && s->t6[j].hi == net.hi &&
		    s->t6[j].lo == net.lo)
			return true;
		j = (j + 1) & (s->cap6 - 1);
	}
	return false;
}

/*
 * Parse the address part of an entry: optional [ ], optional "IPv6:".
 * *v4text tells whether it was written as IPv4. Returns 0 / -1.
 */
static int parse_addr(const char *text, size_t n, unsigned char out[16],
		      bool *v4text)
{
	char buf[ADDR_TEXT_MAX + 1];
	struct in_addr a4;
	bool tagged = false;

	if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	if (n >= 5 && strncasecmp(text, "IPv6:", 5) == 0) {
		text += 5;
		n -= 5;
		tagged = true;
	}
	if (n == 0 || n > ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (!tagged && inet_pton(AF_INET, buf, &a4) == 1) {
		memcpy(out, mapped_prefix, 12);
		memcpy(out + 12, &a4, 4);
		*v4text = true;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		*v4text = false;
		return 0;
	}
	return -1;
}

int addr_parse(const char *text, unsigned char out[16])
{
	bool v4;
	size_t n;

	if (text == NULL)
		return -1;
	n = strnlen(text, ADDR_TEXT_MAX + 1);
	if (n > ADDR_TEXT_MAX)
		return -1;
	return parse_addr(text, n, out, &v4);
}

__attribute__((format(printf, 3, 4))) static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int addr_set_add(struct addr_set *s, const char *text, char *err, size_t errlen)
{
	unsigned char a[16];
	char q[96], hint[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t n, alen;
	unsigned len, max;
	bool v4text, mapped;
	struct key6 k, m;

	if (errlen > 0)
		err[0] = '\0';
	if (text == NULL || text[0] == '\0') {
		seterr(err, errlen, "empty address");
		return -1;
	}
	n = strnlen(text, ADDR_TEXT_MAX + 1);
	match_quote(q, sizeof(q), text, n);
	if (n > ADDR_TEXT_MAX) {
		seterr(err, errlen, "\"%s\": too long for an address", q);
		return -1;
	}
	slash = memchr(text, '/', n);
	alen = slash != NULL ? (size_t)(slash - text) : n;
	if (parse_addr(text, alen, a, &v4text) < 0) {
		seterr(err, errlen, "\"%s\": not an IP address%s", q,
		       slash != NULL ? " with a prefix length" : "");
		return -1;
	}
	max = v4text ? 32 : 128;
	len = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		size_t plen = n - alen - 1;
		if (plen == 0 || plen > 3 || (p[0] == '0' && plen > 1)) {
			seterr(err, errlen,
			       "\"%s\": bad prefix length (want 0-%s)", q,
			       v4text ? "32" : "128");
			return -1;
		}
		len = 0;
		for (size_t i = 0; i < plen; i++) {
			if (!isdigit((unsigned char)p[i])) {
				seterr(err, errlen,
				       "\"%s\": bad prefix length (want 0-%s)",
				       q, v4text ? "32" : "128");
				return -1;
			}
			len = len * 10 + (unsigned)(p[i] - '0');
		}
		if (len > max) {
			seterr(err, errlen,
			       "\"%s\": bad prefix length (want 0-%s)", q,
			       v4text ? "32" : "128");
			return -1;
		}
	}
	/* On the 128-bit scale. */
	if (v4text)
		len += 96;
	k.hi = load_be64(a);
	k.lo = load_be64(a + 8);
	m = mask128(k, len);
	if (m.hi != k.hi || m.lo != k.lo) {
		unsigned char net[16];
		char txt[INET6_ADDRSTRLEN];
		store_be64(net, m.hi);
		store_be64(net + 8, m.lo);
		if (v4text)
			inet_ntop(AF_INET, net + 12, txt, sizeof(txt));
		else
			inet_ntop(AF_INET6, net, txt, sizeof(txt));
		snprintf(hint, sizeof(hint), "%s/%u", txt,
			 v4text ? len - 96 : len);
		seterr(err, errlen, "%s has host bits set; did you mean %s?", q,
		       hint);
		return -1;
	}
	mapped = len >= 96 && memcmp(a, mapped_prefix, 12) == 0;
	if (mapped) {
		uint32_t net = ((uint32_t)a[12] << 24) |
			       ((uint32_t)a[13] << 16) |
			       ((uint32_t)a[14] << 8) | a[15];
		if (add4(s, net, len - 96) == 0)
			return 0;
	} else if (add6(s, m, len) == 0) {
		return 0;
	}
	seterr(err, errlen, "out of memory");
	return -1;
}

/*
 * An IPv4 address probes the IPv4 table once per prefix length there;
 * what every probe reads first (its filter block in a big table, else
 * its slot) is asked for first (prefetched), so that in a table bigger
 * than the caches their misses overlap instead of adding up; the filter
 * then turns most probes away before they touch the table. An IPv4
 * address is in an IPv6 entry only when one holds all of them.
 */
static bool match4(const struct addr_set *s, uint32_t a)
{
	uint64_t keys[33], hs[33];
	size_t n = 0;

	for (uint64_t b = s->lens4; b != 0; b &= b - 1) {
		unsigned len = (unsigned)__builtin_ctzll(b);
		keys[n] = ((uint64_t)len << 32) | (a & mask32(len));
		hs[n] = hash4(keys[n]);
		if (!bloom_prefetch(&s->bloom4, hs[n]))
			__builtin_prefetch(&s->t4[hs[n] & (s->cap4 - 1)]);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if (has4(s, keys[i], hs[i]))
			return true;
	return s->v6_holds_v4;
}

/* The same for an IPv6 address (not IPv4-mapped): at most 129 probes. */
static bool match6(const struct addr_set *s, struct key6 k)
{
	struct key6 nets[129];
	uint64_t hs[129];
	unsigned char lens[129];
	size_t n = 0;

	for (unsigned w = 0; w < 3; w++) {
		for (uint64_t b = s->lens6[w]; b != 0; b &= b - 1) {
			unsigned len = w * 64 + (unsigned)__builtin_ctzll(b);
			nets[n] = mask128(k, len);
			lens[n] = (unsigned char)len;
			hs[n] = hash6(nets[n].hi, nets[n].lo, len);
			if (!bloom_prefetch(&s->bloom6, hs[n])) {
				size_t j = hs[n] & (s->cap6 - 1);
				__builtin_prefetch(&s->t6[j]);
				__builtin_prefetch(&s->len6[j]);
			}
			n++;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (has6(s, nets[i], lens[i], hs[i]))
			return true;
	return false;
}

bool addr_set_match(const struct addr_set *s, const unsigned char addr[16])
{
	struct key6 k;

	if (s == NULL || addr == NULL)
		return false;
	if (memcmp(addr, mapped_prefix, 12) == 0)
		return match4(s, ((uint32_t)addr[12] << 24) |
				     ((uint32_t)addr[13] << 16) |
				     ((uint32_t)addr[14] << 8) | addr[15]);
	if (s->n6 == 0)
		return false;
	k.hi = load_be64(addr);
	k.lo = load_be64(addr + 8);
	return match6(s, k);
}

size_t addr_set_count(const struct addr_set *s)
{
	return s != NULL ? s->n4 + s->n6 : 0;
}

void addr_set_free(struct addr_set **s)
{
	if (s == NULL || *s == NULL)
		return;
	bigmem_free((*s)->t4, (*s)->cap4, sizeof(*(*s)->t4));
	bigmem_free((*s)->t6, (*s)->cap6, sizeof(*(*s)->t6));
	bigmem_free((*s)->len6, (*s)->cap6, 1);
	bloom_free(&(*s)->bloom4);
	bloom_free(&(*s)->bloom6);
	free(*s);
	*s = NULL;
}
