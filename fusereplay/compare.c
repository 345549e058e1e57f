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

int fr_id_kind(const struct fp_field *f, enum fp_dir dir)
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

/* ------------------------------------------------------------------ the walk */

struct walk {
	const struct fr_cmp_opts *o;
	const struct fp_msg *r, *l;
	int snapped;
	fr_diff_fn diff;
	fr_id_fn id;
	void *ctx;
	unsigned n;              /* differences */
	unsigned ign;            /* > 0 inside an ignored field: walked for its ids only */
	char path[1024];         /* "attr.size", "entries[\"b\"].type": for the report */
	char gen[512];           /* "attr.size", "entries.type": for --ignore */
	struct fp_sbuf a, b;
};

/* Whether --ignore or the defaults name this field (gen is its generic path). */
static int ignored(const struct walk *w, const char *name)
{
	if (!(w->o->flags & FR_CMP_STRICT))
		for (unsigned i = 0; default_ignored[i]; i++)
			if (!strcmp(default_ignored[i], name))
				return 1;
	if ((w->o->flags & FR_CMP_IGNORE_INO) && !strcmp(name, "ino"))
		return 1;
	size_t gl = strlen(w->gen);
	for (unsigned i = 0; i < w->o->nignore; i++) {
		const char *p = w->o->ignore[i];
		size_t pl = strlen(p);
		if (!strcmp(p, name) ||
		    (pl <= gl && !strcmp(w->gen + gl - pl, p) && (pl == gl || w->gen[gl - pl - 1] == '.')))
			return 1;
	}
	return 0;
}

static void report(struct walk *w, const char *rec, const char *live)
{
	if (w->ign)
		return;
	w->n++;
	if (w->diff)
		w->diff(w->ctx, w->path, rec, live);
}

/* Append ".name" (or "name" at the top), or with name NULL "[key]", an element of the
 * array just pushed; returns the old lengths for pop(). */
struct mark {
	size_t p, g;
};

static struct mark push(struct walk *w, const char *name, const char *key)
{
	struct mark m = {strlen(w->path), strlen(w->gen)};
	size_t room = sizeof(w->path) - m.p;
	if (!name) {
		snprintf(w->path + m.p, room, "[%s]", key);
		return m;
	}
	snprintf(w->path + m.p, room, "%s%s", m.p ? "." : "", name);
	snprintf(w->gen + m.g, sizeof(w->gen) - m.g, "%s%s", m.g ? "." : "", name);
	return m;
}

static void pop(struct walk *w, struct mark m)
{
	w->path[m.p] = 0;
	w->gen[m.g] = 0;
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
	uint32_t rlen = r->len - (f->kind == FP_K_STR), llen = l->len - (f->kind == FP_K_STR);
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

/* A directory listing compared as a set: each recorded entry with the live one of the same
 * name. */
static void cmp_entries_by_name(struct walk *w, uint32_t ra, uint32_t la)
{
	uint32_t lend = la + w->l->v[la].nsub, rend = ra + w->r->v[ra].nsub;
	size_t nl = w->l->v[la].u;
	uint32_t *live = calloc(nl ? nl : 1, sizeof(*live));
	uint8_t *used = calloc(nl ? nl : 1, 1);
	if (!live || !used) {
		free(live);
		free(used);
		report(w, "?", "out of memory comparing the entries");
		return;
	}
	size_t k = 0;
	for (uint32_t j = la + 1; j <= lend && k < nl; j = next_sibling(w->l, j))
		live[k++] = j;
	nl = k;
	struct fp_sbuf key = {0};
	for (uint32_t j = ra + 1; j <= rend; j = next_sibling(w->r, j)) {
		const struct fp_val *rn = entry_name(w->r, j);
		size_t m;
		for (m = 0; m < nl; m++) {
			if (used[m])
				continue;
			const struct fp_val *ln = entry_name(w->l, live[m]);
			if (rn && ln && rn->len == ln->len && !memcmp(rn->p, ln->p, rn->len))
				break;
		}
		fp_sbuf_clear(&key);
		if (rn)
			fp_sbuf_quote(&key, rn->p, rn->len);
		struct mark mk = push(w, NULL, key.s ? key.s : "?");
		if (m == nl) {
			report(w, "present", "missing");
		} else {
			used[m] = 1;
			cmp_node(w, j, live[m]);
		}
		pop(w, mk);
	}
	for (size_t m = 0; m < nl; m++) {
		if (used[m])
			continue;
		const struct fp_val *ln = entry_name(w->l, live[m]);
		fp_sbuf_clear(&key);
		if (ln)
			fp_sbuf_quote(&key, ln->p, ln->len);
		struct mark mk = push(w, NULL, key.s ? key.s : "?");
		report(w, "missing", "present");
		pop(w, mk);
	}
	fp_sbuf_free(&key);
	free(live);
	free(used);
}

static void cmp_array(struct walk *w, uint32_t ri, uint32_t li)
{
	const struct fp_val *r = &w->r->v[ri];
	if (r->u && !(w->o->flags & FR_CMP_ORDERED_READDIR) && entry_name(w->r, ri + 1)) {
		cmp_entries_by_name(w, ri, li);
		return;
	}
	uint32_t rj = ri + 1, lj = li + 1, rend = ri + r->nsub, lend = li + w->l->v[li].nsub;
	char key[24];
	for (unsigned i = 0; rj <= rend || lj <= lend; i++) {
		snprintf(key, sizeof(key), "%u", i);
		struct mark mk = push(w, NULL, key);
		if (rj > rend)
			report(w, "missing", "present");
		else if (lj > lend)
			report(w, "present", "missing");
		else
			cmp_node(w, rj, lj);
		pop(w, mk);
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
			struct mark mk = push(w, r->f->name, NULL);
			unsigned ign = ignored(w, r->f->name);
			w->ign += ign;
			cmp_node(w, rj, lj);
			w->ign -= ign;
			pop(w, mk);
			rj = next_sibling(w->r, rj);
			lj = next_sibling(w->l, lj);
			continue;
		}
		/* one side has a field the other lacks: report the first of them, skip it */
		const struct fp_val *x = r ? r : l;
		if (!(x->f->flags & FP_F_PAD) && !ignored(w, x->f->name)) {
			struct mark mk = push(w, x->f->name, NULL);
			report(w, r ? "present" : "missing", r ? "missing" : "present");
			pop(w, mk);
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
		snprintf(w.path, sizeof(w.path), "error");
		report(&w, w.a.s, w.b.s);
	} else if (live->status != FP_OK && rec->status == FP_OK) {
		snprintf(w.path, sizeof(w.path), "decode");
		report(&w, "well-formed", live->reason);
	} else if (rec->body != UINT32_MAX && live->body != UINT32_MAX) {
		cmp_node(&w, rec->body, live->body);
	} else if ((rec->body == UINT32_MAX) != (live->body == UINT32_MAX)) {
		snprintf(w.path, sizeof(w.path), "body");
		report(&w, rec->body == UINT32_MAX ? "none" : "present",
		       live->body == UINT32_MAX ? "none" : "present");
	}
	fp_sbuf_free(&w.a);
	fp_sbuf_free(&w.b);
	return w.n;
}
