/* The message value tree: storage, lookups by path, setters, and building a message from
 * its layout so that tools (replay, fuzzing, Lua) can make any request or reply. */
#include <stdlib.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "msgint.h"
#include "ops/ops.h"

const struct fp_field fp_fld_header = {.name = "header", .kind = FP_K_STRUCT};
const struct fp_field fp_fld_args = {.name = "args", .kind = FP_K_STRUCT};
const struct fp_field fp_fld_result = {.name = "result", .kind = FP_K_STRUCT};
const struct fp_field fp_fld_ext = {.name = "ext", .kind = FP_K_EXT};
const struct fp_field fp_fld_trailing = {.name = "trailing", .kind = FP_K_BYTES, .disp = FP_D_DATA};
static const struct fp_field empty_f[1];
const struct fp_struct fp_empty_s = {"empty", empty_f, 0, 0};

void fp_msg_init(struct fp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->body = UINT32_MAX;
	m->latency_ns = -1;
}

static void free_blobs(struct fp_msg *m)
{
	while (m->blobs) {
		struct fp_blob *b = m->blobs;
		m->blobs = b->next;
		free(b);
	}
}

void fp_msg_free(struct fp_msg *m)
{
	free_blobs(m);
	free(m->v);
	fp_msg_init(m);
}

void fp_msg_reset(struct fp_msg *m)
{
	free_blobs(m);
	m->nv = 0;
	m->body = UINT32_MAX;
	m->status = FP_OK;
	m->reason[0] = 0;
	m->bad_off = 0;
	m->op = NULL;
	m->opcode = 0;
	memset(&m->h, 0, sizeof(m->h));
	m->buf = NULL;
	m->buflen = 0;
	m->ts_ns = 0;
	m->latency_ns = -1;
	m->link = 0;
	m->linked = 0;
	m->path_known = 0;
	m->path[0] = 0;
}

long fp_msg_push(struct fp_msg *m)
{
	if (m->nv == m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 64;
		struct fp_val *v = realloc(m->v, (size_t)cap * sizeof(*v));
		if (!v)
			return -1;
		m->v = v;
		m->cap = cap;
	}
	memset(&m->v[m->nv], 0, sizeof(m->v[0]));
	return (long)m->nv++;
}

int fp_field_present(const struct fp_field *f, const struct fp_conn *conn)
{
	if (f->since && conn->minor < f->since)
		return 0;
	if (f->need && !(conn->flags & (UINT64_C(1) << (f->need - 1))))
		return 0;
	return 1;
}

const struct fp_struct *fp_ext_layout(uint32_t type)
{
	if (type <= FP_MAX_NR_SECCTX)
		return &fp_ext_secctx_s;
	if (type == FP_EXT_GROUPS)
		return &fp_ext_groups_s;
	return &fp_ext_other_s;
}

long fp_msg_child(const struct fp_msg *m, long idx, unsigned i)
{
	if (idx < 0 || (uint32_t)idx >= m->nv)
		return -1;
	uint32_t end = (uint32_t)idx + m->v[idx].nsub;
	for (uint32_t j = (uint32_t)idx + 1; j <= end; j += m->v[j].nsub + 1)
		if (i-- == 0)
			return (long)j;
	return -1;
}

long fp_msg_field(const struct fp_msg *m, long idx, const char *name)
{
	if (idx < 0 || (uint32_t)idx >= m->nv)
		return -1;
	uint32_t end = (uint32_t)idx + m->v[idx].nsub;
	for (uint32_t j = (uint32_t)idx + 1; j <= end; j += m->v[j].nsub + 1)
		if (strcmp(m->v[j].f->name, name) == 0)
			return (long)j;
	return -1;
}

long fp_msg_find(const struct fp_msg *m, const char *path)
{
	char tok[64];
	long cur = -1;
	const char *s = path;
	int first = 1;
	while (*s) {
		size_t n = strcspn(s, ".");
		if (n == 0 || n >= sizeof(tok))
			return -1;
		memcpy(tok, s, n);
		tok[n] = 0;
		s += n;
		if (*s == '.')
			s++;
		if (first) {
			first = 0;
			if (strcmp(tok, "header") == 0) {
				cur = m->nv ? 0 : -1;
				continue;
			}
			cur = m->body == UINT32_MAX ? -1 : (long)m->body;
		}
		if (cur < 0)
			return -1;
		/* a field name (a letter or '_' first) is never read as an index */
		char *endp = tok;
		unsigned long k = 0;
		char c = (char)(tok[0] | 0x20);
		if (!(c >= 'a' && c <= 'z') && tok[0] != '_')
			k = strtoul(tok, &endp, 10);
		if (*endp == 0 && m->v[cur].f->kind != FP_K_STRUCT && m->v[cur].nsub)
			cur = fp_msg_child(m, cur, (unsigned)k);
		else
			cur = fp_msg_field(m, cur, tok);
	}
	return first ? -1 : cur;
}

void fp_msg_sync_hdr(struct fp_msg *m)
{
	memset(&m->h, 0, sizeof(m->h));
	if (m->nv == 0)
		return;
	uint32_t end = m->v[0].nsub;
	for (uint32_t j = 1; j <= end; j++) {
		const char *n = m->v[j].f->name;
		uint64_t u = m->v[j].u;
		if (!strcmp(n, "len"))
			m->h.len = (uint32_t)u;
		else if (!strcmp(n, "opcode"))
			m->h.opcode = (uint32_t)u;
		else if (!strcmp(n, "unique"))
			m->h.unique = u;
		else if (!strcmp(n, "nodeid"))
			m->h.nodeid = u;
		else if (!strcmp(n, "uid"))
			m->h.uid = (uint32_t)u;
		else if (!strcmp(n, "gid"))
			m->h.gid = (uint32_t)u;
		else if (!strcmp(n, "pid"))
			m->h.pid = (uint32_t)u;
		else if (!strcmp(n, "total_extlen"))
			m->h.total_extlen = (uint16_t)u;
		else if (!strcmp(n, "error"))
			m->h.error = (int32_t)u;
	}
}

int fp_msg_set_u64(struct fp_msg *m, long idx, uint64_t v)
{
	if (idx < 0 || (uint32_t)idx >= m->nv || !fp_kind_is_int(m->v[idx].f->kind))
		return -1;
	m->v[idx].u = v;
	if ((uint32_t)idx <= m->v[0].nsub)
		fp_msg_sync_hdr(m);
	return 0;
}

int fp_msg_set_bytes(struct fp_msg *m, long idx, const void *p, size_t n)
{
	if (idx < 0 || (uint32_t)idx >= m->nv || n >= UINT32_MAX)
		return -1;
	struct fp_val *v = &m->v[idx];
	enum fp_kind k = v->f->kind;
	if (k != FP_K_STR && k != FP_K_BYTES && k != FP_K_PAD8)
		return -1;
	if (k == FP_K_STR && !v->f->ref && memchr(p, 0, n))
		return -1;
	struct fp_blob *b = malloc(sizeof(*b) + n + 1);
	if (!b)
		return -1;
	if (n)
		memcpy(b->data, p, n);
	b->data[n] = 0;
	b->n = n;
	b->next = m->blobs;
	m->blobs = b;
	v->p = b->data;
	v->len = (uint32_t)(k == FP_K_STR ? n + 1 : n);
	v->vflags |= FP_V_OWNED;
	return 0;
}

/* Append zeroed values for the fields of st at `conn`; returns 0 or -1. */
static int build_struct(struct fp_msg *m, const struct fp_struct *st, const struct fp_conn *conn,
			uint16_t depth)
{
	for (unsigned k = 0; k < st->n; k++) {
		const struct fp_field *f = &st->fields[k];
		if (!fp_field_present(f, conn))
			continue;
		long i = fp_msg_push(m);
		if (i < 0)
			return -1;
		m->v[i].f = f;
		m->v[i].depth = depth;
		m->v[i].len = fp_kind_width(f->kind);
		if (f->kind == FP_K_STR) {
			m->v[i].p = (const uint8_t *)"";
			m->v[i].len = 1;
		} else if (f->kind == FP_K_STRUCT) {
			m->v[i].st = f->sub;
			if (build_struct(m, f->sub, conn, depth + 1) < 0)
				return -1;
			m->v[i].nsub = m->nv - (uint32_t)i - 1;
		} else if (f->kind == FP_K_ARRAY) {
			m->v[i].st = f->sub;
		}
	}
	return 0;
}

static long build_root(struct fp_msg *m, const struct fp_field *root, const struct fp_struct *st,
		       const struct fp_conn *conn)
{
	long i = fp_msg_push(m);
	if (i < 0)
		return -1;
	m->v[i].f = root;
	m->v[i].st = st;
	if (build_struct(m, st, conn, 1) < 0)
		return -1;
	m->v[i].nsub = m->nv - (uint32_t)i - 1;
	return i;
}

int fp_msg_build(struct fp_msg *m, enum fp_dir dir, uint32_t code, const struct fp_conn *conn,
		 const struct fp_reqinfo *req)
{
	struct fp_conn newest = FP_CONN_NEWEST;
	if (!conn)
		conn = &newest;
	fp_msg_reset(m);
	const struct fp_op *op = NULL;
	const struct fp_struct *body = NULL;
	if (dir == FP_REQUEST) {
		if (!(op = fp_op_get(code)))
			return -1;
		body = op->req;
	} else if (dir == FP_NOTIFY) {
		if (!(op = fp_notify_get(code)))
			return -1;
		body = op->req;
	} else if (code) {
		if (!(op = fp_op_get(code)))
			return -1;
		body = fp_op_reply_layout(op, req ? req->arg : 0);
	}
	if (build_root(m, &fp_fld_header, dir == FP_REQUEST ? &fp_in_header_s : &fp_out_header_s,
		       conn) < 0)
		return -1;
	if (body) {
		long b = build_root(m, dir == FP_REPLY ? &fp_fld_result : &fp_fld_args, body, conn);
		if (b < 0)
			return -1;
		m->body = (uint32_t)b;
	}
	m->dir = dir;
	m->op = op;
	m->opcode = op ? op->code : 0;
	if (dir == FP_REQUEST)
		fp_msg_set_u64(m, fp_msg_find(m, "header.opcode"), code);
	else if (dir == FP_NOTIFY)
		fp_msg_set_u64(m, fp_msg_find(m, "header.error"), code);
	fp_msg_sync_hdr(m);
	return 0;
}

long fp_msg_append(struct fp_msg *m, long idx, const struct fp_conn *conn)
{
	struct fp_conn newest = FP_CONN_NEWEST;
	if (!conn)
		conn = &newest;
	if (idx < 0 || (uint32_t)idx >= m->nv || m->v[idx].f->kind != FP_K_ARRAY)
		return -1;
	uint32_t at = (uint32_t)idx + m->v[idx].nsub + 1;
	uint32_t old = m->nv;
	/* build the element at the end, then rotate it into place */
	long e = fp_msg_push(m);
	if (e < 0)
		return -1;
	m->v[e].f = m->v[idx].f;
	m->v[e].st = m->v[idx].st;
	m->v[e].vflags = FP_V_ELEM;
	if (build_struct(m, m->v[idx].st, conn, 0) < 0) {
		m->nv = old;
		return -1;
	}
	uint32_t add = m->nv - old;
	m->v[e].nsub = add - 1;
	uint16_t depth = m->v[idx].depth + 1;
	for (uint32_t j = old; j < m->nv; j++)
		m->v[j].depth = (uint16_t)(m->v[j].depth + (j == old ? depth : depth + 1));
	if (at < old) {
		struct fp_val *tmp = malloc((size_t)add * sizeof(*tmp));
		if (!tmp) {
			m->nv = old;
			return -1;
		}
		memcpy(tmp, &m->v[old], (size_t)add * sizeof(*tmp));
		memmove(&m->v[at + add], &m->v[at], (size_t)(old - at) * sizeof(*tmp));
		memcpy(&m->v[at], tmp, (size_t)add * sizeof(*tmp));
		free(tmp);
	}
	/* every container whose subtree reaches the array grows */
	for (uint32_t k = 0; k <= (uint32_t)idx; k++)
		if (k + m->v[k].nsub >= (uint32_t)idx)
			m->v[k].nsub += add;
	m->v[idx].u++;
	return (long)at;
}
