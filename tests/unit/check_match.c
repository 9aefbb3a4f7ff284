/*
 * check_match.c - unit tests of the matching primitives (match.h) and the
 * list file reader (listfile.h): address sets, string, domain and e-mail
 * sets, the envelope address parser, regexes and their limits, the
 * streaming body scanner.
 *
 * Table-driven; every failure says what it got and what it wanted. Needs
 * no MTA and no network; writes only under a temporary directory.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/listfile.h"
#include "lib/match.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

/* --- addresses -------------------------------------------------------- */

static char long_text[1001];

static const char *long_string(void)
{
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	return long_text;
}

static const struct {
	const char *text; /* NULL: the 1000-octet string */
	int rc;
	const char *err; /* substring of the error, or NULL */
} addr_add_cases[] = {
    {"192.0.2.1", 0, NULL},
    {"192.0.2.0/24", 0, NULL},
    {"2001:db8::/32", 0, NULL},
    {"::1", 0, NULL},
    {"[2001:db8::1]", 0, NULL},
    {"IPv6:2001:db8::1", 0, NULL},
    {"[IPv6:2001:db8::1]", 0, NULL},
    {"[192.0.2.1]", 0, NULL},
    {"[192.0.2.0]/24", 0, NULL},
    {"0.0.0.0/0", 0, NULL},
    {"::/0", 0, NULL},
    {"1.2.3.4/32", 0, NULL},
    {"::1/128", 0, NULL},
    {"::ffff:1.2.3.0/120", 0, NULL},
    {"", -1, "empty address"},
    {"1.2.3.4/33", -1, "bad prefix length (want 0-32)"},
    {"::/129", -1, "bad prefix length (want 0-128)"},
    {"1.2.3", -1, "not an IP address"},
    {"::ffff:1.2.3.4/120", -1,
     "has host bits set; did you mean ::ffff:1.2.3.0/120?"},
    {"192.0.2.1/24", -1,
     "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?"},
    {"2001:db8::1/32", -1, "did you mean 2001:db8::/32?"},
    {"1.2.3.4/", -1, "bad prefix length"},
    {"1.2.3.4/024", -1, "bad prefix length"},
    {"1.2.3.4/-1", -1, "bad prefix length"},
    {"1.2.3.4/ 8", -1, "bad prefix length"},
    {"1.2.3.4/8/8", -1, "bad prefix length"},
    {"01.2.3.4", -1, "not an IP address"},
    {"256.1.1.1", -1, "not an IP address"},
    {"1.2.3.4 ", -1, "not an IP address"},
    {"fe80::1%eth0", -1, "not an IP address"},
    {"IPv6:1.2.3.4", -1, "not an IP address"},
    {"[1.2.3.4", -1, "not an IP address"},
    {"garbage", -1, "not an IP address"},
    {NULL, -1, "too long"},
};

START_TEST(test_addr_add)
{
	const char *text = addr_add_cases[_i].text;
	struct addr_set *s = addr_set_new();
	char err[256];
	int rc;

	if (text == NULL)
		text = long_string();
	ck_assert_ptr_nonnull(s);
	rc = addr_set_add(s, text, err, sizeof(err));
	ck_assert_msg(rc == addr_add_cases[_i].rc,
		      "case %d (%.40s): got rc %d (%s), want %d", _i, text, rc,
		      err, addr_add_cases[_i].rc);
	if (addr_add_cases[_i].err != NULL)
		ck_assert_msg(strstr(err, addr_add_cases[_i].err) != NULL,
			      "case %d (%.40s): got error \"%s\", want one "
			      "containing \"%s\"",
			      _i, text, err, addr_add_cases[_i].err);
	ck_assert_msg(addr_set_count(s) == (rc == 0 ? 1u : 0u),
		      "case %d: got count %zu, want %d", _i, addr_set_count(s),
		      rc == 0);
	addr_set_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

static const char *const addr_sets[][8] = {
    {"192.0.2.0/24", "198.51.100.7", "2001:db8::/32", "::1", "10.0.0.0/8",
     "10.1.0.0/16", NULL},
    {"0.0.0.0/0", NULL},
    {"::/0", NULL},
    {"::ffff:1.2.3.0/120", NULL},
    {"2001:db8::1/128", "2001:db8:0:1::/64", NULL},
    {NULL},
    /* IPv6 entries and IPv4 addresses: only an entry shorter than /96
     * over ::ffff:0:0 holds them (then all of them) */
    {"::/8", "2001:db8::/32", NULL},
    {"::fffe:0:0/95", NULL},
    {"::/96", "2001:db8::/64", "2001:db8::1/128", NULL},
    {"::ffff:0:0/96", "2001:db8::/64", NULL},
    {"10.0.0.0/8", "192.0.2.0/24", "192.0.2.1", "::/0", NULL},
};

static const struct {
	int set;
	const char *addr;
	bool want;
} addr_match_cases[] = {
    {0, "192.0.2.0", true},
    {0, "192.0.2.255", true},
    {0, "192.0.3.0", false},
    {0, "192.0.1.255", false},
    {0, "198.51.100.7", true},
    {0, "198.51.100.8", false},
    {0, "2001:db8:ffff::1", true},
    {0, "2001:db9::", false},
    {0, "::1", true},
    {0, "::2", false},
    {0, "10.1.2.3", true},
    {0, "10.200.0.1", true},
    {0, "11.0.0.0", false},
    {0, "::ffff:192.0.2.5", true},
    {0, "::192.0.2.5", false},
    {0, "[192.0.2.9]", true},
    {0, "IPv6:2001:db8::2", true},
    {1, "1.2.3.4", true},
    {1, "0.0.0.0", true},
    {1, "255.255.255.255", true},
    {1, "::1", false},
    {1, "2001:db8::1", false},
    {1, "::", false},
    {2, "1.2.3.4", true},
    {2, "2001:db8::1", true},
    {2, "::", true},
    {2, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {3, "1.2.3.9", true},
    {3, "1.2.3.255", true},
    {3, "1.2.4.0", false},
    {4, "2001:db8::1", true},
    {4, "2001:db8::2", false},
    {4, "2001:db8:0:1:ffff::", true},
    {4, "2001:db8:0:2::", false},
    {5, "1.2.3.4", false},
    {5, "::", false},
    {6, "1.2.3.4", true},
    {6, "::ffff:0:0", true},
    {6, "2001:db8::5", true},
    {6, "3000::", false},
    {6, "100::", false},
    {7, "255.255.255.255", true},
    {7, "::fffe:1:2", true},
    {7, "::fffd:0:0", false},
    {8, "1.2.3.4", false},
    {8, "::5", true},
    {8, "2001:db8::1", true},
    {8, "2001:db8:1::1", false},
    {9, "1.2.3.4", true},
    {9, "::1", false},
    {9, "2001:db8::9", true},
    {10, "172.16.0.1", true},
    {10, "192.0.2.200", true},
    {10, "::1", true},
};

START_TEST(test_addr_match)
{
	int set = addr_match_cases[_i].set;
	const char *text = addr_match_cases[_i].addr;
	struct addr_set *s = addr_set_new();
	unsigned char a[16];
	char err[256];
	bool got;

	ck_assert_ptr_nonnull(s);
	for (int k = 0; addr_sets[set][k] != NULL; k++)
		ck_assert_msg(
		    addr_set_add(s, addr_sets[set][k], err, sizeof(err)) == 0,
		    "case %d: add %s: got error %s, want none", _i,
		    addr_sets[set][k], err);
	ck_assert_msg(addr_parse(text, a) == 0,
		      "case %d: addr_parse(%s): got -1, want 0", _i, text);
	got = addr_set_match(s, a);
	ck_assert_msg(got == addr_match_cases[_i].want,
		      "case %d: set %d, %s: got %s, want %s", _i, set, text,
		      tf(got), tf(addr_match_cases[_i].want));
	addr_set_free(&s);
}
END_TEST

static const struct {
	const char *text;
	int rc;
	unsigned char want[16];
} addr_parse_cases[] = {
    {"192.0.2.1", 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}},
    {"[192.0.2.1]",
     0,
     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}},
    {"::1", 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
    {"[IPv6:2001:db8::1]",
     0,
     {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
    {"192.0.2.0/24", -1, {0}},
    {"", -1, {0}},
    {"1.2.3", -1, {0}},
    {"[]", -1, {0}},
    {"IPv6:", -1, {0}},
};

START_TEST(test_addr_parse)
{
	unsigned char a[16];
	int rc = addr_parse(addr_parse_cases[_i].text, a);

	ck_assert_msg(rc == addr_parse_cases[_i].rc,
		      "case %d (%s): got %d, want %d", _i,
		      addr_parse_cases[_i].text, rc, addr_parse_cases[_i].rc);
	if (rc == 0)
		ck_assert_msg(memcmp(a, addr_parse_cases[_i].want, 16) == 0,
			      "case %d (%s): got other octets than wanted", _i,
			      addr_parse_cases[_i].text);
}
END_TEST

START_TEST(test_addr_count_dup)
{
	static const char *const e[] = {"192.0.2.0/24", "192.0.2.0/24",
					"::ffff:192.0.2.0/120",
					"[192.0.2.0]/24", "192.0.2.0/25"};
	struct addr_set *s = addr_set_new();
	char err[256];

	for (size_t i = 0; i < N(e); i++)
		ck_assert_msg(addr_set_add(s, e[i], err, sizeof(err)) == 0,
			      "add %s: got error %s, want none", e[i], err);
	ck_assert_msg(addr_set_count(s) == 2, "got count %zu, want 2",
		      addr_set_count(s));
	ck_assert_msg(
	    !addr_set_match(NULL, (const unsigned char *)"0123456789abcdef"),
	    "NULL set: got a match, want none");
	addr_set_free(&s);
	addr_set_free(&s); /* NULL is fine */
}
END_TEST

/* Many random /32s (even addresses) and /24s (in 172.16.0.0/12). */
START_TEST(test_addr_many)
{
	enum { COUNT = 200000 };
	struct addr_set *s = addr_set_new();
	uint32_t *v = malloc(COUNT * sizeof(*v));
	unsigned char a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char text[64], err[256];
	uint32_t x = 12345;

	ck_assert_ptr_nonnull(v);
	for (int i = 0; i < COUNT; i++) {
		x = x * 1103515245u + 12345u;
		/* 10.0.0.0/8, even last octet */
		v[i] = (10u << 24) | ((x >> 8) & 0xfffffe);
		snprintf(text, sizeof(text), "%u.%u.%u.%u", v[i] >> 24,
			 v[i] >> 16 & 255, v[i] >> 8 & 255, v[i] & 255);
		ck_assert_msg(addr_set_add(s, text, err, sizeof(err)) == 0,
			      "add %s: got %s, want none", text, err);
		snprintf(text, sizeof(text), "172.%u.%u.0/24", 16 + (x >> 28),
			 (x >> 20) & 255);
		ck_assert_msg(addr_set_add(s, text, err, sizeof(err)) == 0,
			      "add %s: got %s, want none", text, err);
	}
	for (int i = 0; i < COUNT; i++) {
		for (int k = 0; k < 2; k++) {
			uint32_t q = v[i] | (uint32_t)k;
			bool got;
			a[12] = q >> 24;
			a[13] = q >> 16 & 255;
			a[14] = q >> 8 & 255;
			a[15] = q & 255;
			got = addr_set_match(s, a);
			ck_assert_msg(got == (k == 0),
				      "%u.%u.%u.%u: got %s, want %s", a[12],
				      a[13], a[14], a[15], tf(got), tf(k == 0));
		}
	}
	free(v);
	addr_set_free(&s);
}
END_TEST

/* --- string sets ------------------------------------------------------ */

static const struct {
	bool nocase;
	const char *add;
	size_t addlen;
	const char *q;
	size_t qlen;
	bool want;
} str_cases[] = {
    {false, "abc", 3, "abc", 3, true},
    {false, "abc", 3, "ABC", 3, false},
    {true, "abc", 3, "ABC", 3, true},
    {true, "aBc", 3, "AbC", 3, true},
    {true, "abc", 3, "abd", 3, false},
    {false, "a\0b", 3, "a\0b", 3, true},
    {false, "a\0b", 3, "a\0c", 3, false},
    {false, "a\0b", 3, "a", 1, false},
    {false, "", 0, "", 0, true},
    {true, "\xc3\x89t\xc3\xa9", 5, "\xc3\x89T\xc3\xa9", 5, true},
    {true, "\xc3\x89t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9", 5, false},
};

START_TEST(test_str_set)
{
	struct str_set *s = str_set_new(str_cases[_i].nocase);
	bool got;

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(str_set_add(s, str_cases[_i].add, str_cases[_i].addlen) ==
			  0,
		      "case %d: add failed, want 0", _i);
	got = str_set_has(s, str_cases[_i].q, str_cases[_i].qlen);
	ck_assert_msg(got == str_cases[_i].want, "case %d: got %s, want %s", _i,
		      tf(got), tf(str_cases[_i].want));
	str_set_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

/*
 * Strings are kept in one arena behind their length: one octet below 255,
 * five from 255 on. Every length around the switch, NUL octets inside,
 * without case: each found, none of its neighbours.
 */
START_TEST(test_str_set_lengths)
{
	static const size_t lens[] = {0, 1, 2, 254, 255, 256, 4096, 70000};
	struct str_set *s = str_set_new(true);
	char *buf = malloc(70002);

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < 70001; i++)
		buf[i] = (char)(i % 7 == 3 ? '\0' : 'a' + (int)(i % 23));
	for (size_t i = 0; i < N(lens); i++)
		ck_assert_int_eq(str_set_add(s, buf, lens[i]), 0);
	ck_assert_msg(str_set_count(s) == N(lens), "got count %zu, want %zu",
		      str_set_count(s), N(lens));
	for (size_t len = 0; len <= 70001; len++) {
		bool want = false, got;
		if (len == 300)
			len = 4090; /* around each length added */
		else if (len == 4100)
			len = 69990;
		for (size_t i = 0; i < N(lens); i++)
			want = want || lens[i] == len;
		got = str_set_has(s, buf, len);
		ck_assert_msg(got == want, "length %zu: got %s, want %s", len,
			      tf(got), tf(want));
	}
	/* Without case: the same octets in upper case. */
	for (size_t i = 0; i < 70001; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 32);
	for (size_t i = 0; i < N(lens); i++)
		ck_assert_msg(str_set_has(s, buf, lens[i]),
			      "length %zu in upper case: got no, want yes",
			      lens[i]);
	buf[300] ^= 1; /* one octet changed: the long ones are gone */
	ck_assert_msg(!str_set_has(s, buf, 4096) && str_set_has(s, buf, 256),
		      "one octet changed at 300: got the wrong answers");
	free(buf);
	str_set_free(&s);
}
END_TEST

START_TEST(test_str_set_many)
{
	struct str_set *s = str_set_new(true);
	char buf[32];

	for (int i = 0; i < 50000; i++) {
		int n = snprintf(buf, sizeof(buf), "Key-%d", i);
		ck_assert_int_eq(str_set_add(s, buf, (size_t)n), 0);
	}
	for (int i = 0; i < 50000; i += 7) { /* duplicates, other case */
		int n = snprintf(buf, sizeof(buf), "KEY-%d", i);
		ck_assert_int_eq(str_set_add(s, buf, (size_t)n), 0);
	}
	ck_assert_msg(str_set_count(s) == 50000, "got count %zu, want 50000",
		      str_set_count(s));
	for (int i = 0; i < 60000; i++) {
		int n = snprintf(buf, sizeof(buf), "kEy-%d", i);
		bool got = str_set_has(s, buf, (size_t)n);
		ck_assert_msg(got == (i < 50000), "%s: got %s, want %s", buf,
			      tf(got), tf(i < 50000));
	}
	str_set_free(&s);
}
END_TEST

/* --- domains ---------------------------------------------------------- */

static char long_domain[301];

static const struct {
	const char *name; /* NULL: a 300-octet name */
	int set;	  /* 0: D1, 1: "com" with subdomains */
	bool want;
} domain_match_cases[] = {
    {"example.com", 0, true},
    {"EXAMPLE.COM", 0, true},
    {"example.com.", 0, true},
    {"a.example.com", 0, false},
    {"example.org", 0, false},
    {"a.example.org", 0, true},
    {"A.B.EXAMPLE.ORG.", 0, true},
    {"xexample.org", 0, false},
    {"example.org.evil", 0, false},
    {"mixed.case.net", 0, true},
    {"both.example", 0, true},
    {"x.both.example", 0, true},
    {"", 0, false},
    {".", 0, false},
    {"example.com..", 0, false},
    {NULL, 0, false},
    {"a.com", 1, true},
    {"a.b.COM", 1, true},
    {"com", 1, false},
    {"acom", 1, false},
    {"a.com.", 1, true},
    {"a.net", 1, false},
};

START_TEST(test_domain_match)
{
	struct domain_set *s = domain_set_new();
	const char *name = domain_match_cases[_i].name;
	char err[256];
	bool got;

	ck_assert_ptr_nonnull(s);
	if (domain_match_cases[_i].set == 0) {
		ck_assert_int_eq(
		    domain_set_add(s, "example.com", false, err, sizeof(err)),
		    0);
		ck_assert_int_eq(
		    domain_set_add(s, "example.org", true, err, sizeof(err)),
		    0);
		ck_assert_int_eq(domain_set_add_entry(s, "Mixed.Case.NET.", err,
						      sizeof(err)),
				 0);
		ck_assert_int_eq(
		    domain_set_add_entry(s, "both.example", err, sizeof(err)),
		    0);
		ck_assert_int_eq(
		    domain_set_add_entry(s, "*.both.example", err, sizeof(err)),
		    0);
	} else {
		ck_assert_int_eq(
		    domain_set_add_entry(s, ".com", err, sizeof(err)), 0);
	}
	if (name == NULL) {
		for (size_t i = 0; i < sizeof(long_domain) - 1; i++)
			long_domain[i] = i % 4 == 3 ? '.' : 'a';
		memcpy(long_domain + sizeof(long_domain) - 12, "example.com",
		       12);
		name = long_domain;
	}
	got = domain_set_match(s, name);
	ck_assert_msg(got == domain_match_cases[_i].want,
		      "case %d (%.40s): got %s, want %s", _i, name, tf(got),
		      tf(domain_match_cases[_i].want));
	domain_set_free(&s);
}
END_TEST

static char label63[64], label64[65], name254[255];

static const struct {
	int text; /* 0: use name; 1: 63-octet label; 2: 64; 3: 254 total */
	const char *name;
	int rc;
	const char *err;
} domain_add_cases[] = {
    {0, "example.com", 0, NULL},
    {0, "example.com.", 0, NULL},
    {0, "_dmarc.example.com", 0, NULL},
    {0, "xn--bcher-kva.example", 0, NULL},
    {0, "com", 0, NULL},
    {0, "", -1, "empty domain name"},
    {0, ".", -1, "empty domain name"},
    {0, "a..b", -1, "empty label"},
    {0, ".example.com", -1, "empty label"},
    {0, "ex ample.com", -1, "invalid character ' '"},
    {0, "exa\x01mple.com", -1, "invalid octet 0x01"},
    {0, "*.example.com", -1, "invalid character '*'"},
    {1, NULL, 0, NULL},
    {2, NULL, -1, "longer than 63 octets"},
    {3, NULL, -1, "longer than 253 octets"},
};

START_TEST(test_domain_add)
{
	struct domain_set *s = domain_set_new();
	const char *name = domain_add_cases[_i].name;
	char err[256] = "";
	int rc;

	memset(label63, 'a', 63);
	memset(label64, 'b', 64);
	for (size_t i = 0; i < 254; i++)
		name254[i] = i % 2 ? '.' : 'c';
	name254[253] = 'c'; /* 254 octets, labels of one */
	switch (domain_add_cases[_i].text) {
	case 1:
		name = label63;
		break;
	case 2:
		name = label64;
		break;
	case 3:
		name = name254;
		break;
	}
	rc = domain_set_add(s, name, _i % 2 == 0, err, sizeof(err));
	ck_assert_msg(rc == domain_add_cases[_i].rc,
		      "case %d (%.40s): got %d (%s), want %d", _i, name, rc,
		      err, domain_add_cases[_i].rc);
	if (domain_add_cases[_i].err != NULL)
		ck_assert_msg(strstr(err, domain_add_cases[_i].err) != NULL,
			      "case %d: got error \"%s\", want one containing "
			      "\"%s\"",
			      _i, err, domain_add_cases[_i].err);
	domain_set_free(&s);
}
END_TEST

/* --- envelope addresses ---------------------------------------------- */

#define BAD NULL /* want: envaddr_parse refuses it */

static const struct {
	const char *in;
	size_t len;	  /* 0: strlen(in) */
	const char *want; /* normal form, or BAD */
	const char *err;  /* BAD: part of the error */
} envaddr_cases[] = {
    /* the spellings Postfix delivered past the rules (issue 8) */
    {"<u@blocked.test>", 0, "u@blocked.test", NULL},
    {"u@blocked.test>", 0, "u@blocked.test", NULL},
    {"<<u@blocked.test>>", 0, "u@blocked.test", NULL},
    {"<\"v\"@example.test>", 0, "v@example.test", NULL},
    {"<v@example.test >", 0, "v@example.test", NULL},
    {"< v@example.test>", 0, "v@example.test", NULL},
    /* blanks, brackets, the phrase before <address> */
    {"u@blocked.test", 0, "u@blocked.test", NULL},
    {" \t<u@blocked.test>\t ", 0, "u@blocked.test", NULL},
    {"<\tv @ example . test\t>", 0, "v@example.test", NULL},
    {"<Name <u@d.test>>", 0, "u@d.test", NULL},
    {"<\"Joe Q. Public\" <u@d.test>>", 0, "u@d.test", NULL},
    {"<J. Doe <u@d.test>>", 0, "u@d.test", NULL},
    {"<u@d.test", 0, BAD, "angle brackets"},
    {"u@d.test>>", 0, BAD, "angle brackets"},
    {"<<<u@d.test>>>", 0, BAD, "angle brackets"},
    {"<u@d.test> x", 0, BAD, "angle brackets"},
    {"<a@b.test <u@d.test>>", 0, BAD, "before '<'"},
    {"<<u@d.test> <v@d.test>>", 0, BAD, "angle brackets"},
    /* the null sender */
    {"<>", 0, "", NULL},
    {"", 0, "", NULL},
    {"  ", 0, "", NULL},
    {"<<>>", 0, "", NULL},
    {"<\"\">", 0, "", NULL},
    {"<@>", 0, "", NULL},
    {"<(nobody)>", 0, "", NULL},
    {"<@relay.test:>", 0, "", NULL},
    /* source routes */
    {"<@a.test,@b.test:u@d.test>", 0, "u@d.test", NULL},
    {"<@a.test:u@d.test>", 0, "u@d.test", NULL},
    {"@a.test,@b.test:u@d.test", 0, "u@d.test", NULL},
    {"< @a.test,@b.test:u@d.test>", 0, "u@d.test", NULL},
    {"<<@a.test,@b.test:u@d.test>>", 0, "u@d.test", NULL},
    {"<@a.test:@b.test:u@d.test>", 0, "u@d.test", NULL},
    {"<@[192.0.2.1],@b.test:u@d.test>", 0, "u@d.test", NULL},
    {"<\"@a.test:u\"@d.test>", 0, "u@d.test", NULL},
    {"<@a.test:b;c@d.test>", 0, BAD, "';'"},
    {"<<@a.test;@b.test:u@d.test>>", 0, BAD, "source route"},
    {"<<@a.test:\"@b.test:u\"@d.test>>", 0, "u@d.test", NULL},
    /* quoted local parts: quotes kept only where quote_822_local keeps
       them */
    {"\"v\"@x.test", 0, "v@x.test", NULL},
    {"\"v.w\"@x.test", 0, "v.w@x.test", NULL},
    {"\"\\v\"@x.test", 0, "v@x.test", NULL},
    {"\"a b\"@x.test", 0, "\"a b\"@x.test", NULL},
    {"\"a@b\"@x.test", 0, "\"a@b\"@x.test", NULL},
    {"\"a\\\"b\"@x.test", 0, "\"a\\\"b\"@x.test", NULL},
    {"\"a\\\\b\"@x.test", 0, "\"a\\\\b\"@x.test", NULL},
    {"\"a(b)\"@x.test", 0, "\"a(b)\"@x.test", NULL},
    {"\"v..w\"@x.test", 0, "\"v..w\"@x.test", NULL},
    {"\".v\"@x.test", 0, "\".v\"@x.test", NULL},
    {"\"v.\"@x.test", 0, "\"v.\"@x.test", NULL},
    {"\"\"@x.test", 0, "\"\"@x.test", NULL},
    {"\"a\tb\"@x.test", 0, "\"a b\"@x.test", NULL},
    {"\"a%b!c\"@x.test", 0, "a%b!c@x.test", NULL},
    {"\"v\"", 0, "v", NULL},
    {"\"a b\"", 0, "\"a b\"", NULL},
    /* the unquoted form is split at its last '@', as Postfix does */
    {"<\"u@blocked.test\">", 0, "u@blocked.test", NULL},
    {"<\"u@blocked.test\"@other.test>", 0, "\"u@blocked.test\"@other.test",
     NULL},
    {"\"a\"b@x.test", 0, BAD, "two words"},
    {"\"a@x.test", 0, BAD, "closing '\"'"},
    /* backslash escapes */
    {"a\\ b@x.test", 0, "\"a b\"@x.test", NULL},
    {"a\\@b@x.test", 0, "\"a@b\"@x.test", NULL},
    {"v\\.w@x.test", 0, "v.w@x.test", NULL},
    {"\\v@x.test", 0, "v@x.test", NULL},
    {"u@d\\@e.test", 0, "\"u@d\"@e.test", NULL},
    {"u@x.test\\", 0, BAD, "'\\' at the end"},
    /* comments (tok822_parse() sets them aside) */
    {"<u(comment)@blocked.test>", 0, "u@blocked.test", NULL},
    {"(c)u@d.test(c)", 0, "u@d.test", NULL},
    {"u@d.test (a (nested) comment)", 0, "u@d.test", NULL},
    {"u(a\\)b)@d.test", 0, "u@d.test", NULL},
    {"u@blocked(c).test", 0, "u@blocked.test", NULL},
    {"u(c)v@d.test", 0, BAD, "two words"},
    {"u(open@d.test", 0, BAD, "')'"},
    {"u)@d.test", 0, BAD, "')' without"},
    /* more than one address, groups */
    {"a b@c.test", 0, BAD, "two words"},
    {"<a@b.test, c@d.test>", 0, BAD, "','"},
    {"g: a@b.test;", 0, BAD, "';'"},
    {"g: a@b.test, c@d.test;", 0, BAD, "','"},
    /* DECnet: ':' is an operator like '.' */
    {"<a:b@c.test>", 0, "\"a:b\"@c.test", NULL},
    {"<node::user@c.test>", 0, "\"node::user\"@c.test", NULL},
    {"<u@a:b.test>", 0, BAD, "no place in a domain"},
    /* no '@': "d!u" and "u%d" are u@d (swap_bangpath, percent_hack) */
    {"<blocked.test!u>", 0, "u@blocked.test", NULL},
    {"<u%blocked.test>", 0, "u@blocked.test", NULL},
    {"<\"u%blocked.test\">", 0, "u@blocked.test", NULL},
    {"<a%b%c.test>", 0, "a%b@c.test", NULL},
    {"<a.test!b!c>", 0, "b!c@a.test", NULL},
    {"<a%b.test!c>", 0, BAD, "no place in a domain"},
    {"<u%d.test@e.test>", 0, "u%d.test@e.test", NULL},
    {"<d.test!u@e.test>", 0, "d.test!u@e.test", NULL},
    {"<\"a b!c\">", 0, "\"a b!c\"", NULL},
    {"<!u>", 0, BAD, "empty domain"},
    {"<u!>", 0, "\"\"@u", NULL},
    {"postmaster", 0, "postmaster", NULL},
    {"<PostMaster>", 0, "PostMaster", NULL},
    /* the domain: case, one trailing dot, literals */
    {"<U@BLOCKED.Test>", 0, "U@blocked.test", NULL},
    {"<u@d.test.>", 0, "u@d.test", NULL},
    {"<\"v\"@example.test.>", 0, "v@example.test", NULL},
    {"<u@d.test..>", 0, BAD, "empty label"},
    {"<u@.>", 0, BAD, "empty label"},
    {"<u@.d.test>", 0, BAD, "empty label"},
    {"<u@>", 0, BAD, "empty domain"},
    {"<@d.test>", 0, "\"\"@d.test", NULL},
    {"<u@\"d.test\">", 0, "u@d.test", NULL},
    {"<u@\"d test\">", 0, BAD, "no place in a domain"},
    {"<u@d.test e>", 0, BAD, "two words"},
    {"<u@d%e.test>", 0, BAD, "no place in a domain"},
    {"<u@[192.0.2.1]>", 0, "u@[192.0.2.1]", NULL},
    {"<u@[IPv6:2001:DB8::1]>", 0, "u@[ipv6:2001:db8::1]", NULL},
    {"<u@[192.0.2.1].>", 0, "u@[192.0.2.1]", NULL},
    {"<u@[192.0.2.1]x>", 0, BAD, "not the whole domain"},
    {"<u@a.[192.0.2.1]>", 0, BAD, "not the whole domain"},
    {"<u@[192.0.2.1].a>", 0, BAD, "not the whole domain"},
    {"<u@[192.0.2.1]@d.test>", 0, BAD, "not the whole domain"},
    {"<[192.0.2.1]>", 0, BAD, "not the whole domain"},
    {"<[a\"b]@d.test>", 0, BAD, "not the whole domain"},
    {"<\"[a]\"@d.test>", 0, "\"[a]\"@d.test", NULL},
    {"<u@[a@b]>", 0, BAD, "no place in a domain"},
    {"<u@[a[b]>", 0, BAD, "'['"},
    {"<u@[192.0.2.1>", 0, BAD, "']'"},
    {"<u@a]>", 0, BAD, "']' without"},
    /* 8-bit octets (SMTPUTF8) are kept as they are */
    {"<J\xc3\xbc"
     "rgen@B\xc3\xbc"
     "cher.Test>",
     0,
     "J\xc3\xbc"
     "rgen@b\xc3\xbc"
     "cher.test",
     NULL},
    /* NUL and control octets, over-long input */
    {"u\0@d.test", 9, BAD, "NUL"},
    {"u@d.test\0", 9, BAD, "NUL"},
    {"u\x01@d.test", 0, BAD, "control"},
    {"u\x7f@d.test", 0, BAD, "control"},
    {"u@d.test\r\n", 0, BAD, "control"},
    {NULL, 512, NULL, NULL}, /* filled in: 510 x "\\\"" @d, 514 out */
    {NULL, 513, BAD, "longer than 512"},
    {NULL, 0, BAD, "no address"},
};

/* The long inputs: n octets of \" pairs ending in "@d". */
static const char *long_input(size_t n, char *buf)
{
	for (size_t i = 0; i + 1 < n - 2; i += 2)
		memcpy(buf + i, "\\\"", 2);
	memcpy(buf + n - 2, "@d", 2);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_envaddr)
{
	static char in_buf[600], want_buf[600];
	const char *in = envaddr_cases[_i].in, *want = envaddr_cases[_i].want;
	size_t len = envaddr_cases[_i].len;
	struct envaddr a, again;
	char err[128] = "x";
	const char *at;
	int rc;

	if (in == NULL && len > 0) {
		in = long_input(len, in_buf);
		if (len == 512) {
			/* "\"" x 255, '"', "@d": the input plus two quotes */
			want_buf[0] = '"';
			memcpy(want_buf + 1, in_buf, 510);
			memcpy(want_buf + 511, "\"@d", 4);
			want = want_buf;
		}
	} else if (in != NULL && len == 0) {
		len = strlen(in);
	}
	rc = envaddr_parse(in, len, &a, err, sizeof(err));
	if (want == BAD) {
		ck_assert_msg(rc == -1,
			      "case %d (%.40s): got \"%s\" (rc %d), want an "
			      "error with \"%s\"",
			      _i, in ? in : "NULL", a.text, rc,
			      envaddr_cases[_i].err);
		ck_assert_msg(
		    strstr(err, envaddr_cases[_i].err) != NULL,
		    "case %d (%.40s): got error \"%s\", want one with "
		    "\"%s\"",
		    _i, in ? in : "NULL", err, envaddr_cases[_i].err);
		ck_assert_msg(a.len == 0 && a.text[0] == '\0',
			      "case %d: an error left \"%s\"", _i, a.text);
		return;
	}
	ck_assert_msg(rc == 0 && strcmp(a.text, want) == 0,
		      "case %d (%.60s): got \"%s\" (rc %d, %s), want \"%s\"",
		      _i, in, a.text, rc, err, want);
	ck_assert_msg(err[0] == '\0', "case %d: err \"%s\" on success", _i,
		      err);
	ck_assert_msg(a.len == strlen(want), "case %d: len %zu, want %zu", _i,
		      a.len, strlen(want));
	/* the domain: after the last '@' of the normal form (a quoted
	   local part may hold one, a domain never) */
	at = strrchr(want, '@');
	if (at != NULL && want[0] == '"' && at < strrchr(want, '"'))
		at = NULL;
	ck_assert_msg(a.at == (at != NULL ? (size_t)(at - want) : a.len),
		      "case %d (%s): at %zu, want %zu", _i, want, a.at,
		      at != NULL ? (size_t)(at - want) : a.len);
	ck_assert_msg(strcmp(envaddr_domain(&a), at != NULL ? at + 1 : "") == 0,
		      "case %d: domain \"%s\", want \"%s\"", _i,
		      envaddr_domain(&a), at != NULL ? at + 1 : "");
	/* the normal form is its own normal form (when it is not longer than
	   the parser reads) */
	if (a.len > ENVADDR_MAX)
		return;
	rc = envaddr_parse(a.text, a.len, &again, err, sizeof(err));
	ck_assert_msg(rc == 0 && strcmp(again.text, a.text) == 0,
		      "case %d: \"%s\" reads again as \"%s\" (rc %d, %s)", _i,
		      a.text, again.text, rc, err);
}
END_TEST

/* A tiny or missing error buffer is fine. */
START_TEST(test_envaddr_err_buffer)
{
	struct envaddr a;
	char one[1] = "x";

	ck_assert_int_eq(envaddr_parse("a b@c", 5, &a, one, sizeof(one)), -1);
	ck_assert_msg(one[0] == '\0', "got \"%c\"", one[0]);
	ck_assert_int_eq(envaddr_parse("a b@c", 5, &a, NULL, 0), -1);
	ck_assert_int_eq(envaddr_parse("<a@c>", 5, &a, NULL, 0), 0);
	ck_assert_str_eq(a.text, "a@c");
}
END_TEST

/* --- e-mail address sets ---------------------------------------------- */

static char big_addr[10 * 1024];

static const char *big_address(void)
{
	memset(big_addr, 'u', sizeof(big_addr) - 1);
	memcpy(big_addr + sizeof(big_addr) - 13, "@example.com", 13);
	return big_addr;
}

enum email_want { NO, YES, UNREAD };

static const struct {
	bool cs;	  /* local parts case-sensitive */
	const char *addr; /* NULL: 10 KB address */
	enum email_want want;
} email_match_cases[] = {
    {false, "user@example.com", YES},
    {false, "<USER@EXAMPLE.COM>", YES},
    {false, "User@Example.COM.", YES},
    {false, "<@relay.example:user@example.com>", YES},
    {false, "<@r1.example,@r2.example:User@Example.Com>", YES},
    {false, "  <user@example.com>  ", YES},
    {false, "user@example.com>", YES},
    {false, "<<user@example.com>>", YES},
    {false, "<\"user\"@example.com>", YES},
    {false, "<user @example.com>", YES},
    {false, "<example.com!user>", YES},
    {false, "<user%example.com>", YES},
    {false, "<\"user@example.com\">", YES},
    {false, "<>", YES},
    {false, "", YES},
    {false, "<\"\">", YES},
    {false, "other@example.com", NO},
    {false, "user@example.com.evil", NO},
    {false, "user@sub.example.com", NO},
    {false, "\"a b\"@EXAMPLE.net", YES},
    {false, "\"A B\"@example.net", YES},
    {false, "a\\ b@example.net", YES},
    {false, "\"a  b\"@example.net", NO},
    {false, "<postmaster>", YES},
    {false, "POSTMASTER", YES},
    {false, "<user@example.com", UNREAD},
    {false, "user@example.com>>", UNREAD},
    {false, "<@relay.example user@example.com>", UNREAD},
    {false, NULL, UNREAD},
    {true, "User@example.com", YES},
    {true, "<\"User\"@EXAMPLE.com.>", YES},
    {true, "user@example.com", NO},
    {true, "USER@EXAMPLE.COM", NO},
    {true, "<>", YES},
};

START_TEST(test_email_match)
{
	struct email_set *s = email_set_new(email_match_cases[_i].cs);
	static const char *const entries[] = {
	    "User@Example.COM", "<>", "\"a b\"@example.net", "postmaster"};
	const char *addr = email_match_cases[_i].addr;
	enum email_want got;
	struct envaddr a;
	char err[256];

	ck_assert_ptr_nonnull(s);
	for (size_t k = 0; k < N(entries); k++)
		ck_assert_msg(
		    email_set_add(s, entries[k], err, sizeof(err)) == 0,
		    "add %s: got error %s, want none", entries[k], err);
	ck_assert_msg(email_set_count(s) == N(entries),
		      "got count %zu, want %zu", email_set_count(s),
		      N(entries));
	if (addr == NULL)
		addr = big_address();
	if (envaddr_parse(addr, strlen(addr), &a, err, sizeof(err)) != 0)
		got = UNREAD;
	else
		got = email_set_match(s, &a) ? YES : NO;
	ck_assert_msg(got == email_match_cases[_i].want,
		      "case %d (%.40s): got %d, want %d (0 no, 1 yes, 2 "
		      "unreadable)",
		      _i, addr, got, email_match_cases[_i].want);
	ck_assert_msg(!email_set_match(NULL, &a), "a NULL set matched");
	email_set_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

/* Entries in any spelling are the same entry. */
START_TEST(test_email_add_spellings)
{
	struct email_set *s = email_set_new(false);
	static const char *const same[] = {
	    "v@example.test",  "<v@example.test>",	   "\"v\"@example.test",
	    "V@EXAMPLE.TEST.", "<@r.test:v@example.test>", "example.test!v"};
	char err[256];

	for (size_t k = 0; k < N(same); k++)
		ck_assert_msg(email_set_add(s, same[k], err, sizeof(err)) == 0,
			      "add %s: got error %s, want none", same[k], err);
	ck_assert_msg(email_set_count(s) == 1, "got %zu entries, want 1",
		      email_set_count(s));
	email_set_free(&s);
}
END_TEST

static const struct {
	const char *addr;
	int rc;
	const char *err;
} email_add_cases[] = {
    {"a@example.com", 0, NULL},
    {"<a@example.com>", 0, NULL},
    {"a@[192.0.2.1]", 0, NULL},
    {"a@[IPv6:2001:db8::1]", 0, NULL},
    {"<>", 0, NULL},
    {"", 0, NULL},
    {"postmaster", 0, NULL},
    {"\"a b\"@example.com", 0, NULL},
    {"foo", -1, "no @domain"},
    {"example.com", -1, "no @domain"},
    {"a@", -1, "malformed (an empty domain)"},
    {"@b", -1, "malformed (an empty local part)"},
    {"\"\"@b", -1, "malformed (an empty local part)"},
    {"<a@b", -1, "malformed (unbalanced"},
    {"a@b..c", -1, "empty label"},
    {"a@[1.2.3]", -1, "invalid character '['"},
    {"a b@c.d", -1, "malformed (two words"},
    {"a@b_c!.d", -1, "malformed"},
    {NULL, -1, "longer than 320 octets"},
};
START_TEST(test_email_add)
{
	struct email_set *s = email_set_new(false);
	const char *addr = email_add_cases[_i].addr;
	char err[256] = "";
	int rc;

	if (addr == NULL)
		addr = big_address();
	rc = email_set_add(s, addr, err, sizeof(err));
	ck_assert_msg(rc == email_add_cases[_i].rc,
		      "case %d (%.40s): got %d (%s), want %d", _i, addr, rc,
		      err, email_add_cases[_i].rc);
	if (email_add_cases[_i].err != NULL)
		ck_assert_msg(strstr(err, email_add_cases[_i].err) != NULL,
			      "case %d: got error \"%s\", want one containing "
			      "\"%s\"",
			      _i, err, email_add_cases[_i].err);
	email_set_free(&s);
}
END_TEST

/* --- regexes ---------------------------------------------------------- */

static const struct {
	const char *pattern;
	uint32_t flags;
	const char *subject;
	size_t len; /* 0: strlen */
	int want;
} regex_cases[] = {
    {"viagra", 0, "buy VIAGRA now", 0, 0},
    {"viagra", REGEX_CASELESS, "buy VIAGRA now", 0, 1},
    {"(?i)viagra", 0, "buy ViAgRa now", 0, 1},
    {"^b$", 0, "a\nb\nc", 0, 0},
    {"^b$", REGEX_MULTILINE, "a\nb\nc", 0, 1},
    {"a.b", 0, "a\nb", 0, 0},
    {"a.b", REGEX_DOTALL, "a\nb", 0, 1},
    {"a b c", REGEX_EXTENDED, "abc", 0, 1},
    {"a\\x00b", 0, "xa\0bx", 5, 1},
    {"a\\x00b", 0, "xa\0cx", 5, 0},
    {"b$", 0, "ab\0", 2, 1},
    {"a|b", 0, "xxb", 0, 1},
    {"^(?:a|b)$", 0, "ab", 0, 0},
    {"^a|b$", 0, "xb", 0, 1},
    {"\\Qa)b", 0, "xa)by", 0, 1},
    {"\\Qa)b\\E+", 0, "a)bbb", 0, 1},
    {"(*LIMIT_MATCH=1000)abc", 0, "xxabc", 0, 1},
    {"(*CRLF)(?m)^b$", 0, "a\r\nb\r\n", 0, 1},
    {"(?x)abc # a trailing comment", 0, "xabcx", 0, 1},
    {"(?x)abc # a trailing comment", 0, "xabx", 0, 0},
    {"(a)(b)(c)(d)\\4", 0, "abcdd", 0, 1},
    {"\xc3\xa9", REGEX_UTF, "caf\xc3\xa9", 0, 1},
    {"caf.$", REGEX_UTF, "caf\xc3\xa9", 0, 1},
    {"caf.$", REGEX_UTF, "caf\xff", 0, 0},
    {"x", REGEX_UTF, "\xff\xfex", 0, 1},
    {"", 0, "", 0, 1},
    /* \G as text is fine in a regex searched in pieces */
    {"\\Qa\\G\\E", REGEX_STREAM, "xa\\G", 0, 1},
    {"a\\\\G", REGEX_STREAM, "xa\\G", 0, 1},
};

START_TEST(test_regex)
{
	char err[256] = "";
	struct regex *re = regex_compile(
	    regex_cases[_i].pattern, regex_cases[_i].flags, err, sizeof(err));
	size_t len = regex_cases[_i].len ? regex_cases[_i].len
					 : strlen(regex_cases[_i].subject);
	int got;

	ck_assert_msg(re != NULL, "case %d (%s): got error %s, want none", _i,
		      regex_cases[_i].pattern, err);
	ck_assert_str_eq(regex_pattern(re), regex_cases[_i].pattern);
	got = regex_match(re, regex_cases[_i].subject, len);
	ck_assert_msg(got == regex_cases[_i].want,
		      "case %d (%s): got %d, want %d", _i,
		      regex_cases[_i].pattern, got, regex_cases[_i].want);
	regex_free(&re);
	ck_assert_ptr_null(re);
}
END_TEST

static const struct {
	const char *pattern;
	uint32_t flags;
	const char *err;
} regex_err_cases[] = {
    {"(abc", 0, "at offset 4: missing closing parenthesis"},
    {"a{2,1}", 0, "at offset 5: numbers out of order"},
    {"[a", 0, "at offset 2: missing terminating ]"},
    {"abc\\", 0, "at offset 4: \\ at end of pattern"},
    {"(*UTF)\xc3\xa9", 0, "at offset 6: using UTF is disabled"},
    {"\xc3", REGEX_UTF, "UTF-8 error"},
    {"a)", 0, "at offset 1: unmatched closing parenthesis"},
    {"\\Gab", REGEX_STREAM, "\\G depends on where a search starts"},
    {"x|(?:\\G)", REGEX_STREAM, "\\G depends on where a search starts"},
    {"(*NOTEMPTY_ATSTART)x?", REGEX_STREAM,
     "(*NOTEMPTY_ATSTART) depends on where a search starts"},
    {"x", REGEX_STREAM | REGEX_UTF, "UTF-8 patterns cannot be searched"},
};

START_TEST(test_regex_error)
{
	char err[256] = "";
	struct regex *re =
	    regex_compile(regex_err_cases[_i].pattern,
			  regex_err_cases[_i].flags, err, sizeof(err));

	ck_assert_msg(re == NULL, "case %d (%s): compiled, want an error", _i,
		      regex_err_cases[_i].pattern);
	ck_assert_msg(strstr(err, regex_err_cases[_i].err) != NULL,
		      "case %d: got \"%s\", want one containing \"%s\"", _i,
		      err, regex_err_cases[_i].err);
}
END_TEST

/*
 * Catastrophic backtracking must end, as -1 (a limit) or 0, never a hang.
 * Case 0: (a+)+$ against 100 KB of 'a' ending in '!'. Case 1: blocks of
 * 18 'a' and a '!' over 1 MB, so that each start position stays under
 * the PCRE2 match limit and only the time limit ends it (the test's
 * timeout is the "hang" detector). Case 2: a quadratic innocent-looking
 * pattern over 1 MB. Case 3: case 1 with a (?x) pattern ending in a
 * comment, which must get the time limit too.
 */
START_TEST(test_regex_redos)
{
	size_t n = _i == 0 ? 100 * 1024 : 1024 * 1024;
	char *s = malloc(n);
	char err[256];
	static const char *const pat[] = {"(a+)+$", "(a+)+$", "(a|b)*c",
					  "(?x) (a+)+ $ # nested quantifiers"};
	struct regex *re = regex_compile(pat[_i], 0, err, sizeof(err));
	struct timespec t0, t1;
	int got;

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(re != NULL, "got error %s, want none", err);
	for (size_t i = 0; i < n; i++) {
		if (_i == 0)
			s[i] = 'a';
		else if (_i == 2)
			s[i] = "ab"[i & 1];
		else
			s[i] = i % 19 == 18 ? '!' : 'a';
	}
	s[n - 1] = _i == 2 ? 'c' : '!';
	s[n - 2] = '!';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	got = regex_match(re, s, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(got == -1 || got == 0,
		      "case %d: got %d, want -1 (a limit) or 0", _i, got);
	fprintf(stderr, "regex redos case %d: %d in %.3f s\n", _i, got,
		(double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	regex_free(&re);
	free(s);
}
END_TEST

static const struct {
	const char *patterns[3];
	const char *subject;
	int want;
} list_cases[] = {
    {{NULL}, "anything", 0},
    {{"foo", "bar", NULL}, "xbarx", 1},
    {{"foo", "bar", NULL}, "xbazx", 0},
    {{"(a+)+$", "zzz", NULL}, NULL, -1},
    {{"(a+)+$", "a!", NULL}, NULL, 1},
};

START_TEST(test_regex_list)
{
	struct regex_list *l = regex_list_new();
	char err[256], *big = NULL;
	const char *subj = list_cases[_i].subject;
	size_t k, len;
	int got;

	ck_assert_ptr_nonnull(l);
	for (k = 0; k < 3 && list_cases[_i].patterns[k] != NULL; k++)
		ck_assert_msg(regex_list_add(l, list_cases[_i].patterns[k], 0,
					     err, sizeof(err)) == 0,
			      "case %d: add %s: got %s", _i,
			      list_cases[_i].patterns[k], err);
	ck_assert_msg(regex_list_count(l) == k,
		      "case %d: got count %zu, want %zu", _i,
		      regex_list_count(l), k);
	if (subj == NULL) {
		len = 64 * 1024;
		big = malloc(len);
		ck_assert_ptr_nonnull(big);
		memset(big, 'a', len);
		big[len - 1] = '!';
		subj = big;
	} else {
		len = strlen(subj);
	}
	got = regex_list_match(l, subj, len);
	ck_assert_msg(got == list_cases[_i].want, "case %d: got %d, want %d",
		      _i, got, list_cases[_i].want);
	ck_assert_ptr_null(regex_list_get(l, k));
	free(big);
	regex_list_free(&l);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(regex_list_match(NULL, "x", 1), 0);
}
END_TEST

/* Many threads match the same regexes at once and agree with one thread. */
struct thr_arg {
	const struct regex_list *l;
	int bad;
};

static void *thr_main(void *p)
{
	struct thr_arg *a = p;
	char buf[64];

	for (int i = 0; i < 20000; i++) {
		int n = snprintf(buf, sizeof(buf), "subject %d %s", i,
				 i % 3 == 0 ? "Casino" : "lunch");
		if (regex_list_match(a->l, buf, (size_t)n) != (i % 3 == 0))
			a->bad++;
	}
	return NULL;
}

START_TEST(test_regex_threads)
{
	struct regex_list *l = regex_list_new();
	pthread_t t[4];
	struct thr_arg a[4];
	char err[256];

	ck_assert_int_eq(
	    regex_list_add(l, "lottery", REGEX_CASELESS, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    regex_list_add(l, "\\bcasino\\b", REGEX_CASELESS, err, sizeof(err)),
	    0);
	for (int i = 0; i < 4; i++) {
		a[i].l = l;
		a[i].bad = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, thr_main, &a[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(a[i].bad == 0,
			      "thread %d: got %d wrong results, "
			      "want 0",
			      i, a[i].bad);
	}
	regex_list_free(&l);
	regex_thread_cleanup();
}
END_TEST

/* --- regex_find: partial matching for pieces of a text --------------- */

static const struct {
	const char *pattern;
	const char *subject;
	size_t start;
	uint32_t opts;
	int want;
	size_t at;
	size_t last; /* 0: SIZE_MAX */
} find_cases[] = {
#define PH (REGEX_MORE | REGEX_PARTIAL) /* a piece, hard partial */
    /* a match, and where its attempt began (before \K) */
    {"needle", "a needle", 0, PH, 1, 2, 0},
    {"ne\\Kedle", "a needle", 0, PH, 1, 2, 0},
    /* the text may go on: hard partial from the first open start */
    {"needle", "a need", 0, PH, 2, 2, 0},
    {"needle", "a nexx", 0, PH, 0, 0, 0},
    {"ab+", "xxab", 0, PH, 2, 2, 0},
    {"foo\\b", "xfoo", 0, PH, 2, 1, 0},
    {"foo$", "xfoo", 0, PH, 2, 1, 0},
    {"foo\\z", "xfoo", 0, PH, 2, 1, 0},
    {"foo(?!bar)", "xfooba", 0, PH, 2, 1, 0},
    {"(?s)a.*b", "xaxxbxx", 0, PH, 2, 1, 0},
    /* a partial start is never before start */
    {"(?<=ab)c", "xab", 2, PH, 2, 3, 0},
    /* (?m)^ after a newline that ends a piece: PCRE2 alone says no */
    {"(?m)\\n^From", "abc\n", 0, PH, 2, 3, 0},
    {"(?m)\\n^From", "abc\n", 0, REGEX_PARTIAL, 2, 3, 0}, /* implies MORE */
    {"(?m)\\n^From", "abc\n", 0, 0, 0, 0, 0},
    /* the whole text: the end is the end */
    {"foo\\b", "xfoo", 0, 0, 1, 1, 0},
    {"(?s)a.*b", "xaxxbxx", 0, 0, 1, 1, 0},
    {"(?s)a.*b", "xaxxbxx", 0, REGEX_MORE | REGEX_NOTEOL, 1, 1, 0},
    {"foo$", "xfoo", 0, REGEX_MORE | REGEX_NOTEOL, 0, 0, 0},
    /* no attempt after last */
    {"needle", "a needle", 0, 0, 1, 2, 2},
    {"needle", "a needle", 0, 0, 0, 0, 1},
    {"needle", "a need", 0, PH, 0, 0, 1},
};
#undef PH

START_TEST(test_regex_find)
{
	char err[256];
	struct regex *re = regex_compile(find_cases[_i].pattern, REGEX_STREAM,
					 err, sizeof(err));
	size_t at = 12345;
	int got;

	ck_assert_msg(re != NULL, "case %d: got error %s", _i, err);
	got = regex_find(re, find_cases[_i].subject,
			 strlen(find_cases[_i].subject), find_cases[_i].start,
			 find_cases[_i].last ? find_cases[_i].last : SIZE_MAX,
			 find_cases[_i].opts, &at);
	ck_assert_msg(got == find_cases[_i].want,
		      "case %d (%s): got %d, want %d", _i,
		      find_cases[_i].pattern, got, find_cases[_i].want);
	if (got > 0)
		ck_assert_msg(at == find_cases[_i].at,
			      "case %d (%s): got at %zu, want %zu", _i,
			      find_cases[_i].pattern, at, find_cases[_i].at);
	regex_free(&re);
}
END_TEST

static const struct {
	const char *pattern;
	uint32_t flags;
	size_t want;
} lookbehind_cases[] = {
    {"needle", 0, 2},		      /* none: CR LF for (?m)^, one for \b */
    {"\\bword", 0, 3},		      /* \b reads one back */
    {"(?<=abc)d", 0, 5},	      /* three, plus two */
    {"(?<=(?<!b)a)c", 0, 4},	      /* nested: PCRE2 says 1, reads 2 */
    {"(?<=ab)c|(?<=abcd)e", 0, 10},   /* the longest, times two */
    {"(?<=\xc3\xa9)x", REGEX_UTF, 6}, /* one character, 4 octets */
};

START_TEST(test_regex_lookbehind)
{
	char err[256];
	struct regex *re =
	    regex_compile(lookbehind_cases[_i].pattern,
			  lookbehind_cases[_i].flags, err, sizeof(err));

	ck_assert_msg(re != NULL, "case %d: got error %s", _i, err);
	ck_assert_msg(regex_lookbehind(re) == lookbehind_cases[_i].want,
		      "case %d (%s): got %zu octets, want %zu", _i,
		      lookbehind_cases[_i].pattern, regex_lookbehind(re),
		      lookbehind_cases[_i].want);
	regex_free(&re);
	ck_assert_msg(regex_lookbehind(NULL) == 2, "NULL: got %zu, want 2",
		      regex_lookbehind(NULL));
}
END_TEST

/* --- body scanner ----------------------------------------------------- */

#define S(x) x, sizeof(x) - 1

/*
 * Short bodies against the whole-body answer: each is fed whole, in
 * 1-octet chunks and cut at every 2-way and 3-way split, then ended; the
 * result must be want, which is also what the regex says of the whole
 * body (checked too). Case-insensitive unless the pattern says (?-i).
 */
static const struct {
	const char *pattern;
	const char *body;
	size_t len; /* 0: strlen */
	int want;
} body_cases[] = {
    {"needle", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxneedlexxxxxxxxxxxxxxxxxxxxxxxx",
     0, 1},
    {"needle", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxneedlxexxxxxxxxxxxxxxxxxxxxxxx",
     0, 0},
    {"needle", "needle", 0, 1},
    {"NEEDLE", "xxxxxxNeeDlexxxxxx", 0, 1},
    {"(?-i)NEEDLE", "xxxxxxNeeDlexxxxxx", 0, 0},
    {"ne\\x00dle", S("xxxx\0xxxxxxxxxxxxxxxxxxxxxne\0dlexxxx\0xxxx"), 1},
    {"ne\\x00dle", S("xxxx\0xxxxxxxxxxxxxxxxxxxxxne\0dl\0xxxx\0xxxx"), 0},
    /* anchors: ^ \A at the true start only, $ \z \Z at the true end */
    {"^From ", "From someone", 0, 1},
    {"^From ", "xFrom someone", 0, 0},
    {"\\Ahello", "xxxxxxxxxxxxxxxxxxxxhello", 0, 0},
    {"\\Ahello", "hello", 0, 1},
    {"(?m)^From ", "xxxxxxxxxxxxxxxxxxxx\r\nFrom someone", 0, 1},
    {"(?m)^From ", "xxxxxxxxxxxxxxxxxxxxFrom someone", 0, 0},
    {"(?m)\\n^From", "xxxxxxxxxx\nFrom x", 0, 1},
    {"(?m)\\n^From", "xxxxxxxxxx\nFrox\nFrom", 0, 1},
    {"(?m)^$", "line one\r\n\r\nline three\r\n", 0, 0},
    {"(?m)^\\r$", "line one\r\n\r\nline three\r\n", 0, 1},
    {"(*CRLF)(?m)^x", "\r\nx\r?", 0, 1},
    {"(*CRLF)(?m)^x", "\rx\nx", 0, 0},
    {"(*ANYCRLF)(?m)^two", "one\r\ntwo", 0, 1},
    {"(?m)one\\r$", "line one\r\nline two\r\n", 0, 1},
    {"two$", "line one\r\nline two", 0, 1},
    {"two$", "line two\r\nline one", 0, 0},
    {"two\\z", "line one\r\nline two", 0, 1},
    {"two\\z", "line one\r\nline two\n", 0, 0},
    {"two\\Z", "line one\r\nline two\n", 0, 1},
    {"(?s)\\A(?!.*unsubscribe)", "hello\r\nbye\r\n", 0, 1},
    {"(?s)\\A(?!.*unsubscribe)", "hello\r\nunsubscribe\r\nbye", 0, 0},
    /* \b and lookarounds see the octets around a cut */
    {"\\bword\\b", "xxxxxxxxxxxxxxxxxxxxsword xxxxxxxxx", 0, 0},
    {"\\bword\\b", "xxxxxxxxxxxxxxxxxxxx word xxxxxxxxx", 0, 1},
    {"\\bword\\b", "xxxxxxxxxxxxxxxxxxxx words", 0, 0},
    {"\\bword\\b", "xxxxxxxxxxxxxxxxxxxx word", 0, 1},
    {"foo(?!bar)", "xxxxxfoobar xxfoobarx", 0, 0},
    {"foo(?!bar)", "xxxxxfoobar xxfoobaz", 0, 1},
    {"foo(?=bar)", "xxxxxfooba xxfoobar", 0, 1},
    {"(?<=a)b", "xxxxxxxxxxxxxxxxxxxxab", 0, 1},
    {"(?<=abc)d", "xxxxxxxxxxabxd xxxxabcd", 0, 1},
    {"(?<=abc)d", "xxxxxxxxxxabxd xxxxabxd", 0, 0},
    {"(?<!x)yz", "xxyzxxyzxyzxyz", 0, 0},
    {"(?<=(?<!b)a)c", "xxxxbac", 0, 0},
    {"(?<=(?<!b)a)c", "xxxxbacxac", 0, 1},
    /* patterns that read on before they settle */
    {"(?s)a.*b", "xxxxaxxxxxxxxxxxxxxxxbxxxxxxxxx", 0, 1},
    {"(?s)a.*b", "xxxxbxxxxxxxxxxxxxxxxaxxxxxxxxx", 0, 0},
    {"(?s)a.*z|ab", "xxxxabxxxxxxxxxxxxxxxxxxxxxxxxxx", 0, 1},
    {"ab+c", "xxxxabbbbbbbbbbbbbbbbbbbbbcxxxxx", 0, 1},
    {"ab+c", "xxxxabbbbbbbbbbbbbbbbbbbbbbxxxxx", 0, 0},
    {"ne\\Kedle", "xxxxxxxxxxneedlexxxxxxxxx", 0, 1},
    {"(a|b)\\1z", "xxxxxxxxxxxbbzxxxxxxxx", 0, 1},
    {"a{14}", "xxxxxxxxxxxxxxxxxxxxaaaaaaaaaaaaaaxxxxxxxxx", 0, 1},
    {"a{14}", "xxxxxxxxxxxxxxxxxxxxaaaaaaaaaaaaaxxxxxxxxx", 0, 0},
    /* the empty body, and patterns that match nothing */
    {"\\A\\z", "", 0, 1},
    {"x", "", 0, 0},
    {"\\A\\z", "x", 0, 0},
};

/*
 * Feed body in chunks of the sizes in cut (cycled), then end it; return
 * the result and the most buffer held.
 */
static int feed_cuts(const struct regex_list *l, const char *body, size_t len,
		     size_t span, const size_t *cut, size_t ncut,
		     size_t *maxbuf)
{
	struct body_scan s;
	size_t off = 0, k = 0;
	int r = 0;

	body_scan_init(&s, span);
	*maxbuf = 0;
	while (off < len) {
		size_t n = cut[k++ % ncut];
		if (n > len - off)
			n = len - off;
		r = body_scan_feed(&s, l, (const unsigned char *)body + off, n);
		if (body_scan_buffer_size(&s) > *maxbuf)
			*maxbuf = body_scan_buffer_size(&s);
		if (r != 0)
			break;
		off += n;
	}
	if (r == 0)
		r = body_scan_end(&s, l);
	if (r == 1 && !body_scan_matched(&s))
		r = -2;
	body_scan_free(&s);
	return r;
}

/* The most a scanner of span and lookbehind octets may hold: match.h. */
static size_t bound(size_t span, size_t lookbehind, size_t nre)
{
	return 2 * (span + lookbehind) + nre * sizeof(uint64_t);
}

START_TEST(test_body)
{
	const char *body = body_cases[_i].body;
	size_t len = body_cases[_i].len ? body_cases[_i].len : strlen(body);
	size_t maxbuf, most;
	struct regex_list *l = regex_list_new();
	char err[256];
	int got, want = body_cases[_i].want;

	ck_assert_int_eq(regex_list_add(l, body_cases[_i].pattern,
					REGEX_CASELESS | REGEX_STREAM, err,
					sizeof(err)),
			 0);
	most = bound(BODY_SPAN_MIN, regex_lookbehind(regex_list_get(l, 0)), 1);
	got = regex_list_match(l, body, len);
	ck_assert_msg(got == want, "case %d: the whole body gives %d, want %d",
		      _i, got, want);
	/* Whole, then 1-octet chunks, then every 2-way and 3-way cut. */
	{
		size_t cut[] = {len ? len : 1};
		got = feed_cuts(l, body, len, BODY_SPAN_MIN, cut, 1, &maxbuf);
		ck_assert_msg(got == want, "case %d whole: got %d, want %d", _i,
			      got, want);
	}
	{
		size_t cut[] = {1};
		got = feed_cuts(l, body, len, BODY_SPAN_MIN, cut, 1, &maxbuf);
		ck_assert_msg(got == want,
			      "case %d 1-octet chunks: got %d, want %d", _i,
			      got, want);
		ck_assert_msg(maxbuf <= most,
			      "case %d: buffer %zu, want <= %zu", _i, maxbuf,
			      most);
	}
	for (size_t a = 1; a < len; a++) {
		size_t cut[] = {a, len - a};
		got = feed_cuts(l, body, len, BODY_SPAN_MIN, cut, 2, &maxbuf);
		ck_assert_msg(got == want,
			      "case %d cut at %zu: got %d, want %d", _i, a, got,
			      want);
		for (size_t b = 1; a + b < len; b++) {
			size_t cut3[] = {a, b, len - a - b};
			got = feed_cuts(l, body, len, BODY_SPAN_MIN, cut3, 3,
					&maxbuf);
			ck_assert_msg(got == want,
				      "case %d cut at %zu+%zu: got %d, want %d",
				      _i, a, b, got, want);
			ck_assert_msg(maxbuf <= most,
				      "case %d: buffer %zu, want <= %zu", _i,
				      maxbuf, most);
		}
	}
	regex_list_free(&l);
}
END_TEST

/*
 * A match of L octets over a chunk boundary, in a body of filler lines:
 * "[xxx...]" (or "#" for L = 1), found by "#|\[x*\]", whose attempt
 * settles at the closing ']'. The boundary is where the MTAs cut (65535)
 * and at a dense sample of points around and inside the match; in 2
 * chunks, 3 chunks, and 1-octet chunks across the match. span_cases give
 * the span and the lengths: 1 B, 4 KB, 9 KB, 30 KB, the span and span+1.
 */
enum { MTA_CHUNK = 65535 };

static const struct {
	size_t span;
	size_t len;
} span_cases[] = {
    {BODY_SPAN_DEFAULT, 1},
    {BODY_SPAN_DEFAULT, 4000},
    {BODY_SPAN_DEFAULT, 9000},
    {BODY_SPAN_DEFAULT, 30000},
    {BODY_SPAN_DEFAULT, BODY_SPAN_DEFAULT},
    {BODY_SPAN_DEFAULT, BODY_SPAN_DEFAULT + 1},
    {BODY_SPAN_MIN, BODY_SPAN_MIN},
    {BODY_SPAN_MIN, BODY_SPAN_MIN + 1},
};

struct span_body {
	char *text;
	size_t len, start, mlen; /* the match is text[start, start + mlen) */
};

/* filler lines, then the match so that MTA_CHUNK cuts it in two (or
 * before as much of it as the body holds), then more filler */
static struct span_body span_body(size_t mlen, size_t before)
{
	struct span_body b;
	static const char line[] =
	    "filler text, nothing to see: 0123456789\r\n";

	b.mlen = mlen;
	b.start = before;
	b.len = before + mlen + 2000;
	b.text = malloc(b.len);
	ck_assert_ptr_nonnull(b.text);
	for (size_t i = 0; i < b.len; i++)
		b.text[i] = line[i % (sizeof(line) - 1)];
	if (mlen == 1) {
		b.text[b.start] = '#';
	} else {
		memset(b.text + b.start, 'x', mlen);
		b.text[b.start] = '[';
		b.text[b.start + mlen - 1] = ']';
	}
	return b;
}

static int feed_at(const struct regex_list *l, const struct span_body *b,
		   size_t span, const size_t *cut, size_t ncut, size_t *maxbuf)
{
	return feed_cuts(l, b->text, b->len, span, cut, ncut, maxbuf);
}

START_TEST(test_body_span)
{
	size_t span = span_cases[_i].span, mlen = span_cases[_i].len;
	bool longer = mlen > span; /* may be missed: not asserted found */
	size_t before = mlen / 2 < MTA_CHUNK ? MTA_CHUNK - mlen / 2 : 10;
	struct span_body b = span_body(mlen, before);
	struct regex_list *l = regex_list_new();
	char err[256];
	size_t maxbuf, most, n = 0, points[1200];
	int got;

	ck_assert_int_eq(
	    regex_list_add(l, "#|\\[x*\\]", REGEX_STREAM, err, sizeof(err)), 0);
	most = bound(span, regex_lookbehind(regex_list_get(l, 0)), 1);
	/* where the MTAs cut: 65535-octet chunks */
	{
		size_t cut[] = {MTA_CHUNK};
		got = feed_at(l, &b, span, cut, 1, &maxbuf);
		ck_assert_msg(longer || got == 1,
			      "span %zu, %zu-octet match in %d-octet chunks: "
			      "got %d, want 1",
			      span, mlen, MTA_CHUNK, got);
		ck_assert_msg(maxbuf <= most, "buffer %zu, want <= %zu", maxbuf,
			      most);
	}
	/* split points: near each end of the match, and every step inside */
	for (size_t d = 0; d < 24; d++) {
		if (b.start + d >= 12)
			points[n++] = b.start + d - 12;
		points[n++] = b.start + mlen + d - 12;
	}
	for (size_t c = b.start; c < b.start + mlen; c += mlen / 500 + 1)
		points[n++] = c;
	for (size_t k = 0; k < n; k++) {
		size_t c = points[k];
		if (c == 0 || c >= b.len)
			continue;
		size_t cut2[] = {c, b.len - c};
		got = feed_at(l, &b, span, cut2, 2, &maxbuf);
		ck_assert_msg(
		    longer || got == 1,
		    "span %zu, %zu-octet match at %zu cut at %zu: got "
		    "%d, want 1",
		    span, mlen, b.start, c, got);
		ck_assert_msg(maxbuf <= most, "buffer %zu, want <= %zu", maxbuf,
			      most);
		/* 3 chunks: a second cut a little, or much, further on */
		if (k % 7 == 0) {
			size_t step[] = {1, 3, 1000, mlen / 2 + 1};
			for (size_t j = 0; j < 4; j++) {
				if (c + step[j] >= b.len)
					continue;
				size_t cut3[] = {c, step[j],
						 b.len - c - step[j]};
				got = feed_at(l, &b, span, cut3, 3, &maxbuf);
				ck_assert_msg(
				    longer || got == 1,
				    "span %zu, %zu-octet match at %zu "
				    "cut at %zu+%zu: got %d, want 1",
				    span, mlen, b.start, c, step[j], got);
				ck_assert_msg(maxbuf <= most,
					      "buffer %zu, want <= %zu", maxbuf,
					      most);
			}
		}
	}
	/* 1-octet chunks across the whole match (cheap with a small span:
	 * a start left open is searched again with each chunk) */
	if (span == BODY_SPAN_MIN || mlen <= 9000) {
		size_t skip = b.start > 100 ? b.start - 100 : 1;
		size_t tiny =
		    mlen + 200 < b.len - skip ? mlen + 200 : b.len - skip;
		size_t *cut = malloc((tiny + 2) * sizeof(*cut));
		ck_assert_ptr_nonnull(cut);
		cut[0] = skip;
		for (size_t k = 1; k <= tiny; k++)
			cut[k] = 1;
		cut[tiny + 1] = b.len;
		got = feed_at(l, &b, span, cut, tiny + 2, &maxbuf);
		/* the bound is tight: one octet more than the span is missed
		 * when the chunks are that small */
		ck_assert_msg(
		    got == (longer ? 0 : 1),
		    "span %zu, %zu-octet match in 1-octet chunks: got "
		    "%d, want %d",
		    span, mlen, got, longer ? 0 : 1);
		ck_assert_msg(maxbuf <= most, "buffer %zu, want <= %zu", maxbuf,
			      most);
		free(cut);
	}
	regex_list_free(&l);
	free(b.text);
}
END_TEST

/*
 * Matches that need earlier text: a lookbehind and a (?m)^ right at a
 * 65535-octet boundary, a case-insensitive match over it, in 2 chunks cut
 * at every octet around it and in 1-octet chunks around it.
 */
static const struct {
	const char *pattern;
	const char *text; /* put so that the boundary falls inside it */
	int want;
} seam_cases[] = {
    {"(?<=Dear customer, )click", "Dear customer, click", 1},
    {"(?<=Dear customer, )click", "Dear Customer! click", 0},
    {"(?m)^Click here now", "\r\nClick here now", 1},
    {"(?m)^Click here now", " Click here now", 0},
    {"(?m)\\r\\n^Click", "\r\nClick", 1},
    {"click HERE now", "CLICK here NOW", 1},
    {"(?-i)click HERE now", "CLICK here NOW", 0},
    {"\\bclick\\b", "(click)", 1},
    {"\\bclick\\b", "xclick)", 0},
    {"click now$", "click now", 1}, /* put at the very end */
};

START_TEST(test_body_seam)
{
	struct regex_list *l = regex_list_new();
	const char *t = seam_cases[_i].text;
	size_t tl = strlen(t), len = MTA_CHUNK + tl, maxbuf, at;
	char *body = malloc(len), err[256];
	int got, want = seam_cases[_i].want;

	ck_assert_ptr_nonnull(body);
	memset(body, 'z', len);
	for (size_t i = 40; i < MTA_CHUNK; i += 40)
		memcpy(body + i - 2, "\r\n", 2);
	/* the text ends the body when it has a $, else is followed by z */
	at = strchr(seam_cases[_i].pattern, '$') != NULL &&
		     seam_cases[_i]
			     .pattern[strlen(seam_cases[_i].pattern) - 1] == '$'
		 ? len - tl
		 : MTA_CHUNK - tl / 2 - 1;
	memcpy(body + at, t, tl);
	ck_assert_int_eq(regex_list_add(l, seam_cases[_i].pattern,
					REGEX_CASELESS | REGEX_STREAM, err,
					sizeof(err)),
			 0);
	ck_assert_msg(regex_list_match(l, body, len) == want,
		      "case %d: the whole body gives %d, want %d", _i,
		      regex_list_match(l, body, len), want);
	for (size_t c = at > 30 ? at - 30 : 1; c < at + tl + 30 && c < len;
	     c++) {
		size_t cut[] = {c, len - c};
		got = feed_cuts(l, body, len, 0, cut, 2, &maxbuf);
		ck_assert_msg(got == want,
			      "case %d cut at %zu: got %d, want %d", _i, c, got,
			      want);
	}
	{
		size_t cut[64], n = 0;
		cut[n++] = at - 20;
		while (n < 60)
			cut[n++] = 1;
		cut[n++] = len;
		got = feed_cuts(l, body, len, 0, cut, n, &maxbuf);
		ck_assert_msg(got == want,
			      "case %d 1-octet chunks: got %d, want %d", _i,
			      got, want);
	}
	regex_list_free(&l);
	free(body);
}
END_TEST

/*
 * Starts that stay open for the span (patterns that read on) are judged
 * on the span in hand: a short (?s)BEGIN.*END or an alternative behind a
 * long one is found in a body of 300 KB (what the whole body gives too);
 * a pattern about what lies past the span reads the end of what is in
 * hand as the end of the text, as match.h says: the whole body has
 * "unsubscribe" 200 KB on, the scanner does not see it (a pinned limit,
 * not a wish). In 65535-octet chunks and in chunks of 1000.
 */
static const struct {
	const char *pattern;
	size_t at; /* where text goes in the filler */
	const char *text;
	int want, whole;
} open_cases[] = {
    {"(?s)BEGIN.*END", 100, "BEGIN 20 octets END", 1, 1},
    {"(?s)BEGIN.*END", 299000, "BEGIN 20 octets END", 1, 1},
    {"(?s)BEGIN.*NEVER|BEGIN-short", 100, "BEGIN-short", 1, 1},
    {"(?s)BEGIN.*?END", 100, "BEGIN 20 octets", 0, 0},
    {"(?s)\\A(?!.*unsubscribe)", 200000, "unsubscribe", 1, 0},
    {"(?s)\\A(?!.*unsubscribe)", 60000, "unsubscribe", 0, 0},
};

START_TEST(test_body_open)
{
	size_t len = 300 * 1000, maxbuf, most;
	char *body = malloc(len), err[256];
	struct regex_list *l = regex_list_new();
	const char *t = open_cases[_i].text;
	int got;

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < len; i++)
		body[i] = i % 64 == 63 ? '\n' : "filler "[i % 7];
	memcpy(body + open_cases[_i].at, t, strlen(t));
	ck_assert_int_eq(regex_list_add(l, open_cases[_i].pattern, REGEX_STREAM,
					err, sizeof(err)),
			 0);
	most =
	    bound(BODY_SPAN_DEFAULT, regex_lookbehind(regex_list_get(l, 0)), 1);
	got = regex_list_match(l, body, len);
	ck_assert_msg(got == open_cases[_i].whole,
		      "case %d: the whole body gives %d, want %d", _i, got,
		      open_cases[_i].whole);
	for (size_t k = 0; k < 2; k++) {
		size_t cut[] = {k == 0 ? 65535 : 1000};
		got = feed_cuts(l, body, len, 0, cut, 1, &maxbuf);
		ck_assert_msg(got == open_cases[_i].want,
			      "case %d (%s) in chunks of %zu: got %d, want %d",
			      _i, open_cases[_i].pattern, cut[0], got,
			      open_cases[_i].want);
		ck_assert_msg(maxbuf <= most, "buffer %zu, want <= %zu", maxbuf,
			      most);
	}
	regex_list_free(&l);
	free(body);
}
END_TEST

START_TEST(test_body_sticky_reset)
{
	struct body_scan s;
	char err[256];
	struct regex *re =
	    regex_compile("needle", REGEX_STREAM, err, sizeof(err));
	int r;

	ck_assert_ptr_nonnull(re);
	body_scan_init(&s, 0);
	ck_assert_msg(s.span == BODY_SPAN_DEFAULT, "got span %zu, want %d",
		      s.span, BODY_SPAN_DEFAULT);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"a needle", 8);
	ck_assert_msg(r == 1, "got %d, want 1", r);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"nothing", 7);
	ck_assert_msg(r == 1, "after a match: got %d, want 1 (sticky)", r);
	ck_assert_msg(body_scan_matched(&s), "got matched false, want true");
	ck_assert_msg(!body_scan_late(&s), "got late true, want false");
	body_scan_reset(&s);
	ck_assert_msg(!body_scan_matched(&s), "after reset: got matched true");
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"need", 4);
	ck_assert_msg(r == 0, "next message: got %d, want 0", r);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"le", 2);
	ck_assert_msg(r == 1, "next message, split: got %d, want 1", r);
	body_scan_free(&s);
	ck_assert_msg(body_scan_buffer_size(&s) == 0,
		      "after free: got %zu, want 0", body_scan_buffer_size(&s));
	body_scan_init(&s, BODY_SPAN_MAX * 4);
	ck_assert_msg(s.span == BODY_SPAN_MAX, "got span %zu, want %d", s.span,
		      BODY_SPAN_MAX);
	body_scan_init(&s, 1);
	ck_assert_msg(s.span == BODY_SPAN_MIN, "got span %zu, want %d", s.span,
		      BODY_SPAN_MIN);
	/* A match that needs the true end is found at the end: late. */
	regex_free(&re);
	re = regex_compile("needle\\z", REGEX_STREAM, err, sizeof(err));
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"a needle", 8);
	ck_assert_msg(r == 0, "needle\\z before the end: got %d, want 0", r);
	r = body_scan_end_regex(&s, re);
	ck_assert_msg(r == 1 && body_scan_late(&s),
		      "needle\\z at the end: got %d late %s, want 1 late true",
		      r, tf(body_scan_late(&s)));
	r = body_scan_end_regex(&s, re);
	ck_assert_msg(r == 1, "ended twice: got %d, want 1", r);
	body_scan_reset(&s);
	r = body_scan_end_regex(&s, re);
	ck_assert_msg(r == 0, "empty body: got %d, want 0", r);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"needle", 6);
	ck_assert_msg(r == 0, "a feed after the end: got %d, want 0", r);
	body_scan_free(&s);
	regex_free(&re);
}
END_TEST

/*
 * A regex that hits its limit is an error, not "no match", and stays
 * one: while fed (catastrophic backtracking in a 64 KiB chunk) and at the
 * end (the same over what is held: the 'a's of several small chunks).
 */
START_TEST(test_body_limit)
{
	struct body_scan s;
	char err[256];
	struct regex *re =
	    regex_compile("(a+)+$", REGEX_STREAM, err, sizeof(err));
	size_t n = 64 * 1024;
	unsigned char *c = malloc(n);
	int r;

	ck_assert_ptr_nonnull(re);
	ck_assert_ptr_nonnull(c);
	memset(c, 'a', n);
	c[n - 1] = '!';
	body_scan_init(&s, 0);
	r = body_scan_feed_regex(&s, re, c, n);
	ck_assert_msg(r == -1, "catastrophic: got %d, want -1", r);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"x", 1);
	ck_assert_msg(r == -1, "after a failure: got %d, want -1 (sticky)", r);
	r = body_scan_end_regex(&s, re);
	ck_assert_msg(r == -1, "end after a failure: got %d, want -1", r);
	body_scan_reset(&s);
	/* 'a's that stay open (the $ may come), then '!' at the end */
	for (size_t off = 0; off + 4096 <= 40 * 1024; off += 4096) {
		r = body_scan_feed_regex(&s, re, c, 4096);
		ck_assert_msg(r == 0 || r == -1, "open: got %d", r);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = body_scan_feed_regex(&s, re, (const unsigned char *)"!", 1);
	if (r == 0)
		r = body_scan_end_regex(&s, re);
	ck_assert_msg(r == -1, "catastrophic over chunks: got %d, want -1", r);
	body_scan_free(&s);
	regex_free(&re);
	free(c);
}
END_TEST

/*
 * 50 MB in 64 KiB chunks, with regexes whose starts stay open (a
 * (?s).* that runs to the end of the data, an unclosed '[' of x's): the
 * buffer stays within the bound of match.h; the needle is cut across two
 * chunks near the end. Reports the time and the most memory held.
 */
START_TEST(test_body_bounded)
{
	enum { CHUNK = 64 * 1024, TOTAL = 50 * 1024 * 1024 };
	unsigned char *c = malloc(CHUNK);
	struct body_scan s;
	struct regex_list *l = regex_list_new();
	char err[256];
	static const char *const pats[] = {"needle", "(?m)^X-Spam: yes",
					   "(?s)lorem.*zzz", "\\[x*\\]",
					   "(?<=ipsum\\r\\n)q"};
	size_t off, maxbuf = 0, lb = 1, most;
	struct timespec t0, t1;
	int r = 0;

	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < N(pats); i++) {
		ck_assert_int_eq(
		    regex_list_add(l, pats[i], REGEX_STREAM, err, sizeof(err)),
		    0);
		if (regex_lookbehind(regex_list_get(l, i)) > lb)
			lb = regex_lookbehind(regex_list_get(l, i));
	}
	most = bound(BODY_SPAN_DEFAULT, lb, N(pats));
	body_scan_init(&s, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (off = 0; off < TOTAL; off += CHUNK) {
		for (size_t i = 0; i < CHUNK; i++)
			c[i] = (unsigned char)("lorem ipsum\r\n\0"[i % 14]);
		if (off == 5 * CHUNK)
			memcpy(c + 100, "[xxxxxxxx", 9);
		if (off + CHUNK == TOTAL - CHUNK)
			memcpy(c + CHUNK - 3, "nee", 3);
		if (off + CHUNK == TOTAL)
			memcpy(c, "dle", 3);
		r = body_scan_feed(&s, l, c, CHUNK);
		if (body_scan_buffer_size(&s) > maxbuf)
			maxbuf = body_scan_buffer_size(&s);
		ck_assert_msg(body_scan_buffer_size(&s) <= most,
			      "at %zu: buffer %zu, want <= %zu", off,
			      body_scan_buffer_size(&s), most);
		if (off + CHUNK < TOTAL)
			ck_assert_msg(r == 0, "at %zu: got %d, want 0", off, r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(r == 1, "at the end: got %d, want 1", r);
	fprintf(stderr,
		"body scan: 50 MB in 64 KiB chunks, %zu regexes (open starts): "
		"%.2f s, at most %zu octets held (bound %zu)\n",
		N(pats),
		(double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		maxbuf, most);
	body_scan_free(&s);
	regex_list_free(&l);
	free(c);
}
END_TEST

/* --- list files ------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/check_match.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

struct collect {
	char got[512];
	int fail_on; /* entry number (1-based) whose add fails; 0: none */
	int n;
};

static int collect_add(void *ctx, const char *entry, char *err, size_t errlen)
{
	struct collect *c = ctx;
	size_t used = strlen(c->got);

	c->n++;
	if (c->n == c->fail_on) {
		snprintf(err, errlen, "bad entry \"%s\"", entry);
		return -1;
	}
	snprintf(c->got + used, sizeof(c->got) - used, "%s|", entry);
	return 0;
}

static char line4096[4096 + 16], line4097[4097 + 16];

static const struct {
	const char *data;
	size_t len; /* 0: strlen */
	int fail_on;
	int want_n;
	const char *want; /* entries joined by '|', or error after "PATH" */
} lf_cases[] = {
    {"a\nb\nc\n", 0, 0, 3, "a|b|c|"},
    {"a\nb\nc", 0, 0, 3, "a|b|c|"},
    {"", 0, 0, 0, ""},
    {"\n\n   \n\t\n", 0, 0, 0, ""},
    {"# comment\n  # indented\na\n", 0, 0, 1, "a|"},
    {"a\r\nb\r\n\r\n", 0, 0, 2, "a|b|"},
    {"  a  \n\tb\t\n", 0, 0, 2, "a|b|"},
    {"x # not a comment\n", 0, 0, 1, "x # not a comment|"},
    {"^ab#c$\n", 0, 0, 1, "^ab#c$|"},
    {"\xef\xbb\xbf"
     "first\n",
     0, 0, 1, "first|"},
    {"a\nb\0c\nd\n", 7, 0, -1, ":2: line contains a NUL octet"},
    {"ok\nbad\nnever\n", 0, 2, -1, ":2: bad entry \"bad\""},
    {"# c\n\nok\n  bad  \n", 0, 2, -1, ":4: bad entry \"bad\""},
    {NULL, 4096, 0, 2, NULL},
    {NULL, 4097, 0, -1, ":2: line longer than 4096 octets"},
};

START_TEST(test_listfile)
{
	char path[128], err[512] = "", want[256];
	struct collect c = {"", lf_cases[_i].fail_on, 0};
	const char *data = lf_cases[_i].data;
	size_t len = lf_cases[_i].len;
	int n;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/list", tmpdir);
	if (data == NULL) {
		char *line = len == 4096 ? line4096 : line4097;
		strcpy(line, "first\n");
		memset(line + 6, 'x', len);
		line[6 + len] = '\n';
		data = line;
		len += 7;
	} else if (len == 0) {
		len = strlen(data);
	}
	write_file(path, data, len);
	n = listfile_read(path, collect_add, &c, err, sizeof(err));
	ck_assert_msg(n == lf_cases[_i].want_n, "case %d: got %d (%s), want %d",
		      _i, n, err, lf_cases[_i].want_n);
	if (lf_cases[_i].want != NULL && n >= 0) {
		ck_assert_msg(strcmp(c.got, lf_cases[_i].want) == 0,
			      "case %d: got entries \"%s\", want \"%s\"", _i,
			      c.got, lf_cases[_i].want);
	} else if (lf_cases[_i].want != NULL) {
		snprintf(want, sizeof(want), "%s%s", path, lf_cases[_i].want);
		ck_assert_msg(strcmp(err, want) == 0,
			      "case %d: got error \"%s\", want \"%s\"", _i, err,
			      want);
	}
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_listfile_errors)
{
	char path[128], err[512], want[256];
	struct collect c = {"", 0, 0};
	struct listfile *lf;
	int n;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	n = listfile_read(path, collect_add, &c, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_msg(n == -1 && strcmp(err, want) == 0,
		      "missing: got %d \"%s\", want -1 \"%s\"", n, err, want);
	n = listfile_read(tmpdir, collect_add, &c, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	ck_assert_msg(n == -1 && strcmp(err, want) == 0,
		      "directory: got %d \"%s\", want -1 \"%s\"", n, err, want);
	lf = listfile_load(path, err, sizeof(err));
	ck_assert_msg(lf == NULL, "load missing: got a list, want NULL");
	/* listfile_load keeps entries and their lines. */
	snprintf(path, sizeof(path), "%s/list", tmpdir);
	{
		const char *d = "# h\r\n\r\n one \r\ntwo\n\n#x\nthree";
		write_file(path, d, strlen(d));
	}
	lf = listfile_load(path, err, sizeof(err));
	ck_assert_msg(lf != NULL, "load: got error %s, want none", err);
	ck_assert_msg(lf->n == 3, "load: got %zu entries, want 3", lf->n);
	{
		static const char *const text[] = {"one", "two", "three"};
		static const int line[] = {3, 4, 7};
		for (size_t i = 0; i < 3; i++)
			ck_assert_msg(strcmp(lf->entries[i].text, text[i]) ==
					      0 &&
					  lf->entries[i].line == line[i],
				      "entry %zu: got \"%s\" line %d, want "
				      "\"%s\" line %d",
				      i, lf->entries[i].text,
				      lf->entries[i].line, text[i], line[i]);
	}
	listfile_free(&lf);
	ck_assert_ptr_null(lf);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

static int addr_add_cb(void *ctx, const char *entry, char *err, size_t errlen)
{
	return addr_set_add(ctx, entry, err, errlen);
}

/* A generated 100,000-line file of addresses, comments and blank lines. */
START_TEST(test_listfile_big)
{
	enum { LINES = 100000 };
	char path[128], err[512];
	struct addr_set *s = addr_set_new();
	unsigned char a[16];
	FILE *f;
	int n, want = 0;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < LINES; i++) {
		if (i % 20 == 9)
			fprintf(f, "# comment %d\n", i);
		else if (i % 10 == 9)
			fputs("\n", f);
		else if (i % 10 == 8) {
			fprintf(f, "  2001:db8:%x:%x::/64 \r\n", i >> 16,
				i & 0xffff);
			want++;
		} else {
			fprintf(f, "10.%d.%d.%d\n", i >> 16, (i >> 8) & 255,
				i & 255);
			want++;
		}
	}
	ck_assert_int_eq(fclose(f), 0);
	n = listfile_read(path, addr_add_cb, s, err, sizeof(err));
	ck_assert_msg(n == want, "got %d (%s), want %d", n, err, want);
	ck_assert_msg(addr_set_count(s) == (size_t)want,
		      "got count %zu, want %d", addr_set_count(s), want);
	ck_assert_int_eq(addr_parse("10.1.134.157", a), 0); /* i = 99997 */
	ck_assert_msg(addr_set_match(s, a),
		      "10.1.134.157: got no match, want one");
	ck_assert_int_eq(addr_parse("10.1.134.159", a), 0); /* a comment */
	ck_assert_msg(!addr_set_match(s, a),
		      "10.1.134.159: got a match, want none");
	ck_assert_int_eq(addr_parse("2001:db8:1:869e::1", a), 0); /* 99998 */
	ck_assert_msg(addr_set_match(s, a),
		      "2001:db8:1:869e::1: got no match, want one");
	/* An invalid entry names the path and line. */
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "10.0.0.1/8\n");
	ck_assert_int_eq(fclose(f), 0);
	n = listfile_read(path, addr_add_cb, s, err, sizeof(err));
	{
		char want_err[256];
		snprintf(want_err, sizeof(want_err),
			 "%s:%d: 10.0.0.1/8 has host bits set; did you mean "
			 "10.0.0.0/8?",
			 path, LINES + 1);
		ck_assert_msg(n == -1 && strcmp(err, want_err) == 0,
			      "got %d \"%s\", want -1 \"%s\"", n, err,
			      want_err);
	}
	addr_set_free(&s);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

/*
 * listfile_scan reads in pieces of whole lines: a file whose lines of
 * every length up to the limit (CRLF or LF, comments, blanks, a BOM)
 * straddle its piece boundaries gives the entries and lines that
 * listfile_load, which reads the file whole, gives.
 */
struct scanned {
	struct listfile *lf; /* what listfile_load saw */
	size_t n;
	int stop_at; /* return -1 at this entry (0: never) */
};

static int scan_check(void *ctx, const char *entry, int line)
{
	struct scanned *sc = ctx;
	const struct listfile_entry *e;

	ck_assert_msg(sc->n < sc->lf->n, "scan: entry %zu past the %zu loaded",
		      sc->n, sc->lf->n);
	e = &sc->lf->entries[sc->n];
	ck_assert_msg(strcmp(entry, e->text) == 0 && line == e->line,
		      "scan entry %zu: got line %d (%zu octets), want line %d "
		      "(%zu octets)",
		      sc->n, line, strlen(entry), e->line, strlen(e->text));
	sc->n++;
	return (int)sc->n == sc->stop_at ? -1 : 0;
}

static int scan_any(void *ctx, const char *entry, int line)
{
	(void)ctx;
	(void)entry;
	(void)line;
	return 0;
}

START_TEST(test_listfile_scan)
{
	char path[128], err[512], want[256];
	struct scanned sc = {NULL, 0, 0};
	char *line = malloc(LISTFILE_LINE_MAX + 2);
	unsigned seed = 12345;
	FILE *f;
	int n;

	ck_assert_ptr_nonnull(line);
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/scan", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("\xef\xbb\xbf", f);
	for (int i = 0; i < 3000; i++) {
		size_t len;
		seed = seed * 1103515245u + 12345u;
		len = i % 97 == 0 ? LISTFILE_LINE_MAX : (seed >> 8) % 700;
		for (size_t k = 0; k < len; k++)
			line[k] = (char)('a' + (k + (size_t)i) % 26);
		if (len > 0 && i % 13 == 0)
			line[0] = '#';
		if (len > 2 && i % 7 == 0)
			line[0] = line[len - 1] = ' ';
		line[len] = '\0';
		fprintf(f, "%s%s", line, i % 3 == 0 ? "\r\n" : "\n");
	}
	fputs("last", f);
	ck_assert_int_eq(fclose(f), 0);
	sc.lf = listfile_load(path, err, sizeof(err));
	ck_assert_msg(sc.lf != NULL, "load: %s", err);
	n = listfile_scan(path, scan_check, &sc, err, sizeof(err));
	ck_assert_msg(n >= 0 && (size_t)n == sc.lf->n && sc.n == sc.lf->n,
		      "scan: got %d (%s), %zu seen, want %zu", n, err, sc.n,
		      sc.lf->n);
	/* Stopping: -1 with no message. */
	sc.n = 0;
	sc.stop_at = 1500;
	n = listfile_scan(path, scan_check, &sc, err, sizeof(err));
	ck_assert_msg(n == -1 && err[0] == '\0' && sc.n == 1500,
		      "stop: got %d \"%s\" after %zu, want -1 \"\" after 1500",
		      n, err, sc.n);
	listfile_free(&sc.lf);
	/* A line one octet too long, far past the first piece. */
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	memset(line, 'x', LISTFILE_LINE_MAX + 1);
	line[LISTFILE_LINE_MAX + 1] = '\0';
	fprintf(f, "\n%s\nafter\n", line);
	ck_assert_int_eq(fclose(f), 0);
	n = listfile_scan(path, scan_any, NULL, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3002: line longer than %d octets",
		 path, LISTFILE_LINE_MAX);
	ck_assert_msg(n == -1 && strcmp(err, want) == 0,
		      "long line: got %d \"%s\", want -1 \"%s\"", n, err, want);
	free(line);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

static Suite *match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *tc;

	tc = tcase_create("addr");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_addr_add, 0, (int)N(addr_add_cases));
	tcase_add_loop_test(tc, test_addr_match, 0, (int)N(addr_match_cases));
	tcase_add_loop_test(tc, test_addr_parse, 0, (int)N(addr_parse_cases));
	tcase_add_test(tc, test_addr_count_dup);
	tcase_add_test(tc, test_addr_many);
	suite_add_tcase(s, tc);

	/* Check's 4 s default is a hang detector too tight for a shared
	 * machine under load (a forked envaddr case once took longer). */
	tc = tcase_create("sets");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_str_set, 0, (int)N(str_cases));
	tcase_add_test(tc, test_str_set_many);
	tcase_add_test(tc, test_str_set_lengths);
	tcase_add_loop_test(tc, test_domain_match, 0,
			    (int)N(domain_match_cases));
	tcase_add_loop_test(tc, test_domain_add, 0, (int)N(domain_add_cases));
	tcase_add_loop_test(tc, test_email_match, 0, (int)N(email_match_cases));
	tcase_add_loop_test(tc, test_email_add, 0, (int)N(email_add_cases));
	tcase_add_test(tc, test_email_add_spellings);
	tcase_add_loop_test(tc, test_envaddr, 0, (int)N(envaddr_cases));
	tcase_add_test(tc, test_envaddr_err_buffer);
	suite_add_tcase(s, tc);

	/* A hang shows as this timeout: the limits must end every match. */
	tc = tcase_create("regex");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_regex, 0, (int)N(regex_cases));
	tcase_add_loop_test(tc, test_regex_error, 0, (int)N(regex_err_cases));
	tcase_add_loop_test(tc, test_regex_redos, 0, 4);
	tcase_add_loop_test(tc, test_regex_list, 0, (int)N(list_cases));
	tcase_add_test(tc, test_regex_threads);
	tcase_add_loop_test(tc, test_regex_find, 0, (int)N(find_cases));
	tcase_add_loop_test(tc, test_regex_lookbehind, 0,
			    (int)N(lookbehind_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_body, 0, (int)N(body_cases));
	tcase_add_loop_test(tc, test_body_span, 0, (int)N(span_cases));
	tcase_add_loop_test(tc, test_body_seam, 0, (int)N(seam_cases));
	tcase_add_loop_test(tc, test_body_open, 0, (int)N(open_cases));
	tcase_add_test(tc, test_body_sticky_reset);
	tcase_add_test(tc, test_body_limit);
	tcase_add_test(tc, test_body_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("listfile");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_listfile, 0, (int)N(lf_cases));
	tcase_add_test(tc, test_listfile_errors);
	tcase_add_test(tc, test_listfile_big);
	tcase_add_test(tc, test_listfile_scan);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(match_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
