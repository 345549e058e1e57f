/* Per-connection state: version from INIT, pending requests by unique, RETRIEVEs by
 * notify_unique, and nodes by nodeid and by (parent, name), all with counted memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "fuseproto/session.h"
#include "msgint.h"
#include "wire/cursor.h"
#include "wire/hmap.h"

struct pend {
	struct fp_hent h;       /* key: unique */
	struct pend *older, *newer;
	uint32_t opcode;
	uint64_t arg;
	uint64_t ts;
	uint64_t nodeid;
	uint64_t newdir;
	char *name, *name2;     /* the request's name(s): LOOKUP name, RENAME old and new,
				 * in the same allocation, after the struct */
	size_t size;            /* of that allocation */
};

/* One name of a node: (parent, name). A node has several when it has hard links. */
struct link {
	struct fp_hent byname;  /* key: hash of (parent, name) */
	struct node *node;
	struct link *next;      /* the node's other names */
	uint64_t parent;
	size_t namelen;
	char name[];            /* NUL-terminated */
};

struct node {
	struct fp_hent h;       /* key: nodeid */
	struct link *links;     /* its names, the one shown in paths first; NULL: none known */
	uint64_t nlookup;
};

struct fp_session {
	struct fp_conn conn;
	uint64_t kernel_flags;  /* from the INIT request */
	uint32_t kernel_minor;
	struct fp_hmap pending, retrieves, nodes, names;
	struct pend *oldest, *newest;
	size_t mem;
	int negotiated;         /* conn comes from INIT (or fp_session_set_conn) */
	int midsession;         /* started after INIT (fp_session_set_conn) */
	uint64_t first_unique;  /* then: the first request seen; replies to older ones answer
				 * requests from before the start, not nothing */
};

static void *xalloc(struct fp_session *s, size_t n)
{
	void *p = calloc(1, n);
	if (p)
		s->mem += n;
	return p;
}

/* The same, not zeroed: for what is filled in at once (a request, on every request). */
static void *xmalloc(struct fp_session *s, size_t n)
{
	void *p = malloc(n);
	if (p)
		s->mem += n;
	return p;
}

static void xfree(struct fp_session *s, void *p, size_t n)
{
	if (p) {
		s->mem -= n;
		free(p);
	}
}

/* --- nodes ------------------------------------------------------------------------- */

static uint64_t name_key(uint64_t parent, const char *name)
{
	uint64_t h = fp_hmap_mix(parent) ^ UINT64_C(0xcbf29ce484222325);
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * UINT64_C(0x100000001b3);
	return h;
}

struct name_q {
	uint64_t parent;
	const char *name;
};

static int name_match(const struct fp_hent *e, const void *arg)
{
	const struct link *k = (const struct link *)e;
	const struct name_q *q = arg;
	return k->parent == q->parent && strcmp(k->name, q->name) == 0;
}

static struct node *node_get(const struct fp_session *s, uint64_t nodeid)
{
	return (struct node *)fp_hmap_find(&s->nodes, nodeid, NULL, NULL);
}

static struct link *link_find(const struct fp_session *s, uint64_t parent, const char *name)
{
	struct name_q q = {parent, name};
	return (struct link *)fp_hmap_find(&s->names, name_key(parent, name), name_match, &q);
}

static struct node *node_by_name(const struct fp_session *s, uint64_t parent, const char *name)
{
	struct link *k = link_find(s, parent, name);
	return k ? k->node : NULL;
}

/* Remove one name from its node. */
static void link_drop(struct fp_session *s, struct link *k)
{
	struct link **pp = &k->node->links;
	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp)
		*pp = k->next;
	fp_hmap_del(&s->names, &k->byname);
	xfree(s, k, sizeof(*k) + k->namelen + 1);
}

/* (parent, name) now names node n, as its first name (the one paths show); whatever it
 * named before loses it. */
static void node_name(struct fp_session *s, struct node *n, uint64_t parent, const char *name)
{
	struct link *k = link_find(s, parent, name);
	if (k && k->node == n && n->links == k)
		return;
	if (k)
		link_drop(s, k);
	size_t len = strlen(name);
	if (!(k = xmalloc(s, sizeof(*k) + len + 1)))
		return;
	memcpy(k->name, name, len + 1);
	k->namelen = len;
	k->node = n;
	k->parent = parent;
	k->byname.key = name_key(parent, name);
	if (fp_hmap_add(&s->names, &k->byname) < 0) {
		xfree(s, k, sizeof(*k) + len + 1);
		return;
	}
	k->next = n->links;
	n->links = k;
}

/* The name (parent, name) is gone (UNLINK, RMDIR, overwritten by a RENAME). */
static void name_gone(struct fp_session *s, uint64_t parent, const char *name)
{
	struct link *k = link_find(s, parent, name);
	if (k)
		link_drop(s, k);
}

static void node_drop(struct fp_session *s, struct node *n)
{
	while (n->links)
		link_drop(s, n->links);
	fp_hmap_del(&s->nodes, &n->h);
	xfree(s, n, sizeof(*n));
}

/* A reply handed out a lookup reference to nodeid under (parent, name). */
static void learn(struct fp_session *s, uint64_t nodeid, uint64_t parent, const char *name)
{
	if (nodeid == 0 || nodeid == FP_ROOT_ID || !name)
		return;
	struct node *n = node_get(s, nodeid);
	if (!n) {
		if (s->nodes.n >= FP_SESSION_MAX_NODES || !(n = xalloc(s, sizeof(*n))))
			return;
		n->h.key = nodeid;
		if (fp_hmap_add(&s->nodes, &n->h) < 0) {
			xfree(s, n, sizeof(*n));
			return;
		}
	}
	n->nlookup++;
	node_name(s, n, parent, name);
}

static void forget(struct fp_session *s, uint64_t nodeid, uint64_t nlookup)
{
	struct node *n = node_get(s, nodeid);
	if (!n)
		return;
	if (nlookup >= n->nlookup)
		node_drop(s, n);
	else
		n->nlookup -= nlookup;
}

const char *fp_session_path(const struct fp_session *s, uint64_t nodeid, char *buf, size_t cap)
{
	if (cap < 2)
		return NULL;
	size_t pos = cap - 1;
	buf[pos] = 0;
	for (unsigned depth = 0; nodeid != FP_ROOT_ID; depth++) {
		const struct node *n = node_get(s, nodeid);
		if (!n || !n->links || depth > 4096)
			return NULL;
		const struct link *k = n->links;
		size_t l = k->namelen;
		if (l + 1 > pos)
			return NULL;
		pos -= l;
		memcpy(buf + pos, k->name, l);
		buf[--pos] = '/';
		nodeid = k->parent;
	}
	if (pos == cap - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, cap - pos);
	return buf;
}

/* --- pending requests --------------------------------------------------------------- */

static void pend_free(struct fp_session *s, struct pend *p)
{
	fp_hmap_del(&s->pending, &p->h);
	if (p->older)
		p->older->newer = p->newer;
	else
		s->oldest = p->newer;
	if (p->newer)
		p->newer->older = p->older;
	else
		s->newest = p->older;
	xfree(s, p, p->size);
}

/* A STR or BYTES value of the body by name that can be a C string: its bytes, with their
 * number in *n; NULL if absent or holding a NUL. */
static const uint8_t *body_name(const struct fp_msg *m, const char *name, size_t *n)
{
	long i = fp_msg_find(m, name);
	if (i < 0 || !m->v[i].p)
		return NULL;
	const struct fp_val *v = &m->v[i];
	*n = v->f->kind == FP_K_STR ? v->len - 1 : v->len;
	return memchr(v->p, 0, *n) ? NULL : v->p;
}

/* A copy of name[0, n) as a C string at `at`; returns it, or NULL for no name. */
static char *put_name(char **at, const uint8_t *name, size_t n)
{
	if (!name)
		return NULL;
	char *d = *at;
	memcpy(d, name, n);
	d[n] = 0;
	*at += n + 1;
	return d;
}

static uint64_t body_u64(const struct fp_msg *m, const char *name)
{
	long i = fp_msg_find(m, name);
	return i >= 0 ? m->v[i].u : 0;
}

static void track_request(struct fp_session *s, const struct fp_msg *m, uint64_t ts)
{
	const struct fp_op *op = m->op;
	if (!op || (op->flags & FP_OP_NOREPLY) || s->pending.n >= FP_SESSION_MAX_PENDING)
		return;
	struct pend *old = (struct pend *)fp_hmap_find(&s->pending, m->h.unique, NULL, NULL);
	if (old)
		pend_free(s, old);
	/* a request queued again after NOTIFY_RESEND carries bit 63: the original unique will
	 * never be answered */
	if ((m->h.unique & FP_UNIQUE_RESEND) &&
	    (old = (struct pend *)fp_hmap_find(&s->pending, m->h.unique & ~FP_UNIQUE_RESEND, NULL, NULL)))
		pend_free(s, old);
	/* the names it carries, kept with it in one allocation */
	const uint8_t *n1 = NULL, *n2 = NULL;
	size_t l1 = 0, l2 = 0;
	switch (op->code) {
	case FP_LINK:
		n1 = body_name(m, "newname", &l1);
		break;
	case FP_RENAME:
	case FP_RENAME2:
		n1 = body_name(m, "oldname", &l1);
		n2 = body_name(m, "newname", &l2);
		break;
	default:
		if ((op->flags & FP_OP_ENTRY) || op->code == FP_UNLINK || op->code == FP_RMDIR)
			n1 = body_name(m, "name", &l1);
	}
	size_t size = sizeof(struct pend) + (n1 ? l1 + 1 : 0) + (n2 ? l2 + 1 : 0);
	struct pend *p = xmalloc(s, size);
	if (!p)
		return;
	*p = (struct pend){.h.key = m->h.unique, .opcode = op->code, .ts = ts,
			   .nodeid = m->h.nodeid, .size = size};
	char *at = (char *)(p + 1);
	p->name = put_name(&at, n1, l1);
	p->name2 = put_name(&at, n2, l2);
	if (op->arg)
		p->arg = body_u64(m, op->arg);
	if (op->code == FP_RENAME || op->code == FP_RENAME2) {
		p->newdir = body_u64(m, "newdir");
		p->arg = op->code == FP_RENAME2 ? body_u64(m, "flags") : 0;
	}
	if (fp_hmap_add(&s->pending, &p->h) < 0) {
		xfree(s, p, size);
		return;
	}
	p->older = s->newest;
	if (s->newest)
		s->newest->newer = p;
	else
		s->oldest = p;
	s->newest = p;
}

static void request_effects(struct fp_session *s, struct fp_msg *m)
{
	switch (m->opcode) {
	case FP_INIT: {
		s->kernel_minor = (uint32_t)body_u64(m, "minor");
		uint64_t f = body_u64(m, "flags");
		if (f & FP_INIT_EXT)
			f |= body_u64(m, "flags2") << 32;
		s->kernel_flags = f;
		break;
	}
	case FP_FORGET:
		forget(s, m->h.nodeid, body_u64(m, "nlookup"));
		break;
	case FP_BATCH_FORGET: {
		long a = fp_msg_find(m, "forgets");
		for (unsigned k = 0; a >= 0; k++) {
			long e = fp_msg_child(m, a, k);
			if (e < 0)
				break;
			long id = fp_msg_field(m, e, "nodeid"), nl = fp_msg_field(m, e, "nlookup");
			if (id >= 0 && nl >= 0)
				forget(s, m->v[id].u, m->v[nl].u);
		}
		break;
	}
	case FP_INTERRUPT:
		m->link = body_u64(m, "unique");
		m->linked = fp_hmap_find(&s->pending, m->link, NULL, NULL) != NULL;
		break;
	case FP_NOTIFY_REPLY: {
		m->link = m->h.unique;
		struct fp_hent *r = fp_hmap_find(&s->retrieves, m->h.unique, NULL, NULL);
		m->linked = r != NULL;
		if (r) {
			fp_hmap_del(&s->retrieves, r);
			xfree(s, r, sizeof(*r));
		}
		break;
	}
	}
}

static void reply_effects(struct fp_session *s, struct fp_msg *m, const struct pend *p)
{
	if (m->h.error != 0 || m->status != FP_OK)
		return;
	const struct fp_op *op = m->op;
	if (op->flags & FP_OP_ENTRY) {
		long i = fp_msg_find(m, "nodeid");
		if (i < 0)
			i = fp_msg_find(m, "entry.nodeid");
		if (i >= 0 && p->name && p->opcode != FP_TMPFILE)
			learn(s, m->v[i].u, p->nodeid, p->name);
		return;
	}
	switch (op->code) {
	case FP_INIT: {
		uint64_t f = body_u64(m, "flags");
		if (f & FP_INIT_EXT)
			f |= body_u64(m, "flags2") << 32;
		uint32_t minor = (uint32_t)body_u64(m, "minor");
		s->conn.major = (uint32_t)body_u64(m, "major");
		s->conn.minor = minor < s->kernel_minor ? minor : s->kernel_minor;
		s->conn.flags = f & s->kernel_flags;
		s->negotiated = 1;
		break;
	}
	case FP_READDIRPLUS: {
		long a = fp_msg_find(m, "entries");
		for (unsigned k = 0; a >= 0; k++) {
			long e = fp_msg_child(m, a, k);
			if (e < 0)
				break;
			long eo = fp_msg_field(m, e, "entry_out"), d = fp_msg_field(m, e, "dirent");
			long id = fp_msg_field(m, eo, "nodeid"), nm = fp_msg_field(m, d, "name");
			if (id < 0 || nm < 0)
				continue;
			const struct fp_val *v = &m->v[nm];
			if ((v->len == 1 && v->p[0] == '.') || (v->len == 2 && !memcmp(v->p, "..", 2)) ||
			    memchr(v->p, 0, v->len))
				continue;
			char name[FP_NAME_MAX + 1];
			if (v->len > FP_NAME_MAX)
				continue;
			memcpy(name, v->p, v->len);
			name[v->len] = 0;
			learn(s, m->v[id].u, p->nodeid, name);
		}
		break;
	}
	case FP_RENAME:
	case FP_RENAME2: {
		if (!p->name || !p->name2)
			break;
		struct node *from = node_by_name(s, p->nodeid, p->name);
		struct node *to = node_by_name(s, p->newdir, p->name2);
		if (from && from == to)
			break; /* two links of one inode: rename(2) does nothing */
		if (from) {
			name_gone(s, p->nodeid, p->name);
			node_name(s, from, p->newdir, p->name2); /* overwrites to's name */
		} else if (to) {
			name_gone(s, p->newdir, p->name2);
		}
		if ((p->arg & 2) && to) /* RENAME_EXCHANGE: the two swap names */
			node_name(s, to, p->nodeid, p->name);
		break;
	}
	case FP_UNLINK:
	case FP_RMDIR:
		if (p->name)
			name_gone(s, p->nodeid, p->name);
		break;
	}
}

int fp_session_feed(struct fp_session *s, struct fp_msg *m, enum fp_origin from,
		    const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	const struct fp_conn *conn = &s->conn;
	if (from == FP_FROM_KERNEL) {
		int r = fp_decode(m, buf, len, from, conn, NULL);
		if (r < 0)
			return r;
		m->ts_ns = ts_ns;
		if (m->h.nodeid)
			m->path_known = fp_session_path(s, m->h.nodeid, m->path, sizeof(m->path)) != NULL;
		if (m->status == FP_OK)
			request_effects(s, m);
		/* a request cut short (a capture's snaplen) or with a bad field is still answered:
		 * pair it whenever its header is whole */
		if (m->buflen >= fp_in_header_s.size && m->h.len >= fp_in_header_s.size)
			track_request(s, m, ts_ns);
		if (s->midsession && !s->first_unique && m->h.unique)
			s->first_unique = m->h.unique;
		return r;
	}
	/* from the daemon: the unique in the header says which request this answers */
	uint64_t unique = len >= 16 ? fp_load_le(buf + 8, 8) : 0;
	struct pend *p = NULL;
	if (unique && !(unique & FP_INT_REQ_BIT))
		p = (struct pend *)fp_hmap_find(&s->pending, unique, NULL, NULL);
	struct fp_reqinfo ri = {p ? p->opcode : 0, p ? p->arg : 0};
	int r = fp_decode(m, buf, len, from, conn, p ? &ri : NULL);
	if (r < 0)
		return r;
	m->ts_ns = ts_ns;
	if (m->dir == FP_NOTIFY) {
		if (m->status == FP_OK && m->opcode == FP_NOTIFY_RETRIEVE &&
		    s->retrieves.n < FP_SESSION_MAX_RETRIEVES) {
			struct fp_hent *e = xalloc(s, sizeof(*e));
			if (e) {
				e->key = body_u64(m, "notify_unique");
				if (fp_hmap_add(&s->retrieves, e) < 0)
					xfree(s, e, sizeof(*e));
			}
		}
		return r;
	}
	if (m->dir != FP_REPLY)
		return r;
	if (unique & FP_INT_REQ_BIT) {
		m->link = unique & ~(uint64_t)FP_INT_REQ_BIT;
		m->linked = fp_hmap_find(&s->pending, m->link, NULL, NULL) != NULL;
		if (!m->linked && m->status == FP_OK) { /* the kernel answers it with ENOENT */
			m->status = FP_INVALID;
			m->bad_off = 8;
			snprintf(m->reason, sizeof(m->reason),
				 "reply to the INTERRUPT of unique %llu, which is not in flight",
				 (unsigned long long)m->link);
		}
		return (int)m->status;
	}
	if (!p) {
		/* kernel uniques grow: an older one was sent before the session was joined */
		int before = s->midsession && (!s->first_unique || unique < s->first_unique);
		if (m->status == FP_OK && !before) {
			m->status = FP_INVALID;
			m->bad_off = 8;
			snprintf(m->reason, sizeof(m->reason), "reply to unique %llu, which is not in flight",
				 (unsigned long long)unique);
		}
		return (int)m->status;
	}
	m->latency_ns = ts_ns >= p->ts ? (int64_t)(ts_ns - p->ts) : 0;
	if (p->nodeid)
		m->path_known = fp_session_path(s, p->nodeid, m->path, sizeof(m->path)) != NULL;
	reply_effects(s, m, p);
	pend_free(s, p);
	return (int)m->status;
}

struct fp_session *fp_session_new(void)
{
	struct fp_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->conn = FP_CONN_NEWEST;
	s->kernel_minor = FP_KERNEL_MINOR_VERSION;
	s->kernel_flags = UINT64_MAX;
	s->mem = sizeof(*s);
	fp_hmap_init(&s->pending, 16, &s->mem);
	fp_hmap_init(&s->retrieves, 16, &s->mem);
	fp_hmap_init(&s->nodes, 16, &s->mem);
	fp_hmap_init(&s->names, 16, &s->mem);
	return s;
}

void fp_session_free(struct fp_session *s)
{
	if (!s)
		return;
	while (s->oldest)
		pend_free(s, s->oldest);
	/* emptied bucket by bucket below: no shrinking under the loops */
	s->nodes.fixed = s->retrieves.fixed = 1;
	for (size_t i = 0; i < s->nodes.nb; i++)
		while (s->nodes.b[i])
			node_drop(s, (struct node *)s->nodes.b[i]);
	for (size_t i = 0; i < s->retrieves.nb; i++)
		while (s->retrieves.b[i]) {
			struct fp_hent *e = s->retrieves.b[i];
			fp_hmap_del(&s->retrieves, e);
			xfree(s, e, sizeof(*e));
		}
	fp_hmap_free(&s->pending, NULL);
	fp_hmap_free(&s->retrieves, NULL);
	fp_hmap_free(&s->nodes, NULL);
	fp_hmap_free(&s->names, NULL);
	free(s);
}

void fp_session_set_conn(struct fp_session *s, const struct fp_conn *c)
{
	s->conn = *c;
	s->midsession = 1;
	s->negotiated = 1;
}

const struct fp_conn *fp_session_negotiated(const struct fp_session *s)
{
	return s->negotiated ? &s->conn : NULL;
}

const struct fp_conn *fp_session_conn(const struct fp_session *s)
{
	return &s->conn;
}

size_t fp_session_mem(const struct fp_session *s)
{
	return s->mem;
}

size_t fp_session_nodes(const struct fp_session *s)
{
	return s->nodes.n;
}

size_t fp_session_pending(const struct fp_session *s)
{
	return s->pending.n;
}

uint32_t fp_session_pending_op(const struct fp_session *s, uint64_t unique)
{
	const struct pend *p = (const struct pend *)fp_hmap_find(&s->pending, unique, NULL, NULL);
	return p ? p->opcode : 0;
}
