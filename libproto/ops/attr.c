/* Attributes: GETATTR, SETATTR, STATX, STATFS, ACCESS.
 * uapi: fuse_attr, fuse_attr_out, fuse_getattr_in, fuse_setattr_in, fuse_statx_in,
 * fuse_statx_out, fuse_statx, fuse_sx_time, fuse_kstatfs, fuse_statfs_out, fuse_access_in. */
#include "ops/ops.h"

static const struct fp_sym attr_flags[] = {
	{FP_ATTR_SUBMOUNT, "SUBMOUNT"},
	{FP_ATTR_DAX, "DAX"},
	{0, NULL},
};

/* fuse_attr (88; 80 below 7.9) */
static const struct fp_field fp_attr_s_f[] = {
	FP_U64("ino"),
	FP_U64("size"),
	FP_U64("blocks", .flags = FP_F_VERBOSE),
	FP_U64("atime"),
	FP_U64("mtime"),
	FP_U64("ctime"),
	FP_U32("atimensec", .flags = FP_F_VERBOSE),
	FP_U32("mtimensec", .flags = FP_F_VERBOSE),
	FP_U32("ctimensec", .flags = FP_F_VERBOSE),
	FP_U32("mode", .disp = FP_D_MODE),
	FP_U32("nlink"),
	FP_U32("uid"),
	FP_U32("gid"),
	FP_U32("rdev", .disp = FP_D_HEX, .flags = FP_F_VERBOSE),
	FP_U32("blksize", .since = 9, .flags = FP_F_VERBOSE),
	FP_U32("flags", .since = 9, .flags = FP_F_VERBOSE, FP_FLAGSYM(attr_flags)),
};
FP_STRUCT_DEF(, fp_attr_s, "fuse_attr", 88);

/* fuse_attr_out (104; 96 below 7.9) */
static const struct fp_field fp_attr_out_s_f[] = {
	FP_U64("attr_valid", .flags = FP_F_VERBOSE),
	FP_U32("attr_valid_nsec", .flags = FP_F_VERBOSE),
	FP_PAD32("dummy"),
	FP_SUB("attr", fp_attr_s),
};
FP_STRUCT_DEF(, fp_attr_out_s, "fuse_attr_out", 104);

static const struct fp_sym getattr_flags[] = {
	{FP_GETATTR_FH, "GETATTR_FH"},
	{0, NULL},
};

/* fuse_getattr_in (16) */
static const struct fp_field getattr_in_f[] = {
	FP_U32("getattr_flags", FP_FLAGSYM(getattr_flags)),
	FP_PAD32("dummy"),
	FP_U64("fh", .disp = FP_D_HEX),
};
FP_STRUCT_DEF(static, getattr_in, "fuse_getattr_in", 16);

static const struct fp_sym fattr_valid[] = {
	{FP_FATTR_MODE, "MODE"},
	{FP_FATTR_UID, "UID"},
	{FP_FATTR_GID, "GID"},
	{FP_FATTR_SIZE, "SIZE"},
	{FP_FATTR_ATIME, "ATIME"},
	{FP_FATTR_MTIME, "MTIME"},
	{FP_FATTR_FH, "FH"},
	{FP_FATTR_ATIME_NOW, "ATIME_NOW"},
	{FP_FATTR_MTIME_NOW, "MTIME_NOW"},
	{FP_FATTR_LOCKOWNER, "LOCKOWNER"},
	{FP_FATTR_CTIME, "CTIME"},
	{FP_FATTR_KILL_SUIDGID, "KILL_SUIDGID"},
	{0, NULL},
};

/* fuse_setattr_in (88): `valid` says which of the other fields count */
static const struct fp_field setattr_in_f[] = {
	FP_U32("valid", FP_FLAGSYM(fattr_valid)),
	FP_PAD32("padding"),
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("size"),
	FP_U64("lock_owner", .disp = FP_D_HEX, .flags = FP_F_VERBOSE),
	FP_U64("atime"),
	FP_U64("mtime"),
	FP_U64("ctime"),
	FP_U32("atimensec", .flags = FP_F_VERBOSE),
	FP_U32("mtimensec", .flags = FP_F_VERBOSE),
	FP_U32("ctimensec", .flags = FP_F_VERBOSE),
	FP_U32("mode", .disp = FP_D_MODE),
	FP_PAD32("unused4"),
	FP_U32("uid"),
	FP_U32("gid"),
	FP_PAD32("unused5"),
};
FP_STRUCT_DEF(static, setattr_in, "fuse_setattr_in", 88);

static const struct fp_sym at_flags[] = {
	{0x100, "AT_SYMLINK_NOFOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},
	{0x1000, "AT_EMPTY_PATH"},
	{0x2000, "AT_STATX_FORCE_SYNC"},
	{0x4000, "AT_STATX_DONT_SYNC"},
	{0, NULL},
};

static const struct fp_sym statx_mask[] = {
	{0x1, "TYPE"},
	{0x2, "MODE"},
	{0x4, "NLINK"},
	{0x8, "UID"},
	{0x10, "GID"},
	{0x20, "ATIME"},
	{0x40, "MTIME"},
	{0x80, "CTIME"},
	{0x100, "INO"},
	{0x200, "SIZE"},
	{0x400, "BLOCKS"},
	{0x800, "BTIME"},
	{0x1000, "MNT_ID"},
	{0x2000, "DIOALIGN"},
	{0x4000, "MNT_ID_UNIQUE"},
	{0x8000, "SUBVOL"},
	{0x10000, "WRITE_ATOMIC"},
	{0x20000, "DIO_READ_ALIGN"},
	{0, NULL},
};

/* fuse_statx_in (24) */
static const struct fp_field statx_in_f[] = {
	FP_U32("getattr_flags", FP_FLAGSYM(getattr_flags)),
	FP_PAD32("reserved"),
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U32("sx_flags", FP_FLAGSYM(at_flags)),
	FP_U32("sx_mask", FP_FLAGSYM(statx_mask)),
};
FP_STRUCT_DEF(static, statx_in, "fuse_statx_in", 24);

/* fuse_sx_time (16) */
static const struct fp_field sx_time_f[] = {
	FP_S64("tv_sec"),
	FP_U32("tv_nsec", .flags = FP_F_VERBOSE),
	FP_FLD("reserved", FP_K_S32, .flags = FP_F_PAD),
};
FP_STRUCT_DEF(static, sx_time, "fuse_sx_time", 16);

/* fuse_statx (256) */
static const struct fp_field statx_f[] = {
	FP_U32("mask", FP_FLAGSYM(statx_mask)),
	FP_U32("blksize", .flags = FP_F_VERBOSE),
	FP_U64("attributes", .disp = FP_D_HEX),
	FP_U32("nlink"),
	FP_U32("uid"),
	FP_U32("gid"),
	FP_U16("mode", .disp = FP_D_MODE),
	FP_PAD16("spare0"),
	FP_U64("ino"),
	FP_U64("size"),
	FP_U64("blocks", .flags = FP_F_VERBOSE),
	FP_U64("attributes_mask", .disp = FP_D_HEX, .flags = FP_F_VERBOSE),
	FP_SUB("atime", sx_time),
	FP_SUB("btime", sx_time),
	FP_SUB("ctime", sx_time),
	FP_SUB("mtime", sx_time),
	FP_U32("rdev_major", .flags = FP_F_VERBOSE),
	FP_U32("rdev_minor", .flags = FP_F_VERBOSE),
	FP_U32("dev_major", .flags = FP_F_VERBOSE),
	FP_U32("dev_minor", .flags = FP_F_VERBOSE),
	FP_PAD64("spare2"), FP_PAD64("spare2"), FP_PAD64("spare2"), FP_PAD64("spare2"),
	FP_PAD64("spare2"), FP_PAD64("spare2"), FP_PAD64("spare2"), FP_PAD64("spare2"),
	FP_PAD64("spare2"), FP_PAD64("spare2"), FP_PAD64("spare2"), FP_PAD64("spare2"),
	FP_PAD64("spare2"), FP_PAD64("spare2"),
};
FP_STRUCT_DEF(static, statx, "fuse_statx", 256);

/* fuse_statx_out (288) */
static const struct fp_field statx_out_f[] = {
	FP_U64("attr_valid", .flags = FP_F_VERBOSE),
	FP_U32("attr_valid_nsec", .flags = FP_F_VERBOSE),
	FP_U32("flags", .disp = FP_D_HEX),
	FP_PAD64("spare"),
	FP_PAD64("spare"),
	FP_SUB("stat", statx),
};
FP_STRUCT_DEF(static, statx_out, "fuse_statx_out", 288);

/* fuse_kstatfs (80; 48 below 7.4) */
static const struct fp_field kstatfs_f[] = {
	FP_U64("blocks"),
	FP_U64("bfree"),
	FP_U64("bavail"),
	FP_U64("files"),
	FP_U64("ffree"),
	FP_U32("bsize"),
	FP_U32("namelen"),
	FP_U32("frsize", .since = 4),
	FP_PAD32("padding", .since = 4),
	FP_PAD32("spare", .since = 4), FP_PAD32("spare", .since = 4), FP_PAD32("spare", .since = 4),
	FP_PAD32("spare", .since = 4), FP_PAD32("spare", .since = 4), FP_PAD32("spare", .since = 4),
};
FP_STRUCT_DEF(static, kstatfs, "fuse_kstatfs", 80);

/* fuse_statfs_out (80) */
static const struct fp_field statfs_out_f[] = {
	FP_SUB("st", kstatfs),
};
FP_STRUCT_DEF(static, statfs_out, "fuse_statfs_out", 80);

static const struct fp_sym access_mask[] = {
	{4, "R_OK"},
	{2, "W_OK"},
	{1, "X_OK"},
	{0, NULL},
};

/* fuse_access_in (8) */
static const struct fp_field access_in_f[] = {
	FP_U32("mask", FP_FLAGSYM(access_mask)),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, access_in, "fuse_access_in", 8);

const struct fp_op fp_op_GETATTR = {.code = FP_GETATTR, .name = "GETATTR", .family = "attr",
	.req = &getattr_in, .rep = &fp_attr_out_s};
const struct fp_op fp_op_SETATTR = {.code = FP_SETATTR, .name = "SETATTR", .family = "attr",
	.since = 1, .req = &setattr_in, .rep = &fp_attr_out_s};
const struct fp_op fp_op_STATX = {.code = FP_STATX, .name = "STATX", .family = "attr",
	.since = 39, .req = &statx_in, .rep = &statx_out};
const struct fp_op fp_op_STATFS = {.code = FP_STATFS, .name = "STATFS", .family = "attr",
	.rep = &statfs_out};
const struct fp_op fp_op_ACCESS = {.code = FP_ACCESS, .name = "ACCESS", .family = "attr",
	.since = 3, .req = &access_in};
