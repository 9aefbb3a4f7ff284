/*
 * fuzz_expand.c - fuzz target for templates: template_compile() of the
 * input's template, then policy_expand() of it against a session whose
 * facts come from the input.
 *
 * Input: 2 bytes of output size (0..4095), 1 byte of flags (bit 0: no
 * rule; bits 1 to 7: greylisting's time left, $retry_in, in steps of
 * 61.5 s, 0 none), then NUL-separated fields: template, client_addr,
 * client_name, helo, sender, recipient, queue_id, rule name, and the DNS
 * list that listed it: zone, answer, TXT record (untrusted). A fact longer than its
 * field in struct session is cut, as the milter glue cuts it; sender and
 * recipient are set with addr_fact_set(), as the glue sets them.
 *
 * Checked against a reference kept here: the template compiles exactly
 * when every '$' starts "$$" or a known name ending where the name's
 * characters end; then its expansion is always
 * NUL-terminated inside the buffer and is exactly the start of the full
 * expansion ("$$" a '$', the longest known name after '$', an unknown one
 * left as written, values with control and non-ASCII octets as '?' and
 * cut at PLACEHOLDER_MAX with "...", an address in its normal form in <>
 * when envaddr_parse() reads it and as given when not); a printable
 * template gives a printable result. Never reads a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "fuzz.h"

static const char *const names[] = {
    "client_addr", "client_name", "helo",	"sender",	"recipient",
    "queue_id",	   "rule",	  "dnsbl_zone", "dnsbl_answer", "dnsbl_txt",
    "retry_in"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* A time left as $retry_in shows it: whole seconds rounded up, "1h2m3s";
 * "" for none. */
static void ref_duration(uint64_t ms, char *out, size_t len)
{
	uint64_t t = (ms + 999) / 1000;
	uint64_t d = t / 86400, h = t % 86400 / 3600, m = t % 3600 / 60,
		 sec = t % 60;
	size_t o = 0;

	out[0] = '\0';
	if (ms == 0)
		return;
	if (d)
		o += (size_t)snprintf(out + o, len - o, "%llud",
				      (unsigned long long)d);
	if (h)
		o += (size_t)snprintf(out + o, len - o, "%lluh",
				      (unsigned long long)h);
	if (m)
		o += (size_t)snprintf(out + o, len - o, "%llum",
				      (unsigned long long)m);
	if (sec || o == 0)
		snprintf(out + o, len - o, "%llus", (unsigned long long)sec);
}

static size_t ref_value(const char *v, char *out)
{
	size_t n = strlen(v), o = 0;

	for (size_t i = 0; i < n && i < PLACEHOLDER_MAX; i++)
		out[o++] = fuzz_san((unsigned char)v[i]);
	if (n > PLACEHOLDER_MAX) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	return o;
}

/* The whole expansion, however long; malloc'd. */
static char *ref_expand(const char *t, const char *const vals[NNAMES],
			size_t *lenp)
{
	size_t cap = strlen(t) * (PLACEHOLDER_MAX + 4) + 1, o = 0;
	char *out = malloc(cap);

	if (out == NULL)
		abort();
	while (*t != '\0') {
		size_t best = 0, which = 0;
		if (t[0] != '$') {
			out[o++] = *t++;
			continue;
		}
		if (t[1] == '$') {
			out[o++] = '$';
			t += 2;
			continue;
		}
		for (size_t i = 0; i < NNAMES; i++) {
			size_t n = strlen(names[i]);
			if (n > best && strncmp(t + 1, names[i], n) == 0) {
				best = n;
				which = i;
			}
		}
		if (best == 0) {
			out[o++] = *t++;
			continue;
		}
		o += ref_value(vals[which], out + o);
		t += 1 + best;
	}
	out[o] = '\0';
	*lenp = o;
	return out;
}

static bool ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Does t compile: every '$' is "$$" or a whole known name? */
static bool ref_valid(const char *t)
{
	for (; *t != '\0'; t++) {
		size_t n = 0;
		bool known = false;
		if (*t != '$')
			continue;
		if (t[1] == '$') {
			t++;
			continue;
		}
		while (ident(t[1 + n]))
			n++;
		for (size_t i = 0; i < NNAMES; i++)
			known = known || (strlen(names[i]) == n &&
					  strncmp(t + 1, names[i], n) == 0);
		if (!known)
			return false;
		t += n;
	}
	return true;
}

static void fact(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* What $sender or $recipient must show for an address given as src. */
static const char *shown(const char *src, char *buf, size_t size)
{
	struct envaddr a;
	size_t n = strlen(src);

	if (n < FACT_MAX && envaddr_parse(src, n, &a, NULL, 0) == 0)
		snprintf(buf, size, "<%s>", a.text);
	else
		fact(buf, size < FACT_MAX ? size : FACT_MAX, src);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	size_t outlen = fuzz_u16(&in) % 4096, nf, reflen, got;
	uint8_t flags = fuzz_u8(&in);
	char *buf = fuzz_strndup(in.p, in.n), *f[11], *out = NULL, *want = NULL;
	const char *vals[NNAMES];
	char from[ADDR_SHOW_MAX], to[ADDR_SHOW_MAX], left[40];
	struct session *s = calloc(1, sizeof(*s));
	struct rule rule;
	bool printable = true;
	struct template *t = NULL;
	char err[300];
	int rc;

	if (s == NULL)
		abort();
	nf = fuzz_split(buf, in.n, '\0', f, 11);
	for (size_t i = nf; i < 11; i++)
		f[i] = buf + in.n; /* "" */
	fact(s->client_addr, sizeof(s->client_addr), f[1]);
	fact(s->client_name, sizeof(s->client_name), f[2]);
	fact(s->helo, sizeof(s->helo), f[3]);
	addr_fact_set(&s->msg.sender, f[4]);
	addr_fact_set(&s->msg.rcpt, f[5]);
	fact(s->msg.queue_id, sizeof(s->msg.queue_id), f[6]);
	fact(s->dns_zone, sizeof(s->dns_zone), f[8]);
	fact(s->dns_answer, sizeof(s->dns_answer), f[9]);
	fact(s->dns_txt, sizeof(s->dns_txt), f[10]);
	memset(&rule, 0, sizeof(rule));
	rule.name = f[7];
	vals[0] = s->client_addr;
	vals[1] = s->client_name;
	vals[2] = s->helo;
	vals[3] = shown(f[4], from, sizeof(from));
	vals[4] = shown(f[5], to, sizeof(to));
	vals[5] = s->msg.queue_id;
	vals[6] = (flags & 1) ? "" : rule.name;
	vals[7] = s->dns_zone;
	vals[8] = s->dns_answer;
	vals[9] = s->dns_txt;
	s->msg.retry_ms = (uint64_t)(flags >> 1) * 61500;
	ref_duration(s->msg.retry_ms, left, sizeof(left));
	vals[10] = left;

	rc = template_compile(f[0], true, &t, err, sizeof(err));
	FUZZ_CHECK(rc != -2, "no memory");
	FUZZ_CHECK((rc == 0) == ref_valid(f[0]),
		   "template \"%.60s\": compiled %d, want %d (%s)", f[0], rc,
		   ref_valid(f[0]) ? 0 : -1, rc ? err : "");
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0', "refused with no reason");
		goto done;
	}
	out = malloc(outlen ? outlen : 1);
	if (out == NULL)
		abort();
	out[0] = 'x';
	policy_expand(t, (flags & 1) ? NULL : &rule, s, out, outlen);
	want = ref_expand(f[0], vals, &reflen);
	if (outlen == 0) {
		FUZZ_CHECK(out[0] == 'x', "wrote into a 0-octet buffer");
	} else {
		got = strnlen(out, outlen);
		FUZZ_CHECK(got < outlen, "output not NUL-terminated");
		FUZZ_CHECK(got == (reflen < outlen - 1 ? reflen : outlen - 1) &&
				   memcmp(out, want, got) == 0,
			   "expanding \"%.60s\" into %zu octets gave "
			   "\"%.80s\" (%zu), want the start of \"%.80s\" (%zu)",
			   f[0], outlen, out, got, want, reflen);
		for (const char *c = f[0]; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				printable = false;
		for (size_t i = 0; printable && i < got; i++)
			FUZZ_CHECK((unsigned char)out[i] >= 0x20 &&
					   (unsigned char)out[i] < 0x7f,
				   "printable template, octet 0x%02x at %zu",
				   (unsigned char)out[i], i);
	}
	for (size_t i = 0; i < NNAMES; i++) {
		char one[40];
		struct template *k = NULL;
		snprintf(one, sizeof(one), "$%s", names[i]);
		FUZZ_CHECK(template_compile(one, true, &k, err, sizeof(err)) ==
				       0 &&
				   template_uses(k) == 1u << i &&
				   strcmp(placeholder_name((enum placeholder)i),
					  names[i]) == 0,
			   "placeholder %s unknown", names[i]);
		template_free(&k);
	}
	free(want);
	free(out);
done:
	template_free(&t);
	free(s);
	free(buf);
	return 0;
}
