/* The recorded sessions of tests/data fed through a session: every message decodes cleanly,
 * pairs, links and has its path, re-encodes to the same bytes, and the message counts per
 * opcode are the ones the recordings hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuseproto/abi.h"
#include "fuseproto/format.h"
#include "fuseproto/msg.h"
#include "fuseproto/session.h"
#include "hexsession.h"
#include "msgsample.h"

#define NCODES (FP_OPCODE_MAX + 1)

/* What one pass over a recording found. */
struct tally {
	size_t n, k2d, d2k;
	size_t req[NCODES];    /* requests by opcode */
	size_t rep[NCODES];    /* replies by the opcode they answer */
	size_t ntf[FP_NOTIFY_CODE_LAST + 1];
	size_t with_nodeid, path_unknown, path_unknown_forget;
	size_t notify_replies, notify_replies_linked;
	size_t pending_end;
	uint32_t minor;        /* negotiated */
};

static const char *data_path(const char *name, char *buf, size_t n)
{
	const char *dir = getenv("FP_TESTDATA");
	snprintf(buf, n, "%s/%s", dir && *dir ? dir : FP_TESTDATA_DIR, name);
	return buf;
}

/* Every byte of a formatted line is printable ASCII: nothing from the wire can reach a
 * terminal raw. */
static void assert_printable(const struct fp_sbuf *b, size_t msg)
{
	assert_false(b->oom);
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->s[i] < 0x20 || (unsigned char)b->s[i] > 0x7e)
			fail_msg("message %zu: byte 0x%02x at %zu of \"%s\"", msg,
				 (unsigned char)b->s[i], i, b->s);
}

static void run(const char *name, struct tally *t)
{
	char path[4096];
	struct hexsession hs;
	if (hexsession_load(&hs, data_path(name, path, sizeof(path))) < 0)
		fail_msg("%s: %s", path, hs.error);
	memset(t, 0, sizeof(*t));
	struct fp_session *s = fp_session_new();
	assert_non_null(s);
	struct fp_msg m;
	fp_msg_init(&m);
	struct fp_sbuf text = {0};
	uint8_t *out = NULL;
	size_t outcap = 0;

	for (size_t i = 0; i < hs.n; i++) {
		const struct hexmsg *x = &hs.msgs[i];
		int r = fp_session_feed(s, &m, x->from, x->buf, x->len, (uint64_t)i * 1000);
		assert_true(r >= 0);
		if (m.status != FP_OK)
			fail_msg("%s: message %zu (%s, %zu bytes): %s at byte %u: %s", name, i,
				 x->from == FP_FROM_KERNEL ? "K>D" : "D>K", x->len,
				 m.status == FP_TRUNCATED ? "truncated" : "invalid", m.bad_off, m.reason);
		t->n++;
		if (x->from == FP_FROM_KERNEL) {
			t->k2d++;
			assert_int_equal(m.dir, FP_REQUEST);
			assert_non_null(m.op);
			assert_true(m.opcode < NCODES);
			t->req[m.opcode]++;
			if (m.h.nodeid) {
				t->with_nodeid++;
				if (!m.path_known) {
					t->path_unknown++;
					t->path_unknown_forget += m.opcode == FP_FORGET;
					print_message("%s: message %zu: %s #%llu nodeid=%llu: path unknown\n",
						      name, i, m.op->name, (unsigned long long)m.h.unique,
						      (unsigned long long)m.h.nodeid);
				}
			}
			if (m.opcode == FP_NOTIFY_REPLY) {
				t->notify_replies++;
				t->notify_replies_linked += m.linked != 0;
				assert_int_equal(m.linked, 1);
				assert_int_equal(m.link, m.h.unique);
			}
		} else {
			t->d2k++;
			if (m.dir == FP_NOTIFY) {
				assert_non_null(m.op);
				assert_true(m.opcode <= FP_NOTIFY_CODE_LAST);
				t->ntf[m.opcode]++;
				assert_int_equal(m.latency_ns, -1);
			} else {
				assert_int_equal(m.dir, FP_REPLY);
				if (!m.op || m.latency_ns < 0)
					fail_msg("%s: message %zu: reply #%llu not paired", name, i,
						 (unsigned long long)m.h.unique);
				assert_true(m.opcode < NCODES);
				t->rep[m.opcode]++;
			}
		}

		/* encode(decode(bytes)) == bytes, as decoded and with every length recomputed */
		if (outcap < x->len + 16) {
			outcap = x->len + 16;
			out = realloc(out, outcap);
			assert_non_null(out);
		}
		char why[160];
		if (msgsample_reencode(&m, x->buf, x->len, out, why, sizeof(why)))
			fail_msg("%s: message %zu: %s", name, i, why);

		fp_sbuf_clear(&text);
		fp_format_text(&text, &m, 0);
		assert_printable(&text, i);
		fp_sbuf_clear(&text);
		fp_format_text(&text, &m, FP_FMT_VERBOSE);
		assert_printable(&text, i);
	}
	t->pending_end = fp_session_pending(s);
	t->minor = fp_session_conn(s)->minor;
	print_message("%s: %zu messages (%zu K>D, %zu D>K); %zu requests with a nodeid, %zu of them "
		      "without a known path (%zu FORGETs); %zu NOTIFY_REPLY, %zu linked; %zu pending "
		      "at the end\n",
		      name, t->n, t->k2d, t->d2k, t->with_nodeid, t->path_unknown,
		      t->path_unknown_forget, t->notify_replies, t->notify_replies_linked,
		      t->pending_end);
	free(out);
	fp_sbuf_free(&text);
	fp_msg_free(&m);
	fp_session_free(s);
	hexsession_free(&hs);
}

/* Every request that expects a reply got exactly one. */
static void assert_all_answered(const struct tally *t)
{
	for (unsigned op = 1; op < NCODES; op++) {
		const struct fp_op *row = fp_op_get(op);
		size_t want = row && (row->flags & FP_OP_NOREPLY) ? 0 : t->req[op];
		if (t->rep[op] != want)
			fail_msg("%s: %zu requests, %zu replies", row ? row->name : "?", t->req[op],
				 t->rep[op]);
	}
}

static void test_hello_ll(void **state)
{
	(void)state;
	struct tally t;
	run("hello_ll.hex", &t);
	assert_int_equal(t.n, 26);
	assert_int_equal(t.k2d, 13);
	assert_int_equal(t.d2k, 13);
	assert_int_equal(t.minor, 31);
	assert_int_equal(t.req[FP_INIT], 1);
	assert_int_equal(t.req[FP_LOOKUP], 2); /* "hello", then the missing name */
	assert_int_equal(t.req[FP_READDIR], 2);
	assert_int_equal(t.req[FP_OPEN], 1);
	assert_int_equal(t.req[FP_READ], 1);
	assert_int_equal(t.req[FP_FLUSH], 1);
	assert_int_equal(t.req[FP_RELEASE], 1);
	assert_int_equal(t.req[FP_GETXATTR], 1);
	assert_all_answered(&t);
	assert_int_equal(t.with_nodeid, 12);
	assert_int_equal(t.path_unknown, 0);
	assert_int_equal(t.pending_end, 0);
}

static void test_notify_store_retrieve(void **state)
{
	(void)state;
	struct tally t;
	run("notify_store_retrieve.hex", &t);
	/* shared/testdata/README.md says 47; the file holds 51 (our copy says so) */
	assert_int_equal(t.n, 51);
	assert_int_equal(t.k2d, 20);
	assert_int_equal(t.d2k, 31);
	assert_int_equal(t.minor, 31);
	assert_int_equal(t.ntf[FP_NOTIFY_STORE], 7);
	assert_int_equal(t.ntf[FP_NOTIFY_RETRIEVE], 7);
	/* the last four RETRIEVEs got no NOTIFY_REPLY before the unmount: three, each
	 * linked to its RETRIEVE */
	assert_int_equal(t.req[FP_NOTIFY_REPLY], 3);
	assert_int_equal(t.notify_replies_linked, 3);
	assert_int_equal(t.req[FP_OPEN], 3);
	assert_int_equal(t.req[FP_RELEASE], 3);
	assert_all_answered(&t);
	assert_int_equal(t.path_unknown, 0);
	assert_int_equal(t.pending_end, 0);
}

static void test_passthrough_ll(void **state)
{
	(void)state;
	struct tally t;
	run("passthrough_ll-workload.hex.gz", &t);
	assert_int_equal(t.k2d, 10141);
	assert_int_equal(t.d2k, 10139);
	assert_int_equal(t.minor, 31);
	assert_int_equal(t.req[FP_INIT], 1);
	assert_int_equal(t.req[FP_CREATE], 2004); /* 2,000 creates and a few more */
	assert_int_equal(t.req[FP_LOOKUP], 2015);
	assert_int_equal(t.req[FP_GETATTR], 2019);
	assert_int_equal(t.req[FP_FLUSH], 2013);
	assert_int_equal(t.req[FP_RELEASE], 2012);
	assert_int_equal(t.req[FP_READDIRPLUS], 4);
	assert_int_equal(t.req[FP_MKDIR], 3);
	assert_int_equal(t.req[FP_RMDIR], 2);
	assert_int_equal(t.req[FP_RENAME], 1);
	assert_int_equal(t.req[FP_SYMLINK], 1);
	assert_int_equal(t.req[FP_LINK], 1);
	assert_int_equal(t.req[FP_SETXATTR], 1);
	assert_int_equal(t.req[FP_GETXATTR], 1);
	assert_int_equal(t.req[FP_LISTXATTR], 1);
	assert_int_equal(t.req[FP_REMOVEXATTR], 1);
	assert_int_equal(t.req[FP_WRITE], 6);
	assert_int_equal(t.req[FP_READ], 13);
	assert_int_equal(t.req[FP_SETLK], 1);
	assert_int_equal(t.req[FP_SETLKW], 1);
	assert_int_equal(t.req[FP_FORGET], 2);
	assert_int_equal(t.req[FP_BATCH_FORGET], 0);
	assert_all_answered(&t);
	/* The two FORGETs are for /w/d/x and /w/d, forgotten after UNLINK and RMDIR took
	 * their names: no path is right for them. Every other request has its path. */
	assert_int_equal(t.path_unknown, 2);
	assert_int_equal(t.path_unknown_forget, 2);
	assert_int_equal(t.with_nodeid, 10141 - 1 /* INIT */);
	assert_int_equal(t.pending_end, 0);
}

/* fp_encode into a buffer shorter than the message: the full length is returned, the bytes
 * that fit are the message's first bytes, and nothing past the buffer is written. */
static void short_buffers(const char *name, size_t *checked, size_t *wrong)
{
	char path[4096];
	struct hexsession hs;
	if (hexsession_load(&hs, data_path(name, path, sizeof(path))) < 0)
		fail_msg("%s: %s", path, hs.error);
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	uint8_t *out = NULL;
	size_t outcap = 0;
	for (size_t i = 0; i < hs.n; i++) {
		const struct hexmsg *x = &hs.msgs[i];
		assert_int_equal(fp_session_feed(s, &m, x->from, x->buf, x->len, i), FP_OK);
		if (outcap < x->len + 64) {
			outcap = x->len + 64;
			out = realloc(out, outcap);
			assert_non_null(out);
		}
		size_t caps[] = {6, x->len / 2, x->len - 1};
		int bad = 0;
		for (unsigned k = 0; k < 3; k++) {
			size_t cap = caps[k];
			memset(out, 0xa5, cap + 64);
			assert_int_equal(fp_encode(&m, out, cap, 0), (long)x->len);
			for (size_t j = cap; j < cap + 64; j++)
				if (out[j] != 0xa5)
					fail_msg("%s: message %zu: byte %zu written past a %zu-byte buffer", name,
						 i, j, cap);
			if (memcmp(out, x->buf, cap)) {
				size_t j = 0;
				while (out[j] == x->buf[j])
					j++;
				if (!bad && *wrong < 3)
					print_message("%s: message %zu (%s, %zu bytes) into %zu bytes: byte %zu "
						      "not written\n",
						      name, i, m.op ? m.op->name : "?", x->len, cap, j);
				bad = 1;
			}
		}
		*checked += 1;
		*wrong += bad;
	}
	free(out);
	fp_msg_free(&m);
	fp_session_free(s);
	hexsession_free(&hs);
}

static void test_encode_short_buffer(void **state)
{
	(void)state;
	size_t checked = 0, wrong = 0;
	short_buffers("hello_ll.hex", &checked, &wrong);
	short_buffers("notify_store_retrieve.hex", &checked, &wrong);
	if (wrong)
		fail_msg("%zu of %zu messages: a short buffer does not get the message's first bytes",
			 wrong, checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_ll),
		cmocka_unit_test(test_notify_store_retrieve),
		cmocka_unit_test(test_passthrough_ll),
		cmocka_unit_test(test_encode_short_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
