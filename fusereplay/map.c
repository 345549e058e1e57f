/* The id map (map.h). Deletion shifts the following entries of the probe run back, so
 * that no tombstones pile up in a long replay. */
#include <stdlib.h>

#include "map.h"

static size_t slot_of(const struct fr_map *m, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (m->cap - 1);
}

static int grow(struct fr_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint64_t *k = calloc(cap, sizeof(*k)), *v = calloc(cap, sizeof(*v));
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	struct fr_map old = *m;
	m->keys = k;
	m->vals = v;
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			fr_map_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
	return 0;
}

int fr_map_put(struct fr_map *m, uint64_t key, uint64_t val)
{
	if (!key) {
		m->has_zero = 1;
		m->zero_val = val;
		return 0;
	}
	if ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -1;
	size_t i = slot_of(m, key);
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

int fr_map_get(const struct fr_map *m, uint64_t key, uint64_t *val)
{
	if (!key) {
		if (m->has_zero)
			*val = m->zero_val;
		return m->has_zero;
	}
	if (!m->cap)
		return 0;
	for (size_t i = slot_of(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return 1;
		}
	return 0;
}

void fr_map_del(struct fr_map *m, uint64_t key)
{
	if (!key) {
		m->has_zero = 0;
		return;
	}
	if (!m->cap)
		return;
	size_t mask = m->cap - 1, i = slot_of(m, key);
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & mask;
	if (!m->keys[i])
		return;
	m->n--;
	/* pull back every later entry of the run that may sit at or before the hole */
	for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->keys[j]);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
}

void fr_map_free(struct fr_map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct fr_map){0};
}
