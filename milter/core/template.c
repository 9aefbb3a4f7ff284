/*
 * template.c - compile and expand text with $placeholders (template.h).
 *
 * A compiled template is its source, its literal text (what it says with
 * every placeholder empty) and, for each placeholder, where it goes in
 * the literal text: expansion is a walk over those pieces, with no parsing
 * at run time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reply.h"
#include "core/template.h"

static const char *const names[PH_COUNT] = {
	[PH_CLIENT_ADDR] = "client_addr", [PH_CLIENT_NAME] = "client_name",
	[PH_HELO] = "helo",		  [PH_SENDER] = "sender",
	[PH_RECIPIENT] = "recipient",	  [PH_QUEUE_ID] = "queue_id",
	[PH_RULE] = "rule",
	[PH_DNSBL_ZONE] = "dnsbl_zone",	  [PH_DNSBL_ANSWER] = "dnsbl_answer",
	[PH_DNSBL_TXT] = "dnsbl_txt",
	[PH_RETRY_IN] = "retry_in",
};

struct slot {
	size_t at;	    /* offset in the literal text */
	enum placeholder ph;
};

struct template {
	char *source;  /* owned */
	char *literal; /* owned */
	size_t len;    /* of literal */
	size_t nslots;
	struct slot *slot; /* owned, in order */
	unsigned uses;
};

const char *placeholder_name(enum placeholder ph)
{
	return ph < PH_COUNT ? names[ph] : "";
}

const char *placeholder_list(void)
{
	return "$client_addr $client_name $helo $sender $recipient "
	       "$queue_id $rule $dnsbl_zone $dnsbl_answer $dnsbl_txt $retry_in";
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static int lookup(const char *s, size_t n)
{
	for (int i = 0; i < PH_COUNT; i++)
		if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0)
			return i;
	return -1;
}

/* Check src and count its placeholders. 0, or -1 with err. */
static int scan(const char *src, size_t *nslots, char *err, size_t errlen)
{
	*nslots = 0;
	for (const char *s = src; *s != '\0'; s++) {
		size_t n = 0;
		if (*s != '$')
			continue;
		if (s[1] == '$') {
			s++;
			continue;
		}
		while (is_ident(s[1 + n]))
			n++;
		if (n == 0) {
			snprintf(err, errlen,
				 "'$' at position %zu starts no placeholder; "
				 "write $$ for a '$'",
				 (size_t)(s - src) + 1);
			return -1;
		}
		if (lookup(s + 1, n) < 0) {
			snprintf(err, errlen,
				 "unknown placeholder $%.*s (known: %s, and "
				 "$$ for '$')",
				 (int)(n > 40 ? 40 : n), s + 1,
				 placeholder_list());
			return -1;
		}
		(*nslots)++;
		s += n;
	}
	return 0;
}

int template_compile(const char *src, bool placeholders,
		     struct template **out, char *err, size_t errlen)
{
	struct template *t;
	size_t nslots = 0, o = 0, k = 0;

	*out = NULL;
	if (placeholders && scan(src, &nslots, err, errlen) != 0)
		return -1;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->source = strdup(src)) == NULL ||
	    (t->literal = malloc(strlen(src) + 1)) == NULL ||
	    (nslots > 0 &&
	     (t->slot = calloc(nslots, sizeof(*t->slot))) == NULL)) {
		template_free(&t);
		return -2;
	}
	for (const char *s = src; *s != '\0'; s++) {
		size_t n = 0;
		if (!placeholders || *s != '$') {
			t->literal[o++] = *s;
			continue;
		}
		if (s[1] == '$') {
			t->literal[o++] = '$';
			s++;
			continue;
		}
		while (is_ident(s[1 + n]))
			n++;
		t->slot[k].at = o;
		t->slot[k].ph = (enum placeholder)lookup(s + 1, n);
		t->uses |= 1u << t->slot[k].ph;
		k++;
		s += n;
	}
	t->literal[o] = '\0';
	t->len = o;
	t->nslots = nslots;
	*out = t;
	return 0;
}

void template_free(struct template **tp)
{
	struct template *t = *tp;

	if (t == NULL)
		return;
	free(t->source);
	free(t->literal);
	free(t->slot);
	free(t);
	*tp = NULL;
}

const char *template_source(const struct template *t)
{
	return t->source;
}

const char *template_literal(const struct template *t)
{
	return t->literal;
}

size_t template_literal_len(const struct template *t)
{
	return t->len;
}

size_t template_count(const struct template *t)
{
	return t->nslots;
}

unsigned template_uses(const struct template *t)
{
	return t->uses;
}

/* Append n octets of s to out at *o, as many as fit before outlen - 1. */
static void put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (n > outlen - 1 - *o)
		n = outlen - 1 - *o;
	memcpy(out + *o, s, n);
	*o += n;
}

void template_expand(const struct template *t, placeholder_fn value, void *arg,
		     char *out, size_t outlen)
{
	size_t o = 0, from = 0;

	if (outlen == 0)
		return;
	for (size_t k = 0; k < t->nslots; k++) {
		char buf[PLACEHOLDER_BUF], val[PLACEHOLDER_MAX + 4];
		const char *v = value(arg, t->slot[k].ph, buf);
		size_t vn;
		if (v == NULL)
			v = "";
		put(out, outlen, &o, t->literal + from, t->slot[k].at - from);
		from = t->slot[k].at;
		vn = reply_sanitize_value(v, strlen(v), val, sizeof(val),
					  PLACEHOLDER_MAX);
		put(out, outlen, &o, val, vn);
	}
	put(out, outlen, &o, t->literal + from, t->len - from);
	out[o] = '\0';
}
