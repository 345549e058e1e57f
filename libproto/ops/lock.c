/* Field tables of the POSIX and flock lock opcodes: GETLK, SETLK, SETLKW.
 * uapi structs: fuse_file_lock, fuse_lk_in, fuse_lk_out. */
#include "ops/ops.h"

/* fcntl(2) lock types (Linux values) */
static const struct fp_sym lock_type[] = {
	{ 0, "F_RDLCK" },
	{ 1, "F_WRLCK" },
	{ 2, "F_UNLCK" },
	{ 0, NULL },
};

static const struct fp_sym lk_flags[] = {
	{ FP_LK_FLOCK, "FLOCK" },
	{ 0, NULL },
};

static const struct fp_field file_lock_f[] = {
	FP_U64("start"),
	FP_U64("end"),
	FP_U32("type", FP_ENUMSYM(lock_type)),
	FP_U32("pid"),
};
FP_STRUCT_DEF(static, file_lock, "fuse_file_lock", 24);

/* GETLK, SETLK, SETLKW request; LK_FLOCK: a flock(2) lock, not a POSIX one */
static const struct fp_field lk_in_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("owner", .disp = FP_D_HEX),
	FP_SUB("lk", file_lock),
	FP_U32("lk_flags", FP_FLAGSYM(lk_flags)),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, lk_in, "fuse_lk_in", 48);

/* GETLK reply: the conflicting lock, or type F_UNLCK */
static const struct fp_field lk_out_f[] = {
	FP_SUB("lk", file_lock),
};
FP_STRUCT_DEF(static, lk_out, "fuse_lk_out", 24);

/* Rows */

const struct fp_op fp_op_GETLK = {
	.code = FP_GETLK, .name = "GETLK", .family = "lock", .since = 7,
	.req = &lk_in, .rep = &lk_out,
};

const struct fp_op fp_op_SETLK = {
	.code = FP_SETLK, .name = "SETLK", .family = "lock", .since = 7,
	.req = &lk_in, .rep = NULL,
};

const struct fp_op fp_op_SETLKW = {
	.code = FP_SETLKW, .name = "SETLKW", .family = "lock", .since = 7,
	.req = &lk_in, .rep = NULL,
};
