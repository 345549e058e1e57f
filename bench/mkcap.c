/* mkcap: write a capture of N messages for the reading benchmark (bench/readcap.sh), by
 * replaying a recorded session (tests/data/, hex form) over and over, as one long mount:
 * the first pass whole, the later ones without INIT and its reply, every unique moved up
 * by a pass's worth so that each reply still pairs with its own request. Records carry
 * the version INIT negotiated as fusedump -w stamps them, and made-up times STEP_NS apart. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "fuseproto/capture.h"
#include "fuseproto/le.h"
#include "fuseproto/session.h"
#include "hexsession.h"

/* 2023-11-14 22:13:20 UTC: fixed, so that two runs write the same file. */
#define T0_NS 1700000000000000000ull
#define STEP_NS 2000ull

/* Where the uniques a message refers to lie, besides its header's. */
#define INTERRUPT_UNIQUE_OFF 40 /* fuse_interrupt_in.unique, after the 40-byte in_header */
#define RETRIEVE_UNIQUE_OFF 16  /* fuse_notify_retrieve_out.notify_unique */

static void usage(void)
{
	fprintf(stderr, "usage: mkcap [-i SESSION.hex[.gz]] N OUT.pcap\n"
		"  write N messages (N >= 2) replayed from SESSION (default %s)\n", MKCAP_SESSION);
	exit(2);
}

/* The opcode of a kernel message, the notification code of a daemon one (unique 0),
 * or -1 for a reply. */
static int64_t code_of(const struct hexmsg *x)
{
	if (x->len < 16)
		return -1;
	if (x->from == FP_FROM_KERNEL)
		return x->len >= 40 ? (int64_t)fp_load_le(x->buf + 4, 4) : -1;
	return fp_load_le(x->buf + 8, 8) ? -1 : (int64_t)(int32_t)fp_load_le(x->buf + 4, 4);
}

/* Add `by` to a nonzero unique at p (bit 0, the INTERRUPT mark, and bit 63 stay: `by` is
 * even and far below 2^62). */
static void move_unique(uint8_t *p, uint64_t by)
{
	uint64_t u = fp_load_le(p, 8);
	if (u)
		fp_store_le(p, 8, u + by);
}

/* x's bytes into buf with every unique moved up by `by`. */
static void renumber(uint8_t *buf, const struct hexmsg *x, uint64_t by)
{
	memcpy(buf, x->buf, x->len);
	if (x->len < 16)
		return;
	move_unique(buf + 8, by);
	int64_t code = code_of(x);
	if (x->from == FP_FROM_KERNEL && code == FP_INTERRUPT && x->len >= INTERRUPT_UNIQUE_OFF + 8)
		move_unique(buf + INTERRUPT_UNIQUE_OFF, by);
	if (x->from == FP_FROM_DAEMON && code == FP_NOTIFY_RETRIEVE &&
	    x->len >= RETRIEVE_UNIQUE_OFF + 8)
		move_unique(buf + RETRIEVE_UNIQUE_OFF, by);
}

int main(int argc, char **argv)
{
	const char *in = MKCAP_SESSION;
	int i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "-i")) {
		in = argv[i + 1];
		i += 2;
	}
	if (argc - i != 2)
		usage();
	char *end;
	errno = 0;
	uint64_t total = strtoull(argv[i], &end, 10);
	if (errno || *end || total < 2)
		usage();
	const char *out = argv[i + 1];

	struct hexsession hs;
	if (hexsession_load(&hs, in) < 0) {
		fprintf(stderr, "mkcap: %s: %s\n", in, hs.error);
		return 1;
	}
	/* one pass moves uniques up by more than the largest one of the session */
	uint64_t stride = 0, init_unique = 0;
	size_t maxlen = 0, inits = 0;
	for (size_t k = 0; k < hs.n; k++) {
		const struct hexmsg *x = &hs.msgs[k];
		if (x->from == FP_FROM_KERNEL && code_of(x) == FP_INIT)
			init_unique = fp_load_le(x->buf + 8, 8);
		inits += init_unique && x->len >= 16 && fp_load_le(x->buf + 8, 8) == init_unique;
		uint64_t u = x->len >= 16 ? fp_load_le(x->buf + 8, 8) & ~FP_UNIQUE_RESEND : 0;
		if (u > stride)
			stride = u;
		if (x->len > maxlen)
			maxlen = x->len;
	}
	stride = (stride + 2) & ~UINT64_C(1);
	if (inits == hs.n || stride >= (UINT64_C(1) << 62) / (total / hs.n + 2)) {
		fprintf(stderr, "mkcap: %s: nothing but INIT, or uniques too large to renumber\n", in);
		hexsession_free(&hs);
		return 1;
	}

	char err[512];
	struct fp_capw *w = fp_capw_open(out, NULL, err, sizeof(err));
	uint8_t *buf = malloc(maxlen ? maxlen : 1);
	struct fp_conn *conns = calloc(hs.n, sizeof(*conns));
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	int rc = 0;
	if (!w) {
		fprintf(stderr, "mkcap: %s\n", err);
		rc = 1;
	} else if (!buf || !conns || !s) {
		fprintf(stderr, "mkcap: out of memory\n");
		rc = 1;
	}
	/* the version of each record as the proxy stamps it: 0.0 until the reply to INIT,
	 * then what INIT negotiated; the later passes come after INIT and keep the last */
	int negotiated = 0;
	for (size_t k = 0; !rc && k < hs.n; k++) {
		const struct hexmsg *x = &hs.msgs[k];
		if (fp_session_feed(s, &m, x->from, x->buf, x->len, 0) < 0) {
			fprintf(stderr, "mkcap: out of memory\n");
			rc = 1;
		}
		negotiated |= m.dir == FP_REPLY && m.opcode == FP_INIT && m.h.error == 0;
		if (negotiated)
			conns[k] = *fp_session_conn(s);
	}

	uint64_t written = 0, ts = T0_NS;
	for (uint64_t pass = 0; !rc && written < total; pass++) {
		for (size_t k = 0; !rc && k < hs.n && written < total; k++) {
			const struct hexmsg *x = &hs.msgs[k];
			/* INIT and its reply: once per mount */
			if (pass && init_unique && x->len >= 16 && fp_load_le(x->buf + 8, 8) == init_unique)
				continue;
			renumber(buf, x, pass * stride);
			struct fp_cap_msg c = {
				.ts_ns = ts,
				.type = x->from == FP_FROM_KERNEL ? FP_CAP_T_KERNEL : FP_CAP_T_DAEMON,
				.major = (uint16_t)conns[k].major,
				.minor = (uint16_t)conns[k].minor,
				.initflags = conns[k].flags,
				.buf = buf,
				.len = (uint32_t)x->len,
				.msglen = (uint32_t)x->len,
			};
			if (fp_capw_write(w, &c, err, sizeof(err)) < 0) {
				fprintf(stderr, "mkcap: %s\n", err);
				rc = 1;
			}
			written++;
			ts += STEP_NS;
		}
	}
	if (w && fp_capw_close(w, err, sizeof(err)) < 0) {
		fprintf(stderr, "mkcap: %s\n", err);
		rc = 1;
	}
	if (!rc)
		fprintf(stderr, "mkcap: %s: %" PRIu64 " messages from %zu of %s\n", out, written,
			hs.n, in);
	fp_msg_free(&m);
	fp_session_free(s);
	free(conns);
	free(buf);
	hexsession_free(&hs);
	return rc;
}
