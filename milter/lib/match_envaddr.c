/*
 * match_envaddr.c - envelope addresses (MAIL FROM, RCPT TO) read the way
 * Postfix reads them, into the one normal form every rule matches.
 *
 * The MTA gives the milter the client's own spelling ("u@d>", "<<u@d>>",
 * "<\"v\"@d>", "< v@d>") and delivers to what its own parser makes of it,
 * so a rule must see the latter. What Postfix 3.7 does, read in its source
 * (none of it copied here):
 *   - smtpd/smtpd.c, extract_addr(): one pair of <> around the whole
 *     argument is removed, then a source route "@a,@b:" up to the first
 *     ':'; global/tok822_parse.c splits the rest into atoms, quoted
 *     strings, domain literals, comments (dropped) and operators, and
 *     groups them into addresses (one address, or smtpd refuses it);
 *     tok822_internalize() joins the tokens of the address unquoted;
 *   - cleanup's canonical rewrite (trivial-rewrite/rewrite.c,
 *     rewrite_tree()), on the form global/quote_822_local.c makes of it:
 *     a source route is dropped, "d!u" becomes "u@d" (swap_bangpath) and
 *     else "u%d" becomes "u@d" (allow_percent_hack) when there is no '@',
 *     and one trailing dot of the domain goes;
 *   - the local part is the text before the LAST '@' of the unquoted form
 *     (quote_822_local()), quoted again only when it is not a dot-string.
 * What is not followed: Postfix's settings other than the defaults named
 * above, and what depends on the MTA's own domains (appending $myorigin to
 * "u", resolving "u%d@local-domain" again). Forms that Postfix reads in a
 * way this parser does not follow with certainty (two words side by side,
 * unbalanced quotes or brackets, a malformed domain) are errors, never a
 * guess: the caller then fails closed.
 *
 * Never logs, never allocates, never exits; input is hostile and bounded.
 */
#include <stdio.h>
#include <string.h>

#include "lib/match.h"

#define SPECIALS "()<>@,;:\\\".[]" /* RFC 822 specials (lex_822.h) */
#define ROUTING	 "%!|"		   /* Postfix's extra operators */

enum tok_kind { T_WORD, T_LITERAL, T_OP };

struct tok {
	unsigned char kind;
	char op;	   /* T_OP */
	unsigned short at; /* T_WORD, T_LITERAL: value at lex.val + at */
	unsigned short len;
};

struct lex {
	struct tok tok[ENVADDR_MAX];
	size_t ntok;
	char val[ENVADDR_MAX + 1]; /* unquoted values of words and literals */
	size_t nval;
	const char *why; /* the error, when lexing failed */
};

static bool blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int fail(struct lex *lx, const char *why)
{
	lx->why = why;
	return -1;
}

static void put(struct lex *lx, unsigned char c)
{
	/* Never more values than input octets (ENVADDR_MAX at most). */
	lx->val[lx->nval++] = blank(c) ? ' ' : (char)c;
}

/*
 * Tokens of [p, e), the way tok822_scan() cuts them: blanks separate,
 * a backslash quotes the next octet (also in an atom), quoted strings and
 * domain literals are kept unquoted, comments (nested) are dropped. A
 * string, literal or comment left open is an error here (Postfix takes it
 * to the end of the input).
 */
static int lex(struct lex *lx, const char *p, const char *e)
{
	lx->ntok = lx->nval = 0;
	while (p < e) {
		unsigned char c = (unsigned char)*p;
		struct tok *t = &lx->tok[lx->ntok];

		if (blank(c)) {
			p++;
			continue;
		}
		if (c == '(') {
			int depth = 0;
			for (; p < e; p++) {
				if (*p == '\\') {
					if (++p == e)
						break;
					continue;
				}
				if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0)
					break;
			}
			if (p == e)
				return fail(lx, "a comment without its ')'");
			p++;
			continue;
		}
		t->at = (unsigned short)lx->nval;
		if (c == '"' || c == '[') {
			char end = c == '"' ? '"' : ']';
			t->kind = c == '"' ? T_WORD : T_LITERAL;
			for (p++; p < e && *p != end; p++) {
				if (*p == '\\' && ++p == e)
					break;
				if (end == ']' && *p == '[')
					return fail(lx, "a '[' in a domain "
							"literal");
				put(lx, (unsigned char)*p);
			}
			if (p == e)
				return fail(
				    lx, c == '"' ? "a quoted string without "
						   "its closing '\"'"
						 : "a domain literal without "
						   "its ']'");
			p++;
		} else if (c != '\\' && (strchr(SPECIALS, c) != NULL ||
					 strchr(ROUTING, c) != NULL)) {
			if (c == ')' || c == ']')
				return fail(lx, c == ')'
						    ? "a ')' without its '('"
						    : "a ']' without its '['");
			t->kind = T_OP;
			t->op = (char)c;
			p++;
		} else {
			t->kind = T_WORD;
			while (p < e && !blank((unsigned char)*p)) {
				c = (unsigned char)*p;
				if (c == '\\') {
					if (++p == e)
						return fail(lx, "a '\\' at the "
								"end");
				} else if (strchr(SPECIALS, c) != NULL ||
					   strchr(ROUTING, c) != NULL) {
					break;
				}
				put(lx, (unsigned char)*p++);
			}
		}
		t->len = (unsigned short)(lx->nval - t->at);
		lx->ntok++;
	}
	return 0;
}

static bool is_op(const struct tok *t, char op)
{
	return t->kind == T_OP && t->op == op;
}

/*
 * Find the address among the tokens, into [*first, *last): all of them;
 * or the part between '<' and '>' when a phrase of words stands before
 * "<address>" (tok822_parse() keeps "Name <u@d>" as u@d); or all but one
 * '>' at the end (Postfix drops it: "u@d>" is u@d). Any other '<' or '>'
 * is an error.
 */
static int find_address(struct lex *lx, size_t *first, size_t *last)
{
	size_t lt = lx->ntok, gt = lx->ntok, nlt = 0, ngt = 0;

	for (size_t i = 0; i < lx->ntok; i++) {
		if (is_op(&lx->tok[i], '<')) {
			lt = i;
			nlt++;
		} else if (is_op(&lx->tok[i], '>')) {
			gt = i;
			ngt++;
		}
	}
	*first = 0;
	*last = lx->ntok;
	if (nlt == 0 && ngt == 0)
		return 0;
	if (ngt != 1 || nlt > 1 || gt != lx->ntok - 1 || (nlt == 1 && lt > gt))
		return fail(lx, "unbalanced or nested angle brackets");
	*last = gt;
	if (nlt == 0)
		return 0;
	for (size_t i = 0; i < lt; i++)
		if (lx->tok[i].kind != T_WORD && !is_op(&lx->tok[i], '.'))
			return fail(lx, "something other than a name before "
					"'<'");
	*first = lt + 1;
	return 0;
}

/*
 * Drop a source route "@a,@b:" at the start of the address (rewrite_tree()
 * does it on tokens; smtpd has dropped one written first already).
 */
static int drop_route(struct lex *lx, size_t *first, size_t last)
{
	size_t i;

	if (*first == last || !is_op(&lx->tok[*first], '@'))
		return 0;
	for (i = *first; i < last && !is_op(&lx->tok[i], ':'); i++) {
		const struct tok *t = &lx->tok[i];
		if (t->kind == T_OP && t->op != '@' && t->op != ',' &&
		    t->op != '.')
			return fail(lx, "a malformed source route");
	}
	if (i < last)
		*first = i + 1;
	return 0;
}

/*
 * Join the tokens of the address unquoted (tok822_internalize()) into out
 * (at least ENVADDR_MAX + 1 octets). Two words side by side are two
 * addresses to tok822_parse() (smtpd refuses them), ',' separates two and
 * ';' ends a group: errors. Without a ';', tok822_parse() takes a ':' for
 * an operator like '.' (DECnet's "node::user"), and so does this. A domain
 * literal anywhere but as the whole domain ("[a]@d", "u@[a].d") is an
 * error too: it has no meaning there, and the quotes of a local part
 * would have to escape its '"' and '\'.
 */
static int internalize(struct lex *lx, size_t first, size_t last, char *out,
		       size_t *outlen)
{
	size_t o = 0;

	for (size_t i = first; i < last; i++) {
		const struct tok *t = &lx->tok[i];
		if (t->kind == T_OP) {
			if (strchr(".@:" ROUTING, t->op) == NULL)
				return fail(lx, t->op == ',' ? "a ','"
						: t->op == ';'
						    ? "a ';'"
						    : "a '<' or '>'");
			out[o++] = t->op;
			continue;
		}
		if (i > first && lx->tok[i - 1].kind != T_OP)
			return fail(lx, "two words without an operator "
					"between them");
		if (t->kind == T_LITERAL &&
		    (i == first || !is_op(&lx->tok[i - 1], '@') ||
		     (i + 1 < last &&
		      (i + 2 < last || !is_op(&lx->tok[i + 1], '.')))))
			return fail(lx, "a domain literal that is not the "
					"whole domain");
		if (t->kind == T_LITERAL)
			out[o++] = '[';
		memcpy(out + o, lx->val + t->at, t->len);
		o += t->len;
		if (t->kind == T_LITERAL)
			out[o++] = ']';
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* RFC 822 dot-string, as quote_822_local() decides (8-bit is fine). */
static bool dot_string(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c == '.' && s[i + 1] == '.') || c <= ' ' || c == 0x7f ||
		    (c != '.' && strchr(SPECIALS, c) != NULL))
			return false;
	}
	return true;
}

/*
 * Check a domain (not empty, unquoted, one trailing dot already gone):
 * one domain literal "[...]", or labels of atom octets between single
 * dots. Returns NULL, or why not.
 */
static const char *domain_bad(const char *d, size_t n)
{
	if (n == 0)
		return "an empty domain";
	if (d[0] == '[') {
		if (d[n - 1] != ']' || memchr(d + 1, ']', n - 2) != NULL ||
		    memchr(d, ' ', n) != NULL)
			return "a malformed domain literal";
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.' && (i == 0 || i == n - 1 || d[i + 1] == '.'))
			return "an empty label in the domain";
		if (c <= ' ' || c == 0x7f || strchr(ROUTING, c) != NULL ||
		    (c != '.' && strchr(SPECIALS, c) != NULL))
			return "a character that has no place in a domain";
	}
	return NULL;
}

/* Write local (quoted when not a dot-string), '@' and domain into a. */
static int compose(struct envaddr *a, const char *local, size_t ln,
		   const char *domain, size_t dn, bool has_domain)
{
	size_t o = 0, max = sizeof(a->text) - 1;

	if (dot_string(local, ln)) {
		if (ln > max)
			return -1;
		memcpy(a->text, local, ln);
		o = ln;
	} else {
		a->text[o++] = '"';
		for (size_t i = 0; i < ln; i++) {
			if (o + 3 > max)
				return -1;
			if (local[i] == '"' || local[i] == '\\')
				a->text[o++] = '\\';
			a->text[o++] = local[i];
		}
		a->text[o++] = '"';
	}
	a->at = o;
	if (has_domain) {
		if (o + 1 + dn > max)
			return -1;
		a->text[o++] = '@';
		for (size_t i = 0; i < dn; i++) {
			unsigned char c = (unsigned char)domain[i];
			a->text[o++] =
			    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	a->text[o] = '\0';
	a->len = o;
	return 0;
}

static int error(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return -1;
}

int envaddr_parse(const char *in, size_t n, struct envaddr *a, char *err,
		  size_t errlen)
{
	struct lex lx;
	char addr[ENVADDR_MAX + 1];
	const char *p, *e, *colon, *why;
	size_t first, last, len, ln, dn;
	char *local, *domain;
	bool has_domain;

	a->text[0] = '\0';
	a->len = a->at = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (in == NULL)
		return error(err, errlen, "no address");
	if (n > ENVADDR_MAX) {
		char why_long[64];
		snprintf(why_long, sizeof(why_long), "longer than %d octets",
			 ENVADDR_MAX);
		return error(err, errlen, why_long);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return error(err, errlen,
				     c == 0 ? "a NUL octet"
					    : "a control octet");
	}
	p = in;
	e = in + n;
	while (p < e && blank((unsigned char)*p))
		p++;
	while (e > p && blank((unsigned char)e[-1]))
		e--;
	/* extract_addr(): one <> around it all, then "@route:" written first */
	if (e - p >= 2 && p[0] == '<' && e[-1] == '>') {
		p++;
		e--;
	}
	while (p < e && blank((unsigned char)*p))
		p++;
	if (p < e && *p == '@' &&
	    (colon = memchr(p, ':', (size_t)(e - p))) != NULL)
		p = colon + 1;
	if (lex(&lx, p, e) < 0 || find_address(&lx, &first, &last) < 0 ||
	    drop_route(&lx, &first, last) < 0 ||
	    internalize(&lx, first, last, addr, &len) < 0)
		return error(err, errlen, lx.why);
	/*
	 * quote_822_local() leaves "@a:" at the start of the unquoted form
	 * unquoted ("\"@a:u\"@d"), so the rewrite then drops it as a route
	 * (one at each hop, until none is left).
	 */
	while (addr[0] == '@' && (colon = memchr(addr, ':', len)) != NULL) {
		len -= (size_t)(colon + 1 - addr);
		memmove(addr, colon + 1, len + 1);
	}
	/* The null sender; rewrite_tree() reads a lone '@' as it too. */
	if (len == 0 || (len == 1 && addr[0] == '@'))
		return 0;
	domain = memrchr(addr, '@', len);
	has_domain = domain != NULL;
	local = addr;
	if (has_domain) {
		ln = (size_t)(domain - addr);
		*domain++ = '\0';
		dn = len - ln - 1;
	} else if (dot_string(addr, len) &&
		   ((domain = memchr(addr, '!', len)) != NULL ||
		    (domain = memrchr(addr, '%', len)) != NULL)) {
		/* rewrite_tree(): "d!u" is u@d (the first '!'), else "u%d"
		 * is u@d (the last '%'). */
		has_domain = true;
		if (*domain == '!') {
			local = domain + 1;
			*domain = '\0';
			domain = addr;
			ln = len - (size_t)(local - addr);
			dn = (size_t)(local - addr) - 1;
		} else {
			*domain++ = '\0';
			ln = (size_t)(domain - addr) - 1;
			dn = len - ln - 1;
		}
	} else {
		ln = len;
		dn = 0;
	}
	if (has_domain) {
		/* One trailing dot goes, not one after a dot or the '@'. */
		if (dn >= 2 && domain[dn - 1] == '.' && domain[dn - 2] != '.')
			dn--;
		if ((why = domain_bad(domain, dn)) != NULL)
			return error(err, errlen, why);
	}
	if (compose(a, local, ln, domain, dn, has_domain) < 0) {
		a->text[0] = '\0';
		a->len = a->at = 0;
		return error(err, errlen, "too long once quoted");
	}
	return 0;
}

const char *envaddr_domain(const struct envaddr *a)
{
	return a->at < a->len ? a->text + a->at + 1 : "";
}
