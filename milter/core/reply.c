/*
 * reply.c - rendering reply text for smfi_setmlreply (see reply.h).
 *
 * Never allocates and never logs: everything lands in the caller's
 * struct reply. Untrusted text is read byte by byte through san(), so no
 * control byte, no non-ASCII byte and no lone '%' can reach the wire.
 */
#include <stdio.h>
#include <string.h>

#include "core/reply.h"

/* What a byte of untrusted text becomes on the wire. */
static char san(unsigned char c)
{
	if (c == '\t' || c == '\r' || c == '\n')
		return ' ';
	if (c < 0x20 || c >= 0x7f)
		return '?';
	return (char)c;
}

size_t reply_sanitize_value(const char *in, size_t inlen, char *out,
			    size_t outlen, size_t maxlen)
{
	size_t n = 0, keep = inlen;

	if (outlen == 0)
		return 0;
	/* Room for "..." and the NUL; no "maxlen + 4", which can wrap. */
	if (outlen < 4)
		maxlen = 0;
	else if (maxlen > outlen - 4)
		maxlen = outlen - 4;
	if (keep > maxlen)
		keep = maxlen;
	for (; n < keep; n++)
		out[n] = san((unsigned char)in[n]);
	if (inlen > keep && outlen > n + 3) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return n;
}

int reply_text_check(const char *text, char *err, size_t errlen)
{
	for (size_t i = 0; text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c >= 0x7f) {
			snprintf(err, errlen,
				 "byte 0x%02x at position %zu: only printable "
				 "ASCII is allowed",
				 c, i + 1);
			return -1;
		}
	}
	return 0;
}

/* Store one wire line (sanitised bytes s[0..n)) with '%' doubled. */
static void put_line(struct reply *r, const char *s, size_t n)
{
	char *d = r->line[r->nlines];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = san((unsigned char)s[i]);
		d[o++] = c;
		if (c == '%')
			d[o++] = '%';
	}
	d[o] = '\0';
	r->nlines++;
}

/*
 * How many bytes of s[0..n) fit one line of room wire octets, whose
 * escaped form must also fit REPLY_ESCAPED_MAX. Prefers a cut at a space.
 * *skip is set to the bytes to skip after the cut (the run of blanks
 * there), so the next line never starts with a blank.
 */
static size_t fit(const char *s, size_t n, size_t room, size_t *skip)
{
	size_t take = 0, esc = 0, space = 0;

	*skip = 0;
	while (take < n && take < room) {
		size_t w = san((unsigned char)s[take]) == '%' ? 2 : 1;
		if (esc + w > REPLY_ESCAPED_MAX)
			break;
		esc += w;
		take++;
	}
	if (take == n)
		return take;
	/* s[take] does not fit: cut at the last space in s[0..take]. */
	for (size_t i = take + 1; i-- > 1;) {
		if (san((unsigned char)s[i]) == ' ') {
			space = i;
			break;
		}
	}
	if (space > 0)
		take = space;
	while (take + *skip < n && san((unsigned char)s[take + *skip]) == ' ')
		(*skip)++;
	return take;
}

static bool blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (san((unsigned char)*s) != ' ')
			return false;
	return true;
}

static const char *fallback_text(const struct reply_code *rc)
{
	const struct enhanced_info *e =
		codes_enhanced(rc->enh_subject, rc->enh_detail);
	const struct basic_info *b = codes_basic(rc->basic);

	if (e != NULL && e->sample != NULL && e->sample[0] != '\0')
		return e->sample;
	if (b != NULL && b->meaning != NULL)
		return b->meaning;
	return rc->basic >= 500 ? "Command rejected" : "Try again later";
}

/*
 * Text the first line keeps whatever reserve_first asks. An MTA prefix
 * longer than room - FIRST_LINE_MIN can only come from an address longer
 * than RFC 5321 allows (a path is at most 256 octets), so any reserve a
 * legal address needs is honoured in full.
 */
#define FIRST_LINE_MIN 100

/* Octets of text a wire line holds: "550-5.7.1 " before it, CRLF after. */
static size_t line_room(const struct reply_code *rc)
{
	char e[16];

	codes_format_enhanced(rc, e, sizeof(e));
	return REPLY_WIRE_MAX - 2 - 3 - 1 - strlen(e) - 1;
}

static size_t first_room(size_t room, size_t reserve_first)
{
	return reserve_first <= room - FIRST_LINE_MIN ? room - reserve_first
						       : FIRST_LINE_MIN;
}

/* Emit one text line, wrapped, counting what does not fit in *cut. */
static void emit(struct reply *r, const char *s, size_t room,
		 size_t reserve_first, size_t *cut)
{
	size_t n = strlen(s);

	do {
		size_t skip, lim = room, take;
		if (r->nlines == 0 && *cut == 0)
			lim = first_room(room, reserve_first);
		take = fit(s, n, lim, &skip);
		if (take < n)
			r->wrapped = true;
		if (r->nlines < REPLY_MAX_LINES)
			put_line(r, s, take);
		else
			(*cut)++;
		s += take + skip;
		n -= take + skip;
	} while (n > 0);
}

size_t reply_prefix_room(int basic, enum smtp_cmd cmd, size_t addrlen)
{
	if (cmd != CMD_MAIL && cmd != CMD_RCPT)
		return 0;
	if (basic != 450 && basic != 550 && basic != 553)
		return 0;
	/* the address as the client wrote it, shortened, then "... " */
	if (addrlen > REPLY_SENDMAIL_ADDR_MAX)
		addrlen = REPLY_SENDMAIL_ADDR_MAX;
	return addrlen + 4;
}

size_t reply_wire_lines(const struct reply_code *rc, const char *text,
			size_t reserve_first)
{
	size_t room = line_room(rc), n = strlen(text), lines = 0;
	size_t lim = first_room(room, reserve_first);

	do {
		size_t skip, take = fit(text, n, lim, &skip);
		lines++;
		text += take + skip;
		n -= take + skip;
		lim = room;
	} while (n > 0);
	return lines;
}

/*
 * Why the bound holds: a line that is not the last takes at least
 * t = min(its room, REPLY_ESCAPED_MAX / 2) octets before it looks for a
 * space to cut at, and the octets from that space to where it stopped hold
 * no space, so the next line ends beyond that point. Two lines in a row
 * thus take at least t + 1 octets, and k lines of a text of len octets
 * need floor(k / 2) * (t + 1) <= len.
 */
size_t reply_lines_bound(const struct reply_code *rc, size_t len,
			 size_t reserve_first)
{
	size_t room = line_room(rc), t = first_room(room, reserve_first);

	if (t > REPLY_ESCAPED_MAX / 2)
		t = REPLY_ESCAPED_MAX / 2;
	if (len <= t)
		return 1;
	return 2 * (len / (t + 1)) + 1;
}

int reply_render(const struct reply_code *rc, const char *const *text,
		 size_t ntext, size_t reserve_first, struct reply *out,
		 char *err, size_t errlen)
{
	size_t room, cut = 0;
	bool all_blank = true;

	if (rc->basic < 400 || rc->basic > 599) {
		snprintf(err, errlen,
			 "reply code %d is not a 4xx or 5xx failure code",
			 rc->basic);
		return -1;
	}
	if (rc->enh_class != rc->basic / 100) {
		snprintf(err, errlen,
			 "enhanced code class %d does not match reply code %d",
			 rc->enh_class, rc->basic);
		return -1;
	}
	/* libmilter refuses more than 3 digits, and enhanced[] holds 3. */
	if (rc->enh_subject < 0 || rc->enh_subject > 999 ||
	    rc->enh_detail < 0 || rc->enh_detail > 999) {
		snprintf(err, errlen,
			 "enhanced code subject %d or detail %d is not 0..999",
			 rc->enh_subject, rc->enh_detail);
		return -1;
	}
	out->nlines = 0;
	out->wrapped = false;
	out->truncated = false;
	out->cut_lines = 0;
	snprintf(out->basic, sizeof(out->basic), "%d", rc->basic);
	codes_format_enhanced(rc, out->enhanced, sizeof(out->enhanced));

	room = line_room(rc);

	for (size_t i = 0; i < ntext; i++)
		if (text[i] != NULL && !blank(text[i]))
			all_blank = false;
	if (all_blank) {
		emit(out, fallback_text(rc), room, reserve_first, &cut);
	} else {
		for (size_t i = 0; i < ntext; i++)
			emit(out, text[i] != NULL ? text[i] : "", room,
			     reserve_first, &cut);
	}
	if (cut > 0) {
		/* The marker takes the place of the last line kept. */
		char mark[64];
		out->truncated = true;
		out->cut_lines = cut + 1;
		snprintf(mark, sizeof(mark), "(reply truncated: %zu more lines)",
			 out->cut_lines);
		out->nlines = REPLY_MAX_LINES - 1;
		put_line(out, mark, strlen(mark));
	}
	return 0;
}

/* Append one byte to buf, counting what would have been written. */
static void app(char *buf, size_t buflen, size_t *total, char c)
{
	if (*total + 1 < buflen)
		buf[*total] = c;
	(*total)++;
}

static void app_str(char *buf, size_t buflen, size_t *total, const char *s)
{
	for (; *s != '\0'; s++)
		app(buf, buflen, total, *s);
}

int reply_format_wire(const struct reply *r, char *buf, size_t buflen)
{
	size_t total = 0;

	for (size_t i = 0; i < r->nlines; i++) {
		if (i > 0)
			app_str(buf, buflen, &total, " | ");
		app_str(buf, buflen, &total, r->basic);
		app(buf, buflen, &total, i + 1 < r->nlines ? '-' : ' ');
		app_str(buf, buflen, &total, r->enhanced);
		app(buf, buflen, &total, ' ');
		/* The stored text has '%' doubled: print it single. */
		for (const char *p = r->line[i]; *p != '\0'; p++) {
			if (p[0] == '%' && p[1] == '%')
				p++;
			app(buf, buflen, &total, *p);
		}
	}
	if (buflen > 0)
		buf[total < buflen ? total : buflen - 1] = '\0';
	return (int)total;
}
