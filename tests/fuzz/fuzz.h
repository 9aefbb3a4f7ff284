/*
 * fuzz.h - what the fuzz targets in tests/fuzz share: the libFuzzer entry
 * point's prototype, a reader that takes bytes off the front of an input,
 * scratch files for targets whose parser reads a file, and checks of the
 * promises a rendered reply makes (reply.h).
 *
 * A broken promise calls fuzz_fail(), which says what it found and aborts,
 * so libFuzzer and the standalone runner both report it as a crash. Never
 * used by the milter itself.
 */
#ifndef RCM_FUZZ_H
#define RCM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((format(printf, 3, 4), noreturn)) void
fuzz_fail(const char *file, int line, const char *fmt, ...);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);            \
	} while (0)

/* Bytes taken off the front of an input; 0 once it is used up. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);

/* A NUL-terminated malloc'd copy of p[0..n) (aborts when memory runs out). */
char *fuzz_strndup(const uint8_t *p, size_t n);

/*
 * Split buf in place at every sep byte into at most max strings; the rest
 * of buf after the last split stays in the last one. Returns the count.
 */
size_t fuzz_split(char *buf, size_t len, char sep, char **out, size_t max);

/*
 * A private directory made once per process (removed at exit), and a file
 * in it written with exactly p[0..n). Both abort on failure: a fuzz run
 * that cannot write its scratch file tests nothing.
 */
const char *fuzz_dir(void);
void fuzz_write(const char *path, const uint8_t *p, size_t n);

/*
 * Check every promise of reply.h on a rendered reply; reserve_first as
 * given to reply_render. Also checks reply_format_wire against it.
 */
void fuzz_check_reply(const struct reply *r, size_t reserve_first);

/* What reply.c makes of one byte of untrusted text (from reply.h). */
char fuzz_san(unsigned char c);

#endif
