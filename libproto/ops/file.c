/* Field tables of the file opcodes: OPEN, CREATE, TMPFILE, READ, WRITE, RELEASE, FLUSH, FSYNC,
 * FALLOCATE, LSEEK, COPY_FILE_RANGE(_64).
 * uapi structs: fuse_open_in, fuse_open_out, fuse_create_in, fuse_read_in, fuse_write_in,
 * fuse_write_out, fuse_release_in, fuse_flush_in, fuse_fsync_in, fuse_fallocate_in,
 * fuse_lseek_in, fuse_lseek_out, fuse_copy_file_range_in, fuse_copy_file_range_out;
 * CREATE/TMPFILE replies are fuse_entry_out + fuse_open_out. */
#include "ops/ops.h"

/* fuse_open_in.open_flags and fuse_create_in.open_flags */
static const struct fp_sym open_in_flags[] = {
	{ FP_OPEN_KILL_SUIDGID, "KILL_SUIDGID" },
	{ 0, NULL },
};

/* fuse_open_out.open_flags (FOPEN_*) */
static const struct fp_sym fopen_flags[] = {
	{ FP_FOPEN_DIRECT_IO, "DIRECT_IO" },
	{ FP_FOPEN_KEEP_CACHE, "KEEP_CACHE" },
	{ FP_FOPEN_NONSEEKABLE, "NONSEEKABLE" },
	{ FP_FOPEN_CACHE_DIR, "CACHE_DIR" },
	{ FP_FOPEN_STREAM, "STREAM" },
	{ FP_FOPEN_NOFLUSH, "NOFLUSH" },
	{ FP_FOPEN_PARALLEL_DIRECT_WRITES, "PARALLEL_DIRECT_WRITES" },
	{ FP_FOPEN_PASSTHROUGH, "PASSTHROUGH" },
	{ 0, NULL },
};

static const struct fp_sym read_flags[] = {
	{ FP_READ_LOCKOWNER, "LOCKOWNER" },
	{ 0, NULL },
};

static const struct fp_sym write_flags[] = {
	{ FP_WRITE_CACHE, "CACHE" },
	{ FP_WRITE_LOCKOWNER, "LOCKOWNER" },
	{ FP_WRITE_KILL_SUIDGID, "KILL_SUIDGID" },
	{ 0, NULL },
};

static const struct fp_sym release_flags[] = {
	{ FP_RELEASE_FLUSH, "FLUSH" },
	{ FP_RELEASE_FLOCK_UNLOCK, "FLOCK_UNLOCK" },
	{ 0, NULL },
};

static const struct fp_sym fsync_flags[] = {
	{ FP_FSYNC_FDATASYNC, "FDATASYNC" },
	{ 0, NULL },
};

/* fallocate(2) mode bits (FALLOC_FL_*, <linux/falloc.h>); not in the FUSE uapi. The kernel
 * forwards only KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE; the others are named for completeness. */
enum {
	FALLOC_KEEP_SIZE = 0x01,
	FALLOC_PUNCH_HOLE = 0x02,
	FALLOC_NO_HIDE_STALE = 0x04,
	FALLOC_COLLAPSE_RANGE = 0x08,
	FALLOC_ZERO_RANGE = 0x10,
	FALLOC_INSERT_RANGE = 0x20,
	FALLOC_UNSHARE_RANGE = 0x40,
};

static const struct fp_sym fallocate_mode[] = {
	{ FALLOC_KEEP_SIZE, "KEEP_SIZE" },
	{ FALLOC_PUNCH_HOLE, "PUNCH_HOLE" },
	{ FALLOC_NO_HIDE_STALE, "NO_HIDE_STALE" },
	{ FALLOC_COLLAPSE_RANGE, "COLLAPSE_RANGE" },
	{ FALLOC_ZERO_RANGE, "ZERO_RANGE" },
	{ FALLOC_INSERT_RANGE, "INSERT_RANGE" },
	{ FALLOC_UNSHARE_RANGE, "UNSHARE_RANGE" },
	{ 0, NULL },
};

/* lseek(2) whence (<unistd.h>; SEEK_DATA/SEEK_HOLE are Linux values) */
static const struct fp_sym lseek_whence[] = {
	{ 0, "SEEK_SET" },
	{ 1, "SEEK_CUR" },
	{ 2, "SEEK_END" },
	{ 3, "SEEK_DATA" },
	{ 4, "SEEK_HOLE" },
	{ 0, NULL },
};

/* Shared layouts (ops.h) */

/* OPEN, OPENDIR request */
static const struct fp_field fp_open_in_s_f[] = {
	FP_U32("flags", .disp = FP_D_OFLAGS),
	FP_U32("open_flags", FP_FLAGSYM(open_in_flags)),
};
FP_STRUCT_DEF(, fp_open_in_s, "fuse_open_in", 8);

/* OPEN, OPENDIR reply; the second half of the CREATE/TMPFILE reply. backing_id only matters
 * with FOPEN_PASSTHROUGH, which a proxy clears. */
static const struct fp_field fp_open_out_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U32("open_flags", FP_FLAGSYM(fopen_flags)),
	FP_S32("backing_id", .flags = FP_F_VERBOSE),
};
FP_STRUCT_DEF(, fp_open_out_s, "fuse_open_out", 16);

/* CREATE, TMPFILE reply: fuse_entry_out (128) then fuse_open_out (16) */
static const struct fp_field fp_create_out_s_f[] = {
	FP_SUB("entry", fp_entry_out_s),
	FP_SUB("open", fp_open_out_s),
};
FP_STRUCT_DEF(, fp_create_out_s, "fuse_create_out", 144);

/* READ, READDIR, READDIRPLUS request. Always 40 bytes on the wire; lock_owner is valid only
 * with READ_LOCKOWNER. */
static const struct fp_field fp_read_in_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("offset"),
	FP_U32("size"),
	FP_U32("read_flags", FP_FLAGSYM(read_flags)),
	FP_U64("lock_owner", .disp = FP_D_HEX, .flags = FP_F_VERBOSE),
	FP_U32("flags", .disp = FP_D_OFLAGS),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(, fp_read_in_s, "fuse_read_in", 40);

/* RELEASE, RELEASEDIR request; lock_owner is valid only with FLOCK_UNLOCK. */
static const struct fp_field fp_release_in_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U32("flags", .disp = FP_D_OFLAGS),
	FP_U32("release_flags", FP_FLAGSYM(release_flags)),
	FP_U64("lock_owner", .disp = FP_D_HEX, .flags = FP_F_VERBOSE),
};
FP_STRUCT_DEF(, fp_release_in_s, "fuse_release_in", 24);

/* FSYNC, FSYNCDIR request */
static const struct fp_field fp_fsync_in_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U32("fsync_flags", FP_FLAGSYM(fsync_flags)),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(, fp_fsync_in_s, "fuse_fsync_in", 16);

/* WRITE, COPY_FILE_RANGE reply */
static const struct fp_field fp_write_out_s_f[] = {
	FP_U32("size"),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(, fp_write_out_s, "fuse_write_out", 8);

/* READ reply: the data, up to the end of the message (a short read means EOF) */
static const struct fp_field fp_data_s_f[] = {
	FP_BYTES("data", .disp = FP_D_DATA),
};
FP_STRUCT_DEF(, fp_data_s, "data", 0);

/* Layouts of this family */

/*
 * CREATE, TMPFILE request (TMPFILE's name is "/"):
 *   flags mode [umask open_flags (7.12)] name\0 [extension area: decoded by the engine]
 * Before 7.12 the body is fuse_open_in {flags, mode} (8 bytes).
 */
static const struct fp_field create_in_f[] = {
	FP_U32("flags", .disp = FP_D_OFLAGS),
	FP_U32("mode", .disp = FP_D_MODE),
	FP_U32("umask", .disp = FP_D_OCT, .since = 12),
	FP_U32("open_flags", FP_FLAGSYM(open_in_flags), .since = 12),
	FP_STR("name"),
};
FP_STRUCT_DEF(static, create_in, "fuse_create_in", 0);

/*
 * WRITE request: fuse_write_in (40; 24 before 7.9) then size bytes of data
 *   fh offset size write_flags [lock_owner flags padding (7.9)] data[size]
 */
static const struct fp_field write_in_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("offset"),
	FP_U32("size", .flags = FP_F_LEN),
	FP_U32("write_flags", FP_FLAGSYM(write_flags)),
	FP_U64("lock_owner", .disp = FP_D_HEX, .flags = FP_F_VERBOSE, .since = 9),
	FP_U32("flags", .disp = FP_D_OFLAGS, .since = 9),
	FP_PAD32("padding", .since = 9),
	FP_BYTES("data", .disp = FP_D_DATA, FP_REF(2)),
};
FP_STRUCT_DEF(static, write_in, "fuse_write_in", 0);

/* FLUSH request; lock_owner is always set (flush is per lock owner). */
static const struct fp_field flush_in_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_PAD32("unused"),
	FP_PAD32("padding"),
	FP_U64("lock_owner", .disp = FP_D_HEX),
};
FP_STRUCT_DEF(static, flush_in, "fuse_flush_in", 24);

static const struct fp_field fallocate_in_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("offset"),
	FP_U64("length"),
	FP_U32("mode", FP_FLAGSYM(fallocate_mode)),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, fallocate_in, "fuse_fallocate_in", 32);

static const struct fp_field lseek_in_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("offset"),
	FP_U32("whence", FP_ENUMSYM(lseek_whence)),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, lseek_in, "fuse_lseek_in", 24);

static const struct fp_field lseek_out_f[] = {
	FP_U64("offset"),
};
FP_STRUCT_DEF(static, lseek_out, "fuse_lseek_out", 8);

/* COPY_FILE_RANGE, COPY_FILE_RANGE_64 request; hdr.nodeid is the source inode. */
static const struct fp_field copy_file_range_in_f[] = {
	FP_U64("fh_in", .disp = FP_D_HEX),
	FP_U64("off_in"),
	FP_U64("nodeid_out"),
	FP_U64("fh_out", .disp = FP_D_HEX),
	FP_U64("off_out"),
	FP_U64("len"),
	FP_U64("flags", .disp = FP_D_HEX),
};
FP_STRUCT_DEF(static, copy_file_range_in, "fuse_copy_file_range_in", 56);

static const struct fp_field copy_file_range_out_f[] = {
	FP_U64("bytes_copied"),
};
FP_STRUCT_DEF(static, copy_file_range_out, "fuse_copy_file_range_out", 8);

/* Rows */

const struct fp_op fp_op_OPEN = {
	.code = FP_OPEN, .name = "OPEN", .family = "file", .since = 1,
	.req = &fp_open_in_s, .rep = &fp_open_out_s,
};

const struct fp_op fp_op_CREATE = {
	.code = FP_CREATE, .name = "CREATE", .family = "file", .since = 3,
	.flags = FP_OP_EXT | FP_OP_ENTRY,
	.req = &create_in, .rep = &fp_create_out_s,
};

const struct fp_op fp_op_TMPFILE = {
	.code = FP_TMPFILE, .name = "TMPFILE", .family = "file", .since = 37,
	.flags = FP_OP_EXT | FP_OP_ENTRY,
	.req = &create_in, .rep = &fp_create_out_s,
};

const struct fp_op fp_op_READ = {
	.code = FP_READ, .name = "READ", .family = "file", .since = 1,
	.req = &fp_read_in_s, .rep = &fp_data_s,
};

const struct fp_op fp_op_WRITE = {
	.code = FP_WRITE, .name = "WRITE", .family = "file", .since = 1,
	.req = &write_in, .rep = &fp_write_out_s,
};

const struct fp_op fp_op_RELEASE = {
	.code = FP_RELEASE, .name = "RELEASE", .family = "file", .since = 1,
	.req = &fp_release_in_s, .rep = NULL,
};

const struct fp_op fp_op_FLUSH = {
	.code = FP_FLUSH, .name = "FLUSH", .family = "file", .since = 1,
	.req = &flush_in, .rep = NULL,
};

const struct fp_op fp_op_FSYNC = {
	.code = FP_FSYNC, .name = "FSYNC", .family = "file", .since = 1,
	.req = &fp_fsync_in_s, .rep = NULL,
};

const struct fp_op fp_op_FALLOCATE = {
	.code = FP_FALLOCATE, .name = "FALLOCATE", .family = "file", .since = 19,
	.req = &fallocate_in, .rep = NULL,
};

const struct fp_op fp_op_LSEEK = {
	.code = FP_LSEEK, .name = "LSEEK", .family = "file", .since = 24,
	.req = &lseek_in, .rep = &lseek_out,
};

const struct fp_op fp_op_COPY_FILE_RANGE = {
	.code = FP_COPY_FILE_RANGE, .name = "COPY_FILE_RANGE", .family = "file", .since = 28,
	.req = &copy_file_range_in, .rep = &fp_write_out_s,
};

const struct fp_op fp_op_COPY_FILE_RANGE_64 = {
	.code = FP_COPY_FILE_RANGE_64, .name = "COPY_FILE_RANGE_64", .family = "file",
	.since = 45,
	.req = &copy_file_range_in, .rep = &copy_file_range_out,
};
