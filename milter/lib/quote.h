/*
 * quote.h - render untrusted or config text safely into an error message.
 *
 * The one home of match_quote(), which the address parser (match_addr.c),
 * the sets (match_set.c), the config loader and the policy all use: it
 * depends on nothing, so none of them depends on another for it. Never
 * logs, never exits, never allocates.
 */
#ifndef RCM_QUOTE_H
#define RCM_QUOTE_H

#include <stddef.h>

/*
 * Render untrusted or config text into out for an error message: printable
 * ASCII kept, any other octet as '?', cut to about 64 octets with "...".
 * out is always NUL-terminated (outlen > 0); in need not be.
 */
void match_quote(char *out, size_t outlen, const char *in, size_t inlen);

#endif
