/* Protocol lint: the rules of fuseproto/lint.h, checked over a connection's messages with
 * the lint's own state: requests in flight and answered by unique, and lookup counts by
 * nodeid. The rules follow what the 6.18 kernel does with a reply (fs/fuse/dev.c
 * fuse_dev_do_write, dir.c, readdir.c, inode.c; PROTOCOL-NOTES.md §1.2, §1.8, §4.1). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuseproto/abi.h"
#include "fuseproto/lint.h"
#include "msgint.h"
#include "wire/hmap.h"

enum rule {
	R_UNKNOWN_UNIQUE,
	R_DOUBLE_REPLY,
	R_NOREPLY,
	R_INTERRUPT_REPLY,
	R_BAD_LEN,
	R_BAD_ERROR,
	R_MISSING_BODY,
	R_BAD_SIZE,
	R_BAD_NODEID,
	R_BAD_ATTR,
	R_WRONG_TYPE,
	R_BAD_DIRENT,
	R_DIRENT_ORDER,
	R_LONG_REPLY,
	R_LONG_WRITE,
	R_FORGOTTEN_NODEID,
	R_INIT_MAJOR,
};

const struct fp_lint_rule fp_lint_rules[] = {
	[R_UNKNOWN_UNIQUE] = {"unknown-unique",
		"a reply to a unique that is not in flight (never sent, or resent under another), "
		"or to the INTERRUPT of a request never interrupted"},
	[R_DOUBLE_REPLY] = {"double-reply", "a second reply to a request already answered"},
	[R_NOREPLY] = {"noreply",
		"a reply to FORGET, BATCH_FORGET or NOTIFY_REPLY, which take none"},
	[R_INTERRUPT_REPLY] = {"interrupt-reply",
		"a reply to an INTERRUPT that is not a bare -EAGAIN or -ENOSYS, the only ones the "
		"kernel acts on"},
	[R_BAD_LEN] = {"bad-len", "a header len that differs from the bytes of the message"},
	[R_BAD_ERROR] = {"bad-error", "a reply error that is positive or below -511"},
	[R_MISSING_BODY] = {"missing-body",
		"error 0 and no body where the reply has a fixed-size one (GETATTR, LOOKUP, "
		"OPEN, ...)"},
	[R_BAD_SIZE] = {"bad-size",
		"a reply body of the wrong size for its op at the negotiated minor, or an error "
		"reply with a body"},
	[R_BAD_NODEID] = {"bad-nodeid",
		"an entry with nodeid 0 (but LOOKUP's negative entry), or with nodeid 1, the root, "
		"for a name other than \".\" and \"..\""},
	[R_BAD_ATTR] = {"bad-attr",
		"attributes whose mode has no valid file type, or whose size is over INT64_MAX"},
	[R_WRONG_TYPE] = {"wrong-type",
		"a file type that disagrees with the request (MKDIR, SYMLINK, CREATE, MKNOD, LINK) "
		"or with the lookup of the node"},
	[R_BAD_DIRENT] = {"bad-dirent",
		"a READDIR(PLUS) record not padded to 8 bytes, with namelen 0, over 1024 or past "
		"the end, or a name holding '/' or NUL"},
	[R_DIRENT_ORDER] = {"dirent-order",
		"READDIR(PLUS) offsets that do not increase within a reply"},
	[R_LONG_REPLY] = {"long-reply",
		"READ, READDIR(PLUS), GETXATTR or LISTXATTR data longer than the size asked"},
	[R_LONG_WRITE] = {"long-write", "a WRITE reply counting more bytes than the request sent"},
	[R_FORGOTTEN_NODEID] = {"forgotten-nodeid",
		"a nodeid used after FORGETs took all its lookups, with no lookup since"},
	[R_INIT_MAJOR] = {"init-major", "an INIT reply with a major version the kernel cannot use"},
	{NULL, NULL},
};

/* --- rings --------------------------------------------------------------------------- */

/* A FIFO of keys, at most `max`: what is remembered longest goes first. */
struct ring {
	uint64_t *a;
	size_t cap, head, n, max;
};

/* Append key. Returns 1 with the key that had to make room in *old (key itself when there
 * is no room at all), else 0. */
static int ring_push(struct ring *r, uint64_t key, uint64_t *old)
{
	if (r->n == r->cap && r->cap < r->max) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		if (cap > r->max)
			cap = r->max;
		uint64_t *a = malloc(cap * sizeof(*a));
		if (a) {
			for (size_t i = 0; i < r->n; i++)
				a[i] = r->a[(r->head + i) % r->cap];
			free(r->a);
			r->a = a;
			r->cap = cap;
			r->head = 0;
		}
	}
	if (!r->cap) {
		*old = key;
		return 1;
	}
	int full = r->n == r->cap;
	if (full) {
		*old = r->a[r->head];
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
	r->a[(r->head + r->n) % r->cap] = key;
	r->n++;
	return full;
}

/* --- state ----------------------------------------------------------------------------- */

enum { Q_PENDING, Q_ANSWERED, Q_NOREPLY, Q_RESENT };

#define NAME_KEPT 48 /* bytes of a request's name kept for the texts */

/* A request by unique: in flight, or done (answered, taking no reply, resent). An
 * INTERRUPT is kept under its own odd unique until the request it interrupts is answered. */
struct req {
	struct fp_hent h;
	uint32_t opcode;
	uint8_t state;
	uint8_t has_arg;
	uint8_t dot;            /* LOOKUP of "." or ".." (NFS export lookups) */
	uint8_t namelen;        /* bytes of name kept */
	uint32_t mode;          /* MKNOD: the mode asked */
	uint64_t nodeid;
	uint64_t arg;           /* READ, READDIR(PLUS), WRITE, GETXATTR, LISTXATTR: size;
				 * INIT, CUSE_INIT: major; LINK: oldnodeid; resent: the unique it
				 * was resent as */
	char name[NAME_KEPT];   /* LOOKUP, MKNOD, MKDIR, SYMLINK, CREATE, TMPFILE, LINK */
};

/* A nodeid that entry replies handed out. nlookup 0: forgotten. */
struct node {
	struct fp_hent h;
	uint64_t nlookup;
	uint64_t forgot_by;     /* the unique of the FORGET or BATCH_FORGET that took the last */
	uint32_t type;          /* S_IFMT bits from its last entry; 0: unknown */
};

struct fp_lint {
	struct fp_hmap reqs, nodes;
	struct ring done, forgotten;
	size_t npending, nlive;
	unsigned flags;
	int init_seen;          /* the INIT request was seen: every request since is known */
	uint64_t first;         /* otherwise, the unique of the first request seen */
	int lost;               /* a request could not be tracked */
	/* the check under way */
	const struct fp_msg *m;
	fp_lint_fn fn;
	void *ctx;
	unsigned count;
	char text[384];
};

struct fp_lint *fp_lint_new(void)
{
	struct fp_lint *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->done.max = FP_LINT_MAX_DONE;
	l->forgotten.max = FP_LINT_MAX_FORGOTTEN;
	fp_hmap_init(&l->reqs, 64, NULL);
	fp_hmap_init(&l->nodes, 64, NULL);
	return l;
}

/* A request or a node: each is one allocation with its fp_hent first. */
static void hent_free(struct fp_hent *e)
{
	free(e);
}

void fp_lint_free(struct fp_lint *l)
{
	if (!l)
		return;
	fp_hmap_free(&l->reqs, hent_free);
	fp_hmap_free(&l->nodes, hent_free);
	free(l->done.a);
	free(l->forgotten.a);
	free(l);
}

void fp_lint_set_flags(struct fp_lint *l, unsigned flags)
{
	l->flags = flags;
}

static void viol(struct fp_lint *l, enum rule r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void viol(struct fp_lint *l, enum rule r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
	l->count++;
	if (l->fn)
		l->fn(l->ctx, l->m, fp_lint_rules[r].id, l->text);
}

/* p[0, n) for a text: printable ASCII as it is, other bytes as \xNN, so nothing from the
 * wire reaches a terminal raw. */
static const char *quote(char *out, size_t cap, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			out[o++] = (char)s[i];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", s[i]);
	}
	out[o] = 0;
	return out;
}

static const char *op_name(uint32_t opcode)
{
	const char *n = fp_op_name(opcode);
	return n ? n : "unknown op";
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symlink";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	}
	return NULL;
}

/* The child `name` of the value at c, or -1. */
static long fld(const struct fp_msg *m, long c, const char *name)
{
	return c < 0 ? -1 : fp_msg_field(m, c, name);
}

/* The integer child `name` of c into *u; 0 when there is none. */
static int get_u(const struct fp_msg *m, long c, const char *name, uint64_t *u)
{
	long i = fld(m, c, name);
	if (i < 0 || !fp_kind_is_int(m->v[i].f->kind))
		return 0;
	*u = m->v[i].u;
	return 1;
}

static long body(const struct fp_msg *m)
{
	return m->body == UINT32_MAX ? -1 : (long)m->body;
}

/* --- requests by unique ---------------------------------------------------------------- */

static struct req *req_find(const struct fp_lint *l, uint64_t unique)
{
	return (struct req *)fp_hmap_find(&l->reqs, unique, NULL, NULL);
}

static struct req *req_new(struct fp_lint *l, uint64_t unique)
{
	struct req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->h.key = unique;
	r->state = Q_ANSWERED; /* done until made pending */
	if (fp_hmap_add(&l->reqs, &r->h) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void req_drop(struct fp_lint *l, struct req *r)
{
	fp_hmap_del(&l->reqs, &r->h);
	free(r);
}

/* The request of `unique`, made pending with no details; NULL when it cannot be tracked. */
static struct req *req_pending(struct fp_lint *l, uint64_t unique, uint32_t opcode)
{
	struct req *r = req_find(l, unique);
	if (!r) {
		if (l->npending >= FP_LINT_MAX_PENDING || !(r = req_new(l, unique))) {
			l->lost = 1;
			return NULL;
		}
	}
	if (r->state == Q_PENDING)
		l->npending--;
	struct fp_hent h = r->h;
	memset(r, 0, sizeof(*r));
	r->h = h;
	r->opcode = opcode;
	r->state = Q_PENDING;
	l->npending++;
	return r;
}

/* The request is done (answered, no reply due, resent): remembered among the last
 * FP_LINT_MAX_DONE, to tell a second reply. r may be freed. */
static void req_done(struct fp_lint *l, struct req *r, uint8_t state)
{
	if (r->state == Q_PENDING)
		l->npending--;
	r->state = state;
	uint64_t old;
	if (ring_push(&l->done, r->h.key, &old)) {
		struct req *o = req_find(l, old);
		if (o && o->state != Q_PENDING) /* a key in the ring twice may be pending again */
			req_drop(l, o);
	}
}

/* A request that takes no reply (FORGET, BATCH_FORGET, NOTIFY_REPLY), remembered among the
 * done ones to tell a reply to it. A NOTIFY_REPLY's unique is the daemon's notify_unique,
 * which may also be a kernel request's: it is remembered only when it is nobody's. */
static void req_noreply(struct fp_lint *l, uint64_t unique, uint32_t opcode)
{
	struct req *r = req_find(l, unique);
	if (r && (r->state == Q_PENDING || opcode == FP_NOTIFY_REPLY))
		return;
	if (r || (r = req_new(l, unique)) != NULL) {
		r->opcode = opcode;
		req_done(l, r, Q_NOREPLY);
	}
}

/* Whether a reply to `unique` that the lint does not know answers nothing: it knows every
 * request since INIT, or since the first one seen (kernel uniques only grow), unless one
 * could not be tracked. */
static int knows_unique(const struct fp_lint *l, uint64_t unique)
{
	if (l->lost)
		return 0;
	return l->init_seen || (l->first && (unique & ~FP_UNIQUE_RESEND) >= l->first);
}

/* --- nodes ----------------------------------------------------------------------------- */

static struct node *node_find(const struct fp_lint *l, uint64_t nodeid)
{
	return (struct node *)fp_hmap_find(&l->nodes, nodeid, NULL, NULL);
}

static void node_drop(struct fp_lint *l, struct node *n)
{
	if (n->nlookup)
		l->nlive--;
	fp_hmap_del(&l->nodes, &n->h);
	free(n);
}

/* An entry handed out one lookup of nodeid, a node of file type `type` (0: unknown). */
static void node_ref(struct fp_lint *l, uint64_t nodeid, uint32_t type)
{
	if (nodeid <= FP_ROOT_ID) /* the root is never forgotten */
		return;
	struct node *n = node_find(l, nodeid);
	if (!n) {
		if (l->nlive >= FP_LINT_MAX_NODES || !(n = calloc(1, sizeof(*n))))
			return;
		n->h.key = nodeid;
		if (fp_hmap_add(&l->nodes, &n->h) < 0) {
			free(n);
			return;
		}
	}
	if (!n->nlookup++)
		l->nlive++;
	if (type)
		n->type = type;
}

/* FORGET (or a BATCH_FORGET item) `unique` takes nlookup lookups of nodeid. */
static void node_forget(struct fp_lint *l, uint64_t nodeid, uint64_t nlookup, uint64_t unique)
{
	struct node *n = node_find(l, nodeid);
	if (!n || !n->nlookup || !nlookup)
		return;
	if (nlookup > n->nlookup) {
		/* lookups from before the lint started (or not tracked): the count is unknown,
		 * so the node is no longer followed */
		node_drop(l, n);
		return;
	}
	n->nlookup -= nlookup;
	if (n->nlookup)
		return;
	l->nlive--;
	n->forgot_by = unique;
	uint64_t old;
	if (ring_push(&l->forgotten, nodeid, &old)) {
		struct node *o = node_find(l, old);
		if (o && !o->nlookup) /* a key in the ring twice may be live again */
			node_drop(l, o);
	}
}

/* Message m uses nodeid (`what` names the use, "GETATTR #12"). */
static void node_use(struct fp_lint *l, uint64_t nodeid, const char *what)
{
	const struct node *n = node_find(l, nodeid);
	if (nodeid > FP_ROOT_ID && n && !n->nlookup)
		viol(l, R_FORGOTTEN_NODEID,
		     "%s uses nodeid %llu, whose lookups were all forgotten by #%llu, with no "
		     "lookup since",
		     what, (unsigned long long)nodeid, (unsigned long long)n->forgot_by);
}

/* The nodeid held by field `name` of the body is used. */
static void body_use(struct fp_lint *l, const char *name, const char *what)
{
	uint64_t id;
	if (get_u(l->m, body(l->m), name, &id))
		node_use(l, id, what);
}

/* --- requests and notifications --------------------------------------------------------- */

/* Whether the request's name is exactly s. */
static int name_is(const struct fp_msg *m, const char *s)
{
	long i = fld(m, body(m), "name");
	size_t n = strlen(s);
	return i >= 0 && m->v[i].p && m->v[i].len == n + 1 && !memcmp(m->v[i].p, s, n);
}

/* Keep what the reply's checks need from the request. */
static void keep_details(struct req *r, const struct fp_msg *m)
{
	long b = body(m);
	const char *name = NULL;
	switch (m->opcode) {
	case FP_READ:
	case FP_READDIR:
	case FP_READDIRPLUS:
	case FP_WRITE:
	case FP_GETXATTR:
	case FP_LISTXATTR:
		r->has_arg = (uint8_t)get_u(m, b, "size", &r->arg);
		break;
	case FP_INIT:
	case FP_CUSE_INIT:
		r->has_arg = (uint8_t)get_u(m, b, "major", &r->arg);
		break;
	case FP_LINK:
		r->has_arg = (uint8_t)get_u(m, b, "oldnodeid", &r->arg);
		name = "newname";
		break;
	case FP_MKNOD: {
		uint64_t mode;
		if (get_u(m, b, "mode", &mode))
			r->mode = (uint32_t)mode;
		name = "name";
		break;
	}
	case FP_LOOKUP:
	case FP_MKDIR:
	case FP_SYMLINK:
	case FP_CREATE:
	case FP_TMPFILE:
		name = "name";
		break;
	}
	long i = name ? fld(m, b, name) : -1;
	if (i < 0 || !m->v[i].p)
		return;
	size_t n = m->v[i].f->kind == FP_K_STR ? m->v[i].len - 1 : m->v[i].len;
	r->dot = (n == 1 && m->v[i].p[0] == '.') || (n == 2 && !memcmp(m->v[i].p, "..", 2));
	r->namelen = (uint8_t)(n < NAME_KEPT ? n : NAME_KEPT);
	memcpy(r->name, m->v[i].p, r->namelen);
}

static void on_request(struct fp_lint *l, const struct fp_msg *m)
{
	uint64_t u = m->h.unique;
	uint32_t opcode = m->opcode;
	char what[48];
	snprintf(what, sizeof(what), "%s #%llu", op_name(opcode), (unsigned long long)u);

	if (opcode == FP_INIT)
		l->init_seen = 1;
	else if (!l->init_seen && !l->first && u && opcode != FP_INTERRUPT &&
		 opcode != FP_NOTIFY_REPLY)
		l->first = u & ~FP_UNIQUE_RESEND;

	switch (opcode) {
	case FP_FORGET: {
		uint64_t nl;
		if (get_u(m, body(m), "nlookup", &nl))
			node_forget(l, m->h.nodeid, nl, u);
		req_noreply(l, u, opcode);
		return;
	}
	case FP_BATCH_FORGET: {
		long a = fld(m, body(m), "forgets");
		for (unsigned k = 0; a >= 0; k++) {
			long e = fp_msg_child(m, a, k);
			uint64_t id, nl;
			if (e < 0)
				break;
			if (get_u(m, e, "nodeid", &id) && get_u(m, e, "nlookup", &nl))
				node_forget(l, id, nl, u);
		}
		req_noreply(l, u, opcode);
		return;
	}
	case FP_NOTIFY_REPLY:
		req_noreply(l, u, opcode);
		return;
	case FP_INTERRUPT: {
		/* kept under its odd unique (orig | 1) until the request it interrupts is
		 * answered; one that comes after that answer (the two crossed) is done at once */
		const struct req *t = req_find(l, u & ~FP_INT_REQ_BIT);
		int live = t && t->state == Q_PENDING;
		struct req *r = req_pending(l, u, opcode);
		if (r && !live)
			req_done(l, r, Q_ANSWERED);
		return;
	}
	}

	/* an NFS file handle names a nodeid the kernel may have forgotten: it asks for it anew
	 * with LOOKUP "." (fuse_get_dentry), which the daemon answers or refuses with ESTALE */
	if (!(opcode == FP_LOOKUP && name_is(m, ".")))
		node_use(l, m->h.nodeid, what);
	switch (opcode) {
	case FP_LINK:
		body_use(l, "oldnodeid", what);
		break;
	case FP_RENAME:
	case FP_RENAME2:
		body_use(l, "newdir", what);
		break;
	case FP_COPY_FILE_RANGE:
	case FP_COPY_FILE_RANGE_64:
		body_use(l, "nodeid_out", what);
		break;
	}

	/* queued again after NOTIFY_RESEND with bit 63 set: the original unique is no longer
	 * in flight */
	if (u & FP_UNIQUE_RESEND) {
		struct req *o = req_find(l, u & ~FP_UNIQUE_RESEND);
		if (o && o->state == Q_PENDING) {
			o->arg = u;
			req_done(l, o, Q_RESENT);
		}
	}
	struct req *r = req_pending(l, u, opcode);
	if (r) {
		r->nodeid = m->h.nodeid;
		keep_details(r, m);
	}
}

/* Notifications name nodeids the daemon still holds lookups of. The daemon may write one
 * before it reads a FORGET that the lint has already seen, so a live trace can show this
 * race; the kernel then answers ENOENT. PRUNE is left out: it asks the kernel to forget,
 * and a nodeid already forgotten is what it wants. */
static void on_notify(struct fp_lint *l, const struct fp_msg *m)
{
	const char *n = m->op ? m->op->name : "notification";
	switch (m->opcode) {
	case FP_NOTIFY_INVAL_INODE:
		body_use(l, "ino", n);
		break;
	case FP_NOTIFY_INVAL_ENTRY:
		body_use(l, "parent", n);
		break;
	case FP_NOTIFY_STORE:
	case FP_NOTIFY_RETRIEVE:
		body_use(l, "nodeid", n);
		break;
	case FP_NOTIFY_DELETE:
		body_use(l, "parent", n);
		body_use(l, "child", n);
		break;
	}
}

/* --- replies --------------------------------------------------------------------------- */

/* Add the bytes of the fields of st present at conn: to *min those every body has (up to
 * the first optional or variable field), to *max all of them (UINT32_MAX once one varies). */
static void bounds(const struct fp_struct *st, const struct fp_conn *conn, uint32_t *min,
		   uint32_t *max, int *open)
{
	for (unsigned k = 0; k < st->n; k++) {
		const struct fp_field *f = &st->fields[k];
		if (!fp_field_present(f, conn))
			continue;
		if (f->kind == FP_K_STRUCT) {
			bounds(f->sub, conn, min, max, open);
			continue;
		}
		unsigned w = fp_kind_width((enum fp_kind)f->kind);
		if (!w) {
			*open = 1;
			*max = UINT32_MAX;
			continue;
		}
		if (f->flags & FP_F_OPT)
			*open = 1;
		if (!*open)
			*min += w;
		if (*max != UINT32_MAX)
			*max += w;
	}
}

/* What a reply's checks know of its request. */
struct asked {
	uint32_t opcode;
	int has_arg, dot;
	uint32_t mode;
	uint64_t nodeid, arg;
	char name[NAME_KEPT * 4 + 1]; /* quoted */
};

/* The body of a successful reply has the size of its layout at conn. Returns 0 when it
 * does not (the kernel then fails the request with EIO). */
static int check_size(struct fp_lint *l, const struct fp_msg *m, const struct asked *q,
		      const struct fp_conn *conn)
{
	const struct fp_op *op = fp_op_get(q->opcode);
	if (!op)
		return 0;
	/* a layout chosen by the request's size is known only with it */
	if (op->rep_for && !q->has_arg)
		return 1;
	const struct fp_struct *lay = fp_op_reply_layout(op, q->arg);
	uint32_t min = 0, max = 0, len = m->h.len - 16;
	int open = 0;
	if (lay)
		bounds(lay, conn, &min, &max, &open);
	if (len == 0 && min > 0) {
		if (min == max)
			viol(l, R_MISSING_BODY,
			     "%s reply with error 0 and no body: its %u-byte %s is due", op->name,
			     min, lay->name);
		else
			viol(l, R_MISSING_BODY,
			     "%s reply with error 0 and no body: at least %u bytes of %s are due",
			     op->name, min, lay->name);
		return 0;
	}
	if (len >= min && len <= max)
		return 1;
	if (min == max)
		viol(l, R_BAD_SIZE, "%s reply body of %u bytes, %u due at 7.%u", op->name, len, min,
		     conn->minor);
	else if (len < min)
		viol(l, R_BAD_SIZE, "%s reply body of %u bytes, at least %u due", op->name, len,
		     min);
	else
		viol(l, R_BAD_SIZE, "%s reply body of %u bytes, at most %u", op->name, len, max);
	return 0;
}

/* The fuse_attr at a is one the kernel accepts (fuse_invalid_attr): a file type it knows
 * and a size that fits a loff_t. Returns its mode's S_IFMT bits, or 0 when it is refused
 * or absent. `what` names the reply ("LOOKUP reply", "READDIRPLUS entry 3"). */
static uint32_t check_attr(struct fp_lint *l, long a, const char *what)
{
	uint64_t mode, size;
	if (!get_u(l->m, a, "mode", &mode) || !get_u(l->m, a, "size", &size))
		return 0;
	if (!type_name((uint32_t)mode)) {
		viol(l, R_BAD_ATTR, "%s: attr.mode 0%llo has no valid file type", what,
		     (unsigned long long)mode);
		return 0;
	}
	if (size > INT64_MAX) {
		viol(l, R_BAD_ATTR, "%s: attr.size %llu is over INT64_MAX", what,
		     (unsigned long long)size);
		return 0;
	}
	return (uint32_t)mode & S_IFMT;
}

/* The type a reply gives to a node known from its lookup. */
static void check_known_type(struct fp_lint *l, uint64_t nodeid, uint32_t type, const char *what)
{
	const struct node *n = node_find(l, nodeid);
	if (type && n && n->nlookup && n->type && n->type != type)
		viol(l, R_WRONG_TYPE, "%s says nodeid %llu is %s, its lookup said %s", what,
		     (unsigned long long)nodeid, type_name(type), type_name(n->type));
}

/* The fuse_entry_out at eo of a reply to q (LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE,
 * TMPFILE): counts the lookup it hands out when the kernel takes it. */
static void check_entry(struct fp_lint *l, long eo, const struct asked *q)
{
	const struct fp_msg *m = l->m;
	const char *opn = op_name(q->opcode);
	char what[32];
	uint64_t id, gen = 0;
	if (!get_u(m, eo, "nodeid", &id))
		return;
	get_u(m, eo, "generation", &gen);
	snprintf(what, sizeof(what), "%s reply", opn);

	if (q->opcode == FP_LOOKUP) {
		/* nodeid 0 with error 0 is the documented negative entry: the kernel caches the
		 * name's absence for entry_valid (fuse_lookup_name: "Zero nodeid is same as
		 * -ENOENT, but with valid timeout") and reads no attributes */
		if (id == 0)
			return;
		uint32_t type = check_attr(l, fld(m, eo, "attr"), what);
		if (!type)
			return;
		if (id == FP_ROOT_ID) {
			/* the root is found by name only through the NFS export lookups of "." and
			 * ".."; fuse_lookup refuses it for any other name with EIO, and the kernel
			 * forces the root's generation to 0 with a warning */
			if (!q->dot)
				viol(l, R_BAD_NODEID,
				     "LOOKUP reply gives nodeid 1, the root, to \"%s\"", q->name);
			else if (gen)
				viol(l, R_BAD_NODEID,
				     "LOOKUP reply gives the root with generation %llu; the root's "
				     "is 0", (unsigned long long)gen);
			return;
		}
		node_ref(l, id, type);
		return;
	}

	/* the creating ops: nodeid 0 and 1, bad attributes and the wrong type all end in EIO
	 * (create_new_entry, fuse_create_open), and no lookup is taken */
	if (id == 0 || id == FP_ROOT_ID) {
		viol(l, R_BAD_NODEID, "%s reply gives nodeid %llu%s to \"%s\"", opn,
		     (unsigned long long)id, id ? ", the root," : "", q->name);
		return;
	}
	uint32_t type = check_attr(l, fld(m, eo, "attr"), what);
	if (!type)
		return;
	uint32_t want = 0;
	switch (q->opcode) {
	case FP_MKDIR:
		want = S_IFDIR;
		break;
	case FP_SYMLINK:
		want = S_IFLNK;
		break;
	case FP_CREATE:
	case FP_TMPFILE:
		want = S_IFREG;
		break;
	case FP_MKNOD:
		want = type_name(q->mode) ? (q->mode & S_IFMT) : 0;
		break;
	case FP_LINK: {
		const struct node *n = q->has_arg ? node_find(l, q->arg) : NULL;
		want = n && n->nlookup ? n->type : 0;
		break;
	}
	}
	if (want && type != want) {
		viol(l, R_WRONG_TYPE, "%s reply makes \"%s\" %s, %s was asked", opn, q->name,
		     type_name(type), type_name(want));
		return;
	}
	node_ref(l, id, type);
}

/* READDIR and READDIRPLUS records, checked as parse_dirfile and parse_dirplusfile read them:
 * the kernel fails the whole reply with EIO on namelen 0 or over FUSE_NAME_MAX and on a
 * name with '/', and silently drops a record that runs past the end. */
static void check_dirents(struct fp_lint *l, const struct asked *q)
{
	const struct fp_msg *m = l->m;
	int plus = q->opcode == FP_READDIRPLUS;
	const char *opn = op_name(q->opcode);
	uint32_t fixed = plus ? FP_NAME_OFFSET_DIRENTPLUS : FP_NAME_OFFSET;
	uint32_t end = m->h.len;
	long a = fld(m, body(m), "entries");
	uint64_t prev = 0;
	char name[4 * 64 + 1];
	for (unsigned k = 0; a >= 0; k++) {
		long e = fp_msg_child(m, a, k);
		if (e < 0)
			break;
		uint32_t start = m->v[e].off;
		long d = plus ? fld(m, e, "dirent") : e;
		uint64_t n, off;
		long nm = fld(m, d, "name");
		if (!get_u(m, d, "namelen", &n) || !get_u(m, d, "off", &off)) {
			/* the decoder stopped in the fixed part: bytes the kernel ignores, or bytes
			 * a capture did not keep */
			if (end - start < fixed)
				viol(l, R_BAD_DIRENT,
				     "%s reply ends with %u bytes that are no record", opn,
				     end - start);
			break;
		}
		if (n == 0 || n > FP_NAME_MAX) {
			viol(l, R_BAD_DIRENT, "%s entry %u: namelen %llu", opn, k,
			     (unsigned long long)n);
			break;
		}
		uint64_t rec = plus ? FP_DIRENTPLUS_SIZE(n) : FP_DIRENT_SIZE(n);
		if (start + fixed + n > end) {
			viol(l, R_BAD_DIRENT,
			     "%s entry %u: namelen %llu runs %llu bytes past the end", opn, k,
			     (unsigned long long)n,
			     (unsigned long long)(start + fixed + n - end));
			break;
		}
		if (start + rec > end) {
			viol(l, R_BAD_DIRENT,
			     "%s entry %u is not padded to 8 bytes: the reply ends %u bytes into "
			     "its %llu-byte record, which the kernel drops",
			     opn, k, end - start, (unsigned long long)rec);
			break;
		}
		if (nm < 0 || m->v[nm].len < n) /* cut by a capture */
			break;
		const uint8_t *p = m->v[nm].p;
		quote(name, sizeof(name), p, n < 64 ? n : 64);
		if (memchr(p, '/', n)) {
			viol(l, R_BAD_DIRENT, "%s entry %u: name \"%s\" holds '/'", opn, k, name);
			break;
		}
		if (memchr(p, 0, n))
			viol(l, R_BAD_DIRENT, "%s entry %u: name \"%s\" holds a NUL", opn, k, name);
		if (k && off <= prev)
			viol(l, R_DIRENT_ORDER, "%s entry %u (\"%s\"): off %llu after off %llu",
			     opn, k, name, (unsigned long long)off, (unsigned long long)prev);
		prev = off;

		/* fuse_direntplus_link: nodeid 0 means no entry, "." and ".." are skipped; the
		 * rest is linked and counts as a lookup, or gets a FORGET of its own when
		 * linking fails (but for the root, which is never counted) */
		uint64_t id;
		long eo = plus ? fld(m, e, "entry_out") : -1;
		if (!plus || !get_u(m, eo, "nodeid", &id) || id == 0 ||
		    (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			continue;
		if (id == FP_ROOT_ID) {
			viol(l, R_BAD_NODEID,
			     "READDIRPLUS entry %u gives nodeid 1, the root, to \"%s\"", k, name);
			continue;
		}
		char what[64];
		snprintf(what, sizeof(what), "READDIRPLUS entry %u (\"%.16s\")", k, name);
		node_ref(l, id, check_attr(l, fld(m, eo, "attr"), what));
	}
}

static void check_init(struct fp_lint *l, const struct asked *q)
{
	uint64_t major;
	if (!get_u(l->m, body(l->m), "major", &major))
		return;
	uint64_t kernel = q->has_arg ? q->arg : FP_KERNEL_VERSION;
	if (q->opcode == FP_CUSE_INIT || major > kernel) {
		/* the uapi: a daemon with a newer major falls back to the kernel's */
		if (major != kernel)
			viol(l, R_INIT_MAJOR, "%s reply with major %llu; the kernel's is %llu",
			     op_name(q->opcode), (unsigned long long)major,
			     (unsigned long long)kernel);
	} else if (major < kernel && major < FP_KERNEL_VERSION) {
		/* a lower major asks the kernel to retry INIT with it, which only a kernel
		 * newer than 7 could do; Linux knows only 7 and never sends a second INIT
		 * (process_init_reply refuses any other major and the connection fails) */
		viol(l, R_INIT_MAJOR, "INIT reply with major %llu; the kernel speaks %llu and has "
		     "no older major to retry with", (unsigned long long)major,
		     (unsigned long long)kernel);
	}
}

/* A reply to INTERRUPT: the kernel takes it only while the interrupted request is in
 * flight, then acts on -ENOSYS (no more interrupts) and -EAGAIN (interrupt again) and
 * ignores everything else. */
static void on_interrupt_reply(struct fp_lint *l, const struct fp_msg *m)
{
	uint64_t target = m->h.unique & ~FP_INT_REQ_BIT;
	const struct req *r = req_find(l, m->h.unique);
	if (!r || r->opcode != FP_INTERRUPT) {
		if (knows_unique(l, target))
			viol(l, R_UNKNOWN_UNIQUE,
			     "reply to the INTERRUPT of unique %llu, which was never interrupted",
			     (unsigned long long)target);
		return;
	}
	/* once the request is answered the kernel refuses this with ENOENT: a race libfuse
	 * runs into by design (it answers EAGAIN to interrupts it could not match yet) */
	if (m->h.len != 16)
		viol(l, R_INTERRUPT_REPLY,
		     "reply to the INTERRUPT of #%llu with %u bytes of body; it must be the "
		     "16-byte header alone", (unsigned long long)target, m->h.len - 16);
	else if (m->h.error != -EAGAIN && m->h.error != -ENOSYS) {
		const char *e = fp_errno_name(m->h.error);
		viol(l, R_INTERRUPT_REPLY,
		     "reply %d%s%s to the INTERRUPT of #%llu: the kernel acts only on -EAGAIN and "
		     "-ENOSYS (answer the interrupted request itself, usually with -EINTR)",
		     m->h.error, e ? " " : "", e ? e : "", (unsigned long long)target);
	}
}

static void on_reply(struct fp_lint *l, const struct fp_msg *m, const struct fp_conn *conn)
{
	uint64_t u = m->h.unique;
	int32_t err = m->h.error;
	/* the kernel refuses these before it looks for the request, which stays in flight */
	if (err > 0) {
		viol(l, R_BAD_ERROR, "error %d is positive; errors are negative errno values", err);
		return;
	}
	if (err < -511) {
		viol(l, R_BAD_ERROR, "error %d is below -511", err);
		return;
	}
	if (u & FP_INT_REQ_BIT) {
		on_interrupt_reply(l, m);
		return;
	}
	struct req *r = req_find(l, u);
	if (!r) {
		if (knows_unique(l, u))
			viol(l, R_UNKNOWN_UNIQUE, "reply to unique %llu, which is not in flight",
			     (unsigned long long)u);
		return;
	}
	switch (r->state) {
	case Q_ANSWERED:
		viol(l, R_DOUBLE_REPLY, "second reply to %s #%llu", op_name(r->opcode),
		     (unsigned long long)u);
		return;
	case Q_NOREPLY:
		viol(l, R_NOREPLY, "reply to %s #%llu, which takes no reply", op_name(r->opcode),
		     (unsigned long long)u);
		return;
	case Q_RESENT:
		viol(l, R_UNKNOWN_UNIQUE, "reply to unique %llu, which the kernel resent as %llu",
		     (unsigned long long)u, (unsigned long long)r->arg);
		return;
	}

	struct asked q = {.opcode = r->opcode, .has_arg = r->has_arg, .dot = r->dot,
			  .mode = r->mode, .nodeid = r->nodeid, .arg = r->arg};
	quote(q.name, sizeof(q.name), r->name, r->namelen);
	struct req *intr = req_find(l, u | FP_INT_REQ_BIT);
	if (intr && intr->state == Q_PENDING)
		req_done(l, intr, Q_ANSWERED);
	req_done(l, r, Q_ANSWERED);

	if (err) {
		if (m->h.len != 16) {
			const char *e = fp_errno_name(err);
			viol(l, R_BAD_SIZE,
			     "error reply %d%s%s with %u bytes of body; it must be the 16-byte "
			     "header alone",
			     err, e ? " " : "", e ? e : "", m->h.len - 16);
		}
		return;
	}
	/* the content checks read the values the session decoded with the request's layout */
	if (!check_size(l, m, &q, conn) || m->opcode != q.opcode || !m->op)
		return;

	uint32_t len = m->h.len - 16;
	switch (q.opcode) {
	case FP_READ:
	case FP_READDIR:
	case FP_READDIRPLUS:
	case FP_GETXATTR:
	case FP_LISTXATTR:
		/* size 0 asks GETXATTR and LISTXATTR for the length only (fuse_getxattr_out) */
		if (q.has_arg && q.arg && len > q.arg) {
			viol(l, R_LONG_REPLY, "%s reply of %u bytes, %llu asked", op_name(q.opcode),
			     len, (unsigned long long)q.arg);
			return;
		}
		break;
	}

	switch (q.opcode) {
	case FP_LOOKUP:
	case FP_MKNOD:
	case FP_MKDIR:
	case FP_SYMLINK:
	case FP_LINK:
		check_entry(l, body(m), &q);
		break;
	case FP_CREATE:
	case FP_TMPFILE:
		check_entry(l, fld(m, body(m), "entry"), &q);
		break;
	case FP_GETATTR:
	case FP_SETATTR: {
		char what[48];
		snprintf(what, sizeof(what), "%s reply", op_name(q.opcode));
		check_known_type(l, q.nodeid, check_attr(l, fld(m, body(m), "attr"), what), what);
		break;
	}
	case FP_STATX: {
		/* fuse_do_statx checks the type and size only when the reply's mask has them */
		long st = fld(m, body(m), "stat");
		uint64_t mask, mode, size;
		if (!get_u(m, st, "mask", &mask) || !get_u(m, st, "mode", &mode) ||
		    !get_u(m, st, "size", &size))
			break;
		if ((mask & 0x1) && !type_name((uint32_t)mode))
			viol(l, R_BAD_ATTR, "STATX reply: stat.mode 0%llo has no valid file type",
			     (unsigned long long)mode);
		else if (mask & 0x1)
			check_known_type(l, q.nodeid, (uint32_t)mode & S_IFMT, "STATX reply");
		if ((mask & 0x200) && size > INT64_MAX)
			viol(l, R_BAD_ATTR, "STATX reply: stat.size %llu is over INT64_MAX",
			     (unsigned long long)size);
		break;
	}
	case FP_READDIR:
	case FP_READDIRPLUS:
		check_dirents(l, &q);
		break;
	case FP_WRITE: {
		uint64_t size;
		/* fuse_perform_write and friends fail with EIO when more is claimed than sent */
		if (q.has_arg && get_u(m, body(m), "size", &size) && size > q.arg)
			viol(l, R_LONG_WRITE,
			     "WRITE reply counts %llu bytes written, %llu were sent",
			     (unsigned long long)size, (unsigned long long)q.arg);
		break;
	}
	case FP_INIT:
	case FP_CUSE_INIT:
		check_init(l, &q);
		break;
	}
}

unsigned fp_lint_check(struct fp_lint *l, const struct fp_msg *m, enum fp_origin from,
		       const struct fp_conn *conn, fp_lint_fn fn, void *ctx)
{
	const struct fp_conn newest = FP_CONN_NEWEST;
	l->m = m;
	l->fn = fn;
	l->ctx = ctx;
	l->count = 0;
	uint32_t hsize = from == FP_FROM_KERNEL ? 40 : 16;
	if (m->buflen < hsize) {
		viol(l, R_BAD_LEN, "message of %u bytes, shorter than the %u-byte header",
		     m->buflen, hsize);
		return l->count;
	}
	int snapped = (l->flags & FP_LINT_SNAPPED) && m->buflen < m->h.len;
	if (m->h.len != m->buflen && !snapped) {
		viol(l, R_BAD_LEN, "header len %u, message %u bytes", m->h.len, m->buflen);
		/* the kernel refuses the whole write (EINVAL) */
		if (from == FP_FROM_DAEMON)
			return l->count;
	}
	if (from == FP_FROM_KERNEL)
		on_request(l, m);
	else if (m->dir == FP_NOTIFY)
		on_notify(l, m);
	else
		on_reply(l, m, conn ? conn : &newest);
	return l->count;
}
