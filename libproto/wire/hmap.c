/* The intrusive hash map of the session and the lint (wire/hmap.h). */
#include "wire/hmap.h"

#include <stdlib.h>

void fp_hmap_init(struct fp_hmap *m, size_t min, size_t *mem)
{
	*m = (struct fp_hmap){.min = min, .mem = mem};
}

uint64_t fp_hmap_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	return k;
}

static void buckets_free(struct fp_hmap *m)
{
	if (!m->b)
		return;
	if (m->mem)
		*m->mem -= m->nb * sizeof(*m->b);
	free(m->b);
}

static int resize(struct fp_hmap *m, size_t nb)
{
	struct fp_hent **b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	if (m->mem)
		*m->mem += nb * sizeof(*b);
	for (size_t i = 0; i < m->nb; i++) {
		for (struct fp_hent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			size_t j = fp_hmap_mix(e->key) & (nb - 1);
			e->next = b[j];
			b[j] = e;
		}
	}
	buckets_free(m);
	m->b = b;
	m->nb = nb;
	return 0;
}

int fp_hmap_add(struct fp_hmap *m, struct fp_hent *e)
{
	if (m->n + 1 > m->nb && resize(m, m->nb ? m->nb * 2 : m->min) < 0)
		return -1;
	size_t j = fp_hmap_mix(e->key) & (m->nb - 1);
	e->next = m->b[j];
	m->b[j] = e;
	m->n++;
	return 0;
}

struct fp_hent *fp_hmap_find(const struct fp_hmap *m, uint64_t key,
			     int (*match)(const struct fp_hent *, const void *), const void *arg)
{
	if (!m->nb)
		return NULL;
	for (struct fp_hent *e = m->b[fp_hmap_mix(key) & (m->nb - 1)]; e; e = e->next)
		if (e->key == key && (!match || match(e, arg)))
			return e;
	return NULL;
}

void fp_hmap_del(struct fp_hmap *m, struct fp_hent *e)
{
	struct fp_hent **pp = &m->b[fp_hmap_mix(e->key) & (m->nb - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = e->next;
	m->n--;
	if (m->fixed)
		return;
	/* an empty map keeps its smallest bucket array: a map of pending requests empties with
	 * nearly every reply. A failed shrink leaves the map as it was. */
	if (m->nb > m->min && m->n < m->nb / 8)
		resize(m, m->nb / 4 > m->min ? m->nb / 4 : m->min);
}

void fp_hmap_free(struct fp_hmap *m, void (*drop)(struct fp_hent *))
{
	for (size_t i = 0; drop && i < m->nb; i++) {
		for (struct fp_hent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			drop(e);
		}
	}
	buckets_free(m);
	fp_hmap_init(m, m->min, m->mem);
}
