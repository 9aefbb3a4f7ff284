/*
 * hash.h - the hashes of the sets (match_set.c, match_addr.c): FNV-1a
 * steps over octets and a 64-bit finaliser (MurmurHash3's fmix64) that
 * spreads every input bit over every output bit. A set takes its table
 * index from the low bits of the mixed hash and its filter's block and
 * bits (bloom.h) from 64 (address sets) or 32 of them (string sets). Pure
 * functions: no state, thread-safe.
 */
#ifndef RCM_HASH_H
#define RCM_HASH_H

#include <stdint.h>

#define HASH_FNV_START 0xcbf29ce484222325ULL

/* One FNV-1a step: h with octet c folded in. */
static inline uint64_t hash_fnv_step(uint64_t h, unsigned char c)
{
	h ^= c;
	return h * 0x100000001b3ULL;
}

/* MurmurHash3's 64-bit finaliser: a bijection, every bit mixed. */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * A 64-bit key for a filter (bloom.h) from a 32-bit hash: the hash twice,
 * so that the filter's block (from the high half) and its bits (from the
 * low half, times a constant) come from the same 32 well-mixed bits, for
 * a set that keeps only 32 bits of each hash.
 */
static inline uint64_t hash_wide32(uint32_t h)
{
	return (uint64_t)h << 32 | h;
}

#endif
