/* Notifications (daemon to kernel, unique 0) and the NOTIFY_REPLY request that answers RETRIEVE.
 * uapi structs: fuse_notify_poll_wakeup_out, fuse_notify_inval_inode_out,
 * fuse_notify_inval_entry_out, fuse_notify_store_out, fuse_notify_retrieve_out,
 * fuse_notify_delete_out, fuse_notify_prune_out, fuse_notify_retrieve_in. */

#include "ops/ops.h"

static const struct fp_field poll_wakeup_out_s_f[] = {
	FP_U64("kh", .disp = FP_D_HEX),
};
FP_STRUCT_DEF(static, poll_wakeup_out_s, "fuse_notify_poll_wakeup_out", 8);

static const struct fp_field inval_inode_out_s_f[] = {
	FP_U64("ino"),
	FP_S64("off"),
	FP_S64("len"),
};
FP_STRUCT_DEF(static, inval_inode_out_s, "fuse_notify_inval_inode_out", 24);

/* fuse_notify_inval_entry_out.flags */
static const struct fp_sym inval_entry_flags[] = {
	{ FP_EXPIRE_ONLY, "EXPIRE_ONLY" },
	{ 0, NULL },
};

/* fuse_notify_inval_entry_out (16) + namelen name bytes + NUL */
static const struct fp_field inval_entry_out_s_f[] = {
	FP_U64("parent"),
	FP_U32("namelen", .flags = FP_F_LEN),
	FP_U32("flags", FP_FLAGSYM(inval_entry_flags)),
	FP_STR("name", FP_REF(1)),
};
FP_STRUCT_DEF(static, inval_entry_out_s, "fuse_notify_inval_entry_out", 0);

/* fuse_notify_store_out (24) + size bytes of data */
static const struct fp_field store_out_s_f[] = {
	FP_U64("nodeid"),
	FP_U64("offset"),
	FP_U32("size", .flags = FP_F_LEN),
	FP_PAD32("padding"),
	FP_BYTES("data", .disp = FP_D_DATA, FP_REF(2)),
};
FP_STRUCT_DEF(static, store_out_s, "fuse_notify_store_out", 0);

/* The kernel answers with a NOTIFY_REPLY request whose hdr.unique is notify_unique. */
static const struct fp_field retrieve_out_s_f[] = {
	FP_U64("notify_unique", .disp = FP_D_HEX),
	FP_U64("nodeid"),
	FP_U64("offset"),
	FP_U32("size"),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, retrieve_out_s, "fuse_notify_retrieve_out", 32);

/* fuse_notify_delete_out (24) + namelen name bytes + NUL */
static const struct fp_field delete_out_s_f[] = {
	FP_U64("parent"),
	FP_U64("child"),
	FP_U32("namelen", .flags = FP_F_LEN),
	FP_PAD32("padding"),
	FP_STR("name", FP_REF(2)),
};
FP_STRUCT_DEF(static, delete_out_s, "fuse_notify_delete_out", 0);

/* One element of the nodeid list after fuse_notify_prune_out (not a uapi struct). */
static const struct fp_field prune_nodeid_s_f[] = {
	FP_U64("nodeid"),
};
FP_STRUCT_DEF(static, prune_nodeid_s, "prune_nodeid", 8);

/* fuse_notify_prune_out (16) + count u64 nodeids */
static const struct fp_field prune_out_s_f[] = {
	FP_U32("count", .flags = FP_F_LEN),
	FP_PAD32("padding"),
	FP_PAD64("spare"),
	FP_ARR("nodeids", prune_nodeid_s, FP_REF(0)),
};
FP_STRUCT_DEF(static, prune_out_s, "fuse_notify_prune_out", 0);

/* NOTIFY_REPLY request: fuse_notify_retrieve_in (40, the size of fuse_write_in) + size
 * bytes of cached data. */
static const struct fp_field retrieve_in_s_f[] = {
	FP_PAD64("dummy1"),
	FP_U64("offset"),
	FP_U32("size", .flags = FP_F_LEN),
	FP_PAD32("dummy2"),
	FP_PAD64("dummy3"),
	FP_PAD64("dummy4"),
	FP_BYTES("data", .disp = FP_D_DATA, FP_REF(2)),
};
FP_STRUCT_DEF(static, retrieve_in_s, "fuse_notify_retrieve_in", 0);

const struct fp_op fp_op_NOTIFY_REPLY = {
	.code = FP_NOTIFY_REPLY, .name = "NOTIFY_REPLY", .family = "notify", .since = 15,
	.flags = FP_OP_NOREPLY, .req = &retrieve_in_s, .rep = NULL,
};

const struct fp_op fp_notify_POLL = {
	.code = FP_NOTIFY_POLL, .name = "NOTIFY_POLL", .family = "notify", .since = 11,
	.flags = FP_OP_NOTIFY, .req = &poll_wakeup_out_s,
};

const struct fp_op fp_notify_INVAL_INODE = {
	.code = FP_NOTIFY_INVAL_INODE, .name = "NOTIFY_INVAL_INODE", .family = "notify",
	.since = 12, .flags = FP_OP_NOTIFY, .req = &inval_inode_out_s,
};

const struct fp_op fp_notify_INVAL_ENTRY = {
	.code = FP_NOTIFY_INVAL_ENTRY, .name = "NOTIFY_INVAL_ENTRY", .family = "notify",
	.since = 12, .flags = FP_OP_NOTIFY, .req = &inval_entry_out_s,
};

const struct fp_op fp_notify_STORE = {
	.code = FP_NOTIFY_STORE, .name = "NOTIFY_STORE", .family = "notify", .since = 15,
	.flags = FP_OP_NOTIFY, .req = &store_out_s,
};

const struct fp_op fp_notify_RETRIEVE = {
	.code = FP_NOTIFY_RETRIEVE, .name = "NOTIFY_RETRIEVE", .family = "notify", .since = 15,
	.flags = FP_OP_NOTIFY, .req = &retrieve_out_s,
};

const struct fp_op fp_notify_DELETE = {
	.code = FP_NOTIFY_DELETE, .name = "NOTIFY_DELETE", .family = "notify", .since = 18,
	.flags = FP_OP_NOTIFY, .req = &delete_out_s,
};

/* No body: every request being processed is queued again with FUSE_UNIQUE_RESEND set. */
const struct fp_op fp_notify_RESEND = {
	.code = FP_NOTIFY_RESEND, .name = "NOTIFY_RESEND", .family = "notify", .since = 40,
	.flags = FP_OP_NOTIFY, .req = NULL,
};

/* No body. */
const struct fp_op fp_notify_INC_EPOCH = {
	.code = FP_NOTIFY_INC_EPOCH, .name = "NOTIFY_INC_EPOCH", .family = "notify", .since = 44,
	.flags = FP_OP_NOTIFY, .req = NULL,
};

const struct fp_op fp_notify_PRUNE = {
	.code = FP_NOTIFY_PRUNE, .name = "NOTIFY_PRUNE", .family = "notify", .since = 45,
	.flags = FP_OP_NOTIFY, .req = &prune_out_s,
};
