/* Session setup and teardown: INIT, CUSE_INIT and DESTROY.
 * uapi structs: fuse_init_in, fuse_init_out, cuse_init_in, cuse_init_out. */

#include "ops/ops.h"

/* fuse_init_in (64 bytes since 7.36, 16 before): everything after `flags` is optional,
 * since older kernels send the short form. The 32-bit `flags` is named by the 64-bit
 * table, whose bits 0..31 are the same; flags2 (bits 32..63, valid with INIT_EXT) by
 * the table of those bits shifted down. */
static const struct fp_field init_in_s_f[] = {
	FP_U32("major"),
	FP_U32("minor"),
	FP_U32("max_readahead"),
	FP_U32("flags", FP_FLAGSYM(fp_sym_init_flags)),
	FP_U32("flags2", FP_FLAGSYM(fp_sym_init_flags2), .flags = FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U32("unused", .flags = FP_F_PAD | FP_F_OPT),
};
FP_STRUCT_DEF(static, init_in_s, "fuse_init_in", 64);

/* fuse_init_out (64 bytes; 8 if minor < 5, 24 if minor < 23): the kernel accepts a short
 * reply, so everything after `minor` is optional. */
static const struct fp_field init_out_s_f[] = {
	FP_U32("major"),
	FP_U32("minor"),
	FP_U32("max_readahead", .flags = FP_F_OPT),
	FP_U32("flags", FP_FLAGSYM(fp_sym_init_flags), .flags = FP_F_OPT),
	FP_U16("max_background", .flags = FP_F_OPT),
	FP_U16("congestion_threshold", .flags = FP_F_OPT),
	FP_U32("max_write", .flags = FP_F_OPT),
	FP_U32("time_gran", .flags = FP_F_OPT),
	FP_U16("max_pages", .flags = FP_F_OPT),
	FP_U16("map_alignment", .flags = FP_F_OPT | FP_F_VERBOSE),
	FP_U32("flags2", FP_FLAGSYM(fp_sym_init_flags2), .flags = FP_F_OPT),
	FP_U32("max_stack_depth", .flags = FP_F_OPT | FP_F_VERBOSE),
	FP_U16("request_timeout", .flags = FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
	FP_U16("unused", .flags = FP_F_PAD | FP_F_OPT),
};
FP_STRUCT_DEF(static, init_out_s, "fuse_init_out", 64);

/* cuse_init_in.flags / cuse_init_out.flags */
static const struct fp_sym cuse_init_flags[] = {
	{ FP_CUSE_UNRESTRICTED_IOCTL, "UNRESTRICTED_IOCTL" },
	{ 0, NULL },
};

static const struct fp_field cuse_init_in_s_f[] = {
	FP_U32("major"),
	FP_U32("minor"),
	FP_PAD32("unused"),
	FP_U32("flags", FP_FLAGSYM(cuse_init_flags)),
};
FP_STRUCT_DEF(static, cuse_init_in_s, "cuse_init_in", 16);

/* cuse_init_out (72) + NUL-separated info strings ("DEVNAME=...") to the end. */
static const struct fp_field cuse_init_out_s_f[] = {
	FP_U32("major"),
	FP_U32("minor"),
	FP_PAD32("unused"),
	FP_U32("flags", FP_FLAGSYM(cuse_init_flags)),
	FP_U32("max_read"),
	FP_U32("max_write"),
	FP_U32("dev_major"),
	FP_U32("dev_minor"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_PAD32("spare"),
	FP_BYTES("info", .disp = FP_D_STRLIST),
};
FP_STRUCT_DEF(static, cuse_init_out_s, "cuse_init_out", 0);

const struct fp_op fp_op_INIT = {
	.code = FP_INIT, .name = "INIT", .family = "init", .since = 0,
	.req = &init_in_s, .rep = &init_out_s,
};

const struct fp_op fp_op_CUSE_INIT = {
	.code = FP_CUSE_INIT, .name = "CUSE_INIT", .family = "init", .since = 11,
	.req = &cuse_init_in_s, .rep = &cuse_init_out_s,
};

/* No body either way; the reply is empty. */
const struct fp_op fp_op_DESTROY = {
	.code = FP_DESTROY, .name = "DESTROY", .family = "init", .since = 8,
	.req = NULL, .rep = NULL,
};
