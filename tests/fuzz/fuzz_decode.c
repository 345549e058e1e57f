/* libFuzzer harness for libproto: decode one message (or a whole conversation through a
 * session), format it every way, and check that a valid message re-encodes to its bytes.
 *
 * Input layout:
 *   byte 0, the selector:
 *     bit 0     origin: 0 kernel (requests), 1 daemon (replies, notifications)
 *     bits 1-3  the connection, an index into conns[] (tests/common/fuzzsel.h)
 *     bit 4     session mode (below)
 *     bit 5     replies: the request's `arg` (GETXATTR/LISTXATTR size) is nonzero
 *   single-message mode:
 *     daemon origin: byte 1 is the opcode of the request answered (0: none, 255:
 *     CUSE_INIT); the message follows. Kernel origin: the message starts at byte 1.
 *   session mode: records up to the end, each [flags][message]: flags bit 0 is the
 *     origin, bit 1 steps the clock back instead of forward; the message is as long as
 *     its header's len says when that fits (at least 16 bytes), else the rest. Every
 *     record goes through a fresh session and through one that persists across inputs.
 *
 * Session mode also runs every message through the lint (fuseproto/lint.h).
 *
 * A finding is a sanitizer report or an abort(): a valid message that does not re-encode
 * to its bytes (with and without FP_ENC_FIXUP), a text line with a byte that is not
 * printable ASCII, or JSON that is not well formed, not valid UTF-8 or with a key twice in
 * an object. FP_FUZZ_SKIP_KNOWN=1 in the environment skips the checks that found these
 * bugs, so that a library which still has them can be fuzzed for new ones:
 *   - JSON: bytes that are not UTF-8 passed through raw; repeated keys ("unused");
 *   - fp_encode into a buffer shorter than the message leaves unwritten the bytes of an
 *     integer field that straddles the end of the buffer;
 *   - a counted name (NOTIFY_INVAL_ENTRY, NOTIFY_DELETE) with a NUL inside decodes as
 *     valid, but fp_encode refuses it (-1).
 * tests/tools/mkcorpus.c writes the seeds (tests/fuzz/corpus/fuzz_decode/). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "fuseproto/format.h"
#include "fuseproto/lint.h"
#include "fuseproto/msg.h"
#include "fuseproto/session.h"

/* The checkers' own branches are not the library's coverage: keep them out of it. */
#if defined(__clang__) && __clang_major__ >= 13
#define NO_COV __attribute__((no_sanitize("coverage")))
#else
#define NO_COV
#endif

#define JSONCHECK_ATTR NO_COV
#include "fuzzsel.h"
#include "jsoncheck.h"

static int strict = -1;

#define CHECK(cond, ...)                                              \
	do {                                                              \
		if (!(cond)) {                                                \
			fprintf(stderr, "fuzz_decode: " __VA_ARGS__);             \
			fprintf(stderr, "\n");                                    \
			abort();                                                  \
		}                                                             \
	} while (0)

/* JSON well-formedness (and, strictly, UTF-8 and unique keys): one object, from the first
 * byte on. noinline: inlined into check_msg(), its code and jsoncheck_error()'s would be
 * instrumented as check_msg()'s. */
NO_COV __attribute__((noinline)) static void check_json(const struct fp_sbuf *b)
{
	size_t at = 0;
	const char *err = !b->len || b->s[0] != '{'
				  ? "not starting with '{'"
				  : jsoncheck_error(b->s, b->len,
						    JSONCHECK_OBJECT | (strict ? JSONCHECK_STRICT : 0), &at);
	CHECK(!err, "bad JSON (%s at %zu): %s", err, at, b->s);
}

NO_COV static void check_text(const struct fp_sbuf *b)
{
	for (size_t i = 0; i < b->len; i++)
		CHECK(b->s[i] >= 0x20 && b->s[i] <= 0x7e, "byte 0x%02x at %zu of the text line: %s",
		      (unsigned char)b->s[i], i, b->s);
	CHECK(strlen(b->s) == b->len, "NUL inside the text line");
}

/* ---- one decoded message ------------------------------------------------------------ */

static struct fp_sbuf sb;

/* Whether a decoded STR holds a NUL before its end (a known bug: see the top). */
NO_COV static int str_with_nul(const struct fp_msg *m)
{
	for (uint32_t i = 0; i < m->nv; i++)
		if (m->v[i].f->kind == FP_K_STR && m->v[i].len > 1 && m->v[i].p &&
		    memchr(m->v[i].p, 0, m->v[i].len - 1))
			return 1;
	return 0;
}

/* How much of a decoded message check_msg() formats: everything (single messages); the
 * text and JSON lines at default verbosity (session mode, where the session's additions to
 * them are what is new); nothing (the persistent session: re-encoding only). */
enum depth { ALL, LINES, ENCODE };

static void check_msg(struct fp_msg *m, const uint8_t *buf, size_t len, enum depth depth)
{
	static const unsigned tflags[] = {0, FP_FMT_VERBOSE, FP_FMT_TIME | FP_FMT_VERBOSE};
	if (depth == ENCODE)
		goto encode;
	for (unsigned k = 0; k < (depth == ALL ? 3u : 1u); k++) {
		fp_sbuf_clear(&sb);
		fp_format_text(&sb, m, tflags[k]);
		if (!sb.oom && sb.s)
			check_text(&sb);
	}
	for (unsigned k = 0; k < (depth == ALL ? 2u : 1u); k++) {
		fp_sbuf_clear(&sb);
		fp_format_json(&sb, m, k ? FP_FMT_VERBOSE : 0);
		if (!sb.oom && sb.s)
			check_json(&sb);
	}
	for (uint32_t i = 0; depth == ALL && i < m->nv; i++) {
		fp_sbuf_clear(&sb);
		fp_format_value(&sb, m, (long)i, i & 1 ? FP_FMT_VERBOSE : 0);
	}
	if (m->nv) {
		fp_msg_find(m, "header.unique");
		fp_msg_find(m, "entries.0.name");
	}
encode:
	if (m->status != FP_OK)
		return;

	/* valid: the bytes come back exactly, as decoded and with every length recomputed */
	CHECK(m->h.len == len, "valid message of %zu bytes says len %u", len, m->h.len);
	uint8_t *out = malloc(len ? len : 1);
	if (!out)
		return;
	long n = fp_encode(m, out, len, 0);
	if (n < 0 && !strict && str_with_nul(m)) {
		free(out);
		return;
	}
	CHECK(n == (long)len && !memcmp(out, buf, len), "re-encoded %ld bytes, not the %zu decoded",
	      n, len);
	/* a short output buffer is not written past */
	size_t half = len / 2;
	uint8_t *small = malloc(half ? half : 1);
	if (small) {
		CHECK(fp_encode(m, small, half, 0) == (long)len, "short encode length");
		CHECK(!strict || !memcmp(small, buf, half), "short encode: not the first %zu bytes", half);
		free(small);
	}
	memset(out, 0, len);
	n = fp_encode(m, out, len, FP_ENC_FIXUP);
	CHECK(n == (long)len && !memcmp(out, buf, len),
	      "FP_ENC_FIXUP changed a valid message (%ld bytes, %zu decoded)", n, len);
	free(out);
}

static void one_message(const uint8_t *p, size_t n, enum fp_origin from,
			const struct fp_conn *conn, const struct fp_reqinfo *ri)
{
	/* a buffer of its own, so that a read past the message is a report */
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return;
	memcpy(buf, p, n);
	struct fp_msg m;
	fp_msg_init(&m);
	if (fp_decode(&m, buf, n, from, conn, ri) >= 0) {
		CHECK(m.buflen == n, "buflen");
		CHECK(m.status == FP_OK || m.reason[0], "a bad message without a reason");
		CHECK(m.status == FP_OK || m.bad_off <= (m.h.len > n ? m.h.len : n) + 1,
		      "bad_off %u beyond the message", m.bad_off);
		check_msg(&m, buf, n, ALL);
	}
	fp_msg_free(&m);
	free(buf);
}

/* ---- session mode ------------------------------------------------------------------- */

static struct fp_session *persist;
static struct fp_lint *persist_lint; /* the lint rules see the messages too */
static unsigned long persist_feeds;

/* A lint violation's words: printable, as fusedump puts them on a line. */
NO_COV static void check_lint(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	(void)ctx, (void)m;
	CHECK(rule && *rule && text && *text, "a lint violation without rule or text");
	for (const char *c = text; *c; c++)
		CHECK(*c >= 0x20 && *c <= 0x7e, "byte 0x%02x in a lint text: %s", (unsigned char)*c, text);
}

static void feed(struct fp_session *s, struct fp_lint *lint, struct fp_msg *m, const uint8_t *buf,
		 size_t len, enum fp_origin from, uint64_t ts, enum depth depth)
{
	size_t pending = fp_session_pending(s);
	if (fp_session_feed(s, m, from, buf, len, ts) < 0)
		return;
	if (lint)
		fp_lint_check(lint, m, from, fp_session_conn(s), check_lint, NULL);
	CHECK(fp_session_pending(s) <= FP_SESSION_MAX_PENDING, "pending beyond the bound");
	CHECK(fp_session_nodes(s) <= FP_SESSION_MAX_NODES, "nodes beyond the bound");
	if (m->dir == FP_REPLY && m->latency_ns >= 0)
		CHECK(fp_session_pending(s) == pending - 1, "a paired reply left its request pending");
	if (m->path_known)
		CHECK(m->path[0] == '/' && memchr(m->path, 0, sizeof(m->path)), "bad path");
	char small[8], big[4096];
	if (m->h.nodeid) {
		const char *p = fp_session_path(s, m->h.nodeid, small, sizeof(small));
		CHECK(!p || strlen(p) < sizeof(small), "path overflow");
		p = fp_session_path(s, m->h.nodeid, big, sizeof(big));
		CHECK(!p || p[0] == '/', "path without a leading slash");
	}
	check_msg(m, buf, len, depth);
}

static void session_mode(const uint8_t *p, size_t n)
{
	if (!persist || fp_session_mem(persist) > (64u << 20) || persist_feeds > 200000) {
		fp_session_free(persist);
		fp_lint_free(persist_lint);
		persist = fp_session_new();
		persist_lint = fp_lint_new();
		persist_feeds = 0;
	}
	struct fp_session *s = fp_session_new();
	struct fp_lint *lint = fp_lint_new();
	if (!s || !persist || !lint || !persist_lint) {
		fp_session_free(s);
		fp_lint_free(lint);
		return;
	}
	struct fp_msg m, pmsg;
	fp_msg_init(&m);
	fp_msg_init(&pmsg);
	uint64_t ts = 1000000;
	while (n > 0) {
		uint8_t flags = p[0];
		p++, n--;
		size_t len = n;
		if (n >= 4) {
			uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24;
			if (l >= 16 && l <= n)
				len = l;
		}
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf)
			break;
		memcpy(buf, p, len);
		enum fp_origin from = flags & 1 ? FP_FROM_DAEMON : FP_FROM_KERNEL;
		ts = flags & 2 ? ts - 500 : ts + 1000;
		feed(s, lint, &m, buf, len, from, ts, LINES);
		feed(persist, persist_lint, &pmsg, buf, len, from, ts, ENCODE);
		persist_feeds++;
		free(buf);
		p += len, n -= len;
	}
	fp_msg_free(&m);
	fp_msg_free(&pmsg);
	fp_session_free(s);
	fp_lint_free(lint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (strict < 0) {
		const char *e = getenv("FP_FUZZ_SKIP_KNOWN");
		strict = !(e && *e == '1');
	}
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++, size--;
	if (sel & SEL_SESSION) {
		session_mode(data, size);
		return 0;
	}
	enum fp_origin from = sel & SEL_DAEMON ? FP_FROM_DAEMON : FP_FROM_KERNEL;
	const struct fp_conn *conn = &conns[(sel >> 1) & 7];
	struct fp_reqinfo ri = {0, 0};
	const struct fp_reqinfo *rip = NULL;
	if (from == FP_FROM_DAEMON) {
		if (size < 1)
			return 0;
		ri.opcode = data[0] == 255 ? FP_CUSE_INIT : data[0];
		ri.arg = sel & SEL_ARG ? 4096 : 0;
		rip = ri.opcode ? &ri : NULL;
		data++, size--;
	}
	one_message(data, size, from, conn, rip);
	return 0;
}
