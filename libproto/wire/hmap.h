/* An intrusive chained hash map from 64-bit keys, for the session's and the lint's state:
 * an entry embeds a struct fp_hent, which the caller allocates and frees. The bucket array
 * grows and shrinks so that memory follows what is live. */
#ifndef FP_HMAP_H
#define FP_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct fp_hent {
	uint64_t key;
	struct fp_hent *next;
};

struct fp_hmap {
	struct fp_hent **b;
	size_t nb, n;
	size_t min;     /* buckets to start with, and the fewest it shrinks to: a power of two */
	size_t *mem;    /* if set, the bucket array's bytes are counted there */
	int fixed;      /* no shrinking: set while the map is emptied bucket by bucket */
};

/* An empty map (no bucket array yet) starting with `min` buckets, counting into *mem
 * (NULL: nowhere). */
void fp_hmap_init(struct fp_hmap *m, size_t min, size_t *mem);

/* The hash the map spreads keys with, also for building keys out of several parts. */
uint64_t fp_hmap_mix(uint64_t k);

/* Add e under e->key (several entries may share a key). Returns -1 when memory runs out. */
int fp_hmap_add(struct fp_hmap *m, struct fp_hent *e);

/* The first entry with `key` for which match() agrees (NULL match: any). */
struct fp_hent *fp_hmap_find(const struct fp_hmap *m, uint64_t key,
			     int (*match)(const struct fp_hent *, const void *), const void *arg);

/* Remove e, if it is in the map. */
void fp_hmap_del(struct fp_hmap *m, struct fp_hent *e);

/* Hand every entry still in the map to drop() (NULL: none are left), which must not touch
 * the map, then free the bucket array; the map is left as fp_hmap_init made it. */
void fp_hmap_free(struct fp_hmap *m, void (*drop)(struct fp_hent *));

#endif
