/* Building messages, field by field, in the cmocka tests of a conversation (test_session,
 * test_lint). Include after defining `struct t` with at least
 *   struct fp_session *s;   the session, whose negotiated version the messages take
 *   struct fp_msg b;        the message being built
 *   uint64_t unique;        the last unique handed out
 * A field that is not there fails the test. */
#ifndef FP_MSGBUILD_H
#define FP_MSGBUILD_H

#include <string.h>

#include "fuseproto/msg.h"
#include "fuseproto/session.h"

static inline uint64_t next_unique(struct t *t)
{
	return t->unique += 2;
}

/* Set an integer of the message being built, by path ("attr.mode", "header.unique"). */
static inline void set_u(struct t *t, const char *path, uint64_t v)
{
	long i = fp_msg_find(&t->b, path);
	if (i < 0)
		fail_msg("no field %s", path);
	assert_int_equal(fp_msg_set_u64(&t->b, i, v), 0);
}

static inline void set_s(struct t *t, const char *path, const char *s)
{
	long i = fp_msg_find(&t->b, path);
	if (i < 0)
		fail_msg("no field %s", path);
	assert_int_equal(fp_msg_set_bytes(&t->b, i, s, strlen(s)), 0);
}

/* Field `name` of the container at index c (an array element, a struct). */
static inline long field(struct t *t, long c, const char *name)
{
	long i = fp_msg_field(&t->b, c, name);
	if (i < 0)
		fail_msg("no field %s", name);
	return i;
}

static inline void set_fu(struct t *t, long c, const char *name, uint64_t v)
{
	assert_int_equal(fp_msg_set_u64(&t->b, field(t, c, name), v), 0);
}

/* Start a request at the session's negotiated version. */
static inline void req(struct t *t, uint32_t opcode, uint64_t unique, uint64_t nodeid)
{
	assert_int_equal(fp_msg_build(&t->b, FP_REQUEST, opcode, fp_session_conn(t->s), NULL), 0);
	set_u(t, "header.unique", unique);
	set_u(t, "header.nodeid", nodeid);
	set_u(t, "header.uid", 1000);
	set_u(t, "header.gid", 1000);
	set_u(t, "header.pid", 4242);
}

/* Start a reply to `opcode` at connection c (NULL: the session's); error != 0 or opcode 0:
 * the header alone. */
static inline void rep_at(struct t *t, uint32_t opcode, uint64_t unique, int32_t error,
			  uint64_t arg, const struct fp_conn *c)
{
	struct fp_reqinfo ri = {opcode, arg};
	assert_int_equal(fp_msg_build(&t->b, FP_REPLY, error ? 0 : opcode,
				      c ? c : fp_session_conn(t->s), error || !opcode ? NULL : &ri),
			 0);
	set_u(t, "header.unique", unique);
	set_u(t, "header.error", (uint64_t)(int64_t)error);
}

static inline void rep(struct t *t, uint32_t opcode, uint64_t unique, int32_t error, uint64_t arg)
{
	rep_at(t, opcode, unique, error, arg, NULL);
}

#endif
