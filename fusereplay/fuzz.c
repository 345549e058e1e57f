/* The fuzzer (fuzz.h). Each run takes INIT and a stretch of one seed capture, mutates a
 * few of its requests (fields through libproto's decoded values and its encoder, or the
 * sequence itself), and replays it with replay.c against a freshly started daemon, with
 * the lint on and a short timeout. What the run came to (the daemon killed or exiting, a
 * request never answered, a lint violation in what the daemon wrote) is a finding, told
 * apart from the others by its kind, its opcode and its rule. A new finding is minimized:
 * requests are left out while it stays (delta debugging), then each mutated field is put
 * back while it stays; the result is replayed once more with the wire recorded, and that
 * transcript, requests as sent and replies as received, is saved as a capture, which
 * `fusereplay --lint FILE -- DAEMON` replays to the same finding. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/abi.h"
#include "fuseproto/capture.h"
#include "fuseproto/format.h"
#include "fuseproto/le.h"
#include "fuseproto/msg.h"
#include "fusetransport/chan.h"
#include "fuzz.h"

#define NS_PER_S UINT64_C(1000000000)
#define IN_HEADER 40u          /* sizeof(struct fuse_in_header) */
#define MAX_WINDOW 64          /* requests taken from a seed per run, at most */
#define MAX_MUTATIONS 4
#define MAX_FINDINGS 64

/* ------------------------------------------------------------------ records, sequences */

struct rec {
	uint8_t type;       /* FP_CAP_T_KERNEL or FP_CAP_T_DAEMON */
	uint8_t *buf;       /* owned */
	uint32_t len;
	uint8_t *orig;      /* the seed's bytes before mutation (owned), or NULL */
	uint32_t origlen;
};

struct seq {
	struct rec *r;
	size_t n, cap;
	struct fp_conn conn;
};

static void seq_free(struct seq *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->r[i].buf);
		free(s->r[i].orig);
	}
	free(s->r);
	*s = (struct seq){0};
}

/* Append a copy of buf (and of orig, when given). Returns the record, or NULL. */
static struct rec *seq_add(struct seq *s, uint8_t type, const uint8_t *buf, uint32_t len,
			   const uint8_t *orig, uint32_t origlen)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct rec *r = realloc(s->r, cap * sizeof(*r));
		if (!r)
			return NULL;
		s->r = r;
		s->cap = cap;
	}
	struct rec *r = &s->r[s->n];
	*r = (struct rec){.type = type, .len = len, .origlen = origlen};
	r->buf = malloc(len ? len : 1);
	if (!r->buf)
		return NULL;
	memcpy(r->buf, buf, len);
	if (orig) {
		if (!(r->orig = malloc(origlen ? origlen : 1))) {
			free(r->buf);
			return NULL;
		}
		memcpy(r->orig, orig, origlen);
	}
	s->n++;
	return r;
}

static uint64_t rec_unique(const struct rec *r)
{
	return r->len >= 16 ? fp_load_le(r->buf + 8, 8) : 0;
}

/* The records as a replay source. */
struct src {
	const struct seq *s;
	size_t i;
};

static int src_next(void *p, struct fp_cap_msg *m, char *err, size_t n)
{
	(void)err, (void)n;
	struct src *src = p;
	if (src->i == src->s->n)
		return 0;
	const struct rec *r = &src->s->r[src->i];
	*m = (struct fp_cap_msg){
		.ts_ns = src->i * 1000,
		.type = r->type,
		.buf = r->buf,
		.len = r->len,
		.msglen = r->len,
		.major = (uint16_t)src->s->conn.major,
		.minor = (uint16_t)src->s->conn.minor,
		.initflags = src->s->conn.flags,
		.record = src->i + 1,
	};
	src->i++;
	return 1;
}

/* ------------------------------------------------------------------ seeds */

/* A seed: the messages of the first connection of a capture, as the peers wrote them. */
static int load_seed(const char *path, struct seq *s, char *err, size_t n)
{
	struct fp_capr *cr = fp_capr_open(path, err, n);
	if (!cr)
		return -1;
	*s = (struct seq){0};
	struct fp_cap_msg c;
	int got, first = 1, seen = 0;
	uint32_t conn = 0;
	uint64_t cut = 0;
	while ((got = fp_capr_next(cr, &c, err, n)) == 1) {
		if (!fr_peer_msg(&c, &conn, &seen) || (c.flags & FP_CAP_F_DROPPED))
			continue;
		if (c.len < c.msglen || c.len > FT_MSG_MAX) {
			cut++; /* captured with -s, or longer than a connection carries: left out */
			continue;
		}
		if (first && (c.type != FP_CAP_T_KERNEL || c.len < IN_HEADER ||
			      fp_load_le(c.buf + 4, 4) != FP_INIT)) {
			snprintf(err, n, "%s: does not start with INIT (a capture made mid-session)", path);
			got = -1;
			break;
		}
		first = 0;
		if (c.major && !s->conn.major)
			s->conn = (struct fp_conn){c.major, c.minor, c.initflags};
		if (!seq_add(s, c.type, c.buf, c.len, NULL, 0)) {
			snprintf(err, n, "out of memory");
			got = -1;
			break;
		}
	}
	fp_capr_close(cr);
	if (got < 0) {
		seq_free(s);
		return -1;
	}
	if (s->n < 3) {
		snprintf(err, n, "%s: fewer than two requests", path);
		seq_free(s);
		return -1;
	}
	if (!s->conn.major)
		s->conn = FP_CONN_NEWEST;
	if (cut)
		fprintf(stderr, "fusereplay: %s: %" PRIu64 " messages cut by -s (or too long) left out "
			"of the seed\n", path, cut);
	return 0;
}

/* ------------------------------------------------------------------ randomness */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: small, and the same sequence for the same --seed everywhere */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* ------------------------------------------------------------------ mutations */

struct fuzzer {
	const struct fr_fuzz_opts *o;
	struct seq *seeds;
	unsigned nseeds;
	struct fp_msg m;
	uint8_t *buf;           /* FT_MSG_MAX-sized scratch for encoding */
	int errfd;              /* the daemons' stderr (a memfd) */
	uint64_t runs, requests, t0, until;
	unsigned nfound;        /* confirmed findings */
	unsigned nseen;         /* kinds seen, confirmed or not: each is looked at once */
	char seen[MAX_FINDINGS][64];
	struct fr_outcome last;
};

#define SCRATCH (1u << 21)

/* An integer worth trying in a field of `width` bytes that holds v. */
static uint64_t int_value(const struct fp_field *f, unsigned width, uint64_t v)
{
	uint64_t top = width >= 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
	uint64_t sign = UINT64_C(1) << (width * 8 - 1);
	if (f->disp == FP_D_MODE) {
		static const uint32_t modes[] = {0, 0170000, 0140777, 0120777, 0060666, 0020666,
						 0010644, 0100644 | 07000, 0040755, 0177777};
		return modes[below(sizeof(modes) / sizeof(modes[0]))];
	}
	if ((f->disp == FP_D_FLAGS || f->disp == FP_D_OFLAGS) && below(4)) {
		/* a bit the table names (FATTR_SIZE, O_TRUNC), another one, or all of them */
		size_t named = 0;
		while (f->sym && f->sym[named].name)
			named++;
		if (named && below(4))
			return v | f->sym[below(named)].v;
		return below(4) ? v ^ (UINT64_C(1) << below(width * 8)) : top;
	}
	if (!strcmp(f->name, "nodeid") && below(2))
		return below(2) ? 1 : 2 + below(16); /* the root, or a small one never issued */
	switch (below(14)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return top;
	case 3: return sign;
	case 4: return sign - 1;
	case 5: return v + 1;
	case 6: return v - 1;
	case 7: return v ^ (UINT64_C(1) << below(width * 8));
	case 8: return (v << 1) & top;
	case 9: return top - 4095; /* a negative offset */
	case 10: return 4096;
	case 11: return UINT32_MAX;
	case 12: return below(256);
	default: return rnd() & top;
	}
}

/* A name worth trying: separators, dot names, lengths at and past the limits, invalid
 * UTF-8. Into b; returns its length. */
static size_t name_value(char *b, size_t cap, int unsafe)
{
	/* the names that lead out of a directory come last, and only with --unsafe-names */
	static const char *const fixed[] = {"", ".", "\xff\xfe", "\xc3\x28", "name\n", " ",
					    "..", "/", "a/b", "../.."};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]) - (unsafe ? 0 : 4);
	size_t k = below(nfixed + 6);
	if (k < nfixed) {
		size_t n = strlen(fixed[k]);
		memcpy(b, fixed[k], n);
		return n;
	}
	static const size_t lens[] = {255, 256, 4095, 4096, 200, 1024};
	size_t n = lens[below(sizeof(lens) / sizeof(lens[0]))];
	if (n > cap)
		n = cap;
	memset(b, 'a' + (int)below(26), n);
	return n;
}

/* Mutate one field of the request r (decoded at the seed's version). Returns 0, or -1
 * when nothing could be changed. */
static int mutate_field(struct fuzzer *z, struct rec *r, const struct fp_conn *conn)
{
	struct fp_msg *m = &z->m;
	if (fp_decode(m, r->buf, r->len, FP_FROM_KERNEL, conn, NULL) < 0 || m->status != FP_OK)
		return -1;
	/* the fields that can take a value: integers (but the header's len and unique, which
	 * the sequence mutations handle) and strings and bytes */
	long pick[512];
	unsigned n = 0;
	for (uint32_t i = 1; i < m->nv && n < 512; i++) {
		const struct fp_val *v = &m->v[i];
		if (i <= m->v[0].nsub && (!strcmp(v->f->name, "len") || !strcmp(v->f->name, "unique") ||
					  (!strcmp(v->f->name, "opcode") &&
					   (m->opcode == FP_INIT || below(8)))))
			continue; /* INIT stays INIT: a replay starts with it */
		if (fp_kind_is_int(v->f->kind) || v->f->kind == FP_K_STR || v->f->kind == FP_K_BYTES)
			pick[n++] = (long)i;
	}
	if (!n)
		return -1;
	long i = pick[below(n)];
	const struct fp_val *v = &m->v[i];
	int nul = 0;
	if (fp_kind_is_int(v->f->kind)) {
		if (fp_msg_set_u64(m, i, int_value(v->f, fp_kind_width(v->f->kind), v->u)) < 0)
			return -1;
	} else if (v->f->kind == FP_K_STR && below(5) == 0 && v->len > 1) {
		nul = 1; /* an embedded NUL: patched into the bytes, as the encoder refuses it */
	} else {
		char name[4096];
		size_t len = v->f->kind == FP_K_STR ? name_value(name, sizeof(name), z->o->unsafe_names)
						    : (size_t)below(v->len * 2 + 2);
		if (len > sizeof(name))
			len = sizeof(name);
		if (v->f->kind == FP_K_BYTES)
			for (size_t k = 0; k < len; k++)
				name[k] = (char)rnd();
		if (fp_msg_set_bytes(m, i, name, len) < 0)
			return -1;
	}
	uint32_t at = v->off + (v->len > 1 ? (uint32_t)below(v->len - 1) : 0);
	long len = fp_encode(m, z->buf, SCRATCH, FP_ENC_FIXUP);
	if (len < (long)IN_HEADER || len > (long)SCRATCH)
		return -1;
	if (nul && at < (uint32_t)len)
		z->buf[at] = 0;
	uint8_t *nb = malloc((size_t)len);
	if (!nb)
		return -1;
	memcpy(nb, z->buf, (size_t)len);
	free(r->buf);
	r->buf = nb;
	r->len = (uint32_t)len;
	return 0;
}

/* Cut the body short or pad it, with the header's len following or not. */
static int mutate_length(struct rec *r)
{
	uint32_t len = below(2) ? IN_HEADER + (uint32_t)below(r->len - IN_HEADER + 1)
				: r->len + 1 + (uint32_t)below(64);
	uint8_t *nb = calloc(1, len);
	if (!nb)
		return -1;
	memcpy(nb, r->buf, len < r->len ? len : r->len);
	for (uint32_t k = r->len; k < len; k++)
		nb[k] = (uint8_t)rnd();
	if (below(4))
		fp_store_le(nb, 4, len);
	free(r->buf);
	r->buf = nb;
	r->len = len;
	return 0;
}

/* A request made up whole: an INTERRUPT of a unique never sent, or a FORGET of more
 * lookups than given. */
static int invent(struct fuzzer *z, struct seq *s, size_t at)
{
	struct fp_msg *m = &z->m;
	int forget = below(2);
	if (fp_msg_build(m, FP_REQUEST, forget ? FP_FORGET : FP_INTERRUPT, &s->conn, NULL) < 0)
		return -1;
	fp_msg_set_u64(m, fp_msg_find(m, "header.unique"), forget ? 1 : UINT64_C(0x7fff0001));
	if (forget) {
		fp_msg_set_u64(m, fp_msg_find(m, "header.nodeid"), below(2) ? 1 : 2 + below(64));
		fp_msg_set_u64(m, fp_msg_find(m, "nlookup"), below(2) ? UINT64_MAX : 1000);
	} else {
		fp_msg_set_u64(m, fp_msg_find(m, "unique"), UINT64_C(0x7fff0000) + 2 * below(1000));
	}
	long len = fp_encode(m, z->buf, SCRATCH, FP_ENC_FIXUP);
	if (len < (long)IN_HEADER || !seq_add(s, FP_CAP_T_KERNEL, z->buf, (uint32_t)len, NULL, 0))
		return -1;
	/* move it from the end to `at` */
	struct rec r = s->r[s->n - 1];
	memmove(&s->r[at + 1], &s->r[at], (s->n - 1 - at) * sizeof(r));
	s->r[at] = r;
	return 0;
}

/* Indices of the kernel records of s after INIT. */
static size_t requests_of(const struct seq *s, size_t *idx, size_t cap)
{
	size_t n = 0;
	for (size_t i = 1; i < s->n && n < cap; i++)
		if (s->r[i].type == FP_CAP_T_KERNEL)
			idx[n++] = i;
	return n;
}

/* A request of the stretch, each opcode as likely as the others: the rare ones (SETATTR
 * among a hundred LOOKUPs) get their share. Returns its position in idx. */
static size_t pick_request(const struct seq *s, const size_t *idx, size_t n)
{
	uint32_t ops[64];
	size_t nops = 0;
	for (size_t k = 0; k < n && nops < 64; k++) {
		uint32_t op = (uint32_t)fp_load_le(s->r[idx[k]].buf + 4, 4);
		size_t j = 0;
		while (j < nops && ops[j] != op)
			j++;
		if (j == nops)
			ops[nops++] = op;
	}
	uint32_t want = ops[below(nops)];
	size_t count = 0;
	for (size_t k = 0; k < n; k++)
		count += fp_load_le(s->r[idx[k]].buf + 4, 4) == want;
	size_t c = below(count);
	for (size_t k = 0; k < n; k++)
		if (fp_load_le(s->r[idx[k]].buf + 4, 4) == want && !c--)
			return k;
	return 0;
}

/* One mutation of s. */
static void mutate(struct fuzzer *z, struct seq *s)
{
	size_t idx[MAX_WINDOW * 4];
	size_t n = requests_of(s, idx, MAX_WINDOW * 4);
	unsigned what = (unsigned)below(20);
	/* the request to change: INIT now and then, else one of the stretch */
	size_t i = (what == 0 || !n) ? 0 : idx[pick_request(s, idx, n)];
	struct rec *r = &s->r[i];
	if (!r->orig) {
		if (!(r->orig = malloc(r->len)))
			return;
		memcpy(r->orig, r->buf, r->len);
		r->origlen = r->len;
	}
	if (what <= 13) {
		mutate_field(z, r, &s->conn);
	} else if (what <= 15) {
		if (r->len > IN_HEADER)
			mutate_length(r);
	} else if (what == 16 && n >= 2) {
		/* a unique that is still in flight, used again */
		size_t j = idx[below(n)];
		if (j < i)
			fp_store_le(r->buf + 8, 8, rec_unique(&s->r[j]));
	} else if (what == 17 && n) {
		/* a request again, later (READ after RELEASE) */
		size_t j = idx[below(n)];
		struct rec copy = s->r[j];
		if (seq_add(s, copy.type, copy.buf, copy.len, NULL, 0)) {
			fp_store_le(s->r[s->n - 1].buf + 8, 8, UINT64_C(0x7ffe0000) + 2 * below(100000));
		}
	} else if (what == 18 && n) {
		invent(z, s, idx[below(n)]);
	} else {
		/* the nodeid of one request in another: ids out of their place */
		size_t j = idx[below(n ? n : 1)];
		if (n && s->r[j].len >= IN_HEADER && r->len >= IN_HEADER)
			memcpy(r->buf + 16, s->r[j].buf + 16, 8);
	}
}

/* A run's sequence: INIT and its reply, then a stretch of the seed. */
static int pick(struct fuzzer *z, struct seq *out)
{
	const struct seq *s = &z->seeds[below(z->nseeds)];
	*out = (struct seq){.conn = s->conn};
	uint64_t init_unique = rec_unique(&s->r[0]);
	if (!seq_add(out, s->r[0].type, s->r[0].buf, s->r[0].len, NULL, 0))
		return -1;
	size_t start = 1;
	for (size_t i = 1; i < s->n; i++)
		if (s->r[i].type == FP_CAP_T_DAEMON && rec_unique(&s->r[i]) == init_unique) {
			if (!seq_add(out, s->r[i].type, s->r[i].buf, s->r[i].len, NULL, 0))
				return -1;
			start = i + 1;
			break;
		}
	/* from the start half the time, longer (what the requests refer to is set up there),
	 * else a shorter stretch from anywhere */
	int head = below(2);
	size_t from = head ? start : start + below(s->n - start);
	size_t want = 1 + below(head ? MAX_WINDOW : MAX_WINDOW / 2), got = 0;
	for (size_t i = from; i < s->n && got < want; i++) {
		if (!seq_add(out, s->r[i].type, s->r[i].buf, s->r[i].len, NULL, 0))
			return -1;
		got += s->r[i].type == FP_CAP_T_KERNEL;
	}
	unsigned k = 1 + (unsigned)below(MAX_MUTATIONS);
	while (k--)
		mutate(z, out);
	return 0;
}


/* ------------------------------------------------------------------ running */

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

/* A finding's name from what a run came to: "crash-SIGSEGV-MKDIR", "hang-SETATTR",
 * "lint-bad-dirent-READDIR", "exit-1-INIT", "stuck", "closed-RELEASE"; "" for none. */
static void signature(const struct fr_outcome *o, char *sig, size_t n)
{
	const char *op = fp_op_name(o->crashed && o->crash_op ? o->crash_op : o->missing_op);
	op = op ? op : "none";
	if (o->crashed && o->reaped && WIFSIGNALED(o->status)) {
		const char *name = sigabbrev_np(WTERMSIG(o->status));
		snprintf(sig, n, "crash-SIG%s-%s", name ? name : "?", op);
	} else if (o->crashed) {
		snprintf(sig, n, "exit-%d-%s", WEXITSTATUS(o->status), op);
	} else if (o->stuck) {
		snprintf(sig, n, "stuck");
	} else if (o->missing && o->closed) {
		snprintf(sig, n, "closed-%s", op); /* it let go of its connection, on its own */
	} else if (o->missing) {
		snprintf(sig, n, "hang-%s", op);
	} else if (o->violations) {
		const char *lop = fp_op_name(o->lint_op);
		snprintf(sig, n, "lint-%s-%s", o->lint_rule, lop ? lop : "notify");
	} else {
		sig[0] = 0;
	}
}

/* Replay what `next` gives against a fresh daemon as the fuzzer does (silent, with the
 * lint, one request at a time, the daemon's output kept); z->last gets the outcome. */
static void fuzz_replay(struct fuzzer *z, fr_source_fn next, void *src, const char *name,
			fr_wire_fn wire, void *wire_ctx)
{
	struct fr_replay_opts ro = z->o->run;
	ro.silent = 1;
	ro.lint = 1;
	ro.progress = 0;
	ro.concurrency = 1;
	ro.daemon_err = z->errfd;
	ro.exit_grace_ns = 2 * NS_PER_S;
	ro.wire = wire;
	ro.wire_ctx = wire_ctx;
	if (z->errfd >= 0 && ftruncate(z->errfd, 0) == 0)
		lseek(z->errfd, 0, SEEK_SET);
	fr_replay_source(&ro, next, src, name, &z->last);
}

/* Run s against a fresh daemon; sig gets the finding ("" for none). */
static void run_seq(struct fuzzer *z, const struct seq *s, char *sig, size_t n,
		    fr_wire_fn wire, void *wire_ctx)
{
	struct src src = {s, 0};
	fuzz_replay(z, src_next, &src, "fuzz", wire, wire_ctx);
	z->runs++;
	z->requests += z->last.sent;
	signature(&z->last, sig, n);
}

/* Whether --time is used up (minimizing stops then too). */
static int time_up(const struct fuzzer *z)
{
	return stop_now || (z->until && fr_now_mono() >= z->until);
}

static int reproduces(struct fuzzer *z, const struct seq *s, const char *want)
{
	char sig[64];
	if (time_up(z))
		return 0;
	run_seq(z, s, sig, sizeof(sig), NULL, NULL);
	return !strcmp(sig, want);
}

/* s without the kernel records whose index in idx[] is in [from, to), and their replies. */
static int without(const struct seq *s, const size_t *idx, size_t from, size_t to, struct seq *out)
{
	*out = (struct seq){.conn = s->conn};
	for (size_t i = 0; i < s->n; i++) {
		const struct rec *r = &s->r[i];
		int drop = 0;
		for (size_t k = from; k < to && !drop; k++) {
			const struct rec *q = &s->r[idx[k]];
			drop = i == idx[k] || (r->type == FP_CAP_T_DAEMON && rec_unique(r) &&
					       rec_unique(r) == rec_unique(q));
		}
		if (!drop && !seq_add(out, r->type, r->buf, r->len, r->orig, r->origlen)) {
			seq_free(out);
			return -1;
		}
	}
	return 0;
}

/* Delta debugging over the requests (INIT stays): leave chunks out while the finding
 * stays, halving the chunks until single requests. */
static void minimize_requests(struct fuzzer *z, struct seq *s, const char *sig)
{
	size_t chunks = 2;
	for (;;) {
		size_t idx[1024];
		size_t n = requests_of(s, idx, 1024);
		if (n == 0 || stop_now)
			return;
		if (chunks > n)
			chunks = n;
		size_t size = (n + chunks - 1) / chunks;
		int shrunk = 0;
		for (size_t from = 0; from < n && !stop_now; from += size) {
			struct seq t;
			size_t to = from + size < n ? from + size : n;
			if (without(s, idx, from, to, &t) < 0)
				return;
			if (reproduces(z, &t, sig)) {
				seq_free(s);
				*s = t;
				shrunk = 1;
				break;
			}
			seq_free(&t);
		}
		if (shrunk) {
			if (chunks > 2)
				chunks--;
			continue;
		}
		if (chunks == n)
			return;
		chunks *= 2;
	}
}

/* Put each mutated field back to the seed's value while the finding stays, and whole
 * records where their layout changed. */
static void minimize_fields(struct fuzzer *z, struct seq *s, const char *sig)
{
	struct fp_msg orig;
	fp_msg_init(&orig);
	for (size_t i = 0; i < s->n && !stop_now; i++) {
		struct rec *r = &s->r[i];
		if (!r->orig)
			continue;
		/* the whole record first */
		uint8_t *keep = r->buf;
		uint32_t keeplen = r->len;
		r->buf = r->orig;
		r->len = r->origlen;
		int same = reproduces(z, s, sig);
		r->buf = keep;
		r->len = keeplen;
		if (same) {
			free(r->buf);
			r->buf = r->orig;
			r->len = r->origlen;
			r->orig = NULL;
			continue;
		}
		/* a header len that disagrees with the bytes, made right */
		if (r->len >= IN_HEADER && fp_load_le(r->buf, 4) != r->len) {
			uint32_t was = (uint32_t)fp_load_le(r->buf, 4);
			fp_store_le(r->buf, 4, r->len);
			if (!reproduces(z, s, sig))
				fp_store_le(r->buf, 4, was);
		}
		/* then field by field, where both decode to the same layout */
		if (fp_decode(&orig, r->orig, r->origlen, FP_FROM_KERNEL, &s->conn, NULL) != FP_OK ||
		    fp_decode(&z->m, r->buf, r->len, FP_FROM_KERNEL, &s->conn, NULL) != FP_OK ||
		    orig.nv != z->m.nv)
			continue;
		for (uint32_t k = 1; k < orig.nv && !stop_now; k++) {
			if (fp_decode(&z->m, r->buf, r->len, FP_FROM_KERNEL, &s->conn, NULL) != FP_OK)
				break;
			const struct fp_val *a = &orig.v[k], *b = &z->m.v[k];
			if (a->f != b->f || !fp_kind_is_int(a->f->kind) || a->u == b->u ||
			    !strcmp(a->f->name, "unique"))
				continue;
			uint8_t *nb = malloc(r->len);
			if (!nb)
				break;
			memcpy(nb, r->buf, r->len);
			fp_store_le(nb + b->off, fp_kind_width(b->f->kind), a->u);
			keep = r->buf;
			r->buf = nb;
			if (reproduces(z, s, sig)) {
				free(keep);
			} else {
				free(nb);
				r->buf = keep;
			}
		}
	}
	fp_msg_free(&orig);
}

/* ------------------------------------------------------------------ saving */

static void on_wire(void *ctx, int from_daemon, const uint8_t *buf, size_t len)
{
	seq_add(ctx, from_daemon ? FP_CAP_T_DAEMON : FP_CAP_T_KERNEL, buf, (uint32_t)len, NULL, 0);
}

/* A short name for the request that the finding is about. */
static void finding_text(const struct fr_outcome *o, const char *sig, char *b, size_t n)
{
	char st[64] = "";
	if (o->crashed && o->reaped) {
		if (WIFSIGNALED(o->status))
			snprintf(st, sizeof(st), "killed by SIG%s", sigabbrev_np(WTERMSIG(o->status)) ?
				 sigabbrev_np(WTERMSIG(o->status)) : "?");
		else
			snprintf(st, sizeof(st), "exited %d", WEXITSTATUS(o->status));
	}
	const char *mop = fp_op_name(o->crashed && o->crash_op ? o->crash_op : o->missing_op);
	const char *lop = fp_op_name(o->lint_op);
	if (o->crashed)
		snprintf(b, n, "the daemon %s while a %s was in flight", st, mop ? mop : "request");
	else if (o->stuck)
		snprintf(b, n, "the daemon did not end when its connection did");
	else if (o->missing && o->closed)
		snprintf(b, n, "the daemon closed its connection while a %s was in flight",
			 mop ? mop : "request");
	else if (o->missing)
		snprintf(b, n, "no reply to a %s (%s)", mop ? mop : "request", o->missing_why);
	else if (o->violations)
		snprintf(b, n, "a %s reply breaks the lint rule %s", lop ? lop : "notification",
			 o->lint_rule);
	else
		snprintf(b, n, "%s", sig);
}

static int write_capture(const char *path, const struct seq *t, const char *event, char *err,
			 size_t n)
{
	struct fp_capw *w = fp_capw_open(path, NULL, err, n);
	if (!w)
		return -1;
	uint64_t ts = (uint64_t)time(NULL) * NS_PER_S;
	for (size_t i = 0; i < t->n; i++) {
		struct fp_cap_msg m = {
			.ts_ns = ts + i * 1000,
			.type = t->r[i].type,
			.buf = t->r[i].buf,
			.len = t->r[i].len,
			.msglen = t->r[i].len,
			.major = (uint16_t)t->conn.major,
			.minor = (uint16_t)t->conn.minor,
			.initflags = t->conn.flags,
		};
		if (fp_capw_write(w, &m, err, n) < 0) {
			fp_capw_close(w, NULL, 0);
			return -1;
		}
	}
	uint8_t ev[512];
	size_t evlen = fp_cap_event_build(ev, sizeof(ev), 0, "finding", event);
	struct fp_cap_msg m = {.ts_ns = ts + t->n * 1000, .type = FP_CAP_T_EVENT, .buf = ev,
			       .len = (uint32_t)evlen, .msglen = (uint32_t)evlen};
	if (evlen && fp_capw_write(w, &m, err, n) < 0) {
		fp_capw_close(w, NULL, 0);
		return -1;
	}
	return fp_capw_close(w, err, n);
}

/* Keep what the daemon wrote on stderr during the last run (a sanitizer's report). */
static void save_stderr(struct fuzzer *z, const char *path)
{
	off_t end = z->errfd >= 0 ? lseek(z->errfd, 0, SEEK_END) : 0;
	if (end <= 0)
		return;
	FILE *f = fopen(path, "we");
	if (!f)
		return;
	char buf[8192];
	ssize_t k;
	off_t at = 0;
	while (at < end && (k = pread(z->errfd, buf, sizeof(buf), at)) > 0) {
		fwrite(buf, 1, (size_t)k, f);
		at += k;
	}
	fclose(f);
}

static void finding(struct fuzzer *z, struct seq *s, const char *sig)
{
	if (z->nseen == MAX_FINDINGS)
		return;
	snprintf(z->seen[z->nseen++], sizeof(z->seen[0]), "%s", sig);
	uint64_t found_at = z->runs;
	size_t idx[1024];
	size_t before = requests_of(s, idx, 1024);
	/* a finding counts when a second run shows it too: a busy machine can make a daemon
	 * late once */
	if (!reproduces(z, s, sig)) {
		if (z->o->progress)
			fputs("\r\033[K", stderr);
		printf("# unconfirmed at run %" PRIu64 ": %s (a second run of the same %zu requests did "
		       "not show it)\n", found_at, sig, before);
		fflush(stdout);
		return;
	}
	z->nfound++;
	minimize_requests(z, s, sig);
	minimize_fields(z, s, sig);
	/* the last run, with the wire recorded: the reproducer */
	struct seq t = {.conn = s->conn};
	char got[64];
	run_seq(z, s, got, sizeof(got), on_wire, &t);
	char path[4096], text[256], err[512];
	finding_text(&z->last, sig, text, sizeof(text));
	snprintf(path, sizeof(path), "%s/%s.pcap", z->o->findings, sig);
	int saved = write_capture(path, &t, text, err, sizeof(err)) == 0;
	char errpath[4200];
	snprintf(errpath, sizeof(errpath), "%s/%s.stderr", z->o->findings, sig);
	save_stderr(z, errpath);
	size_t after = requests_of(s, idx, 1024);
	/* and the check that fusereplay replays it to the same finding */
	const char *verdict = "not saved";
	if (saved) {
		struct fp_capr *cr = fp_capr_open(path, err, sizeof(err));
		verdict = "could not be read back";
		if (cr) {
			char rsig[64];
			fuzz_replay(z, fr_capr_source, cr, path, NULL, NULL);
			fp_capr_close(cr);
			signature(&z->last, rsig, sizeof(rsig));
			verdict = !strcmp(rsig, sig) ? "replays to the same finding" : "replays differently";
		}
	}
	if (z->o->progress)
		fputs("\r\033[K", stderr);
	unsigned secs = (unsigned)((fr_now_mono() - z->t0) / NS_PER_S);
	printf("finding %u at %02u:%02u:%02u, run %" PRIu64 ": %s: %s; %zu requests (from %zu), "
	       "%s: %s\n", z->nfound, secs / 3600, secs / 60 % 60, secs % 60, found_at, sig, text,
	       after, before, verdict, saved ? path : err);
	fflush(stdout);
	seq_free(&t);
}

static int known(const struct fuzzer *z, const char *sig)
{
	for (unsigned i = 0; i < z->nseen; i++)
		if (!strcmp(z->seen[i], sig))
			return 1;
	return 0;
}

static void status(struct fuzzer *z, int last)
{
	double s = (double)(fr_now_mono() - z->t0) / NS_PER_S;
	unsigned secs = (unsigned)s;
	fprintf(stderr, "%sfuzz: %" PRIu64 " runs (%.0f/s), %" PRIu64 " requests (%.0f/s), %u "
		"findings, %02u:%02u:%02u%s", z->o->progress ? "\r\033[K" : "", z->runs,
		s > 0 ? (double)z->runs / s : 0.0, z->requests, s > 0 ? (double)z->requests / s : 0.0,
		z->nfound, secs / 3600, secs / 60 % 60, secs % 60,
		z->o->progress && !last ? "" : "\n");
}

int fr_fuzz(const struct fr_fuzz_opts *o)
{
	struct fuzzer z = {.o = o, .errfd = -1};
	char err[512];
	int code = 2;
	z.seeds = calloc(o->ncaptures, sizeof(*z.seeds));
	z.buf = malloc(SCRATCH);
	fp_msg_init(&z.m);
	if (!z.seeds || !z.buf) {
		fprintf(stderr, "fusereplay: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < o->ncaptures; i++) {
		if (load_seed(o->captures[i], &z.seeds[z.nseeds], err, sizeof(err)) < 0) {
			fprintf(stderr, "fusereplay: %s: not used as a seed\n", err);
			continue;
		}
		z.nseeds++;
	}
	if (!z.nseeds) {
		fprintf(stderr, "fusereplay: --fuzz: no capture can serve as a seed\n");
		goto out;
	}
	if (mkdir(o->findings, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "fusereplay: %s: %s\n", o->findings, strerror(errno));
		goto out;
	}
	z.errfd = memfd_create("fusereplay-daemon-stderr", MFD_CLOEXEC);
	rng_state = o->seed;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("# fusereplay --fuzz: %u seeds, seed %" PRIu64 " (--seed %" PRIu64 " repeats it), "
	       "findings in %s\n", z.nseeds, o->seed, o->seed, o->findings);
	fflush(stdout);
	z.t0 = fr_now_mono();
	uint64_t last_status = 0, until = o->seconds ? z.t0 + o->seconds * NS_PER_S : 0;
	z.until = until;
	unsigned failed_starts = 0;
	while (!stop_now && (!o->runs || z.runs < o->runs) && (!until || fr_now_mono() < until) &&
	       (!o->max_findings || z.nfound < o->max_findings)) {
		struct seq s;
		if (pick(&z, &s) < 0) {
			fprintf(stderr, "fusereplay: out of memory\n");
			goto out;
		}
		char sig[64];
		run_seq(&z, &s, sig, sizeof(sig), NULL, NULL);
		/* a run may be refused (a mutation made it unplayable), but not every run */
		failed_starts = z.last.started ? 0 : failed_starts + 1;
		if (failed_starts == 20) {
			seq_free(&s);
			fprintf(stderr, "fusereplay: 20 runs in a row could not start the daemon\n");
			goto out;
		}
		if (sig[0] && !known(&z, sig))
			finding(&z, &s, sig);
		seq_free(&s);
		uint64_t now = fr_now_mono();
		if (now - last_status > (o->progress ? NS_PER_S / 2 : 30 * NS_PER_S)) {
			status(&z, 0);
			last_status = now;
		}
	}
	status(&z, 1);
	code = z.nfound ? 1 : 0;
out:
	for (unsigned i = 0; i < z.nseeds; i++)
		seq_free(&z.seeds[i]);
	free(z.seeds);
	free(z.buf);
	fp_msg_free(&z.m);
	if (z.errfd >= 0)
		close(z.errfd);
	return code;
}
