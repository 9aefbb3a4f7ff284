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

#include "listfile.h"
#include "match.h"

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

/* --- body scanner ----------------------------------------------------- */

#define S(x) x, sizeof(x) - 1

static const struct {
	const char *pattern;
	const char *body;
	size_t len; /* 0: strlen */
	size_t window;
	int want;
} body_cases[] = {
    {"needle", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxneedlexxxxxxxxxxxxxxxxxxxxxxxx",
     0, 16, 1},
    {"needle", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxneedlxexxxxxxxxxxxxxxxxxxxxxxx",
     0, 16, 0},
    {"needle", "needle", 0, 16, 1},
    {"ne\\x00dle", S("xxxx\0xxxxxxxxxxxxxxxxxxxxxne\0dlexxxx\0xxxx"), 16, 1},
    {"ne\\x00dle", S("xxxx\0xxxxxxxxxxxxxxxxxxxxxne\0dl\0xxxx\0xxxx"), 16, 0},
    {"(?<=a)b", "xxxxxxxxxxxxxxxxxxxxab", 0, 16, 1},
    {"\\bword\\b", "xxxxxxxxxxxxxxxxxxxxsword xxxxxxxxx", 0, 16, 0},
    {"\\bword\\b", "xxxxxxxxxxxxxxxxxxxx word xxxxxxxxx", 0, 16, 1},
    {"^From ", "From someone", 0, 16, 1},
    {"^From ", "xFrom someone", 0, 16, 0},
    {"(?m)^From ", "xxxxxxxxxxxxxxxxxxxx\r\nFrom someone", 0, 16, 1},
    {"(?m)^From ", "xxxxxxxxxxxxxxxxxxxxFrom someone", 0, 16, 0},
    {"\\Ahello", "xxxxxxxxxxxxxxxxxxxxhello", 0, 16, 0},
    {"\\Ahello", "hello", 0, 16, 1},
    {"a{14}", "xxxxxxxxxxxxxxxxxxxxaaaaaaaaaaaaaaxxxxxxxxx", 0, 16, 1},
    {"needle", "xxxxxxxxxxxxxxxxxxxxneedlexxxxxxx", 0, 0, 1},
};

/* Feed body in chunks of the sizes in cut (cycled); return the result. */
static int feed_body(const struct regex_list *l, const char *body, size_t len,
		     size_t window, const size_t *cut, size_t ncut,
		     size_t *maxbuf)
{
	struct body_scan s;
	size_t off = 0, k = 0;
	int r = 0;

	body_scan_init(&s, window);
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
	if (r == 1 && !body_scan_matched(&s))
		r = -2;
	body_scan_free(&s);
	return r;
}

START_TEST(test_body)
{
	const char *body = body_cases[_i].body;
	size_t len = body_cases[_i].len ? body_cases[_i].len : strlen(body);
	size_t w = body_cases[_i].window, maxbuf;
	size_t bound = 2 * (w ? w : BODY_WINDOW_DEFAULT);
	struct regex_list *l = regex_list_new();
	char err[256];
	int got;

	ck_assert_int_eq(
	    regex_list_add(l, body_cases[_i].pattern, 0, err, sizeof(err)), 0);
	/* Whole, then 1-octet chunks, then every 2-way and 3-way cut. */
	{
		size_t cut[] = {len};
		got = feed_body(l, body, len, w, cut, 1, &maxbuf);
		ck_assert_msg(got == body_cases[_i].want,
			      "case %d whole: got %d, want %d", _i, got,
			      body_cases[_i].want);
	}
	{
		size_t cut[] = {1};
		got = feed_body(l, body, len, w, cut, 1, &maxbuf);
		ck_assert_msg(got == body_cases[_i].want,
			      "case %d 1-octet chunks: got %d, want %d", _i,
			      got, body_cases[_i].want);
		ck_assert_msg(maxbuf <= bound,
			      "case %d: buffer %zu, want <= %zu", _i, maxbuf,
			      bound);
	}
	for (size_t a = 1; a < len; a++) {
		size_t cut[] = {a, len - a};
		got = feed_body(l, body, len, w, cut, 2, &maxbuf);
		ck_assert_msg(got == body_cases[_i].want,
			      "case %d cut at %zu: got %d, want %d", _i, a, got,
			      body_cases[_i].want);
		for (size_t b = 1; a + b < len; b++) {
			size_t cut3[] = {a, b, len - a - b};
			got = feed_body(l, body, len, w, cut3, 3, &maxbuf);
			ck_assert_msg(got == body_cases[_i].want,
				      "case %d cut at %zu+%zu: got %d, want %d",
				      _i, a, b, got, body_cases[_i].want);
			ck_assert_msg(maxbuf <= bound,
				      "case %d: buffer %zu, want <= %zu", _i,
				      maxbuf, bound);
		}
	}
	regex_list_free(&l);
}
END_TEST

START_TEST(test_body_sticky_reset)
{
	struct body_scan s;
	char err[256];
	struct regex *re = regex_compile("needle", 0, err, sizeof(err));
	int r;

	ck_assert_ptr_nonnull(re);
	body_scan_init(&s, 0);
	ck_assert_msg(s.window == BODY_WINDOW_DEFAULT,
		      "got window %zu, want %d", s.window, BODY_WINDOW_DEFAULT);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"a needle", 8);
	ck_assert_msg(r == 1, "got %d, want 1", r);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"nothing", 7);
	ck_assert_msg(r == 1, "after a match: got %d, want 1 (sticky)", r);
	ck_assert_msg(body_scan_matched(&s), "got matched false, want true");
	body_scan_reset(&s);
	ck_assert_msg(!body_scan_matched(&s), "after reset: got matched true");
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"need", 4);
	ck_assert_msg(r == 0, "next message: got %d, want 0", r);
	r = body_scan_feed_regex(&s, re, (const unsigned char *)"le", 2);
	ck_assert_msg(r == 1, "next message, split: got %d, want 1", r);
	body_scan_free(&s);
	ck_assert_msg(body_scan_buffer_size(&s) == 0,
		      "after free: got %zu, want 0", body_scan_buffer_size(&s));
	body_scan_init(&s, BODY_WINDOW_MAX * 4);
	ck_assert_msg(s.window == BODY_WINDOW_MAX, "got window %zu, want %d",
		      s.window, BODY_WINDOW_MAX);
	/* A regex that hits its limit is an error, not "no match". */
	regex_free(&re);
	re = regex_compile("(a+)+$", 0, err, sizeof(err));
	{
		size_t n = 64 * 1024;
		unsigned char *c = malloc(n);
		memset(c, 'a', n);
		c[n - 1] = '!';
		r = body_scan_feed_regex(&s, re, c, n);
		ck_assert_msg(r == -1, "catastrophic: got %d, want -1", r);
		free(c);
	}
	body_scan_free(&s);
	regex_free(&re);
}
END_TEST

/* 50 MB in 64 KiB chunks: the buffer stays within 2W; the needle is cut. */
START_TEST(test_body_bounded)
{
	enum { CHUNK = 64 * 1024, TOTAL = 50 * 1024 * 1024 };
	unsigned char *c = malloc(CHUNK);
	struct body_scan s;
	struct regex_list *l = regex_list_new();
	char err[256];
	size_t off;
	int r = 0;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(regex_list_add(l, "needle", 0, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    regex_list_add(l, "(?m)^X-Spam: yes", 0, err, sizeof(err)), 0);
	body_scan_init(&s, 0);
	for (off = 0; off < TOTAL; off += CHUNK) {
		for (size_t i = 0; i < CHUNK; i++)
			c[i] = (unsigned char)("lorem ipsum\r\n\0"[i % 14]);
		if (off + CHUNK == TOTAL - CHUNK)
			memcpy(c + CHUNK - 3, "nee", 3);
		if (off + CHUNK == TOTAL)
			memcpy(c, "dle", 3);
		r = body_scan_feed(&s, l, c, CHUNK);
		ck_assert_msg(
		    body_scan_buffer_size(&s) <= 2 * BODY_WINDOW_DEFAULT,
		    "at %zu: buffer %zu, want <= %d", off,
		    body_scan_buffer_size(&s), 2 * BODY_WINDOW_DEFAULT);
		if (off + CHUNK < TOTAL)
			ck_assert_msg(r == 0, "at %zu: got %d, want 0", off, r);
	}
	ck_assert_msg(r == 1, "at the end: got %d, want 1", r);
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

	tc = tcase_create("sets");
	tcase_add_loop_test(tc, test_str_set, 0, (int)N(str_cases));
	tcase_add_test(tc, test_str_set_many);
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
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_body, 0, (int)N(body_cases));
	tcase_add_test(tc, test_body_sticky_reset);
	tcase_add_test(tc, test_body_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("listfile");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_listfile, 0, (int)N(lf_cases));
	tcase_add_test(tc, test_listfile_errors);
	tcase_add_test(tc, test_listfile_big);
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
