/* The field tables against fusewire's wire structs (abi.h) and the protocol notes: sizes at
 * the newest minor and at the compat minors, length references, symbol tables, the opcode
 * table's rows, and two messages checked byte for byte. */
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
#include "msgint.h" /* fp_ext_layout: the extension record layouts */
#include "msgsample.h"

/* ------------------------------------------------------------------ every layout */

#define MAX_LAYOUTS 256

static const struct fp_struct *layouts[MAX_LAYOUTS];
static unsigned nlayouts;

static void add_layout(const struct fp_struct *st)
{
	if (!st)
		return;
	for (unsigned i = 0; i < nlayouts; i++)
		if (layouts[i] == st)
			return;
	assert_true(nlayouts < MAX_LAYOUTS);
	layouts[nlayouts++] = st;
	for (unsigned k = 0; k < st->n; k++)
		if (st->fields[k].sub)
			add_layout(st->fields[k].sub);
}

/* Every layout reachable from the table: request and reply bodies of every row (both
 * layouts where the request's `arg` decides), the headers, the extension records, and
 * recursively their sub-structs and array elements. */
static int setup(void **state)
{
	(void)state;
	const struct fp_op *op;
	add_layout(&fp_in_header_s);
	add_layout(&fp_out_header_s);
	for (unsigned i = 0; (op = fp_op_at(i)) != NULL; i++) {
		add_layout(op->req);
		add_layout(op->rep);
		if (op->rep_for) {
			add_layout(op->rep_for(0));
			add_layout(op->rep_for(100));
		}
	}
	add_layout(fp_ext_layout(0));          /* security contexts */
	add_layout(fp_ext_layout(FP_EXT_GROUPS));
	add_layout(fp_ext_layout(99));         /* any other type */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	print_message("test_layouts: %u layouts, %lu checks\n", nlayouts, check_count);
	return 0;
}

/* A connection with the newest minor and every flag. */
static const struct fp_conn newest = FP_CONN_NEWEST;

/* Whether f is on the wire at conn: written here from field.h's contract rather than taken
 * from the library. */
static int present(const struct fp_field *f, const struct fp_conn *conn)
{
	if (f->since > conn->minor)
		return 0;
	if (f->need && !(conn->flags & (UINT64_C(1) << (f->need - 1))))
		return 0;
	return 1;
}

/* Bytes of the fixed part of st at conn: the fields up to the first one of variable length
 * (inside a sub-struct too). Sets *variable when there is such a field. */
static unsigned fixed_part(const struct fp_struct *st, const struct fp_conn *conn, int *variable)
{
	unsigned sum = 0;
	*variable = 0;
	for (unsigned k = 0; k < st->n; k++) {
		const struct fp_field *f = &st->fields[k];
		if (!present(f, conn))
			continue;
		unsigned w = fp_kind_width((enum fp_kind)f->kind);
		if (w) {
			sum += w;
		} else if (f->kind == FP_K_STRUCT) {
			sum += fixed_part(f->sub, conn, variable);
			if (*variable)
				return sum;
		} else {
			*variable = 1;
			return sum;
		}
	}
	return sum;
}

/* The size of every fixed-size layout is the sum of its fields' widths at the newest minor,
 * and a layout says 0 exactly when it has a part of variable length. */
static void test_fixed_sizes_add_up(void **state)
{
	(void)state;
	unsigned fixed = 0;
	for (unsigned i = 0; i < nlayouts; i++) {
		const struct fp_struct *st = layouts[i];
		int variable;
		unsigned sum = fixed_part(st, &newest, &variable);
		snprintf(check_ctx, sizeof(check_ctx), "layout %s", st->name);
		CHECK(st->n > 0);
		if (st->size) {
			CHECK(!variable);
			CHECK_INT(sum, st->size);
			fixed++;
		} else {
			CHECK(variable);
		}
	}
	CHECK(fixed > 50);
}

/* Layout names that look like uapi names but are fusewire's own compositions: the uapi has
 * no struct for the CREATE reply or for a whole READDIR(PLUS) reply. */
static const char *const not_uapi[] = {"fuse_create_out", "fuse_dirents", "fuse_direntplus_list"};

/* The uapi-named layouts and the size of fusewire's struct for each: the whole struct for a
 * fixed layout, the fixed part (what the struct declares) for a variable one. */
static const struct {
	const char *name;
	size_t size;
} uapi[] = {
	{"fuse_in_header", sizeof(struct fp_in_header)},
	{"fuse_out_header", sizeof(struct fp_out_header)},
	{"fuse_attr", sizeof(struct fp_attr)},
	{"fuse_entry_out", sizeof(struct fp_entry_out)},
	{"fuse_forget_in", sizeof(struct fp_forget_in)},
	{"fuse_forget_one", sizeof(struct fp_forget_one)},
	{"fuse_batch_forget_in", sizeof(struct fp_batch_forget_in)},
	{"fuse_getattr_in", sizeof(struct fp_getattr_in)},
	{"fuse_attr_out", sizeof(struct fp_attr_out)},
	{"fuse_setattr_in", sizeof(struct fp_setattr_in)},
	{"fuse_statx_in", sizeof(struct fp_statx_in)},
	{"fuse_sx_time", sizeof(struct fp_sx_time)},
	{"fuse_statx", sizeof(struct fp_statx)},
	{"fuse_statx_out", sizeof(struct fp_statx_out)},
	{"fuse_kstatfs", sizeof(struct fp_kstatfs)},
	{"fuse_statfs_out", sizeof(struct fp_statfs_out)},
	{"fuse_access_in", sizeof(struct fp_access_in)},
	{"fuse_mknod_in", sizeof(struct fp_mknod_in)},
	{"fuse_mkdir_in", sizeof(struct fp_mkdir_in)},
	{"fuse_rename_in", sizeof(struct fp_rename_in)},
	{"fuse_rename2_in", sizeof(struct fp_rename2_in)},
	{"fuse_link_in", sizeof(struct fp_link_in)},
	{"fuse_open_in", sizeof(struct fp_open_in)},
	{"fuse_create_in", sizeof(struct fp_create_in)},
	{"fuse_open_out", sizeof(struct fp_open_out)},
	{"fuse_release_in", sizeof(struct fp_release_in)},
	{"fuse_flush_in", sizeof(struct fp_flush_in)},
	{"fuse_read_in", sizeof(struct fp_read_in)},
	{"fuse_write_in", sizeof(struct fp_write_in)},
	{"fuse_write_out", sizeof(struct fp_write_out)},
	{"fuse_fsync_in", sizeof(struct fp_fsync_in)},
	{"fuse_fallocate_in", sizeof(struct fp_fallocate_in)},
	{"fuse_lseek_in", sizeof(struct fp_lseek_in)},
	{"fuse_lseek_out", sizeof(struct fp_lseek_out)},
	{"fuse_copy_file_range_in", sizeof(struct fp_copy_file_range_in)},
	{"fuse_copy_file_range_out", sizeof(struct fp_copy_file_range_out)},
	{"fuse_syncfs_in", sizeof(struct fp_syncfs_in)},
	{"fuse_setxattr_in", sizeof(struct fp_setxattr_in)},
	{"fuse_getxattr_in", sizeof(struct fp_getxattr_in)},
	{"fuse_getxattr_out", sizeof(struct fp_getxattr_out)},
	{"fuse_file_lock", sizeof(struct fp_file_lock)},
	{"fuse_lk_in", sizeof(struct fp_lk_in)},
	{"fuse_lk_out", sizeof(struct fp_lk_out)},
	{"fuse_init_in", sizeof(struct fp_init_in)},
	{"fuse_init_out", sizeof(struct fp_init_out)},
	{"cuse_init_in", sizeof(struct fp_cuse_init_in)},
	{"cuse_init_out", sizeof(struct fp_cuse_init_out)},
	{"fuse_interrupt_in", sizeof(struct fp_interrupt_in)},
	{"fuse_bmap_in", sizeof(struct fp_bmap_in)},
	{"fuse_bmap_out", sizeof(struct fp_bmap_out)},
	{"fuse_ioctl_in", sizeof(struct fp_ioctl_in)},
	{"fuse_ioctl_iovec", sizeof(struct fp_ioctl_iovec)},
	{"fuse_ioctl_out", sizeof(struct fp_ioctl_out)},
	{"fuse_poll_in", sizeof(struct fp_poll_in)},
	{"fuse_poll_out", sizeof(struct fp_poll_out)},
	{"fuse_dirent", sizeof(struct fp_dirent)},
	{"fuse_direntplus", sizeof(struct fp_direntplus)},
	{"fuse_notify_poll_wakeup_out", sizeof(struct fp_notify_poll_wakeup_out)},
	{"fuse_notify_inval_inode_out", sizeof(struct fp_notify_inval_inode_out)},
	{"fuse_notify_inval_entry_out", sizeof(struct fp_notify_inval_entry_out)},
	{"fuse_notify_delete_out", sizeof(struct fp_notify_delete_out)},
	{"fuse_notify_store_out", sizeof(struct fp_notify_store_out)},
	{"fuse_notify_retrieve_out", sizeof(struct fp_notify_retrieve_out)},
	{"fuse_notify_retrieve_in", sizeof(struct fp_notify_retrieve_in)},
	{"fuse_notify_prune_out", sizeof(struct fp_notify_prune_out)},
	{"fuse_setupmapping_in", sizeof(struct fp_setupmapping_in)},
	{"fuse_removemapping_in", sizeof(struct fp_removemapping_in)},
	{"fuse_removemapping_one", sizeof(struct fp_removemapping_one)},
	{"fuse_secctx", sizeof(struct fp_secctx)},
	{"fuse_secctx_header", sizeof(struct fp_secctx_header)},
	{"fuse_ext_header", sizeof(struct fp_ext_header)},
	/* the FUSE_EXT_GROUPS record: its fuse_ext_header, then fuse_supp_groups */
	{"fuse_supp_groups", sizeof(struct fp_ext_header) + sizeof(struct fp_supp_groups)},
};

/* Every layout with a uapi name has the size of fusewire's struct of that name (its fixed
 * part for a layout with a variable tail); no fuse_ or cuse_ name goes unchecked. */
static void test_sizes_match_abi(void **state)
{
	(void)state;
	unsigned matched = 0;
	for (unsigned i = 0; i < nlayouts; i++) {
		const struct fp_struct *st = layouts[i];
		snprintf(check_ctx, sizeof(check_ctx), "layout %s", st->name);
		size_t want = 0;
		int found = 0;
		for (size_t k = 0; k < sizeof(uapi) / sizeof(uapi[0]); k++)
			if (!strcmp(uapi[k].name, st->name)) {
				want = uapi[k].size;
				found = 1;
			}
		int own = 0;
		for (size_t k = 0; k < sizeof(not_uapi) / sizeof(not_uapi[0]); k++)
			own |= !strcmp(not_uapi[k], st->name);
		if (!found) {
			/* a layout of fusewire's own must not look like a uapi struct unnoticed */
			CHECK(own || (strncmp(st->name, "fuse_", 5) && strncmp(st->name, "cuse_", 5)));
			continue;
		}
		CHECK(!own);
		int variable;
		unsigned fixed = fixed_part(st, &newest, &variable);
		CHECK_INT(fixed, want);
		if (!variable)
			CHECK_INT(st->size, want);
		matched++;
	}
	/* every name of the mapping was reached from the table */
	for (size_t k = 0; k < sizeof(uapi) / sizeof(uapi[0]); k++) {
		int seen = 0;
		snprintf(check_ctx, sizeof(check_ctx), "uapi struct %s", uapi[k].name);
		for (unsigned i = 0; i < nlayouts; i++)
			seen |= !strcmp(layouts[i]->name, uapi[k].name);
		CHECK(seen);
	}
	CHECK(matched >= sizeof(uapi) / sizeof(uapi[0]));
}

/* The row with a given name. */
static const struct fp_op *row(const char *name)
{
	const struct fp_op *op;
	for (unsigned i = 0; (op = fp_op_at(i)) != NULL; i++)
		if (!strcmp(op->name, name))
			return op;
	fail_msg("no row %s", name);
	return NULL;
}

/* Length of the message fp_msg_build makes for (dir, code) at conn, empty strings and data. */
static long built_len(enum fp_dir dir, uint32_t code, const struct fp_conn *conn)
{
	struct fp_msg m;
	fp_msg_init(&m);
	assert_int_equal(fp_msg_build(&m, dir, code, conn, NULL), 0);
	long n = fp_encode(&m, NULL, 0, FP_ENC_FIXUP);
	fp_msg_free(&m);
	return n;
}

/* The compat sizes of PROTOCOL-NOTES §1.6, from the tables and from built messages. */
static void test_compat_sizes(void **state)
{
	(void)state;
	const uint64_t all = UINT64_MAX, no_sx = UINT64_MAX & ~FP_SETXATTR_EXT;
	static const struct {
		const char *op;
		int reply;
		uint32_t minor;
		int sxext;
		unsigned size;     /* fixed part of the body */
		unsigned variable; /* bytes of an empty variable tail: 1 for an empty name */
	} tab[] = {
		{"LOOKUP", 1, 8, 1, FP_COMPAT_ENTRY_OUT_SIZE, 0},
		{"LOOKUP", 1, 9, 1, sizeof(struct fp_entry_out), 0},
		{"GETATTR", 1, 8, 1, FP_COMPAT_ATTR_OUT_SIZE, 0},
		{"GETATTR", 1, 9, 1, sizeof(struct fp_attr_out), 0},
		{"WRITE", 0, 8, 1, FP_COMPAT_WRITE_IN_SIZE, 0},
		{"WRITE", 0, 9, 1, sizeof(struct fp_write_in), 0},
		{"MKNOD", 0, 11, 1, FP_COMPAT_MKNOD_IN_SIZE, 1},
		{"MKNOD", 0, 12, 1, sizeof(struct fp_mknod_in), 1},
		{"CREATE", 0, 11, 1, sizeof(struct fp_open_in), 1},
		{"CREATE", 0, 12, 1, sizeof(struct fp_create_in), 1},
		{"STATFS", 1, 3, 1, FP_COMPAT_STATFS_SIZE, 0},
		{"STATFS", 1, 4, 1, sizeof(struct fp_statfs_out), 0},
		{"SETXATTR", 0, 45, 0, FP_COMPAT_SETXATTR_IN_SIZE, 1},
		{"SETXATTR", 0, 45, 1, sizeof(struct fp_setxattr_in), 1},
		{"SETXATTR", 0, 33, 1, sizeof(struct fp_setxattr_in), 1},
		{"SETXATTR", 0, 22, 0, FP_COMPAT_SETXATTR_IN_SIZE, 1},
	};
	for (size_t k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		const struct fp_op *op = row(tab[k].op);
		struct fp_conn conn = {7, tab[k].minor, tab[k].sxext ? all : no_sx};
		const struct fp_struct *st = tab[k].reply ? op->rep : op->req;
		snprintf(check_ctx, sizeof(check_ctx), "%s %s at 7.%u%s", tab[k].op,
			 tab[k].reply ? "reply" : "request", tab[k].minor,
			 tab[k].sxext ? "" : " without SETXATTR_EXT");
		int variable;
		CHECK_INT(fixed_part(st, &conn, &variable), tab[k].size);
		unsigned hdr = tab[k].reply ? 16 : 40;
		CHECK_INT(built_len(tab[k].reply ? FP_REPLY : FP_REQUEST, op->code, &conn),
			  hdr + tab[k].size + tab[k].variable);
	}
}

/* Every reference names an earlier integer sibling flagged FP_F_LEN, every FP_F_LEN field
 * of a body is referenced, FLAGS and ENUM fields have symbols (and only they), and the
 * other per-field invariants the decoder relies on. */
static void test_field_invariants(void **state)
{
	(void)state;
	unsigned refs = 0;
	for (unsigned i = 0; i < nlayouts; i++) {
		const struct fp_struct *st = layouts[i];
		for (unsigned k = 0; k < st->n; k++) {
			const struct fp_field *f = &st->fields[k];
			snprintf(check_ctx, sizeof(check_ctx), "%s.%s (field %u)", st->name,
				 f->name, k);
			CHECK(f->name && f->name[0]);
			CHECK(f->kind <= FP_K_EXT);
			CHECK(f->disp <= FP_D_DATA);
			CHECK(f->since <= FP_KERNEL_MINOR_VERSION);
			CHECK(f->need <= 64);
			CHECK((f->sub != NULL) == (f->kind == FP_K_STRUCT || f->kind == FP_K_ARRAY));
			if (f->ref) {
				unsigned r = f->ref - 1u;
				CHECK(r < k);
				const struct fp_field *len = &st->fields[r];
				CHECK(fp_kind_is_int((enum fp_kind)len->kind));
				CHECK(len->flags & FP_F_LEN);
				CHECK(f->kind == FP_K_STR || f->kind == FP_K_BYTES ||
				      f->kind == FP_K_ARRAY);
				/* present whenever the field that refers to it is */
				CHECK(len->since <= f->since && (!len->need || len->need == f->need));
				refs++;
			}
			if ((f->flags & FP_F_LEN) && st != &fp_in_header_s && st != &fp_out_header_s) {
				int used = 0;
				for (unsigned j = k + 1; j < st->n; j++)
					used |= st->fields[j].ref == k + 1;
				CHECK(used);
			}
			int symbolic = f->disp == FP_D_FLAGS || f->disp == FP_D_ENUM;
			CHECK(symbolic == (f->sym != NULL));
			if (f->sym) {
				CHECK(fp_kind_is_int((enum fp_kind)f->kind));
				unsigned n = 0;
				while (n < 256 && f->sym[n].name)
					n++;
				CHECK(n > 0 && n < 256); /* terminated */
				for (unsigned s = 0; s < n; s++) {
					CHECK(f->sym[s].name[0] != 0);
					/* a flag of value 0 could never show */
					if (f->disp == FP_D_FLAGS)
						CHECK(f->sym[s].v != 0);
					for (unsigned t = 0; t < s; t++)
						CHECK(f->sym[t].v != f->sym[s].v);
				}
			}
			if (f->flags & FP_F_OPT)
				CHECK(fp_kind_is_int((enum fp_kind)f->kind));
		}
	}
	CHECK(refs >= 15);
}

/* The rows: unique names, found again by code, the opcodes of the uapi and nothing else,
 * and the row flags the protocol notes give. */
static void test_rows(void **state)
{
	(void)state;
	const struct fp_op *op;
	unsigned nops = 0, nnot = 0, i;
	int seen_notify = 0;
	for (i = 0; (op = fp_op_at(i)) != NULL; i++) {
		snprintf(check_ctx, sizeof(check_ctx), "row %u %s", i, op->name ? op->name : "?");
		CHECK(op->name && op->family);
		CHECK(op->since <= FP_KERNEL_MINOR_VERSION);
		CHECK((op->arg == NULL) == (op->rep_for == NULL));
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(fp_op_at(j)->name, op->name) != 0);
		if (op->flags & FP_OP_NOTIFY) {
			seen_notify = 1;
			nnot++;
			CHECK(op->code >= 1 && op->code <= FP_NOTIFY_CODE_LAST);
			CHECK(fp_notify_get(op->code) == op);
			CHECK(!strncmp(op->name, "NOTIFY_", 7));
			CHECK(op->rep == NULL && op->rep_for == NULL);
		} else {
			CHECK(!seen_notify); /* opcodes first, then notifications */
			nops++;
			CHECK(fp_op_get(op->code) == op);
			CHECK_STR(fp_op_name(op->code), op->name);
			if (op->arg) { /* the request field the reply layout depends on exists */
				int has = 0;
				for (unsigned k = 0; op->req && k < op->req->n; k++)
					has |= !strcmp(op->req->fields[k].name, op->arg);
				CHECK(has);
			}
		}
	}
	snprintf(check_ctx, sizeof(check_ctx), "row counts");
	CHECK_INT(i, 61);
	/* opcodes 1..53 but 7 (was GETDIR) and 19, which the uapi leaves unused: 51, and CUSE_INIT */
	CHECK_INT(nops, 51 + 1);
	CHECK_INT(nnot, 9);
	for (uint32_t code = 0; code <= FP_OPCODE_MAX + 1; code++) {
		snprintf(check_ctx, sizeof(check_ctx), "opcode %u", code);
		int exists = code >= 1 && code <= FP_OPCODE_MAX && code != 7 && code != 19;
		CHECK((fp_op_get(code) != NULL) == exists);
		if (exists)
			CHECK_INT(fp_op_get(code)->code, code);
		else
			CHECK(fp_op_name(code) == NULL);
	}
	snprintf(check_ctx, sizeof(check_ctx), "other opcodes");
	CHECK(fp_op_get(FP_CUSE_INIT) != NULL);
	CHECK_STR(fp_op_get(FP_CUSE_INIT)->name, "CUSE_INIT");
	CHECK(fp_op_get(FP_CUSE_INIT - 1) == NULL);
	CHECK(fp_op_get(FP_CUSE_INIT + 1) == NULL);
	CHECK(fp_op_get(FP_CUSE_INIT_BSWAP_RESERVED) == NULL);
	CHECK(fp_op_get(FP_INIT_BSWAP_RESERVED) == NULL);
	CHECK(fp_op_get(UINT32_MAX) == NULL);
	for (uint32_t code = 0; code <= FP_NOTIFY_CODE_LAST + 1; code++) {
		snprintf(check_ctx, sizeof(check_ctx), "notify code %u", code);
		CHECK((fp_notify_get(code) != NULL) == (code >= 1 && code <= FP_NOTIFY_CODE_LAST));
	}
	CHECK(fp_notify_get(UINT32_MAX) == NULL);
	CHECK(fp_op_reply_layout(NULL, 0) == NULL);

	/* row flags, from PROTOCOL-NOTES §1.3 and §1.7 */
	static const struct {
		unsigned flag;
		const char *names[8];
	} flagged[] = {
		{FP_OP_NOREPLY, {"FORGET", "BATCH_FORGET", "NOTIFY_REPLY", "INTERRUPT"}},
		{FP_OP_EXT, {"CREATE", "MKNOD", "MKDIR", "SYMLINK", "TMPFILE"}},
		{FP_OP_ENTRY, {"LOOKUP", "SYMLINK", "MKNOD", "MKDIR", "LINK", "CREATE", "TMPFILE"}},
	};
	for (size_t k = 0; k < sizeof(flagged) / sizeof(flagged[0]); k++) {
		for (i = 0; (op = fp_op_at(i)) != NULL; i++) {
			int listed = 0;
			for (size_t n = 0; n < 8 && flagged[k].names[n]; n++)
				listed |= !strcmp(flagged[k].names[n], op->name);
			snprintf(check_ctx, sizeof(check_ctx), "%s row flag 0x%x", op->name,
				 flagged[k].flag);
			CHECK(!!(op->flags & flagged[k].flag) == listed);
		}
	}
}

/* ------------------------------------------------------------------ known bytes */

/* LOOKUP "a.txt" in the root: the 40-byte header and the name, byte for byte. */
static void test_lookup_bytes(void **state)
{
	(void)state;
	static const uint8_t want[46] = {
		0x2e, 0, 0, 0,             /* len 46 */
		0x01, 0, 0, 0,             /* opcode LOOKUP */
		0x0c, 0, 0, 0, 0, 0, 0, 0, /* unique 12 */
		0x01, 0, 0, 0, 0, 0, 0, 0, /* nodeid 1 */
		0, 0, 0, 0, 0, 0, 0, 0,    /* uid gid */
		0, 0, 0, 0,                /* pid */
		0, 0, 0, 0,                /* total_extlen, padding */
		'a', '.', 't', 'x', 't', 0,
	};
	struct fp_msg m;
	fp_msg_init(&m);
	struct fp_conn conn = FP_CONN_NEWEST;
	snprintf(check_ctx, sizeof(check_ctx), "LOOKUP a.txt");
	CHECK_INT(fp_msg_build(&m, FP_REQUEST, FP_LOOKUP, &conn, NULL), 0);
	CHECK_INT(fp_msg_set_u64(&m, fp_msg_find(&m, "header.unique"), 12), 0);
	CHECK_INT(fp_msg_set_u64(&m, fp_msg_find(&m, "header.nodeid"), FP_ROOT_ID), 0);
	CHECK_INT(fp_msg_set_bytes(&m, fp_msg_find(&m, "name"), "a.txt", 5), 0);
	uint8_t out[64];
	memset(out, 0xee, sizeof(out));
	CHECK_INT(fp_encode(&m, out, sizeof(out), FP_ENC_FIXUP), 46);
	CHECK_MEM(out, want, sizeof(want));
	CHECK_INT(out[46], 0xee);
	CHECK_INT(m.h.len, 46);
	/* a buffer too small: the full length back, the first cap bytes (nodeid cut in two at
	 * byte 20), nothing past cap */
	memset(out, 0xee, sizeof(out));
	CHECK_INT(fp_encode(&m, out, 20, 0), 46);
	CHECK_MEM(out, want, 20);
	CHECK_INT(out[20], 0xee);

	struct fp_msg d;
	fp_msg_init(&d);
	CHECK_INT(fp_decode(&d, want, sizeof(want), FP_FROM_KERNEL, &conn, NULL), FP_OK);
	struct fp_sbuf t = {0};
	fp_format_text(&t, &d, 0);
	CHECK_STR(t.s, "LOOKUP #12 nodeid=1 name=\"a.txt\"");
	fp_sbuf_free(&t);
	fp_msg_free(&d);
	fp_msg_free(&m);
}

/* The verified MKDIR of PROTOCOL-NOTES §1.7: the extension area starts right after the
 * name's NUL (body offset 11) and holds a security-context block with no context and a
 * FUSE_EXT_GROUPS record with gid 100. */
static void test_mkdir_extension_example(void **state)
{
	(void)state;
	static const uint8_t msg[75] = {
		0x4b, 0, 0, 0,                         /* len 75 */
		0x09, 0, 0, 0,                         /* MKDIR */
		0x0e, 0, 0, 0, 0, 0, 0, 0,             /* unique 14 */
		0x01, 0, 0, 0, 0, 0, 0, 0,             /* nodeid 1 */
		0xe8, 0x03, 0, 0, 0xe8, 0x03, 0, 0,    /* uid 1000, gid 1000 */
		0xd2, 0x04, 0, 0,                      /* pid 1234 */
		0x03, 0, 0, 0,                         /* total_extlen 3, padding */
		0xed, 0x01, 0, 0, 0x12, 0, 0, 0,       /* mode 0755, umask 022 */
		'd', '1', 0,                           /* name */
		0x08, 0, 0, 0, 0, 0, 0, 0,             /* secctx header: size 8, nr_secctx 0 */
		0x10, 0, 0, 0, 0x20, 0, 0, 0,          /* ext header: size 16, type 32 */
		0x01, 0, 0, 0, 0x64, 0, 0, 0,          /* nr_groups 1, gid 100 */
	};
	struct fp_msg m;
	fp_msg_init(&m);
	struct fp_conn conn = FP_CONN_NEWEST;
	snprintf(check_ctx, sizeof(check_ctx), "MKDIR example");
	int st = fp_decode(&m, msg, sizeof(msg), FP_FROM_KERNEL, &conn, NULL);
	if (st != FP_OK)
		print_error("%s at %u\n", m.reason, m.bad_off);
	CHECK_INT(st, FP_OK);
	CHECK(m.op == fp_op_get(FP_MKDIR));
	CHECK_INT(m.h.total_extlen, 3);
	CHECK_INT(m.h.uid, 1000);
	CHECK_INT(m.h.pid, 1234);
	CHECK_INT(m.v[fp_msg_find(&m, "mode")].u, 0x1ed);
	CHECK_INT(m.v[fp_msg_find(&m, "umask")].u, 0x12);
	long name = fp_msg_find(&m, "name");
	CHECK(name >= 0);
	CHECK_INT(m.v[name].len, 3);
	CHECK_MEM(m.v[name].p, "d1", 3);
	CHECK_INT(m.v[name].off, 40 + 8);

	long ext = fp_msg_find(&m, "ext");
	CHECK(ext >= 0);
	CHECK_INT(m.v[ext].f->kind, FP_K_EXT);
	CHECK_INT(m.v[ext].off, 40 + 11);
	CHECK_INT(m.v[ext].len, 24);
	CHECK_INT(m.v[ext].u, 2);
	long sec = fp_msg_child(&m, ext, 0), grp = fp_msg_child(&m, ext, 1);
	CHECK(sec >= 0 && grp >= 0);
	CHECK_INT(fp_msg_child(&m, ext, 2), -1);
	CHECK(m.v[sec].vflags & FP_V_ELEM);
	CHECK(m.v[sec].st == fp_ext_layout(0));
	CHECK_INT(m.v[sec].len, 8);
	CHECK_INT(m.v[fp_msg_field(&m, sec, "size")].u, 8);
	CHECK_INT(m.v[fp_msg_field(&m, sec, "nr_secctx")].u, 0);
	long ctxs = fp_msg_field(&m, sec, "secctx");
	CHECK(ctxs >= 0);
	CHECK_INT(m.v[ctxs].u, 0);
	CHECK(m.v[grp].st == fp_ext_layout(FP_EXT_GROUPS));
	CHECK_INT(m.v[grp].off, 40 + 19);
	CHECK_INT(m.v[grp].len, 16);
	CHECK_INT(m.v[fp_msg_field(&m, grp, "size")].u, 16);
	CHECK_INT(m.v[fp_msg_field(&m, grp, "type")].u, FP_EXT_GROUPS);
	CHECK_INT(m.v[fp_msg_field(&m, grp, "nr_groups")].u, 1);
	long groups = fp_msg_field(&m, grp, "groups");
	CHECK(groups >= 0);
	CHECK_INT(m.v[groups].u, 1);
	long g0 = fp_msg_child(&m, groups, 0);
	CHECK_INT(m.v[fp_msg_field(&m, g0, "gid")].u, 100);

	/* back to the same bytes, as decoded and with fix-up (its lengths are already right) */
	uint8_t out[sizeof(msg) + 16];
	char why[160];
	CHECK_STR(msgsample_reencode(&m, msg, sizeof(msg), out, why, sizeof(why)) ? why : "same",
		  "same");

	struct fp_sbuf t = {0};
	fp_format_text(&t, &m, 0);
	CHECK_STR(t.s, "MKDIR #14 nodeid=1 mode=0755 umask=022 name=\"d1\" ext=[{size=8 nr_secctx=0 "
		       "secctx=[]} {size=16 type=32 nr_groups=1 groups=[{gid=100}]}]");
	fp_sbuf_free(&t);
	fp_msg_free(&m);
}

/* A security-context block as the kernel writes it (fuse.h, get_security_context): header
 * {size of the block, nr_secctx}, then per context fuse_secctx {size of ctx}, name\0, ctx,
 * zero-padded to 8 from the start of the fuse_secctx. */
static void test_secctx_extension(void **state)
{
	(void)state;
	static const uint8_t msg[91] = {
		0x5b, 0, 0, 0, 0x09, 0, 0, 0,                 /* len 91, MKDIR */
		0x0e, 0, 0, 0, 0, 0, 0, 0,                    /* unique 14 */
		0x01, 0, 0, 0, 0, 0, 0, 0,                    /* nodeid 1 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,           /* uid gid pid */
		0x05, 0, 0, 0,                                /* total_extlen 5 */
		0xed, 0x01, 0, 0, 0x12, 0, 0, 0, 'd', '1', 0, /* mode, umask, name */
		0x28, 0, 0, 0, 0x01, 0, 0, 0,                 /* block: size 40, nr_secctx 1 */
		0x06, 0, 0, 0, 0, 0, 0, 0,                    /* fuse_secctx: size 6 */
		's', 'e', 'c', 'u', 'r', 'i', 't', 'y', '.', 's', 'e', 'l', 'i', 'n', 'u', 'x', 0,
		'u', ':', 'r', ':', 't', 0,                   /* ctx, 6 bytes */
		0,                                            /* pad: 8 + 17 + 6 = 31 -> 32 */
	};
	struct fp_msg m;
	fp_msg_init(&m);
	snprintf(check_ctx, sizeof(check_ctx), "MKDIR with a security context");
	CHECK_INT(fp_decode(&m, msg, sizeof(msg), FP_FROM_KERNEL, NULL, NULL), FP_OK);
	long ext = fp_msg_find(&m, "ext");
	CHECK(ext >= 0);
	CHECK_INT(m.v[ext].u, 1);
	CHECK_INT(m.v[ext].len, 40);
	long rec = fp_msg_child(&m, ext, 0);
	CHECK_INT(m.v[fp_msg_field(&m, rec, "size")].u, 40);
	CHECK_INT(m.v[fp_msg_field(&m, rec, "nr_secctx")].u, 1);
	CHECK_INT(m.v[fp_msg_field(&m, rec, "padding")].len, 0);
	long one = fp_msg_find(&m, "ext.0.secctx.0");
	CHECK(one >= 0);
	CHECK_INT(m.v[one].off, 40 + 19);
	CHECK_INT(m.v[one].len, 32);
	CHECK_INT(m.v[fp_msg_field(&m, one, "size")].u, 6);
	long name = fp_msg_field(&m, one, "name");
	CHECK_INT(m.v[name].len, 17);
	CHECK_MEM(m.v[name].p, "security.selinux", 17);
	long sctx = fp_msg_field(&m, one, "ctx");
	CHECK_INT(m.v[sctx].len, 6);
	CHECK_MEM(m.v[sctx].p, "u:r:t", 6);
	CHECK_INT(m.v[fp_msg_field(&m, one, "align")].len, 1);

	/* back to the same bytes, as decoded and with fix-up (its lengths are already right) */
	uint8_t out[sizeof(msg) + 16];
	char why[160];
	CHECK_STR(msgsample_reencode(&m, msg, sizeof(msg), out, why, sizeof(why)) ? why : "same",
		  "same");
	struct fp_sbuf t = {0};
	fp_format_text(&t, &m, 0);
	CHECK_STR(t.s, "MKDIR #14 nodeid=1 mode=0755 umask=022 name=\"d1\" ext=[{size=40 nr_secctx=1 "
		       "secctx=[{size=6 name=\"security.selinux\" ctx=\"u:r:t\\x00\"}]}]");
	fp_sbuf_free(&t);
	fp_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_sizes_add_up),
		cmocka_unit_test(test_sizes_match_abi),
		cmocka_unit_test(test_compat_sizes),
		cmocka_unit_test(test_field_invariants),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_lookup_bytes),
		cmocka_unit_test(test_mkdir_extension_example),
		cmocka_unit_test(test_secctx_extension),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
