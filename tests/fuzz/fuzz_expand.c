/*
 * fuzz_expand.c - fuzz target for placeholder expansion: policy_expand()
 * of a template against a session whose facts come from the input.
 *
 * Input: 2 bytes of output size (0..4095), 1 byte of flags (bit 0: no
 * rule), then NUL-separated fields: template, client_addr, client_name,
 * helo, sender, recipient, queue_id, rule name. A fact longer than its
 * field in struct session is cut, as the milter glue cuts it; sender and
 * recipient are set with addr_fact_set(), as the glue sets them.
 *
 * Checked against a reference expansion kept here: the output is always
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

static const char *const names[] = {"client_addr", "client_name", "helo",
				    "sender",	   "recipient",	  "queue_id",
				    "rule"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

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
	char *buf = fuzz_strndup(in.p, in.n), *f[8], *out, *want;
	const char *vals[NNAMES];
	char from[ADDR_SHOW_MAX], to[ADDR_SHOW_MAX];
	struct session *s = calloc(1, sizeof(*s));
	struct rule rule;
	bool printable = true;

	if (s == NULL)
		abort();
	nf = fuzz_split(buf, in.n, '\0', f, 8);
	for (size_t i = nf; i < 8; i++)
		f[i] = buf + in.n; /* "" */
	fact(s->client_addr, sizeof(s->client_addr), f[1]);
	fact(s->client_name, sizeof(s->client_name), f[2]);
	fact(s->helo, sizeof(s->helo), f[3]);
	addr_fact_set(&s->sender, f[4]);
	addr_fact_set(&s->rcpt, f[5]);
	fact(s->queue_id, sizeof(s->queue_id), f[6]);
	memset(&rule, 0, sizeof(rule));
	rule.name = f[7];
	vals[0] = s->client_addr;
	vals[1] = s->client_name;
	vals[2] = s->helo;
	vals[3] = shown(f[4], from, sizeof(from));
	vals[4] = shown(f[5], to, sizeof(to));
	vals[5] = s->queue_id;
	vals[6] = (flags & 1) ? "" : rule.name;

	out = malloc(outlen ? outlen : 1);
	if (out == NULL)
		abort();
	out[0] = 'x';
	policy_expand(f[0], (flags & 1) ? NULL : &rule, s, out, outlen);
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
	for (size_t i = 0; i < NNAMES; i++)
		FUZZ_CHECK(policy_placeholder_known(names[i], strlen(names[i])),
			   "placeholder %s unknown", names[i]);
	FUZZ_CHECK(!policy_placeholder_known(f[0], strlen(f[0])) ||
			   strchr(f[0], '$') == NULL,
		   "\"%.40s\" is a known placeholder", f[0]);
	free(want);
	free(out);
	free(s);
	free(buf);
	return 0;
}
