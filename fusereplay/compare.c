/* Comparing two replies field by field (compare.h). Both messages are walked in parallel
 * over libproto's decoded values: structs child by child, arrays element by element (or,
 * for directory listings, entry by name), integers by value, strings and data byte for
 * byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

/* Fields that legitimately change from one run of a daemon to the next: times, and the
 * free counts of STATFS. The ids (nodeid, fh, directory offsets) are mapped, not compared;
 * generation goes with nodeid. */
static const char *const default_ignored[] = {
	"atime", "mtime", "ctime", "btime", "atimensec", "mtimensec", "ctimensec",
	"generation", "fh", "bfree", "bavail", "ffree", NULL,
};

int fr_cmp_ignore(struct fr_cmp_opts *o, const char *field)
{
	if (!*field || strspn(field, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(field) ||
	    field[0] == '.' || field[strlen(field) - 1] == '.')
		return -1;
	char **n = realloc(o->ignore, (o->nignore + 1) * sizeof(*n));
	if (!n)
		return -1;
	o->ignore = n;
	if (!(o->ignore[o->nignore] = strdup(field)))
		return -1;
	o->nignore++;
	return 0;
}

void fr_cmp_free(struct fr_cmp_opts *o)
{
	for (unsigned i = 0; i < o->nignore; i++)
		free(o->ignore[i]);
	free(o->ignore);
	o->ignore = NULL;
	o->nignore = 0;
}

void fr_cmp_ignored(const struct fr_cmp_opts *o, struct fp_sbuf *b)
{
	const char *sep = "";
	if (!(o->flags & FR_CMP_STRICT)) {
		for (unsigned i = 0; default_ignored[i]; i++, sep = " ")
			fp_sbuf_printf(b, "%s%s", sep, default_ignored[i]);
		fp_sbuf_printf(b, "%snodeid off (mapped)", sep);
	}
	if (o->flags & FR_CMP_IGNORE_INO)
		fp_sbuf_printf(b, "%sino", *sep ? " " : ""), sep = " ";
	for (unsigned i = 0; i < o->nignore; i++, sep = " ")
		fp_sbuf_printf(b, "%s%s", sep, o->ignore[i]);
	if (!b->len)
		fp_sbuf_printf(b, "nothing");
}

static int id_kind_of(const struct fp_field *f, enum fp_dir dir)
{
	const char *n = f->name;
	if (!strcmp(n, "fh") || (dir == FP_REQUEST && (!strcmp(n, "fh_in") || !strcmp(n, "fh_out"))))
		return FR_ID_FH;
	if (!strcmp(n, "nodeid") ||
	    (dir == FP_REQUEST && (!strcmp(n, "newdir") || !strcmp(n, "oldnodeid"))))
		return FR_ID_NODEID;
	if (dir == FP_REPLY && !strcmp(n, "off"))
		return FR_ID_OFF;
	return -1;
}

/* Field descriptors are libproto's static tables: the answer for each is remembered, as
 * this runs for every integer of every message replayed. */
#define KIND_CACHE 1024

int fr_id_kind(const struct fp_field *f, enum fp_dir dir)
{
	static struct {
		const struct fp_field *f;
		int8_t kind[2];
	} cache[KIND_CACHE];
	size_t i = ((uintptr_t)f >> 3) % KIND_CACHE;
	int d = dir == FP_REQUEST;
	for (size_t n = 0; n < KIND_CACHE; n++, i = (i + 1) % KIND_CACHE) {
		if (cache[i].f == f)
			return cache[i].kind[d];
		if (!cache[i].f) {
			cache[i].f = f;
			cache[i].kind[0] = (int8_t)id_kind_of(f, FP_REPLY);
			cache[i].kind[1] = (int8_t)id_kind_of(f, FP_REQUEST);
			return cache[i].kind[d];
		}
	}
	return id_kind_of(f, dir);
}

/* ------------------------------------------------------------------ the walk */

/* Where the walk is: a field, an array element by index, or a directory entry by name.
 * The path is only put into words when there is a difference to report. */
struct frame {
	const char *name;     /* a field; NULL for an element */
	const uint8_t *key;   /* an entry's name, or NULL for an element by index */
	uint32_t keylen, index;
};

#define MAX_DEPTH 32

struct walk {
	const struct fr_cmp_opts *o;
	const struct fp_msg *r, *l;
	int snapped;
	fr_diff_fn diff;
	fr_id_fn id;
	void *ctx;
	unsigned n;              /* differences */
	unsigned depth;
	struct frame f[MAX_DEPTH];
	struct fp_sbuf a, b, path;
};

static int named(const char *const *list, const char *name)
{
	for (unsigned i = 0; list[i]; i++)
		if (!strcmp(list[i], name))
			return 1;
	return 0;
}

/* Whether the defaults or --ignore take in the field where the walk is: by the name of
 * it or of a field around it, or by a dotted path that ends its generic path ("attr.size",
 * elements left out). */
static int ignored(struct walk *w)
{
	char gen[512];
	size_t gl = 0;
	gen[0] = 0;
	for (unsigned d = 0; d < w->depth; d++) {
		const char *name = w->f[d].name;
		if (!name)
			continue;
		if (!(w->o->flags & FR_CMP_STRICT) && named(default_ignored, name))
			return 1;
		if ((w->o->flags & FR_CMP_IGNORE_INO) && !strcmp(name, "ino"))
			return 1;
		for (unsigned i = 0; i < w->o->nignore; i++)
			if (!strcmp(w->o->ignore[i], name))
				return 1;
		int k = snprintf(gen + gl, sizeof(gen) - gl, "%s%s", gl ? "." : "", name);
		if (k > 0 && (size_t)k < sizeof(gen) - gl)
			gl += (size_t)k;
	}
	for (unsigned i = 0; i < w->o->nignore; i++) {
		const char *p = w->o->ignore[i];
		size_t pl = strlen(p);
		if (pl <= gl && !strcmp(gen + gl - pl, p) && (pl == gl || gen[gl - pl - 1] == '.'))
			return 1;
	}
	return 0;
}

static void report(struct walk *w, const char *rec, const char *live)
{
	if (ignored(w))
		return;
	w->n++;
	if (!w->diff)
		return;
	fp_sbuf_clear(&w->path);
	for (unsigned d = 0; d < w->depth; d++) {
		const struct frame *f = &w->f[d];
		if (f->name) {
			fp_sbuf_printf(&w->path, "%s%s", w->path.len ? "." : "", f->name);
		} else if (f->key) {
			fp_sbuf_put(&w->path, "[", 1);
			fp_sbuf_quote(&w->path, f->key, f->keylen);
			fp_sbuf_put(&w->path, "]", 1);
		} else {
			fp_sbuf_printf(&w->path, "[%u]", f->index);
		}
	}
	w->diff(w->ctx, w->path.s ? w->path.s : "", rec, live);
}

/* Enter a field (name), an element by index (name NULL, key NULL) or an entry by name. */
static int push(struct walk *w, const char *name, const uint8_t *key, uint32_t keylen,
		uint32_t index)
{
	if (w->depth == MAX_DEPTH)
		return 0;
	w->f[w->depth++] = (struct frame){name, key, keylen, index};
	return 1;
}

static void pop(struct walk *w)
{
	w->depth--;
}

static uint32_t next_sibling(const struct fp_msg *m, uint32_t i)
{
	return i + m->v[i].nsub + 1;
}

/* The bytes of a directory entry's name (READDIR's dirent, READDIRPLUS's dirent inside
 * the element), or NULL when the element has none. */
static const struct fp_val *entry_name(const struct fp_msg *m, uint32_t el)
{
	uint32_t end = el + m->v[el].nsub;
	for (uint32_t j = el + 1; j <= end; j++)
		if (!strcmp(m->v[j].f->name, "name") &&
		    (m->v[j].f->kind == FP_K_BYTES || m->v[j].f->kind == FP_K_STR))
			return &m->v[j];
	return NULL;
}

static void cmp_node(struct walk *w, uint32_t ri, uint32_t li);

static void value_text(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i)
{
	fp_sbuf_clear(b);
	fp_format_value(b, m, (long)i, 0);
}

static void cmp_leaf(struct walk *w, uint32_t ri, uint32_t li)
{
	const struct fp_val *r = &w->r->v[ri], *l = &w->l->v[li];
	const struct fp_field *f = r->f;
	if (fp_kind_is_int(f->kind)) {
		int k = fr_id_kind(f, FP_REPLY);
		if (k >= 0 && w->id)
			w->id(w->ctx, (enum fr_id_kind)k, r->u, l->u);
		if (r->u == l->u || (k >= 0 && !(w->o->flags & FR_CMP_STRICT)))
			return;
		value_text(&w->a, w->r, ri);
		value_text(&w->b, w->l, li);
		report(w, w->a.s, w->b.s);
		return;
	}
	if (f->kind != FP_K_STR && f->kind != FP_K_BYTES)
		return;
	/* a cut payload is compared over what was kept, and by its full length */
	/* a STR counts its NUL (when the decoder found one) */
	int str = f->kind == FP_K_STR;
	uint32_t rlen = r->len - (str && r->len), llen = l->len - (str && l->len);
	uint32_t full = rlen;
	if (w->snapped && f->disp == FP_D_DATA) {
		uint32_t cut = w->r->h.len - w->r->buflen;
		full = rlen + cut;
	}
	uint32_t n = rlen < llen ? rlen : llen, at = 0;
	while (at < n && r->p[at] == l->p[at])
		at++;
	if (full == llen && at == n)
		return;
	if (f->disp == FP_D_DATA || f->disp == FP_D_STRLIST) {
		char a[64], b[96];
		snprintf(a, sizeof(a), "%u bytes", full);
		if (at < n)
			snprintf(b, sizeof(b), "%u bytes, first difference at byte %u", llen, at);
		else
			snprintf(b, sizeof(b), "%u bytes", llen);
		report(w, a, b);
		return;
	}
	value_text(&w->a, w->r, ri);
	value_text(&w->b, w->l, li);
	report(w, w->a.s, w->b.s);
}

/* A live directory entry, for matching by name. */
struct named_entry {
	const uint8_t *p;
	uint32_t len, at; /* at: the element's index in v */
	int used;
};

static int entry_cmp(const void *x, const void *y)
{
	const struct named_entry *a = x, *b = y;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	int c = memcmp(a->p, b->p, a->len);
	return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* A directory listing compared as a set: each recorded entry with the live one of the same
 * name (the live names sorted, so that a listing of 10,000 entries stays quick). */
static void cmp_entries_by_name(struct walk *w, uint32_t ra, uint32_t la)
{
	uint32_t lend = la + w->l->v[la].nsub, rend = ra + w->r->v[ra].nsub;
	size_t nl = w->l->v[la].u, k = 0;
	struct named_entry *live = calloc(nl ? nl : 1, sizeof(*live));
	if (!live) {
		report(w, "?", "out of memory comparing the entries");
		return;
	}
	for (uint32_t j = la + 1; j <= lend && k < nl; j = next_sibling(w->l, j)) {
		const struct fp_val *n = entry_name(w->l, j);
		live[k++] = (struct named_entry){n ? n->p : NULL, n ? n->len : 0, j, 0};
	}
	nl = k;
	qsort(live, nl, sizeof(*live), entry_cmp);
	for (uint32_t j = ra + 1; j <= rend; j = next_sibling(w->r, j)) {
		const struct fp_val *rn = entry_name(w->r, j);
		struct named_entry want = {rn ? rn->p : NULL, rn ? rn->len : 0, 0, 0};
		/* the first live entry of that name not matched yet */
		size_t lo = 0, hi = nl;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (entry_cmp(&live[mid], &want) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo < nl && live[lo].used && live[lo].len == want.len &&
		       !memcmp(live[lo].p, want.p, want.len))
			lo++;
		int found = lo < nl && live[lo].len == want.len && !memcmp(live[lo].p, want.p, want.len);
		if (!push(w, NULL, want.p ? want.p : (const uint8_t *)"?", want.p ? want.len : 1, 0))
			continue;
		if (!found) {
			report(w, "present", "missing");
		} else {
			live[lo].used = 1;
			cmp_node(w, j, live[lo].at);
		}
		pop(w);
	}
	for (size_t m = 0; m < nl; m++) {
		if (live[m].used ||
		    !push(w, NULL, live[m].p ? live[m].p : (const uint8_t *)"?", live[m].p ? live[m].len : 1, 0))
			continue;
		report(w, "missing", "present");
		pop(w);
	}
	free(live);
}

static void cmp_array(struct walk *w, uint32_t ri, uint32_t li)
{
	const struct fp_val *r = &w->r->v[ri];
	if (r->u && !(w->o->flags & FR_CMP_ORDERED_READDIR) && entry_name(w->r, ri + 1)) {
		cmp_entries_by_name(w, ri, li);
		return;
	}
	uint32_t rj = ri + 1, lj = li + 1, rend = ri + r->nsub, lend = li + w->l->v[li].nsub;
	for (unsigned i = 0; rj <= rend || lj <= lend; i++) {
		if (push(w, NULL, NULL, 0, i)) {
			if (rj > rend)
				report(w, "missing", "present");
			else if (lj > lend)
				report(w, "present", "missing");
			else
				cmp_node(w, rj, lj);
			pop(w);
		}
		if (rj <= rend)
			rj = next_sibling(w->r, rj);
		if (lj <= lend)
			lj = next_sibling(w->l, lj);
	}
}

/* The children of two structs (or elements), matched by field: same layout, same order;
 * a field that only one side has (an older minor) is reported. */
static void cmp_children(struct walk *w, uint32_t ri, uint32_t li)
{
	uint32_t rend = ri + w->r->v[ri].nsub, lend = li + w->l->v[li].nsub;
	uint32_t rj = ri + 1, lj = li + 1;
	while (rj <= rend || lj <= lend) {
		const struct fp_val *r = rj <= rend ? &w->r->v[rj] : NULL;
		const struct fp_val *l = lj <= lend ? &w->l->v[lj] : NULL;
		if (r && l && r->f == l->f) {
			if (push(w, r->f->name, NULL, 0, 0)) {
				cmp_node(w, rj, lj);
				pop(w);
			}
			rj = next_sibling(w->r, rj);
			lj = next_sibling(w->l, lj);
			continue;
		}
		/* one side has a field the other lacks: report the first of them, skip it */
		const struct fp_val *x = r ? r : l;
		if (!(x->f->flags & FP_F_PAD) && push(w, x->f->name, NULL, 0, 0)) {
			report(w, r ? "present" : "missing", r ? "missing" : "present");
			pop(w);
		}
		if (r)
			rj = next_sibling(w->r, rj);
		else
			lj = next_sibling(w->l, lj);
	}
}

static void cmp_node(struct walk *w, uint32_t ri, uint32_t li)
{
	const struct fp_val *r = &w->r->v[ri];
	if (r->f != w->l->v[li].f) {
		report(w, r->f->name, w->l->v[li].f->name);
		return;
	}
	if ((r->f->flags & FP_F_PAD) && !(w->o->flags & FR_CMP_STRICT))
		return;
	if (r->f->kind == FP_K_ARRAY && !(r->vflags & FP_V_ELEM))
		cmp_array(w, ri, li);
	else if (r->nsub || r->f->kind == FP_K_STRUCT || r->f->kind == FP_K_EXT)
		cmp_children(w, ri, li);
	else
		cmp_leaf(w, ri, li);
}

static void errno_text(struct fp_sbuf *b, int32_t e)
{
	fp_sbuf_clear(b);
	const char *n = fp_errno_name(e);
	fp_sbuf_printf(b, "%d%s%s", e, n ? " " : "", n ? n : "");
}

unsigned fr_compare(const struct fr_cmp_opts *o, const struct fp_msg *rec, int rec_snapped,
		    const struct fp_msg *live, fr_diff_fn diff, fr_id_fn id, void *ctx)
{
	struct walk w = {
		.o = o, .r = rec, .l = live, .snapped = rec_snapped,
		.diff = diff, .id = id, .ctx = ctx,
	};
	if (rec->h.error != live->h.error) {
		errno_text(&w.a, rec->h.error);
		errno_text(&w.b, live->h.error);
		push(&w, "error", NULL, 0, 0);
		report(&w, w.a.s, w.b.s);
	} else if (live->status != FP_OK && rec->status == FP_OK) {
		push(&w, "decode", NULL, 0, 0);
		report(&w, "well-formed", live->reason);
	} else if (rec->body != UINT32_MAX && live->body != UINT32_MAX) {
		cmp_node(&w, rec->body, live->body);
	} else if ((rec->body == UINT32_MAX) != (live->body == UINT32_MAX)) {
		push(&w, "body", NULL, 0, 0);
		report(&w, rec->body == UINT32_MAX ? "none" : "present",
		       live->body == UINT32_MAX ? "none" : "present");
	}
	fp_sbuf_free(&w.a);
	fp_sbuf_free(&w.b);
	fp_sbuf_free(&w.path);
	return w.n;
}
