/* Encoding: a tree of field values back to message bytes. With FP_ENC_FIXUP the lengths
 * and counts the message carries about itself are first recomputed from the values. */
#include <string.h>

#include "msgint.h"
#include "ops/ops.h"
#include "wire/cursor.h"

/* The direct child of container c whose descriptor is f, or -1. */
static long sibling(const struct fp_msg *m, uint32_t c, const struct fp_field *f)
{
	uint32_t end = c + m->v[c].nsub;
	for (uint32_t j = c + 1; j <= end; j += m->v[j].nsub + 1)
		if (m->v[j].f == f)
			return (long)j;
	return -1;
}

/* Give every value its offset and length, and set the length and count fields of c's
 * children from what they describe. Returns the index after c's subtree. */
static uint32_t layout(struct fp_msg *m, uint32_t i, uint32_t pos, uint32_t rec)
{
	struct fp_val *v = &m->v[i];
	v->off = pos;
	enum fp_kind k = v->f->kind;
	int container = v->nsub || k == FP_K_STRUCT || k == FP_K_ARRAY || k == FP_K_EXT ||
			(v->vflags & FP_V_ELEM);
	if (!container) {
		if (k == FP_K_PAD8) {
			static const uint8_t zeros[8];
			uint32_t n = (8 - (pos - rec) % 8) % 8;
			if (n != v->len || !v->p)
				v->p = zeros;
			v->len = n;
		} else if (fp_kind_width(k)) {
			v->len = fp_kind_width(k);
		}
		return i + 1;
	}
	if (v->vflags & FP_V_ELEM)
		rec = pos;
	uint32_t end = i + v->nsub, cpos = pos, j = i + 1;
	uint64_t nchild = 0;
	while (j <= end) {
		uint32_t c = j;
		j = layout(m, c, cpos, rec);
		cpos += m->v[c].len;
		nchild++;
	}
	v->len = cpos - pos;
	if ((k == FP_K_ARRAY || k == FP_K_EXT) && !(v->vflags & FP_V_ELEM))
		v->u = nchild;
	/* lengths and counts held by siblings */
	if (v->st) {
		for (j = i + 1; j <= end; j += m->v[j].nsub + 1) {
			const struct fp_field *f = m->v[j].f;
			if (!f->ref || (m->v[j].vflags & FP_V_ELEM))
				continue;
			long r = sibling(m, i, &v->st->fields[f->ref - 1]);
			if (r < 0)
				continue;
			uint64_t n = f->kind == FP_K_ARRAY ? m->v[j].u
				     : f->kind == FP_K_STR ? m->v[j].len - 1u
							   : m->v[j].len;
			m->v[r].u = n - (uint64_t)(int64_t)f->adj;
		}
	}
	/* an extension record starts with its own size */
	if ((v->vflags & FP_V_ELEM) && k == FP_K_EXT && v->nsub)
		m->v[i + 1].u = v->len;
	return end + 1;
}

static long set_hdr(struct fp_msg *m, const char *name, uint64_t u)
{
	long i = fp_msg_field(m, 0, name);
	if (i >= 0)
		m->v[i].u = u;
	return i;
}

long fp_encode(struct fp_msg *m, uint8_t *out, size_t cap, unsigned flags)
{
	if (m->nv == 0)
		return -1;
	if (flags & FP_ENC_FIXUP) {
		uint32_t pos = 0;
		for (uint32_t i = 0; i < m->nv;) {
			uint32_t r = i;
			i = layout(m, r, pos, pos);
			pos += m->v[r].len;
		}
		set_hdr(m, "len", pos);
		uint32_t ext = 0;
		if (m->body != UINT32_MAX) {
			long x = sibling(m, m->body, &fp_fld_ext);
			if (x >= 0)
				ext = m->v[x].len;
		}
		if (m->dir == FP_REQUEST)
			set_hdr(m, "total_extlen", ext / 8);
		fp_msg_sync_hdr(m);
	}
	uint64_t pos = 0;
	for (uint32_t i = 0; i < m->nv; i++) {
		const struct fp_val *v = &m->v[i];
		enum fp_kind k = v->f->kind;
		unsigned w = fp_kind_width(k);
		if (w) {
			uint8_t le[8];
			fp_store_le(le, w, v->u);
			for (unsigned b = 0; b < w; b++, pos++)
				if (pos < cap)
					out[pos] = le[b];
		} else if (k == FP_K_STR || k == FP_K_BYTES || k == FP_K_PAD8) {
			uint32_t n = v->len;
			uint32_t data = k == FP_K_STR ? (n ? n - 1 : 0) : n;
			/* a counted name may hold a NUL (the kernel checks only the one after it);
			 * a NUL-terminated one may not */
			if (k == FP_K_STR && (n == 0 || (!v->f->ref && v->p && memchr(v->p, 0, data))))
				return -1;
			for (uint32_t b = 0; b < n; b++, pos++)
				if (pos < cap)
					out[pos] = (b < data && v->p) ? v->p[b] : 0;
		}
	}
	if (pos > INT32_MAX)
		return -1;
	return (long)pos;
}
