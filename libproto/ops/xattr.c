/* Field tables of the extended-attribute opcodes: SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR.
 * uapi structs: fuse_setxattr_in, fuse_getxattr_in, fuse_getxattr_out. */
#include "ops/ops.h"

/* Bit number of FUSE_SETXATTR_EXT in the INIT flags: it makes fuse_setxattr_in 16 bytes. */
#define SETXATTR_EXT_BIT 29
_Static_assert(FP_SETXATTR_EXT == (UINT64_C(1) << SETXATTR_EXT_BIT), "FUSE_SETXATTR_EXT is bit 29");

/* setxattr(2) flags (<sys/xattr.h>) */
static const struct fp_sym xattr_flags[] = {
	{ 1, "XATTR_CREATE" },
	{ 2, "XATTR_REPLACE" },
	{ 0, NULL },
};

static const struct fp_sym setxattr_flags[] = {
	{ FP_SETXATTR_ACL_KILL_SGID, "ACL_KILL_SGID" },
	{ 0, NULL },
};

/*
 * SETXATTR request:
 *   size flags [setxattr_flags padding (FUSE_SETXATTR_EXT)] name\0 value[size]
 */
static const struct fp_field setxattr_in_f[] = {
	FP_U32("size", .flags = FP_F_LEN),
	FP_U32("flags", FP_FLAGSYM(xattr_flags)),
	FP_U32("setxattr_flags", FP_FLAGSYM(setxattr_flags), .need = SETXATTR_EXT_BIT + 1),
	FP_PAD32("padding", .need = SETXATTR_EXT_BIT + 1),
	FP_STR("name"),
	FP_BYTES("value", .disp = FP_D_DATA, FP_REF(0)),
};
FP_STRUCT_DEF(static, setxattr_in, "fuse_setxattr_in", 0);

/* GETXATTR request: size padding name\0. size 0 asks for the value's length only. */
static const struct fp_field getxattr_in_name_f[] = {
	FP_U32("size"),
	FP_PAD32("padding"),
	FP_STR("name"),
};
FP_STRUCT_DEF(static, getxattr_in_name, "fuse_getxattr_in", 0);

/* LISTXATTR request */
static const struct fp_field getxattr_in_f[] = {
	FP_U32("size"),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, getxattr_in, "fuse_getxattr_in", 8);

/* GETXATTR/LISTXATTR reply to a request with size 0: the length needed */
static const struct fp_field getxattr_out_f[] = {
	FP_U32("size"),
	FP_PAD32("padding"),
};
FP_STRUCT_DEF(static, getxattr_out, "fuse_getxattr_out", 8);

/* GETXATTR reply to a request with size > 0: the value, at most size bytes */
static const struct fp_field xattr_value_f[] = {
	FP_BYTES("value", .disp = FP_D_DATA),
};
FP_STRUCT_DEF(static, xattr_value, "xattr_value", 0);

/* LISTXATTR reply to a request with size > 0: name\0 name\0 ... */
static const struct fp_field xattr_names_f[] = {
	FP_BYTES("names", .disp = FP_D_STRLIST),
};
FP_STRUCT_DEF(static, xattr_names, "xattr_names", 0);

static const struct fp_struct *getxattr_reply(uint64_t size)
{
	return size == 0 ? &getxattr_out : &xattr_value;
}

static const struct fp_struct *listxattr_reply(uint64_t size)
{
	return size == 0 ? &getxattr_out : &xattr_names;
}

/* Rows */

const struct fp_op fp_op_SETXATTR = {
	.code = FP_SETXATTR, .name = "SETXATTR", .family = "xattr", .since = 1,
	.req = &setxattr_in, .rep = NULL,
};

const struct fp_op fp_op_GETXATTR = {
	.code = FP_GETXATTR, .name = "GETXATTR", .family = "xattr", .since = 1,
	.req = &getxattr_in_name, .arg = "size", .rep_for = getxattr_reply,
};

const struct fp_op fp_op_LISTXATTR = {
	.code = FP_LISTXATTR, .name = "LISTXATTR", .family = "xattr", .since = 1,
	.req = &getxattr_in, .arg = "size", .rep_for = listxattr_reply,
};

const struct fp_op fp_op_REMOVEXATTR = {
	.code = FP_REMOVEXATTR, .name = "REMOVEXATTR", .family = "xattr", .since = 1,
	.req = &fp_name_s, .rep = NULL,
};
