/*
 * template.h - text with $placeholders (reply text, add_header values,
 * log lines, quarantine reasons), compiled once at load.
 *
 * The one place that knows the syntax: "$name" is a placeholder, "$$" a
 * '$'; a '$' that starts no known name is refused at load. The values
 * come from the caller at expansion, sanitised here (no control bytes, no
 * bytes >= 0x80, each cut to PLACEHOLDER_MAX octets with "..."). Pure: no
 * libmilter, no logging; a compiled template is immutable.
 */
#ifndef RCM_TEMPLATE_H
#define RCM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

enum placeholder {
	PH_CLIENT_ADDR,
	PH_CLIENT_NAME,
	PH_HELO,
	PH_SENDER,
	PH_RECIPIENT,
	PH_QUEUE_ID,
	PH_RULE,
	PH_DNSBL_ZONE,	 /* the zone of the DNS list that listed it */
	PH_DNSBL_ANSWER, /* the list's answer (an IPv4 address) */
	PH_DNSBL_TXT,	 /* the list's TXT record (untrusted) */
	PH_RETRY_IN,
	PH_COUNT
};

/* A placeholder's value becomes at most this many octets... */
#define PLACEHOLDER_MAX 256
/* ... and "..." when it was cut. */
#define PLACEHOLDER_WORST (PLACEHOLDER_MAX + 3)
/* A text line after expansion is cut to this many octets. */
#define EXPAND_LINE_MAX 2048

struct template;

/*
 * Compile src. With placeholders false the text is taken as written
 * ('$' included). Returns 0 and *out (the caller frees it), -1 with err
 * naming the first bad '$' and where it is, -2 when memory ran out.
 */
int template_compile(const char *src, bool placeholders,
		     struct template **out, char *err, size_t errlen);

/* Free t (NULL allowed) and set *t NULL. */
void template_free(struct template **t);

/* The text as written in the config. */
const char *template_source(const struct template *t);

/* The text with every placeholder empty ("$$" a '$'), and its length. */
const char *template_literal(const struct template *t);
size_t template_literal_len(const struct template *t);

/* How many placeholders it has. */
size_t template_count(const struct template *t);

/* Which placeholders it uses, as (1u << PH_*) bits. */
unsigned template_uses(const struct template *t);

/* A placeholder's name ("helo"), without the '$'. */
const char *placeholder_name(enum placeholder ph);

/* The names of all placeholders, for messages: "$client_addr ... $rule". */
const char *placeholder_list(void);

/*
 * The value of placeholder ph (untrusted; NULL is ""). buf (at least
 * PLACEHOLDER_BUF octets) is there for a value the caller must build.
 */
#define PLACEHOLDER_BUF 600
typedef const char *(*placeholder_fn)(void *arg, enum placeholder ph,
				      char *buf);

/*
 * Expand t into out (always NUL-terminated when outlen > 0; cut to fit),
 * each value sanitised and cut as said above.
 */
void template_expand(const struct template *t, placeholder_fn value, void *arg,
		     char *out, size_t outlen);

#endif
