/* Write the seed corpus of tests/fuzz/fuzz_decode.c: every message of the recorded sessions
 * in tests/data (for the passthrough session one per origin, opcode and length bucket) with
 * the selector bytes the harness expects, whole recorded conversations for its session
 * mode, and handmade messages for every row of the opcode table. Files are named by the
 * SHA-1 of their content, as libFuzzer names them, so duplicates fall together.
 *
 *   mkcorpus OUTDIR [DATADIR]      (DATADIR: $FP_TESTDATA, else the source tree's)
 *
 * To make the committed corpus again:
 *   rm -rf tests/fuzz/corpus/fuzz_decode && build/tests/tools/mkcorpus tests/fuzz/corpus/fuzz_decode */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuseproto/abi.h"
#include "fuseproto/msg.h"
#include "fuseproto/session.h"
#include "fuzzsel.h"
#include "hexsession.h"

/* ---- the harness's input format (fuzzsel.h; the layout: tests/fuzz/fuzz_decode.c) --- */

/* The selector index of the table row that decodes like c (same minor, same SETXATTR_EXT). */
static unsigned conn_index(const struct fp_conn *c)
{
	for (unsigned i = 0; i < 8; i++)
		if (conns[i].minor == c->minor &&
		    !(conns[i].flags & FP_SETXATTR_EXT) == !(c->flags & FP_SETXATTR_EXT))
			return i;
	return 0;
}

/* Seeds larger than this are left out of session-mode conversations (they have their own
 * single-message seed when their bucket needs one). */
#define SESSION_MSG_MAX 65536

/* ---- SHA-1 (FIPS 180-4), for libFuzzer-style file names ------------------------------ */

static uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1_hex(const uint8_t *p, size_t n, char out[41])
{
	uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	size_t i = 0;
	for (; n - i >= 64; i += 64)
		sha1_block(h, p + i);
	uint8_t last[128] = {0};
	size_t r = n - i;
	memcpy(last, p + i, r);
	last[r] = 0x80;
	size_t tot = r + 1 + 8 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;
	for (int k = 0; k < 8; k++)
		last[tot - 1 - k] = (uint8_t)(bits >> (8 * k));
	sha1_block(h, last);
	if (tot == 128)
		sha1_block(h, last + 64);
	for (int k = 0; k < 5; k++)
		snprintf(out + 8 * k, 9, "%08x", (unsigned)h[k]);
}

/* ---- writing seeds ------------------------------------------------------------------ */

static const char *outdir;
static size_t n_written, n_dup, bytes_written, n_not_ok;

static void put_seed(const uint8_t *p, size_t n)
{
	char name[41], path[4200];
	sha1_hex(p, n, name);
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	struct stat st;
	if (stat(path, &st) == 0) {
		n_dup++;
		return;
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n_written++;
	bytes_written += n;
}

/* A single-message seed; checks that the harness will decode it as intended. */
static void put_single(enum fp_origin from, unsigned conn, uint32_t opcode, uint64_t arg,
		       const uint8_t *msg, size_t n, int expect_ok)
{
	uint8_t *s = malloc(n + 2);
	if (!s)
		exit(1);
	size_t h = 0;
	s[h++] = (uint8_t)((from == FP_FROM_DAEMON ? SEL_DAEMON : 0) | conn << 1 | (arg ? SEL_ARG : 0));
	if (from == FP_FROM_DAEMON)
		s[h++] = opcode == FP_CUSE_INIT ? 255 : (uint8_t)opcode;
	memcpy(s + h, msg, n);
	if (expect_ok) {
		struct fp_msg m;
		fp_msg_init(&m);
		struct fp_reqinfo ri = {opcode, arg ? 4096 : 0};
		int r = fp_decode(&m, msg, n, from, &conns[conn], from == FP_FROM_DAEMON && opcode ? &ri : NULL);
		if (r != FP_OK) {
			n_not_ok++;
			fprintf(stderr, "mkcorpus: note: seed %s opcode %u (%zu bytes) does not decode cleanly: %s\n",
				from == FP_FROM_DAEMON ? "D>K" : "K>D", opcode, n, m.reason);
		}
		fp_msg_free(&m);
	}
	put_seed(s, n + h);
	free(s);
}

/* A session-mode seed, grown record by record. */
struct conv {
	uint8_t *p;
	size_t n, cap;
};

static void conv_add(struct conv *c, enum fp_origin from, const uint8_t *msg, size_t n)
{
	if (c->n == 0) {
		c->cap = 4096;
		c->p = malloc(c->cap);
		if (!c->p)
			exit(1);
		c->p[c->n++] = SEL_SESSION;
	}
	while (c->n + 1 + n > c->cap) {
		c->cap *= 2;
		c->p = realloc(c->p, c->cap);
		if (!c->p)
			exit(1);
	}
	c->p[c->n++] = from == FP_FROM_DAEMON ? 1 : 0;
	memcpy(c->p + c->n, msg, n);
	c->n += n;
}

static void conv_put(struct conv *c)
{
	if (c->n)
		put_seed(c->p, c->n);
	free(c->p);
	memset(c, 0, sizeof(*c));
}

/* ---- the recorded sessions ---------------------------------------------------------- */

/* The `arg` of requests whose reply layout depends on it (GETXATTR, LISTXATTR size). */
struct argrec {
	uint64_t unique, arg;
};

static void from_recording(const char *datadir, const char *file, int one_per_bucket,
			   size_t conv_head, size_t conv_tail)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", datadir, file);
	struct hexsession hs;
	if (hexsession_load(&hs, path) < 0) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, hs.error);
		exit(1);
	}
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	static unsigned char seen[2][FP_OPCODE_MAX + 16][40];
	memset(seen, 0, sizeof(seen));
	struct argrec args[256];
	size_t nargs = 0, before = n_written;
	for (size_t i = 0; i < hs.n; i++) {
		const struct hexmsg *x = &hs.msgs[i];
		unsigned conn = conn_index(fp_session_conn(s));
		if (fp_session_feed(s, &m, x->from, x->buf, x->len, i * 1000) < 0)
			exit(1);
		uint32_t op = 0;
		uint64_t arg = 0;
		if (x->from == FP_FROM_KERNEL) {
			op = m.opcode;
			if (m.op && m.op->arg && nargs < 256) {
				long a = fp_msg_find(&m, m.op->arg);
				args[nargs++] = (struct argrec){m.h.unique, a >= 0 ? m.v[a].u : 0};
			}
		} else if (m.dir == FP_REPLY && m.op && m.latency_ns >= 0) {
			op = m.opcode;
			for (size_t k = 0; m.op->arg && k < nargs; k++)
				if (args[k].unique == m.h.unique)
					arg = args[k].arg;
		}
		if (one_per_bucket) {
			unsigned bucket = 0;
			while (bucket < 39 && ((size_t)1 << (bucket + 1)) <= x->len)
				bucket++;
			unsigned key = m.dir == FP_NOTIFY ? FP_OPCODE_MAX + 1 + (m.opcode & 7)
				       : op <= FP_OPCODE_MAX ? op : FP_OPCODE_MAX + 9;
			if (seen[x->from][key][bucket])
				continue;
			seen[x->from][key][bucket] = 1;
		}
		put_single(x->from, conn, m.dir == FP_NOTIFY ? 0 : op, arg, x->buf, x->len, 1);
	}
	printf("mkcorpus: %s: %zu messages, %zu new single-message seeds\n", file, hs.n,
	       n_written - before);

	/* conversations for the session mode: the head, and INIT plus the tail */
	struct conv c = {0};
	for (size_t i = 0; i < hs.n && i < conv_head; i++)
		if (hs.msgs[i].len <= SESSION_MSG_MAX)
			conv_add(&c, hs.msgs[i].from, hs.msgs[i].buf, hs.msgs[i].len);
	conv_put(&c);
	if (conv_tail && hs.n > conv_head) {
		for (size_t i = 0; i < 2; i++)
			conv_add(&c, hs.msgs[i].from, hs.msgs[i].buf, hs.msgs[i].len);
		for (size_t i = hs.n > conv_tail ? hs.n - conv_tail : 2; i < hs.n; i++)
			if (hs.msgs[i].len <= SESSION_MSG_MAX)
				conv_add(&c, hs.msgs[i].from, hs.msgs[i].buf, hs.msgs[i].len);
		conv_put(&c);
	}
	fp_msg_free(&m);
	fp_session_free(s);
	hexsession_free(&hs);
}

/* ---- handmade messages -------------------------------------------------------------- */

static uint8_t ebuf[1 << 16];

static size_t encode(struct fp_msg *b)
{
	long n = fp_encode(b, ebuf, sizeof(ebuf), FP_ENC_FIXUP);
	if (n < 0 || (size_t)n > sizeof(ebuf)) {
		fprintf(stderr, "mkcorpus: cannot encode a handmade message\n");
		exit(1);
	}
	return (size_t)n;
}

static void set_u(struct fp_msg *b, const char *path, uint64_t v)
{
	long i = fp_msg_find(b, path);
	if (i < 0 || fp_msg_set_u64(b, i, v) < 0) {
		fprintf(stderr, "mkcorpus: no integer %s\n", path);
		exit(1);
	}
}

static void set_s(struct fp_msg *b, const char *path, const char *s)
{
	long i = fp_msg_find(b, path);
	if (i < 0 || fp_msg_set_bytes(b, i, s, strlen(s)) < 0) {
		fprintf(stderr, "mkcorpus: no string %s\n", path);
		exit(1);
	}
}

static void set_fu(struct fp_msg *b, long c, const char *name, uint64_t v)
{
	if (fp_msg_set_u64(b, fp_msg_field(b, c, name), v) < 0) {
		fprintf(stderr, "mkcorpus: no integer %s\n", name);
		exit(1);
	}
}

/* One element in every array, then every name and byte field set. */
static void fill(struct fp_msg *b, const struct fp_conn *c)
{
	for (int guard = 0; guard < 32; guard++) {
		long a = -1;
		for (uint32_t i = 0; i < b->nv && a < 0; i++)
			if (b->v[i].f->kind == FP_K_ARRAY && !(b->v[i].vflags & FP_V_ELEM) && b->v[i].u == 0)
				a = (long)i;
		if (a < 0 || fp_msg_append(b, a, c) < 0)
			break;
	}
	for (uint32_t i = 0; i < b->nv; i++) {
		const struct fp_val *v = &b->v[i];
		if (v->vflags & FP_V_ELEM)
			continue;
		if (v->f->kind == FP_K_STR)
			fp_msg_set_bytes(b, i, "name", 4);
		else if (v->f->kind == FP_K_BYTES && !(v->f->flags & FP_F_PAD))
			fp_msg_set_bytes(b, i, "data", 4);
	}
}

/* Every row of the table: its request (or notification) and its replies, at the newest and
 * the oldest minor. */
static void from_table(void)
{
	struct fp_msg b;
	fp_msg_init(&b);
	size_t before = n_written;
	static const unsigned at[] = {0, 3, 6};
	for (unsigned i = 0; fp_op_at(i); i++) {
		const struct fp_op *op = fp_op_at(i);
		for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			const struct fp_conn *c = &conns[at[k]];
			if (op->flags & FP_OP_NOTIFY) {
				if (fp_msg_build(&b, FP_NOTIFY, op->code, c, NULL) < 0)
					continue;
				fill(&b, c);
				size_t n = encode(&b);
				put_single(FP_FROM_DAEMON, at[k], 0, 0, ebuf, n, 1);
				continue;
			}
			if (fp_msg_build(&b, FP_REQUEST, op->code, c, NULL) < 0)
				continue;
			set_u(&b, "header.unique", op->code == FP_INTERRUPT ? 3 : 2);
			set_u(&b, "header.nodeid", 1);
			fill(&b, c);
			size_t n = encode(&b);
			put_single(FP_FROM_KERNEL, at[k], 0, 0, ebuf, n, 1);
			for (uint64_t arg = 0; arg < (op->rep_for ? 2u : 1u); arg++) {
				struct fp_reqinfo ri = {op->code, arg ? 4096 : 0};
				if (fp_msg_build(&b, FP_REPLY, op->code, c, &ri) < 0)
					continue;
				set_u(&b, "header.unique", 2);
				fill(&b, c);
				n = encode(&b);
				put_single(FP_FROM_DAEMON, at[k], op->code, arg, ebuf, n, 1);
			}
		}
	}
	/* error replies, an INTERRUPT reply, an unpaired reply */
	static const int32_t errs[] = {-2, -4, -11, -38, -511};
	for (unsigned k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
		fp_msg_build(&b, FP_REPLY, 0, NULL, NULL);
		set_u(&b, "header.unique", errs[k] == -11 ? 183 : 2);
		set_u(&b, "header.error", (uint64_t)(int64_t)errs[k]);
		size_t n = encode(&b);
		put_single(FP_FROM_DAEMON, 0, errs[k] == -11 ? 0 : FP_LOOKUP, 0, ebuf, n, 1);
	}
	fp_msg_free(&b);
	printf("mkcorpus: opcode table: %zu new seeds\n", n_written - before);
}

/* Requests with an extension area (built by hand: the builder makes none). */
static void with_extensions(void)
{
	/* MKDIR "d1" with a security-context header and one supplementary group, as a 6.18
	 * kernel sent it (PROTOCOL-NOTES.md 1.7) */
	static const uint8_t mkdir_ext[] = {
		75, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		0xe8, 3, 0, 0, 100, 0, 0, 0, 123, 0, 0, 0, 3, 0, 0, 0,
		0xed, 1, 0, 0, 0x12, 0, 0, 0, 'd', '1', 0,
		8, 0, 0, 0, 0, 0, 0, 0,
		16, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0,
	};
	put_single(FP_FROM_KERNEL, 0, 0, 0, mkdir_ext, sizeof(mkdir_ext), 1);
	/* CREATE "f" with one security context and an extension of unknown type */
	static const uint8_t create_ext[] = {
		114, 0, 0, 0, 35, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		0xe8, 3, 0, 0, 100, 0, 0, 0, 123, 0, 0, 0, 7, 0, 0, 0,
		0x41, 0x80, 0, 0, 0xa4, 0x81, 0, 0, 0x12, 0, 0, 0, 0, 0, 0, 0, 'f', 0,
		40, 0, 0, 0, 1, 0, 0, 0,
		6, 0, 0, 0, 0, 0, 0, 0,
		's', 'e', 'c', 'u', 'r', 'i', 't', 'y', '.', 's', 'e', 'l', 'i', 'n', 'u', 'x', 0,
		'u', ':', 'r', ':', 'x', 0, 0,
		16, 0, 0, 0, 99, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
	};
	put_single(FP_FROM_KERNEL, 0, 0, 0, create_ext, sizeof(create_ext), 1);
}

/* A scripted conversation touching every session path: INIT, names through LOOKUP,
 * READDIRPLUS, RENAME, RENAME2 exchange, UNLINK, FORGET and BATCH_FORGET, an INTERRUPT and
 * its -EAGAIN reply, RETRIEVE and NOTIFY_REPLY, GETXATTR both ways, an unpaired reply. */
struct script {
	struct fp_msg b;
	struct fp_conn conn;
	struct conv c;
};

static void sc_send(struct script *s, enum fp_origin from)
{
	size_t n = encode(&s->b);
	conv_add(&s->c, from, ebuf, n);
}

static void sc_req(struct script *s, uint32_t op, uint64_t unique, uint64_t nodeid)
{
	fp_msg_build(&s->b, FP_REQUEST, op, &s->conn, NULL);
	set_u(&s->b, "header.unique", unique);
	set_u(&s->b, "header.nodeid", nodeid);
	set_u(&s->b, "header.uid", 1000);
	set_u(&s->b, "header.pid", 42);
}

static void sc_rep(struct script *s, uint32_t op, uint64_t unique, int32_t error, uint64_t arg)
{
	struct fp_reqinfo ri = {op, arg};
	fp_msg_build(&s->b, FP_REPLY, error ? 0 : op, &s->conn, &ri);
	set_u(&s->b, "header.unique", unique);
	set_u(&s->b, "header.error", (uint64_t)(int64_t)error);
}

static void sc_lookup(struct script *s, uint64_t unique, uint64_t parent, const char *name,
		      uint64_t nodeid)
{
	sc_req(s, FP_LOOKUP, unique, parent);
	set_s(&s->b, "name", name);
	sc_send(s, FP_FROM_KERNEL);
	sc_rep(s, FP_LOOKUP, unique, 0, 0);
	set_u(&s->b, "nodeid", nodeid);
	set_u(&s->b, "attr.ino", nodeid);
	sc_send(s, FP_FROM_DAEMON);
}

static void sc_plus(struct script *s, long arr, uint64_t nodeid, const char *name)
{
	long e = fp_msg_append(&s->b, arr, &s->conn);
	long eo = fp_msg_field(&s->b, e, "entry_out"), d = fp_msg_field(&s->b, e, "dirent");
	set_fu(&s->b, eo, "nodeid", nodeid);
	set_fu(&s->b, d, "ino", nodeid);
	fp_msg_set_bytes(&s->b, fp_msg_field(&s->b, d, "name"), name, strlen(name));
}

static void scripted(void)
{
	struct script s;
	memset(&s, 0, sizeof(s));
	fp_msg_init(&s.b);
	s.conn = (struct fp_conn)FP_CONN_NEWEST;

	sc_req(&s, FP_INIT, 2, 0);
	set_u(&s.b, "major", 7);
	set_u(&s.b, "minor", 45);
	set_u(&s.b, "flags", 0x73fffffb);
	set_u(&s.b, "flags2", 0x5fd);
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, FP_INIT, 2, 0, 0);
	set_u(&s.b, "major", 7);
	set_u(&s.b, "minor", 31);
	set_u(&s.b, "flags", 0x40409029);
	set_u(&s.b, "max_write", 1 << 20);
	sc_send(&s, FP_FROM_DAEMON);
	s.conn = (struct fp_conn){7, 31, 0x40409029};

	sc_lookup(&s, 4, 1, "a", 2);
	sc_lookup(&s, 6, 2, "b", 3);
	sc_req(&s, FP_READDIRPLUS, 8, 2);
	set_u(&s.b, "size", 4096);
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, FP_READDIRPLUS, 8, 0, 0);
	long arr = fp_msg_find(&s.b, "entries");
	sc_plus(&s, arr, 2, ".");
	sc_plus(&s, arr, 1, "..");
	sc_plus(&s, arr, 4, "x");
	sc_plus(&s, arr, 5, "y");
	sc_plus(&s, arr, 0, "nolookup");
	sc_send(&s, FP_FROM_DAEMON);

	sc_req(&s, FP_RENAME2, 10, 2);
	set_u(&s.b, "newdir", 2);
	set_u(&s.b, "flags", 2);
	set_s(&s.b, "oldname", "x");
	set_s(&s.b, "newname", "y");
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, 0, 10, 0, 0);
	sc_send(&s, FP_FROM_DAEMON);
	sc_req(&s, FP_RENAME, 12, 2);
	set_u(&s.b, "newdir", 1);
	set_s(&s.b, "oldname", "b");
	set_s(&s.b, "newname", "z");
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, 0, 12, 0, 0);
	sc_send(&s, FP_FROM_DAEMON);
	sc_req(&s, FP_GETATTR, 14, 3);
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, FP_GETATTR, 14, 0, 0);
	sc_send(&s, FP_FROM_DAEMON);
	sc_req(&s, FP_UNLINK, 16, 2);
	set_s(&s.b, "name", "y");
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, 0, 16, 0, 0);
	sc_send(&s, FP_FROM_DAEMON);

	/* an interrupted LOOKUP: INTERRUPT, -EAGAIN for it, then -EINTR */
	sc_req(&s, FP_LOOKUP, 182, 1);
	set_s(&s.b, "name", "slowname");
	sc_send(&s, FP_FROM_KERNEL);
	sc_req(&s, FP_INTERRUPT, 183, 0);
	set_u(&s.b, "unique", 182);
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, 0, 183, -11, 0);
	sc_send(&s, FP_FROM_DAEMON);
	sc_rep(&s, 0, 182, -4, 0);
	sc_send(&s, FP_FROM_DAEMON);

	/* RETRIEVE 7, answered once */
	fp_msg_build(&s.b, FP_NOTIFY, FP_NOTIFY_RETRIEVE, &s.conn, NULL);
	set_u(&s.b, "notify_unique", 7);
	set_u(&s.b, "nodeid", 4);
	set_u(&s.b, "size", 128);
	sc_send(&s, FP_FROM_DAEMON);
	for (int k = 0; k < 2; k++) {
		sc_req(&s, FP_NOTIFY_REPLY, 7, 4);
		set_s(&s.b, "data", "cached bytes");
		sc_send(&s, FP_FROM_KERNEL);
	}

	/* GETXATTR: the size asked decides the reply's layout */
	sc_req(&s, FP_GETXATTR, 20, 4);
	set_s(&s.b, "name", "user.k");
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, FP_GETXATTR, 20, 0, 0);
	set_u(&s.b, "size", 2);
	sc_send(&s, FP_FROM_DAEMON);
	sc_req(&s, FP_GETXATTR, 22, 4);
	set_u(&s.b, "size", 64);
	set_s(&s.b, "name", "user.k");
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, FP_GETXATTR, 22, 0, 64);
	set_s(&s.b, "value", "v1");
	sc_send(&s, FP_FROM_DAEMON);
	sc_req(&s, FP_SETXATTR, 24, 4);
	set_s(&s.b, "name", "user.k");
	set_s(&s.b, "value", "v2");
	sc_send(&s, FP_FROM_KERNEL);
	sc_rep(&s, 0, 24, 0, 0);
	sc_send(&s, FP_FROM_DAEMON);

	/* forgetting */
	sc_req(&s, FP_BATCH_FORGET, 26, 0);
	long a = fp_msg_find(&s.b, "forgets");
	long e = fp_msg_append(&s.b, a, &s.conn);
	set_fu(&s.b, e, "nodeid", 3);
	set_fu(&s.b, e, "nlookup", 1);
	e = fp_msg_append(&s.b, a, &s.conn);
	set_fu(&s.b, e, "nodeid", 5);
	set_fu(&s.b, e, "nlookup", 1);
	sc_send(&s, FP_FROM_KERNEL);
	sc_req(&s, FP_FORGET, 28, 4);
	set_u(&s.b, "nlookup", 1);
	sc_send(&s, FP_FROM_KERNEL);

	/* a reply nobody asked for */
	sc_rep(&s, 0, 9998, -2, 0);
	sc_send(&s, FP_FROM_DAEMON);

	conv_put(&s.c);
	fp_msg_free(&s.b);
}

/* Inputs the fuzzer found that showed a bug: they stay in the corpus for good. */
static void fuzz_found(void)
{
	/* NOTIFY_INVAL_ENTRY, namelen 4, name "\0\0\0e": decodes as valid, fp_encode refuses
	 * the NUL inside the name (selector: daemon, conn 6, no request) */
	static const uint8_t inval_entry_nul[] = {
		0x0d, 0x00, 0x25, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x65, 0,
	};
	put_seed(inval_entry_nul, sizeof(inval_entry_nul));
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: mkcorpus OUTDIR [DATADIR]\n");
		return 2;
	}
	outdir = argv[1];
	const char *datadir = argc > 2 ? argv[2] : getenv("FP_TESTDATA");
	if (!datadir || !*datadir)
		datadir = FP_TESTDATA_DIR;
	if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkcorpus: %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	from_recording(datadir, "hello_ll.hex", 0, SIZE_MAX, 0);
	from_recording(datadir, "notify_store_retrieve.hex", 0, SIZE_MAX, 0);
	from_recording(datadir, "passthrough_ll-workload.hex.gz", 1, 200, 60);
	from_table();
	with_extensions();
	scripted();
	fuzz_found();
	printf("mkcorpus: %zu seeds written (%zu bytes), %zu duplicates skipped, %zu seeds that "
	       "do not decode cleanly\n",
	       n_written, bytes_written, n_dup, n_not_ok);
	return 0;
}
