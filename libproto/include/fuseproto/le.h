/* Little-endian loads and stores: every FUSE integer on the wire is little-endian. Callers
 * check the bounds; decoding itself goes through the bounds-checked cursor. */
#ifndef FUSEPROTO_LE_H
#define FUSEPROTO_LE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

/* The `width`-byte (1, 2, 4 or 8) little-endian integer at p, in one load: decoding and
 * capture reading do little else. */
static inline uint64_t fp_load_le(const uint8_t *p, unsigned width)
{
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	switch (width) {
	case 1:
		return p[0];
	case 2:
		memcpy(&v16, p, 2);
		return le16toh(v16);
	case 4:
		memcpy(&v32, p, 4);
		return le32toh(v32);
	case 8:
		memcpy(&v64, p, 8);
		return le64toh(v64);
	default:
		v64 = 0;
		for (unsigned i = width; i-- > 0;)
			v64 = (v64 << 8) | p[i];
		return v64;
	}
}

/* Store the low `width` bytes of v at p, little-endian. */
static inline void fp_store_le(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

#endif
