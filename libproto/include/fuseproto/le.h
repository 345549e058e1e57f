/* Little-endian loads and stores: every FUSE integer on the wire is little-endian. Callers
 * check the bounds; decoding itself goes through the bounds-checked cursor. */
#ifndef FUSEPROTO_LE_H
#define FUSEPROTO_LE_H

#include <stdint.h>

/* The `width`-byte (1, 2, 4 or 8) little-endian integer at p. */
static inline uint64_t fp_load_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = width; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

/* Store the low `width` bytes of v at p, little-endian. */
static inline void fp_store_le(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

#endif
