/*
 * bloom.h - a split-block Bloom filter in front of a big hash table: a
 * test that answers "not there" for most keys a table does not hold from
 * one cache line of a small array, so that looking up a value no list
 * holds (the usual case: most clients and senders are in no list) does
 * not touch a table many times bigger than the caches.
 *
 * The filter is an array of blocks of 64 octets (a cache line each,
 * aligned to one: bigmem.h), eight 64-bit words a block. A key is known
 * by its table's 64-bit hash, well mixed (hash.h): the high 32 bits pick
 * its block, and in each of the eight words one bit is picked by the low
 * 32 bits times an odd constant of that word (the top six bits of the
 * product): the split-block filter of Apache Parquet and Impala, widened
 * to 64-bit words. A key added is always found: no false negatives. A
 * key never added is found with a probability that depends on the bits
 * of filter an entry: about 3% at 8 bits, 1% at 10, 0.4% at 12, 0.1%
 * at 16 (measured; tests/unit/check_match.c holds them to a bound).
 *
 * Built by the set that owns it, while the config is loaded (one thread),
 * then only read: bloom_has and bloom_prefetch write nothing and may run
 * in many threads. Never logs, never exits.
 */
#ifndef RCM_BLOOM_H
#define RCM_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOOM_WORDS 8 /* 64-bit words a block: 64 octets */

/*
 * A table of fewer slots than BLOOM_MIN_SLOTS gets no filter: it stays in
 * the caches, where a filter would only add work. Bigger ones get
 * BLOOM_BITS_PER_SLOT bits of filter a slot; the sets grow their tables
 * when 3/4 full, to twice the size, so that is 8 to 16 bits an entry
 * (0.75 octet a slot: 6% of a string set's slots, 9% of an IPv4 table's).
 */
#define BLOOM_MIN_SLOTS	    ((size_t)1 << 15)
#define BLOOM_BITS_PER_SLOT 6

/* A filter; all zero (nblocks 0) is no filter, which holds everything. */
struct bloom {
	uint64_t *words; /* nblocks * BLOOM_WORDS */
	size_t nblocks;
};

/* The blocks of the filter for a table of slots slots: 0 (no filter)
 * below BLOOM_MIN_SLOTS. */
size_t bloom_blocks(size_t slots);

/* Make b an empty filter of nblocks blocks (0: no filter). Returns 0, or
 * -1 when memory runs out (b is then no filter). Free with bloom_free. */
int bloom_init(struct bloom *b, size_t nblocks);

/* Free b's memory; b is then no filter. */
void bloom_free(struct bloom *b);

/* Which bit a key of hash h sets in word i of its block (0-63). */
static inline unsigned bloom_bit(uint64_t h, unsigned i)
{
	static const uint32_t salt[BLOOM_WORDS] = {
	    0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
	    0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

	return ((uint32_t)h * salt[i]) >> 26;
}

/* The block of a key of hash h (b has blocks). */
static inline uint64_t *bloom_block(const struct bloom *b, uint64_t h)
{
	return b->words + ((h >> 32) * b->nblocks >> 32) * BLOOM_WORDS;
}

/* Add the key of hash h (nothing when b is no filter). */
static inline void bloom_add(struct bloom *b, uint64_t h)
{
	uint64_t *w;

	if (b->nblocks == 0)
		return;
	w = bloom_block(b, h);
#pragma GCC unroll 8
	for (unsigned i = 0; i < BLOOM_WORDS; i++)
		w[i] |= 1ULL << bloom_bit(h, i);
}

/* May the key of hash h have been added? false: it was not, for sure;
 * true: it may have been (always true with no filter). */
static inline bool bloom_has(const struct bloom *b, uint64_t h)
{
	const uint64_t *w;
	uint64_t all = 1;

	if (b->nblocks == 0)
		return true;
	w = bloom_block(b, h);
	/* no branch a word: each misses with odds near one in three */
#pragma GCC unroll 8
	for (unsigned i = 0; i < BLOOM_WORDS; i++)
		all &= w[i] >> bloom_bit(h, i);
	return all & 1;
}

/* Start loading the block of hash h (a bloom_has soon follows); false
 * when b is no filter (nothing done). */
static inline bool bloom_prefetch(const struct bloom *b, uint64_t h)
{
	if (b->nblocks == 0)
		return false;
	__builtin_prefetch(bloom_block(b, h));
	return true;
}

#endif
