/* Text and JSON rendering: golden lines for requests, replies, errors, escaped names,
 * truncated and invalid messages, verbosity and long arrays, and a strict JSON and UTF-8
 * check of every JSON object produced. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuseproto/abi.h"
#include "fuseproto/format.h"
#include "fuseproto/msg.h"
#include "fuseproto/session.h"

#include "jsoncheck.h"

/* NULL when s[0, n) is one valid JSON object (strict: UTF-8, unique keys), or what is
 * wrong. */
static const char *json_error(const char *s, size_t n)
{
	return jsoncheck_error(s, n, JSONCHECK_STRICT | JSONCHECK_OBJECT, NULL);
}

/* ---- building and decoding messages ----------------------------------------------- */

static struct fp_sbuf out;

static void check_json(const struct fp_msg *m, unsigned flags)
{
	fp_sbuf_clear(&out);
	fp_format_json(&out, m, flags);
	assert_false(out.oom);
	const char *e = json_error(out.s, out.len);
	if (e)
		fail_msg("invalid JSON (%s): %s", e, out.s);
}

/* The text line for m, checked to be printable ASCII; the JSON forms are checked too. */
static const char *text(const struct fp_msg *m, unsigned flags)
{
	check_json(m, 0);
	check_json(m, FP_FMT_VERBOSE);
	fp_sbuf_clear(&out);
	fp_format_text(&out, m, flags);
	assert_false(out.oom);
	for (size_t i = 0; i < out.len; i++)
		if ((unsigned char)out.s[i] < 0x20 || (unsigned char)out.s[i] > 0x7e)
			fail_msg("byte 0x%02x in the text line: %s", (unsigned char)out.s[i], out.s);
	return out.s;
}

static const char *json(const struct fp_msg *m, unsigned flags)
{
	check_json(m, flags);
	return out.s;
}

static void set_u(struct fp_msg *b, const char *path, uint64_t v)
{
	long i = fp_msg_find(b, path);
	if (i < 0)
		fail_msg("no field %s", path);
	assert_int_equal(fp_msg_set_u64(b, i, v), 0);
}

static void set_b(struct fp_msg *b, const char *path, const void *p, size_t n)
{
	long i = fp_msg_find(b, path);
	if (i < 0)
		fail_msg("no field %s", path);
	assert_int_equal(fp_msg_set_bytes(b, i, p, n), 0);
}

static void set_s(struct fp_msg *b, const char *path, const char *s)
{
	set_b(b, path, s, strlen(s));
}

static void mk_req(struct fp_msg *b, uint32_t opcode, uint64_t unique, uint64_t nodeid)
{
	assert_int_equal(fp_msg_build(b, FP_REQUEST, opcode, NULL, NULL), 0);
	set_u(b, "header.unique", unique);
	set_u(b, "header.nodeid", nodeid);
	set_u(b, "header.uid", 1000);
	set_u(b, "header.gid", 1000);
	set_u(b, "header.pid", 4242);
}

static void mk_rep(struct fp_msg *b, uint32_t opcode, uint64_t unique, int32_t error)
{
	struct fp_reqinfo ri = {opcode, 0};
	assert_int_equal(fp_msg_build(b, FP_REPLY, error ? 0 : opcode, NULL, &ri), 0);
	set_u(b, "header.unique", unique);
	set_u(b, "header.error", (uint64_t)(int64_t)error);
}

/* Encode b (lengths fixed up) into buf; returns the length. */
static size_t enc(struct fp_msg *b, uint8_t *buf, size_t cap)
{
	long n = fp_encode(b, buf, cap, FP_ENC_FIXUP);
	assert_true(n > 0 && (size_t)n <= cap);
	return (size_t)n;
}

/* Build-encode-decode with fp_decode alone (no session: no path, no latency). */
static int dec(struct fp_msg *m, const uint8_t *buf, size_t n, enum fp_origin from,
	       const struct fp_reqinfo *ri)
{
	int r = fp_decode(m, buf, n, from, NULL, ri);
	assert_true(r >= 0);
	return r;
}

/* ---- tests --------------------------------------------------------------------------- */

static void entry_attr(struct fp_msg *b)
{
	set_u(b, "nodeid", 2);
	set_u(b, "entry_valid", 1);
	set_u(b, "attr_valid", 1);
	set_u(b, "attr.ino", 2);
	set_u(b, "attr.size", 3);
	set_u(b, "attr.blocks", 1);
	set_u(b, "attr.atime", 1700000000);
	set_u(b, "attr.mtime", 1700000000);
	set_u(b, "attr.ctime", 1700000000);
	set_u(b, "attr.mode", 0100644);
	set_u(b, "attr.nlink", 1);
	set_u(b, "attr.uid", 1000);
	set_u(b, "attr.gid", 1000);
	set_u(b, "attr.blksize", 4096);
}

static void test_lookup_request_and_reply(void **state)
{
	(void)state;
	struct fp_session *s = fp_session_new();
	struct fp_msg b, m;
	fp_msg_init(&b);
	fp_msg_init(&m);
	uint8_t rq[256], rp[256];

	mk_req(&b, FP_LOOKUP, 12, 1);
	set_s(&b, "name", "a.txt");
	size_t n = enc(&b, rq, sizeof(rq));
	assert_int_equal(n, 46);
	assert_int_equal(fp_session_feed(s, &m, FP_FROM_KERNEL, rq, n, UINT64_C(5000000000)), FP_OK);
	assert_string_equal(text(&m, 0), "LOOKUP #12 nodeid=1 \"/\" name=\"a.txt\"");
	assert_string_equal(text(&m, FP_FMT_VERBOSE),
			    "LOOKUP #12 nodeid=1 \"/\" uid=1000 gid=1000 pid=4242 total_extlen=0 "
			    "name=\"a.txt\"");
	assert_string_equal(text(&m, FP_FMT_TIME), "00:00:05.000000 LOOKUP #12 nodeid=1 \"/\" name=\"a.txt\"");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":5.000000000,\"dir\":\"request\",\"unique\":12,\"op\":\"LOOKUP\","
			    "\"len\":46,\"opcode\":1,\"nodeid\":1,\"uid\":1000,\"gid\":1000,\"pid\":4242,"
			    "\"path\":\"/\",\"args\":{\"name\":\"a.txt\"}}");
	/* -x: the 46 bytes, tcpdump -x style, and as one hex string in JSON */
	fp_sbuf_clear(&out);
	fp_format_text(&out, &m, FP_FMT_HEX);
	assert_string_equal(out.s,
			    "LOOKUP #12 nodeid=1 \"/\" name=\"a.txt\""
			    "\n\t0x0000:  2e00 0000 0100 0000 0c00 0000 0000 0000"
			    "\n\t0x0010:  0100 0000 0000 0000 e803 0000 e803 0000"
			    "\n\t0x0020:  9210 0000 0000 0000 612e 7478 7400");
	assert_non_null(strstr(json(&m, FP_FMT_HEX),
				",\"raw\":\"2e000000010000000c00000000000000010000000000000"
				"0e8030000e80300009210000000000000612e74787400\"}"));

	mk_rep(&b, FP_LOOKUP, 12, 0);
	entry_attr(&b);
	n = enc(&b, rp, sizeof(rp));
	assert_int_equal(n, 16 + 128);
	/* 21.4 us later: whole microseconds are shown */
	assert_int_equal(fp_session_feed(s, &m, FP_FROM_DAEMON, rp, n, UINT64_C(5000021400)), FP_OK);
	assert_string_equal(text(&m, 0),
			    "#12 LOOKUP = 0 {nodeid=2 attr={ino=2 size=3 atime=1700000000 "
			    "mtime=1700000000 ctime=1700000000 mode=0100644 nlink=1 uid=1000 gid=1000}} "
			    "21us");
	assert_string_equal(text(&m, FP_FMT_VERBOSE),
			    "#12 LOOKUP = 0 {nodeid=2 generation=0 entry_valid=1 attr_valid=1 "
			    "entry_valid_nsec=0 attr_valid_nsec=0 attr={ino=2 size=3 blocks=1 "
			    "atime=1700000000 mtime=1700000000 ctime=1700000000 atimensec=0 mtimensec=0 "
			    "ctimensec=0 mode=0100644 nlink=1 uid=1000 gid=1000 rdev=0x0 blksize=4096 "
			    "flags=0}} 21us");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":5.000021400,\"dir\":\"reply\",\"unique\":12,\"op\":\"LOOKUP\","
			    "\"len\":144,\"error\":0,\"latency_us\":21,\"path\":\"/\",\"result\":{"
			    "\"nodeid\":2,\"generation\":0,\"entry_valid\":1,\"attr_valid\":1,"
			    "\"entry_valid_nsec\":0,\"attr_valid_nsec\":0,\"attr\":{\"ino\":2,\"size\":3,"
			    "\"blocks\":1,\"atime\":1700000000,\"mtime\":1700000000,\"ctime\":1700000000,"
			    "\"atimensec\":0,\"mtimensec\":0,\"ctimensec\":0,\"mode\":33188,\"nlink\":1,"
			    "\"uid\":1000,\"gid\":1000,\"rdev\":0,\"blksize\":4096,\"flags\":0}}}");

	/* the same reply without a session: no latency, and the op is not known */
	assert_int_equal(dec(&m, rp, n, FP_FROM_DAEMON, NULL), FP_OK);
	assert_string_equal(text(&m, 0), "#12 ? = 0 {data=<128 bytes \"\\x02\\x00\\x00\\x00\\x00\\x00"
					 "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"...>}");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"reply\",\"unique\":12,\"op\":null,\"len\":144,"
			    "\"error\":0,\"result\":{\"data\":{\"len\":128,\"hex\":\""
			    "0200000000000000000000000000000001000000000000000100000000000000"
			    "0000000000000000020000000000000003000000000000000100000000000000"
			    "\"}}}");

	/* the error reply */
	mk_req(&b, FP_LOOKUP, 14, 1);
	set_s(&b, "name", "nope");
	n = enc(&b, rq, sizeof(rq));
	assert_int_equal(fp_session_feed(s, &m, FP_FROM_KERNEL, rq, n, UINT64_C(6000000000)), FP_OK);
	mk_rep(&b, FP_LOOKUP, 14, -2);
	n = enc(&b, rp, sizeof(rp));
	assert_int_equal(n, 16);
	assert_int_equal(fp_session_feed(s, &m, FP_FROM_DAEMON, rp, n, UINT64_C(6000008900)), FP_OK);
	assert_string_equal(text(&m, 0), "#14 LOOKUP = -2 ENOENT 8us");
	assert_string_equal(text(&m, FP_FMT_VERBOSE), "#14 LOOKUP = -2 ENOENT 8us");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":6.000008900,\"dir\":\"reply\",\"unique\":14,\"op\":\"LOOKUP\","
			    "\"len\":16,\"error\":-2,\"errno\":\"ENOENT\",\"latency_us\":8,\"path\":\"/\"}");

	/* an errno without a name */
	mk_req(&b, FP_GETATTR, 16, 1);
	n = enc(&b, rq, sizeof(rq));
	assert_int_equal(fp_session_feed(s, &m, FP_FROM_KERNEL, rq, n, 0), FP_OK);
	mk_rep(&b, FP_GETATTR, 16, -500);
	n = enc(&b, rp, sizeof(rp));
	assert_int_equal(fp_session_feed(s, &m, FP_FROM_DAEMON, rp, n, 3000), FP_OK);
	assert_string_equal(text(&m, 0), "#16 GETATTR = -500 3us");

	fp_msg_free(&b);
	fp_msg_free(&m);
	fp_session_free(s);
}

/* A LOOKUP of `name` (n bytes) decoded alone, formatted. */
static void lookup_name(struct fp_msg *m, uint8_t *buf, size_t cap, const char *name, size_t nlen)
{
	struct fp_msg b;
	fp_msg_init(&b);
	mk_req(&b, FP_LOOKUP, 12, 1);
	set_b(&b, "name", name, nlen);
	size_t n = enc(&b, buf, cap);
	fp_msg_free(&b);
	assert_int_equal(dec(m, buf, n, FP_FROM_KERNEL, NULL), FP_OK);
}

static void test_escaping(void **state)
{
	(void)state;
	struct fp_msg m;
	fp_msg_init(&m);
	uint8_t buf[256];
	static const char hostile[] = "a\nb\"c\\d\x1b" "e\xff\tf\r";
	lookup_name(&m, buf, sizeof(buf), hostile, sizeof(hostile) - 1);
	assert_string_equal(text(&m, 0), "LOOKUP #12 nodeid=1 name=\"a\\nb\\\"c\\\\d\\x1be\\xff\\tf\\r\"");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"request\",\"unique\":12,\"op\":\"LOOKUP\","
			    "\"len\":54,\"opcode\":1,\"nodeid\":1,\"uid\":1000,\"gid\":1000,\"pid\":4242,"
			    "\"args\":{\"name\":\"a\\u000ab\\\"c\\\\d\\u001be\\u00ff\\u0009f\\u000d\"}}");

	/* terminal controls: CSI, BEL, DEL, C1 */
	static const char csi[] = "\x1b[2J\x07\x7f\xc2\x9b";
	lookup_name(&m, buf, sizeof(buf), csi, sizeof(csi) - 1);
	assert_string_equal(text(&m, 0), "LOOKUP #12 nodeid=1 name=\"\\x1b[2J\\x07\\x7f\\xc2\\x9b\"");

	/* valid UTF-8 passes through JSON as it is, and is escaped bytewise in text */
	static const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xed\x9f\xbf \xf4\x8f\xbf\xbf";
	lookup_name(&m, buf, sizeof(buf), utf8, sizeof(utf8) - 1);
	assert_string_equal(text(&m, 0), "LOOKUP #12 nodeid=1 name=\"caf\\xc3\\xa9 \\xe2\\x82\\xac "
					 "\\xf0\\x9d\\x84\\x9e \\xed\\x9f\\xbf \\xf4\\x8f\\xbf\\xbf\"");
	json(&m, 0);
	assert_non_null(strstr(out.s, "\"name\":\"" "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e "
				      "\xed\x9f\xbf \xf4\x8f\xbf\xbf" "\""));
	fp_msg_free(&m);
}

/* Byte sequences that are not UTF-8 must not reach JSON raw: each byte becomes \u00NN. */
static void test_json_invalid_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"\xc3", "\\u00c3"},                                      /* cut short */
		{"\xc3(", "\\u00c3("},                                    /* not a continuation */
		{"\xc0\xaf", "\\u00c0\\u00af"},                           /* overlong '/' */
		{"\xe0\x80\xaf", "\\u00e0\\u0080\\u00af"},                /* overlong '/' */
		{"\xf0\x80\x80\xaf", "\\u00f0\\u0080\\u0080\\u00af"},     /* overlong '/' */
		{"\xed\xa0\x80", "\\u00ed\\u00a0\\u0080"},                /* surrogate U+D800 */
		{"\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080"},     /* beyond U+10FFFF */
		{"\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080"},     /* lead byte F5 */
		{"\xff\x80\x80", "\\u00ff\\u0080\\u0080"},                /* lead byte FF */
		{"\xfe\x80\x80\x80", "\\u00fe\\u0080\\u0080\\u0080"},     /* lead byte FE */
		{"\x80", "\\u0080"},                                      /* lone continuation */
	};
	struct fp_msg m;
	fp_msg_init(&m);
	uint8_t buf[256];
	int bad = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		lookup_name(&m, buf, sizeof(buf), cases[k].in, strlen(cases[k].in));
		fp_sbuf_clear(&out);
		fp_format_json(&out, &m, 0);
		char want[128];
		snprintf(want, sizeof(want), "\"args\":{\"name\":\"%s\"}}", cases[k].want);
		const char *e = json_error(out.s, out.len);
		if (e || !strstr(out.s, want)) {
			struct fp_sbuf q = {0}; /* the raw bytes would reach the terminal */
			fp_sbuf_quote(&q, (const uint8_t *)out.s, out.len);
			print_message("case %zu: %s, expected ...%s in %s\n", k, e ? e : "wrong escape",
				      want, q.s);
			fp_sbuf_free(&q);
			bad++;
		}
	}
	fp_msg_free(&m);
	assert_int_equal(bad, 0);
}

static void test_truncated_and_invalid(void **state)
{
	(void)state;
	struct fp_msg b, m;
	fp_msg_init(&b);
	fp_msg_init(&m);
	uint8_t buf[256];
	mk_req(&b, FP_LOOKUP, 12, 1);
	set_s(&b, "name", "a.txt");
	size_t n = enc(&b, buf, sizeof(buf));

	/* the name's NUL was not captured */
	assert_int_equal(dec(&m, buf, n - 2, FP_FROM_KERNEL, NULL), FP_TRUNCATED);
	assert_string_equal(text(&m, 0),
			    "LOOKUP #12 nodeid=1 [truncated at byte 40: name: no NUL in the 4 bytes "
			    "captured]");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"request\",\"unique\":12,\"op\":\"LOOKUP\","
			    "\"len\":46,\"opcode\":1,\"nodeid\":1,\"uid\":1000,\"gid\":1000,\"pid\":4242,"
			    "\"args\":{},\"status\":\"truncated\",\"offset\":40,\"reason\":\"name: no NUL "
			    "in the 4 bytes captured\"}");

	/* the header itself is cut */
	assert_int_equal(dec(&m, buf, 10, FP_FROM_KERNEL, NULL), FP_TRUNCATED);
	assert_string_equal(text(&m, 0),
			    "LOOKUP #0 [truncated at byte 8: unique: needs 8 bytes, 2 captured]");

	/* the message says it is longer than the name: invalid, not truncated */
	buf[0] = 60;
	uint8_t big[60] = {0};
	memcpy(big, buf, n);
	assert_int_equal(dec(&m, big, 60, FP_FROM_KERNEL, NULL), FP_INVALID);
	assert_string_equal(text(&m, 0),
			    "LOOKUP #12 nodeid=1 name=\"a.txt\" trailing=<14 bytes \"\\x00\\x00\\x00"
			    "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"> [invalid at byte "
			    "46: 14 bytes after the LOOKUP body]");

	/* a READ reply cut inside its data */
	mk_rep(&b, FP_READ, 20, 0);
	set_s(&b, "data", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl");
	n = enc(&b, buf, sizeof(buf));
	assert_int_equal(n, 100);
	struct fp_reqinfo ri = {FP_READ, 0};
	assert_int_equal(dec(&m, buf, 50, FP_FROM_DAEMON, &ri), FP_TRUNCATED);
	assert_string_equal(text(&m, 0),
			    "#20 READ = 0 {data=<34 bytes \"0123456789abcdef\"...>} [truncated at byte "
			    "50: data: 84 bytes, 34 captured]");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"reply\",\"unique\":20,\"op\":\"READ\",\"len\":100,"
			    "\"error\":0,\"result\":{\"data\":{\"len\":34,\"hex\":\"30313233343536373839"
			    "6162636465666768696a6b6c6d6e6f707172737475767778\"}},"
			    "\"status\":\"truncated\",\"offset\":50,\"reason\":\"data: 84 bytes, 34 "
			    "captured\"}");
	/* whole: 16 bytes shown by default, 64 verbosely */
	assert_int_equal(dec(&m, buf, n, FP_FROM_DAEMON, &ri), FP_OK);
	assert_string_equal(text(&m, 0), "#20 READ = 0 {data=<84 bytes \"0123456789abcdef\"...>}");
	assert_string_equal(text(&m, FP_FMT_VERBOSE),
			    "#20 READ = 0 {data=<84 bytes \"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
			    "KLMNOPQRSTUVWXYZ01\"...>}");

	/* an error outside -511..0 */
	mk_rep(&b, 0, 22, 5);
	n = enc(&b, buf, sizeof(buf));
	assert_int_equal(dec(&m, buf, n, FP_FROM_DAEMON, NULL), FP_INVALID);
	assert_string_equal(text(&m, 0), "#22 ? = 5 EIO [invalid at byte 4: error 5 is outside -511..0]");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"reply\",\"unique\":22,\"op\":null,\"len\":16,"
			    "\"error\":5,\"errno\":\"EIO\",\"status\":\"invalid\",\"offset\":4,\"reason\":"
			    "\"error 5 is outside -511..0\"}");

	/* an unknown opcode: shown by number, its body kept as bytes */
	mk_req(&b, FP_GETATTR, 24, 1);
	n = enc(&b, buf, sizeof(buf));
	buf[4] = 99;
	assert_int_equal(dec(&m, buf, n, FP_FROM_KERNEL, NULL), FP_INVALID);
	assert_string_equal(text(&m, 0),
			    "OPCODE_99 #24 nodeid=1 data=<16 bytes \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
			    "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"> [invalid at byte 4: unknown "
			    "opcode 99]");
	fp_msg_free(&b);
	fp_msg_free(&m);
}

static void test_verbose_padding(void **state)
{
	(void)state;
	struct fp_msg b, m;
	fp_msg_init(&b);
	fp_msg_init(&m);
	uint8_t buf[256];
	mk_req(&b, FP_GETATTR, 16, 2);
	set_u(&b, "getattr_flags", FP_GETATTR_FH);
	set_u(&b, "fh", 0x1f);
	size_t n = enc(&b, buf, sizeof(buf));
	assert_int_equal(dec(&m, buf, n, FP_FROM_KERNEL, NULL), FP_OK);
	assert_string_equal(text(&m, 0), "GETATTR #16 nodeid=2 getattr_flags=GETATTR_FH fh=0x1f");
	assert_string_equal(text(&m, FP_FMT_VERBOSE),
			    "GETATTR #16 nodeid=2 uid=1000 gid=1000 pid=4242 total_extlen=0 "
			    "getattr_flags=GETATTR_FH dummy=0 fh=0x1f");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"request\",\"unique\":16,\"op\":\"GETATTR\","
			    "\"len\":56,\"opcode\":3,\"nodeid\":2,\"uid\":1000,\"gid\":1000,\"pid\":4242,"
			    "\"args\":{\"getattr_flags\":1,\"fh\":31}}");
	assert_string_equal(json(&m, FP_FMT_VERBOSE),
			    "{\"ts\":0.000000000,\"dir\":\"request\",\"unique\":16,\"op\":\"GETATTR\","
			    "\"len\":56,\"opcode\":3,\"nodeid\":2,\"uid\":1000,\"gid\":1000,\"pid\":4242,"
			    "\"args\":{\"getattr_flags\":1,\"dummy\":0,\"fh\":31}}");

	/* padding that is not zero is shown at every verbosity */
	set_u(&b, "dummy", 5);
	n = enc(&b, buf, sizeof(buf));
	assert_int_equal(dec(&m, buf, n, FP_FROM_KERNEL, NULL), FP_OK);
	assert_string_equal(text(&m, 0), "GETATTR #16 nodeid=2 getattr_flags=GETATTR_FH dummy=5 fh=0x1f");

	/* READDIR records: padding after the name shown verbosely */
	struct fp_reqinfo ri = {FP_READDIR, 0};
	assert_int_equal(fp_msg_build(&b, FP_REPLY, FP_READDIR, NULL, &ri), 0);
	set_u(&b, "header.unique", 40);
	long a = fp_msg_find(&b, "entries");
	long e = fp_msg_append(&b, a, NULL);
	assert_true(e > a);
	assert_int_equal(fp_msg_set_u64(&b, fp_msg_field(&b, e, "ino"), 5), 0);
	assert_int_equal(fp_msg_set_u64(&b, fp_msg_field(&b, e, "off"), 1), 0);
	assert_int_equal(fp_msg_set_u64(&b, fp_msg_field(&b, e, "type"), 8), 0);
	assert_int_equal(fp_msg_set_bytes(&b, fp_msg_field(&b, e, "name"), "abc", 3), 0);
	n = enc(&b, buf, sizeof(buf));
	assert_int_equal(n, 16 + 32);
	assert_int_equal(dec(&m, buf, n, FP_FROM_DAEMON, &ri), FP_OK);
	assert_string_equal(text(&m, 0),
			    "#40 READDIR = 0 {entries=[{ino=5 off=1 namelen=3 type=DT_REG name=\"abc\"}]}");
	assert_string_equal(text(&m, FP_FMT_VERBOSE),
			    "#40 READDIR = 0 {entries=[{ino=5 off=1 namelen=3 type=DT_REG name=\"abc\" "
			    "padding=<5 bytes \"\\x00\\x00\\x00\\x00\\x00\">}]}");
	fp_msg_free(&b);
	fp_msg_free(&m);
}

/* Run fn in a child process, so that a crash fails this test alone; the child exits 0 when
 * fn's checks pass. */
static void isolated(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would catch a crash and run the other tests in the child */
		static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		fn();
		_exit(0);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("crashed with signal %d", WTERMSIG(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("failed (exit status %d; under a sanitizer, its report above)",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A message built and encoded with FP_ENC_FIXUP, formatted as it is (without decoding it
 * again): the record padding whose length the fixup computed is shown as zeros. */
static void built_readdir_child(void)
{
	struct fp_msg b;
	fp_msg_init(&b);
	struct fp_reqinfo ri = {FP_READDIR, 0};
	uint8_t buf[256];
	if (fp_msg_build(&b, FP_REPLY, FP_READDIR, NULL, &ri) < 0)
		_exit(2);
	fp_msg_set_u64(&b, fp_msg_find(&b, "header.unique"), 40);
	long e = fp_msg_append(&b, fp_msg_find(&b, "entries"), NULL);
	fp_msg_set_u64(&b, fp_msg_field(&b, e, "ino"), 5);
	fp_msg_set_u64(&b, fp_msg_field(&b, e, "off"), 1);
	fp_msg_set_u64(&b, fp_msg_field(&b, e, "type"), 8);
	fp_msg_set_bytes(&b, fp_msg_field(&b, e, "name"), "abc", 3);
	if (fp_encode(&b, buf, sizeof(buf), FP_ENC_FIXUP) != 48)
		_exit(3);
	struct fp_sbuf t = {0};
	fp_format_text(&t, &b, FP_FMT_VERBOSE);
	const char *want = "#40 READDIR = 0 {entries=[{ino=5 off=1 namelen=3 type=DT_REG name=\"abc\" "
			   "padding=<5 bytes \"\\x00\\x00\\x00\\x00\\x00\">}]}";
	if (strcmp(t.s, want)) {
		fprintf(stderr, "got  %s\nwant %s\n", t.s, want);
		_exit(4);
	}
	fp_sbuf_clear(&t);
	fp_format_json(&t, &b, FP_FMT_VERBOSE);
	if (!strstr(t.s, "\"padding\":{\"len\":5,\"hex\":\"0000000000\"}")) {
		fprintf(stderr, "got %s\n", t.s);
		_exit(5);
	}
	fp_sbuf_free(&t);
	fp_msg_free(&b);
}

static void test_format_built_message(void **state)
{
	(void)state;
	isolated(built_readdir_child);
}

static void batch_forget(struct fp_msg *m, struct fp_msg *b, uint8_t *buf, size_t cap, unsigned count)
{
	mk_req(b, FP_BATCH_FORGET, 30, 0);
	set_u(b, "header.uid", 0);
	set_u(b, "header.gid", 0);
	set_u(b, "header.pid", 0);
	long a = fp_msg_find(b, "forgets");
	for (unsigned k = 0; k < count; k++) {
		long e = fp_msg_append(b, a, NULL);
		assert_int_equal(fp_msg_set_u64(b, fp_msg_field(b, e, "nodeid"), 100 + k), 0);
		assert_int_equal(fp_msg_set_u64(b, fp_msg_field(b, e, "nlookup"), k + 1), 0);
	}
	size_t n = enc(b, buf, cap);
	assert_int_equal(n, 40 + 8 + 16 * count);
	assert_int_equal(dec(m, buf, n, FP_FROM_KERNEL, NULL), FP_OK);
}

static void test_long_arrays(void **state)
{
	(void)state;
	struct fp_msg b, m;
	fp_msg_init(&b);
	fp_msg_init(&m);
	uint8_t buf[512];
	batch_forget(&m, &b, buf, sizeof(buf), 10);
	assert_string_equal(text(&m, 0),
			    "BATCH_FORGET #30 count=10 forgets=[{nodeid=100 nlookup=1} {nodeid=101 "
			    "nlookup=2} {nodeid=102 nlookup=3} {nodeid=103 nlookup=4} {nodeid=104 "
			    "nlookup=5} {nodeid=105 nlookup=6} {nodeid=106 nlookup=7} {nodeid=107 "
			    "nlookup=8} ...2 more]");
	assert_string_equal(text(&m, FP_FMT_VERBOSE),
			    "BATCH_FORGET #30 uid=0 gid=0 pid=0 total_extlen=0 count=10 dummy=0 "
			    "forgets=[{nodeid=100 nlookup=1} {nodeid=101 nlookup=2} {nodeid=102 "
			    "nlookup=3} {nodeid=103 nlookup=4} {nodeid=104 nlookup=5} {nodeid=105 "
			    "nlookup=6} {nodeid=106 nlookup=7} {nodeid=107 nlookup=8} {nodeid=108 "
			    "nlookup=9} {nodeid=109 nlookup=10}]");
	/* JSON is data: always whole */
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"request\",\"unique\":30,\"op\":\"BATCH_FORGET\","
			    "\"len\":208,\"opcode\":42,\"nodeid\":0,\"uid\":0,\"gid\":0,\"pid\":0,\"args\":{"
			    "\"count\":10,\"forgets\":[{\"nodeid\":100,\"nlookup\":1},{\"nodeid\":101,"
			    "\"nlookup\":2},{\"nodeid\":102,\"nlookup\":3},{\"nodeid\":103,\"nlookup\":4},"
			    "{\"nodeid\":104,\"nlookup\":5},{\"nodeid\":105,\"nlookup\":6},{\"nodeid\":106,"
			    "\"nlookup\":7},{\"nodeid\":107,\"nlookup\":8},{\"nodeid\":108,\"nlookup\":9},"
			    "{\"nodeid\":109,\"nlookup\":10}]}}");

	/* eight fit */
	batch_forget(&m, &b, buf, sizeof(buf), 8);
	assert_string_equal(text(&m, 0),
			    "BATCH_FORGET #30 count=8 forgets=[{nodeid=100 nlookup=1} {nodeid=101 "
			    "nlookup=2} {nodeid=102 nlookup=3} {nodeid=103 nlookup=4} {nodeid=104 "
			    "nlookup=5} {nodeid=105 nlookup=6} {nodeid=106 nlookup=7} {nodeid=107 "
			    "nlookup=8}]");
	batch_forget(&m, &b, buf, sizeof(buf), 9);
	assert_non_null(strstr(text(&m, 0), "{nodeid=107 nlookup=8} ...1 more]"));
	batch_forget(&m, &b, buf, sizeof(buf), 0);
	assert_string_equal(text(&m, 0), "BATCH_FORGET #30 count=0 forgets=[]");
	fp_msg_free(&b);
	fp_msg_free(&m);
}

static void test_notification(void **state)
{
	(void)state;
	struct fp_msg b, m;
	fp_msg_init(&b);
	fp_msg_init(&m);
	uint8_t buf[256];
	assert_int_equal(fp_msg_build(&b, FP_NOTIFY, FP_NOTIFY_INVAL_ENTRY, NULL, NULL), 0);
	set_u(&b, "parent", 1);
	set_s(&b, "name", "ab\x1b");
	size_t n = enc(&b, buf, sizeof(buf));
	assert_int_equal(n, 16 + 16 + 4);
	assert_int_equal(dec(&m, buf, n, FP_FROM_DAEMON, NULL), FP_OK);
	assert_string_equal(text(&m, 0), "NOTIFY_INVAL_ENTRY parent=1 namelen=3 flags=0 name=\"ab\\x1b\"");
	assert_string_equal(json(&m, 0),
			    "{\"ts\":0.000000000,\"dir\":\"notify\",\"unique\":0,\"op\":"
			    "\"NOTIFY_INVAL_ENTRY\",\"len\":36,\"code\":3,\"args\":{\"parent\":1,"
			    "\"namelen\":3,\"flags\":0,\"name\":\"ab\\u001b\"}}");

	/* a counted name with NULs inside: the kernel checks only the NUL after namelen bytes.
	 * Whether the decoder accepts it or not, a message it calls valid must re-encode to
	 * the same bytes and print its NULs escaped. */
	static const uint8_t nul_name[] = {
		37, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* len 37, INVAL_ENTRY, unique 0 */
		1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,  /* parent 1, namelen 4, flags 0 */
		0, 0, 0, 'e', 0,
	};
	int r = dec(&m, nul_name, sizeof(nul_name), FP_FROM_DAEMON, NULL);
	assert_true(r == FP_OK || r == FP_INVALID);
	if (r == FP_OK) {
		assert_string_equal(text(&m, 0), "NOTIFY_INVAL_ENTRY parent=1 namelen=4 flags=0 "
						 "name=\"\\x00\\x00\\x00e\"");
		assert_non_null(strstr(json(&m, 0), "\"name\":\"\\u0000\\u0000\\u0000e\""));
		uint8_t again[sizeof(nul_name)];
		assert_int_equal(fp_encode(&m, again, sizeof(again), 0), (long)sizeof(nul_name));
		assert_memory_equal(again, nul_name, sizeof(nul_name));
	}

	/* an unknown notification code */
	buf[4] = 77;
	assert_int_equal(dec(&m, buf, n, FP_FROM_DAEMON, NULL), FP_INVALID);
	assert_non_null(strstr(text(&m, 0), "NOTIFY_77 "));
	assert_non_null(strstr(out.s, "[invalid at byte 4: unknown notification code 77]"));
	fp_msg_free(&b);
	fp_msg_free(&m);
}

/* Every JSON object names each key once: uapi arrays such as fuse_init_in.unused[11] must
 * not become eleven "unused" keys, of which a consumer would keep one. */
static void test_json_keys_unique(void **state)
{
	(void)state;
	struct fp_msg b, m;
	fp_msg_init(&b);
	fp_msg_init(&m);
	uint8_t buf[256];
	int bad = 0;
	mk_req(&b, FP_INIT, 2, 0);
	set_u(&b, "major", 7);
	set_u(&b, "minor", 45);
	size_t n = enc(&b, buf, sizeof(buf));
	assert_int_equal(n, 40 + 64);
	assert_int_equal(dec(&m, buf, n, FP_FROM_KERNEL, NULL), FP_OK);
	fp_sbuf_clear(&out);
	fp_format_json(&out, &m, FP_FMT_VERBOSE);
	const char *e = json_error(out.s, out.len);
	if (e)
		print_message("INIT request: %s: %s\n", e, out.s), bad++;

	mk_rep(&b, FP_INIT, 2, 0);
	set_u(&b, "major", 7);
	set_u(&b, "minor", 31);
	n = enc(&b, buf, sizeof(buf));
	assert_int_equal(n, 16 + 64);
	struct fp_reqinfo ri = {FP_INIT, 0};
	assert_int_equal(dec(&m, buf, n, FP_FROM_DAEMON, &ri), FP_OK);
	fp_sbuf_clear(&out);
	fp_format_json(&out, &m, FP_FMT_VERBOSE);
	e = json_error(out.s, out.len);
	if (e)
		print_message("INIT reply: %s: %s\n", e, out.s), bad++;
	fp_msg_free(&b);
	fp_msg_free(&m);
	assert_int_equal(bad, 0);
}

static int group_teardown(void **state)
{
	(void)state;
	fp_sbuf_free(&out);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_request_and_reply),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_json_invalid_utf8),
		cmocka_unit_test(test_truncated_and_invalid),
		cmocka_unit_test(test_verbose_padding),
		cmocka_unit_test(test_format_built_message),
		cmocka_unit_test(test_long_arrays),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_json_keys_unique),
	};
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
