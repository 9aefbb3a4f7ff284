/*
 * fuzz_config.c - fuzz target for the config loader: the input is written
 * to a scratch file and loaded with config_load() (our own scanner, then
 * libconfuse, then every check and compile step); a policy that loads is
 * then run through every stage of two sessions, and everything is freed.
 *
 * An input line "#@list" splits it: what follows is written to "list.txt"
 * beside the config, for file = "list.txt" to read. Inputs that could
 * name a device, a FIFO or a /proc file for a list file are skipped (the
 * loader reads what the config names; a config is trusted, and this is
 * no sandbox). Checked: the diagnostics are consistent with the result,
 * and every reply a loaded policy gives keeps reply.h's promises, with
 * the class its verdict wants. Leaks and memory errors are the
 * sanitizers' part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/policy.h"
#include "core/dnsq.h"
#include "fuzz.h"

/* Paths to devices and FIFOs, and the escapes that could spell one. */
static const char *const banned[] = {"/dev", "/proc", "/sys", "/run", "/var",
				     "\\x", "\\0", "\\1", "\\2", "\\3",
				     "\\4", "\\5", "\\6", "\\7"};

static bool has(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return true;
	return false;
}

struct facts {
	const char *addr, *name, *helo, *sender, *rcpt, *qid;
	const char *hname, *hvalue, *body, *auth, *tls;
};

static const char *macro(void *arg, const char *name)
{
	const struct facts *f = arg;

	if (strcmp(name, "{auth_authen}") == 0)
		return f->auth;
	if (strcmp(name, "{tls_version}") == 0)
		return f->tls;
	if (strcmp(name, "{daemon_name}") == 0)
		return "submission";
	if (strcmp(name, "{i}") == 0)
		return f->qid;
	return NULL;
}

static void check_decision(const struct decision *d, enum stage st,
			   const struct session *s)
{
	size_t reserve = 0;

	FUZZ_CHECK((unsigned)d->verdict < VERDICT_COUNT, "verdict %d",
		   (int)d->verdict);
	FUZZ_CHECK(strnlen(d->error, sizeof(d->error)) < sizeof(d->error),
		   "error not terminated");
	if (d->reply == NULL) {
		FUZZ_CHECK(d->verdict != VERDICT_REJECT &&
				   d->verdict != VERDICT_TEMPFAIL,
			   "%s without a reply at %s", verdict_name(d->verdict),
			   stage_name(st));
		return;
	}
	FUZZ_CHECK(d->verdict == VERDICT_REJECT ||
			   d->verdict == VERDICT_TEMPFAIL,
		   "a reply with verdict %s", verdict_name(d->verdict));
	if (!d->internal_error && st == STAGE_MAIL)
		reserve = strlen(s->msg.sender.raw) + 6;
	else if (!d->internal_error && st == STAGE_RCPT)
		reserve = strlen(s->msg.rcpt.raw) + 6;
	fuzz_check_reply(d->reply, reserve);
	FUZZ_CHECK(d->reply->basic[0] ==
			   (d->verdict == VERDICT_REJECT ? '5' : '4'),
		   "%s at %s replies %s", verdict_name(d->verdict),
		   stage_name(st), d->reply->basic);
}

/*
 * DNS lists: every zone answered here, listed (with a TXT record of '%'
 * and control bytes), not listed or failed in turn, so that nothing is
 * ever asked of a real DNS server while fuzzing.
 */
static void dns_answers(struct session *s, const struct policy *p, int msg)
{
	for (size_t z = 0; z < p->dns.nzones; z++) {
		struct dns_answer a = {0}, t = {0};
		switch ((z + (size_t)msg) % 3) {
		case 0:
			a.status = DNS_FOUND;
			a.naddr = 1;
			a.addr[0] = 0x7f000002;
			t.status = DNS_FOUND;
			snprintf(t.txt, sizeof(t.txt), "100%% %%s\t\r\n%s",
				 p->dns.zone[z].name);
			break;
		case 1:
			a.status = DNS_NONE;
			break;
		default:
			a.status = DNS_FAILED;
			break;
		}
		dnsq_set(s, (enum dnsq_subject)p->dns.zone[z].subject, z, &a,
			 &t);
	}
}

static void run_session(const struct policy *p, const struct facts *f)
{
	struct session s;
	struct decision *d = malloc(sizeof(*d));

	if (d == NULL)
		abort();
	if (session_begin(&s, p) != 0)
		abort();
	s.macro = macro;
	s.macro_arg = (void *)f;
	snprintf(s.client_addr, sizeof(s.client_addr), "%s", f->addr);
	s.have_ip = addr_parse(f->addr, s.client_ip) == 0;
	snprintf(s.client_name, sizeof(s.client_name), "%s", f->name);
	for (int msg = 0; msg < 2; msg++) {
		dns_answers(&s, p, msg);
		for (int st = 0; st < STAGE_COUNT; st++) {
			switch (st) {
			case STAGE_HELO:
				snprintf(s.helo, sizeof(s.helo), "%s", f->helo);
				s.have_helo = true;
				break;
			case STAGE_MAIL:
				addr_fact_set(&s.msg.sender, f->sender);
				s.msg.size_param = 12345;
				break;
			case STAGE_RCPT:
				addr_fact_set(&s.msg.rcpt, f->rcpt);
				s.msg.rcpt_count++;
				break;
			case STAGE_DATA:
				snprintf(s.msg.queue_id, sizeof(s.msg.queue_id), "%s",
					 f->qid);
				break;
			case STAGE_HEADER:
				s.msg.hdr_name = f->hname;
				s.msg.hdr_value = f->hvalue;
				s.msg.hdr_value_len = strlen(f->hvalue);
				s.msg.size += s.msg.hdr_value_len;
				break;
			case STAGE_BODY:
				s.msg.chunk = (const unsigned char *)f->body;
				s.msg.chunk_len = strlen(f->body);
				s.msg.size += s.msg.chunk_len;
				break;
			default:
				break;
			}
			policy_eval(p, (enum stage)st, &s, NULL, NULL, d);
			check_decision(d, (enum stage)st, &s);
		}
		session_reset_message(&s);
	}
	session_end(&s);
	FUZZ_CHECK(s.policy == NULL, "session_end kept its policy");
	free(d);
}

static const struct facts plain = {
	"192.0.2.1",	"mail.example.com", "[192.0.2.1]",
	"<a@example.com>", "<b@example.org>", "4AbC12",
	"Subject",	"[SPAM] buy now",  "unsubscribe here\r\n",
	"alice",	"TLSv1.3"};

static char longname[700];
static char hostile_body[3000];
static const struct facts hostile = {
	"2001:db8::1",
	longname,
	"%s%n\r\n\t\x01\xff",
	"<\"%d @x\"@EXAMPLE.COM.>",
	"<@relay:postmaster>",
	"%%%%%",
	"subject",
	"=?utf-8?q?\xc3\xa9?= %n\r\n\tfolded",
	hostile_body,
	NULL,
	NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[300], list[300];
	const uint8_t *sep;
	size_t clen = size;
	struct policy *p = NULL;
	struct diags d;
	int r;

	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (has(data, size, banned[i]))
			return 0;
	if (longname[0] == '\0') {
		memset(longname, 'a', sizeof(longname) - 1);
		for (size_t i = 0; i + 1 < sizeof(hostile_body); i++)
			hostile_body[i] = (char)(0x80 + i % 0x7f);
	}
	snprintf(path, sizeof(path), "%s/fuzz.conf", fuzz_dir());
	snprintf(list, sizeof(list), "%s/list.txt", fuzz_dir());
	sep = memmem(data, size, "#@list\n", 7);
	if (sep != NULL) {
		clen = (size_t)(sep - data);
		fuzz_write(list, sep + 7, size - clen - 7);
	} else {
		fuzz_write(list, (const uint8_t *)"", 0);
	}
	fuzz_write(path, data, clen);

	memset(&d, 0, sizeof(d));
	r = config_load(path, &p, NULL, &d);
	FUZZ_CHECK(d.count <= d.nerrors + d.nwarnings + d.nnotes &&
		       d.count <= d.cap,
		   "%zu diagnostics kept of %zu errors and %zu warnings",
		   d.count, d.nerrors, d.nwarnings);
	for (size_t i = 0; i < d.count; i++)
		FUZZ_CHECK(strnlen(d.item[i].text, sizeof(d.item[i].text)) <
				   sizeof(d.item[i].text),
			   "diagnostic %zu not terminated", i);
	if (r != 0) {
		FUZZ_CHECK(p == NULL && d.nerrors > 0 && d.count > 0,
			   "failed load: policy %p, %zu errors", (void *)p,
			   d.nerrors);
	} else {
		const struct policy *ref;
		FUZZ_CHECK(p != NULL && d.nerrors == 0,
			   "load gave policy %p with %zu errors", (void *)p,
			   d.nerrors);
		if (p->failure.verdict != VERDICT_ACCEPT)
			fuzz_check_reply(&p->failure.rendered, 0);
		run_session(p, &plain);
		run_session(p, &hostile);
		ref = p;
		policy_unref(&ref);
		FUZZ_CHECK(ref == NULL, "policy_unref left the pointer");
	}
	diags_free(&d);
	return 0;
}
