/*
 * check_dns.c - the pure parts of DNS list lookups (lib/dns.h) and how a
 * DNS list condition holds (core/dnsq.c): query names for IPv4, IPv6 and
 * domains, answer filters, TXT text, the cache and its TTLs, entries,
 * weights and thresholds (on answers put in the session's table, as the
 * resolver would), and the placeholders. The resolver itself is tested
 * against a real DNS server in tests/proto/dns.sh.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsq.h"
#include "core/stats.h"
#include "lib/dns.h"
#include "load.h"

/* --- query names ------------------------------------------------------ */

static const struct {
	const char *addr, *zone, *want;
} ip_names[] = {
    {"192.0.2.1", "zen.example", "1.2.0.192.zen.example"},
    {"127.0.0.2", "bl.example.", "2.0.0.127.bl.example"},
    {"::ffff:198.51.100.7", "bl.example", "7.100.51.198.bl.example"},
    {"2001:db8::1", "bl.example",
     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
     "bl.example"},
    {"2001:db8:abcd:12::ff00", "v6.example",
     "0.0.f.f.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2."
     "v6.example"},
};

START_TEST(test_name_ip)
{
	unsigned char ip[16] = {0};
	char out[DNS_NAME_MAX];
	const char *a = ip_names[_i].addr;

	if (strchr(a, ':') != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET6, a, ip), 1);
	} else {
		ip[10] = ip[11] = 0xff;
		ck_assert_int_eq(inet_pton(AF_INET, a, ip + 12), 1);
	}
	ck_assert_int_eq(dns_name_ip(ip, ip_names[_i].zone, out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, ip_names[_i].want);
	/* too small a buffer: refused, not cut */
	ck_assert_int_eq(
	    dns_name_ip(ip, ip_names[_i].zone, out, strlen(ip_names[_i].want)),
	    -1);
}
END_TEST

static const struct {
	const char *domain, *want; /* want NULL: refused */
} domain_names[] = {
    {"example.com", "example.com.dbl.example"},
    {"Mail.Example.COM.", "Mail.Example.COM.dbl.example"},
    {"[192.0.2.1]", NULL},
    {"", NULL},
    {"bad..example", NULL},
    {"bad domain.example", NULL},
    {"b%d.example", NULL},
    {"x_y.example", "x_y.example.dbl.example"},
};

START_TEST(test_name_domain)
{
	char out[DNS_NAME_MAX];
	int rc = dns_name_domain(domain_names[_i].domain, "dbl.example", out,
				 sizeof(out));

	if (domain_names[_i].want == NULL) {
		ck_assert_msg(rc == -1, "\"%s\": got \"%s\", want refused",
			      domain_names[_i].domain, out);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, domain_names[_i].want);
}
END_TEST

START_TEST(test_name_long)
{
	char label[64], dom[300], out[DNS_NAME_MAX];

	memset(label, 'a', 63);
	label[63] = '\0';
	/* 4 labels of 63 and 3 dots: 255, over 253 with the zone */
	snprintf(dom, sizeof(dom), "%s.%s.%s.%s", label, label, label, label);
	ck_assert_int_eq(dns_name_domain(dom, "dbl.example", out, sizeof(out)),
			 -1);
	/* a label of 64 */
	snprintf(dom, sizeof(dom), "%sa.example", label);
	ck_assert_int_eq(dns_name_domain(dom, "dbl.example", out, sizeof(out)),
			 -1);
	snprintf(dom, sizeof(dom), "%s.example", label);
	ck_assert_int_eq(dns_name_domain(dom, "dbl.example", out, sizeof(out)),
			 0);
}
END_TEST

/* --- answer filters --------------------------------------------------- */

static uint32_t a4(const char *s)
{
	struct in_addr in;

	ck_assert_int_eq(inet_pton(AF_INET, s, &in), 1);
	return ntohl(in.s_addr);
}

static const struct {
	const char *filter, *addr;
	bool want;
} filters[] = {
    {"127.0.0.2", "127.0.0.2", true},
    {"127.0.0.2", "127.0.0.3", false},
    {"127.0.0.[4..11]", "127.0.0.4", true},
    {"127.0.0.[4..11]", "127.0.0.11", true},
    {"127.0.0.[4..11]", "127.0.0.12", false},
    {"127.0.0.[4..11]", "127.0.0.3", false},
    {"127.0.0.[2;4;6]", "127.0.0.4", true},
    {"127.0.0.[2;4;6]", "127.0.0.5", false},
    {"127.0.0.[2..3;10]", "127.0.0.10", true},
    {"127.0.[0..255].[1..3]", "127.0.9.3", true},
    {"127.0.[0..255].[1..3]", "127.1.9.3", false},
    {"127.0.0.2,127.0.0.[10..11]", "127.0.0.11", true},
    {"127.0.0.2,127.0.0.[10..11]", "127.0.0.9", false},
    {"", "127.0.0.9", true}, /* no filter: every answer */
};

START_TEST(test_filter)
{
	struct dns_filter f;
	char err[200];

	if (filters[_i].filter[0] != '\0')
		ck_assert_msg(dns_filter_parse(filters[_i].filter, &f, err,
					       sizeof(err)) == 0,
			      "%s: %s", filters[_i].filter, err);
	else
		memset(&f, 0, sizeof(f));
	ck_assert_msg(dns_filter_match(&f, a4(filters[_i].addr)) ==
			  filters[_i].want,
		      "%s against %s: want %d", filters[_i].filter,
		      filters[_i].addr, filters[_i].want);
}
END_TEST

static const char *const bad_filters[] = {
    "127.0.0",	  "127.0.0.256", "127.0.0.[11..4]", "127.0.0.[4..11",
    "127.0.0.2,", "127.0.0.2;3", "127.0.0.x",	    "1270.0.0.1",
    "127.0.0.2 ", "127.0.0.[]",	 "127.0.0.[4...5]", "-1.0.0.1",
};

START_TEST(test_filter_bad)
{
	struct dns_filter f;
	char err[200] = "";

	ck_assert_msg(dns_filter_parse(bad_filters[_i], &f, err, sizeof(err)) ==
			  -1,
		      "\"%s\" parsed", bad_filters[_i]);
	ck_assert_msg(strstr(err, "want four octets") != NULL ||
			  strstr(err, "separated by ','") != NULL,
		      "\"%s\": %s", bad_filters[_i], err);
}
END_TEST

/* --- TXT ------------------------------------------------------------- */

START_TEST(test_txt)
{
	/* "a%b\t", "" and "\0\x1b\r\nz\xe9": joined, unprintable as '?' */
	static const unsigned char rd[] = {4, 'a',  '%',  'b',	'\t', 0,   6,
					   0, 0x1b, '\r', '\n', 'z',  0xe9};
	static const unsigned char bad[] = {3, 'a', 'b'};
	char out[32];
	size_t used = 0;

	ck_assert_int_eq(dns_txt_join(rd, sizeof(rd), out, sizeof(out), &used),
			 0);
	ck_assert_str_eq(out, "a%b?????z?");
	ck_assert_uint_eq(used, 10);
	/* malformed: nothing added, what was there stays */
	ck_assert_int_eq(
	    dns_txt_join(bad, sizeof(bad), out, sizeof(out), &used), -1);
	ck_assert_str_eq(out, "a%b?????z?");
	/* cut to the buffer */
	used = 0;
	ck_assert_int_eq(dns_txt_join(rd, sizeof(rd), out, 5, &used), 0);
	ck_assert_str_eq(out, "a%b?");
}
END_TEST

START_TEST(test_txt_long)
{
	/* 600 octets in three strings of 200: cut at DNS_TXT_MAX - 1 */
	unsigned char rd[603];
	char out[DNS_TXT_MAX];
	size_t used = 0;

	for (int s = 0; s < 3; s++) {
		rd[s * 201] = 200;
		memset(rd + s * 201 + 1, 'a' + s, 200);
	}
	ck_assert_int_eq(dns_txt_join(rd, sizeof(rd), out, sizeof(out), &used),
			 0);
	ck_assert_uint_eq(strlen(out), DNS_TXT_MAX - 1);
	ck_assert_int_eq(out[199], 'a');
	ck_assert_int_eq(out[200], 'b');
	ck_assert_int_eq(out[400], 'c');
}
END_TEST

/* --- the cache ------------------------------------------------------- */

static time_t fake_now;

static time_t fake_clock(void)
{
	return fake_now;
}

START_TEST(test_cache_ttl)
{
	struct dns_cache *c = dns_cache_new(3, fake_clock);
	struct dns_answer a = {0}, got;

	fake_now = 1000;
	a.status = DNS_FOUND;
	a.naddr = 1;
	a.addr[0] = a4("127.0.0.2");
	a.ttl = 60;
	dns_cache_put(c, "2.0.0.127.zen.example", DNS_A, &a);
	ck_assert(dns_cache_get(c, "2.0.0.127.ZEN.example", DNS_A, &got));
	ck_assert(got.cached);
	ck_assert_uint_eq(got.ttl, 60);
	ck_assert_uint_eq(got.addr[0], a4("127.0.0.2"));
	ck_assert(!dns_cache_get(c, "2.0.0.127.zen.example", DNS_TXT, &got));
	fake_now = 1059;
	ck_assert(dns_cache_get(c, "2.0.0.127.zen.example", DNS_A, &got));
	ck_assert_uint_eq(got.ttl, 1);
	fake_now = 1060; /* the TTL has run out */
	ck_assert(!dns_cache_get(c, "2.0.0.127.zen.example", DNS_A, &got));
	ck_assert_uint_eq(dns_cache_count(c), 0);
	/* a TTL of 0 and a failure are never kept; a longer TTL is capped */
	a.ttl = 0;
	dns_cache_put(c, "x.example", DNS_A, &a);
	a.ttl = 60;
	a.status = DNS_FAILED;
	dns_cache_put(c, "y.example", DNS_A, &a);
	ck_assert_uint_eq(dns_cache_count(c), 0);
	a.status = DNS_NONE;
	a.ttl = 10 * DNS_TTL_MAX;
	dns_cache_put(c, "z.example", DNS_A, &a);
	ck_assert(dns_cache_get(c, "z.example", DNS_A, &got));
	ck_assert_uint_eq(got.ttl, DNS_TTL_MAX);
	ck_assert_int_eq(got.status, DNS_NONE);
	dns_cache_free(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_cache_full)
{
	struct dns_cache *c = dns_cache_new(2, fake_clock);
	struct dns_answer a = {0}, got;

	fake_now = 1000;
	a.status = DNS_NONE;
	a.ttl = 10;
	dns_cache_put(c, "a.example", DNS_A, &a);
	a.ttl = 100;
	dns_cache_put(c, "b.example", DNS_A, &a);
	dns_cache_put(c, "c.example", DNS_A, &a); /* full: not kept */
	ck_assert(!dns_cache_get(c, "c.example", DNS_A, &got));
	fake_now = 1010; /* a.example expired: its room is taken */
	dns_cache_put(c, "c.example", DNS_A, &a);
	ck_assert(dns_cache_get(c, "c.example", DNS_A, &got));
	ck_assert(dns_cache_get(c, "b.example", DNS_A, &got));
	ck_assert_uint_eq(dns_cache_count(c), 2);
	dns_cache_free(&c);
}
END_TEST

/* --- upstream -------------------------------------------------------- */

static const struct {
	const char *s;
	bool ok;
} upstreams[] = {
    {"system", true},
    {"recursive", true},
    {"127.0.0.1", true},
    {"127.0.0.1@5353", true},
    {"::1@53, 192.0.2.1", true},
    {"", false},
    {"resolver.example", false},
    {"127.0.0.1@0", false},
    {"127.0.0.1@", false},
    {"127.0.0.1@53x", false},
};

START_TEST(test_upstream)
{
	char err[200];

	ck_assert_msg((dns_upstream_check(upstreams[_i].s, err, sizeof(err)) ==
		       0) == upstreams[_i].ok,
		      "\"%s\": want %s", upstreams[_i].s,
		      upstreams[_i].ok ? "ok" : "refused");
}
END_TEST

/* --- entries ----------------------------------------------------------- */

START_TEST(test_entry)
{
	struct dnsl_entry e;
	char err[300];

	ck_assert_int_eq(dnsl_entry_parse("zen.example", &e, err, sizeof(err)),
			 0);
	ck_assert_str_eq(e.zone, "zen.example");
	ck_assert_int_eq(e.weight, 1);
	ck_assert_uint_eq(e.filter.n, 0);
	free(e.zone);
	ck_assert_int_eq(dnsl_entry_parse("zen.example.=127.0.0.[2..3]*-2", &e,
					  err, sizeof(err)),
			 0);
	ck_assert_str_eq(e.zone, "zen.example");
	ck_assert_int_eq(e.weight, -2);
	ck_assert_uint_eq(e.filter.n, 1);
	free(e.zone);
	ck_assert_int_eq(
	    dnsl_entry_parse("zen.example*3=127.0.0.2", &e, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "answers before the weight") != NULL, "%s",
		      err);
	ck_assert_int_eq(
	    dnsl_entry_parse("zen.example*1001", &e, err, sizeof(err)), -1);
	ck_assert_int_eq(dnsl_entry_parse("=127.0.0.2", &e, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "an empty zone") != NULL, "%s", err);
}
END_TEST

/* --- conditions: weights, thresholds, placeholders ---------------------- */

/*
 * A policy whose rule asks a.example (weight 2, 127.0.0.2 only),
 * b.example (weight 1) and w.example (weight -2), threshold 3; answers
 * are put straight into the session's table as the resolver would.
 */
static const char *const weighted_conf =
    "rule \"two-of-three\" {\n"
    "  stage = connect\n"
    "  client_dnsbl = { \"a.example=127.0.0.2*2\", \"b.example\",\n"
    "    \"w.example*-2\" }\n"
    "  client_dnsbl_threshold = 3\n"
    "  verdict = reject\n"
    "  reply = \"554 5.7.1\"\n"
    "  text = \"Service unavailable; Client host [$client_addr] blocked "
    "using $dnsbl_zone ($dnsbl_answer); $dnsbl_txt\"\n"
    "}\n";

static void set_answer(struct session *s, const struct policy *p,
		       const char *zone, enum dns_status st, const char *addr,
		       const char *txt)
{
	struct dns_answer a = {0}, t = {0};

	for (size_t z = 0; z < p->dns.nzones; z++) {
		if (strcmp(p->dns.zone[z].name, zone) != 0)
			continue;
		a.status = st;
		a.naddr = addr != NULL ? 1 : 0;
		if (addr != NULL)
			a.addr[0] = a4(addr);
		t.status = DNS_FOUND;
		snprintf(t.txt, sizeof(t.txt), "%s", txt != NULL ? txt : "");
		dnsq_set(s, DNSQ_CLIENT, z, &a, txt != NULL ? &t : NULL);
		return;
	}
	ck_abort_msg("no zone %s", zone);
}

static const struct {
	const char *a, *b, *w; /* the answer of each zone, NULL: not listed,
				  "fail": a failure */
	int want;	       /* 1 holds, 0 not, COND_DNS_ERROR */
	bool tempfail;	       /* dns_error = tempfail */
} weighted[] = {
    {"127.0.0.2", "127.0.0.9", NULL, 1, false},	       /* 2 + 1 */
    {"127.0.0.2", NULL, NULL, 0, false},	       /* 2 */
    {"127.0.0.3", "127.0.0.9", NULL, 0, false},	       /* filtered: 1 */
    {"127.0.0.2", "127.0.0.9", "127.0.0.2", 0, false}, /* 3 - 2 */
    {"127.0.0.2", "fail", NULL, 0, false},	       /* ignore */
    {"127.0.0.2", "fail", NULL, COND_DNS_ERROR, true}, /* tempfail */
    {"127.0.0.2", "127.0.0.9", "fail", 1, true},       /* holds anyway */
    {NULL, NULL, NULL, 0, true},
};

static void put(struct session *s, const struct policy *p, const char *zone,
		const char *v)
{
	if (v == NULL)
		set_answer(s, p, zone, DNS_NONE, NULL, NULL);
	else if (strcmp(v, "fail") == 0)
		set_answer(s, p, zone, DNS_FAILED, NULL, NULL);
	else
		set_answer(s, p, zone, DNS_FOUND, v, "Listed; see %s\tnow");
}

START_TEST(test_weights)
{
	struct policy *p = load_text(weighted_conf);
	const struct policy *cp = p;
	struct session s;
	const struct cond *c = &p->by_stage[STAGE_CONNECT][0]->cond[0];
	struct sockaddr_in in = {.sin_family = AF_INET};

	p->dns.tempfail = weighted[_i].tempfail;
	ck_assert_uint_eq(p->dns.nzones, 3);
	ck_assert_int_eq(session_begin(&s, p), 0);
	ck_assert_ptr_nonnull(s.dns);
	inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
	session_set_client(&s, (const struct sockaddr *)&in);
	put(&s, p, "a.example", weighted[_i].a);
	put(&s, p, "b.example", weighted[_i].b);
	put(&s, p, "w.example", weighted[_i].w);
	ck_assert_int_eq(c->kind->eval(c, STAGE_CONNECT, &s),
			 weighted[_i].want);
	if (weighted[_i].want == 1) {
		char out[600];
		policy_expand(p->by_stage[STAGE_CONNECT][0]->text_t[0],
			      p->by_stage[STAGE_CONNECT][0], &s, out,
			      sizeof(out));
		/* the TXT text is sanitised like any value: the tab is a
		 * space (a reply %-escapes it later, reply.c) */
		ck_assert_str_eq(out, "Service unavailable; Client host "
				      "[192.0.2.1] blocked using a.example "
				      "(127.0.0.2); Listed; see %s now");
	}
	session_end(&s);
	policy_unref(&cp);
}
END_TEST

/*
 * dns_error = tempfail: a failed lookup tempfails the rule that decides
 * (its own reply is not given), but a dry-run or continue rule takes it
 * as not listed and the next rules are tried.
 */
START_TEST(test_tempfail_rules)
{
	struct policy *p = load_text(
	    "dns_error = tempfail\n"
	    "rule \"watch\" {\n  stage = connect\n  verdict = reject\n"
	    "  mode = dry-run\n  client_dnsbl = { \"a.example\" }\n}\n"
	    "rule \"tag\" {\n  stage = connect\n  verdict = continue\n"
	    "  client_dnsbl = { \"a.example\" }\n}\n"
	    "rule \"block\" {\n  stage = connect\n  verdict = reject\n"
	    "  reply = \"554 5.7.1\"\n  client_dnsbl = { \"a.example\" }\n}\n");
	const struct policy *cp = p;
	struct session s;
	struct decision d;
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct dns_answer a = {.status = DNS_FAILED};

	ck_assert_int_eq(session_begin(&s, p), 0);
	inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
	session_set_client(&s, (const struct sockaddr *)&in);
	dnsq_set(&s, DNSQ_CLIENT, 0, &a, NULL);
	policy_eval(p, STAGE_CONNECT, &s, NULL, NULL, &d);
	ck_assert(d.dns_failed);
	ck_assert(!d.internal_error);
	ck_assert_str_eq(d.rule->name, "block");
	ck_assert_int_eq(d.verdict, VERDICT_TEMPFAIL);
	ck_assert_str_eq(d.reply->basic, "451");
	ck_assert_str_eq(d.reply->enhanced, "4.4.3");
	ck_assert_str_eq(d.reply->line[0],
			 "Temporary DNS lookup failure, try again later");
	session_end(&s);
	policy_unref(&cp);
}
END_TEST

/* The policy gathers each zone once per subject, and notes $dnsbl_txt. */
START_TEST(test_layout)
{
	struct policy *p =
	    load_text("rule \"a\" {\n  stage = connect\n  verdict = accept\n"
		      "  client_dnswl = { \"wl.example\" }\n}\n"
		      "rule \"b\" {\n  stage = helo\n  verdict = reject\n"
		      "  client_dnsbl = { \"bl.example\", \"WL.example\" }\n"
		      "  helo_rhsbl = { \"bl.example\" }\n}\n"
		      "rule \"c\" {\n  stage = mail\n  verdict = reject\n"
		      "  sender_rhsbl = { \"dbl.example\" }\n"
		      "  text = \"$dnsbl_zone\"\n}\n");
	const struct policy *cp = p;

	ck_assert_uint_eq(p->dns.nzones, 4);
	ck_assert(!p->dns.want_txt);
	ck_assert_str_eq(p->dns.upstream, "system");
	ck_assert(!p->dns.tempfail);
	ck_assert_int_eq(p->dns.timeout_ms, 10000);
	policy_unref(&cp);
	p = load_text("dns_error = tempfail\ndns_timeout = 2\n"
		      "rule \"c\" {\n  stage = mail\n  verdict = reject\n"
		      "  sender_rhsbl = { \"dbl.example\" }\n"
		      "  text = \"$dnsbl_txt\"\n}\n");
	cp = p;
	ck_assert(p->dns.want_txt);
	ck_assert(p->dns.tempfail);
	ck_assert_int_eq(p->dns.timeout_ms, 2000);
	policy_unref(&cp);
}
END_TEST

/* The DNS counters reach the Prometheus text. */
START_TEST(test_counters)
{
	char *text = NULL;
	size_t len;
	const char *line = "replycode_milter_dns_lookups_total{type=\"TXT\","
			   "source=\"cache\",result=\"found\"} ";
	unsigned long before, after;
	const char *at;

	ck_assert_int_eq(stats_prometheus(NULL, &text, &len), 0);
	ck_assert_ptr_nonnull(at = strstr(text, line));
	before = strtoul(at + strlen(line), NULL, 10);
	free(text);
	stats_dns(true, true, DNS_FOUND);
	stats_dns(true, true, DNS_FOUND);
	ck_assert_int_eq(stats_prometheus(NULL, &text, &len), 0);
	ck_assert_ptr_nonnull(at = strstr(text, line));
	after = strtoul(at + strlen(line), NULL, 10);
	ck_assert_uint_eq(after, before + 2);
	free(text);
}
END_TEST

#define N(a) (sizeof(a) / sizeof((a)[0]))

static Suite *suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_name_ip, 0, N(ip_names));
	tcase_add_loop_test(tc, test_name_domain, 0, N(domain_names));
	tcase_add_test(tc, test_name_long);
	tcase_add_loop_test(tc, test_filter, 0, N(filters));
	tcase_add_loop_test(tc, test_filter_bad, 0, N(bad_filters));
	tcase_add_test(tc, test_txt);
	tcase_add_test(tc, test_txt_long);
	tcase_add_test(tc, test_cache_ttl);
	tcase_add_test(tc, test_cache_full);
	tcase_add_loop_test(tc, test_upstream, 0, N(upstreams));
	tcase_add_test(tc, test_entry);
	tcase_add_loop_test(tc, test_weights, 0, N(weighted));
	tcase_add_test(tc, test_tempfail_rules);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_counters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (unit_dir_make() != 0)
		return 1;
	return unit_run(suite());
}
