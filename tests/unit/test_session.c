/* Session tests: scripted conversations built with fp_msg_build and fed to fp_session_feed,
 * checking version negotiation, pairing and latency, links, and the nodeid -> path map
 * through LOOKUP, LINK, RENAME, RENAME2, UNLINK, FORGET, BATCH_FORGET and READDIRPLUS. */
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
#include "fuseproto/session.h"

/* What the 6.18 kernel sent in INIT, and what libfuse 3.14 answered (tests/data). */
#define KERNEL_FLAGS  UINT64_C(0x73fffffb)
#define KERNEL_FLAGS2 UINT64_C(0x000005fd)
#define DAEMON_FLAGS                                                                    \
	(FP_ASYNC_READ | FP_ATOMIC_O_TRUNC | FP_BIG_WRITES | FP_AUTO_INVAL_DATA | FP_ASYNC_DIO | \
	 FP_MAX_PAGES | FP_INIT_EXT)

/* One conversation: the session, the message being built, the last message decoded. */
struct t {
	struct fp_session *s;
	struct fp_msg b;
	struct fp_msg m;
	uint8_t *buf;
	size_t cap;
	uint64_t ts;     /* time of the next message */
	uint64_t unique; /* last unique handed out */
};

#include "msgbuild.h"

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->s = fp_session_new();
	if (!t->s) {
		free(t);
		return -1;
	}
	fp_msg_init(&t->b);
	fp_msg_init(&t->m);
	t->ts = 1000000;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	fp_msg_free(&t->b);
	fp_msg_free(&t->m);
	fp_session_free(t->s);
	free(t->buf);
	free(t);
	return 0;
}

static void ntf(struct t *t, uint32_t code)
{
	assert_int_equal(fp_msg_build(&t->b, FP_NOTIFY, code, fp_session_conn(t->s), NULL), 0);
}

/* Encode the message built (fixing up lengths) and feed it; returns the status. */
static int send_at(struct t *t, enum fp_origin from, uint64_t ts)
{
	long n = fp_encode(&t->b, t->buf, t->cap, FP_ENC_FIXUP);
	assert_true(n > 0);
	if ((size_t)n > t->cap) {
		t->cap = (size_t)n * 2;
		t->buf = realloc(t->buf, t->cap);
		assert_non_null(t->buf);
		assert_int_equal(fp_encode(&t->b, t->buf, t->cap, 0), n);
	}
	assert_int_equal(t->b.h.len, (uint32_t)n);
	int r = fp_session_feed(t->s, &t->m, from, t->buf, (size_t)n, ts);
	assert_true(r >= 0);
	assert_int_equal(r, (int)t->m.status);
	return r;
}

static int feed(struct t *t, enum fp_origin from)
{
	uint64_t ts = t->ts;
	t->ts += 1000;
	return send_at(t, from, ts);
}

static void send_ok(struct t *t, enum fp_origin from)
{
	if (feed(t, from) != FP_OK)
		fail_msg("status %d: %s", (int)t->m.status, t->m.reason);
}

/* An entry reply (LOOKUP, MKDIR, ...) giving `nodeid`. */
static void entry_reply(struct t *t, uint32_t opcode, uint64_t unique, uint64_t nodeid)
{
	rep(t, opcode, unique, 0, 0);
	set_u(t, "nodeid", nodeid);
	set_u(t, "attr.ino", nodeid);
	set_u(t, "attr.mode", 040755);
	set_u(t, "attr.nlink", 1);
	send_ok(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.dir, FP_REPLY);
	assert_int_equal(t->m.opcode, opcode);
}

static void lookup(struct t *t, uint64_t parent, const char *name, uint64_t nodeid)
{
	uint64_t u = next_unique(t);
	req(t, FP_LOOKUP, u, parent);
	set_s(t, "name", name);
	send_ok(t, FP_FROM_KERNEL);
	entry_reply(t, FP_LOOKUP, u, nodeid);
}

static void forget(struct t *t, uint64_t nodeid, uint64_t nlookup)
{
	req(t, FP_FORGET, next_unique(t), nodeid);
	set_u(t, "nlookup", nlookup);
	send_ok(t, FP_FROM_KERNEL);
}

/* A reply with nothing but the header: error, or success of UNLINK, RENAME, ... */
static void status_reply(struct t *t, uint64_t unique, int32_t error)
{
	rep(t, 0, unique, error, 0);
	send_ok(t, FP_FROM_DAEMON);
}

/* The path the session gives a GETATTR on nodeid (and its reply); NULL when unknown. */
static const char *getattr_path(struct t *t, uint64_t nodeid, char *out, size_t n)
{
	uint64_t u = next_unique(t);
	req(t, FP_GETATTR, u, nodeid);
	send_ok(t, FP_FROM_KERNEL);
	int known = t->m.path_known;
	if (known)
		snprintf(out, n, "%s", t->m.path);
	rep(t, FP_GETATTR, u, 0, 0);
	set_u(t, "attr.ino", nodeid);
	send_ok(t, FP_FROM_DAEMON);
	/* the reply carries the path of its request's nodeid too */
	assert_int_equal(t->m.path_known, known);
	if (known)
		assert_string_equal(t->m.path, out);
	return known ? out : NULL;
}

static void assert_path(struct t *t, uint64_t nodeid, const char *want)
{
	char p[4096], q[4096];
	const char *got = getattr_path(t, nodeid, p, sizeof(p));
	const char *direct = fp_session_path(t->s, nodeid, q, sizeof(q));
	if (!want) {
		if (got || direct)
			fail_msg("nodeid %llu: path \"%s\", expected none", (unsigned long long)nodeid,
				 got ? got : direct);
		return;
	}
	if (!got)
		fail_msg("nodeid %llu: no path, expected \"%s\"", (unsigned long long)nodeid, want);
	assert_string_equal(got, want);
	assert_non_null(direct);
	assert_string_equal(direct, want);
}

/* INIT from a 7.45 kernel, and the daemon's reply with its minor and flags. */
static void do_init(struct t *t, uint64_t kflags, uint64_t kflags2, uint32_t dminor, uint64_t dflags)
{
	req(t, FP_INIT, 2, 0);
	set_u(t, "major", 7);
	set_u(t, "minor", 45);
	set_u(t, "max_readahead", 131072);
	set_u(t, "flags", kflags & 0xffffffffu);
	set_u(t, "flags2", kflags2);
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.h.len, 40 + 64);
	rep(t, FP_INIT, 2, 0, 0);
	set_u(t, "major", 7);
	set_u(t, "minor", dminor);
	set_u(t, "max_readahead", 131072);
	set_u(t, "flags", dflags & 0xffffffffu);
	set_u(t, "flags2", dflags >> 32);
	set_u(t, "max_write", 1 << 20);
	set_u(t, "time_gran", 1);
	set_u(t, "max_pages", 256);
	send_ok(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.opcode, FP_INIT);
	t->unique = 2;
}

static void init_default(struct t *t)
{
	do_init(t, KERNEL_FLAGS, KERNEL_FLAGS2, 31, DAEMON_FLAGS);
}

/* ------------------------------------------------------------------------------------ */

static void test_init_negotiation(void **state)
{
	struct t *t = *state;
	const struct fp_conn *c = fp_session_conn(t->s);
	assert_int_equal(c->major, 7);
	assert_int_equal(c->minor, 45);
	assert_true(c->flags == UINT64_MAX);

	init_default(t);
	c = fp_session_conn(t->s);
	assert_int_equal(c->major, 7);
	assert_int_equal(c->minor, 31);
	/* what both sides said, the kernel's flags2 included since it set INIT_EXT */
	assert_true(c->flags == (DAEMON_FLAGS & (KERNEL_FLAGS | KERNEL_FLAGS2 << 32)));
	assert_false(c->flags & FP_SETXATTR_EXT);
	assert_int_equal(fp_session_pending(t->s), 0);

	/* SETXATTR "user.k" = "v1": without SETXATTR_EXT, fuse_setxattr_in is the 8-byte
	 * {size, flags}; the name starts at body offset 8 */
	struct fp_conn c31 = {7, 31, DAEMON_FLAGS};
	uint64_t u = next_unique(t);
	assert_int_equal(fp_msg_build(&t->b, FP_REQUEST, FP_SETXATTR, &c31, NULL), 0);
	set_u(t, "header.unique", u);
	set_u(t, "header.nodeid", 1);
	set_u(t, "flags", 1);
	set_s(t, "name", "user.k");
	set_s(t, "value", "v1");
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.h.len, 40 + 8 + 7 + 2);
	assert_int_equal(t->m.buf[40], 2); /* size */
	assert_int_equal(t->m.buf[44], 1); /* flags */
	assert_memory_equal(t->m.buf + 48, "user.k\0v1", 9);
	assert_true(fp_msg_find(&t->m, "setxattr_flags") < 0);
	assert_true(fp_msg_find(&t->m, "padding") < 0);
	long i = fp_msg_find(&t->m, "size");
	assert_true(i >= 0);
	assert_int_equal(t->m.v[i].u, 2);
	i = fp_msg_find(&t->m, "name");
	assert_true(i >= 0);
	assert_int_equal(t->m.v[i].off, 48);
	assert_int_equal(t->m.v[i].len, 7);
	assert_memory_equal(t->m.v[i].p, "user.k", 6);
	i = fp_msg_find(&t->m, "value");
	assert_true(i >= 0);
	assert_int_equal(t->m.v[i].len, 2);
	assert_memory_equal(t->m.v[i].p, "v1", 2);
	assert_string_equal(t->m.path, "/");

	/* the same bytes read with the 16-byte layout would not be this message */
	struct fp_msg x;
	fp_msg_init(&x);
	struct fp_conn newest = FP_CONN_NEWEST;
	int r = fp_decode(&x, t->m.buf, t->m.buflen, FP_FROM_KERNEL, &newest, NULL);
	long xi = fp_msg_find(&x, "name");
	assert_true(r != FP_OK || xi < 0 || x.v[xi].off != 48);
	fp_msg_free(&x);

	status_reply(t, u, 0);
	assert_int_equal(t->m.opcode, FP_SETXATTR);
	assert_int_equal(fp_session_pending(t->s), 0);
}

/* flags2 counts only with INIT_EXT, in the request as in the reply. */
static void test_init_flags2_needs_init_ext(void **state)
{
	struct t *t = *state;
	do_init(t, KERNEL_FLAGS & ~FP_INIT_EXT, KERNEL_FLAGS2, 40,
		DAEMON_FLAGS | FP_SECURITY_CTX | FP_SETXATTR_EXT);
	const struct fp_conn *c = fp_session_conn(t->s);
	assert_int_equal(c->minor, 40);
	assert_false(c->flags & FP_SECURITY_CTX); /* the kernel's flags2 did not count */
	assert_false(c->flags & FP_INIT_EXT);
	assert_true(c->flags & FP_SETXATTR_EXT);
	assert_true(c->flags & FP_ASYNC_READ);

	struct t *t2 = NULL;
	void *st = NULL;
	assert_int_equal(setup(&st), 0);
	t2 = st;
	do_init(t2, KERNEL_FLAGS, KERNEL_FLAGS2, 45, (DAEMON_FLAGS & ~FP_INIT_EXT) | FP_SECURITY_CTX);
	c = fp_session_conn(t2->s);
	assert_int_equal(c->minor, 45);
	assert_false(c->flags & FP_SECURITY_CTX); /* the daemon's flags2 did not count */
	/* a daemon newer than the kernel: the kernel's minor wins */
	teardown(&st);
	assert_int_equal(setup(&st), 0);
	t2 = st;
	req(t2, FP_INIT, 2, 0);
	set_u(t2, "major", 7);
	set_u(t2, "minor", 36);
	set_u(t2, "flags", KERNEL_FLAGS & 0xffffffffu);
	send_ok(t2, FP_FROM_KERNEL);
	rep(t2, FP_INIT, 2, 0, 0);
	set_u(t2, "major", 7);
	set_u(t2, "minor", 45);
	send_ok(t2, FP_FROM_DAEMON);
	assert_int_equal(fp_session_conn(t2->s)->minor, 36);
	teardown(&st);
}

static void test_lookup_rename_paths(void **state)
{
	struct t *t = *state;
	init_default(t);
	assert_path(t, 1, "/");
	lookup(t, 1, "a", 2);
	lookup(t, 2, "b", 3);
	lookup(t, 3, "c", 4);
	assert_int_equal(fp_session_nodes(t->s), 3);
	assert_path(t, 4, "/a/b/c");
	assert_path(t, 3, "/a/b");
	assert_path(t, 2, "/a");

	/* the request names its own nodeid's path */
	uint64_t u = next_unique(t);
	req(t, FP_RENAME, u, 2);
	set_u(t, "newdir", 1);
	set_s(t, "oldname", "b");
	set_s(t, "newname", "z");
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.path_known, 1);
	assert_string_equal(t->m.path, "/a");
	assert_path(t, 4, "/a/b/c"); /* nothing changes before the reply */
	status_reply(t, u, 0);
	assert_int_equal(t->m.opcode, FP_RENAME);
	assert_path(t, 4, "/z/c");
	assert_path(t, 3, "/z");
	assert_path(t, 2, "/a");
	assert_int_equal(fp_session_nodes(t->s), 3);

	/* a failed rename changes nothing */
	u = next_unique(t);
	req(t, FP_RENAME, u, 3);
	set_u(t, "newdir", 2);
	set_s(t, "oldname", "c");
	set_s(t, "newname", "moved");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, -18 /* EXDEV */);
	assert_int_equal(t->m.h.error, -18);
	assert_path(t, 4, "/z/c");

	/* a rename over an existing name: the old holder of the name loses it */
	lookup(t, 2, "d", 5);
	assert_path(t, 5, "/a/d");
	u = next_unique(t);
	req(t, FP_RENAME, u, 3);
	set_u(t, "newdir", 2);
	set_s(t, "oldname", "c");
	set_s(t, "newname", "d");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 4, "/a/d");
	assert_path(t, 5, NULL);
	assert_int_equal(fp_session_nodes(t->s), 4);
	assert_int_equal(fp_session_pending(t->s), 0);
}

static void test_rename2_exchange(void **state)
{
	struct t *t = *state;
	init_default(t);
	lookup(t, 1, "x", 2);
	lookup(t, 2, "xc", 3);
	lookup(t, 1, "y", 4);
	lookup(t, 4, "yc", 5);

	/* RENAME_EXCHANGE of /x and /y: the two swap names, their children follow */
	uint64_t u = next_unique(t);
	req(t, FP_RENAME2, u, 1);
	set_u(t, "newdir", 1);
	set_u(t, "flags", 2 /* RENAME_EXCHANGE */);
	set_s(t, "oldname", "x");
	set_s(t, "newname", "y");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_int_equal(t->m.opcode, FP_RENAME2);
	assert_path(t, 2, "/y");
	assert_path(t, 3, "/y/xc");
	assert_path(t, 4, "/x");
	assert_path(t, 5, "/x/yc");

	/* across directories: /y/xc <-> /x/yc */
	u = next_unique(t);
	req(t, FP_RENAME2, u, 2);
	set_u(t, "newdir", 4);
	set_u(t, "flags", 2);
	set_s(t, "oldname", "xc");
	set_s(t, "newname", "yc");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 3, "/x/yc");
	assert_path(t, 5, "/y/xc");

	/* a failed exchange changes nothing */
	u = next_unique(t);
	req(t, FP_RENAME2, u, 1);
	set_u(t, "newdir", 1);
	set_u(t, "flags", 2);
	set_s(t, "oldname", "x");
	set_s(t, "newname", "y");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, -22);
	assert_path(t, 2, "/y");
	assert_path(t, 4, "/x");

	/* RENAME_NOREPLACE is a plain move */
	u = next_unique(t);
	req(t, FP_RENAME2, u, 1);
	set_u(t, "newdir", 4);
	set_u(t, "flags", 1 /* RENAME_NOREPLACE */);
	set_s(t, "oldname", "y");
	set_s(t, "newname", "inner");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 2, "/x/inner");
	assert_path(t, 3, "/x/yc");
	assert_path(t, 5, "/x/inner/xc");
	assert_path(t, 4, "/x");
	assert_int_equal(fp_session_nodes(t->s), 4);
}

static void test_unlink_and_errors(void **state)
{
	struct t *t = *state;
	init_default(t);
	lookup(t, 1, "dir", 2);
	lookup(t, 2, "f", 3);
	lookup(t, 2, "sub", 4);
	size_t nodes = fp_session_nodes(t->s);

	/* an error reply to LOOKUP learns nothing; nor does a negative entry (nodeid 0) */
	uint64_t u = next_unique(t);
	req(t, FP_LOOKUP, u, 2);
	set_s(t, "name", "nope");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, -2);
	assert_int_equal(t->m.opcode, FP_LOOKUP);
	assert_int_equal(fp_session_nodes(t->s), nodes);
	lookup(t, 2, "negative", 0);
	assert_int_equal(fp_session_nodes(t->s), nodes);

	/* a failed UNLINK keeps the name */
	u = next_unique(t);
	req(t, FP_UNLINK, u, 2);
	set_s(t, "name", "f");
	send_ok(t, FP_FROM_KERNEL);
	assert_string_equal(t->m.path, "/dir");
	status_reply(t, u, -13 /* EACCES */);
	assert_path(t, 3, "/dir/f");

	/* UNLINK removes the name; the node stays until it is forgotten */
	u = next_unique(t);
	req(t, FP_UNLINK, u, 2);
	set_s(t, "name", "f");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_int_equal(t->m.opcode, FP_UNLINK);
	assert_path(t, 3, NULL);
	assert_int_equal(fp_session_nodes(t->s), nodes);

	/* RMDIR: a failure (ENOTEMPTY) keeps it, success removes it */
	u = next_unique(t);
	req(t, FP_RMDIR, u, 2);
	set_s(t, "name", "sub");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, -39);
	assert_path(t, 4, "/dir/sub");
	u = next_unique(t);
	req(t, FP_RMDIR, u, 2);
	set_s(t, "name", "sub");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 4, NULL);
	assert_path(t, 2, "/dir");

	/* a new node under the old name */
	lookup(t, 2, "f", 5);
	assert_path(t, 5, "/dir/f");
	assert_path(t, 3, NULL);
	assert_int_equal(fp_session_pending(t->s), 0);
}

/* Hard links: a node has every name it was given; unlinking one leaves the others, and
 * the path shows the newest remaining one. rename(2) between two links of one inode does
 * nothing. */
static void test_hard_links(void **state)
{
	struct t *t = *state;
	init_default(t);
	lookup(t, 1, "dir", 2);
	lookup(t, 2, "orig", 3);
	uint64_t u = next_unique(t);
	req(t, FP_LINK, u, 1);
	set_u(t, "oldnodeid", 3);
	set_s(t, "newname", "hard");
	send_ok(t, FP_FROM_KERNEL);
	entry_reply(t, FP_LINK, u, 3);
	assert_path(t, 3, "/hard");

	u = next_unique(t);
	req(t, FP_RENAME, u, 1);
	set_u(t, "newdir", 2);
	set_s(t, "oldname", "hard");
	set_s(t, "newname", "orig");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 3, "/hard");

	u = next_unique(t);
	req(t, FP_UNLINK, u, 1);
	set_s(t, "name", "hard");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 3, "/dir/orig");

	u = next_unique(t);
	req(t, FP_UNLINK, u, 2);
	set_s(t, "name", "orig");
	send_ok(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	assert_path(t, 3, NULL);
	assert_int_equal(fp_session_pending(t->s), 0);
}

static void test_forget_and_batch_forget(void **state)
{
	struct t *t = *state;
	init_default(t);
	lookup(t, 1, "a", 2);
	lookup(t, 2, "b", 3);
	lookup(t, 3, "c", 4);
	lookup(t, 3, "c", 4); /* a second reference */
	lookup(t, 1, "e", 5);
	lookup(t, 1, "f", 6);
	assert_int_equal(fp_session_nodes(t->s), 5);
	assert_path(t, 4, "/a/b/c");

	/* FORGET is not answered: no pending entry */
	size_t pending = fp_session_pending(t->s);
	forget(t, 4, 1);
	assert_int_equal(t->m.opcode, FP_FORGET);
	assert_string_equal(t->m.path, "/a/b/c");
	assert_int_equal(fp_session_pending(t->s), pending);
	assert_int_equal(fp_session_nodes(t->s), 5); /* one reference left */
	assert_path(t, 4, "/a/b/c");
	forget(t, 4, 1);
	assert_int_equal(fp_session_nodes(t->s), 4);
	assert_path(t, 4, NULL);
	forget(t, 4, 1); /* unknown now: ignored */
	assert_int_equal(fp_session_nodes(t->s), 4);
	assert_int_equal(fp_session_pending(t->s), pending);

	/* BATCH_FORGET: 5 and 6 entirely, 2 partly (it was looked up once: gone), 3 too */
	lookup(t, 1, "e", 5);
	req(t, FP_BATCH_FORGET, next_unique(t), 0);
	long a = fp_msg_find(&t->b, "forgets");
	assert_true(a >= 0);
	static const uint64_t ids[][2] = {{5, 2}, {6, 1}, {3, 1}};
	for (unsigned k = 0; k < 3; k++) {
		long e = fp_msg_append(&t->b, a, fp_session_conn(t->s));
		assert_true(e > a);
		set_fu(t, e, "nodeid", ids[k][0]);
		set_fu(t, e, "nlookup", ids[k][1]);
	}
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.opcode, FP_BATCH_FORGET);
	assert_int_equal(t->m.h.len, 40 + 8 + 3 * 16);
	long cnt = fp_msg_find(&t->m, "count");
	assert_true(cnt >= 0);
	assert_int_equal(t->m.v[cnt].u, 3);
	assert_int_equal(fp_session_pending(t->s), pending);
	assert_int_equal(fp_session_nodes(t->s), 1);
	assert_path(t, 5, NULL);
	assert_path(t, 3, NULL);
	assert_path(t, 2, "/a");

	req(t, FP_BATCH_FORGET, next_unique(t), 0);
	a = fp_msg_find(&t->b, "forgets");
	long e = fp_msg_append(&t->b, a, fp_session_conn(t->s));
	set_fu(t, e, "nodeid", 2);
	set_fu(t, e, "nlookup", 1);
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(fp_session_nodes(t->s), 0);
	assert_int_equal(fp_session_pending(t->s), 0);
}

/* ------------------------------------------------------------------------------------ */

#define N_PLUS 10000
#define PER_REPLY 200
#define N_CHURN 100000

/* One READDIRPLUS record in the reply being built. */
static void add_plus(struct t *t, long arr, uint64_t nodeid, const char *name, uint64_t off)
{
	long e = fp_msg_append(&t->b, arr, fp_session_conn(t->s));
	assert_true(e > arr);
	long eo = fp_msg_field(&t->b, e, "entry_out");
	long d = fp_msg_field(&t->b, e, "dirent");
	assert_true(eo > e && d > eo);
	set_fu(t, eo, "nodeid", nodeid);
	set_fu(t, eo, "entry_valid", 1);
	long at = fp_msg_field(&t->b, eo, "attr");
	set_fu(t, at, "ino", nodeid);
	set_fu(t, at, "mode", 0100644);
	set_fu(t, d, "ino", nodeid);
	set_fu(t, d, "off", off);
	set_fu(t, d, "type", 8);
	long nm = fp_msg_field(&t->b, d, "name");
	assert_int_equal(fp_msg_set_bytes(&t->b, nm, name, strlen(name)), 0);
}

static void test_readdirplus_and_churn(void **state)
{
	struct t *t = *state;
	init_default(t);
	lookup(t, 1, "top", 2);
	lookup(t, 2, "dir", 3);
	size_t mem0 = fp_session_mem(t->s), nodes0 = fp_session_nodes(t->s);
	assert_int_equal(nodes0, 2);
	assert_int_equal(fp_session_pending(t->s), 0);

	/* 10,000 entries plus "." and ".." in whole records over several replies */
	char name[32];
	unsigned i = 0;
	for (unsigned r = 0; i < N_PLUS; r++) {
		uint64_t u = next_unique(t);
		req(t, FP_READDIRPLUS, u, 3);
		set_u(t, "fh", 7);
		set_u(t, "offset", i);
		set_u(t, "size", 32768);
		send_ok(t, FP_FROM_KERNEL);
		assert_string_equal(t->m.path, "/top/dir");
		rep(t, FP_READDIRPLUS, u, 0, 0);
		long arr = fp_msg_find(&t->b, "entries");
		assert_true(arr >= 0);
		unsigned n = 0;
		if (r == 0) {
			add_plus(t, arr, 3, ".", 1);
			add_plus(t, arr, 2, "..", 2);
			n = 2;
		}
		for (; n < PER_REPLY && i < N_PLUS; n++, i++) {
			snprintf(name, sizeof(name), "f%05u", i);
			add_plus(t, arr, 1000 + i, name, i + 3);
		}
		send_ok(t, FP_FROM_DAEMON);
		assert_int_equal(t->m.opcode, FP_READDIRPLUS);
		assert_true(t->m.latency_ns >= 0);
		assert_true(t->m.h.len <= 16 + 32768);
		long ents = fp_msg_find(&t->m, "entries");
		assert_true(ents >= 0);
		assert_int_equal(t->m.v[ents].u, n);
	}
	assert_int_equal(fp_session_nodes(t->s), nodes0 + N_PLUS);
	assert_int_equal(fp_session_pending(t->s), 0);
	char p[4096], want[64];
	for (i = 0; i < N_PLUS; i++) {
		snprintf(want, sizeof(want), "/top/dir/f%05u", i);
		const char *got = fp_session_path(t->s, 1000 + i, p, sizeof(p));
		if (!got || strcmp(got, want))
			fail_msg("nodeid %u: %s, expected %s", 1000 + i, got ? got : "(none)", want);
	}
	/* "." and ".." were not learned: the directories keep their names */
	assert_path(t, 3, "/top/dir");
	assert_path(t, 2, "/top");
	assert_path(t, 1000 + N_PLUS - 1, "/top/dir/f09999");

	/* 100,000 more lookups, all alive at once, then every one forgotten */
	for (i = 0; i < N_CHURN; i++) {
		snprintf(name, sizeof(name), "g%06u", i);
		uint64_t parent = i % 2 ? 3 : 1000 + i % N_PLUS;
		uint64_t u = next_unique(t);
		req(t, FP_LOOKUP, u, parent);
		set_s(t, "name", name);
		send_ok(t, FP_FROM_KERNEL);
		rep(t, FP_LOOKUP, u, 0, 0);
		set_u(t, "nodeid", 100000 + i);
		send_ok(t, FP_FROM_DAEMON);
	}
	assert_int_equal(fp_session_nodes(t->s), nodes0 + N_PLUS + N_CHURN);
	for (i = 0; i < N_CHURN; i += 997) {
		if (i % 2)
			snprintf(want, sizeof(want), "/top/dir/g%06u", i);
		else
			snprintf(want, sizeof(want), "/top/dir/f%05u/g%06u", i % N_PLUS, i);
		const char *got = fp_session_path(t->s, 100000 + i, p, sizeof(p));
		if (!got || strcmp(got, want))
			fail_msg("nodeid %u: %s, expected %s", 100000 + i, got ? got : "(none)", want);
	}
	assert_path(t, 100000 + N_CHURN - 1, "/top/dir/g099999");
	assert_true(fp_session_mem(t->s) > mem0 + (size_t)(N_PLUS + N_CHURN) * 32);

	for (i = 0; i < N_CHURN; i++)
		forget(t, 100000 + i, 1);
	assert_int_equal(fp_session_nodes(t->s), nodes0 + N_PLUS);
	for (i = 0; i < N_PLUS;) {
		req(t, FP_BATCH_FORGET, next_unique(t), 0);
		long a = fp_msg_find(&t->b, "forgets");
		for (unsigned k = 0; k < 500 && i < N_PLUS; k++, i++) {
			long e = fp_msg_append(&t->b, a, fp_session_conn(t->s));
			set_fu(t, e, "nodeid", 1000 + i);
			set_fu(t, e, "nlookup", 1);
		}
		send_ok(t, FP_FROM_KERNEL);
	}
	assert_int_equal(fp_session_nodes(t->s), nodes0);
	assert_int_equal(fp_session_pending(t->s), 0);
	assert_path(t, 3, "/top/dir");
	assert_int_equal(fp_session_pending(t->s), 0);
	if (fp_session_mem(t->s) != mem0)
		fail_msg("fp_session_mem() is %zu after forgetting everything, %zu before",
			 fp_session_mem(t->s), mem0);

	/* the directories were looked up once each: "." and ".." added no references */
	forget(t, 3, 1);
	assert_int_equal(fp_session_nodes(t->s), 1);
	forget(t, 2, 1);
	assert_int_equal(fp_session_nodes(t->s), 0);
}

/* ------------------------------------------------------------------------------------ */

static void test_latency_and_pairing(void **state)
{
	struct t *t = *state;
	init_default(t);
	assert_int_equal(fp_session_pending(t->s), 0);

	req(t, FP_LOOKUP, 100, 1);
	set_s(t, "name", "a");
	assert_int_equal(send_at(t, FP_FROM_KERNEL, 5000000000u), FP_OK);
	assert_int_equal(t->m.ts_ns, 5000000000u);
	assert_int_equal(t->m.latency_ns, -1); /* requests have none */
	req(t, FP_GETATTR, 102, 1);
	assert_int_equal(send_at(t, FP_FROM_KERNEL, 5000001000u), FP_OK);
	assert_int_equal(fp_session_pending(t->s), 2);

	/* replies in another order than the requests */
	rep(t, FP_GETATTR, 102, 0, 0);
	assert_int_equal(send_at(t, FP_FROM_DAEMON, 5000009000u), FP_OK);
	assert_int_equal(t->m.latency_ns, 8000);
	assert_non_null(t->m.op);
	assert_string_equal(t->m.op->name, "GETATTR");
	rep(t, FP_LOOKUP, 100, 0, 0);
	set_u(t, "nodeid", 2);
	assert_int_equal(send_at(t, FP_FROM_DAEMON, 5000021400u), FP_OK);
	assert_int_equal(t->m.latency_ns, 21400);
	assert_int_equal(t->m.ts_ns, 5000021400u);
	assert_string_equal(t->m.op->name, "LOOKUP");
	assert_int_equal(t->m.opcode, FP_LOOKUP);
	assert_int_equal(fp_session_pending(t->s), 0);

	/* answered already: not in flight any more */
	rep(t, FP_LOOKUP, 100, 0, 0);
	assert_int_equal(feed(t, FP_FROM_DAEMON), FP_INVALID);
	assert_non_null(strstr(t->m.reason, "100"));
	assert_int_equal(t->m.latency_ns, -1);

	/* never sent */
	rep(t, 0, 4444, -2, 0);
	assert_int_equal(feed(t, FP_FROM_DAEMON), FP_INVALID);
	assert_non_null(strstr(t->m.reason, "4444"));
	assert_int_equal(t->m.bad_off, 8);
	assert_null(t->m.op);
	assert_int_equal(t->m.latency_ns, -1);

	/* a reply to a FORGET cannot pair: FORGET has no pending entry */
	forget(t, 2, 1);
	assert_int_equal(fp_session_pending(t->s), 0);
	rep(t, 0, t->unique, 0, 0);
	assert_int_equal(feed(t, FP_FROM_DAEMON), FP_INVALID);

	/* a reply stamped before its request: latency clamps at 0 */
	req(t, FP_STATFS, 200, 1);
	assert_int_equal(send_at(t, FP_FROM_KERNEL, 9000), FP_OK);
	rep(t, FP_STATFS, 200, 0, 0);
	assert_int_equal(send_at(t, FP_FROM_DAEMON, 8000), FP_OK);
	assert_int_equal(t->m.latency_ns, 0);
}

static void test_interrupt(void **state)
{
	struct t *t = *state;
	init_default(t);
	req(t, FP_LOOKUP, 182, 1);
	set_s(t, "name", "slowname");
	send_ok(t, FP_FROM_KERNEL);
	size_t pending = fp_session_pending(t->s);
	assert_int_equal(pending, 1);

	/* INTERRUPT: header unique is the original's | 1, nodeid etc. 0 */
	assert_int_equal(fp_msg_build(&t->b, FP_REQUEST, FP_INTERRUPT, fp_session_conn(t->s), NULL), 0);
	set_u(t, "header.unique", 183);
	set_u(t, "unique", 182);
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.h.len, 48);
	assert_int_equal(t->m.opcode, FP_INTERRUPT);
	assert_int_equal(t->m.link, 182);
	assert_int_equal(t->m.linked, 1);
	assert_int_equal(fp_session_pending(t->s), pending); /* not answered itself */

	/* the daemon asks for it again: a 16-byte -EAGAIN reply to 183 */
	rep(t, 0, 183, -11, 0);
	send_ok(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.dir, FP_REPLY);
	assert_non_null(t->m.op);
	assert_int_equal(t->m.op->code, FP_INTERRUPT);
	assert_int_equal(t->m.opcode, FP_INTERRUPT);
	assert_int_equal(t->m.link, 182);
	assert_int_equal(t->m.linked, 1);
	assert_int_equal(fp_session_pending(t->s), pending); /* 182 is still in flight */

	/* the original ends with EINTR */
	status_reply(t, 182, -4);
	assert_int_equal(t->m.opcode, FP_LOOKUP);
	assert_true(t->m.latency_ns >= 0);
	assert_int_equal(fp_session_pending(t->s), 0);

	/* too late now: neither the INTERRUPT nor a reply to it links */
	assert_int_equal(fp_msg_build(&t->b, FP_REQUEST, FP_INTERRUPT, fp_session_conn(t->s), NULL), 0);
	set_u(t, "header.unique", 183);
	set_u(t, "unique", 182);
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.link, 182);
	assert_int_equal(t->m.linked, 0);
	rep(t, 0, 183, -38, 0);
	feed(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.opcode, FP_INTERRUPT);
	assert_int_equal(t->m.linked, 0);
	/* the kernel refuses it (ENOENT), so the session calls it invalid */
	assert_int_equal(t->m.status, FP_INVALID);
	assert_non_null(strstr(t->m.reason, "INTERRUPT of unique 182"));
	assert_int_equal(fp_session_pending(t->s), 0);
}

static void test_notify_retrieve_link(void **state)
{
	struct t *t = *state;
	init_default(t);
	lookup(t, 1, "current_time", 2);
	size_t pending = fp_session_pending(t->s);

	ntf(t, FP_NOTIFY_RETRIEVE);
	set_u(t, "notify_unique", 7);
	set_u(t, "nodeid", 2);
	set_u(t, "size", 128);
	send_ok(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.dir, FP_NOTIFY);
	assert_int_equal(t->m.opcode, FP_NOTIFY_RETRIEVE);
	assert_int_equal(t->m.h.unique, 0);
	assert_int_equal(t->m.h.error, FP_NOTIFY_RETRIEVE);

	/* the kernel's answer: a NOTIFY_REPLY request whose unique is notify_unique */
	req(t, FP_NOTIFY_REPLY, 7, 2);
	set_u(t, "offset", 0);
	set_s(t, "data", "The current time is 12:00:00\n");
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.opcode, FP_NOTIFY_REPLY);
	assert_int_equal(t->m.link, 7);
	assert_int_equal(t->m.linked, 1);
	assert_string_equal(t->m.path, "/current_time");
	long sz = fp_msg_find(&t->m, "size");
	assert_true(sz >= 0);
	assert_int_equal(t->m.v[sz].u, 29);
	assert_int_equal(fp_session_pending(t->s), pending); /* no reply expected */

	/* one RETRIEVE, one NOTIFY_REPLY */
	req(t, FP_NOTIFY_REPLY, 7, 2);
	set_s(t, "data", "again");
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.link, 7);
	assert_int_equal(t->m.linked, 0);

	/* a NOTIFY_REPLY nobody asked for */
	req(t, FP_NOTIFY_REPLY, 9, 2);
	send_ok(t, FP_FROM_KERNEL);
	assert_int_equal(t->m.linked, 0);
	assert_int_equal(fp_session_pending(t->s), pending);

	/* notifications are not replies: no pairing complaint */
	ntf(t, FP_NOTIFY_INVAL_INODE);
	set_u(t, "ino", 2);
	send_ok(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.dir, FP_NOTIFY);
	assert_int_equal(t->m.latency_ns, -1);
}

/* NOTIFY_RESEND: the kernel queues every request being processed again, with
 * FUSE_UNIQUE_RESEND (bit 63) set in its unique; the daemon answers the new unique, and a
 * reply to the old one is refused (ENOENT). The old unique is no longer in flight. */
static void test_resend(void **state)
{
	struct t *t = *state;
	init_default(t);
	req(t, FP_LOOKUP, 10, 1);
	set_s(t, "name", "a");
	assert_int_equal(send_at(t, FP_FROM_KERNEL, 1000), FP_OK);
	assert_int_equal(fp_session_pending(t->s), 1);
	ntf(t, FP_NOTIFY_RESEND);
	send_ok(t, FP_FROM_DAEMON);
	assert_int_equal(t->m.opcode, FP_NOTIFY_RESEND);

	req(t, FP_LOOKUP, 10 | FP_UNIQUE_RESEND, 1);
	set_s(t, "name", "a");
	assert_int_equal(send_at(t, FP_FROM_KERNEL, 5000), FP_OK);
	assert_int_equal(fp_session_pending(t->s), 1);

	rep(t, FP_LOOKUP, 10 | FP_UNIQUE_RESEND, 0, 0);
	set_u(t, "nodeid", 2);
	assert_int_equal(send_at(t, FP_FROM_DAEMON, 9000), FP_OK);
	assert_int_equal(t->m.opcode, FP_LOOKUP);
	assert_true(t->m.latency_ns >= 4000);
	assert_int_equal(fp_session_pending(t->s), 0);
	assert_path(t, 2, "/a");

	/* the old unique is answered no more */
	rep(t, FP_LOOKUP, 10, 0, 0);
	set_u(t, "nodeid", 2);
	assert_int_equal(feed(t, FP_FROM_DAEMON), FP_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_flags2_needs_init_ext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_rename_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename2_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_and_batch_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdirplus_and_churn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_and_pairing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_retrieve_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
