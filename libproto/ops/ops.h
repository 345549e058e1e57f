/* Shorthands for writing field tables, and the list of every opcode and notification row
 * that the family files in ops/ define and optable.c assembles. */
#ifndef FP_OPS_H
#define FP_OPS_H

#include "fuseproto/abi.h"
#include "fuseproto/field.h"
#include "fuseproto/optable.h"

/* Field shorthands: FP_U32("mode", .disp = FP_D_MODE). Extra designators follow the name. */
#define FP_FLD(nm, k, ...) { .name = (nm), .kind = (k), __VA_ARGS__ }
#define FP_U8(nm, ...)  FP_FLD(nm, FP_K_U8, __VA_ARGS__)
#define FP_U16(nm, ...) FP_FLD(nm, FP_K_U16, __VA_ARGS__)
#define FP_U32(nm, ...) FP_FLD(nm, FP_K_U32, __VA_ARGS__)
#define FP_U64(nm, ...) FP_FLD(nm, FP_K_U64, __VA_ARGS__)
#define FP_S32(nm, ...) FP_FLD(nm, FP_K_S32, __VA_ARGS__)
#define FP_S64(nm, ...) FP_FLD(nm, FP_K_S64, __VA_ARGS__)
/* padding, unused, dummy and spare fields */
#define FP_PAD16(nm, ...) FP_FLD(nm, FP_K_U16, .flags = FP_F_PAD, __VA_ARGS__)
#define FP_PAD32(nm, ...) FP_FLD(nm, FP_K_U32, .flags = FP_F_PAD, __VA_ARGS__)
#define FP_PAD64(nm, ...) FP_FLD(nm, FP_K_U64, .flags = FP_F_PAD, __VA_ARGS__)
/* a NUL-terminated name */
#define FP_STR(nm, ...) FP_FLD(nm, FP_K_STR, .disp = FP_D_STR, __VA_ARGS__)
/* bytes: give .disp, and FP_REF(i) for a length held by sibling i (else: the rest) */
#define FP_BYTES(nm, ...) FP_FLD(nm, FP_K_BYTES, __VA_ARGS__)
#define FP_ALIGN8(nm) FP_FLD(nm, FP_K_PAD8, .flags = FP_F_PAD)
#define FP_SUB(nm, s, ...) FP_FLD(nm, FP_K_STRUCT, .sub = &(s), __VA_ARGS__)
#define FP_ARR(nm, s, ...) FP_FLD(nm, FP_K_ARRAY, .sub = &(s), __VA_ARGS__)
#define FP_EXTAREA(nm) FP_FLD(nm, FP_K_EXT)

#define FP_REF(i) .ref = (uint8_t)((i) + 1)
#define FP_FLAGSYM(t) .disp = FP_D_FLAGS, .sym = (t)
#define FP_ENUMSYM(t) .disp = FP_D_ENUM, .sym = (t)

/* Define `const struct fp_struct NAME` from the array NAME##_f, with its full fixed size
 * (0 for a struct with variable parts). */
#define FP_STRUCT_DEF(qual, var, nm, sz) \
	qual const struct fp_struct var = { (nm), var##_f, sizeof(var##_f) / sizeof(var##_f[0]), (sz) }

/* Layouts shared between families. */
extern const struct fp_struct fp_attr_s;        /* fuse_attr (attr.c) */
extern const struct fp_struct fp_attr_out_s;    /* fuse_attr_out (attr.c) */
extern const struct fp_struct fp_entry_out_s;   /* fuse_entry_out (entry.c) */
extern const struct fp_struct fp_open_in_s;     /* fuse_open_in (file.c) */
extern const struct fp_struct fp_open_out_s;    /* fuse_open_out (file.c) */
extern const struct fp_struct fp_create_out_s;  /* fuse_entry_out + fuse_open_out (file.c) */
extern const struct fp_struct fp_read_in_s;     /* fuse_read_in (file.c) */
extern const struct fp_struct fp_release_in_s;  /* fuse_release_in (file.c) */
extern const struct fp_struct fp_fsync_in_s;    /* fuse_fsync_in (file.c) */
extern const struct fp_struct fp_write_out_s;   /* fuse_write_out (file.c) */
extern const struct fp_struct fp_name_s;        /* a single name\0 (entry.c) */
extern const struct fp_struct fp_data_s;        /* raw bytes to the end (file.c) */
extern const struct fp_struct fp_ext_secctx_s;  /* extension record: security contexts (misc.c) */
extern const struct fp_struct fp_ext_groups_s;  /* extension record: FUSE_EXT_GROUPS (misc.c) */
extern const struct fp_struct fp_ext_other_s;   /* extension record of an unknown type (misc.c) */

/* Every opcode row 1..53, as X(NAME), defined by its family as `const struct fp_op fp_op_NAME`;
 * CUSE_INIT (4096) is declared on its own below. */
#define FP_OPCODES(X) \
	X(LOOKUP) X(FORGET) X(GETATTR) X(SETATTR) X(READLINK) X(SYMLINK) X(MKNOD) X(MKDIR) \
	X(UNLINK) X(RMDIR) X(RENAME) X(LINK) X(OPEN) X(READ) X(WRITE) X(STATFS) X(RELEASE) \
	X(FSYNC) X(SETXATTR) X(GETXATTR) X(LISTXATTR) X(REMOVEXATTR) X(FLUSH) X(INIT) \
	X(OPENDIR) X(READDIR) X(RELEASEDIR) X(FSYNCDIR) X(GETLK) X(SETLK) X(SETLKW) X(ACCESS) \
	X(CREATE) X(INTERRUPT) X(BMAP) X(DESTROY) X(IOCTL) X(POLL) X(NOTIFY_REPLY) \
	X(BATCH_FORGET) X(FALLOCATE) X(READDIRPLUS) X(RENAME2) X(LSEEK) X(COPY_FILE_RANGE) \
	X(SETUPMAPPING) X(REMOVEMAPPING) X(SYNCFS) X(TMPFILE) X(STATX) X(COPY_FILE_RANGE_64)

/* Every notification row, as X(NAME), defined in notify.c as `const struct fp_op fp_notify_NAME`. */
#define FP_NOTIFIES(X) \
	X(POLL) X(INVAL_INODE) X(INVAL_ENTRY) X(STORE) X(RETRIEVE) X(DELETE) X(RESEND) \
	X(INC_EPOCH) X(PRUNE)

#define FP_DECLARE_OP(n) extern const struct fp_op fp_op_##n;
#define FP_DECLARE_NOTIFY(n) extern const struct fp_op fp_notify_##n;
FP_OPCODES(FP_DECLARE_OP)
FP_NOTIFIES(FP_DECLARE_NOTIFY)
extern const struct fp_op fp_op_CUSE_INIT;
#undef FP_DECLARE_OP
#undef FP_DECLARE_NOTIFY

#endif
