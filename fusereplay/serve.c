/* fusereplay --serve (serve.h): play the daemon's part of a capture toward the kernel.
 *
 * The whole capture is read first, through a session that gives every request its path.
 * Each request is paired with the reply the kernel got for it (the copy as forwarded when
 * the writer edited it) and filed under a key: its opcode, the path of its nodeid and the
 * arguments that tell its answers apart (a name, an offset and a size, ...). The key is
 * text, and is also how an unmatched request is listed.
 *
 * Live requests are decoded by a second session, fed with them and with our replies, so
 * that they get paths too. Each is answered with the next recorded reply of its key, and
 * the last one again once they are used up. The kernel learns nodeids and file handles
 * only from those replies, so the recorded values serve unchanged; only the unique is the
 * live request's.
 *
 * The kernel's caches make one run ask what another did not, so some requests with no
 * reply of their own are answered from what the capture knows anyway: a READ from the
 * recorded data of the same file, when it covers the range; a LOOKUP from an entry handed
 * out for that name (by a READDIRPLUS, mostly); a GETATTR from the file's latest recorded
 * attrs; an op the daemon answered ENOSYS with ENOSYS again. Anything else gets
 * --unmatched's errno and is listed at the end. Nothing is ever written anywhere: the
 * filesystem is read-only by nature.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/abi.h"
#include "fuseproto/capture.h"
#include "fuseproto/format.h"
#include "fuseproto/le.h"
#include "fuseproto/session.h"
#include "fusetransport/chan.h"
#include "fusetransport/kernel.h"
#include "map.h"
#include "serve.h"

#define BURST 64             /* requests per wakeup */
#define UNKNOWN UINT64_MAX   /* a file size or end not known */

/* ------------------------------------------------------------------ tables */

/* Strings (keys, paths) to indexes, each with a value of `valsize` bytes (zeroed when the
 * string is added). A hash map from the strings' hashes to the first index with that hash,
 * and a chain through the others. */
struct strtab {
	struct fr_map first;  /* hash -> 1 + first index */
	char **s;
	uint32_t *chain;      /* 1 + the next index with the same hash; 0: none */
	char *val;
	size_t valsize;
	size_t n, cap;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static void *tab_val(const struct strtab *t, long i)
{
	return t->val + (size_t)i * t->valsize;
}

/* The index of s, or -1. */
static long tab_find(const struct strtab *t, const char *s)
{
	uint64_t v;
	if (!fr_map_get(&t->first, hash_str(s), &v))
		return -1;
	for (size_t i = v - 1;; i = t->chain[i] - 1) {
		if (!strcmp(t->s[i], s))
			return (long)i;
		if (!t->chain[i])
			return -1;
	}
}

/* The index of s, added when new; -1 when memory runs out. */
static long tab_add(struct strtab *t, const char *s)
{
	long i = tab_find(t, s);
	if (i >= 0)
		return i;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **ns = realloc(t->s, cap * sizeof(*ns));
		if (ns)
			t->s = ns;
		uint32_t *nc = realloc(t->chain, cap * sizeof(*nc));
		if (nc)
			t->chain = nc;
		char *nv = realloc(t->val, cap * t->valsize);
		if (nv)
			t->val = nv;
		if (!ns || !nc || !nv || cap > UINT32_MAX)
			return -1;
		t->cap = cap;
	}
	char *copy = strdup(s);
	if (!copy)
		return -1;
	size_t n = t->n;
	uint64_t h = hash_str(s), v;
	if (fr_map_get(&t->first, h, &v)) {
		size_t j = v - 1;
		while (t->chain[j])
			j = t->chain[j] - 1;
		t->chain[j] = (uint32_t)n + 1;
	} else if (fr_map_put(&t->first, h, n + 1) < 0) {
		free(copy);
		return -1;
	}
	t->s[n] = copy;
	t->chain[n] = 0;
	memset(tab_val(t, (long)n), 0, t->valsize);
	t->n++;
	return (long)n;
}

static void tab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->chain);
	free(t->val);
	fr_map_free(&t->first);
}

/* Make room for `need` elements of `size` bytes in *p (capacity *cap). Returns 0 or -1. */
static int reserve(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	if (n < need)
		n = need;
	void *q = realloc(*(void **)p, n * size);
	if (!q)
		return -1;
	*(void **)p = q;
	*cap = n;
	return 0;
}

/* ------------------------------------------------------------------ state */

/* A recorded reply, as the kernel saw it. Its unique is overwritten when it is served. */
struct reply {
	uint8_t *buf;
	uint32_t len;
	uint32_t opcode; /* of its request, and the request's `arg` (to decode it again) */
	uint64_t arg;
};

/* The recorded replies of one key, in capture order. */
struct slot {
	uint32_t *r;
	size_t n, cap;
	size_t next; /* the one to serve next */
};

/* Data a recorded READ returned: len bytes at file offset off, found at reply.buf + data. */
struct piece {
	uint64_t off;
	uint32_t len;
	uint32_t data;
	uint32_t reply;
};

/* Where a recorded struct with attr_valid, attr_valid_nsec and attr is: the body of an
 * entry or attr reply (the "entry" of a CREATE), or the entry_out of a READDIRPLUS entry. */
struct src {
	int64_t reply; /* -1: none */
	int32_t elem;  /* the READDIRPLUS entry, or -1 */
};

/* What the capture tells about the file at a path. */
struct file {
	uint64_t size;    /* the latest recorded attr size, or UNKNOWN */
	uint64_t eof;     /* where a short recorded READ ended, or UNKNOWN */
	struct src entry; /* the latest entry handed out for it */
	struct src attr;  /* its latest attributes */
	struct piece *p;
	size_t n, cap;
};

/* A recorded request waiting for its reply. */
struct pend {
	char *key;
	char *path;       /* of what its reply describes: the entry created or looked up, or
			   * the nodeid's; NULL when unknown */
	uint32_t opcode;
	uint64_t arg;     /* the op row's `arg` field (fp_reqinfo) */
	uint64_t offset;  /* READ */
	uint32_t size;
};

/* A recorded reply kept back until the next record, which may be its edited copy. */
struct held {
	struct pend *p;
	uint8_t *buf;
	uint32_t len;
	int snapped;
};

struct serve {
	const struct fr_serve_opts *o;
	struct reply *rep;
	size_t nrep, caprep;
	struct strtab keys;   /* key -> struct slot */
	struct strtab files;  /* path -> struct file */
	struct strtab misses; /* unmatched request, as text -> uint64_t count */
	uint64_t missed, requests;
	long init;            /* the recorded INIT reply (index in rep), or -1 */
	size_t cut;           /* replies not kept: their payload was cut (-s) or undecodable */
	uint8_t nosys[FP_OPCODE_MAX + 1]; /* ops the daemon answered ENOSYS */
	struct fp_conn capconn; /* the capture's negotiated connection */
	struct fp_msg m, r;   /* scratch: a request, a reply */
	struct fp_msg src;    /* scratch: a recorded reply decoded again */
	struct fp_sbuf key, line;
	uint8_t *out;         /* replies we build */
	size_t outcap;
	/* live */
	struct fp_session *live;
	struct ft_kernel k;
	struct ft_chan dev;
	int dev_open;
	int failed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t val_u64(const struct fp_msg *m, const char *path, uint64_t dflt)
{
	long i = fp_msg_find(m, path);
	return i >= 0 ? m->v[i].u : dflt;
}

/* A STR or BYTES value as a C string (malloc'd), or NULL when absent, holding a NUL, or
 * out of memory. */
static char *val_str(const struct fp_msg *m, long i)
{
	if (i < 0 || !m->v[i].p)
		return NULL;
	const struct fp_val *v = &m->v[i];
	size_t n = v->f->kind == FP_K_STR ? v->len - 1 : v->len;
	if (memchr(v->p, 0, n))
		return NULL;
	return strndup((const char *)v->p, n);
}

/* dir + "/" + name (malloc'd), or NULL. */
static char *join(const char *dir, const char *name)
{
	char *s;
	if (!dir || !name || asprintf(&s, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) < 0)
		return NULL;
	return s;
}

/* ------------------------------------------------------------------ keys */

/*
 * The arguments, besides the path of the nodeid, that make one request of an op differ
 * from another in what it is answered. Pseudo fields: "@access" is the access mode of the
 * open flags (with O_TRUNC), "@setattr" the attributes a SETATTR changes and their new
 * values. Handles (fh, lock owners, kernel handles) are left out: they are the recorded
 * ones anyway, or differ from one run to the next (pids, pointers).
 */
static const struct keyargs {
	uint32_t op;
	const char *f[4];
} keyargs[] = {
	{FP_LOOKUP, {"name"}},
	{FP_SETATTR, {"@setattr"}},
	{FP_SYMLINK, {"name", "target"}},
	{FP_MKNOD, {"name", "mode", "rdev"}},
	{FP_MKDIR, {"name", "mode"}},
	{FP_UNLINK, {"name"}},
	{FP_RMDIR, {"name"}},
	{FP_RENAME, {"newdir", "oldname", "newname"}},
	{FP_RENAME2, {"newdir", "flags", "oldname", "newname"}},
	{FP_LINK, {"oldnodeid", "newname"}},
	{FP_OPEN, {"@access"}},
	{FP_OPENDIR, {"@access"}},
	{FP_CREATE, {"name", "mode", "@access"}},
	{FP_TMPFILE, {"mode", "@access"}},
	{FP_READ, {"offset", "size"}},
	{FP_READDIR, {"offset", "size"}},
	{FP_READDIRPLUS, {"offset", "size"}},
	{FP_WRITE, {"offset", "size"}},
	{FP_SETXATTR, {"name", "size", "flags"}},
	{FP_GETXATTR, {"name", "size"}},
	{FP_LISTXATTR, {"size"}},
	{FP_REMOVEXATTR, {"name"}},
	{FP_ACCESS, {"mask"}},
	{FP_GETLK, {"lk.start", "lk.end", "lk.type"}},
	{FP_SETLK, {"lk.start", "lk.end", "lk.type"}},
	{FP_SETLKW, {"lk.start", "lk.end", "lk.type"}},
	{FP_BMAP, {"block", "blocksize"}},
	{FP_IOCTL, {"cmd", "in_size", "out_size"}},
	{FP_POLL, {"events"}},
	{FP_FALLOCATE, {"offset", "length", "mode"}},
	{FP_LSEEK, {"offset", "whence"}},
	{FP_COPY_FILE_RANGE, {"off_in", "nodeid_out", "off_out", "len"}},
	{FP_COPY_FILE_RANGE_64, {"off_in", "nodeid_out", "off_out", "len"}},
};

/* " name=value" for the field `name` of m (nothing when the message has no such field);
 * nodeids are given as their paths. Returns -1 for a nodeid whose path is unknown. */
static int key_field(struct fp_sbuf *b, const struct fp_msg *m, const struct fp_session *s,
		     const char *name)
{
	long i = fp_msg_find(m, name);
	if (i < 0)
		return 0;
	fp_sbuf_printf(b, " %s=", name);
	if (!strcmp(name, "newdir") || !strcmp(name, "oldnodeid") || !strcmp(name, "nodeid_out")) {
		char p[4096];
		if (!fp_session_path(s, m->v[i].u, p, sizeof(p)))
			return -1;
		fp_sbuf_quote(b, (const uint8_t *)p, strlen(p));
	} else {
		fp_format_value(b, m, i, 0);
	}
	return 0;
}

static int key_setattr(struct fp_sbuf *b, const struct fp_msg *m, const struct fp_session *s)
{
	static const struct {
		uint32_t bit, unless;
		const char *f[2];
	} attrs[] = {
		{FP_FATTR_MODE, 0, {"mode"}},
		{FP_FATTR_UID, 0, {"uid"}},
		{FP_FATTR_GID, 0, {"gid"}},
		{FP_FATTR_SIZE, 0, {"size"}},
		{FP_FATTR_ATIME, FP_FATTR_ATIME_NOW, {"atime", "atimensec"}},
		{FP_FATTR_MTIME, FP_FATTR_MTIME_NOW, {"mtime", "mtimensec"}},
		{FP_FATTR_CTIME, 0, {"ctime", "ctimensec"}},
	};
	long i = fp_msg_find(m, "valid");
	if (i < 0)
		return 0;
	/* what is changed, not how the kernel says which file (FH, LOCKOWNER) */
	uint32_t valid = (uint32_t)m->v[i].u & (FP_FATTR_MODE | FP_FATTR_UID | FP_FATTR_GID |
		FP_FATTR_SIZE | FP_FATTR_ATIME | FP_FATTR_MTIME | FP_FATTR_ATIME_NOW |
		FP_FATTR_MTIME_NOW | FP_FATTR_CTIME | FP_FATTR_KILL_SUIDGID);
	fp_sbuf_printf(b, " valid=");
	fp_sbuf_flags(b, m->v[i].f->sym, valid);
	for (size_t k = 0; k < sizeof(attrs) / sizeof(attrs[0]); k++) {
		if (!(valid & attrs[k].bit) || (valid & attrs[k].unless))
			continue;
		for (int j = 0; j < 2 && attrs[k].f[j]; j++)
			if (key_field(b, m, s, attrs[k].f[j]) < 0)
				return -1;
	}
	return 0;
}

/* The key of request m, decoded by session s, into b. Returns 0, or -1 when a path in it
 * is unknown (the request cannot be matched). */
static int make_key(struct fp_sbuf *b, const struct fp_msg *m, const struct fp_session *s)
{
	fp_sbuf_clear(b);
	if (!m->op) {
		fp_sbuf_printf(b, "opcode %" PRIu32, m->opcode);
		return -1;
	}
	fp_sbuf_printf(b, "%s", m->op->name);
	if (m->h.nodeid) {
		if (!m->path_known) {
			fp_sbuf_printf(b, " nodeid=%" PRIu64 " (path unknown)", m->h.nodeid);
			return -1;
		}
		fp_sbuf_put(b, " ", 1);
		fp_sbuf_quote(b, (const uint8_t *)m->path, strlen(m->path));
	}
	const struct keyargs *ka = NULL;
	for (size_t i = 0; i < sizeof(keyargs) / sizeof(keyargs[0]); i++)
		if (keyargs[i].op == m->opcode)
			ka = &keyargs[i];
	for (int j = 0; ka && j < 4 && ka->f[j]; j++) {
		const char *f = ka->f[j];
		if (!strcmp(f, "@setattr")) {
			if (key_setattr(b, m, s) < 0)
				return -1;
		} else if (!strcmp(f, "@access")) {
			static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR",
							  "O_ACCMODE"};
			uint64_t fl = val_u64(m, "flags", 0);
			fp_sbuf_printf(b, " flags=%s%s", acc[fl & O_ACCMODE],
				       fl & O_TRUNC ? "|O_TRUNC" : "");
		} else if (key_field(b, m, s, f) < 0) {
			return -1;
		}
	}
	return b->oom ? -1 : 0;
}

/* ------------------------------------------------------------------ the capture */

static void pend_free(struct pend *p)
{
	if (!p)
		return;
	free(p->key);
	free(p->path);
	free(p);
}

/* The file record of path, made when new; NULL when memory runs out. */
static struct file *file_of(struct serve *sv, const char *path)
{
	size_t before = sv->files.n;
	long i = tab_add(&sv->files, path);
	if (i < 0)
		return NULL;
	struct file *f = tab_val(&sv->files, i);
	if (sv->files.n > before) {
		f->size = f->eof = UNKNOWN;
		f->entry.reply = f->attr.reply = -1;
	}
	return f;
}

/* A recorded struct with attrs (value st of sv->r, reply idx, READDIRPLUS entry elem or
 * -1) about the file at path: its size, where its attrs are and, for an entry (`entry`),
 * where that is. Returns 0, or -1 when memory runs out. */
static int saw_attrs(struct serve *sv, const char *path, long st, uint32_t idx, int32_t elem,
		     int entry)
{
	long sz = fp_msg_field(&sv->r, fp_msg_field(&sv->r, st, "attr"), "size");
	struct file *f = path ? file_of(sv, path) : NULL;
	if (!f)
		return path ? -1 : 0;
	if (sz >= 0) {
		f->size = sv->r.v[sz].u;
		f->attr = (struct src){idx, elem};
	}
	if (entry)
		f->entry = (struct src){idx, elem};
	return 0;
}

static long body(const struct fp_msg *m)
{
	return m->body == UINT32_MAX ? -1 : (long)m->body;
}

/* What a successful recorded reply (decoded in sv->r, kept as reply idx) says about
 * files: their entries and attrs (entry replies, READDIRPLUS, GETATTR, SETATTR) and their
 * data (READ). Returns 0, or -1 when memory runs out. */
static int learn(struct serve *sv, const struct pend *p, uint32_t idx)
{
	const struct fp_msg *r = &sv->r;
	const struct fp_op *op = fp_op_get(p->opcode);
	switch (p->opcode) {
	case FP_READ: {
		long i = fp_msg_find(r, "data");
		if (i < 0 || !p->path)
			return 0;
		struct file *f = file_of(sv, p->path);
		if (!f || reserve(&f->p, &f->cap, f->n + 1, sizeof(*f->p)) < 0)
			return -1;
		f->p[f->n++] = (struct piece){p->offset, r->v[i].len, r->v[i].off, idx};
		/* a short read ends at the end of the file */
		if (r->v[i].len < p->size && p->offset + r->v[i].len < f->eof)
			f->eof = p->offset + r->v[i].len;
		return 0;
	}
	case FP_GETATTR:
	case FP_SETATTR:
		return saw_attrs(sv, p->path, body(r), idx, -1, 0);
	case FP_READDIRPLUS: {
		long a = fp_msg_find(r, "entries");
		for (unsigned k = 0; a >= 0 && p->path; k++) {
			long e = fp_msg_child(r, a, k);
			if (e < 0)
				break;
			long eo = fp_msg_field(r, e, "entry_out");
			long id = fp_msg_field(r, eo, "nodeid");
			if (id < 0 || !r->v[id].u) /* a name without an entry */
				continue;
			long d = fp_msg_field(r, e, "dirent");
			char *name = val_str(r, fp_msg_field(r, d, "name"));
			char *path = join(p->path, name);
			int rc = saw_attrs(sv, path, eo, idx, (int32_t)k, 1);
			free(name);
			free(path);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	}
	uint64_t nodeid = val_u64(r, "nodeid", val_u64(r, "entry.nodeid", 0));
	if (op && (op->flags & FP_OP_ENTRY) && nodeid) {
		long st = fp_msg_find(r, "entry");
		return saw_attrs(sv, p->path, st >= 0 ? st : body(r), idx, -1, 1);
	}
	return 0;
}

/* File the reply held back under its request's key. Returns 0, or -1 when memory runs
 * out. */
static int commit(struct serve *sv, struct held *h, const struct fp_conn *conn)
{
	struct pend *p = h->p;
	if (!p)
		return 0;
	int rc = 0;
	struct fp_reqinfo ri = {p->opcode, p->arg};
	int st = h->snapped ? FP_TRUNCATED :
		 fp_decode(&sv->r, h->buf, h->len, FP_FROM_DAEMON, conn, &ri);
	if (st < 0) {
		rc = -1;
	} else if (st != FP_OK) {
		/* a reply whose payload was cut (-s) cannot be served, nor one we cannot read */
		sv->cut++;
	} else {
		long k = tab_add(&sv->keys, p->key);
		struct slot *sl = k >= 0 ? tab_val(&sv->keys, k) : NULL;
		if (!sl || reserve(&sv->rep, &sv->caprep, sv->nrep + 1, sizeof(*sv->rep)) < 0 ||
		    reserve(&sl->r, &sl->cap, sl->n + 1, sizeof(*sl->r)) < 0) {
			rc = -1;
		} else {
			uint32_t idx = (uint32_t)sv->nrep++;
			sv->rep[idx] = (struct reply){h->buf, h->len, p->opcode, p->arg};
			sl->r[sl->n++] = idx;
			h->buf = NULL;
			if (sv->r.h.error == -ENOSYS && p->opcode <= FP_OPCODE_MAX)
				sv->nosys[p->opcode] = 1;
			if (p->opcode == FP_INIT && sv->r.h.error == 0)
				sv->init = idx;
			if (sv->r.h.error == 0)
				rc = learn(sv, p, idx);
		}
	}
	free(h->buf);
	pend_free(p);
	memset(h, 0, sizeof(*h));
	return rc;
}

/* A recorded request: remember what its reply will be filed under. Returns 0, or -1 when
 * memory runs out. */
static int track(struct serve *sv, struct fr_map *pending, const struct fp_msg *m,
		 const struct fp_session *s)
{
	if (!m->op || (m->op->flags & FP_OP_NOREPLY) || make_key(&sv->key, m, s) < 0)
		return 0; /* never answered, or not servable: a path in it is unknown */
	struct pend *p = calloc(1, sizeof(*p));
	if (!p || !(p->key = strdup(sv->key.s))) {
		pend_free(p);
		return -1;
	}
	p->opcode = m->opcode;
	p->arg = m->op->arg ? val_u64(m, m->op->arg, 0) : 0;
	p->offset = val_u64(m, "offset", 0);
	p->size = (uint32_t)val_u64(m, "size", 0);
	if (m->path_known) {
		const char *name = m->op->flags & FP_OP_ENTRY ?
			(m->opcode == FP_LINK ? "newname" : "name") : NULL;
		char *n = name ? val_str(m, fp_msg_find(m, name)) : NULL;
		p->path = name ? join(m->path, n) : strdup(m->path);
		free(n);
	}
	uint64_t old;
	if (fr_map_get(pending, m->h.unique, &old))
		pend_free((struct pend *)(uintptr_t)old);
	if (fr_map_put(pending, m->h.unique, (uintptr_t)p) < 0) {
		pend_free(p);
		return -1;
	}
	return 0;
}

/* Read the capture: every reply the kernel got, under its request's key. Returns 0, or the
 * exit status with a message on stderr. */
static int load(struct serve *sv)
{
	const char *path = sv->o->capture;
	char err[512];
	struct fp_capr *rd = fp_capr_open(path, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "fusereplay: %s\n", err);
		return 2;
	}
	struct fp_session *s = fp_session_new();
	struct fr_map pending = {0};
	struct held h = {0};
	struct fp_cap_msg c;
	int x = 0, code = 0, first = 1;
	uint32_t conn = 0;
	while (s && !code && (x = fp_capr_next(rd, &c, err, sizeof(err))) > 0) {
		if (c.type == FP_CAP_T_EVENT)
			continue;
		if (first) {
			first = 0;
			conn = c.conn;
		}
		/* another connection of the writer's: not the filesystem served */
		if (c.conn != conn)
			continue;
		if (c.flags & FP_CAP_F_MODIFIED) {
			/* the copy as forwarded: for a reply, what the kernel saw */
			if (c.type == FP_CAP_T_DAEMON && h.p) {
				uint8_t *b = malloc(c.len ? c.len : 1);
				if (!b) {
					code = 1;
					break;
				}
				memcpy(b, c.buf, c.len);
				free(h.buf);
				h.buf = b;
				h.len = c.len;
				h.snapped = c.len < c.msglen;
			}
			continue;
		}
		enum fp_origin from = c.type == FP_CAP_T_KERNEL ? FP_FROM_KERNEL : FP_FROM_DAEMON;
		if (commit(sv, &h, fp_session_conn(s)) < 0 ||
		    fp_session_feed(s, &sv->m, from, c.buf, c.len, c.ts_ns) < 0) {
			code = 1;
			break;
		}
		if (c.type == FP_CAP_T_KERNEL) {
			if (sv->m.dir == FP_REQUEST && track(sv, &pending, &sv->m, s) < 0)
				code = 1;
			continue;
		}
		uint64_t v;
		if (sv->m.dir != FP_REPLY || (c.flags & FP_CAP_F_DROPPED) ||
		    !fr_map_get(&pending, sv->m.h.unique, &v))
			continue;
		fr_map_del(&pending, sv->m.h.unique);
		h.p = (struct pend *)(uintptr_t)v;
		h.len = c.len;
		h.snapped = c.len < c.msglen;
		if (!(h.buf = malloc(c.len ? c.len : 1)))
			code = 1;
		else
			memcpy(h.buf, c.buf, c.len);
	}
	if (!s || (!code && commit(sv, &h, fp_session_conn(s)) < 0))
		code = 1;
	if (s)
		sv->capconn = *fp_session_conn(s);
	if (code == 1)
		fprintf(stderr, "fusereplay: %s: out of memory\n", path);
	else if (x < 0) {
		fprintf(stderr, "fusereplay: %s\n", err);
		code = 2;
	}
	free(h.buf);
	pend_free(h.p);
	for (size_t i = 0; i < pending.cap; i++)
		if (pending.keys[i])
			pend_free((struct pend *)(uintptr_t)pending.vals[i]);
	if (pending.has_zero)
		pend_free((struct pend *)(uintptr_t)pending.zero_val);
	fr_map_free(&pending);
	fp_session_free(s);
	fp_capr_close(rd);
	return code;
}

/* ------------------------------------------------------------------ serving */

/* Encode sv->r into sv->out. Returns the length, or -1. */
static long encode(struct serve *sv, struct fp_msg *m)
{
	long n = fp_encode(m, sv->out, sv->outcap, FP_ENC_FIXUP);
	if (n > (long)sv->outcap) {
		if (reserve(&sv->out, &sv->outcap, (size_t)n, 1) < 0)
			return -1;
		n = fp_encode(m, sv->out, sv->outcap, FP_ENC_FIXUP);
	}
	return n;
}

/* -v: the request in sv->m, and how it was answered (the reply in sv->r, if any). */
static void show(struct serve *sv, const char *how, int reply)
{
	if (!sv->o->verbose)
		return;
	fp_sbuf_clear(&sv->line);
	fp_format_text(&sv->line, &sv->m, 0);
	fp_sbuf_printf(&sv->line, "\n  %s", how);
	if (reply) {
		fp_sbuf_put(&sv->line, ": ", 2);
		fp_format_text(&sv->line, &sv->r, 0);
	}
	if (sv->line.s)
		fprintf(stderr, "%s\n", sv->line.s);
}

/* Write a reply to the request in sv->m, and feed it to the live session, which learns
 * the names it hands out. */
static void send_reply(struct serve *sv, const uint8_t *buf, size_t len, const char *how)
{
	if (ft_chan_send(&sv->dev, buf, len) < 0 && errno != ENOENT && errno != ENODEV &&
	    errno != ECONNABORTED) {
		/* ENOENT: the request was interrupted meanwhile; ENODEV: the end is near */
		fprintf(stderr, "fusereplay: the kernel refused the %s reply to %s #%" PRIu64
			": %s\n", how, sv->m.op ? sv->m.op->name : "?", sv->m.h.unique,
			strerror(errno));
	}
	if (fp_session_feed(sv->live, &sv->r, FP_FROM_DAEMON, buf, len, now_ns()) >= 0)
		show(sv, how, 1);
}

/* Answer the request in sv->m with -err (0: success with an empty body). */
static void answer_errno(struct serve *sv, int err, const char *how)
{
	struct fp_msg *r = &sv->r;
	long n = -1;
	if (fp_msg_build(r, FP_REPLY, 0, fp_session_conn(sv->live), NULL) == 0 &&
	    fp_msg_set_u64(r, fp_msg_find(r, "header.error"), (uint64_t)(int64_t)-err) == 0 &&
	    fp_msg_set_u64(r, fp_msg_find(r, "header.unique"), sv->m.h.unique) == 0)
		n = encode(sv, r);
	if (n < 0) {
		fprintf(stderr, "fusereplay: out of memory answering #%" PRIu64 "\n",
			sv->m.h.unique);
		sv->failed = 1;
		return;
	}
	send_reply(sv, sv->out, (size_t)n, how);
}

/* INIT: the recorded reply, offering only what the live kernel offered too, and nothing
 * that needs a real daemon. */
static void answer_init(struct serve *sv)
{
	const struct reply *rec = &sv->rep[sv->init];
	struct fp_msg *r = &sv->r;
	const struct fp_conn newest = FP_CONN_NEWEST;
	const struct fp_reqinfo ri = {FP_INIT, 0};
	uint64_t offered = val_u64(&sv->m, "flags", 0);
	if (offered & FP_INIT_EXT)
		offered |= val_u64(&sv->m, "flags2", 0) << 32;
	long n = -1;
	uint64_t was = 0, f = 0;
	if (fp_decode(r, rec->buf, rec->len, FP_FROM_DAEMON, &newest, &ri) == FP_OK) {
		long fi = fp_msg_find(r, "flags"), f2 = fp_msg_find(r, "flags2");
		long mw = fp_msg_find(r, "max_write");
		was = fi >= 0 ? r->v[fi].u : 0;
		if ((was & FP_INIT_EXT) && f2 >= 0)
			was |= r->v[f2].u << 32;
		f = was & offered & ~FT_INIT_NEEDS_DEV;
		fp_msg_set_u64(r, fi, (uint32_t)f);
		fp_msg_set_u64(r, f2, f >> 32);
		/* a request must fit our buffer (chan.h) */
		if (mw >= 0 && r->v[mw].u > FT_MSG_MAX - 80)
			fp_msg_set_u64(r, mw, FT_MSG_MAX - 80);
		fp_msg_set_u64(r, fp_msg_find(r, "header.unique"), sv->m.h.unique);
		n = encode(sv, r);
	}
	if (n < 0) {
		fprintf(stderr, "fusereplay: cannot build the INIT reply: answering EIO\n");
		sv->failed = 1;
		answer_errno(sv, EIO, "INIT failed");
		return;
	}
	struct fp_sbuf how = {0};
	fp_sbuf_printf(&how, "recorded INIT");
	if (was & ~f) {
		fp_sbuf_printf(&how, ", without ");
		fp_sbuf_flags(&how, fp_sym_init_flags, was & ~f);
	}
	send_reply(sv, sv->out, (size_t)n, how.s ? how.s : "recorded INIT");
	fp_sbuf_free(&how);
}

/* The next recorded reply of a key, with the live unique. */
static void answer_recorded(struct serve *sv, struct slot *sl)
{
	size_t i = sl->next < sl->n ? sl->next++ : sl->n - 1;
	struct reply *r = &sv->rep[sl->r[i]];
	fp_store_le(r->buf + offsetof(struct fp_out_header, unique), 8, sv->m.h.unique);
	char how[64];
	snprintf(how, sizeof(how), "recorded %zu/%zu", i + 1, sl->n);
	send_reply(sv, r->buf, r->len, how);
}

/* A READ with no recorded reply for its exact range: put the bytes together from the
 * recorded READs of the same file, when they cover the range up to its end or to the end
 * of the file (when known). Returns 1 when answered. */
static int answer_read(struct serve *sv)
{
	const struct fp_msg *m = &sv->m;
	long fi = m->path_known ? tab_find(&sv->files, m->path) : -1;
	if (fi < 0)
		return 0;
	const struct file *f = tab_val(&sv->files, fi);
	uint64_t off = val_u64(m, "offset", 0), end = off + val_u64(m, "size", 0);
	uint64_t fend = f->eof != UNKNOWN ? f->eof : f->size;
	if (fend != UNKNOWN && end > fend)
		end = fend > off ? fend : off;
	uint8_t *data = malloc(end > off ? end - off : 1);
	if (!data)
		return 0;
	unsigned used = 0;
	for (uint64_t cur = off; cur < end;) {
		/* the latest recorded data of that byte */
		const struct piece *p = NULL;
		for (size_t i = f->n; i-- > 0 && !p;)
			if (f->p[i].off <= cur && cur - f->p[i].off < f->p[i].len)
				p = &f->p[i];
		if (!p) {
			free(data);
			return 0;
		}
		uint64_t n = (p->off + p->len < end ? p->off + p->len : end) - cur;
		memcpy(data + (cur - off), sv->rep[p->reply].buf + p->data + (cur - p->off), n);
		cur += n;
		used++;
	}
	long n = -1;
	if (fp_msg_build(&sv->r, FP_REPLY, FP_READ, fp_session_conn(sv->live), NULL) == 0 &&
	    fp_msg_set_bytes(&sv->r, fp_msg_find(&sv->r, "data"), data, end - off) == 0 &&
	    fp_msg_set_u64(&sv->r, fp_msg_find(&sv->r, "header.unique"), m->h.unique) == 0)
		n = encode(sv, &sv->r);
	free(data);
	if (n < 0)
		return 0;
	char how[80];
	snprintf(how, sizeof(how), "put together from %u recorded READ%s", used,
		 used == 1 ? "" : "s");
	send_reply(sv, sv->out, (size_t)n, how);
	return 1;
}

/* The struct a src points at, in sv->src (the reply decoded again); -1 when gone. */
static long src_struct(struct serve *sv, const struct src *s)
{
	const struct reply *rp = &sv->rep[s->reply];
	const struct fp_reqinfo ri = {rp->opcode, rp->arg};
	if (fp_decode(&sv->src, rp->buf, rp->len, FP_FROM_DAEMON, &sv->capconn, &ri) != FP_OK)
		return -1;
	if (s->elem >= 0) {
		char path[48];
		snprintf(path, sizeof(path), "entries.%d.entry_out", (int)s->elem);
		return fp_msg_find(&sv->src, path);
	}
	long e = fp_msg_find(&sv->src, "entry");
	return e >= 0 ? e : body(&sv->src);
}

/* Copy the integers of the struct at si in src to the struct at di in dst, the same layout.
 * Returns 0, or -1 when the layouts differ. */
static int copy_ints(struct fp_msg *dst, long di, const struct fp_msg *src, long si)
{
	if (di < 0 || si < 0 || dst->v[di].nsub != src->v[si].nsub)
		return -1;
	for (uint32_t k = 1; k <= dst->v[di].nsub; k++) {
		const struct fp_val *v = &src->v[si + k];
		if (strcmp(dst->v[di + k].f->name, v->f->name))
			return -1;
		if (fp_kind_is_int(v->f->kind))
			fp_msg_set_u64(dst, di + k, v->u);
	}
	return 0;
}

/* A LOOKUP with no recorded reply, of a name the capture handed out an entry for anyway
 * (in a READDIRPLUS, mostly: the kernel then had no need to look it up), or a GETATTR of a
 * file whose attrs the capture holds (the cache of one run expires where the other's did
 * not): answered with those. Returns 1 when answered. */
static int answer_known(struct serve *sv)
{
	const struct fp_msg *m = &sv->m;
	int lookup = m->opcode == FP_LOOKUP;
	char *name = lookup ? val_str(m, fp_msg_find(m, "name")) : NULL;
	char *path = lookup ? join(m->path, name) : strdup(m->path);
	long fi = path ? tab_find(&sv->files, path) : -1;
	free(name);
	free(path);
	if (fi < 0)
		return 0;
	const struct file *f = tab_val(&sv->files, fi);
	const struct src *from = lookup ? &f->entry : &f->attr;
	if (from->reply < 0)
		return 0;
	long s = src_struct(sv, from), n = -1;
	struct fp_msg *r = &sv->r;
	if (s >= 0 && fp_msg_build(r, FP_REPLY, m->opcode, fp_session_conn(sv->live), NULL) == 0) {
		int bad;
		if (lookup) {
			bad = copy_ints(r, body(r), &sv->src, s);
		} else {
			bad = copy_ints(r, fp_msg_find(r, "attr"), &sv->src,
					fp_msg_field(&sv->src, s, "attr"));
			/* how long the kernel may keep them: as the entry or attrs said */
			long av = fp_msg_field(&sv->src, s, "attr_valid");
			long ns = fp_msg_field(&sv->src, s, "attr_valid_nsec");
			fp_msg_set_u64(r, fp_msg_find(r, "attr_valid"), av >= 0 ? sv->src.v[av].u : 0);
			fp_msg_set_u64(r, fp_msg_find(r, "attr_valid_nsec"),
				       ns >= 0 ? sv->src.v[ns].u : 0);
		}
		if (!bad && fp_msg_set_u64(r, fp_msg_find(r, "header.unique"), m->h.unique) == 0)
			n = encode(sv, r);
	}
	if (n < 0)
		return 0;
	char how[80];
	snprintf(how, sizeof(how), "%s from a recorded %s", lookup ? "entry" : "attrs",
		 fp_op_name(sv->rep[from->reply].opcode));
	send_reply(sv, sv->out, (size_t)n, how);
	return 1;
}

/* No recorded answer: --unmatched's errno, and a line in the list (the key in sv->key). */
static void answer_unmatched(struct serve *sv)
{
	long i = sv->key.s ? tab_add(&sv->misses, sv->key.s) : -1;
	if (i >= 0)
		(*(uint64_t *)tab_val(&sv->misses, i))++;
	sv->missed++;
	answer_errno(sv, sv->o->unmatched, "unmatched");
}

static void on_request(struct serve *sv, const uint8_t *buf, size_t len)
{
	struct fp_msg *m = &sv->m;
	if (fp_session_feed(sv->live, m, FP_FROM_KERNEL, buf, len, now_ns()) < 0) {
		fprintf(stderr, "fusereplay: out of memory decoding a request\n");
		sv->failed = 1;
		return;
	}
	sv->requests++;
	if (m->op && (m->op->flags & FP_OP_NOREPLY)) {
		show(sv, "no reply", 0);
		return;
	}
	if (m->opcode == FP_INIT) {
		answer_init(sv);
		return;
	}
	if (m->opcode == FP_DESTROY) {
		answer_errno(sv, 0, "DESTROY");
		return;
	}
	if (make_key(&sv->key, m, sv->live) == 0) {
		long i = tab_find(&sv->keys, sv->key.s);
		if (i >= 0) {
			answer_recorded(sv, tab_val(&sv->keys, i));
			return;
		}
		if (m->opcode == FP_READ && answer_read(sv))
			return;
		if ((m->opcode == FP_LOOKUP || m->opcode == FP_GETATTR) && answer_known(sv))
			return;
	}
	/* the daemon does not implement it: that holds for any arguments */
	if (m->opcode <= FP_OPCODE_MAX && sv->nosys[m->opcode]) {
		answer_errno(sv, ENOSYS, "ENOSYS, as the daemon answered it");
		return;
	}
	answer_unmatched(sv);
}

/* SIGINT, SIGTERM, SIGHUP: unmount, then serve until the kernel lets go; again: close
 * /dev/fuse at once (requests still coming fail with ENOTCONN). */
static void on_signal(struct serve *sv, int *stopping)
{
	if (*stopping) {
		ft_kernel_close(&sv->k);
		sv->dev_open = 0;
		return;
	}
	*stopping = 1;
	char err[FT_ERRBUF_SIZE];
	int lazy = 0;
	int r = ft_kernel_unmount(&sv->k, &lazy, err);
	if (r < 0) {
		fprintf(stderr, "fusereplay: %s\n", err);
		sv->failed = 1;
		ft_kernel_close(&sv->k);
		sv->dev_open = 0;
	} else if (lazy) {
		fprintf(stderr, "fusereplay: %s is busy: unmounted lazily, serving until its last "
				"user lets go (signal again to stop now)\n", sv->k.mountpoint);
	}
}

static void on_dev(struct serve *sv)
{
	for (int i = 0; i < BURST && sv->dev_open; i++) {
		struct ft_rx rx;
		int r = ft_chan_recv(&sv->dev, &rx);
		if (r == FT_RECV_AGAIN)
			return;
		if (r == FT_RECV_EOF) { /* unmounted */
			sv->dev_open = 0;
			return;
		}
		if (r == FT_RECV_ERR) {
			fprintf(stderr, "fusereplay: read /dev/fuse: %s\n", strerror(errno));
			sv->failed = 1;
			ft_kernel_close(&sv->k);
			sv->dev_open = 0;
			return;
		}
		on_request(sv, rx.buf, rx.len);
	}
}

/* Mount and serve until unmounted or stopped. Returns the exit status. */
static int run(struct serve *sv)
{
	const struct fr_serve_opts *o = sv->o;
	char err[FT_ERRBUF_SIZE];
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* blocked before mounting: a signal from then on unmounts */
	sigprocmask(SIG_BLOCK, &set, &old);
	int sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	struct ft_mount_opts mo;
	ft_mount_opts_init(&mo);
	int code = 0;
	if (sigfd < 0) {
		fprintf(stderr, "fusereplay: signalfd: %s\n", strerror(errno));
		code = 1;
	} else if (ft_mount_opts_add(&mo, "fsname=fusereplay", err) < 0 ||
		   (o->mount_opts && ft_mount_opts_add(&mo, o->mount_opts, err) < 0)) {
		fprintf(stderr, "fusereplay: -m: %s\n", err);
		code = 2;
	} else if (!(sv->live = fp_session_new())) {
		fprintf(stderr, "fusereplay: out of memory\n");
		code = 1;
	} else if (ft_kernel_mount(&sv->k, o->mountpoint, &mo, err) < 0) {
		fprintf(stderr, "fusereplay: %s\n", err);
		code = 1;
	} else if (ft_chan_init(&sv->dev, sv->k.fd, FT_CHAN_DEV, FT_MSG_MAX) < 0) {
		fprintf(stderr, "fusereplay: /dev/fuse: %s\n", strerror(errno));
		code = 1;
	}
	ft_mount_opts_free(&mo);
	if (!code) {
		if (ft_kernel_watchdog(&sv->k, NULL, err) < 0)
			fprintf(stderr, "fusereplay: %s (the mount would outlive a crash)\n", err);
		sv->dev_open = 1;
		fprintf(stderr, "fusereplay: serving %s (%zu recorded replies) on %s\n", o->capture,
			sv->nrep, sv->k.mountpoint);
		if (sv->cut)
			fprintf(stderr, "fusereplay: %zu recorded repl%s cut (-s) or cannot be "
					"decoded: requests that need %s are unmatched\n", sv->cut,
				sv->cut == 1 ? "y is" : "ies are", sv->cut == 1 ? "it" : "them");
	}
	int stopping = 0;
	while (sv->dev_open) {
		struct pollfd pf[2] = {{sv->k.fd, POLLIN, 0}, {sigfd, POLLIN, 0}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fusereplay: poll: %s\n", strerror(errno));
			sv->failed = 1;
			break;
		}
		struct signalfd_siginfo si;
		while ((pf[1].revents & POLLIN) &&
		       read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			on_signal(sv, &stopping);
		if (sv->dev_open && pf[0].revents)
			on_dev(sv);
	}
	/* whatever happened, no mount is left behind */
	if (sv->k.mounted) {
		int lazy = 0;
		ft_kernel_close(&sv->k);
		if (ft_kernel_unmount(&sv->k, &lazy, err) < 0) {
			fprintf(stderr, "fusereplay: %s\n", err);
			sv->failed = 1;
		}
	}
	if (sigfd >= 0)
		close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code ? code : sv->failed;
}

/* The unmatched requests, on stderr. */
static void report(const struct serve *sv)
{
	if (!sv->missed) {
		fprintf(stderr, "fusereplay: %" PRIu64 " requests, none unmatched\n", sv->requests);
		return;
	}
	char num[16];
	const char *en = fp_errno_name(sv->o->unmatched);
	if (!en) {
		snprintf(num, sizeof(num), "%d", sv->o->unmatched);
		en = num;
	}
	fprintf(stderr, "fusereplay: %" PRIu64 " unmatched request%s (answered %s):\n", sv->missed,
		sv->missed == 1 ? "" : "s", en);
	for (size_t i = 0; i < sv->misses.n; i++)
		fprintf(stderr, "  %" PRIu64 "x %s\n",
			*(const uint64_t *)tab_val(&sv->misses, (long)i), sv->misses.s[i]);
}

int fr_serve(const struct fr_serve_opts *o)
{
	struct serve sv;
	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	sv.init = -1;
	sv.keys.valsize = sizeof(struct slot);
	sv.files.valsize = sizeof(struct file);
	sv.misses.valsize = sizeof(uint64_t);
	sv.k.fd = -1;
	sv.k.watchdog = -1;
	fp_msg_init(&sv.m);
	fp_msg_init(&sv.r);
	fp_msg_init(&sv.src);
	int code = load(&sv);
	if (!code && sv.init < 0) {
		fprintf(stderr, "fusereplay: %s: no successful INIT reply recorded (the capture "
				"starts after the session began, or its INIT failed): the kernel's "
				"INIT cannot be answered\n", o->capture);
		code = 2;
	}
	if (!code) {
		code = run(&sv);
		if (sv.requests)
			report(&sv);
	}
	ft_chan_free(&sv.dev);
	ft_kernel_free(&sv.k);
	fp_session_free(sv.live);
	for (size_t i = 0; i < sv.nrep; i++)
		free(sv.rep[i].buf);
	free(sv.rep);
	for (size_t i = 0; i < sv.keys.n; i++)
		free(((struct slot *)tab_val(&sv.keys, (long)i))->r);
	for (size_t i = 0; i < sv.files.n; i++)
		free(((struct file *)tab_val(&sv.files, (long)i))->p);
	tab_free(&sv.keys);
	tab_free(&sv.files);
	tab_free(&sv.misses);
	fp_msg_free(&sv.m);
	fp_msg_free(&sv.r);
	fp_msg_free(&sv.src);
	fp_sbuf_free(&sv.key);
	fp_sbuf_free(&sv.line);
	free(sv.out);
	return code;
}
