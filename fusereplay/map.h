/* A hash map from 64-bit keys to 64-bit values (open addressing, linear probing), for the
 * ids and uniques that a replay pairs up: small, and no allocation per entry. */
#ifndef FUSEREPLAY_MAP_H
#define FUSEREPLAY_MAP_H

#include <stddef.h>
#include <stdint.h>

struct fr_map {
	uint64_t *keys; /* 0 marks a free slot: key 0 is kept aside */
	uint64_t *vals;
	size_t cap;     /* a power of two, or 0 */
	size_t n;
	int has_zero;
	uint64_t zero_val;
};

/* Set key to val. Returns 0, or -1 when memory runs out. */
int fr_map_put(struct fr_map *m, uint64_t key, uint64_t val);

/* The value of key into *val. Returns 1 when found, 0 when not. */
int fr_map_get(const struct fr_map *m, uint64_t key, uint64_t *val);

/* Remove key (nothing when absent). */
void fr_map_del(struct fr_map *m, uint64_t key);

void fr_map_free(struct fr_map *m);

#endif
