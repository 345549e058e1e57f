/* Shared by the cmocka unit tests: sample messages (every row of the opcode table, as
 * requests, replies and notifications, built at the connections that change layouts with
 * every value filled in deterministically), checks on formatted output (strict JSON through
 * jsoncheck.h, printable text), and assertions that count themselves and name the case. */
#ifndef FP_MSGSAMPLE_H
#define FP_MSGSAMPLE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuseproto/abi.h"
#include "fuseproto/msg.h"
#include "fuseproto/optable.h"

#include "jsoncheck.h"

/* ------------------------------------------------------------------ counted checks */

/* cmocka assertions that count themselves (a test reports check_count at the end) and, when
 * they fail, print check_ctx, the case under test. Every argument is evaluated once. */
static unsigned long check_count;
static char check_ctx[160];

static inline void check_seen(int ok)
{
	check_count++;
	if (!ok)
		print_error("in %s\n", check_ctx);
}

#define CHECK(c)                                                                        \
	do {                                                                            \
		int ok_ = !!(c);                                                        \
		check_seen(ok_);                                                        \
		_assert_true((LargestIntegralType)ok_, #c, __FILE__, __LINE__);         \
	} while (0)
#define CHECK_INT(a, b)                                                                 \
	do {                                                                            \
		LargestIntegralType a_ = (LargestIntegralType)(a);                      \
		LargestIntegralType b_ = (LargestIntegralType)(b);                      \
		check_seen(a_ == b_);                                                   \
		_assert_int_equal(a_, b_, __FILE__, __LINE__);                          \
	} while (0)
#define CHECK_STR(a, b)                                                                 \
	do {                                                                            \
		const char *a_ = (a), *b_ = (b);                                        \
		a_ = a_ ? a_ : "(null)";                                                \
		b_ = b_ ? b_ : "(null)";                                                \
		check_seen(!strcmp(a_, b_));                                            \
		_assert_string_equal(a_, b_, __FILE__, __LINE__);                       \
	} while (0)
#define CHECK_MEM(a, b, n)                                                              \
	do {                                                                            \
		const void *a_ = (a), *b_ = (b);                                        \
		size_t n_ = (size_t)(n);                                                \
		check_seen(!memcmp(a_, b_, n_));                                        \
		_assert_memory_equal(a_, b_, n_, __FILE__, __LINE__);                   \
	} while (0)

/* ------------------------------------------------------------------ sample messages */

/* Negotiated flags of the older connections: everything but FUSE_SETXATTR_EXT, which moves
 * fuse_setxattr_in from 8 to 16 bytes. */
#define MSGSAMPLE_FLAGS_NO_SXEXT (UINT64_MAX & ~FP_SETXATTR_EXT)

/* Elements appended to every array of a sample. */
#define MSGSAMPLE_ELEMS 3

/* One message to build: a row, what kind of message, the connection, and for a reply the
 * request it answers. */
struct msgcase {
	const struct fp_op *op;
	enum fp_dir dir;
	struct fp_conn conn;
	struct fp_reqinfo ri; /* replies only */
	char label[80];       /* "GETXATTR reply(arg=100) @7.22" for failure messages */
};

/* Who writes a case's message. */
static inline enum fp_origin msgcase_origin(const struct msgcase *c)
{
	return c->dir == FP_REQUEST ? FP_FROM_KERNEL : FP_FROM_DAEMON;
}

/* The request information to decode a case's message with (NULL but for replies). */
static inline const struct fp_reqinfo *msgcase_reqinfo(const struct msgcase *c)
{
	return c->dir == FP_REPLY ? &c->ri : NULL;
}

/* Whether the row has replies: every request but the ones the kernel expects no answer to. */
static inline int msgsample_has_reply(const struct fp_op *op)
{
	return !(op->flags & (FP_OP_NOTIFY | FP_OP_NOREPLY));
}

static inline void msgcase_add(struct msgcase *out, size_t cap, size_t *n, const struct fp_op *op,
			       enum fp_dir dir, struct fp_conn conn, uint64_t arg)
{
	if (*n < cap) {
		struct msgcase *c = &out[*n];
		memset(c, 0, sizeof(*c));
		c->op = op;
		c->dir = dir;
		c->conn = conn;
		if (dir == FP_REPLY)
			c->ri = (struct fp_reqinfo){op->code, arg};
		static const char *const dirs[] = {"request", "reply", "notify"};
		char a[24] = "";
		if (dir == FP_REPLY && op->arg)
			snprintf(a, sizeof(a), "(%s=%llu)", op->arg, (unsigned long long)arg);
		snprintf(c->label, sizeof(c->label), "%s %s%s @7.%u%s", op->name, dirs[dir], a,
			 conn.minor, (conn.flags & FP_SETXATTR_EXT) ? "" : " no-SETXATTR_EXT");
	}
	(*n)++;
}

/* Every case: each row as a request (or notification) and, when it has one, as a reply
 * (both reply layouts where the layout depends on the request), at minor 45 with every
 * flag, at minor 22 and minor 8 without FUSE_SETXATTR_EXT, and SETXATTR also at minor 45
 * without it. Writes at most cap cases to out and returns how many there are. */
static inline size_t msgsample_cases(struct msgcase *out, size_t cap)
{
	const struct fp_conn conns[] = {
		FP_CONN_NEWEST,
		{7, 22, MSGSAMPLE_FLAGS_NO_SXEXT},
		{7, 8, MSGSAMPLE_FLAGS_NO_SXEXT},
	};
	size_t n = 0;
	for (size_t k = 0; k < sizeof(conns) / sizeof(conns[0]); k++) {
		const struct fp_op *op;
		for (unsigned i = 0; (op = fp_op_at(i)) != NULL; i++) {
			msgcase_add(out, cap, &n, op,
				    (op->flags & FP_OP_NOTIFY) ? FP_NOTIFY : FP_REQUEST, conns[k],
				    0);
			if (!msgsample_has_reply(op))
				continue;
			msgcase_add(out, cap, &n, op, FP_REPLY, conns[k], 0);
			if (op->arg)
				msgcase_add(out, cap, &n, op, FP_REPLY, conns[k], 100);
		}
	}
	const struct fp_conn no_ext = {7, 45, MSGSAMPLE_FLAGS_NO_SXEXT};
	msgcase_add(out, cap, &n, fp_op_get(FP_SETXATTR), FP_REQUEST, no_ext, 0);
	return n;
}

/* The integer put in value i: derived from the index, non-zero, masked to the field's width
 * (signed kinds sign-extended, as the decoder stores them). */
static inline uint64_t msgsample_int(enum fp_kind kind, uint32_t i)
{
	uint64_t u = (uint64_t)(i + 1) * UINT64_C(0x9E3779B97F4A7C15);
	unsigned w = fp_kind_width(kind);
	if (w < 8)
		u &= (UINT64_C(1) << (8 * w)) - 1;
	if (u == 0)
		u = 1;
	if (kind == FP_K_S32)
		u = (uint64_t)(int64_t)(int32_t)(uint32_t)u;
	return u;
}

/* Fill every value of a freshly built message: MSGSAMPLE_ELEMS elements in every array,
 * integers from msgsample_int(), STR "n<index>", BYTES 3..7 bytes that include a NUL, a
 * high byte and a control byte. Left alone: PAD8 (the encoder sizes it), the header's len,
 * total_extlen, opcode and error (the encoder, fp_msg_build and the direction set those), and
 * a notification's unique (0). Requests get `unique` and `nodeid`, replies `unique`.
 * Returns 0, or -1 when the library refuses a value or memory runs out. */
static inline int msgsample_fill(struct fp_msg *m, const struct fp_conn *conn, uint64_t unique,
				 uint64_t nodeid)
{
	/* arrays first: an append moves every value after the array */
	for (uint32_t i = 0; i < m->nv; i++) {
		const struct fp_val *v = &m->v[i];
		if (v->f->kind != FP_K_ARRAY || (v->vflags & FP_V_ELEM) || v->u)
			continue;
		for (int k = 0; k < MSGSAMPLE_ELEMS; k++)
			if (fp_msg_append(m, (long)i, conn) < 0)
				return -1;
	}
	uint32_t hdr_end = m->v[0].nsub;
	for (uint32_t i = 1; i < m->nv; i++) {
		const struct fp_val *v = &m->v[i];
		const struct fp_field *f = v->f;
		if (v->vflags & FP_V_ELEM)
			continue;
		if (i <= hdr_end) {
			const char *n = f->name;
			uint64_t u = msgsample_int((enum fp_kind)f->kind, i);
			if (!strcmp(n, "len") || !strcmp(n, "total_extlen") || !strcmp(n, "opcode") ||
			    !strcmp(n, "error"))
				continue;
			if (!strcmp(n, "unique")) {
				if (m->dir == FP_NOTIFY)
					continue;
				u = unique;
			} else if (!strcmp(n, "nodeid")) {
				u = nodeid;
			}
			if (fp_msg_set_u64(m, (long)i, u) < 0)
				return -1;
			continue;
		}
		if (fp_kind_is_int((enum fp_kind)f->kind)) {
			if (fp_msg_set_u64(m, (long)i, msgsample_int((enum fp_kind)f->kind, i)) < 0)
				return -1;
		} else if (f->kind == FP_K_STR) {
			char s[16];
			int n = snprintf(s, sizeof(s), "n%u", (unsigned)i);
			if (fp_msg_set_bytes(m, (long)i, s, (size_t)n) < 0)
				return -1;
		} else if (f->kind == FP_K_BYTES) {
			const uint8_t b[7] = {'b', (uint8_t)i, 0x00, 0xff, 0x1b,
					      (uint8_t)(i >> 8), 'z'};
			if (fp_msg_set_bytes(m, (long)i, b, 3 + i % 5) < 0)
				return -1;
		}
	}
	return 0;
}

/* Build case c into m with every value filled (unique 2 * (seq + 1) + 0x1000, nodeid derived
 * from seq). Returns 0 or -1. */
static inline int msgsample_build(struct fp_msg *m, const struct msgcase *c, uint32_t seq)
{
	if (fp_msg_build(m, c->dir, c->op->code, &c->conn, msgcase_reqinfo(c)) < 0)
		return -1;
	uint64_t unique = UINT64_C(0x1000) + 2 * ((uint64_t)seq + 1);
	uint64_t nodeid = UINT64_C(0x100) + seq;
	return msgsample_fill(m, &c->conn, unique, nodeid);
}

/* Encode m with FP_ENC_FIXUP into a new buffer (*out, freed by the caller). Returns the
 * length, or -1. */
static inline long msgsample_encode(struct fp_msg *m, uint8_t **out)
{
	*out = NULL;
	long n = fp_encode(m, NULL, 0, FP_ENC_FIXUP);
	if (n <= 0)
		return -1;
	uint8_t *buf = malloc((size_t)n);
	if (!buf)
		return -1;
	if (fp_encode(m, buf, (size_t)n, 0) != n) {
		free(buf);
		return -1;
	}
	*out = buf;
	return n;
}

/* Whether m encodes back to bytes[0, len) exactly, both as decoded and with FP_ENC_FIXUP
 * (a valid message already carries the right lengths and counts, so fix-up changes
 * nothing). `out` is scratch of at least len + 16 bytes, so that a longer encoding shows.
 * Returns NULL, or a description of the first difference in why[0, cap). */
static inline const char *msgsample_reencode(struct fp_msg *m, const uint8_t *bytes, size_t len,
					     uint8_t *out, char *why, size_t cap)
{
	for (int pass = 0; pass < 2; pass++) {
		unsigned flags = pass ? FP_ENC_FIXUP : 0;
		memset(out, 0x5a, len + 16);
		long n = fp_encode(m, out, len + 16, flags);
		if (n == (long)len && memcmp(out, bytes, len) == 0)
			continue;
		size_t d = 0;
		while (n > 0 && d < len && out[d] == bytes[d])
			d++;
		snprintf(why, cap, "%s: encoded %ld bytes, not %zu; first difference at %zu",
			 pass ? "with FP_ENC_FIXUP" : "as decoded", n, len, d);
		return why;
	}
	return NULL;
}

/* ------------------------------------------------------------------ output checks */

/* Whether s[0, n) is exactly one well-formed JSON value (surrounding blanks allowed):
 * strict, as jsoncheck.h says: strings in UTF-8, no name twice in one object. */
static inline int msgsample_json_valid(const char *s, size_t n)
{
	return jsoncheck_valid(s, n, JSONCHECK_STRICT);
}

/* The same, but for the grammar (and unique names) only: bytes >= 0x80 in strings need not
 * be UTF-8. Tells a broken structure from an encoding problem. */
static inline int msgsample_json_grammar(const char *s, size_t n)
{
	return jsoncheck_valid(s, n, JSONCHECK_UNIQUE_KEYS);
}

/* Whether every byte of s is printable ASCII: what reaches a terminal is escaped. */
static inline int msgsample_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

#endif
