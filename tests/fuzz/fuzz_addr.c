/*
 * fuzz_addr.c - fuzz target for addresses: IP address sets and envelope
 * (e-mail) addresses.
 *
 * IP: each input line is an entry for addr_set_add() ("192.0.2.0/24",
 * "[IPv6:2001:db8::1]", ...), or, when it starts with '?', an address for
 * addr_parse() to look up. Checked against a naive model kept here: an
 * entry is a 128-bit network and a prefix length (IPv4 text on the
 * IPv4-mapped scale), an address matches when any entry's first bits equal
 * its own. Every looked-up address, every accepted network, its neighbours
 * across the prefix boundary and raw 16-octet strings from the input must
 * get the same answer from addr_set_match() as from the model; the entry
 * count must match; accepted IPv4 text must have four parts without
 * leading zeros.
 *
 * Envelope addresses: the whole input (NUL octets and all) and each line
 * are given to envaddr_parse(). Checked, the promises of match.h: an error
 * says why and leaves an empty address; a normal form is terminated, at
 * most two octets longer than the input, free of control octets, its
 * domain (after text[at] == '@') not empty, lower-case, without '@' or a
 * trailing dot, a literal or labels between single dots, its local part a
 * dot-string or a quoted string that needs its quotes (and, without a
 * domain, no "d!u" or "u%d" left); it reads again as itself; and every
 * other spelling of it reads as it too: in <>, << >>, with blanks, a '>'
 * at the end, a source route, a phrase, comments, the local part quoted or
 * every octet of it escaped, the domain upper-case or with a trailing dot,
 * "d!u" and "u%d". An e-mail set holding it and a domain set holding its
 * domain match every spelling. Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/match.h"

static void check_envaddr(const char *in, size_t n);

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
	check_envaddr((const char *)data, size);
	for (size_t i = 0; i < n; i++)
		check_envaddr(lines[i], strlen(lines[i]));
	addr_set_free(&s);
	FUZZ_CHECK(s == NULL, "addr_set_free left the pointer");
	free(tiny);
	free(e);
	free(buf);
	return 0;
}

/* --- envelope addresses ---------------------------------------------- */

#define SPECIALS "()<>@,;:\\\".[]"

/* An RFC 822 dot-string, as quote_822_local() decides (8-bit is fine). */
static bool model_dot_string(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || (c == '.' && s[i + 1] == '.') ||
		    (c != '.' && strchr(SPECIALS, c) != NULL))
			return false;
	}
	return true;
}

/* Check the form of a normal address (match.h's promises). */
static void check_form(const struct envaddr *a, const char *in, size_t n)
{
	const char *t = a->text, *d = t + a->at + 1;
	size_t dn = a->len - a->at - 1, ln = a->at;

	FUZZ_CHECK(a->len == strlen(t) && a->len <= n + 2 && a->at <= a->len,
		   "\"%.60s\": len %zu, at %zu, strlen %zu, input %zu", t,
		   a->len, a->at, strlen(t), n);
	for (size_t i = 0; i < a->len; i++)
		FUZZ_CHECK((unsigned char)t[i] >= 0x20 && t[i] != 0x7f,
			   "\"%.60s\" has a control octet", t);
	if (a->len == 0)
		return;
	if (a->at < a->len) {
		FUZZ_CHECK(t[a->at] == '@' && dn > 0 && d[dn - 1] != '.' &&
			       memchr(d, '@', dn) == NULL,
			   "\"%.60s\": bad domain \"%s\"", t, d);
		for (size_t i = 0; i < dn; i++)
			FUZZ_CHECK(!(d[i] >= 'A' && d[i] <= 'Z'),
				   "\"%.60s\": domain not lower-case", t);
		if (d[0] == '[')
			FUZZ_CHECK(d[dn - 1] == ']' &&
				       memchr(d + 1, ']', dn - 2) == NULL &&
				       memchr(d + 1, '[', dn - 1) == NULL,
				   "\"%.60s\": bad literal", t);
		else
			FUZZ_CHECK(model_dot_string(d, dn) &&
				       strpbrk(d, "%!|") == NULL,
				   "\"%.60s\": bad domain", t);
	}
	FUZZ_CHECK(ln > 0, "\"%.60s\" (from \"%.60s\"): empty local part", t,
		   in);
	if (t[0] == '"') {
		/* quoted: escapes where needed, and needed at all */
		char un[sizeof(a->text)];
		size_t u = 0;
		FUZZ_CHECK(ln >= 2 && t[ln - 1] == '"',
			   "\"%.60s\": unterminated quotes", t);
		for (size_t i = 1; i + 1 < ln; i++) {
			if (t[i] == '\\')
				i++;
			else
				FUZZ_CHECK(t[i] != '"', "\"%.60s\": bare '\"'",
					   t);
			FUZZ_CHECK(i + 1 < ln, "\"%.60s\": escaped end quote",
				   t);
			un[u++] = t[i];
		}
		un[u] = '\0';
		FUZZ_CHECK(!model_dot_string(un, u),
			   "\"%.60s\": quotes around a dot-string", t);
	} else {
		FUZZ_CHECK(model_dot_string(t, ln),
			   "\"%.60s\": local part neither dot-string nor "
			   "quoted",
			   t);
		FUZZ_CHECK(a->at < a->len || strpbrk(t, "!%") == NULL,
			   "\"%.60s\" (from \"%.60s\"): '!' or '%%' left "
			   "without a domain",
			   t, in);
	}
}

/* spelling must read as want (not longer than the parser reads). */
static void same(const char *spelling, size_t n, const struct envaddr *want,
		 const struct email_set *es, const struct domain_set *ds)
{
	struct envaddr b;
	char err[128];

	if (n > ENVADDR_MAX)
		return;
	FUZZ_CHECK(envaddr_parse(spelling, n, &b, err, sizeof(err)) == 0 &&
		       strcmp(b.text, want->text) == 0 && b.at == want->at,
		   "\"%.80s\" reads as \"%.80s\" (%s), but \"%.80s\" as "
		   "\"%.80s\"",
		   want->text, want->text, err, spelling, b.text);
	FUZZ_CHECK(es == NULL || email_set_match(es, &b),
		   "\"%.80s\" does not match a set holding \"%.80s\"", spelling,
		   want->text);
	FUZZ_CHECK(ds == NULL || domain_set_match(ds, envaddr_domain(&b)),
		   "\"%.80s\" is not in a set holding its domain", spelling);
}

static void check_spellings(const struct envaddr *a)
{
	static const char *const wrap[][2] = {
	    {"<", ">"},
	    {" \t< ", " >\t"},
	    {"<<", ">>"},
	    {"", ">"},
	    {"<@r.test,@[192.0.2.1]:", ">"},
	    {"<Name <", ">>"},
	    {"<(c)", "(c (d))>"},
	    {"<\"J. \\\"Q\\\"\" <", ">>"},
	};
	const char *t = a->text, *d = envaddr_domain(a);
	size_t ln = a->at, dn = strlen(d), n;
	struct email_set *es = email_set_new(false);
	struct domain_set *ds = domain_set_new();
	char sp[2 * sizeof(a->text) + 64];

	if (es == NULL || ds == NULL)
		abort();
	if (email_set_add(es, t, NULL, 0) != 0)
		email_set_free(&es);
	if (d[0] == '\0' || domain_set_add(ds, d, false, NULL, 0) != 0)
		domain_set_free(&ds);
	for (size_t i = 0; i < sizeof(wrap) / sizeof(wrap[0]); i++) {
		n = (size_t)snprintf(sp, sizeof(sp), "%s%s%s", wrap[i][0], t,
				     wrap[i][1]);
		same(sp, n, a, es, ds);
	}
	if (a->len == 0)
		goto out;
	if (dn > 0) {
		/* the domain upper-case, with a trailing dot */
		n = (size_t)snprintf(sp, sizeof(sp), "<%s.>", t);
		for (size_t i = ln + 2; i < n; i++)
			if (sp[i] >= 'a' && sp[i] <= 'z')
				sp[i] = (char)(sp[i] - 32);
		same(sp, n, a, es, ds);
	}
	if (t[0] != '"') {
		/* the local part quoted, and every octet of it escaped */
		n = (size_t)snprintf(sp, sizeof(sp), "\"%.*s\"%s", (int)ln, t,
				     t + ln);
		same(sp, n, a, es, ds);
		n = 0;
		for (size_t i = 0; i < ln; i++) {
			sp[n++] = '\\';
			sp[n++] = t[i];
		}
		n += (size_t)snprintf(sp + n, sizeof(sp) - n, "%s", t + ln);
		same(sp, n, a, es, ds);
		/* "d!u" and, without a '!' in u, "u%d" */
		if (dn > 0 && d[0] != '[') {
			n = (size_t)snprintf(sp, sizeof(sp), "<%s!%.*s>", d,
					     (int)ln, t);
			same(sp, n, a, es, ds);
			if (memchr(t, '!', ln) == NULL) {
				n = (size_t)snprintf(sp, sizeof(sp),
						     "<%.*s%%%s>", (int)ln, t,
						     d);
				same(sp, n, a, es, ds);
			}
		}
	}
out:
	email_set_free(&es);
	domain_set_free(&ds);
}

static void check_envaddr(const char *in, size_t n)
{
	struct envaddr a, again;
	char err[128], one[1] = "x";
	int rc;

	memset(&a, 'x', sizeof(a));
	err[0] = 'x';
	rc = envaddr_parse(in, n, &a, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "envaddr_parse returned %d", rc);
	FUZZ_CHECK(envaddr_parse(in, n, &again, one, sizeof(one)) == rc &&
		       one[0] == '\0' &&
		       envaddr_parse(in, n, &again, NULL, 0) == rc,
		   "envaddr_parse depends on its error buffer");
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0' &&
			       strnlen(err, sizeof(err)) < sizeof(err),
			   "refused without a reason");
		FUZZ_CHECK(a.len == 0 && a.at == 0 && a.text[0] == '\0',
			   "an error left \"%.60s\"", a.text);
		return;
	}
	FUZZ_CHECK(err[0] == '\0', "read, with the error \"%s\"", err);
	check_form(&a, in, n);
	if (a.len <= ENVADDR_MAX) {
		FUZZ_CHECK(envaddr_parse(a.text, a.len, &again, err,
					 sizeof(err)) == 0 &&
			       strcmp(again.text, a.text) == 0,
			   "\"%.80s\" reads again as \"%.80s\" (%s)", a.text,
			   again.text, err);
		check_spellings(&a);
	}
}
