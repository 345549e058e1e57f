/* Protocol lint tests: for every rule a conversation that breaks it (exactly that rule fires,
 * once) and a close one that does not (no violation), built with fp_msg_build, fed through a
 * session and then the lint; and the recorded sessions of tests/data, real daemons talking
 * to the real kernel, without a single violation. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fuseproto/abi.h"
#include "fuseproto/le.h"
#include "fuseproto/lint.h"
#include "fuseproto/msg.h"
#include "fuseproto/session.h"
#include "hexsession.h"

#define MAXV 16

/* One conversation: session and lint, the message being built, the last one decoded, and
 * the violations seen since the last clear(). */
struct t {
	struct fp_session *s;
	struct fp_lint *l;
	struct fp_msg b;
	struct fp_msg m;
	uint8_t *buf;
	size_t cap;
	uint64_t unique; /* last unique handed out */
	unsigned nv;
	char rule[MAXV][32];
	char text[MAXV][400];
};

#include "msgbuild.h"

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->s = fp_session_new();
	t->l = fp_lint_new();
	t->cap = 1 << 16;
	t->buf = calloc(1, t->cap);
	if (!t->s || !t->l || !t->buf) {
		fp_session_free(t->s);
		fp_lint_free(t->l);
		free(t->buf);
		free(t);
		return -1;
	}
	fp_msg_init(&t->b);
	fp_msg_init(&t->m);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	fp_msg_free(&t->b);
	fp_msg_free(&t->m);
	fp_session_free(t->s);
	fp_lint_free(t->l);
	free(t->buf);
	free(t);
	return 0;
}

static void on_violation(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	struct t *t = ctx;
	assert_non_null(m);
	assert_non_null(rule);
	assert_non_null(text);
	assert_true(strlen(text) > 0);
	if (t->nv < MAXV) {
		snprintf(t->rule[t->nv], sizeof(t->rule[0]), "%s", rule);
		snprintf(t->text[t->nv], sizeof(t->text[0]), "%s", text);
	}
	t->nv++;
}

static void clear(struct t *t)
{
	t->nv = 0;
}

/* No violation since the last clear(). */
static void none(struct t *t)
{
	if (t->nv)
		fail_msg("expected no violation, got %u, the first %s: %s", t->nv, t->rule[0],
			 t->text[0]);
}

/* Exactly one violation since the last clear(), of `rule`; then clear. */
static void one(struct t *t, const char *rule)
{
	if (t->nv != 1 || strcmp(t->rule[0], rule))
		fail_msg("expected one %s violation, got %u%s%s%s%s", rule, t->nv,
			 t->nv ? ", the first " : "", t->nv ? t->rule[0] : "", t->nv ? ": " : "",
			 t->nv ? t->text[0] : "");
	print_message("    %s: %s\n", t->rule[0], t->text[0]);
	clear(t);
}

/* One violation of `rule` whose text holds `part`. */
static void one_saying(struct t *t, const char *rule, const char *part)
{
	if (t->nv == 1 && !strstr(t->text[0], part))
		fail_msg("%s: \"%s\" does not say \"%s\"", rule, t->text[0], part);
	one(t, rule);
}

/* Encode the message built, fixing up its lengths, into t->buf; returns its length. */
static size_t enc(struct t *t)
{
	long n = fp_encode(&t->b, t->buf, t->cap, FP_ENC_FIXUP);
	assert_true(n > 0);
	assert_true((size_t)n + 64 <= t->cap);
	memset(t->buf + n, 0, 64);
	return (size_t)n;
}

/* Feed t->buf[0, len) through the session, then the lint. Returns the violations of it. */
static unsigned feed_raw(struct t *t, enum fp_origin from, size_t len)
{
	int r = fp_session_feed(t->s, &t->m, from, t->buf, len, 0);
	assert_true(r >= 0);
	unsigned before = t->nv;
	unsigned n = fp_lint_check(t->l, &t->m, from, fp_session_conn(t->s), on_violation, t);
	assert_int_equal(n, t->nv - before);
	return n;
}

static unsigned feed(struct t *t, enum fp_origin from)
{
	return feed_raw(t, from, enc(t));
}

/* Patch a little-endian integer of w bytes at byte `at` of the encoded message. */
static void patch(struct t *t, size_t at, unsigned w, uint64_t v)
{
	fp_store_le(t->buf + at, w, v);
}

/* INIT: the kernel's 7.45 with every flag, the daemon answering `minor`. */
/* The kernel's INIT (unique 2) of version major.minor, built but not fed. */
static void init_req(struct t *t, uint32_t major, uint32_t minor)
{
	req(t, FP_INIT, 2, 0);
	set_u(t, "major", major);
	set_u(t, "minor", minor);
}

/* A fresh connection, for the next case of a test. */
static struct t *restart(void **state)
{
	assert_int_equal(teardown(state), 0);
	assert_int_equal(setup(state), 0);
	return *state;
}

static void do_init(struct t *t, uint32_t minor)
{
	init_req(t, 7, 45);
	set_u(t, "max_readahead", 131072);
	set_u(t, "flags", 0x73fffffb);
	set_u(t, "flags2", 0x5fd);
	feed(t, FP_FROM_KERNEL);
	rep(t, FP_INIT, 2, 0, 0);
	set_u(t, "major", 7);
	set_u(t, "minor", minor);
	set_u(t, "flags", FP_ASYNC_READ | FP_BIG_WRITES | FP_MAX_PAGES);
	set_u(t, "max_write", 1 << 20);
	set_u(t, "max_pages", 256);
	feed(t, FP_FROM_DAEMON);
	none(t);
	assert_int_equal(fp_session_conn(t->s)->minor, minor);
	t->unique = 2;
}

/* Fill the entry (fuse_entry_out) at index eo. */
static void fill_entry(struct t *t, long eo, uint64_t nodeid, uint32_t mode)
{
	set_fu(t, eo, "nodeid", nodeid);
	set_fu(t, eo, "entry_valid", 1);
	set_fu(t, eo, "attr_valid", 1);
	long a = field(t, eo, "attr");
	set_fu(t, a, "ino", nodeid);
	set_fu(t, a, "mode", mode);
	set_fu(t, a, "nlink", 1);
}

/* A request of an entry op (LOOKUP: name; the others: their request fields must be set by
 * the caller, who gets the unique back). */
static uint64_t entry_req(struct t *t, uint32_t opcode, uint64_t parent, const char *name)
{
	uint64_t u = next_unique(t);
	req(t, opcode, u, parent);
	set_s(t, opcode == FP_LINK ? "newname" : "name", name);
	return u;
}

/* The entry reply to request u of `opcode`. */
static unsigned entry_reply(struct t *t, uint32_t opcode, uint64_t u, uint64_t nodeid,
			    uint32_t mode)
{
	rep(t, opcode, u, 0, 0);
	long eo = opcode == FP_CREATE || opcode == FP_TMPFILE ? fp_msg_find(&t->b, "entry")
							       : t->b.body;
	fill_entry(t, eo, nodeid, mode);
	return feed(t, FP_FROM_DAEMON);
}

static unsigned lookup(struct t *t, uint64_t parent, const char *name, uint64_t nodeid,
		       uint32_t mode)
{
	uint64_t u = entry_req(t, FP_LOOKUP, parent, name);
	feed(t, FP_FROM_KERNEL);
	return entry_reply(t, FP_LOOKUP, u, nodeid, mode);
}

static void forget(struct t *t, uint64_t nodeid, uint64_t nlookup)
{
	req(t, FP_FORGET, next_unique(t), nodeid);
	set_u(t, "nlookup", nlookup);
	feed(t, FP_FROM_KERNEL);
}

/* A request with no body fields to set (GETATTR, READLINK, ...); returns its unique. */
static uint64_t simple(struct t *t, uint32_t opcode, uint64_t nodeid)
{
	uint64_t u = next_unique(t);
	req(t, opcode, u, nodeid);
	feed(t, FP_FROM_KERNEL);
	return u;
}

/* A header-only reply (error, or success of an op with no reply body). */
static unsigned status_reply(struct t *t, uint64_t unique, int32_t error)
{
	rep(t, 0, unique, error, 0);
	return feed(t, FP_FROM_DAEMON);
}

/* GETATTR of nodeid answered with `mode` and `size`. */
static void getattr(struct t *t, uint64_t nodeid, uint32_t mode, uint64_t size)
{
	uint64_t u = simple(t, FP_GETATTR, nodeid);
	rep(t, FP_GETATTR, u, 0, 0);
	set_u(t, "attr.ino", nodeid);
	set_u(t, "attr.mode", mode);
	set_u(t, "attr.size", size);
	set_u(t, "attr.nlink", 1);
	feed(t, FP_FROM_DAEMON);
}

/* A READ, READDIR, READDIRPLUS, GETXATTR or LISTXATTR request asking for `size`. */
static uint64_t sized(struct t *t, uint32_t opcode, uint64_t nodeid, uint32_t size)
{
	uint64_t u = next_unique(t);
	req(t, opcode, u, nodeid);
	set_u(t, "size", size);
	if (opcode == FP_GETXATTR)
		set_s(t, "name", "user.k");
	feed(t, FP_FROM_KERNEL);
	return u;
}

/* One directory record for the READDIR(PLUS) reply being built. */
struct dent {
	const char *name;
	size_t namelen; /* 0: strlen(name) */
	uint64_t off;
	uint64_t nodeid; /* READDIRPLUS */
	uint32_t mode;   /* READDIRPLUS */
};

static void add_dents(struct t *t, int plus, const struct dent *d, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		long e = fp_msg_append(&t->b, fp_msg_find(&t->b, "entries"), fp_session_conn(t->s));
		assert_true(e >= 0);
		long de = plus ? field(t, e, "dirent") : e;
		if (plus && d[k].nodeid)
			fill_entry(t, field(t, e, "entry_out"), d[k].nodeid, d[k].mode);
		set_fu(t, de, "ino", d[k].nodeid ? d[k].nodeid : 10 + k);
		set_fu(t, de, "off", d[k].off);
		set_fu(t, de, "type", (d[k].mode ? d[k].mode : S_IFREG) >> 12);
		size_t nl = d[k].namelen ? d[k].namelen : strlen(d[k].name);
		assert_int_equal(fp_msg_set_bytes(&t->b, field(t, de, "name"), d[k].name, nl), 0);
	}
}

/* Build the READDIR(PLUS) reply to u with records d. */
static void dir_reply(struct t *t, int plus, uint64_t u, const struct dent *d, size_t n)
{
	rep(t, plus ? FP_READDIRPLUS : FP_READDIR, u, 0, 0);
	add_dents(t, plus, d, n);
}

/* ------------------------------------------------------------------------------------ */

static void test_rule_table(void **state)
{
	(void)state;
	size_t n = 0;
	for (const struct fp_lint_rule *r = fp_lint_rules; r->id; r++, n++) {
		assert_non_null(r->what);
		assert_true(strlen(r->what) > 10);
		assert_true(strlen(r->id) > 2 && strlen(r->id) < 32);
		for (const char *c = r->id; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '-');
		for (const struct fp_lint_rule *o = fp_lint_rules; o != r; o++)
			assert_string_not_equal(o->id, r->id);
	}
	assert_int_equal(n, 17);
}

static void test_unknown_unique(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = simple(t, FP_GETATTR, 1);
	none(t);
	/* never sent */
	status_reply(t, u + 100, -2);
	one_saying(t, "unknown-unique", "not in flight");
	/* the one sent */
	getattr(t, 1, S_IFDIR | 0755, 0);
	none(t);
	/* an INTERRUPT reply to a request that is in flight but was never interrupted */
	u = simple(t, FP_GETATTR, 1);
	status_reply(t, u | 1, -EAGAIN);
	one_saying(t, "unknown-unique", "never interrupted");
	status_reply(t, u, -EIO);
	none(t);
	/* a request queued again after NOTIFY_RESEND: the old unique is no longer asked */
	u = simple(t, FP_GETATTR, 1);
	simple(t, FP_GETATTR, 1); /* some other request in between */
	t->unique -= 2;
	req(t, FP_GETATTR, u | FP_UNIQUE_RESEND, 1);
	feed(t, FP_FROM_KERNEL);
	status_reply(t, u, -EIO);
	one_saying(t, "unknown-unique", "resent");
	status_reply(t, u | FP_UNIQUE_RESEND, -EIO);
	none(t);
}

/* A capture that starts mid-session: replies to requests older than the first one seen are
 * not violations, to newer ones they are. */
static void test_unknown_unique_midsession(void **state)
{
	struct t *t = *state;
	t->unique = 1000;
	/* nothing seen yet: nothing is known */
	status_reply(t, 990, -2);
	none(t);
	uint64_t u = simple(t, FP_GETATTR, 1);
	status_reply(t, 996, -2);
	none(t);
	status_reply(t, u, -2);
	none(t);
	status_reply(t, u + 20, -2);
	one(t, "unknown-unique");
}

static void test_double_reply(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = simple(t, FP_ACCESS, 1);
	status_reply(t, u, 0);
	none(t);
	status_reply(t, u, 0);
	one_saying(t, "double-reply", "ACCESS");
	/* counted without a callback too */
	rep(t, 0, u, 0, 0);
	size_t n = enc(t);
	assert_true(fp_session_feed(t->s, &t->m, FP_FROM_DAEMON, t->buf, n, 0) >= 0);
	assert_int_equal(fp_lint_check(t->l, &t->m, FP_FROM_DAEMON, fp_session_conn(t->s), NULL,
				       NULL),
			 1);
	/* a reply the kernel refused (bad error) leaves the request in flight: answering it
	 * again is right */
	u = simple(t, FP_ACCESS, 1);
	status_reply(t, u, 5);
	one(t, "bad-error");
	status_reply(t, u, -EACCES);
	none(t);
}

static void test_noreply(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	lookup(t, 1, "a", 5, S_IFREG | 0644);
	forget(t, 5, 1);
	uint64_t fu = t->unique;
	none(t);
	status_reply(t, fu, 0);
	one_saying(t, "noreply", "FORGET");

	uint64_t bu = next_unique(t);
	req(t, FP_BATCH_FORGET, bu, 0);
	long a = fp_msg_find(&t->b, "forgets");
	long e = fp_msg_append(&t->b, a, fp_session_conn(t->s));
	set_fu(t, e, "nodeid", 7);
	set_fu(t, e, "nlookup", 1);
	feed(t, FP_FROM_KERNEL);
	none(t);
	status_reply(t, bu, -ENOSYS);
	one_saying(t, "noreply", "BATCH_FORGET");

	/* the request after them is answered as usual */
	uint64_t u = simple(t, FP_ACCESS, 1);
	status_reply(t, u, 0);
	none(t);

	/* NOTIFY_REPLY carries the notify_unique the daemon chose in its RETRIEVE */
	lookup(t, 1, "r", 9, S_IFREG | 0644);
	assert_int_equal(fp_msg_build(&t->b, FP_NOTIFY, FP_NOTIFY_RETRIEVE, fp_session_conn(t->s),
				      NULL), 0);
	set_u(t, "notify_unique", 5000);
	set_u(t, "nodeid", 9);
	set_u(t, "size", 4096);
	feed(t, FP_FROM_DAEMON);
	req(t, FP_NOTIFY_REPLY, 5000, 9);
	set_s(t, "data", "cached");
	feed(t, FP_FROM_KERNEL);
	none(t);
	status_reply(t, 5000, 0);
	one_saying(t, "noreply", "NOTIFY_REPLY");
	/* one that is also a kernel request's unique leaves that request's reply alone */
	u = simple(t, FP_ACCESS, 1);
	req(t, FP_NOTIFY_REPLY, u, 9);
	feed(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	none(t);
}

static uint64_t interrupted(struct t *t, uint64_t *intr)
{
	uint64_t u = simple(t, FP_GETATTR, 1);
	req(t, FP_INTERRUPT, u | 1, 0);
	set_u(t, "unique", u);
	feed(t, FP_FROM_KERNEL);
	*intr = u | 1;
	return u;
}

static void test_interrupt_reply(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t iu, u = interrupted(t, &iu);
	/* the two answers the kernel acts on */
	status_reply(t, iu, -EAGAIN);
	none(t);
	status_reply(t, iu, -ENOSYS);
	none(t);
	/* the answer meant for the request itself */
	status_reply(t, iu, -EINTR);
	one_saying(t, "interrupt-reply", "EINTR");
	/* a body */
	rep(t, 0, iu, -EAGAIN, 0);
	size_t n = enc(t) + 8;
	patch(t, 0, 4, n);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "interrupt-reply", "8 bytes");
	status_reply(t, u, -EINTR);
	none(t);
	/* after the request was answered the kernel refuses it with ENOENT: a race, no more */
	status_reply(t, iu, -EAGAIN);
	none(t);
	/* an INTERRUPT that crossed the answer of its request */
	u = simple(t, FP_GETATTR, 1);
	status_reply(t, u, -EIO);
	req(t, FP_INTERRUPT, u | 1, 0);
	set_u(t, "unique", u);
	feed(t, FP_FROM_KERNEL);
	status_reply(t, u | 1, -EAGAIN);
	none(t);
}

static void test_bad_len(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = sized(t, FP_READ, 2, 4096);
	rep(t, FP_READ, u, 0, 0);
	set_s(t, "data", "hello");
	size_t n = enc(t);
	feed_raw(t, FP_FROM_DAEMON, n + 3);
	one_saying(t, "bad-len", "len 21");
	/* the kernel refused it: the request is still in flight */
	feed_raw(t, FP_FROM_DAEMON, n);
	none(t);

	/* fewer bytes than len: a short write live; in a capture cut by -s, nothing wrong */
	u = sized(t, FP_READ, 2, 4096);
	rep(t, FP_READ, u, 0, 0);
	char data[4096];
	memset(data, 'x', sizeof(data));
	assert_int_equal(fp_msg_set_bytes(&t->b, fp_msg_find(&t->b, "data"), data, sizeof(data)), 0);
	n = enc(t);
	feed_raw(t, FP_FROM_DAEMON, 100);
	one(t, "bad-len");
	fp_lint_set_flags(t->l, FP_LINT_SNAPPED);
	feed_raw(t, FP_FROM_DAEMON, 100);
	none(t);
	/* more bytes than len stay wrong */
	u = sized(t, FP_READ, 2, 4096);
	rep(t, FP_READ, u, 0, 0);
	n = enc(t);
	feed_raw(t, FP_FROM_DAEMON, n + 8);
	one(t, "bad-len");
	fp_lint_set_flags(t->l, 0);

	/* a request too */
	u = next_unique(t);
	req(t, FP_GETATTR, u, 1);
	n = enc(t);
	feed_raw(t, FP_FROM_KERNEL, n - 4);
	one(t, "bad-len");
	/* less than a header */
	feed_raw(t, FP_FROM_DAEMON, 10);
	one_saying(t, "bad-len", "shorter than the 16-byte header");
}

static void test_bad_error(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = simple(t, FP_ACCESS, 1);
	status_reply(t, u, 5);
	one_saying(t, "bad-error", "positive");
	status_reply(t, u, -600);
	one_saying(t, "bad-error", "-511");
	status_reply(t, u, -511);
	none(t);
	u = simple(t, FP_ACCESS, 1);
	status_reply(t, u, -1);
	none(t);
}

static void test_missing_body(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	static const uint32_t fixed[] = {FP_GETATTR, FP_STATFS, FP_OPEN, FP_WRITE};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint64_t u = simple(t, fixed[i], 1);
		status_reply(t, u, 0);
		one(t, "missing-body");
	}
	uint64_t u = entry_req(t, FP_LOOKUP, 1, "a");
	feed(t, FP_FROM_KERNEL);
	status_reply(t, u, 0);
	one_saying(t, "missing-body", "128-byte fuse_entry_out");
	/* data that may be empty: end of file, end of directory, an empty value */
	u = sized(t, FP_READ, 1, 4096);
	status_reply(t, u, 0);
	u = sized(t, FP_READDIR, 1, 4096);
	status_reply(t, u, 0);
	u = sized(t, FP_GETXATTR, 1, 64);
	status_reply(t, u, 0);
	u = simple(t, FP_READLINK, 1);
	status_reply(t, u, 0);
	/* ops whose reply is empty */
	u = simple(t, FP_ACCESS, 1);
	status_reply(t, u, 0);
	none(t);
	/* but size 0 asks GETXATTR for the length: fuse_getxattr_out is due */
	u = sized(t, FP_GETXATTR, 1, 0);
	status_reply(t, u, 0);
	one(t, "missing-body");
	/* and an INIT reply, which may be short, needs major and minor */
	t = restart(state);
	init_req(t, 7, 45);
	feed(t, FP_FROM_KERNEL);
	status_reply(t, 2, 0);
	one_saying(t, "missing-body", "at least 8 bytes of fuse_init_out");
}

static void test_bad_size(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	/* a 7.8 fuse_attr_out (96 bytes) on a 7.45 connection */
	const struct fp_conn old = {7, 8, UINT64_MAX};
	uint64_t u = simple(t, FP_GETATTR, 1);
	rep_at(t, FP_GETATTR, u, 0, 0, &old);
	set_u(t, "attr.mode", S_IFDIR | 0755);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-size", "96 bytes, 104 due at 7.45");
	u = simple(t, FP_GETATTR, 1);
	rep(t, FP_GETATTR, u, 0, 0);
	set_u(t, "attr.mode", S_IFDIR | 0755);
	feed(t, FP_FROM_DAEMON);
	none(t);
	/* a body where there is none */
	u = simple(t, FP_ACCESS, 1);
	rep(t, FP_GETATTR, u, 0, 0);
	set_u(t, "attr.mode", S_IFDIR | 0755);
	feed(t, FP_FROM_DAEMON);
	one(t, "bad-size");
	/* an error with a body */
	u = simple(t, FP_ACCESS, 1);
	rep(t, 0, u, -EACCES, 0);
	size_t n = enc(t) + 8;
	patch(t, 0, 4, n);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-size", "EACCES");
	/* IOCTL's fixed part is fuse_ioctl_out */
	u = simple(t, FP_IOCTL, 1);
	rep(t, 0, u, 0, 0);
	n = enc(t) + 8;
	patch(t, 0, 4, n);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-size", "at least 16");
}

/* The same 96-byte reply is right at 7.8. */
static void test_bad_size_old_minor(void **state)
{
	struct t *t = *state;
	do_init(t, 8);
	const struct fp_conn old = {7, 8, UINT64_MAX};
	uint64_t u = simple(t, FP_GETATTR, 1);
	rep_at(t, FP_GETATTR, u, 0, 0, &old);
	set_u(t, "attr.mode", S_IFDIR | 0755);
	assert_int_equal(enc(t), 16 + 96);
	feed(t, FP_FROM_DAEMON);
	none(t);
	u = simple(t, FP_GETATTR, 1);
	rep_at(t, FP_GETATTR, u, 0, 0, &FP_CONN_NEWEST);
	set_u(t, "attr.mode", S_IFDIR | 0755);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-size", "104 bytes, 96 due at 7.8");
}

static void test_init_size_and_major(void **state)
{
	struct t *t = *state;
	init_req(t, 7, 45);
	feed(t, FP_FROM_KERNEL);
	/* longer than fuse_init_out */
	rep(t, FP_INIT, 2, 0, 0);
	set_u(t, "major", 7);
	set_u(t, "minor", 45);
	size_t n = enc(t) + 8;
	patch(t, 0, 4, n);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-size", "at most 64");
	t = restart(state);

	/* a newer daemon must fall back to the kernel's major */
	init_req(t, 7, 45);
	feed(t, FP_FROM_KERNEL);
	rep(t, FP_INIT, 2, 0, 0);
	set_u(t, "major", 8);
	set_u(t, "minor", 0);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "init-major", "major 8");
	t = restart(state);

	/* an older one cannot be retried with: Linux knows only major 7 */
	init_req(t, 7, 45);
	feed(t, FP_FROM_KERNEL);
	rep(t, FP_INIT, 2, 0, 0);
	set_u(t, "major", 6);
	set_u(t, "minor", 9);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "init-major", "major 6");
	t = restart(state);

	/* a short reply of an old minor is accepted (out_argvar) */
	init_req(t, 7, 45);
	feed(t, FP_FROM_KERNEL);
	const struct fp_conn c22 = {7, 22, 0};
	rep_at(t, FP_INIT, 2, 0, 0, &c22);
	set_u(t, "major", 7);
	set_u(t, "minor", 22);
	n = enc(t);
	patch(t, 0, 4, 16 + 24);
	feed_raw(t, FP_FROM_DAEMON, 16 + 24);
	none(t);
	assert_int_equal(fp_session_conn(t->s)->minor, 22);
}

/* A kernel newer than 7 (none exists yet) could retry INIT with the daemon's older major. */
static void test_init_major_retry(void **state)
{
	struct t *t = *state;
	init_req(t, 8, 0);
	feed(t, FP_FROM_KERNEL);
	rep(t, FP_INIT, 2, 0, 0);
	set_u(t, "major", 7);
	set_u(t, "minor", 45);
	feed(t, FP_FROM_DAEMON);
	none(t);
}

static void test_bad_nodeid(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	/* LOOKUP: nodeid 0 is the negative entry, cached for entry_valid */
	lookup(t, 1, "missing", 0, 0);
	none(t);
	/* the root for a name */
	lookup(t, 1, "a", 1, S_IFDIR | 0755);
	one_saying(t, "bad-nodeid", "\"a\"");
	/* the root for "..", as an NFS export's lookup of a parent asks */
	lookup(t, 2, "..", 1, S_IFDIR | 0755);
	none(t);
	uint64_t u = entry_req(t, FP_LOOKUP, 2, "..");
	feed(t, FP_FROM_KERNEL);
	rep(t, FP_LOOKUP, u, 0, 0);
	fill_entry(t, t->b.body, 1, S_IFDIR | 0755);
	set_u(t, "generation", 5);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-nodeid", "generation 5");

	/* the creating ops: nodeid 0 and 1 are both refused */
	u = entry_req(t, FP_MKDIR, 1, "d");
	set_u(t, "mode", S_IFDIR | 0755);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_MKDIR, u, 0, S_IFDIR | 0755);
	one_saying(t, "bad-nodeid", "nodeid 0");
	u = entry_req(t, FP_CREATE, 1, "f");
	set_u(t, "mode", S_IFREG | 0644);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_CREATE, u, 1, S_IFREG | 0644);
	one_saying(t, "bad-nodeid", "the root");
	u = entry_req(t, FP_MKDIR, 1, "d");
	set_u(t, "mode", S_IFDIR | 0755);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_MKDIR, u, 6, S_IFDIR | 0755);
	u = entry_req(t, FP_CREATE, 1, "f");
	set_u(t, "mode", S_IFREG | 0644);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_CREATE, u, 7, S_IFREG | 0644);
	none(t);

	/* READDIRPLUS: nodeid 0 means no entry; the root is refused but for "." and ".." */
	u = sized(t, FP_READDIRPLUS, 1, 4096);
	const struct dent ok[] = {
		{".", 0, 1, 1, S_IFDIR | 0755},
		{"..", 0, 2, 1, S_IFDIR | 0755},
		{"x", 0, 3, 0, 0},
		{"y", 0, 4, 8, S_IFREG | 0644},
	};
	dir_reply(t, 1, u, ok, 4);
	feed(t, FP_FROM_DAEMON);
	none(t);
	u = sized(t, FP_READDIRPLUS, 1, 4096);
	const struct dent bad[] = {{"z", 0, 1, 1, S_IFDIR | 0755}};
	dir_reply(t, 1, u, bad, 1);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-nodeid", "READDIRPLUS entry 0");
}

static void test_bad_attr(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	getattr(t, 1, 0644, 0);
	one_saying(t, "bad-attr", "0644");
	getattr(t, 1, S_IFDIR | 0755, (uint64_t)INT64_MAX + 1);
	one_saying(t, "bad-attr", "INT64_MAX");
	getattr(t, 1, S_IFDIR | 0755, INT64_MAX);
	none(t);
	lookup(t, 1, "a", 5, 0170644);
	one(t, "bad-attr");
	lookup(t, 1, "a", 5, S_IFSOCK | 0644);
	none(t);
	/* a negative entry's attributes are not read */
	lookup(t, 1, "b", 0, 0);
	none(t);
	/* STATX: only with STATX_TYPE in the mask */
	uint64_t u = simple(t, FP_STATX, 1);
	rep(t, FP_STATX, u, 0, 0);
	set_u(t, "stat.mask", 0x1);
	set_u(t, "stat.mode", 0755);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-attr", "stat.mode");
	u = simple(t, FP_STATX, 1);
	rep(t, FP_STATX, u, 0, 0);
	set_u(t, "stat.mask", 0x800);
	set_u(t, "stat.mode", 0755);
	feed(t, FP_FROM_DAEMON);
	none(t);
	/* READDIRPLUS entries */
	u = sized(t, FP_READDIRPLUS, 1, 4096);
	const struct dent d[] = {{"p", 0, 1, 9, 0644}};
	dir_reply(t, 1, u, d, 1);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-attr", "READDIRPLUS entry 0");
}

static void test_wrong_type(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = entry_req(t, FP_MKDIR, 1, "d");
	set_u(t, "mode", S_IFDIR | 0755);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_MKDIR, u, 5, S_IFREG | 0644);
	one_saying(t, "wrong-type", "a directory was asked");
	u = entry_req(t, FP_SYMLINK, 1, "l");
	set_s(t, "target", "/etc");
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_SYMLINK, u, 5, S_IFDIR | 0777);
	one(t, "wrong-type");
	u = entry_req(t, FP_CREATE, 1, "f");
	set_u(t, "mode", S_IFREG | 0644);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_CREATE, u, 5, S_IFLNK | 0777);
	one(t, "wrong-type");
	u = entry_req(t, FP_MKNOD, 1, "p");
	set_u(t, "mode", S_IFIFO | 0644);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_MKNOD, u, 5, S_IFREG | 0644);
	one_saying(t, "wrong-type", "a fifo was asked");
	u = entry_req(t, FP_MKNOD, 1, "p");
	set_u(t, "mode", S_IFIFO | 0644);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_MKNOD, u, 5, S_IFIFO | 0644);
	none(t);

	/* the node's type, once looked up, does not change under GETATTR or LINK */
	lookup(t, 1, "dir", 6, S_IFDIR | 0755);
	getattr(t, 6, S_IFDIR | 0700, 0);
	none(t);
	getattr(t, 6, S_IFREG | 0700, 0);
	one_saying(t, "wrong-type", "its lookup said a directory");
	lookup(t, 1, "file", 7, S_IFREG | 0644);
	u = entry_req(t, FP_LINK, 1, "hard");
	set_u(t, "oldnodeid", 7);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_LINK, u, 7, S_IFDIR | 0755);
	one(t, "wrong-type");
	u = entry_req(t, FP_LINK, 1, "hard");
	set_u(t, "oldnodeid", 7);
	feed(t, FP_FROM_KERNEL);
	entry_reply(t, FP_LINK, u, 7, S_IFREG | 0644);
	none(t);
}

/* A READDIR reply with one record "abc" (a 32-byte record at byte 16), encoded into t->buf
 * for patching. Returns its length. */
static size_t one_dirent(struct t *t, uint64_t u)
{
	const struct dent d[] = {{"abc", 0, 1, 0, 0}};
	dir_reply(t, 0, u, d, 1);
	size_t n = enc(t);
	assert_int_equal(n, 16 + 32);
	return n;
}

static void test_bad_dirent(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = sized(t, FP_READDIR, 1, 4096);
	const struct dent ok[] = {{"a", 0, 1, 0, 0}, {"bcdefgh", 0, 2, 0, 0}, {"i", 0, 3, 0, 0}};
	dir_reply(t, 0, u, ok, 3);
	feed(t, FP_FROM_DAEMON);
	none(t);

	/* the last record without its padding: the kernel drops it */
	u = sized(t, FP_READDIR, 1, 4096);
	size_t n = one_dirent(t, u) - 5;
	patch(t, 0, 4, n);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-dirent", "not padded");
	/* namelen past the end */
	u = sized(t, FP_READDIR, 1, 4096);
	n = one_dirent(t, u);
	patch(t, 16 + 16, 4, 100);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-dirent", "past the end");
	/* namelen 0, over FUSE_NAME_MAX */
	u = sized(t, FP_READDIR, 1, 4096);
	n = one_dirent(t, u);
	patch(t, 16 + 16, 4, 0);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-dirent", "namelen 0");
	u = sized(t, FP_READDIR, 1, 8192);
	char big[1100];
	memset(big, 'n', sizeof(big));
	const struct dent longname[] = {{big, 1025, 1, 0, 0}};
	dir_reply(t, 0, u, longname, 1);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-dirent", "namelen 1025");
	u = sized(t, FP_READDIR, 1, 8192);
	const struct dent longest[] = {{big, 1024, 1, 0, 0}};
	dir_reply(t, 0, u, longest, 1);
	feed(t, FP_FROM_DAEMON);
	none(t);
	/* a name with '/', with NUL */
	u = sized(t, FP_READDIR, 1, 4096);
	const struct dent slash[] = {{"a/b", 0, 1, 0, 0}};
	dir_reply(t, 0, u, slash, 1);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-dirent", "'/'");
	u = sized(t, FP_READDIR, 1, 4096);
	const struct dent nul[] = {{"a\0b", 3, 1, 0, 0}};
	dir_reply(t, 0, u, nul, 1);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "bad-dirent", "a\\x00b");
	/* bytes after the last record, too few for another */
	u = sized(t, FP_READDIR, 1, 4096);
	n = one_dirent(t, u) + 16;
	patch(t, 0, 4, n);
	feed_raw(t, FP_FROM_DAEMON, n);
	one_saying(t, "bad-dirent", "16 bytes");
	/* READDIRPLUS records too */
	u = sized(t, FP_READDIRPLUS, 1, 4096);
	const struct dent plus[] = {{"q/r", 0, 1, 12, S_IFREG | 0644}};
	dir_reply(t, 1, u, plus, 1);
	feed(t, FP_FROM_DAEMON);
	one(t, "bad-dirent");
	/* a reply cut by a capture is not checked past what was kept */
	fp_lint_set_flags(t->l, FP_LINT_SNAPPED);
	u = sized(t, FP_READDIR, 1, 4096);
	dir_reply(t, 0, u, ok, 3);
	n = enc(t);
	feed_raw(t, FP_FROM_DAEMON, n - 12);
	none(t);
}

static void test_dirent_order(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	uint64_t u = sized(t, FP_READDIR, 1, 4096);
	const struct dent bad[] = {{"a", 0, 1, 0, 0}, {"b", 0, 3, 0, 0}, {"c", 0, 2, 0, 0}};
	dir_reply(t, 0, u, bad, 3);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "dirent-order", "off 2 after off 3");
	u = sized(t, FP_READDIR, 1, 4096);
	const struct dent same[] = {{"a", 0, 1, 0, 0}, {"b", 0, 1, 0, 0}};
	dir_reply(t, 0, u, same, 2);
	feed(t, FP_FROM_DAEMON);
	one(t, "dirent-order");
	u = sized(t, FP_READDIRPLUS, 1, 4096);
	const struct dent ok[] = {{"a", 0, 5, 20, S_IFREG | 0644}, {"b", 0, 9, 21, S_IFREG | 0644}};
	dir_reply(t, 1, u, ok, 2);
	feed(t, FP_FROM_DAEMON);
	none(t);
	/* each reply starts afresh: the next one may continue from any cookie */
	u = sized(t, FP_READDIR, 1, 4096);
	const struct dent next[] = {{"c", 0, 2, 0, 0}};
	dir_reply(t, 0, u, next, 1);
	feed(t, FP_FROM_DAEMON);
	none(t);
}

static void test_long_reply(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	char data[8192];
	memset(data, 'd', sizeof(data));
	uint64_t u = sized(t, FP_READ, 2, 4096);
	rep(t, FP_READ, u, 0, 0);
	assert_int_equal(fp_msg_set_bytes(&t->b, fp_msg_find(&t->b, "data"), data, 8192), 0);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "long-reply", "READ reply of 8192 bytes, 4096 asked");
	u = sized(t, FP_READ, 2, 4096);
	rep(t, FP_READ, u, 0, 0);
	assert_int_equal(fp_msg_set_bytes(&t->b, fp_msg_find(&t->b, "data"), data, 4096), 0);
	feed(t, FP_FROM_DAEMON);
	none(t);

	u = sized(t, FP_GETXATTR, 2, 4);
	rep(t, FP_GETXATTR, u, 0, 4);
	set_s(t, "value", "12345");
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "long-reply", "GETXATTR reply of 5 bytes, 4 asked");
	u = sized(t, FP_GETXATTR, 2, 4);
	rep(t, FP_GETXATTR, u, 0, 4);
	set_s(t, "value", "1234");
	feed(t, FP_FROM_DAEMON);
	none(t);
	u = sized(t, FP_LISTXATTR, 2, 8);
	rep(t, FP_LISTXATTR, u, 0, 8);
	assert_int_equal(fp_msg_set_bytes(&t->b, fp_msg_find(&t->b, "names"), "user.a\0user.b\0", 14),
			 0);
	feed(t, FP_FROM_DAEMON);
	one(t, "long-reply");
	/* size 0: the length needed, whatever it is */
	u = sized(t, FP_LISTXATTR, 2, 0);
	rep(t, FP_LISTXATTR, u, 0, 0);
	set_u(t, "size", 14);
	feed(t, FP_FROM_DAEMON);
	none(t);
	u = sized(t, FP_READDIR, 2, 32);
	const struct dent d[] = {{"a", 0, 1, 0, 0}, {"b", 0, 2, 0, 0}};
	dir_reply(t, 0, u, d, 2);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "long-reply", "64 bytes, 32 asked");
}

static void test_long_write(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	for (int over = 0; over < 2; over++) {
		uint64_t u = next_unique(t);
		req(t, FP_WRITE, u, 2);
		set_s(t, "data", "0123456789");
		feed(t, FP_FROM_KERNEL);
		rep(t, FP_WRITE, u, 0, 0);
		set_u(t, "size", over ? 20 : 10);
		feed(t, FP_FROM_DAEMON);
		if (over)
			one_saying(t, "long-write", "20 bytes written, 10 were sent");
		else
			none(t);
	}
	/* a short write is the daemon's right */
	uint64_t u = next_unique(t);
	req(t, FP_WRITE, u, 2);
	set_s(t, "data", "0123456789");
	feed(t, FP_FROM_KERNEL);
	rep(t, FP_WRITE, u, 0, 0);
	set_u(t, "size", 3);
	feed(t, FP_FROM_DAEMON);
	none(t);
}

static void test_forgotten_nodeid(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	lookup(t, 1, "a", 5, S_IFREG | 0644);
	lookup(t, 1, "a", 5, S_IFREG | 0644);
	forget(t, 5, 1);
	getattr(t, 5, S_IFREG | 0644, 0);
	none(t);
	forget(t, 5, 1);
	uint64_t fu = t->unique;
	none(t);
	uint64_t u = simple(t, FP_GETATTR, 5);
	char want[32];
	snprintf(want, sizeof(want), "#%llu", (unsigned long long)fu);
	one_saying(t, "forgotten-nodeid", want);
	status_reply(t, u, -ESTALE);
	none(t);
	/* an NFS file handle may name it: the kernel asks anew with LOOKUP "." */
	u = entry_req(t, FP_LOOKUP, 5, ".");
	feed(t, FP_FROM_KERNEL);
	none(t);
	status_reply(t, u, -ESTALE);
	u = entry_req(t, FP_LOOKUP, 5, "x");
	feed(t, FP_FROM_KERNEL);
	one(t, "forgotten-nodeid");
	status_reply(t, u, -ENOENT);
	/* a new lookup gives it back */
	lookup(t, 1, "a", 5, S_IFREG | 0644);
	getattr(t, 5, S_IFREG | 0644, 0);
	none(t);

	/* BATCH_FORGET, and a use in the body (RENAME's newdir) */
	lookup(t, 1, "d", 6, S_IFDIR | 0755);
	u = next_unique(t);
	req(t, FP_BATCH_FORGET, u, 0);
	long a = fp_msg_find(&t->b, "forgets");
	long e = fp_msg_append(&t->b, a, fp_session_conn(t->s));
	set_fu(t, e, "nodeid", 6);
	set_fu(t, e, "nlookup", 1);
	feed(t, FP_FROM_KERNEL);
	none(t);
	u = next_unique(t);
	req(t, FP_RENAME, u, 1);
	set_u(t, "newdir", 6);
	set_s(t, "oldname", "x");
	set_s(t, "newname", "y");
	feed(t, FP_FROM_KERNEL);
	one_saying(t, "forgotten-nodeid", "RENAME");
	status_reply(t, u, -ENOENT);

	/* a notification from the daemon */
	lookup(t, 1, "b", 7, S_IFREG | 0644);
	forget(t, 7, 1);
	assert_int_equal(fp_msg_build(&t->b, FP_NOTIFY, FP_NOTIFY_INVAL_INODE, fp_session_conn(t->s),
				      NULL), 0);
	set_u(t, "ino", 7);
	feed(t, FP_FROM_DAEMON);
	one_saying(t, "forgotten-nodeid", "NOTIFY_INVAL_INODE");
	assert_int_equal(fp_msg_build(&t->b, FP_NOTIFY, FP_NOTIFY_INVAL_INODE, fp_session_conn(t->s),
				      NULL), 0);
	set_u(t, "ino", 5);
	feed(t, FP_FROM_DAEMON);
	none(t);

	/* READDIRPLUS entries are lookups too */
	lookup(t, 1, "c", 8, S_IFREG | 0644);
	forget(t, 8, 1);
	u = sized(t, FP_READDIRPLUS, 1, 4096);
	const struct dent d[] = {{"c", 0, 1, 8, S_IFREG | 0644}, {"..", 0, 2, 8, S_IFDIR | 0755}};
	dir_reply(t, 1, u, d, 2);
	feed(t, FP_FROM_DAEMON);
	getattr(t, 8, S_IFREG | 0644, 0);
	none(t);
	/* one lookup from "c", none from "..": one FORGET takes it */
	forget(t, 8, 1);
	getattr(t, 8, S_IFREG | 0644, 0);
	one(t, "forgotten-nodeid");

	/* the root is never forgotten; nodeids never looked up are not followed */
	forget(t, 1, 1);
	getattr(t, 1, S_IFDIR | 0755, 0);
	getattr(t, 99, S_IFREG | 0644, 0);
	/* a FORGET of more than was counted: lookups from before, the count is unknown */
	lookup(t, 1, "e", 9, S_IFREG | 0644);
	forget(t, 9, 3);
	getattr(t, 9, S_IFREG | 0644, 0);
	none(t);
}

/* Forgotten nodeids are remembered FP_LINT_MAX_FORGOTTEN at a time: the oldest goes first. */
static void test_forgotten_bounded(void **state)
{
	struct t *t = *state;
	do_init(t, 45);
	for (uint64_t id = 2; id < 2 + FP_LINT_MAX_FORGOTTEN + 1; id++) {
		lookup(t, 1, "n", id, S_IFREG | 0644);
		forget(t, id, 1);
	}
	none(t);
	getattr(t, 2, S_IFREG | 0644, 0); /* dropped: no longer known */
	none(t);
	getattr(t, 3, S_IFREG | 0644, 0);
	one(t, "forgotten-nodeid");
	assert_int_equal(fp_session_pending(t->s), 0);
}

/* ------------------------------------------------------------------------------------ */

static const char *data_dir(void)
{
	const char *dir = getenv("FP_TESTDATA");
	return dir && *dir ? dir : FP_TESTDATA_DIR;
}

struct realctx {
	const char *file;
	size_t msg;
	unsigned n;
};

static void on_real_violation(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	struct realctx *c = ctx;
	print_error("%s: message %zu (unique %llu): %s: %s\n", c->file, c->msg,
		    (unsigned long long)m->h.unique, rule, text);
	c->n++;
}

/* Every recorded session of tests/data: real daemons and the real kernel break no rule. */
static void test_realdata_clean(void **state)
{
	(void)state;
	DIR *d = opendir(data_dir());
	assert_non_null(d);
	size_t files = 0, msgs = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (!((l > 4 && !strcmp(de->d_name + l - 4, ".hex")) ||
		      (l > 7 && !strcmp(de->d_name + l - 7, ".hex.gz"))))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", data_dir(), de->d_name);
		struct hexsession hs;
		if (hexsession_load(&hs, path) < 0)
			fail_msg("%s: %s", path, hs.error);
		struct fp_session *s = fp_session_new();
		struct fp_lint *lint = fp_lint_new();
		assert_non_null(s);
		assert_non_null(lint);
		struct fp_msg m;
		fp_msg_init(&m);
		struct realctx c = {de->d_name, 0, 0};
		for (size_t i = 0; i < hs.n; i++) {
			const struct hexmsg *x = &hs.msgs[i];
			assert_true(fp_session_feed(s, &m, x->from, x->buf, x->len, i) >= 0);
			c.msg = i;
			fp_lint_check(lint, &m, x->from, fp_session_conn(s), on_real_violation, &c);
		}
		print_message("    %s: %zu messages, %u violations\n", de->d_name, hs.n, c.n);
		assert_int_equal(c.n, 0);
		files++;
		msgs += hs.n;
		fp_msg_free(&m);
		fp_lint_free(lint);
		fp_session_free(s);
		hexsession_free(&hs);
	}
	closedir(d);
	assert_true(files >= 3);
	assert_true(msgs > 20000);
}

/* The passthrough_ll recording read through a lint that joins it mid-way (no INIT) gives
 * nothing either: replies to requests before the first one seen are not violations. */
static void test_realdata_midsession(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/passthrough_ll-workload.hex.gz", data_dir());
	struct hexsession hs;
	if (hexsession_load(&hs, path) < 0)
		fail_msg("%s: %s", path, hs.error);
	struct fp_session *s = fp_session_new();
	struct fp_lint *lint = fp_lint_new();
	assert_non_null(s);
	assert_non_null(lint);
	struct fp_msg m;
	fp_msg_init(&m);
	struct realctx c = {"passthrough_ll-workload.hex.gz (from the middle)", 0, 0};
	/* the negotiated version, as a capture that starts late would know it */
	for (size_t i = 0; i < 2; i++)
		assert_true(fp_session_feed(s, &m, hs.msgs[i].from, hs.msgs[i].buf, hs.msgs[i].len,
					    i) >= 0);
	struct fp_conn conn = *fp_session_conn(s);
	fp_session_free(s);
	s = fp_session_new();
	assert_non_null(s);
	fp_session_set_conn(s, &conn);
	/* start on a reply, so that some requests in flight are unknown */
	size_t start = hs.n / 2;
	while (hs.msgs[start].from != FP_FROM_DAEMON)
		start++;
	for (size_t i = start; i < hs.n; i++) {
		const struct hexmsg *x = &hs.msgs[i];
		assert_true(fp_session_feed(s, &m, x->from, x->buf, x->len, i) >= 0);
		c.msg = i;
		fp_lint_check(lint, &m, x->from, fp_session_conn(s), on_real_violation, &c);
	}
	assert_int_equal(c.n, 0);
	fp_msg_free(&m);
	fp_lint_free(lint);
	fp_session_free(s);
	hexsession_free(&hs);
}

struct tally {
	unsigned n, double_reply, forgotten;
};

static void on_tally(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	struct tally *t = ctx;
	(void)m;
	t->n++;
	if (!strcmp(rule, "double-reply"))
		t->double_reply++;
	else if (!strcmp(rule, "forgotten-nodeid"))
		t->forgotten++;
	else
		print_error("unexpected %s: %s\n", rule, text);
}

/* Lookups per nodeid, as the kernel takes them from entry replies and READDIRPLUS. */
struct counts {
	uint64_t id[4096], n[4096];
	size_t len;
};

static uint64_t *count_of(struct counts *c, uint64_t id)
{
	for (size_t j = 0; j < c->len; j++)
		if (c->id[j] == id)
			return &c->n[j];
	return NULL;
}

static void count_ref(struct counts *c, uint64_t id)
{
	if (id <= 1)
		return;
	uint64_t *n = count_of(c, id);
	if (!n) {
		assert_true(c->len < 4096);
		c->id[c->len] = id;
		n = &c->n[c->len++];
		*n = 0;
	}
	(*n)++;
}

/* The clean result above is not for want of looking: the passthrough_ll recording with every
 * reply written twice, and a GETATTR of each FORGET's nodeid right after it, gives one
 * double-reply per reply and forgotten-nodeid exactly where the nodeid has no lookup left. */
static void test_realdata_faults_found(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/passthrough_ll-workload.hex.gz", data_dir());
	struct hexsession hs;
	if (hexsession_load(&hs, path) < 0)
		fail_msg("%s: %s", path, hs.error);
	struct fp_session *s = fp_session_new();
	struct fp_lint *lint = fp_lint_new();
	assert_non_null(s);
	assert_non_null(lint);
	struct fp_msg m;
	fp_msg_init(&m);
	struct tally t = {0};
	unsigned replies = 0, forgets = 0, zero = 0;
	/* GETATTR: fuse_in_header + fuse_getattr_in, uniques far above the kernel's */
	uint8_t ga[56] = {0};
	uint64_t gu = UINT64_C(1) << 60;
	/* lookups per nodeid, counted here independently of the lint */
	struct counts c = {0};
	for (size_t i = 0; i < hs.n; i++) {
		const struct hexmsg *x = &hs.msgs[i];
		assert_true(fp_session_feed(s, &m, x->from, x->buf, x->len, i) >= 0);
		fp_lint_check(lint, &m, x->from, fp_session_conn(s), on_tally, &t);
		if (m.dir == FP_REPLY && !m.h.error && m.op && (m.op->flags & FP_OP_ENTRY)) {
			long k = fp_msg_find(&m, "nodeid");
			count_ref(&c, m.v[k >= 0 ? k : fp_msg_find(&m, "entry.nodeid")].u);
		}
		if (m.dir == FP_REPLY && !m.h.error && m.opcode == FP_READDIRPLUS) {
			long a = fp_msg_find(&m, "entries"), e;
			for (unsigned k = 0; (e = fp_msg_child(&m, a, k)) >= 0; k++) {
				long nm = fp_msg_field(&m, fp_msg_field(&m, e, "dirent"), "name");
				long id = fp_msg_field(&m, fp_msg_field(&m, e, "entry_out"), "nodeid");
				assert_true(nm >= 0 && id >= 0);
				const struct fp_val *v = &m.v[nm];
				if (!(v->len == 1 && v->p[0] == '.') &&
				    !(v->len == 2 && !memcmp(v->p, "..", 2)))
					count_ref(&c, m.v[id].u);
			}
		}
		if (x->from == FP_FROM_DAEMON && m.h.unique) {
			/* the same reply again */
			unsigned before = t.double_reply;
			assert_true(fp_session_feed(s, &m, x->from, x->buf, x->len, i) >= 0);
			assert_int_equal(
				fp_lint_check(lint, &m, x->from, fp_session_conn(s), on_tally, &t), 1);
			assert_int_equal(t.double_reply, before + 1);
			replies++;
		}
		if (x->from == FP_FROM_KERNEL && m.opcode == FP_FORGET) {
			uint64_t nodeid = m.h.nodeid, nl = m.v[fp_msg_find(&m, "nlookup")].u;
			uint64_t *left = count_of(&c, nodeid);
			assert_non_null(left);
			assert_true(*left >= nl);
			*left -= nl;
			zero += *left == 0;
			forgets++;
			gu += 2;
			fp_store_le(ga, 4, sizeof(ga));
			fp_store_le(ga + 4, 4, FP_GETATTR);
			fp_store_le(ga + 8, 8, gu);
			fp_store_le(ga + 16, 8, nodeid);
			unsigned before = t.forgotten;
			assert_true(fp_session_feed(s, &m, FP_FROM_KERNEL, ga, sizeof(ga), i) >= 0);
			fp_lint_check(lint, &m, FP_FROM_KERNEL, fp_session_conn(s), on_tally, &t);
			assert_int_equal(t.forgotten - before, *left == 0);
		}
	}
	print_message("    %u replies written twice, %u FORGETs (%u to no lookup left)\n", replies,
		      forgets, zero);
	assert_true(replies > 10000);
	assert_true(zero > 0);
	assert_int_equal(t.double_reply, replies);
	assert_int_equal(t.forgotten, zero);
	assert_int_equal(t.n, replies + zero);
	fp_msg_free(&m);
	fp_lint_free(lint);
	fp_session_free(s);
	hexsession_free(&hs);
}

struct robust {
	unsigned n;
};

static void on_robust(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	struct robust *r = ctx;
	(void)m;
	int known = 0;
	for (const struct fp_lint_rule *x = fp_lint_rules; x->id; x++)
		known |= !strcmp(x->id, rule);
	assert_true(known);
	for (const char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			fail_msg("%s: byte 0x%02x in \"%s\"", rule, (unsigned char)*c, text);
	r->n++;
}

/* Damaged input: the passthrough_ll recording with random bytes changed in one message in
 * twenty (fixed seed), some cut short or made longer. The lint reads only what is there
 * (the sanitizer build checks that), reports each violation once through the callback, and
 * its texts stay printable whatever the bytes. */
static void test_damaged_realdata(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/passthrough_ll-workload.hex.gz", data_dir());
	struct hexsession hs;
	if (hexsession_load(&hs, path) < 0)
		fail_msg("%s: %s", path, hs.error);
	uint64_t seed = 0x5eed;
	unsigned total = 0;
	uint8_t *buf = malloc(1 << 21);
	assert_non_null(buf);
	for (int round = 0; round < 3; round++) {
		struct fp_session *s = fp_session_new();
		struct fp_lint *lint = fp_lint_new();
		assert_non_null(s);
		assert_non_null(lint);
		fp_lint_set_flags(lint, round == 2 ? FP_LINT_SNAPPED : 0);
		struct fp_msg m;
		fp_msg_init(&m);
		struct robust r = {0};
		for (size_t i = 0; i < hs.n; i++) {
			const struct hexmsg *x = &hs.msgs[i];
			size_t len = x->len < (1 << 21) - 64 ? x->len : (1 << 21) - 64;
			memcpy(buf, x->buf, len);
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			if ((seed >> 33) % 20 == 0) {
				for (int k = 0; k < 4; k++) {
					seed = seed * 6364136223846793005u + 1442695040888963407u;
					buf[(seed >> 33) % len] = (uint8_t)(seed >> 24);
				}
				seed = seed * 6364136223846793005u + 1442695040888963407u;
				if ((seed >> 33) % 4 == 0)
					len = (seed >> 40) % (len + 1);
				else if ((seed >> 33) % 4 == 1)
					len += (seed >> 40) % 64;
			}
			assert_true(fp_session_feed(s, &m, x->from, buf, len, i) >= 0);
			unsigned before = r.n;
			unsigned n = fp_lint_check(lint, &m, x->from, fp_session_conn(s), on_robust, &r);
			assert_int_equal(n, r.n - before);
		}
		total += r.n;
		fp_msg_free(&m);
		fp_lint_free(lint);
		fp_session_free(s);
	}
	print_message("    %u violations in 3 damaged replays\n", total);
	assert_true(total > 100);
	free(buf);
	hexsession_free(&hs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test_setup_teardown(test_unknown_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_unique_midsession, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noreply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_size_old_minor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_size_and_major, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_major_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_nodeid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_attr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_dirent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirent_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forgotten_nodeid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forgotten_bounded, setup, teardown),
		cmocka_unit_test(test_realdata_clean),
		cmocka_unit_test(test_realdata_midsession),
		cmocka_unit_test(test_realdata_faults_found),
		cmocka_unit_test(test_damaged_realdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
