/*
 * quote.c - match_quote() (see quote.h). Depends on nothing else here.
 */
#include "lib/quote.h"

void match_quote(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t o = 0, max = 64;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < inlen && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (i == max) {
			for (int d = 0; d < 3 && o + 1 < outlen; d++)
				out[o++] = '.';
			break;
		}
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}
