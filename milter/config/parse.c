/*
 * parse.c - small value parsers of the config: names, sizes, modes, header
 * field names. Pure functions of their text: no loader, no findings, no
 * libconfuse; the callers say what is wrong and where.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "config/loader.h"

bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int mode_parse(const char *s, enum rule_mode *out)
{
	if (strcmp(s, "enforce") == 0)
		*out = MODE_ENFORCE;
	else if (strcmp(s, "dry-run") == 0)
		*out = MODE_DRY_RUN;
	else
		return -1;
	return 0;
}

/* An RFC 5322 field name: printable ASCII but ':' and space. */
bool field_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == ':')
			return false;
	return true;
}
