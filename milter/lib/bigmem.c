/*
 * bigmem.c - zeroed tables, huge pages advised from 2 MiB on (bigmem.h).
 * Never logs, never exits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/bigmem.h"

#define HUGE_PAGE  ((size_t)2 * 1024 * 1024)
#define CACHE_LINE ((size_t)64)

/* The octets of a block of n * size, rounded to huge pages; 0 when it is
 * small enough for malloc, SIZE_MAX when n * size overflows. */
static size_t mapped_size(size_t n, size_t size)
{
	size_t b;

	if (size != 0 && n > SIZE_MAX / size)
		return SIZE_MAX;
	b = n * size;
	if (b < HUGE_PAGE)
		return 0;
	if (b > SIZE_MAX - HUGE_PAGE)
		return SIZE_MAX;
	return (b + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *bigmem_calloc(size_t n, size_t size)
{
	size_t len = mapped_size(n, size), head, tail;
	uintptr_t start;
	char *p;
	void *q;

	if (len == 0) {
		/* small: from malloc, aligned to a cache line */
		if (posix_memalign(&q, CACHE_LINE, n * size) != 0)
			return NULL;
		return memset(q, 0, n * size);
	}
	if (len == SIZE_MAX || len > SIZE_MAX - HUGE_PAGE)
		return NULL;
	/* map one huge page more, then cut it to an aligned block */
	p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	head = start - (uintptr_t)p;
	tail = HUGE_PAGE - head;
	if (head > 0)
		munmap(p, head);
	if (tail > 0)
		munmap((char *)start + len, tail);
	/* advice only: without transparent huge pages, small pages */
	(void)madvise((void *)start, len, MADV_HUGEPAGE);
	return (void *)start;
}

void bigmem_free(void *p, size_t n, size_t size)
{
	size_t len = mapped_size(n, size);

	if (p == NULL)
		return;
	if (len == 0)
		free(p);
	else
		munmap(p, len);
}
