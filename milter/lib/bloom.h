/*
 * bloom.h - a blocked Bloom filter in front of a big hash table: a
 * test that answers "not there" for most keys a table does not hold from
 * one cache line of a small array, so that looking up a value no list
 * holds (the usual case: most clients and senders are in no list) does
 * not touch a table many times bigger than the caches.
 *
 * The filter is an array of blocks of 64 octets (a cache line each,
 * aligned to one: bigmem.h), eight 64-bit words a block. A key is known
 * by its table's 64-bit hash, well mixed (hash.h): the high 32 bits pick
 * its block; the low 32 bits, times an odd constant, pick one of the
 * block's first four words and one of its last four, and three bits in
 * each (a "sectorised" blocked Bloom filter: six bits a key, in two
 * words of one cache line; testing them is two loads and two compares,
 * half the work of one bit in each of the eight words for about the same
 * false positives). A key added is always found: no false negatives. A
 * key never added is found with a probability that depends on the bits
 * of filter an entry: about 2.6% at 8 bits, 0.45% at 12.6, 0.16% at 16
 * (measured; tests/unit/check_bloom.c holds them to a bound).
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
 * A filter pays even while its table is in the caches: a miss in a table
 * 3/8 to 3/4 full walks a run of slots with branches no predictor
 * guesses, and the filter spares that walk (tests/bench/lookup, absent
 * IPv4 addresses: 42 ns at 300 entries without a filter, 22 with one).
 * So every table of BLOOM_MIN_SLOTS slots or more may have one; a set
 * whose first table is lightly loaded asks for one later (match_addr.c).
 * Tables get BLOOM_BITS_PER_SLOT bits of filter a slot; the sets grow
 * their tables when 3/4 full, to twice the size, so that is 8 to 16 bits
 * an entry (0.75 octet a slot: 9% of the slots of a string set or an
 * IPv4 table, 4% of an IPv6 table's); a table of 16 slots gets one block.
 */
#define BLOOM_MIN_SLOTS	    ((size_t)16)
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

/*
 * The two words of its block a key of hash h sets bits in (one of the
 * first four, one of the last four), in w[0] and w[1], and the three bits
 * it sets in each, in m[0] and m[1]: all from the low 32 bits of h, times
 * an odd constant (the block comes from the high 32 bits).
 */
static inline void bloom_where(uint64_t h, unsigned w[2], uint64_t m[2])
{
	uint64_t x = (uint32_t)h * 0x9e3779b97f4a7c15ULL;

	w[0] = x & 3;
	w[1] = 4 + (x >> 2 & 3);
	m[0] = 1ULL << (x >> 16 & 63) | 1ULL << (x >> 22 & 63) |
	       1ULL << (x >> 28 & 63);
	m[1] = 1ULL << (x >> 34 & 63) | 1ULL << (x >> 40 & 63) |
	       1ULL << (x >> 46 & 63);
}

/* The block of a key of hash h (b has blocks). */
static inline uint64_t *bloom_block(const struct bloom *b, uint64_t h)
{
	return b->words + ((h >> 32) * b->nblocks >> 32) * BLOOM_WORDS;
}

/* Add the key of hash h (nothing when b is no filter). */
static inline void bloom_add(struct bloom *b, uint64_t h)
{
	uint64_t *blk, m[2];
	unsigned w[2];

	if (b->nblocks == 0)
		return;
	blk = bloom_block(b, h);
	bloom_where(h, w, m);
	blk[w[0]] |= m[0];
	blk[w[1]] |= m[1];
}

/* May the key of hash h have been added? false: it was not, for sure;
 * true: it may have been (always true with no filter). */
static inline bool bloom_has(const struct bloom *b, uint64_t h)
{
	const uint64_t *blk;
	uint64_t m[2];
	unsigned w[2];

	if (b->nblocks == 0)
		return true;
	blk = bloom_block(b, h);
	bloom_where(h, w, m);
	return ((blk[w[0]] & m[0]) == m[0]) & ((blk[w[1]] & m[1]) == m[1]);
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
