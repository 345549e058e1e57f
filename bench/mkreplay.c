/* mkreplay: write the capture of the replay benchmark (bench/replay.sh): INIT and its
 * reply, then N requests as a kernel would send them to instantd, with the replies instantd
 * gives (instant.h builds both): GETATTR 60 %, LOOKUP 30 % (in the root, among NAMES
 * names), READ of 4 KiB 10 %, W requests in flight: after the first W, the reply to the
 * oldest, then a new request, as a busy mount keeps its background requests going.
 * GETATTR and READ only name nodeids that an earlier LOOKUP reply gave (or the root), as
 * the kernel would. Records carry the version INIT negotiated as
 * fusedump -w stamps them, made-up times STEP_NS apart; a fixed seed makes the same file
 * every time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuseproto/capture.h"
#include "fuseproto/session.h"
#include "instant.h"

/* 2023-11-14 22:13:20 UTC, as mkcap. */
#define T0_NS 1700000000000000000ull
#define STEP_NS 2000ull

#define NAMES 4096u
#define NAME_MAX_LEN 8   /* "f4095" and its NUL */
#define MAX_WINDOW 65536 /* the requests in flight fusedump -r pairs */
#define REQ_MAX (sizeof(struct fp_in_header) + sizeof(struct fp_read_in))

/* What 6.18 sends in INIT (the protocol notes). */
#define KERNEL_INIT_FLAGS 0x73fffffbu
#define KERNEL_INIT_FLAGS2 0x000005fdu
#define KERNEL_READAHEAD 131072u

/* O_LARGEFILE, which the kernel adds to every open file's flags on 64-bit. */
#define READ_FILE_FLAGS 0100000u

static uint8_t reply[INSTANT_BUFSIZE];

struct gen {
	uint64_t rng;
	uint64_t unique;
	uint64_t ts;
	struct fp_capw *w;
	struct fp_conn conn; /* stamped on the records after INIT's reply (0.0 before) */
	char err[512];
};

/* xorshift64*: deterministic, and good enough to pick names. */
static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static int put(struct gen *g, uint8_t type, const uint8_t *p, size_t len)
{
	struct fp_cap_msg c = {
		.ts_ns = g->ts,
		.type = type,
		.major = (uint16_t)g->conn.major,
		.minor = (uint16_t)g->conn.minor,
		.initflags = g->conn.flags,
		.buf = p,
		.len = (uint32_t)len,
		.msglen = (uint32_t)len,
	};
	g->ts += STEP_NS;
	if (fp_capw_write(g->w, &c, g->err, sizeof(g->err)) < 0) {
		fprintf(stderr, "mkreplay: %s\n", g->err);
		return -1;
	}
	return 0;
}

/* A request header for opcode on nodeid, with the next unique, and `blen` bytes of body. */
static size_t request(struct gen *g, uint8_t *out, uint32_t opcode, uint64_t nodeid, size_t blen)
{
	struct fp_in_header h = {
		.len = (uint32_t)(sizeof(h) + blen),
		.opcode = opcode,
		.unique = g->unique,
		.nodeid = nodeid,
		.pid = opcode == FP_INIT ? 0 : 4242,
	};
	g->unique += FP_REQ_ID_STEP;
	memcpy(out, &h, sizeof(h));
	return h.len;
}

static int init(struct gen *g, struct instant_conn *ic)
{
	uint8_t req[sizeof(struct fp_in_header) + sizeof(struct fp_init_in)];
	struct fp_init_in in = {
		.major = FP_KERNEL_VERSION,
		.minor = FP_KERNEL_MINOR_VERSION,
		.max_readahead = KERNEL_READAHEAD,
		.flags = KERNEL_INIT_FLAGS,
		.flags2 = KERNEL_INIT_FLAGS2,
	};
	size_t n = request(g, req, FP_INIT, 0, sizeof(in));
	memcpy(req + sizeof(struct fp_in_header), &in, sizeof(in));
	size_t rn = instant_answer(req, n, reply, sizeof(reply), ic);

	/* the version to stamp: what a session makes of the pair, as fusedump -w stamps it */
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	int rc = -1;
	if (!s || fp_session_feed(s, &m, FP_FROM_KERNEL, req, n, 0) < 0 ||
	    fp_session_feed(s, &m, FP_FROM_DAEMON, reply, rn, 0) < 0)
		fprintf(stderr, "mkreplay: out of memory\n");
	else if (!fp_session_negotiated(s))
		fprintf(stderr, "mkreplay: instantd's INIT reply negotiates nothing\n");
	else if (put(g, FP_CAP_T_KERNEL, req, n) == 0) {
		g->conn = *fp_session_negotiated(s);
		rc = put(g, FP_CAP_T_DAEMON, reply, rn);
	}
	fp_msg_free(&m);
	fp_session_free(s);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: mkreplay [-w WINDOW] [N] OUT.pcap\n"
		"  write INIT and N requests (default 100000) with instantd's replies, WINDOW\n"
		"  requests in flight at a time (default 32, at most %d)\n", MAX_WINDOW);
	exit(2);
}

static uint64_t number(const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v < 1 || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	uint64_t total = 100000, window = 32;
	int opt;
	while ((opt = getopt(argc, argv, "w:")) != -1) {
		if (opt != 'w')
			usage();
		window = number(optarg, MAX_WINDOW);
	}
	if (argc - optind == 2)
		total = number(argv[optind++], UINT64_MAX / 4);
	if (argc - optind != 1)
		usage();
	const char *out = argv[optind];

	struct gen g = {.rng = 0x9e3779b97f4a7c15ull, .unique = 2, .ts = T0_NS};
	g.w = fp_capw_open(out, NULL, g.err, sizeof(g.err));
	if (!g.w) {
		fprintf(stderr, "mkreplay: %s\n", g.err);
		return 1;
	}
	/* the window's requests, kept for their replies */
	uint8_t (*reqs)[REQ_MAX] = malloc(window * sizeof(*reqs));
	size_t *lens = malloc(window * sizeof(*lens));
	/* names looked up: their replies written (known) or in flight */
	uint16_t known[NAMES];
	uint8_t state[NAMES] = {0}; /* 0: never looked up, 1: in flight, 2: known */
	unsigned nknown = 0;
	int32_t *looked = malloc(window * sizeof(*looked)); /* the name a LOOKUP in flight adds */
	/* each run of 10 requests is this mix, shuffled */
	uint32_t deck[10] = {FP_GETATTR, FP_GETATTR, FP_GETATTR, FP_GETATTR, FP_GETATTR,
			     FP_GETATTR, FP_LOOKUP, FP_LOOKUP, FP_LOOKUP, FP_READ};
	uint64_t count[3] = {0};
	struct instant_conn ic = INSTANT_CONN_INIT;
	int rc = 0;
	if (!reqs || !lens || !looked) {
		fprintf(stderr, "mkreplay: out of memory\n");
		rc = 1;
	} else if (init(&g, &ic) < 0) {
		rc = 1;
	}

	/* a sliding window, as a busy mount keeps the kernel's background requests in flight:
	 * once WINDOW requests are out, each new one follows the reply to the oldest */
	uint64_t head = 0, inflight = 0;
	for (uint64_t done = 0; !rc && (done < total || inflight);) {
		if (inflight == window || (done == total && inflight)) {
			uint64_t k = head % window;
			size_t rn = instant_answer(reqs[k], lens[k], reply, sizeof(reply), &ic);
			rc = put(&g, FP_CAP_T_DAEMON, reply, rn) < 0;
			/* a LOOKUP's name can be used once its reply is out */
			if (looked[k] >= 0 && state[looked[k]] == 1) {
				state[looked[k]] = 2;
				known[nknown++] = (uint16_t)looked[k];
			}
			head++;
			inflight--;
			continue;
		}
		uint64_t k = (head + inflight) % window;
		if (done % 10 == 0)
			for (unsigned i = 9; i > 0; i--) {
				unsigned j = (unsigned)(rnd(&g) % (i + 1));
				uint32_t t = deck[i];
				deck[i] = deck[j];
				deck[j] = t;
			}
		uint32_t op = deck[done % 10];
		uint8_t *req = reqs[k];
		const size_t hl = sizeof(struct fp_in_header);
		looked[k] = -1;
		/* before the first LOOKUP reply only the root is known: no file to read */
		if (op == FP_READ && !nknown)
			op = FP_GETATTR;
		if (op == FP_LOOKUP) {
			unsigned name = (unsigned)(rnd(&g) % NAMES);
			char s[NAME_MAX_LEN];
			int sl = snprintf(s, sizeof(s), "f%u", name);
			lens[k] = request(&g, req, FP_LOOKUP, FP_ROOT_ID, (size_t)sl + 1);
			memcpy(req + hl, s, (size_t)sl + 1);
			if (!state[name]) {
				state[name] = 1;
				looked[k] = (int32_t)name;
			}
			count[1]++;
		} else {
			uint64_t nodeid = FP_ROOT_ID;
			if (nknown) {
				char s[NAME_MAX_LEN];
				int sl = snprintf(s, sizeof(s), "f%u", known[rnd(&g) % nknown]);
				nodeid = instant_nodeid((const uint8_t *)s, (size_t)sl);
			}
			if (op == FP_GETATTR) {
				struct fp_getattr_in in = {0};
				lens[k] = request(&g, req, FP_GETATTR, nodeid, sizeof(in));
				memcpy(req + hl, &in, sizeof(in));
				count[0]++;
			} else {
				struct fp_read_in in = {.size = 4096, .flags = READ_FILE_FLAGS};
				in.offset = rnd(&g) % ((nodeid * 100 + 4095) / 4096) * 4096;
				lens[k] = request(&g, req, FP_READ, nodeid, sizeof(in));
				memcpy(req + hl, &in, sizeof(in));
				count[2]++;
			}
		}
		rc = put(&g, FP_CAP_T_KERNEL, req, lens[k]) < 0;
		inflight++;
		done++;
	}
	if (fp_capw_close(g.w, g.err, sizeof(g.err)) < 0) {
		fprintf(stderr, "mkreplay: %s\n", g.err);
		rc = 1;
	}
	if (!rc)
		fprintf(stderr, "mkreplay: %s: INIT and %" PRIu64 " requests (%" PRIu64 " GETATTR, %"
			PRIu64 " LOOKUP, %" PRIu64 " READ) with their replies, %" PRIu64
			" in flight at a time\n", out, total, count[0], count[1], count[2], window);
	free(lens);
	free(reqs);
	free(looked);
	return rc;
}
