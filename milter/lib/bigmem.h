/*
 * bigmem.h - zeroed memory for the big hash tables of the sets (slots
 * looked up at random): from 2 MiB on, its own mapping, aligned to 2 MiB
 * and advised to the kernel as huge pages (madvise MADV_HUGEPAGE: used
 * when transparent huge pages are "always" or "madvise"). A lookup in a
 * table far bigger than the caches then misses the cache once, not the
 * cache and the TLB: a million-entry set spans a few dozen huge pages,
 * not thousands of small ones. Smaller blocks come from malloc
 * (posix_memalign). Every block starts on a cache line (64 octets): a
 * filter block (bloom.h) or a run of slots is never cut in two.
 */
#ifndef RCM_BIGMEM_H
#define RCM_BIGMEM_H

#include <stddef.h>

/* n elements of size octets, zeroed; NULL when memory runs out (or n *
 * size overflows). Free with bigmem_free and the same n and size. */
void *bigmem_calloc(size_t n, size_t size);

/* Free p (NULL is fine) as allocated by bigmem_calloc(n, size). */
void bigmem_free(void *p, size_t n, size_t size);

#endif
