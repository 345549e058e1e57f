/* Decoding: message bytes to a tree of field values, driven by the opcode table's field
 * tables, through the bounds-checked cursor. */
#include <stddef.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "msgint.h"
#include "ops/ops.h"
#include "wire/cursor.h"

/* More fields than this in one struct would be a table bug (fuse_statx_out has the most). */
#define FP_MAX_FIELDS 64

struct dec {
	struct fp_msg *m;
	struct fp_cur c;
	const struct fp_conn *conn;
	int oom;
};

static inline long push(struct dec *d, const struct fp_field *f, const struct fp_struct *st,
			uint16_t depth, uint8_t vflags)
{
	struct fp_msg *m = d->m;
	long i;
	if (m->nv < m->cap) { /* fp_msg_push() without the call: one per field */
		i = (long)m->nv++;
	} else if ((i = fp_msg_push(m)) < 0) {
		d->oom = 1;
		fp_cur_fail(&d->c, FP_INVALID, d->c.pos, "out of memory");
		return -1;
	}
	m->v[i] = (struct fp_val){.f = f, .st = st, .off = d->c.pos, .depth = depth,
				  .vflags = vflags};
	return i;
}

/* fp_kind_width() for the decoder's every field. */
static inline unsigned kind_width(uint8_t kind)
{
	static const uint8_t w[] = {[FP_K_U8] = 1, [FP_K_U16] = 2, [FP_K_U32] = 4,
				    [FP_K_U64] = 8, [FP_K_S32] = 4, [FP_K_S64] = 8};
	return kind < sizeof(w) ? w[kind] : 0;
}

/* fp_cur_need(), which also reports what is missing, after the check of the usual case. */
static inline int need(struct fp_cur *c, unsigned n, const char *what)
{
	uint32_t lim = c->end < c->avail ? c->end : c->avail;
	if (c->err == FP_OK && c->pos <= lim && n <= lim - c->pos)
		return 1;
	return fp_cur_need(c, n, what);
}

/* Close a container opened at index i: count its descendants and bytes. */
static void close_val(struct dec *d, long i)
{
	struct fp_val *v = &d->m->v[i];
	v->nsub = d->m->nv - (uint32_t)i - 1;
	v->len = d->c.pos - v->off;
}

static void dec_struct(struct dec *d, const struct fp_struct *st, uint16_t depth, uint32_t rec);

/* One array element (or extension record) of layout st, starting a record of its own. */
static void dec_elem(struct dec *d, const struct fp_field *f, const struct fp_struct *st, uint16_t depth)
{
	long e = push(d, f, st, depth, FP_V_ELEM);
	if (e < 0)
		return;
	dec_struct(d, st, depth + 1, d->c.pos);
	close_val(d, e);
}

static void dec_array(struct dec *d, const struct fp_field *f, long a, int counted, uint64_t count,
		      uint16_t depth)
{
	uint64_t n = 0;
	while (d->c.err == FP_OK && (counted ? n < count : d->c.pos < d->c.end)) {
		uint32_t before = d->c.pos;
		dec_elem(d, f, f->sub, depth + 1);
		n++;
		if (d->c.pos == before) { /* an element of no bytes would loop for ever */
			fp_cur_fail(&d->c, FP_INVALID, before, "%s: empty element", f->name);
			break;
		}
	}
	d->m->v[a].u = n;
	close_val(d, a);
}

/* An integer field of w bytes: most fields are. */
static inline void dec_int(struct dec *d, const struct fp_field *f, unsigned w, uint16_t depth)
{
	struct fp_cur *c = &d->c;
	long i;
	if (!need(c, w, f->name) || (i = push(d, f, NULL, depth, 0)) < 0)
		return;
	uint64_t u = fp_load_le(c->buf + c->pos, w);
	if (f->kind == FP_K_S32)
		u = (uint64_t)(int64_t)(int32_t)(uint32_t)u;
	d->m->v[i].u = u;
	d->m->v[i].len = w;
	c->pos += w;
}

/* Decode field f, not an integer, of a struct whose values so far are listed in idx[]. */
static void dec_field(struct dec *d, const struct fp_field *f, uint16_t depth, uint32_t rec,
		      const long *idx)
{
	struct fp_cur *c = &d->c;
	uint64_t refv = 0;
	int has_ref = f->ref != 0;
	if (has_ref) {
		long r = idx[f->ref - 1];
		refv = (r >= 0 ? d->m->v[r].u : 0) + (uint64_t)(int64_t)f->adj;
	}
	long i;

	switch ((enum fp_kind)f->kind) {
	case FP_K_STR: {
		uint64_t n;
		if (has_ref) {
			if (!fp_cur_need(c, refv + 1 < refv ? UINT64_MAX : refv + 1, f->name))
				return;
			n = refv;
			if (c->buf[c->pos + n] != 0) {
				fp_cur_fail(c, FP_INVALID, c->pos + (uint32_t)n,
					    "%s: no NUL after its %llu bytes", f->name, (unsigned long long)n);
				return;
			}
		} else {
			uint32_t lim = c->end < c->avail ? c->end : c->avail;
			const uint8_t *z = c->pos < lim ? memchr(c->buf + c->pos, 0, lim - c->pos) : NULL;
			if (!z) {
				if (c->avail < c->end)
					fp_cur_fail(c, FP_TRUNCATED, c->pos, "%s: no NUL in the %u bytes captured",
						    f->name, lim > c->pos ? lim - c->pos : 0);
				else
					fp_cur_fail(c, FP_INVALID, c->pos, "%s: no terminating NUL", f->name);
				return;
			}
			n = (uint64_t)(z - (c->buf + c->pos));
		}
		if ((i = push(d, f, NULL, depth, 0)) < 0)
			return;
		d->m->v[i].p = c->buf + c->pos;
		d->m->v[i].len = (uint32_t)n + 1;
		c->pos += (uint32_t)n + 1;
		return;
	}
	case FP_K_BYTES:
	case FP_K_PAD8: {
		uint64_t n;
		if (f->kind == FP_K_PAD8)
			n = (8 - (c->pos - rec) % 8) % 8;
		else if (has_ref)
			n = refv;
		else
			n = fp_cur_left(c);
		if (n > fp_cur_left(c)) { /* beyond what the message declares */
			fp_cur_need(c, n, f->name);
			return;
		}
		/* within the message, but perhaps not all captured: keep what is there */
		uint32_t have = c->avail > c->pos ? c->avail - c->pos : 0;
		uint32_t take = n < have ? (uint32_t)n : have;
		if ((i = push(d, f, NULL, depth, 0)) < 0)
			return;
		d->m->v[i].p = c->buf + c->pos;
		d->m->v[i].len = take;
		c->pos += take;
		if (take < n)
			fp_cur_fail(c, FP_TRUNCATED, c->pos, "%s: %llu bytes, %u captured", f->name,
				    (unsigned long long)n, take);
		return;
	}
	case FP_K_STRUCT:
		if ((i = push(d, f, f->sub, depth, 0)) < 0)
			return;
		dec_struct(d, f->sub, depth + 1, rec);
		close_val(d, i);
		return;
	case FP_K_ARRAY:
		if ((i = push(d, f, f->sub, depth, 0)) < 0)
			return;
		dec_array(d, f, i, has_ref, refv, depth);
		return;
	default:
		fp_cur_fail(c, FP_INVALID, c->pos, "%s: field kind %u cannot be decoded here", f->name, f->kind);
		return;
	}
}

/* Decode the fields of st. `rec` is where the enclosing record starts (for FP_K_PAD8). */
static void dec_struct(struct dec *d, const struct fp_struct *st, uint16_t depth, uint32_t rec)
{
	long idx[FP_MAX_FIELDS];
	for (unsigned k = 0; k < st->n && k < FP_MAX_FIELDS; k++) {
		const struct fp_field *f = &st->fields[k];
		idx[k] = -1;
		if (d->c.err != FP_OK)
			return;
		if ((f->since || f->need) && !fp_field_present(f, d->conn))
			continue;
		if ((f->flags & FP_F_OPT) && d->c.pos >= d->c.end)
			return;
		long before = (long)d->m->nv;
		unsigned w = kind_width(f->kind);
		if (w)
			dec_int(d, f, w, depth);
		else
			dec_field(d, f, depth, rec, idx);
		if ((long)d->m->nv > before)
			idx[k] = before;
	}
}

/* The extension area: records {u32 size, u32 type, ...} filling [c.pos, c.end). */
static void dec_ext(struct dec *d, uint16_t depth)
{
	struct fp_cur *c = &d->c;
	long a = push(d, &fp_fld_ext, NULL, depth, 0);
	if (a < 0)
		return;
	uint64_t n = 0;
	uint32_t area_end = c->end;
	while (c->err == FP_OK && c->pos < area_end) {
		if (!fp_cur_need(c, 8, "extension header"))
			break;
		uint32_t size = (uint32_t)fp_load_le(c->buf + c->pos, 4);
		uint32_t type = (uint32_t)fp_load_le(c->buf + c->pos + 4, 4);
		if (size < 8 || size % 8 || size > area_end - c->pos) {
			fp_cur_fail(c, FP_INVALID, c->pos, "extension record of size %u in %u bytes",
				    size, area_end - c->pos);
			break;
		}
		c->end = c->pos + size;
		dec_elem(d, &fp_fld_ext, fp_ext_layout(type), depth + 1);
		if (c->err == FP_OK && c->pos != c->end)
			fp_cur_fail(c, FP_INVALID, c->pos, "extension record: %u bytes left over",
				    c->end - c->pos);
		c->end = area_end;
		n++;
	}
	d->m->v[a].u = n;
	close_val(d, a);
}

/* Decode a body of layout st between c.pos and c.end, plus the extension area of a request
 * (ext_len bytes at its end). */
static void dec_body(struct dec *d, const struct fp_field *root, const struct fp_struct *st,
		     uint32_t ext_len)
{
	struct fp_cur *c = &d->c;
	uint32_t msg_end = c->end;
	long b = push(d, root, st, 0, 0);
	if (b < 0)
		return;
	d->m->body = (uint32_t)b;
	c->end = msg_end - ext_len;
	dec_struct(d, st, 1, c->pos);
	if (c->err == FP_OK && c->pos < c->end) {
		/* keep the leftover bytes so that nothing is lost, and say so */
		uint32_t left = c->end - c->pos;
		if ((dec_field(d, &fp_fld_trailing, 1, c->pos, NULL), c->err == FP_OK))
			fp_cur_fail(c, FP_INVALID, c->end - left, "%u bytes after the %s body", left,
				    d->m->op ? d->m->op->name : "message");
	}
	c->end = msg_end;
	if (ext_len && c->err == FP_OK) {
		dec_ext(d, 1);
		/* decoded all the same, so that nothing is lost */
		if (d->m->op && !(d->m->op->flags & FP_OP_EXT))
			fp_cur_fail(c, FP_INVALID, 36, "total_extlen %u on %s, which takes no extension",
				    d->m->h.total_extlen, d->m->op->name);
	}
	close_val(d, b);
}

/* m->h from a whole header: what fp_msg_sync_hdr() finds by name in the values, read at
 * the offsets the ABI fixes. */
static void hdr_from_bytes(struct fp_msg *m, const uint8_t *buf, enum fp_origin from)
{
	struct fp_hdr *h = &m->h;
	memset(h, 0, sizeof(*h));
	if (from == FP_FROM_KERNEL) {
		h->len = (uint32_t)fp_load_le(buf + offsetof(struct fp_in_header, len), 4);
		h->opcode = (uint32_t)fp_load_le(buf + offsetof(struct fp_in_header, opcode), 4);
		h->unique = fp_load_le(buf + offsetof(struct fp_in_header, unique), 8);
		h->nodeid = fp_load_le(buf + offsetof(struct fp_in_header, nodeid), 8);
		h->uid = (uint32_t)fp_load_le(buf + offsetof(struct fp_in_header, uid), 4);
		h->gid = (uint32_t)fp_load_le(buf + offsetof(struct fp_in_header, gid), 4);
		h->pid = (uint32_t)fp_load_le(buf + offsetof(struct fp_in_header, pid), 4);
		h->total_extlen = (uint16_t)fp_load_le(buf + offsetof(struct fp_in_header,
								   total_extlen), 2);
	} else {
		h->len = (uint32_t)fp_load_le(buf + offsetof(struct fp_out_header, len), 4);
		h->error = (int32_t)(uint32_t)fp_load_le(buf + offsetof(struct fp_out_header, error), 4);
		h->unique = fp_load_le(buf + offsetof(struct fp_out_header, unique), 8);
	}
}

int fp_decode(struct fp_msg *m, const uint8_t *buf, size_t len, enum fp_origin from,
	      const struct fp_conn *conn, const struct fp_reqinfo *req)
{
	struct fp_conn newest = FP_CONN_NEWEST;
	struct dec d = {.m = m, .conn = conn ? conn : &newest};

	fp_msg_reset(m);
	m->buf = buf;
	m->buflen = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	m->latency_ns = -1;
	d.c = (struct fp_cur){.buf = buf, .avail = m->buflen, .reason = m->reason,
			      .reason_cap = sizeof(m->reason)};

	const struct fp_struct *hs = from == FP_FROM_KERNEL ? &fp_in_header_s : &fp_out_header_s;
	uint32_t hsize = hs->size;
	d.c.end = hsize;
	long h = push(&d, &fp_fld_header, hs, 0, 0);
	if (h < 0)
		return -1;
	dec_struct(&d, hs, 1, 0);
	close_val(&d, h);
	if (d.c.err == FP_OK)
		hdr_from_bytes(m, buf, from);
	else
		fp_msg_sync_hdr(m); /* what there is of the header */

	if (from == FP_FROM_KERNEL) {
		m->dir = FP_REQUEST;
		m->opcode = m->h.opcode;
		m->op = fp_op_get(m->h.opcode);
	} else if (m->h.unique == 0) {
		m->dir = FP_NOTIFY;
		m->opcode = (uint32_t)m->h.error;
		m->op = fp_notify_get((uint32_t)m->h.error);
	} else {
		m->dir = FP_REPLY;
		if (m->h.unique & FP_INT_REQ_BIT)
			m->op = fp_op_get(FP_INTERRUPT);
		else if (req)
			m->op = fp_op_get(req->opcode);
		m->opcode = m->op ? m->op->code : 0;
	}

	if (d.c.err == FP_OK) {
		if (m->h.len < hsize) {
			fp_cur_fail(&d.c, FP_INVALID, 0, "len %u is shorter than the %u-byte header",
				    m->h.len, hsize);
		} else {
			d.c.end = m->h.len;
			const struct fp_struct *body = NULL;
			const struct fp_field *root = &fp_fld_args;
			uint32_t ext_len = 0;
			if (m->dir == FP_REQUEST) {
				ext_len = (uint32_t)m->h.total_extlen * 8;
				if (ext_len > m->h.len - hsize) {
					fp_cur_fail(&d.c, FP_INVALID, 36,
						    "total_extlen %u: %u extension bytes in a %u-byte body",
						    m->h.total_extlen, ext_len, m->h.len - hsize);
					ext_len = 0;
				}
				if (!m->op)
					fp_cur_fail(&d.c, FP_INVALID, 4, "unknown opcode %u", m->h.opcode);
				body = m->op ? m->op->req : &fp_data_s;
			} else if (m->dir == FP_NOTIFY) {
				if (!m->op)
					fp_cur_fail(&d.c, FP_INVALID, 4, "unknown notification code %d",
						    m->h.error);
				body = m->op ? m->op->req : &fp_data_s;
			} else {
				root = &fp_fld_result;
				if (m->h.error > 0 || m->h.error < -511)
					fp_cur_fail(&d.c, FP_INVALID, 4,
						    "error %d is outside -511..0", m->h.error);
				else if (m->h.error != 0 && m->h.len != hsize)
					fp_cur_fail(&d.c, FP_INVALID, 0,
						    "error reply of %u bytes (must be the 16-byte header alone)",
						    m->h.len);
				if (m->h.error != 0)
					body = NULL;
				else if (m->h.unique & FP_INT_REQ_BIT)
					body = NULL;
				else if (!m->op)
					body = &fp_data_s; /* unpaired: kept as bytes */
				else
					body = fp_op_reply_layout(m->op, req ? req->arg : 0);
			}
			/* A body root exists whenever there is a layout or there are bytes. */
			uint32_t saved_err = d.c.err;
			d.c.err = FP_OK; /* decode what can be decoded even after a header complaint */
			if (body || m->h.len > hsize)
				dec_body(&d, root, body ? body : &fp_empty_s, ext_len);
			if (saved_err != FP_OK)
				d.c.err = saved_err; /* the first complaint stays the one reported */
		}
	}
	if (d.c.err == FP_OK && m->buflen > m->h.len && m->h.len >= hsize)
		fp_cur_fail(&d.c, FP_INVALID, m->h.len, "len says %u bytes, %u were given", m->h.len,
			    m->buflen);
	if (d.oom)
		return -1;
	m->status = d.c.err;
	m->bad_off = d.c.err_off;
	if (m->status == FP_OK)
		m->reason[0] = 0;
	return (int)m->status;
}
