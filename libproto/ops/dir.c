/* Field tables of the directory opcodes: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
 * uapi structs: fuse_dirent, fuse_direntplus (requests and OPENDIR reply use the shared
 * fuse_open_in, fuse_open_out, fuse_read_in, fuse_release_in, fuse_fsync_in from file.c). */
#include "ops/ops.h"

/*
 * One READDIR record; READDIRPLUS records end with one too:
 *   ino off namelen type name[namelen] (no NUL) zero padding to a multiple of 8
 * The padding counts from the start of the enclosing array element, so the same layout
 * serves inside fuse_direntplus (whose fixed part, 128 + 24 bytes, is a multiple of 8).
 */
static const struct fp_field dirent_f[] = {
	FP_U64("ino"),
	FP_U64("off"),
	FP_U32("namelen", .flags = FP_F_LEN),
	FP_U32("type", FP_ENUMSYM(fp_sym_dtype)),
	FP_BYTES("name", .disp = FP_D_STR, FP_REF(2)),
	FP_ALIGN8("padding"),
};
FP_STRUCT_DEF(static, dirent, "fuse_dirent", 0);

/* READDIR reply: whole records up to the end of the message */
static const struct fp_field dirents_f[] = {
	FP_ARR("entries", dirent),
};
FP_STRUCT_DEF(static, dirents, "fuse_dirents", 0);

/* One READDIRPLUS record: fuse_entry_out (128), then the fuse_dirent record */
static const struct fp_field direntplus_f[] = {
	FP_SUB("entry_out", fp_entry_out_s),
	FP_SUB("dirent", dirent),
};
FP_STRUCT_DEF(static, direntplus, "fuse_direntplus", 0);

/* READDIRPLUS reply: whole records up to the end of the message */
static const struct fp_field direntplus_list_f[] = {
	FP_ARR("entries", direntplus),
};
FP_STRUCT_DEF(static, direntplus_list, "fuse_direntplus_list", 0);

/* Rows */

const struct fp_op fp_op_OPENDIR = {
	.code = FP_OPENDIR, .name = "OPENDIR", .family = "dir", .since = 1,
	.req = &fp_open_in_s, .rep = &fp_open_out_s,
};

const struct fp_op fp_op_READDIR = {
	.code = FP_READDIR, .name = "READDIR", .family = "dir", .since = 1,
	.req = &fp_read_in_s, .rep = &dirents,
};

const struct fp_op fp_op_READDIRPLUS = {
	.code = FP_READDIRPLUS, .name = "READDIRPLUS", .family = "dir", .since = 21,
	.req = &fp_read_in_s, .rep = &direntplus_list,
};

const struct fp_op fp_op_RELEASEDIR = {
	.code = FP_RELEASEDIR, .name = "RELEASEDIR", .family = "dir", .since = 1,
	.req = &fp_release_in_s, .rep = NULL,
};

const struct fp_op fp_op_FSYNCDIR = {
	.code = FP_FSYNCDIR, .name = "FSYNCDIR", .family = "dir", .since = 2,
	.req = &fp_fsync_in_s, .rep = NULL,
};
