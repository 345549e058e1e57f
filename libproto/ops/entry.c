/* Directory entries and names: LOOKUP, FORGET, BATCH_FORGET, READLINK, SYMLINK, MKNOD, MKDIR,
 * UNLINK, RMDIR, RENAME, RENAME2, LINK.
 * uapi: fuse_entry_out, fuse_forget_in, fuse_forget_one, fuse_batch_forget_in, fuse_mknod_in,
 * fuse_mkdir_in, fuse_rename_in, fuse_rename2_in, fuse_link_in. */
#include "ops/ops.h"

/* fuse_entry_out (128; 120 below 7.9, where fuse_attr lacks blksize and flags) */
static const struct fp_field fp_entry_out_s_f[] = {
	FP_U64("nodeid"),
	FP_U64("generation", .flags = FP_F_VERBOSE),
	FP_U64("entry_valid", .flags = FP_F_VERBOSE),
	FP_U64("attr_valid", .flags = FP_F_VERBOSE),
	FP_U32("entry_valid_nsec", .flags = FP_F_VERBOSE),
	FP_U32("attr_valid_nsec", .flags = FP_F_VERBOSE),
	FP_SUB("attr", fp_attr_s),
};
FP_STRUCT_DEF(, fp_entry_out_s, "fuse_entry_out", 128);

/* a lone name\0: LOOKUP, UNLINK, RMDIR, REMOVEXATTR */
static const struct fp_field fp_name_s_f[] = {
	FP_STR("name"),
};
FP_STRUCT_DEF(, fp_name_s, "name", 0);

/* fuse_forget_in: hdr.nodeid is the inode */
static const struct fp_field forget_in_f[] = {
	FP_U64("nlookup"),
};
FP_STRUCT_DEF(static, forget_in, "fuse_forget_in", 8);

/* fuse_forget_one, the elements of BATCH_FORGET */
static const struct fp_field forget_one_f[] = {
	FP_U64("nodeid"),
	FP_U64("nlookup"),
};
FP_STRUCT_DEF(static, forget_one, "fuse_forget_one", 16);

/* fuse_batch_forget_in + count fuse_forget_one */
static const struct fp_field batch_forget_in_f[] = {
	FP_U32("count", .flags = FP_F_LEN),
	FP_PAD32("dummy"),
	FP_ARR("forgets", forget_one, FP_REF(0)),
};
FP_STRUCT_DEF(static, batch_forget_in, "fuse_batch_forget_in", 0);

/* READLINK reply: the target, not NUL-terminated */
static const struct fp_field readlink_out_f[] = {
	FP_BYTES("target", .disp = FP_D_STR),
};
FP_STRUCT_DEF(static, readlink_out, "readlink_out", 0);

/* SYMLINK: the new entry's name, then the target it points to */
static const struct fp_field symlink_in_f[] = {
	FP_STR("name"),
	FP_STR("target"),
};
FP_STRUCT_DEF(static, symlink_in, "symlink_in", 0);

/* fuse_mknod_in (16; 8 below 7.12) + name */
static const struct fp_field mknod_in_f[] = {
	FP_U32("mode", .disp = FP_D_MODE),
	FP_U32("rdev", .disp = FP_D_HEX),
	FP_U32("umask", .disp = FP_D_OCT, .since = 12),
	FP_PAD32("padding", .since = 12),
	FP_STR("name"),
};
FP_STRUCT_DEF(static, mknod_in, "fuse_mknod_in", 0);

/* fuse_mkdir_in + name */
static const struct fp_field mkdir_in_f[] = {
	FP_U32("mode", .disp = FP_D_MODE),
	FP_U32("umask", .disp = FP_D_OCT),
	FP_STR("name"),
};
FP_STRUCT_DEF(static, mkdir_in, "fuse_mkdir_in", 0);

/* fuse_rename_in + oldname + newname; hdr.nodeid is the old parent */
static const struct fp_field rename_in_f[] = {
	FP_U64("newdir"),
	FP_STR("oldname"),
	FP_STR("newname"),
};
FP_STRUCT_DEF(static, rename_in, "fuse_rename_in", 0);

static const struct fp_sym rename_flags[] = {
	{1, "RENAME_NOREPLACE"},
	{2, "RENAME_EXCHANGE"},
	{4, "RENAME_WHITEOUT"},
	{0, NULL},
};

/* fuse_rename2_in + oldname + newname (the kernel sends RENAME when flags are 0) */
static const struct fp_field rename2_in_f[] = {
	FP_U64("newdir"),
	FP_U32("flags", FP_FLAGSYM(rename_flags)),
	FP_PAD32("padding"),
	FP_STR("oldname"),
	FP_STR("newname"),
};
FP_STRUCT_DEF(static, rename2_in, "fuse_rename2_in", 0);

/* fuse_link_in + newname; hdr.nodeid is the new parent */
static const struct fp_field link_in_f[] = {
	FP_U64("oldnodeid"),
	FP_STR("newname"),
};
FP_STRUCT_DEF(static, link_in, "fuse_link_in", 0);

const struct fp_op fp_op_LOOKUP = {.code = FP_LOOKUP, .name = "LOOKUP", .family = "entry",
	.flags = FP_OP_ENTRY, .req = &fp_name_s, .rep = &fp_entry_out_s};
const struct fp_op fp_op_FORGET = {.code = FP_FORGET, .name = "FORGET", .family = "entry",
	.flags = FP_OP_NOREPLY, .req = &forget_in};
const struct fp_op fp_op_BATCH_FORGET = {.code = FP_BATCH_FORGET, .name = "BATCH_FORGET",
	.family = "entry", .since = 16, .flags = FP_OP_NOREPLY, .req = &batch_forget_in};
const struct fp_op fp_op_READLINK = {.code = FP_READLINK, .name = "READLINK", .family = "entry",
	.rep = &readlink_out};
const struct fp_op fp_op_SYMLINK = {.code = FP_SYMLINK, .name = "SYMLINK", .family = "entry",
	.since = 1, .flags = FP_OP_EXT | FP_OP_ENTRY, .req = &symlink_in, .rep = &fp_entry_out_s};
const struct fp_op fp_op_MKNOD = {.code = FP_MKNOD, .name = "MKNOD", .family = "entry",
	.since = 1, .flags = FP_OP_EXT | FP_OP_ENTRY, .req = &mknod_in, .rep = &fp_entry_out_s};
const struct fp_op fp_op_MKDIR = {.code = FP_MKDIR, .name = "MKDIR", .family = "entry",
	.since = 1, .flags = FP_OP_EXT | FP_OP_ENTRY, .req = &mkdir_in, .rep = &fp_entry_out_s};
const struct fp_op fp_op_UNLINK = {.code = FP_UNLINK, .name = "UNLINK", .family = "entry",
	.since = 1, .req = &fp_name_s};
const struct fp_op fp_op_RMDIR = {.code = FP_RMDIR, .name = "RMDIR", .family = "entry",
	.since = 1, .req = &fp_name_s};
const struct fp_op fp_op_RENAME = {.code = FP_RENAME, .name = "RENAME", .family = "entry",
	.since = 1, .req = &rename_in};
const struct fp_op fp_op_RENAME2 = {.code = FP_RENAME2, .name = "RENAME2", .family = "entry",
	.since = 23, .req = &rename2_in};
const struct fp_op fp_op_LINK = {.code = FP_LINK, .name = "LINK", .family = "entry",
	.since = 1, .flags = FP_OP_ENTRY, .req = &link_in, .rep = &fp_entry_out_s};
