/*
 * listfile.c - read list files (one entry a line) for the config loader.
 * The format is described in listfile.h.
 *
 * listfile_load() reads the file whole and splits it in place, so a
 * million-line file costs one read and one pass; listfile_read() and
 * listfile_scan() read it in pieces of whole lines, in bounded memory. Used at
 * config load only; never logs, never exits, reports "PATH:LINE: message"
 * through the caller's buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/listfile.h"

static void seterr(char *err, size_t errlen, const char *path, int line,
		   const char *msg)
{
	if (errlen == 0)
		return;
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
}

/* Open a list file: an fd, or -1 with err filled; *st filled. */
static int open_list(const char *path, struct stat *st, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		seterr(err, errlen, path, 0, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0) {
		seterr(err, errlen, path, 0, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		seterr(err, errlen, path, 0, strerror(EISDIR));
		close(fd);
		return -1;
	}
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > LISTFILE_SIZE_MAX) {
		seterr(err, errlen, path, 0, "file too large");
		close(fd);
		return -1;
	}
	return fd;
}

/* Read the whole file into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf;
	int fd;

	if ((fd = open_list(path, &st, err, errlen)) < 0)
		return NULL;
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	buf = malloc(cap);
	if (buf == NULL) {
		seterr(err, errlen, path, 0, "out of memory");
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;
		if (len + 1 >= cap) {
			char *nb;
			size_t ncap = cap * 2;
			if (len > LISTFILE_SIZE_MAX) {
				seterr(err, errlen, path, 0, "file too large");
				goto fail;
			}
			/* never more than the limit and room to see it passed
			 */
			if (ncap > LISTFILE_SIZE_MAX + 2)
				ncap = LISTFILE_SIZE_MAX + 2;
			nb = realloc(buf, ncap);
			if (nb == NULL) {
				seterr(err, errlen, path, 0, "out of memory");
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, path, 0, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > LISTFILE_SIZE_MAX) {
		seterr(err, errlen, path, 0, "file too large");
		goto fail;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/*
 * Split buf in place and call each(ctx, entry, line) per entry; each
 * returns 0 or -1 (stop, with err already filled). Returns the number of
 * entries or -1.
 */
typedef int (*each_fn)(void *ctx, char *entry, int line, char *err,
		       size_t errlen);

static int parse(const char *path, char *buf, size_t len, int *linep,
		 each_fn each, void *ctx, char *err, size_t errlen)
{
	char *p = buf, *end = buf + len;
	int line = *linep, count = 0;

	if (line == 0 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl != NULL ? nl : end;
		line++;
		if (e > p && e[-1] == '\r')
			e--;
		if ((size_t)(e - p) > LISTFILE_LINE_MAX) {
			char msg[64];
			snprintf(msg, sizeof(msg), "line longer than %d octets",
				 LISTFILE_LINE_MAX);
			seterr(err, errlen, path, line, msg);
			return -1;
		}
		if (memchr(p, '\0', (size_t)(e - p)) != NULL) {
			seterr(err, errlen, path, line,
			       "line contains a NUL octet");
			return -1;
		}
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (p < e && *p != '#') {
			*e = '\0';
			if (each(ctx, p, line, err, errlen) < 0)
				return -1;
			count++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	*linep = line;
	return count;
}

/* listfile_read: hand each entry to the caller's add. */
struct read_ctx {
	const char *path;
	listfile_add_fn add;
	void *ctx;
};

static int read_each(void *arg, char *entry, int line, char *err, size_t errlen)
{
	struct read_ctx *rc = arg;
	char msg[512];

	msg[0] = '\0';
	if (rc->add(rc->ctx, entry, msg, sizeof(msg)) == 0)
		return 0;
	seterr(err, errlen, rc->path, line,
	       msg[0] != '\0' ? msg : "invalid entry");
	return -1;
}

/*
 * Read path in pieces of whole lines and call each per entry: memory is
 * READ_CHUNK plus room for the longest line, whatever the file's size.
 */
#define READ_CHUNK 65536
#define READ_BUF   (READ_CHUNK + 2 * (LISTFILE_LINE_MAX + 2))

static int read_file(const char *path, each_fn each, void *ctx, char *err,
		     size_t errlen)
{
	struct stat st;
	size_t have = 0;
	uint64_t total = 0;
	int fd, line = 0, count = 0;
	char *buf;

	if (errlen > 0)
		err[0] = '\0';
	if (path == NULL || each == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no list file");
		return -1;
	}
	if ((fd = open_list(path, &st, err, errlen)) < 0)
		return -1;
	if ((buf = malloc(READ_BUF)) == NULL) {
		seterr(err, errlen, path, 0, "out of memory");
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + have, READ_BUF - 1 - have);
		size_t upto;
		char *nl;
		int n;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			seterr(err, errlen, path, 0, strerror(errno));
			goto fail;
		}
		total += (uint64_t)r;
		if (total > LISTFILE_SIZE_MAX) {
			seterr(err, errlen, path, 0, "file too large");
			goto fail;
		}
		have += (size_t)r;
		/* Whole lines only, but for the last one, and a line that
		 * fills the buffer (too long: parse says so). parse may
		 * write a NUL at buf[upto]: there is room (have < READ_BUF),
		 * and only when upto == have. */
		nl = r == 0 ? NULL : memrchr(buf, '\n', have);
		upto = nl != NULL ? (size_t)(nl - buf) + 1 : have;
		if (r > 0 && nl == NULL && have < READ_BUF - 1)
			continue;
		n = parse(path, buf, upto, &line, each, ctx, err, errlen);
		if (n < 0)
			goto fail;
		count += n;
		if (r == 0)
			break;
		memmove(buf, buf + upto, have - upto);
		have -= upto;
	}
	free(buf);
	close(fd);
	return count;
fail:
	free(buf);
	close(fd);
	return -1;
}

int listfile_read(const char *path, listfile_add_fn add, void *ctx, char *err,
		  size_t errlen)
{
	struct read_ctx rc = {path, add, ctx};

	if (add == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no list file");
		return -1;
	}
	return read_file(path, read_each, &rc, err, errlen);
}

/* listfile_scan: hand each entry and its line to the caller. */
struct scan_ctx {
	listfile_each_fn each;
	void *ctx;
};

static int scan_each(void *arg, char *entry, int line, char *err, size_t errlen)
{
	struct scan_ctx *sc = arg;

	if (sc->each(sc->ctx, entry, line) == 0)
		return 0;
	if (errlen > 0)
		err[0] = '\0';
	return -1;
}

int listfile_scan(const char *path, listfile_each_fn each, void *ctx, char *err,
		  size_t errlen)
{
	struct scan_ctx sc = {each, ctx};

	if (each == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no list file");
		return -1;
	}
	return read_file(path, scan_each, &sc, err, errlen);
}

/* listfile_load: keep the entries. */
static int load_each(void *arg, char *entry, int line, char *err, size_t errlen)
{
	struct listfile *lf = arg;
	struct listfile_entry *ne;
	size_t ncap;

	/* Grow at powers of two: n is one when n & (n - 1) is 0. */
	if (lf->n == 0 || (lf->n >= 16 && (lf->n & (lf->n - 1)) == 0)) {
		ncap = lf->n == 0 ? 16 : lf->n * 2;
		ne = realloc(lf->entries, ncap * sizeof(*ne));
		if (ne == NULL) {
			seterr(err, errlen, lf->path, line, "out of memory");
			return -1;
		}
		lf->entries = ne;
	}
	lf->entries[lf->n].text = entry;
	lf->entries[lf->n].line = line;
	lf->n++;
	return 0;
}

struct listfile *listfile_load(const char *path, char *err, size_t errlen)
{
	struct listfile *lf;
	size_t len;
	int line = 0;

	if (errlen > 0)
		err[0] = '\0';
	if (path == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no list file");
		return NULL;
	}
	lf = calloc(1, sizeof(*lf));
	if (lf == NULL || (lf->path = strdup(path)) == NULL) {
		free(lf);
		seterr(err, errlen, path, 0, "out of memory");
		return NULL;
	}
	lf->data = slurp(path, &len, err, errlen);
	if (lf->data == NULL ||
	    parse(path, lf->data, len, &line, load_each, lf, err, errlen) < 0) {
		listfile_free(&lf);
		return NULL;
	}
	return lf;
}

void listfile_free(struct listfile **lf)
{
	if (lf == NULL || *lf == NULL)
		return;
	free((*lf)->entries);
	free((*lf)->data);
	free((*lf)->path);
	free(*lf);
	*lf = NULL;
}
