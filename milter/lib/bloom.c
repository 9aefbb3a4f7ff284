/*
 * bloom.c - the filters' memory and size (bloom.h); adding and testing
 * are inline in bloom.h. Never logs, never exits.
 */
#include <stdint.h>

#include "lib/bigmem.h"
#include "lib/bloom.h"

size_t bloom_blocks(size_t slots)
{
	size_t n;

	if (slots < BLOOM_MIN_SLOTS)
		return 0;
	/* slots * BLOOM_BITS_PER_SLOT / 512, rounded up, without overflow */
	n = slots / 512 * BLOOM_BITS_PER_SLOT +
	    (slots % 512 * BLOOM_BITS_PER_SLOT + 511) / 512;
	/* the block index is (h >> 32) * nblocks >> 32 */
	return n > UINT32_MAX ? UINT32_MAX : n;
}

int bloom_init(struct bloom *b, size_t nblocks)
{
	b->words = NULL;
	b->nblocks = 0;
	if (nblocks == 0)
		return 0;
	b->words = bigmem_calloc(nblocks, BLOOM_WORDS * sizeof(uint64_t));
	if (b->words == NULL)
		return -1;
	b->nblocks = nblocks;
	return 0;
}

void bloom_free(struct bloom *b)
{
	bigmem_free(b->words, b->nblocks, BLOOM_WORDS * sizeof(uint64_t));
	b->words = NULL;
	b->nblocks = 0;
}
