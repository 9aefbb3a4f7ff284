/*
 * reply.h - turn a checked code pair and text lines into exactly what is
 * handed to smfi_setmlreply, safe for both Postfix and Sendmail.
 *
 * Pure functions on caller-owned memory: no libmilter, no logging, no
 * allocation (a struct reply is self-contained), so rendering inside a
 * callback can never fail for want of memory.
 *
 * What a rendered reply guarantees:
 *   - 1 to REPLY_MAX_LINES lines, each carrying the same basic and enhanced
 *     code (libmilter writes "NNN-X.Y.Z " before every line but the last);
 *   - each wire line ("NNN-X.Y.Z " + text + CRLF) at most REPLY_WIRE_MAX
 *     octets, long text wrapped at spaces (a word longer than a line is cut);
 *   - only printable ASCII: CR, LF and TAB become a space, other control
 *     bytes and bytes >= 0x80 become '?';
 *   - every '%' doubled (Sendmail reads reply text as a printf format and
 *     Postfix turns "%%" back into "%"), so the client sees one '%';
 *   - more than REPLY_MAX_LINES lines: the last line says how many lines were
 *     cut ("(reply truncated: N more lines)"), never a silent cut;
 *   - no text at all (or only blanks): the registry's sample text for the
 *     enhanced code, so a reply never has zero lines or an empty text.
 */
#ifndef RCM_REPLY_H
#define RCM_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/codes.h"

#define REPLY_MAX_LINES 32 /* libmilter's MAXREPLIES */
#define REPLY_WIRE_MAX 512 /* RFC 5321 4.5.3.1.5, code and CRLF included */
#define REPLY_ESCAPED_MAX 980 /* libmilter's MAXREPLYLEN for one text line */

struct reply {
	char basic[4];	   /* "550" */
	char enhanced[12]; /* "5.7.1" */
	size_t nlines;	   /* 1..REPLY_MAX_LINES once rendered */
	bool wrapped;	   /* a line was longer than the wire allows */
	bool truncated;	   /* lines were cut and the marker line added */
	size_t cut_lines;  /* how many lines the marker says were cut */
	char line[REPLY_MAX_LINES][REPLY_ESCAPED_MAX + 1]; /* '%' doubled */
};

/*
 * Render text lines (NUL-terminated, untrusted, any length) for the code
 * pair rc, which must have a basic code 400..599 and an enhanced code of
 * the same class (codes_check() guarantees it for loaded rules; on a pair
 * that breaks this, -1 and err say why). reserve_first keeps that many
 * octets free on the first line, for an MTA that puts something in front of
 * it (Sendmail adds "<address>... " to MAIL and RCPT replies).
 * Returns 0, or -1 with err filled.
 */
int reply_render(const struct reply_code *rc, const char *const *text,
		 size_t ntext, size_t reserve_first, struct reply *out,
		 char *err, size_t errlen);

/*
 * Sendmail writes "<address>... " before the first line of a 450, 550 or
 * 553 reply to MAIL or RCPT (sendmail/err.c, fmtmsg(): only the codes 050,
 * 250, 252, 450, 550 and 553 get it), with the address cut to at most
 * MAXSHORTSTR = 203 octets by shortenstring(). reply_prefix_room() is the
 * room that prefix takes for an address of addrlen octets as the client
 * wrote it, angle brackets included ("<a@b.example>", as the MTA hands it
 * to the milter), 0 where Sendmail adds none; at most
 * REPLY_SENDMAIL_PREFIX_MAX.
 */
#define REPLY_SENDMAIL_ADDR_MAX 203
#define REPLY_SENDMAIL_PREFIX_MAX (REPLY_SENDMAIL_ADDR_MAX + 4)
size_t reply_prefix_room(int basic, enum smtp_cmd cmd, size_t addrlen);

/*
 * How many wire lines one text line takes with rc's codes, exactly as
 * reply_render() wraps it when it is the first text line and
 * reserve_first octets are kept on the first wire line (0 for a later
 * text line). No limit of REPLY_MAX_LINES: the caller compares.
 */
size_t reply_wire_lines(const struct reply_code *rc, const char *text,
			size_t reserve_first);

/*
 * An upper bound of reply_wire_lines() for any text of len octets
 * (whatever its spaces and '%'), for text whose placeholders are not yet
 * known. Always at least 1.
 */
size_t reply_lines_bound(const struct reply_code *rc, size_t len,
			 size_t reserve_first);

/*
 * Make an untrusted value (a HELO name, an address, a header) fit to
 * substitute into reply text or a log line: at most maxlen octets of it are
 * kept (then "..." marks the cut), control bytes and bytes >= 0x80 become
 * '?'. Writes a NUL-terminated string to out (outlen must be > maxlen + 3)
 * and returns its length. NUL bytes inside in[0..inlen) are handled.
 */
size_t reply_sanitize_value(const char *in, size_t inlen, char *out,
			    size_t outlen, size_t maxlen);

/*
 * Check literal reply text from a config file: returns 0 when every byte is
 * printable ASCII or a space, -1 with err naming the first bad byte and its
 * position otherwise. Non-ASCII text is refused at load rather than sent.
 */
int reply_text_check(const char *text, char *err, size_t errlen);

/*
 * The reply as the client will see it, for logs: lines joined by " | ",
 * '%' single, e.g. "550-5.7.1 first | 550 5.7.1 second". Returns the length
 * snprintf would have written.
 */
int reply_format_wire(const struct reply *r, char *buf, size_t buflen);

#endif
