/*
 * fuzz_util.c - helpers shared by the fuzz targets (see fuzz.h).
 *
 * Test code only: aborts on any failure of its own, never touches a file
 * outside the private directory it makes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: broken invariant at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = in->p[0];
	in->p++;
	in->n--;
	return b;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v | (uint16_t)fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = fuzz_u16(in);

	return v | (uint32_t)fuzz_u16(in) << 16;
}

char *fuzz_strndup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

size_t fuzz_split(char *buf, size_t len, char sep, char **out, size_t max)
{
	size_t n = 0, start = 0;

	if (max == 0)
		return 0;
	for (size_t i = 0; i < len && n + 1 < max; i++) {
		if (buf[i] != sep)
			continue;
		buf[i] = '\0';
		out[n++] = buf + start;
		start = i + 1;
	}
	out[n++] = buf + start;
	return n;
}

static char dir[256];

static void dir_remove(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

const char *fuzz_dir(void)
{
	const char *tmp;

	if (dir[0] != '\0')
		return dir;
	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/rcm-fuzz.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(dir_remove);
	return dir;
}

void fuzz_write(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror("fuzz: open scratch file");
		abort();
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			perror("fuzz: write scratch file");
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0)
		abort();
}

char fuzz_san(unsigned char c)
{
	if (c == '\t' || c == '\r' || c == '\n')
		return ' ';
	if (c < 0x20 || c >= 0x7f)
		return '?';
	return (char)c;
}

/* "d", "dd" or "ddd" without a leading zero (a lone "0" is fine). */
static bool number_part(const char *s, size_t n)
{
	if (n < 1 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void check_codes(const struct reply *r)
{
	const char *e = r->enhanced, *d1, *d2;

	FUZZ_CHECK(strnlen(r->basic, sizeof(r->basic)) == 3 &&
			   (r->basic[0] == '4' || r->basic[0] == '5') &&
			   number_part(r->basic, 3),
		   "basic code \"%.4s\" is not 4xx or 5xx", r->basic);
	FUZZ_CHECK(strnlen(e, sizeof(r->enhanced)) < sizeof(r->enhanced),
		   "enhanced code not NUL-terminated");
	d1 = strchr(e, '.');
	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	FUZZ_CHECK(d1 != NULL && d2 != NULL && d1 - e == 1 &&
			   e[0] == r->basic[0] &&
			   number_part(d1 + 1, (size_t)(d2 - d1 - 1)) &&
			   number_part(d2 + 1, strlen(d2 + 1)),
		   "enhanced code \"%s\" is not %c.x.x", e, r->basic[0]);
}

void fuzz_check_reply(const struct reply *r, size_t reserve_first)
{
	size_t prefix, room, lim0, want_wire = 0;
	char *wire;
	int got;

	check_codes(r);
	FUZZ_CHECK(r->nlines >= 1 && r->nlines <= REPLY_MAX_LINES,
		   "%zu lines, want 1..%d", r->nlines, REPLY_MAX_LINES);
	prefix = strlen(r->basic) + 1 + strlen(r->enhanced) + 1;
	room = REPLY_WIRE_MAX - 2 - prefix;
	lim0 = reserve_first <= room - 100 ? room - reserve_first : 100;
	for (size_t i = 0; i < r->nlines; i++) {
		const char *l = r->line[i];
		size_t esc = strnlen(l, sizeof(r->line[i])), plain = 0;
		FUZZ_CHECK(esc <= REPLY_ESCAPED_MAX,
			   "line %zu: %zu octets escaped, want <= %d", i, esc,
			   REPLY_ESCAPED_MAX);
		for (size_t k = 0; k < esc; k++, plain++) {
			unsigned char c = (unsigned char)l[k];
			FUZZ_CHECK(c >= 0x20 && c < 0x7f,
				   "line %zu: byte 0x%02x at %zu", i, c, k);
			if (c == '%') {
				FUZZ_CHECK(l[k + 1] == '%',
					   "line %zu: lone '%%' at %zu", i, k);
				k++;
			}
		}
		FUZZ_CHECK(prefix + plain + 2 <= REPLY_WIRE_MAX,
			   "line %zu: %zu wire octets, want <= %d", i,
			   prefix + plain + 2, REPLY_WIRE_MAX);
		if (i == 0)
			FUZZ_CHECK(plain <= lim0,
				   "first line: %zu octets of text with "
				   "reserve %zu, want <= %zu",
				   plain, reserve_first, lim0);
		want_wire += (i > 0 ? 3 : 0) + prefix + plain;
	}
	FUZZ_CHECK(r->truncated == (r->cut_lines > 0),
		   "truncated %d but cut_lines %zu", r->truncated,
		   r->cut_lines);
	if (r->truncated) {
		char mark[64];
		snprintf(mark, sizeof(mark), "(reply truncated: %zu more lines)",
			 r->cut_lines);
		FUZZ_CHECK(r->nlines == REPLY_MAX_LINES &&
				   strcmp(r->line[r->nlines - 1], mark) == 0,
			   "truncated reply ends in \"%s\" after %zu lines, "
			   "want \"%s\" after %d",
			   r->line[r->nlines - 1], r->nlines, mark,
			   REPLY_MAX_LINES);
	}

	/* The log form: exact length, NUL-terminated at any buffer size. */
	wire = malloc(want_wire + 1);
	if (wire == NULL)
		abort();
	got = reply_format_wire(r, wire, want_wire + 1);
	FUZZ_CHECK(got >= 0 && (size_t)got == want_wire &&
			   strlen(wire) == want_wire,
		   "reply_format_wire gave %d (strlen %zu), want %zu", got,
		   strlen(wire), want_wire);
	free(wire);
	for (size_t len = 0; len < 3; len++) {
		char small[3] = {'x', 'x', 'x'};
		got = reply_format_wire(r, small, len);
		FUZZ_CHECK((size_t)got == want_wire &&
				   (len == 0 || strnlen(small, len) < len),
			   "reply_format_wire into %zu octets: %d, want %zu",
			   len, got, want_wire);
	}
}
