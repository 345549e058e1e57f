/* Robustness of the decoder and the formatters: cut, random and mutated messages never
 * crash, always come back as OK, truncated or invalid with a sound value tree, always
 * format, and whatever decodes cleanly encodes back to the very same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fuseproto/abi.h"
#include "fuseproto/format.h"
#include "fuseproto/msg.h"
#include "fuseproto/optable.h"
#include "fuseproto/session.h"
#include "hexsession.h"
#include "msgsample.h"

/* How many random messages, and mutations of each sample and each recorded message. The
 * environment can lower them (FP_ROBUST_RANDOM, FP_ROBUST_MUTATIONS as a percentage of the
 * default mutation counts), e.g. for a slow sanitizer build; the defaults are the test. */
static unsigned long n_random = 1000000;
static unsigned long mut_pct = 100;
#define SAMPLE_MUTATIONS 1500  /* per built sample message */
/* Per recorded message: many for the first ones of each kind (origin, opcode, request or
 * reply), few for the thousands of CREATEs and WRITEs that follow. */
#define SESSION_MUTATIONS_FIRST 100
#define SESSION_FIRST 40
#define SESSION_MUTATIONS_REST 12

/* ------------------------------------------------------------------ random numbers */

/* xorshift64*: small, fast, and the same sequence everywhere for a given seed. */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform in [0, n). */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * (uint64_t)n) >> 32);
}

static void put_le(uint8_t *p, size_t room, unsigned w, uint64_t v)
{
	for (unsigned i = 0; i < w && i < room; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ------------------------------------------------------------------ findings */

#define EXAMPLES 3

/* A property that failed: how often, and the first EXAMPLES cases in full (bytes, origin,
 * connection, request), so that a failure can be reproduced from the log alone. */
struct finding {
	const char *what;
	unsigned long count;
	char example[EXAMPLES][1024];
};

static void hexdump(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", b[i]);
	if (o < cap)
		out[o] = 0;
}

static void note(struct finding *f, const uint8_t *buf, size_t len, enum fp_origin from,
		 const struct fp_conn *conn, const struct fp_reqinfo *ri, const char *fmt, ...)
{
	if (f->count++ >= EXAMPLES)
		return;
	char why[200], hex[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	for (char *c = why; *c; c++) /* the report stays printable */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	hexdump(hex, sizeof(hex), buf, len < 280 ? len : 280);
	snprintf(f->example[f->count - 1], sizeof(f->example[0]),
		 "%s: %s\n  from=%s conn=7.%u flags=0x%llx reqinfo=%s%u/%llu len=%zu\n  bytes=%s%s",
		 f->what, why, from == FP_FROM_KERNEL ? "kernel" : "daemon", conn ? conn->minor : 45,
		 conn ? (unsigned long long)conn->flags : ~0ULL, ri ? "" : "none ", ri ? ri->opcode : 0,
		 ri ? (unsigned long long)ri->arg : 0ULL, len, hex, len > 280 ? "..." : "");
}

/* The properties every decode is checked for. */
struct props {
	struct finding status, tree, text, json, utf8, roundtrip;
	unsigned long decoded[3]; /* by status */
};

static void props_init(struct props *p)
{
	memset(p, 0, sizeof(*p));
	p->status.what = "status";
	p->tree.what = "value tree";
	p->text.what = "text";
	p->json.what = "JSON";
	p->utf8.what = "JSON strings not UTF-8";
	p->roundtrip.what = "encode(decode(bytes)) != bytes";
}

/* Print every finding, then assert there were none. */
static void props_assert(struct props *p, const char *name)
{
	struct finding *all[] = {&p->status, &p->tree, &p->text, &p->json, &p->utf8, &p->roundtrip};
	print_message("%s: %lu OK, %lu truncated, %lu invalid\n", name, p->decoded[FP_OK],
		      p->decoded[FP_TRUNCATED], p->decoded[FP_INVALID]);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		for (unsigned long e = 0; e < all[i]->count && e < EXAMPLES; e++)
			print_error("%s: %lu failures; %s %lu: %s\n", name, all[i]->count,
				    e ? "then" : "first", e + 1, all[i]->example[e]);
	snprintf(check_ctx, sizeof(check_ctx), "%s", name);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		CHECK_INT(all[i]->count, 0);
}

/* ------------------------------------------------------------------ one decode, checked */

/* What a run of checked decodes shares: its findings, the message and text it reuses, the
 * buffer a message is decoded from (the message is put at its very end, so that a read past
 * the message runs off the allocation: a sanitizer report), and one to encode into. */
struct checker {
	struct props p;
	struct fp_msg m;
	struct fp_sbuf sb;
	uint8_t *in, *out;
	size_t incap, outcap;
};

static void checker_init(struct checker *ck)
{
	memset(ck, 0, sizeof(*ck));
	props_init(&ck->p);
	fp_msg_init(&ck->m);
}

/* Release ck, then assert that no property failed. */
static void checker_done(struct checker *ck, const char *name)
{
	fp_msg_free(&ck->m);
	fp_sbuf_free(&ck->sb);
	free(ck->in);
	free(ck->out);
	ck->in = ck->out = NULL;
	props_assert(&ck->p, name);
}

/* A buffer of at least n bytes in *b (of *cap), keeping nothing. */
static uint8_t *room(uint8_t **b, size_t *cap, size_t n)
{
	if (*cap < n || !*b) {
		free(*b);
		*cap = n > 2 * *cap ? n : 2 * *cap;
		*b = malloc(*cap ? *cap : 1);
		assert_non_null(*b);
	}
	return *b;
}

/* Whether m's values form a sound tree over buf[0, len): subtrees inside the array,
 * children one level below their parent, roots at depth 0 (the header, then the body),
 * every value inside the bytes given, and the bytes of strings and data taken from there. */
static const char *tree_problem(const struct fp_msg *m, const uint8_t *buf, size_t len)
{
	if (m->nv == 0)
		return "no values";
	if (m->v[0].depth != 0 || m->v[0].f->kind != FP_K_STRUCT)
		return "v[0] is not the header";
	uint32_t roots = 0;
	for (uint32_t i = 0; i < m->nv; i += m->v[i].nsub + 1) {
		if (m->v[i].depth != 0)
			return "root not at depth 0";
		if (roots++ == 1 && m->body != i)
			return "second root is not the body";
	}
	if (roots > 2 || (roots == 2) != (m->body != UINT32_MAX))
		return "roots and body disagree";
	for (uint32_t i = 0; i < m->nv; i++) {
		const struct fp_val *v = &m->v[i];
		if (v->nsub >= m->nv - i)
			return "subtree past the end";
		if ((uint64_t)v->off + v->len > len)
			return "value outside the message";
		uint32_t end = i + v->nsub;
		for (uint32_t j = i + 1; j <= end; j += m->v[j].nsub + 1)
			if (m->v[j].depth != v->depth + 1 || j + m->v[j].nsub > end)
				return "child out of place";
		enum fp_kind k = (enum fp_kind)v->f->kind;
		if (!(v->vflags & FP_V_ELEM) && (k == FP_K_STR || k == FP_K_BYTES || k == FP_K_PAD8)) {
			if (v->len && v->p != buf + v->off)
				return "bytes not from the message";
			if (k == FP_K_STR && (v->len == 0 || buf[v->off + v->len - 1] != 0))
				return "string without its NUL";
		}
		if (!(v->vflags & FP_V_ELEM) && fp_kind_is_int(k) && v->len != fp_kind_width(k))
			return "integer of the wrong width";
	}
	return NULL;
}

/* Decode a copy of src[0, len) that ends where its allocation ends, and check every
 * property; `want` is the status expected, or -1 for any. Returns the status. */
static int decode_checked(struct checker *ck, const uint8_t *src, size_t len, enum fp_origin from,
			  const struct fp_conn *conn, const struct fp_reqinfo *ri, int want)
{
	struct props *p = &ck->p;
	struct fp_msg *m = &ck->m;
	struct fp_sbuf *sb = &ck->sb;
	uint8_t *buf = room(&ck->in, &ck->incap, len) + ck->incap - len;
	if (len)
		memmove(buf, src, len);
	int rc = fp_decode(m, buf, len, from, conn, ri);
	if (rc < FP_OK || rc > FP_INVALID || rc != (int)m->status) {
		note(&p->status, buf, len, from, conn, ri, "fp_decode returned %d, status %d", rc,
		     m->status);
		return rc;
	}
	p->decoded[rc]++;
	if (want >= 0 && rc != want)
		note(&p->status, buf, len, from, conn, ri, "status %d, expected %d (%s at %u)", rc,
		     want, m->reason, m->bad_off);
	if (rc == FP_TRUNCATED && m->bad_off > len)
		note(&p->status, buf, len, from, conn, ri, "truncated at %u, after the %zu bytes",
		     m->bad_off, len);
	if (rc != FP_OK && !m->reason[0])
		note(&p->status, buf, len, from, conn, ri, "status %d without a reason", rc);
	const char *tp = tree_problem(m, buf, len);
	if (tp)
		note(&p->tree, buf, len, from, conn, ri, "%s", tp);

	fp_sbuf_clear(sb);
	fp_format_text(sb, m, 0);
	if (sb->oom || sb->len == 0 || !msgsample_printable(sb->s, sb->len))
		note(&p->text, buf, len, from, conn, ri, "text empty or not printable: %s",
		     sb->s ? sb->s : "");
	else if (rc != FP_OK &&
		 !strstr(sb->s, rc == FP_TRUNCATED ? "[truncated at byte " : "[invalid at byte "))
		note(&p->text, buf, len, from, conn, ri, "status not shown: %s", sb->s);
	fp_sbuf_clear(sb);
	fp_format_json(sb, m, 0);
	if (sb->oom || sb->len == 0)
		note(&p->json, buf, len, from, conn, ri, "no JSON");
	else if (!msgsample_json_valid(sb->s, sb->len) && !msgsample_json_grammar(sb->s, sb->len))
		note(&p->json, buf, len, from, conn, ri,
		     "not valid JSON (syntax, or a name twice): %.300s", sb->s);
	else if (!msgsample_json_valid(sb->s, sb->len))
		note(&p->utf8, buf, len, from, conn, ri, "invalid UTF-8 in %.300s", sb->s);
	else if (rc != FP_OK && !strstr(sb->s, rc == FP_TRUNCATED ? "\"status\":\"truncated\"" :
							       "\"status\":\"invalid\""))
		note(&p->json, buf, len, from, conn, ri, "status not shown: %.300s", sb->s);

	if (rc == FP_OK) {
		char why[160];
		uint8_t *out = room(&ck->out, &ck->outcap, len + 16);
		if (msgsample_reencode(m, buf, len, out, why, sizeof(why)))
			note(&p->roundtrip, buf, len, from, conn, ri, "%s", why);
	}
	return rc;
}

/* ------------------------------------------------------------------ the samples */

struct sample {
	struct msgcase c;
	uint8_t *buf;
	size_t len;
};

static struct sample *samples;
static size_t nsamples;

/* A recorded session: its messages, and for each the connection and request it was seen
 * with (from a session decoding them in order). */
struct recorded {
	const char *file;
	struct hexsession hs;
	struct fp_conn *conn;
	struct fp_reqinfo *ri;
	unsigned char *has_ri;
};

static const char *const session_files[] = {
	"hello_ll.hex",
	"notify_store_retrieve.hex",
	"passthrough_ll-workload.hex.gz",
};
#define NSESSIONS (sizeof(session_files) / sizeof(session_files[0]))
static struct recorded sessions[NSESSIONS];

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	return *end ? def : v;
}

/* Requests waiting for their replies while a recorded session is walked. */
struct waiting {
	uint64_t unique;
	struct fp_reqinfo ri;
};

static int load_session(struct recorded *r, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, r->file);
	if (hexsession_load(&r->hs, path) < 0) {
		print_error("%s: %s\n", path, r->hs.error);
		return -1;
	}
	size_t n = r->hs.n;
	r->conn = calloc(n ? n : 1, sizeof(*r->conn));
	r->ri = calloc(n ? n : 1, sizeof(*r->ri));
	r->has_ri = calloc(n ? n : 1, 1);
	struct waiting *w = calloc(n ? n : 1, sizeof(*w));
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	size_t nw = 0;
	int rc = (r->conn && r->ri && r->has_ri && w && s) ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct hexmsg *x = &r->hs.msgs[i];
		r->conn[i] = *fp_session_conn(s);
		/* a reply answers the request with its unique that is still waiting */
		if (x->from == FP_FROM_DAEMON && x->len >= 16) {
			uint64_t unique = 0;
			for (int b = 7; b >= 0; b--)
				unique = unique << 8 | x->buf[8 + b];
			for (size_t k = nw; unique && k-- > 0;)
				if (w[k].unique == unique) {
					r->ri[i] = w[k].ri;
					r->has_ri[i] = 1;
					w[k] = w[--nw];
					break;
				}
		}
		if (fp_session_feed(s, &m, x->from, x->buf, x->len, (uint64_t)i * 1000) < 0)
			rc = -1;
		else if (m.dir == FP_REQUEST && m.op && !(m.op->flags & FP_OP_NOREPLY)) {
			long a = m.op->arg ? fp_msg_find(&m, m.op->arg) : -1;
			w[nw++] = (struct waiting){m.h.unique, {m.op->code, a >= 0 ? m.v[a].u : 0}};
		}
	}
	fp_msg_free(&m);
	fp_session_free(s);
	free(w);
	return rc;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
	(void)state;
	double t0 = now();
	n_random = env_ulong("FP_ROBUST_RANDOM", n_random);
	mut_pct = env_ulong("FP_ROBUST_MUTATIONS", mut_pct);

	size_t n = msgsample_cases(NULL, 0);
	samples = calloc(n, sizeof(*samples));
	struct msgcase *cases = calloc(n, sizeof(*cases));
	if (!samples || !cases || msgsample_cases(cases, n) != n)
		return -1;
	struct fp_msg m;
	fp_msg_init(&m);
	for (size_t i = 0; i < n; i++) {
		samples[i].c = cases[i];
		long len;
		if (msgsample_build(&m, &cases[i], (uint32_t)i) < 0 ||
		    (len = msgsample_encode(&m, &samples[i].buf)) < 0)
			return -1;
		samples[i].len = (size_t)len;
	}
	nsamples = n;
	fp_msg_free(&m);
	free(cases);

	const char *dir = getenv("FP_TESTDATA");
	if (!dir || !*dir)
		dir = FP_TESTDATA_DIR;
	for (size_t k = 0; k < NSESSIONS; k++) {
		sessions[k].file = session_files[k];
		if (load_session(&sessions[k], dir) < 0)
			return -1;
	}
	print_message("setup: %zu samples, %zu recorded sessions in %.1f s\n", nsamples, NSESSIONS,
		      now() - t0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsamples; i++)
		free(samples[i].buf);
	free(samples);
	for (size_t k = 0; k < NSESSIONS; k++) {
		hexsession_free(&sessions[k].hs);
		free(sessions[k].conn);
		free(sessions[k].ri);
		free(sessions[k].has_ri);
	}
	print_message("test_robust: %lu checks\n", check_count);
	return 0;
}

/* ------------------------------------------------------------------ (a) cut messages */

/* Every prefix of a valid message is truncated: bytes are missing, nothing is against the
 * protocol. The samples at every length; the recorded messages too, the first few of each
 * kind (every length up to 1024, the last 64, and about 64 lengths between). */
static void test_truncated_prefixes(void **state)
{
	(void)state;
	struct checker ck;
	checker_init(&ck);
	unsigned long cuts = 0;
	double t0 = now();
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		snprintf(check_ctx, sizeof(check_ctx), "%s", s->c.label);
		CHECK_INT(decode_checked(&ck, s->buf, s->len, msgcase_origin(&s->c), &s->c.conn,
					 msgcase_reqinfo(&s->c), FP_OK), FP_OK);
		for (size_t cut = 0; cut < s->len; cut++, cuts++)
			decode_checked(&ck, s->buf, cut, msgcase_origin(&s->c), &s->c.conn,
				       msgcase_reqinfo(&s->c), FP_TRUNCATED);
	}
	for (size_t k = 0; k < NSESSIONS; k++) {
		const struct recorded *r = &sessions[k];
		/* kinds: origin x opcode-or-code x reply-or-not, the first 10 of each */
		unsigned char seen[2][64][2] = {{{0}}};
		for (size_t i = 0; i < r->hs.n; i++) {
			const struct hexmsg *x = &r->hs.msgs[i];
			const struct fp_reqinfo *ri = r->has_ri[i] ? &r->ri[i] : NULL;
			int rc = decode_checked(&ck, x->buf, x->len, x->from, &r->conn[i], ri, FP_OK);
			unsigned code = ck.m.opcode < 64 ? ck.m.opcode : 63;
			unsigned char *n = &seen[x->from][code][ck.m.dir == FP_REPLY];
			if (rc != FP_OK || *n >= 10)
				continue;
			(*n)++;
			size_t stride = x->len / 64 > 31 ? x->len / 64 : 31;
			for (size_t cut = 0; cut < x->len; cut++) {
				if (cut >= 1024 && cut % stride && cut + 64 < x->len)
					continue;
				decode_checked(&ck, x->buf, cut, x->from, &r->conn[i], ri,
					       FP_TRUNCATED);
				cuts++;
			}
		}
	}
	print_message("truncated prefixes: %lu cuts in %.1f s\n", cuts, now() - t0);
	checker_done(&ck, "truncated prefixes");
	CHECK(cuts > 50000);
}

/* ------------------------------------------------------------------ (b) random messages */

/* A random message of 0..300 bytes; 7 in 8 start with a plausible header (a random opcode
 * 0..60 or notify code, the len field right or a little off), the rest is noise. Fills the
 * origin, connection and request information to decode it with. */
static size_t random_message(struct rng *r, uint8_t *buf, enum fp_origin *from, struct fp_conn *conn,
			     struct fp_reqinfo *ri, int *has_ri)
{
	size_t len = below(r, 301);
	for (size_t i = 0; i < len; i += 8)
		put_le(buf + i, len - i, 8, rnd(r));
	*from = below(r, 2) ? FP_FROM_KERNEL : FP_FROM_DAEMON;
	*has_ri = 0;
	static const uint32_t minors[] = {0, 3, 4, 8, 9, 11, 12, 22, 23, 33, 36, 38, 44, 45};
	conn->major = 7;
	conn->minor =
		below(r, 4) ? minors[below(r, sizeof(minors) / sizeof(minors[0]))] : below(r, 256);
	switch (below(r, 4)) {
	case 0: conn->flags = UINT64_MAX; break;
	case 1: conn->flags = 0; break;
	case 2: conn->flags = UINT64_MAX & ~FP_SETXATTR_EXT; break;
	default: conn->flags = rnd(r);
	}
	if (below(r, 8) == 0)
		return len;

	uint32_t lenfield = (uint32_t)len;
	if (below(r, 2))
		lenfield += below(r, 9) - 4; /* off by a bit, either way */
	put_le(buf, len, 4, lenfield);
	if (*from == FP_FROM_KERNEL) {
		uint32_t op = below(r, 32) ? below(r, 61) : FP_CUSE_INIT;
		put_le(buf + 4, len > 4 ? len - 4 : 0, 4, op);
		if (len > 36)
			put_le(buf + 36, len - 36, 2, below(r, 4) ? 0 : below(r, 6)); /* total_extlen */
		return len;
	}
	uint64_t unique = below(r, 4) ? rnd(r) & ~UINT64_C(1) : 0;
	if (below(r, 16) == 0)
		unique |= 1; /* an INTERRUPT reply */
	int32_t error = unique == 0 ? (int32_t)below(r, 11)
		      : below(r, 2) ? 0 : below(r, 2) ? -(int32_t)below(r, 600) : (int32_t)rnd(r);
	put_le(buf + 4, len > 4 ? len - 4 : 0, 4, (uint32_t)error);
	put_le(buf + 8, len > 8 ? len - 8 : 0, 8, unique);
	if (unique && below(r, 8)) {
		const struct fp_op *op = fp_op_at(below(r, 70)); /* NULL past the end: no row */
		ri->opcode = op && below(r, 8) ? op->code : below(r, 61);
		ri->arg = below(r, 3) == 0 ? 0 : below(r, 2) ? 100 : rnd(r);
		*has_ri = 1;
	}
	return len;
}

/* A million random messages: never a crash, always one of the three statuses, a sound
 * tree, text and JSON, and a clean decode re-encodes to the same bytes. */
static void test_random_messages(void **state)
{
	(void)state;
	struct checker ck;
	checker_init(&ck);
	struct rng r = {UINT64_C(0x5eed0f05e3a11fe5)};
	uint8_t buf[304];
	double t0 = now();
	for (unsigned long i = 0; i < n_random; i++) {
		enum fp_origin from;
		struct fp_conn conn;
		struct fp_reqinfo ri;
		int has_ri;
		size_t len = random_message(&r, buf, &from, &conn, &ri, &has_ri);
		decode_checked(&ck, buf, len, from, below(&r, 16) ? &conn : NULL,
			       has_ri ? &ri : NULL, -1);
	}
	print_message("random messages: %lu in %.1f s\n", n_random, now() - t0);
	unsigned long ok = ck.p.decoded[FP_OK], cut = ck.p.decoded[FP_TRUNCATED],
		      bad = ck.p.decoded[FP_INVALID];
	checker_done(&ck, "random messages");
	/* the generator reaches every outcome, clean decodes included */
	if (n_random >= 100000) {
		CHECK(ok > n_random / 1000);
		CHECK(cut > n_random / 100);
		CHECK(bad > n_random / 100);
	}
}

/* ------------------------------------------------------------------ (c) mutations */

/* Mutate buf[0, len) (room for cap bytes) in 1 to 3 steps: bit flips, byte overwrites,
 * truncation, insertion, deletion, a 32-bit word set to a small or extreme value; then, half
 * the time, make the header's len field true again so that the body gets decoded. */
static size_t mutate(struct rng *r, uint8_t *buf, size_t len, size_t cap)
{
	static const uint8_t interesting[] = {0x00, 0x01, 0x07, 0x08, 0x10,
					      0x20, 0x7f, 0x80, 0xfe, 0xff};
	static const uint32_t words[] = {0, 1, 2, 3, 7, 8, 16, 255, 4096,
					 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe};
	int steps = 1 + (int)below(r, 3);
	for (int k = 0; k < steps; k++) {
		size_t pos = len ? below(r, (uint32_t)len) : 0;
		switch (below(r, 7)) {
		case 0: /* bit flip */
			if (len)
				buf[pos] ^= (uint8_t)(1u << below(r, 8));
			break;
		case 1: /* byte overwrite */
			if (len)
				buf[pos] = below(r, 2) ? interesting[below(r, sizeof(interesting))]
						       : (uint8_t)rnd(r);
			break;
		case 2: /* truncation */
			len = below(r, (uint32_t)len + 1);
			break;
		case 3: { /* insertion */
			size_t n = 1 + below(r, 8);
			pos = below(r, (uint32_t)len + 1);
			if (len + n > cap)
				break;
			memmove(buf + pos + n, buf + pos, len - pos);
			for (size_t i = 0; i < n; i++)
				buf[pos + i] = below(r, 2) ? 0 : (uint8_t)rnd(r);
			len += n;
			break;
		}
		case 4: { /* deletion */
			size_t n = 1 + below(r, 8);
			if (pos + n > len)
				n = len - pos;
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
			break;
		}
		default: /* an aligned 32-bit word: counts, lengths, sizes */
			if (len >= 4) {
				pos = (below(r, (uint32_t)len - 3)) & ~(size_t)3;
				put_le(buf + pos, len - pos, 4,
				       below(r, 2) ? words[below(r, sizeof(words) / sizeof(words[0]))]
						   : below(r, 64));
			}
		}
	}
	if (len >= 4 && below(r, 2))
		put_le(buf, len, 4, len);
	return len;
}

/* `times` mutations of orig[0, len), each decoded and checked; *work is the scratch space. */
static void mutate_and_check(struct checker *ck, struct rng *r, const uint8_t *orig, size_t len,
			     enum fp_origin from, const struct fp_conn *conn,
			     const struct fp_reqinfo *ri, unsigned long times, uint8_t **work,
			     size_t *workcap)
{
	room(work, workcap, len + 64);
	for (unsigned long t = 0; t < times; t++) {
		memcpy(*work, orig, len);
		size_t n = mutate(r, *work, len, len + 64);
		decode_checked(ck, *work, n, from, conn, ri, -1);
	}
}

/* Every sample, mutated: robust, and a mutation that still decodes cleanly re-encodes to
 * exactly the mutated bytes. */
static void test_mutated_samples(void **state)
{
	(void)state;
	struct checker ck;
	checker_init(&ck);
	struct rng r = {UINT64_C(0x0b5e55ed5a3b1e5d)};
	uint8_t *work = NULL;
	size_t workcap = 0;
	unsigned long times = SAMPLE_MUTATIONS * mut_pct / 100, total = 0;
	double t0 = now();
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		mutate_and_check(&ck, &r, s->buf, s->len, msgcase_origin(&s->c), &s->c.conn,
				 msgcase_reqinfo(&s->c), times, &work, &workcap);
		total += times;
	}
	print_message("mutated samples: %lu in %.1f s\n", total, now() - t0);
	free(work);
	unsigned long ok = ck.p.decoded[FP_OK];
	checker_done(&ck, "mutated samples");
	if (times >= 100)
		CHECK(ok > total / 100);
}

/* Every message of the recorded sessions, as recorded (it decodes cleanly and re-encodes to
 * itself) and mutated, with the connection and request it was seen with. */
static void test_mutated_sessions(void **state)
{
	(void)state;
	struct checker ck, orig;
	checker_init(&ck);
	checker_init(&orig);
	struct rng r = {UINT64_C(0x4ecd5e55105e55ed)};
	uint8_t *work = NULL;
	size_t workcap = 0;
	unsigned long total = 0, msgs = 0;
	unsigned seen[2][64][2] = {{{0}}};
	double t0 = now();
	for (size_t k = 0; k < NSESSIONS; k++) {
		const struct recorded *s = &sessions[k];
		for (size_t i = 0; i < s->hs.n; i++) {
			const struct hexmsg *x = &s->hs.msgs[i];
			const struct fp_reqinfo *ri = s->has_ri[i] ? &s->ri[i] : NULL;
			decode_checked(&orig, x->buf, x->len, x->from, &s->conn[i], ri, FP_OK);
			unsigned code = orig.m.opcode < 64 ? orig.m.opcode : 63;
			unsigned *n = &seen[x->from][code][orig.m.dir == FP_REPLY];
			unsigned long times = (*n)++ < SESSION_FIRST ? SESSION_MUTATIONS_FIRST
								      : SESSION_MUTATIONS_REST;
			times = times * mut_pct / 100;
			/* big WRITE/READ payloads add nothing but time: mutate their first 4 KiB */
			size_t len = x->len < 4096 ? x->len : 4096;
			mutate_and_check(&ck, &r, x->buf, len, x->from, &s->conn[i], ri, times, &work,
					 &workcap);
			total += times;
			msgs++;
		}
	}
	print_message("mutated sessions: %lu messages, %lu mutations in %.1f s\n", msgs, total,
		      now() - t0);
	free(work);
	checker_done(&orig, "recorded messages");
	checker_done(&ck, "mutated recorded messages");
	CHECK(msgs > 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_random_messages),
		cmocka_unit_test(test_mutated_samples),
		cmocka_unit_test(test_mutated_sessions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
