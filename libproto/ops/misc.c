/* Odd requests (INTERRUPT, BMAP, IOCTL, POLL, DAX mappings, SYNCFS) and the request extension records.
 * uapi structs: fuse_interrupt_in, fuse_bmap_in, fuse_bmap_out, fuse_ioctl_in, fuse_ioctl_out,
 * fuse_ioctl_iovec, fuse_poll_in, fuse_poll_out, fuse_setupmapping_in, fuse_removemapping_in,
 * fuse_removemapping_one, fuse_syncfs_in, fuse_secctx_header, fuse_secctx, fuse_ext_header,
 * fuse_supp_groups. */

#include "ops/ops.h"

/* ---- INTERRUPT ---------------------------------------------------------------------- */

/* hdr.unique is the interrupted request's unique | 1. */
static const struct fp_field interrupt_in_s_f[] = {
	FP_U64("unique"),
};
FP_STRUCT_DEF(static, interrupt_in_s, "fuse_interrupt_in", 8);

/* ---- BMAP (fuseblk only) ------------------------------------------------------------ */

static const struct fp_field bmap_in_s_f[] = {
	FP_U64("block"),
	FP_U32("blocksize"),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, bmap_in_s, "fuse_bmap_in", 16);

static const struct fp_field bmap_out_s_f[] = {
	FP_U64("block"),
};
FP_STRUCT_DEF(static, bmap_out_s, "fuse_bmap_out", 8);

/* ---- IOCTL -------------------------------------------------------------------------- */

/* fuse_ioctl_in.flags / fuse_ioctl_out.flags */
static const struct fp_sym ioctl_flags[] = {
	{ FP_IOCTL_COMPAT, "COMPAT" },
	{ FP_IOCTL_UNRESTRICTED, "UNRESTRICTED" },
	{ FP_IOCTL_RETRY, "RETRY" },
	{ FP_IOCTL_32BIT, "32BIT" },
	{ FP_IOCTL_DIR, "DIR" },
	{ FP_IOCTL_COMPAT_X32, "COMPAT_X32" },
	{ 0, NULL },
};

/* fuse_ioctl_in (32) + in_size bytes of input */
static const struct fp_field ioctl_in_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U32("flags", FP_FLAGSYM(ioctl_flags)),
	FP_U32("cmd", .disp = FP_D_HEX),
	FP_U64("arg", .disp = FP_D_HEX),
	FP_U32("in_size", .flags = FP_F_LEN),
	FP_U32("out_size"),
	FP_BYTES("in_data", .disp = FP_D_DATA, FP_REF(4)),
};
FP_STRUCT_DEF(static, ioctl_in_s, "fuse_ioctl_in", 0);

static const struct fp_field ioctl_iovec_s_f[] = {
	FP_U64("base", .disp = FP_D_HEX),
	FP_U64("len"),
};
FP_STRUCT_DEF(static, ioctl_iovec_s, "fuse_ioctl_iovec", 16);

/* fuse_ioctl_out (16) + in_iovs and out_iovs iovecs (with RETRY) + output data to the end
 * (without RETRY, when both counts are 0). */
static const struct fp_field ioctl_out_s_f[] = {
	FP_S32("result"),
	FP_U32("flags", FP_FLAGSYM(ioctl_flags)),
	FP_U32("in_iovs", .flags = FP_F_LEN),
	FP_U32("out_iovs", .flags = FP_F_LEN),
	FP_ARR("in_iov", ioctl_iovec_s, FP_REF(2)),
	FP_ARR("out_iov", ioctl_iovec_s, FP_REF(3)),
	FP_BYTES("out_data", .disp = FP_D_DATA),
};
FP_STRUCT_DEF(static, ioctl_out_s, "fuse_ioctl_out", 0);

/* ---- POLL --------------------------------------------------------------------------- */

/* fuse_poll_in.flags */
static const struct fp_sym poll_flags[] = {
	{ FP_POLL_SCHEDULE_NOTIFY, "SCHEDULE_NOTIFY" },
	{ 0, NULL },
};

/* poll(2) events as the kernel puts them on the wire (mangle_poll: the generic values,
 * whatever the host architecture's POLL* are). */
static const struct fp_sym poll_events[] = {
	{ 0x0001, "POLLIN" },
	{ 0x0002, "POLLPRI" },
	{ 0x0004, "POLLOUT" },
	{ 0x0008, "POLLERR" },
	{ 0x0010, "POLLHUP" },
	{ 0x0020, "POLLNVAL" },
	{ 0x0040, "POLLRDNORM" },
	{ 0x0080, "POLLRDBAND" },
	{ 0x0100, "POLLWRNORM" },
	{ 0x0200, "POLLWRBAND" },
	{ 0x0400, "POLLMSG" },
	{ 0x2000, "POLLRDHUP" },
	{ 0, NULL },
};

/* events was padding (zero) before 7.21; same offset and size. */
static const struct fp_field poll_in_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("kh", .disp = FP_D_HEX),
	FP_U32("flags", FP_FLAGSYM(poll_flags)),
	FP_U32("events", FP_FLAGSYM(poll_events)),
};
FP_STRUCT_DEF(static, poll_in_s, "fuse_poll_in", 24);

static const struct fp_field poll_out_s_f[] = {
	FP_U32("revents", FP_FLAGSYM(poll_events)),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, poll_out_s, "fuse_poll_out", 8);

/* ---- SETUPMAPPING / REMOVEMAPPING (virtiofs DAX only) -------------------------------- */

/* fuse_setupmapping_in.flags (64-bit) */
static const struct fp_sym setupmapping_flags[] = {
	{ FP_SETUPMAPPING_FLAG_WRITE, "WRITE" },
	{ FP_SETUPMAPPING_FLAG_READ, "READ" },
	{ 0, NULL },
};

static const struct fp_field setupmapping_in_s_f[] = {
	FP_U64("fh", .disp = FP_D_HEX),
	FP_U64("foffset"),
	FP_U64("len"),
	FP_U64("flags", FP_FLAGSYM(setupmapping_flags)),
	FP_U64("moffset"),
};
FP_STRUCT_DEF(static, setupmapping_in_s, "fuse_setupmapping_in", 40);

static const struct fp_field removemapping_one_s_f[] = {
	FP_U64("moffset"),
	FP_U64("len"),
};
FP_STRUCT_DEF(static, removemapping_one_s, "fuse_removemapping_one", 16);

/* fuse_removemapping_in (4) + count fuse_removemapping_one */
static const struct fp_field removemapping_in_s_f[] = {
	FP_U32("count", .flags = FP_F_LEN),
	FP_ARR("mappings", removemapping_one_s, FP_REF(0)),
};
FP_STRUCT_DEF(static, removemapping_in_s, "fuse_removemapping_in", 0);

/* ---- SYNCFS ------------------------------------------------------------------------- */

static const struct fp_field syncfs_in_s_f[] = {
	FP_PAD64("padding"),
};
FP_STRUCT_DEF(static, syncfs_in_s, "fuse_syncfs_in", 8);

/* ---- Rows --------------------------------------------------------------------------- */

/* The daemon normally sends no reply; if it does (-EAGAIN, -ENOSYS) it is header-only. */
const struct fp_op fp_op_INTERRUPT = {
	.code = FP_INTERRUPT, .name = "INTERRUPT", .family = "misc", .since = 7,
	.flags = FP_OP_NOREPLY, .req = &interrupt_in_s, .rep = NULL,
};

const struct fp_op fp_op_BMAP = {
	.code = FP_BMAP, .name = "BMAP", .family = "misc", .since = 8,
	.req = &bmap_in_s, .rep = &bmap_out_s,
};

const struct fp_op fp_op_IOCTL = {
	.code = FP_IOCTL, .name = "IOCTL", .family = "misc", .since = 11,
	.req = &ioctl_in_s, .rep = &ioctl_out_s,
};

const struct fp_op fp_op_POLL = {
	.code = FP_POLL, .name = "POLL", .family = "misc", .since = 11,
	.req = &poll_in_s, .rep = &poll_out_s,
};

const struct fp_op fp_op_SETUPMAPPING = {
	.code = FP_SETUPMAPPING, .name = "SETUPMAPPING", .family = "misc", .since = 31,
	.req = &setupmapping_in_s, .rep = NULL,
};

const struct fp_op fp_op_REMOVEMAPPING = {
	.code = FP_REMOVEMAPPING, .name = "REMOVEMAPPING", .family = "misc", .since = 31,
	.req = &removemapping_in_s, .rep = NULL,
};

const struct fp_op fp_op_SYNCFS = {
	.code = FP_SYNCFS, .name = "SYNCFS", .family = "misc", .since = 34,
	.req = &syncfs_in_s, .rep = NULL,
};

/* ---- Request extension records (shared, declared in ops.h) -------------------------- */

/*
 * The extension area is the last total_extlen*8 bytes of a CREATE, MKNOD, MKDIR, SYMLINK
 * or TMPFILE request, a sequence of records each starting with {u32 size, u32 type}, size
 * covering the whole record. The engine splits the records and picks a layout by type;
 * each record is an area of its own. Example (MKDIR, 24 bytes):
 *
 *   08000000 00000000 | 10000000 20000000 01000000 64000000
 *   secctx: size 8,     groups: size 16, type 32,
 *   nr_secctx 0         nr_groups 1, gid 100
 */

/* One security context: fuse_secctx {size = ctx length, padding}, name\0, ctx bytes,
 * padded to 8 (FUSE_REC_ALIGN(8 + strlen(name) + 1 + size)). */
static const struct fp_field secctx_s_f[] = {
	FP_U32("size", .flags = FP_F_LEN),
	FP_PAD32("padding"),
	FP_STR("name"),
	FP_BYTES("ctx", .disp = FP_D_STR, FP_REF(0)),
	FP_ALIGN8("align"),
};
FP_STRUCT_DEF(static, secctx_s, "fuse_secctx", 0);

/* Type 0..FUSE_MAX_NR_SECCTX (31): the type slot is nr_secctx. */
static const struct fp_field fp_ext_secctx_s_f[] = {
	FP_U32("size"),
	FP_U32("nr_secctx", .flags = FP_F_LEN),
	FP_ARR("secctx", secctx_s, FP_REF(1)),
	FP_BYTES("padding", .disp = FP_D_DATA, .flags = FP_F_PAD),
};
FP_STRUCT_DEF(, fp_ext_secctx_s, "fuse_secctx_header", 0);

/* One supplementary group id (not a uapi struct: fuse_supp_groups.groups[i]). */
static const struct fp_field supp_group_s_f[] = {
	FP_U32("gid"),
};
FP_STRUCT_DEF(static, supp_group_s, "supp_group", 4);

/* Type 32, FUSE_EXT_GROUPS: fuse_ext_header + fuse_supp_groups + nr_groups gids. */
static const struct fp_field fp_ext_groups_s_f[] = {
	FP_U32("size"),
	FP_U32("type"),
	FP_U32("nr_groups", .flags = FP_F_LEN),
	FP_ARR("groups", supp_group_s, FP_REF(2)),
	FP_BYTES("padding", .disp = FP_D_DATA, .flags = FP_F_PAD),
};
FP_STRUCT_DEF(, fp_ext_groups_s, "fuse_supp_groups", 0);

/* Any other type: fuse_ext_header + the rest of the record as raw data. */
static const struct fp_field fp_ext_other_s_f[] = {
	FP_U32("size"),
	FP_U32("type"),
	FP_BYTES("data", .disp = FP_D_DATA),
};
FP_STRUCT_DEF(, fp_ext_other_s, "fuse_ext_header", 0);
