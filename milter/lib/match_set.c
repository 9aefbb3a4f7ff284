/*
 * match_set.c - string sets (open-addressing hash over one arena), and
 * on top of them domain-name sets and e-mail address sets (kept in the
 * normal form of match_envaddr.c).
 *
 * Sets are filled at config load and then only read, from many threads:
 * lookups never write. Input looked up is from the wire: bounded, never
 * copied past its buffer, never trusted to be well formed. Never logs,
 * never exits.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/bigmem.h"
#include "lib/bloom.h"
#include "lib/hash.h"
#include "lib/match.h"

/* --- string sets ------------------------------------------------------ */

/*
 * The strings live one after the other in one arena (grown by realloc,
 * which glibc does with mremap for big blocks: no copy, no second peak),
 * each after its length: one octet below 0xff, else 0xff and four octets.
 * A slot holds the string's offset in the arena (0: a free slot; the
 * arena's first octet is never used) and its hash: 8 octets a slot, so a
 * million strings of 20 octets cost about 16 MiB of slots and 21 MiB of
 * arena. Offsets are 32 bits: a set holds at most 4 GiB of strings.
 *
 * From the first 16 slots on, a filter (bloom.h) of 0.75 octet a slot
 * (1.5 MiB for a million strings) stands in front of the slots: most
 * strings the set does not hold are turned away by one cache line of it,
 * without a walk through the slots (in a big set, far bigger than the
 * caches). It is kept up to date by each add and made anew when the
 * slots grow. Its key is the 32 bits of hash a slot keeps, twice
 * (hash_wide32), so that it is made anew from the slots alone, without
 * a look at the strings: two strings of the same 32 bits (one in 4
 * billion) look the same to it, which adds nothing measurable to its
 * false positives.
 */
struct slot {
	uint32_t off; /* 0: free slot */
	uint32_t hash;
};

struct str_set {
	bool nocase;
	size_t count, cap; /* cap: a power of two, or 0 */
	struct slot *slots;
	struct bloom bloom; /* none below BLOOM_MIN_SLOTS */
	unsigned char *arena;
	size_t used, size; /* octets of arena used and allocated */
};

static inline unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/*
 * FNV-1a over the octets from the last to the first, then a finaliser
 * (hash.h): hashing backwards, the hash of every suffix of a name falls
 * out of one pass over it (domain_set_match wants all of them). The
 * slots and the filter take the low 32 bits.
 */
static inline uint64_t hash_step(uint64_t h, unsigned char c, bool nocase)
{
	return hash_fnv_step(h, nocase ? fold(c) : c);
}

/* The 32 bits of hash a string set keeps, from FNV-1a's state. */
static inline uint32_t hash_final(uint64_t h)
{
	return (uint32_t)hash_mix64(h);
}

static uint32_t hash_bytes(const unsigned char *s, size_t len, bool nocase)
{
	uint64_t h = HASH_FNV_START;

	for (size_t i = len; i-- > 0;)
		h = hash_step(h, s[i], nocase);
	return hash_final(h);
}

static bool same(const struct str_set *set, const unsigned char *a,
		 const char *b, size_t len)
{
	if (!set->nocase)
		return memcmp(a, b, len) == 0;
	for (size_t i = 0; i < len; i++) {
		if (fold(a[i]) != fold((unsigned char)b[i]))
			return false;
	}
	return true;
}

/* The string at off: its octets, its length in *len. */
static const unsigned char *at(const struct str_set *set, uint32_t off,
			       size_t *len)
{
	const unsigned char *p = set->arena + off;

	if (p[0] < 0xff) {
		*len = p[0];
		return p + 1;
	}
	*len =
	    (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	return p + 5;
}

struct str_set *str_set_new(bool nocase)
{
	struct str_set *set = calloc(1, sizeof(*set));

	if (set != NULL)
		set->nocase = nocase;
	return set;
}

/* Copy s into the arena; its offset, or 0 when memory runs out. */
static uint32_t arena_copy(struct str_set *set, const char *s, size_t len)
{
	size_t need = (len < 0xff ? 1 : 5) + len;
	unsigned char *p;
	uint32_t off;

	if (set->used == 0)
		set->used = 1; /* offset 0 marks a free slot */
	if (need > UINT32_MAX - set->used)
		return 0;
	if (set->used + need > set->size) {
		size_t size = set->size ? set->size : 4096;
		while (set->used + need > size)
			size *= 2;
		p = realloc(set->arena, size);
		if (p == NULL)
			return 0;
		set->arena = p;
		set->size = size;
	}
	off = (uint32_t)set->used;
	p = set->arena + off;
	if (len < 0xff) {
		*p++ = (unsigned char)len;
	} else {
		*p++ = 0xff;
		*p++ = (unsigned char)(len >> 24);
		*p++ = (unsigned char)(len >> 16);
		*p++ = (unsigned char)(len >> 8);
		*p++ = (unsigned char)len;
	}
	if (len > 0)
		memcpy(p, s, len);
	set->used += need;
	return off;
}

/* Twice the slots, and the filter for them when they are that many. */
static int grow(struct str_set *set)
{
	size_t ncap = set->cap ? set->cap * 2 : 16;
	struct slot *ns = bigmem_calloc(ncap, sizeof(*ns));
	struct bloom nb;

	if (ns == NULL || bloom_init(&nb, bloom_blocks(ncap)) < 0) {
		bigmem_free(ns, ncap, sizeof(*ns));
		return -1;
	}
	for (size_t i = 0; i < set->cap; i++) {
		size_t j;
		if (set->slots[i].off == 0)
			continue;
		j = set->slots[i].hash & (ncap - 1);
		while (ns[j].off != 0)
			j = (j + 1) & (ncap - 1);
		ns[j] = set->slots[i];
		bloom_add(&nb, hash_wide32(set->slots[i].hash));
	}
	bigmem_free(set->slots, set->cap, sizeof(*set->slots));
	bloom_free(&set->bloom);
	set->slots = ns;
	set->bloom = nb;
	set->cap = ncap;
	return 0;
}

/* Index of s in the table, or of the free slot where it would go. */
static size_t find(const struct str_set *set, const char *s, size_t len,
		   uint32_t h)
{
	size_t j = h & (set->cap - 1);

	while (set->slots[j].off != 0) {
		const struct slot *sl = &set->slots[j];
		if (sl->hash == h) {
			size_t n;
			const unsigned char *p = at(set, sl->off, &n);
			if (n == len && same(set, p, s, len))
				break;
		}
		j = (j + 1) & (set->cap - 1);
	}
	return j;
}

int str_set_add(struct str_set *set, const char *s, size_t len)
{
	uint32_t h, off;
	size_t j;

	if (set == NULL || len > UINT32_MAX || (s == NULL && len > 0))
		return -1;
	if (s == NULL)
		s = "";
	if ((set->count + 1) * 4 > set->cap * 3 && grow(set) < 0)
		return -1;
	h = hash_bytes((const unsigned char *)s, len, set->nocase);
	j = find(set, s, len, h);
	if (set->slots[j].off != 0)
		return 0;
	if ((off = arena_copy(set, s, len)) == 0)
		return -1;
	set->slots[j].off = off;
	set->slots[j].hash = h;
	set->count++;
	bloom_add(&set->bloom, hash_wide32(h));
	return 0;
}

/*
 * Start loading what a lookup of hash h reads first (one soon follows):
 * its filter block, or without a filter its slot.
 */
static inline void prefetch_slot(const struct str_set *set, uint32_t h)
{
	if (set->count > 0 &&
	    !bloom_prefetch(&set->bloom, hash_wide32(h)))
		__builtin_prefetch(&set->slots[h & (set->cap - 1)]);
}

/* str_set_has with the hash already known: the filter, then the slots. */
static bool has_hashed(const struct str_set *set, const char *s, size_t len,
		       uint32_t h)
{
	if (set->count == 0 ||
	    !bloom_has(&set->bloom, hash_wide32(h)))
		return false;
	return set->slots[find(set, s, len, h)].off != 0;
}

bool str_set_has(const struct str_set *set, const char *s, size_t len)
{
	if (set == NULL || set->count == 0 || len > UINT32_MAX ||
	    (s == NULL && len > 0))
		return false;
	if (s == NULL)
		s = "";
	return has_hashed(
	    set, s, len,
	    hash_bytes((const unsigned char *)s, len, set->nocase));
}

size_t str_set_count(const struct str_set *set)
{
	return set != NULL ? set->count : 0;
}

void str_set_free(struct str_set **set)
{
	if (set == NULL || *set == NULL)
		return;
	free((*set)->arena);
	bigmem_free((*set)->slots, (*set)->cap, sizeof(*(*set)->slots));
	bloom_free(&(*set)->bloom);
	free(*set);
	*set = NULL;
}

/* --- domain sets ------------------------------------------------------ */

struct domain_set {
	struct str_set *exact;
	struct str_set *sub; /* names whose strict subdomains match */
};

/*
 * Check a domain name of len octets (trailing dot already removed).
 * Returns 0, or -1 with err filled.
 */
static int domain_check(const char *name, size_t len, char *err, size_t errlen)
{
	char q[96];
	size_t label = 0;

	match_quote(q, sizeof(q), name, len);
	if (len == 0) {
		snprintf(err, errlen, "empty domain name");
		return -1;
	}
	if (len > DOMAIN_MAX) {
		snprintf(err, errlen, "domain \"%s\": longer than %d octets", q,
			 DOMAIN_MAX);
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)name[i] : '.';
		if (c == '.') {
			if (label == 0) {
				snprintf(err, errlen,
					 "domain \"%s\": empty label", q);
				return -1;
			}
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_') {
			if (c >= 0x20 && c < 0x7f)
				snprintf(err, errlen,
					 "domain \"%s\": invalid character "
					 "'%c'",
					 q, c);
			else
				snprintf(err, errlen,
					 "domain \"%s\": invalid octet 0x%02x",
					 q, c);
			return -1;
		}
		if (++label > 63) {
			snprintf(err, errlen,
				 "domain \"%s\": a label is longer than 63 "
				 "octets",
				 q);
			return -1;
		}
	}
	return 0;
}

struct domain_set *domain_set_new(void)
{
	struct domain_set *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->exact = str_set_new(true);
	s->sub = str_set_new(true);
	if (s->exact == NULL || s->sub == NULL)
		domain_set_free(&s);
	return s;
}

int domain_set_add(struct domain_set *s, const char *name, bool with_subdomains,
		   char *err, size_t errlen)
{
	char dummy[1];
	size_t len;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (name == NULL)
		name = "";
	len = strnlen(name, DOMAIN_MAX + 2);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (domain_check(name, len, err, errlen) < 0)
		return -1;
	if (str_set_add(with_subdomains ? s->sub : s->exact, name, len) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int domain_set_add_entry(struct domain_set *s, const char *text, char *err,
			 size_t errlen)
{
	if (text != NULL && text[0] == '*' && text[1] == '.')
		return domain_set_add(s, text + 2, true, err, errlen);
	if (text != NULL && text[0] == '.')
		return domain_set_add(s, text + 1, true, err, errlen);
	return domain_set_add(s, text, false, err, errlen);
}

/*
 * The name and each suffix after a dot are looked up, at most 127 of
 * them. Their hashes all come from one pass from the end of the name
 * (not one pass per suffix), and what each lookup reads first (its
 * filter block in a big set, else its slot) is prefetched before the
 * first lookup, so that the cache misses may overlap. In a big set the
 * filter turns most of them away; the slots are read only for the rest.
 */
bool domain_set_match(const struct domain_set *s, const char *domain)
{
	uint32_t hs[DOMAIN_MAX / 2 + 1], whole;
	size_t starts[DOMAIN_MAX / 2 + 1], nsuf = 0, len;
	uint64_t h = HASH_FNV_START;

	if (s == NULL || domain == NULL)
		return false;
	len = strnlen(domain, DOMAIN_MAX + 2);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > DOMAIN_MAX)
		return false;
	for (size_t i = len; i-- > 0;) {
		if (domain[i] == '.' && i + 1 < len &&
		    nsuf < sizeof(hs) / sizeof(hs[0])) {
			starts[nsuf] = i + 1;
			hs[nsuf] = hash_final(h);
			prefetch_slot(s->sub, hs[nsuf]);
			nsuf++;
		}
		h = hash_step(h, (unsigned char)domain[i], true);
	}
	whole = hash_final(h);
	prefetch_slot(s->exact, whole);
	if (has_hashed(s->exact, domain, len, whole))
		return true;
	/* the longest suffix first, as before: the last one hashed */
	for (size_t k = nsuf; k-- > 0;)
		if (has_hashed(s->sub, domain + starts[k], len - starts[k],
			       hs[k]))
			return true;
	return false;
}

size_t domain_set_count(const struct domain_set *s)
{
	return s != NULL ? str_set_count(s->exact) + str_set_count(s->sub) : 0;
}

void domain_set_free(struct domain_set **s)
{
	if (s == NULL || *s == NULL)
		return;
	str_set_free(&(*s)->exact);
	str_set_free(&(*s)->sub);
	free(*s);
	*s = NULL;
}

/* --- e-mail address sets ---------------------------------------------- */

struct email_set {
	bool local_cs;
	struct str_set *set; /* keys "local@domain", normalised */
};

struct email_set *email_set_new(bool local_case_sensitive)
{
	struct email_set *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->local_cs = local_case_sensitive;
	s->set = str_set_new(false);
	if (s->set == NULL)
		email_set_free(&s);
	return s;
}

/*
 * The key of an address in normal form: its text, the local part folded
 * unless the set keeps its case (the domain is lower-case already). key
 * holds sizeof(a->text) octets. Returns the key's length.
 */
static size_t email_key(const struct email_set *s, const struct envaddr *a,
			char *key)
{
	for (size_t i = 0; i < a->len; i++)
		key[i] = s->local_cs || i >= a->at
			     ? a->text[i]
			     : (char)fold((unsigned char)a->text[i]);
	key[a->len] = '\0';
	return a->len;
}

static bool addr_literal(const char *d)
{
	size_t n = strlen(d);
	unsigned char a[16];

	return n >= 3 && d[0] == '[' && d[n - 1] == ']' &&
	       addr_parse(d, a) == 0;
}

int email_set_add(struct email_set *s, const char *addr, char *err,
		  size_t errlen)
{
	struct envaddr a;
	char key[sizeof(a.text)], q[96], why[96], dummy[1];
	const char *domain;
	size_t n;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (addr == NULL)
		addr = "";
	n = strnlen(addr, EMAIL_MAX + 1);
	match_quote(q, sizeof(q), addr, n);
	if (n > EMAIL_MAX) {
		snprintf(err, errlen, "address \"%s\": longer than %d octets",
			 q, EMAIL_MAX);
		return -1;
	}
	if (envaddr_parse(addr, n, &a, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "address \"%s\": malformed (%s)", q, why);
		return -1;
	}
	domain = envaddr_domain(&a);
	if (a.at == 2 && a.text[0] == '"' && a.text[1] == '"') {
		snprintf(err, errlen,
			 "address \"%s\": malformed (an empty local part)", q);
		return -1;
	}
	if (a.len > 0 && a.at == a.len &&
	    strcasecmp(a.text, "postmaster") != 0) {
		snprintf(err, errlen,
			 "address \"%s\": no @domain (a domain goes in a "
			 "domain list)",
			 q);
		return -1;
	}
	if (domain[0] != '\0' && !addr_literal(domain)) {
		char derr[160];
		if (domain_check(domain, strlen(domain), derr, sizeof(derr)) <
		    0) {
			snprintf(err, errlen, "address \"%s\": %s", q, derr);
			return -1;
		}
	}
	n = email_key(s, &a, key);
	if (str_set_add(s->set, key, n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

bool email_set_match(const struct email_set *s, const struct envaddr *a)
{
	char key[sizeof(a->text)];
	size_t n;

	if (s == NULL || a == NULL)
		return false;
	n = email_key(s, a, key);
	return str_set_has(s->set, key, n);
}

size_t email_set_count(const struct email_set *s)
{
	return s != NULL ? str_set_count(s->set) : 0;
}

void email_set_free(struct email_set **s)
{
	if (s == NULL || *s == NULL)
		return;
	str_set_free(&(*s)->set);
	free(*s);
	*s = NULL;
}
