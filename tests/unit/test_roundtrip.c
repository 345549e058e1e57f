/* Round trips through libproto: every row of the opcode table, built with every value set,
 * encoded, decoded and encoded again must give back the same values and the same bytes, and
 * formats as text and well-formed JSON. */
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
#include "fuseproto/optable.h"
#include "msgsample.h"

/* ------------------------------------------------------------------ helpers */

static struct msgcase *cases;
static size_t ncases;

static int setup(void **state)
{
	(void)state;
	ncases = msgsample_cases(NULL, 0);
	cases = calloc(ncases, sizeof(*cases));
	if (!cases)
		return -1;
	return msgsample_cases(cases, ncases) == ncases ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(cases);
	print_message("test_roundtrip: %zu sample messages, %lu checks\n", ncases, check_count);
	return 0;
}

/* Print s to the test log with every byte outside printable ASCII as \xNN. */
static void print_escaped(const char *what, const char *s, size_t n)
{
	struct fp_sbuf e = {0};
	fp_sbuf_quote(&e, (const uint8_t *)s, n);
	print_error("%s: %s\n", what, e.s ? e.s : "");
	fp_sbuf_free(&e);
}

/* Text and JSON of m: non-empty, text printable, JSON well-formed and naming the op. */
static void check_formats(const struct fp_msg *m, unsigned flags)
{
	struct fp_sbuf b = {0};
	fp_format_text(&b, m, flags);
	CHECK(!b.oom);
	CHECK(b.len > 0);
	CHECK(msgsample_printable(b.s, b.len));
	fp_sbuf_clear(&b);
	fp_format_json(&b, m, flags);
	CHECK(!b.oom);
	CHECK(b.len > 0);
	if (!msgsample_json_valid(b.s, b.len))
		print_escaped("not valid JSON", b.s, b.len);
	CHECK(msgsample_json_valid(b.s, b.len));
	if (m->op) {
		char want[80];
		snprintf(want, sizeof(want), "\"op\":\"%s\"", m->op->name);
		CHECK(strstr(b.s, want) != NULL);
	}
	fp_sbuf_free(&b);
}

/* The same tree: descriptors, layouts, shape, positions, integers and bytes. `a` was built
 * and encoded with FP_ENC_FIXUP (which sets offsets and lengths), `b` decoded from that. */
static void check_same_values(const struct fp_msg *a, const struct fp_msg *b)
{
	CHECK_INT(b->nv, a->nv);
	CHECK_INT(b->body, a->body);
	for (uint32_t i = 0; i < a->nv; i++) {
		const struct fp_val *x = &a->v[i], *y = &b->v[i];
		size_t at = strlen(check_ctx);
		snprintf(check_ctx + at, sizeof(check_ctx) - at, " [v%u]", i);
		CHECK(y->f == x->f);
		CHECK(y->st == x->st);
		CHECK_INT(y->depth, x->depth);
		CHECK_INT(y->nsub, x->nsub);
		CHECK_INT(y->vflags & FP_V_ELEM, x->vflags & FP_V_ELEM);
		CHECK_INT(y->off, x->off);
		CHECK_INT(y->len, x->len);
		/* integers and array counts (an element's u means nothing) */
		if (!(x->vflags & FP_V_ELEM))
			CHECK_INT(y->u, x->u);
		switch ((enum fp_kind)x->f->kind) {
		case FP_K_STR:
			CHECK(y->len >= 1);
			CHECK_MEM(y->p, x->p, y->len - 1);
			CHECK_INT(y->p[y->len - 1], 0);
			break;
		case FP_K_BYTES:
			if (x->len)
				CHECK_MEM(y->p, x->p, x->len);
			break;
		case FP_K_PAD8: /* a built pad may have no bytes: zeros */
			for (uint32_t k = 0; k < x->len; k++)
				CHECK_INT(y->p[k], x->p ? x->p[k] : 0);
			break;
		default:
			break;
		}
		check_ctx[at] = 0;
	}
}

/* Build, encode, decode, compare, re-encode one case. */
static void roundtrip_case(const struct msgcase *c, uint32_t seq)
{
	struct fp_msg a, b;
	fp_msg_init(&a);
	fp_msg_init(&b);
	snprintf(check_ctx, sizeof(check_ctx), "%s", c->label);
	CHECK_INT(msgsample_build(&a, c, seq), 0);
	uint8_t *bytes;
	long n = msgsample_encode(&a, &bytes);
	CHECK(n > 0);
	CHECK_INT(a.h.len, n);

	int st = fp_decode(&b, bytes, (size_t)n, msgcase_origin(c), &c->conn, msgcase_reqinfo(c));
	if (st != FP_OK)
		print_error("%s: status %d at byte %u: %s\n", c->label, st, b.bad_off, b.reason);
	CHECK_INT(st, FP_OK);
	CHECK_INT(b.status, FP_OK);
	CHECK_INT(b.dir, c->dir);
	CHECK(b.op == c->op);
	CHECK_INT(b.opcode, c->op->code);
	CHECK_INT(b.h.len, n);
	CHECK_INT(b.h.unique, a.h.unique);
	CHECK_INT(b.h.error, a.h.error);
	if (c->dir == FP_REQUEST) {
		CHECK_INT(b.h.opcode, c->op->code);
		CHECK_INT(b.h.nodeid, a.h.nodeid);
		CHECK(a.h.nodeid != 0 && a.h.unique != 0);
		CHECK_INT(b.h.uid, a.h.uid);
		CHECK_INT(b.h.pid, a.h.pid);
	}
	check_same_values(&a, &b);

	/* the decoded values encode to the very same bytes, without any fix-up */
	uint8_t *again = malloc((size_t)n + 8);
	CHECK(again != NULL);
	memset(again, 0xa5, (size_t)n + 8);
	CHECK_INT(fp_encode(&b, again, (size_t)n + 8, 0), n);
	CHECK_MEM(again, bytes, (size_t)n);
	CHECK_INT(again[n], 0xa5); /* nothing past the message */

	check_formats(&a, 0);
	check_formats(&b, 0);
	check_formats(&b, FP_FMT_VERBOSE);

	free(again);
	free(bytes);
	fp_msg_free(&a);
	fp_msg_free(&b);
}

/* ------------------------------------------------------------------ tests */

/* Every request and notification of the table, at every sample connection. */
static void test_requests_and_notifications(void **state)
{
	(void)state;
	size_t done = 0;
	for (size_t i = 0; i < ncases; i++) {
		if (cases[i].dir == FP_REPLY)
			continue;
		roundtrip_case(&cases[i], (uint32_t)i);
		done++;
	}
	/* 61 rows at 3 connections, and SETXATTR once more */
	CHECK_INT(done, 61 * 3 + 1);
}

/* Every reply of every opcode that is answered, both layouts where the request decides. */
static void test_replies(void **state)
{
	(void)state;
	size_t done = 0, args = 0;
	for (size_t i = 0; i < ncases; i++) {
		if (cases[i].dir != FP_REPLY)
			continue;
		roundtrip_case(&cases[i], (uint32_t)i);
		done++;
		args += cases[i].ri.arg != 0;
	}
	/* 52 opcode rows but the 4 the kernel expects no reply to, and GETXATTR and LISTXATTR
	 * once more with size 100, at 3 connections */
	CHECK_INT(done, 3 * (52 - 4 + 2));
	CHECK_INT(args, 3 * 2);
}

/* The fill left nothing at zero: every integer, string and byte field carries content, so
 * that a field dropped or swapped would show in the comparison above. */
static void test_samples_are_filled(void **state)
{
	(void)state;
	for (size_t i = 0; i < ncases; i++) {
		struct fp_msg m;
		fp_msg_init(&m);
		snprintf(check_ctx, sizeof(check_ctx), "%s", cases[i].label);
		CHECK_INT(msgsample_build(&m, &cases[i], (uint32_t)i), 0);
		uint8_t *bytes;
		CHECK(msgsample_encode(&m, &bytes) > 0);
		for (uint32_t k = m.v[0].nsub + 1; k < m.nv; k++) {
			const struct fp_val *v = &m.v[k];
			if (v->vflags & FP_V_ELEM)
				continue;
			if (fp_kind_is_int((enum fp_kind)v->f->kind))
				CHECK(v->u != 0);
			else if (v->f->kind == FP_K_STR || v->f->kind == FP_K_BYTES)
				CHECK(v->len >= 3);
			else if (v->f->kind == FP_K_ARRAY)
				CHECK_INT(v->u, MSGSAMPLE_ELEMS);
		}
		free(bytes);
		fp_msg_free(&m);
	}
}

/* A header-only error reply, for every answered opcode: exactly 16 bytes, decodes with no
 * body, and reads "#<unique> <OP> = -2 ENOENT". */
static void test_error_replies(void **state)
{
	(void)state;
	const struct fp_op *op;
	unsigned done = 0;
	for (unsigned r = 0; (op = fp_op_at(r)) != NULL; r++) {
		if (!msgsample_has_reply(op))
			continue;
		struct fp_msg a, b;
		fp_msg_init(&a);
		fp_msg_init(&b);
		snprintf(check_ctx, sizeof(check_ctx), "%s error reply", op->name);
		uint64_t unique = 0x2000 + 2 * r;
		CHECK_INT(fp_msg_build(&a, FP_REPLY, 0, NULL, NULL), 0);
		CHECK(a.body == UINT32_MAX);
		CHECK_INT(
			fp_msg_set_u64(&a, fp_msg_find(&a, "header.error"), (uint64_t)(int64_t)-2),
			0);
		CHECK_INT(fp_msg_set_u64(&a, fp_msg_find(&a, "header.unique"), unique), 0);
		uint8_t buf[32];
		CHECK_INT(fp_encode(&a, buf, sizeof(buf), FP_ENC_FIXUP), 16);
		const uint8_t want[16] = {16, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff,
					  (uint8_t)unique, (uint8_t)(unique >> 8), 0, 0, 0, 0, 0, 0};
		CHECK_MEM(buf, want, 16);

		struct fp_reqinfo ri = {op->code, op->arg ? 100 : 0};
		CHECK_INT(fp_decode(&b, buf, 16, FP_FROM_DAEMON, NULL, &ri), FP_OK);
		CHECK_INT(b.dir, FP_REPLY);
		CHECK(b.op == op);
		CHECK_INT(b.h.error, -2);
		CHECK_INT(b.h.unique, unique);
		CHECK(b.body == UINT32_MAX);
		CHECK_INT(b.nv, 4); /* the header and its three fields */

		struct fp_sbuf t = {0};
		char want_text[96];
		snprintf(want_text, sizeof(want_text), "#%llu %s = -2 ENOENT",
			 (unsigned long long)unique, op->name);
		fp_format_text(&t, &b, 0);
		CHECK_STR(t.s, want_text);
		check_formats(&b, 0);
		fp_sbuf_clear(&t);
		fp_format_json(&t, &b, 0);
		CHECK(strstr(t.s, "\"errno\":\"ENOENT\"") != NULL);
		CHECK(strstr(t.s, "\"error\":-2") != NULL);
		fp_sbuf_free(&t);
		fp_msg_free(&a);
		fp_msg_free(&b);
		done++;
	}
	CHECK_INT(done, 52 - 4);
}

static void put_le(uint8_t *p, unsigned w, uint64_t v)
{
	for (unsigned i = 0; i < w; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The INIT reply at the compat sizes the kernel accepts: 8 bytes (minor < 5), 24 bytes
 * (minor 5..22), 64 bytes; fields past the end are absent, not missing. */
static void test_init_reply_compat_sizes(void **state)
{
	(void)state;
	static const struct {
		uint32_t minor;
		uint32_t size;   /* body bytes */
		uint32_t fields; /* fields decoded */
		const char *last, *absent; /* the last field decoded, the first one absent */
	} tab[] = {
		{4, FP_COMPAT_INIT_OUT_SIZE, 2, "minor", "max_readahead"},
		{5, FP_COMPAT_22_INIT_OUT_SIZE, 7, "max_write", "time_gran"},
		{22, FP_COMPAT_22_INIT_OUT_SIZE, 7, "max_write", "time_gran"},
		{23, sizeof(struct fp_init_out), 24, "unused", NULL},
		{45, sizeof(struct fp_init_out), 24, "unused", NULL},
	};
	for (size_t k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		uint8_t buf[16 + 64];
		uint32_t len = 16 + tab[k].size;
		snprintf(check_ctx, sizeof(check_ctx), "INIT reply of %u bytes at minor %u",
			 tab[k].size, tab[k].minor);
		memset(buf, 0, sizeof(buf));
		put_le(buf, 4, len);
		put_le(buf + 8, 8, 2);
		for (uint32_t o = 16; o < len; o++)
			buf[o] = (uint8_t)(o * 7 + 1);
		put_le(buf + 16, 4, 7);
		put_le(buf + 20, 4, tab[k].minor);
		struct fp_conn conn = {7, tab[k].minor, 0};
		struct fp_reqinfo ri = {FP_INIT, 0};
		struct fp_msg m;
		fp_msg_init(&m);
		int st = fp_decode(&m, buf, len, FP_FROM_DAEMON, &conn, &ri);
		if (st != FP_OK)
			print_error("%s: %s\n", check_ctx, m.reason);
		CHECK_INT(st, FP_OK);
		CHECK(m.op == fp_op_get(FP_INIT));
		CHECK(m.body != UINT32_MAX);
		CHECK_INT(m.v[m.body].len, tab[k].size);
		/* every field of the body is a direct child: count them */
		CHECK_INT(m.v[m.body].nsub, tab[k].fields);
		CHECK_INT(m.v[fp_msg_find(&m, "major")].u, 7);
		CHECK_INT(m.v[fp_msg_find(&m, "minor")].u, tab[k].minor);
		long last = fp_msg_child(&m, (long)m.body, tab[k].fields - 1);
		CHECK(last >= 0);
		CHECK_STR(m.v[last].f->name, tab[k].last);
		CHECK_INT(m.v[last].off + m.v[last].len, len);
		CHECK_INT(fp_msg_child(&m, (long)m.body, tab[k].fields), -1);
		if (tab[k].absent)
			CHECK_INT(fp_msg_find(&m, tab[k].absent), -1);
		uint8_t again[16 + 64];
		CHECK_INT(fp_encode(&m, again, sizeof(again), 0), len);
		CHECK_MEM(again, buf, len);
		check_formats(&m, 0);
		fp_msg_free(&m);
	}
}

/* The validator itself: it must accept what JSON allows and refuse the rest, or the checks
 * above prove nothing. */
static void test_json_validator(void **state)
{
	(void)state;
	static const char *const good[] = {
		"{}", "[]", "0", "-0.5e+3", "\"\"", "{\"a\":[1,2,{\"b\":null}],\"c\":true}",
		" {\"x\" : \"\\u00e9\\n\\\"\"} ", "[{\"a\":1},{\"a\":2}]", "{\"a\":{\"a\":1}}",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "false",
	};
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "[1 2]", "01", "1.", "-", "\"abc",
		"\"\\x41\"", "\"\\u12g4\"", "{a:1}", "{} {}", "tru", "\"\x01\"", "\"\xff\"",
		"\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\xf8\x88\x80\x80\x80\"", "\"\xc3\"", "\"\xe2\x82\"",
		"{\"a\":1,\"b\":2,\"a\":3}", "[{\"x\":{},\"x\":[]}]",
	};
	snprintf(check_ctx, sizeof(check_ctx), "JSON validator");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(msgsample_json_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (msgsample_json_valid(bad[i], strlen(bad[i])))
			print_error("accepted: %s\n", bad[i]);
		CHECK(!msgsample_json_valid(bad[i], strlen(bad[i])));
	}
}

/* Names from the wire are bytes, not UTF-8: in JSON, well-formed UTF-8 may pass through and
 * anything else must be escaped, so that the output stays valid UTF-8 whatever the name. */
static void test_json_escapes_bad_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *why;
	} names[] = {
		{"caf\xc3\xa9", "valid 2-byte sequence"},
		{"\xe2\x82\xac" "x", "valid 3-byte sequence"},
		{"\xf0\x9f\x98\x80", "valid 4-byte sequence"},
		{"a\xffz", "0xff"},
		{"\xc0\xaf", "overlong 2-byte"},
		{"\xe0\x80\xaf", "overlong 3-byte"},
		{"\xed\xa0\x80", "UTF-16 surrogate"},
		{"\xf4\x90\x80\x80", "above U+10FFFF"},
		{"\xf5\x80\x80\x80", "lead byte 0xf5"},
		{"\xff\x80\x80", "lead byte 0xff"},
		{"\xf8\x88\x80\x80\x80", "5-byte form"},
		{"\xfc\x84\x80\x80\x80\x80", "6-byte form"},
		{"x\xe2\x82", "cut 3-byte sequence"},
	};
	unsigned bad = 0;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		struct fp_msg m;
		fp_msg_init(&m);
		struct fp_sbuf b = {0};
		snprintf(check_ctx, sizeof(check_ctx), "LOOKUP name with %s", names[k].why);
		CHECK_INT(fp_msg_build(&m, FP_REQUEST, FP_LOOKUP, NULL, NULL), 0);
		CHECK_INT(fp_msg_set_bytes(&m, fp_msg_find(&m, "name"), names[k].name,
					   strlen(names[k].name)), 0);
		fp_format_json(&b, &m, 0);
		CHECK(msgsample_json_grammar(b.s, b.len));
		/* every case first, so that the log lists all that fail */
		if (!msgsample_json_valid(b.s, b.len)) {
			print_escaped(check_ctx, b.s, b.len);
			bad++;
		}
		fp_sbuf_free(&b);
		fp_msg_free(&m);
	}
	snprintf(check_ctx, sizeof(check_ctx), "names that are not UTF-8");
	CHECK_INT(bad, 0);
}

/* Verbose formatting of a message as built (not decoded): a pad the encoder sized has no
 * bytes behind it (p == NULL) and must show as zeros. Last: it crashed when written. */
static void test_format_verbose_built(void **state)
{
	(void)state;
	for (size_t i = 0; i < ncases; i++) {
		struct fp_msg m;
		fp_msg_init(&m);
		snprintf(check_ctx, sizeof(check_ctx), "%s verbose, as built", cases[i].label);
		CHECK_INT(msgsample_build(&m, &cases[i], (uint32_t)i), 0);
		check_formats(&m, FP_FMT_VERBOSE);
		uint8_t *bytes;
		CHECK(msgsample_encode(&m, &bytes) > 0);
		check_formats(&m, FP_FMT_VERBOSE);
		free(bytes);
		fp_msg_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_validator),
		cmocka_unit_test(test_samples_are_filled),
		cmocka_unit_test(test_requests_and_notifications),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_init_reply_compat_sizes),
		cmocka_unit_test(test_json_escapes_bad_utf8),
		cmocka_unit_test(test_format_verbose_built),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
