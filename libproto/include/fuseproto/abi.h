/* fusewire's own definitions of every constant and wire struct of the FUSE protocol. */

/*
 * Reference: the Linux 6.18 uapi header include/uapi/linux/fuse.h, protocol
 * 7.45. Written from the facts in the project's protocol notes
 * (PROTOCOL-NOTES.md and struct-layouts.txt), not copied from that header;
 * neither <linux/fuse.h> nor any libfuse header is included.
 *
 * Naming: FUSE_X becomes FP_X, other uapi names (FATTR_*, FOPEN_*, CUSE_*)
 * get an FP_ prefix, and struct fuse_x / cuse_x become struct fp_x /
 * fp_cuse_x with the uapi field names unchanged, except that fields spelt
 * with leading double underscores (__reserved, __spare0, __spare2) lose them,
 * because such identifiers are reserved to the C implementation.
 *
 * The library never casts wire bytes to these structs: decoding goes through
 * a bounds-checked cursor and per-opcode field tables. The structs are here
 * so that every size and offset of the wire format is checked at compile
 * time (the _Static_asserts after each struct) and so tools and tests can
 * build messages. All fields are in host byte order, as on /dev/fuse.
 */

#ifndef FUSEPROTO_ABI_H
#define FUSEPROTO_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Compile-time layout checks; `type` is a struct tag without `struct`. */
#define FP_ABI_CHECK_SIZE(type, size) \
	_Static_assert(sizeof(struct type) == (size), \
		       "struct " #type " must be " #size " bytes")
#define FP_ABI_CHECK_OFF(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), \
		       "struct " #type ": " #field " must be at offset " #off)

/* ------------------------------------------------------------------------ */
/* Version and basic limits                                                 */
/* ------------------------------------------------------------------------ */

/* Protocol version this file describes; the kernel only accepts major 7. */
#define FP_KERNEL_VERSION		7
#define FP_KERNEL_MINOR_VERSION		45

/* Node id of the root inode. */
#define FP_ROOT_ID			1

/* Smallest read(2) buffer /dev/fuse accepts (really max(8192, 80+max_write)). */
#define FP_MIN_READ_BUFFER		8192

/* Longest name the kernel accepts, e.g. in NOTIFY_INVAL_ENTRY. */
#define FP_NAME_MAX			1024

/* uid/gid in the request header when an idmapped mount cannot map the caller. */
#define FP_INVALID_UIDGID		UINT32_C(0xFFFFFFFF)

/* Request ids: even, step 2; bit 0 marks an INTERRUPT id (orig | 1); bit 63
 * marks a request resent after NOTIFY_RESEND. FP_INT_REQ_BIT and
 * FP_REQ_ID_STEP are kernel-side (fs/fuse) values listed in the notes. */
#define FP_UNIQUE_RESEND		(UINT64_C(1) << 63)
#define FP_INT_REQ_BIT			(UINT64_C(1) << 0)
#define FP_REQ_ID_STEP			(UINT64_C(1) << 1)

/* ------------------------------------------------------------------------ */
/* Opcodes and notification codes                                           */
/* ------------------------------------------------------------------------ */

/* Request opcodes (fp_in_header.opcode). 7 and 19 are unused. */
enum fp_opcode {
	FP_LOOKUP		= 1,
	FP_FORGET		= 2,	/* no reply */
	FP_GETATTR		= 3,
	FP_SETATTR		= 4,
	FP_READLINK		= 5,
	FP_SYMLINK		= 6,
	FP_MKNOD		= 8,
	FP_MKDIR		= 9,
	FP_UNLINK		= 10,
	FP_RMDIR		= 11,
	FP_RENAME		= 12,
	FP_LINK			= 13,
	FP_OPEN			= 14,
	FP_READ			= 15,
	FP_WRITE		= 16,
	FP_STATFS		= 17,
	FP_RELEASE		= 18,
	FP_FSYNC		= 20,
	FP_SETXATTR		= 21,
	FP_GETXATTR		= 22,
	FP_LISTXATTR		= 23,
	FP_REMOVEXATTR		= 24,
	FP_FLUSH		= 25,
	FP_INIT			= 26,
	FP_OPENDIR		= 27,
	FP_READDIR		= 28,
	FP_RELEASEDIR		= 29,
	FP_FSYNCDIR		= 30,
	FP_GETLK		= 31,
	FP_SETLK		= 32,
	FP_SETLKW		= 33,
	FP_ACCESS		= 34,
	FP_CREATE		= 35,
	FP_INTERRUPT		= 36,	/* no reply, except -EAGAIN / -ENOSYS */
	FP_BMAP			= 37,
	FP_DESTROY		= 38,
	FP_IOCTL		= 39,
	FP_POLL			= 40,
	FP_NOTIFY_REPLY		= 41,	/* no reply */
	FP_BATCH_FORGET		= 42,	/* no reply */
	FP_FALLOCATE		= 43,
	FP_READDIRPLUS		= 44,
	FP_RENAME2		= 45,
	FP_LSEEK		= 46,
	FP_COPY_FILE_RANGE	= 47,
	FP_SETUPMAPPING		= 48,
	FP_REMOVEMAPPING	= 49,
	FP_SYNCFS		= 50,
	FP_TMPFILE		= 51,
	FP_STATX		= 52,
	FP_COPY_FILE_RANGE_64	= 53,

	/* CUSE */
	FP_CUSE_INIT		= 4096,

	/* Never sent: byte-swapped INIT opcodes, kept to detect endianness. */
	FP_CUSE_INIT_BSWAP_RESERVED	= 1048576,	/* FP_CUSE_INIT << 8 */
	FP_INIT_BSWAP_RESERVED		= 436207616	/* FP_INIT << 24 */
};

/* Highest FUSE (non-CUSE) opcode in 7.45. */
#define FP_OPCODE_MAX			53

/* Notification codes: daemon -> kernel, out.unique == 0, out.error = code. */
enum fp_notify_code {
	FP_NOTIFY_POLL		= 1,
	FP_NOTIFY_INVAL_INODE	= 2,
	FP_NOTIFY_INVAL_ENTRY	= 3,
	FP_NOTIFY_STORE		= 4,
	FP_NOTIFY_RETRIEVE	= 5,
	FP_NOTIFY_DELETE	= 6,
	FP_NOTIFY_RESEND	= 7,
	FP_NOTIFY_INC_EPOCH	= 8,
	FP_NOTIFY_PRUNE		= 9
};

/* Highest notification code in 7.45 (the uapi dropped FUSE_NOTIFY_CODE_MAX). */
#define FP_NOTIFY_CODE_LAST		9

/* ------------------------------------------------------------------------ */
/* INIT flags (64-bit value: init flags | (uint64_t)flags2 << 32)            */
/* ------------------------------------------------------------------------ */

/* Bits 32..63 travel in flags2, which is valid only with FP_INIT_EXT. */
#define FP_ASYNC_READ			(UINT64_C(1) << 0)	/* 7.6 */
#define FP_POSIX_LOCKS			(UINT64_C(1) << 1)	/* 7.7 */
#define FP_FILE_OPS			(UINT64_C(1) << 2)	/* never implemented */
#define FP_ATOMIC_O_TRUNC		(UINT64_C(1) << 3)
#define FP_EXPORT_SUPPORT		(UINT64_C(1) << 4)
#define FP_BIG_WRITES			(UINT64_C(1) << 5)
#define FP_DONT_MASK			(UINT64_C(1) << 6)
#define FP_SPLICE_WRITE			(UINT64_C(1) << 7)	/* informational */
#define FP_SPLICE_MOVE			(UINT64_C(1) << 8)	/* informational */
#define FP_SPLICE_READ			(UINT64_C(1) << 9)	/* informational */
#define FP_FLOCK_LOCKS			(UINT64_C(1) << 10)
#define FP_HAS_IOCTL_DIR		(UINT64_C(1) << 11)
#define FP_AUTO_INVAL_DATA		(UINT64_C(1) << 12)
#define FP_DO_READDIRPLUS		(UINT64_C(1) << 13)
#define FP_READDIRPLUS_AUTO		(UINT64_C(1) << 14)
#define FP_ASYNC_DIO			(UINT64_C(1) << 15)
#define FP_WRITEBACK_CACHE		(UINT64_C(1) << 16)
#define FP_NO_OPEN_SUPPORT		(UINT64_C(1) << 17)
#define FP_PARALLEL_DIROPS		(UINT64_C(1) << 18)
#define FP_HANDLE_KILLPRIV		(UINT64_C(1) << 19)
#define FP_POSIX_ACL			(UINT64_C(1) << 20)
#define FP_ABORT_ERROR			(UINT64_C(1) << 21)
#define FP_MAX_PAGES			(UINT64_C(1) << 22)	/* init_out.max_pages valid */
#define FP_CACHE_SYMLINKS		(UINT64_C(1) << 23)
#define FP_NO_OPENDIR_SUPPORT		(UINT64_C(1) << 24)
#define FP_EXPLICIT_INVAL_DATA		(UINT64_C(1) << 25)
#define FP_MAP_ALIGNMENT		(UINT64_C(1) << 26)	/* DAX only */
#define FP_SUBMOUNTS			(UINT64_C(1) << 27)	/* virtiofs only */
#define FP_HANDLE_KILLPRIV_V2		(UINT64_C(1) << 28)
#define FP_SETXATTR_EXT			(UINT64_C(1) << 29)	/* 16-byte setxattr_in */
#define FP_INIT_EXT			(UINT64_C(1) << 30)	/* flags2 valid */
#define FP_INIT_RESERVED		(UINT64_C(1) << 31)	/* do not use */
#define FP_SECURITY_CTX			(UINT64_C(1) << 32)
#define FP_HAS_INODE_DAX		(UINT64_C(1) << 33)	/* DAX only */
#define FP_CREATE_SUPP_GROUP		(UINT64_C(1) << 34)
#define FP_HAS_EXPIRE_ONLY		(UINT64_C(1) << 35)
#define FP_DIRECT_IO_ALLOW_MMAP		(UINT64_C(1) << 36)
#define FP_PASSTHROUGH			(UINT64_C(1) << 37)
#define FP_NO_EXPORT_SUPPORT		(UINT64_C(1) << 38)
#define FP_HAS_RESEND			(UINT64_C(1) << 39)
#define FP_ALLOW_IDMAP			(UINT64_C(1) << 40)
#define FP_OVER_IO_URING		(UINT64_C(1) << 41)
#define FP_REQUEST_TIMEOUT		(UINT64_C(1) << 42)

/* Old name of FP_DIRECT_IO_ALLOW_MMAP. */
#define FP_DIRECT_IO_RELAX		FP_DIRECT_IO_ALLOW_MMAP

/* CUSE_INIT flags (fp_cuse_init_in/out.flags). */
#define FP_CUSE_UNRESTRICTED_IOCTL	(UINT32_C(1) << 0)

/* ------------------------------------------------------------------------ */
/* Per-request flag values                                                  */
/* ------------------------------------------------------------------------ */

/* fp_setattr_in.valid: which fields of the SETATTR request are set. */
#define FP_FATTR_MODE			(UINT32_C(1) << 0)
#define FP_FATTR_UID			(UINT32_C(1) << 1)
#define FP_FATTR_GID			(UINT32_C(1) << 2)
#define FP_FATTR_SIZE			(UINT32_C(1) << 3)
#define FP_FATTR_ATIME			(UINT32_C(1) << 4)
#define FP_FATTR_MTIME			(UINT32_C(1) << 5)
#define FP_FATTR_FH			(UINT32_C(1) << 6)
#define FP_FATTR_ATIME_NOW		(UINT32_C(1) << 7)
#define FP_FATTR_MTIME_NOW		(UINT32_C(1) << 8)
#define FP_FATTR_LOCKOWNER		(UINT32_C(1) << 9)
#define FP_FATTR_CTIME			(UINT32_C(1) << 10)
#define FP_FATTR_KILL_SUIDGID		(UINT32_C(1) << 11)

/* fp_open_out.open_flags: how the kernel treats the opened file. */
#define FP_FOPEN_DIRECT_IO		(UINT32_C(1) << 0)
#define FP_FOPEN_KEEP_CACHE		(UINT32_C(1) << 1)
#define FP_FOPEN_NONSEEKABLE		(UINT32_C(1) << 2)
#define FP_FOPEN_CACHE_DIR		(UINT32_C(1) << 3)
#define FP_FOPEN_STREAM			(UINT32_C(1) << 4)
#define FP_FOPEN_NOFLUSH		(UINT32_C(1) << 5)	/* 7.35 */
#define FP_FOPEN_PARALLEL_DIRECT_WRITES	(UINT32_C(1) << 6)	/* 7.38 */
#define FP_FOPEN_PASSTHROUGH		(UINT32_C(1) << 7)	/* 7.40, uses backing_id */

/* fp_open_in.open_flags / fp_create_in.open_flags. */
#define FP_OPEN_KILL_SUIDGID		(UINT32_C(1) << 0)

/* fp_release_in.release_flags. */
#define FP_RELEASE_FLUSH		(UINT32_C(1) << 0)
#define FP_RELEASE_FLOCK_UNLOCK		(UINT32_C(1) << 1)

/* fp_getattr_in.getattr_flags: fh is valid. */
#define FP_GETATTR_FH			(UINT32_C(1) << 0)

/* fp_lk_in.lk_flags: the lock is a flock(2) lock. */
#define FP_LK_FLOCK			(UINT32_C(1) << 0)

/* fp_write_in.write_flags. */
#define FP_WRITE_CACHE			(UINT32_C(1) << 0)	/* from page cache, fh guessed */
#define FP_WRITE_LOCKOWNER		(UINT32_C(1) << 1)	/* lock_owner valid */
#define FP_WRITE_KILL_SUIDGID		(UINT32_C(1) << 2)
/* Old name of FP_WRITE_KILL_SUIDGID. */
#define FP_WRITE_KILL_PRIV		FP_WRITE_KILL_SUIDGID

/* fp_read_in.read_flags: lock_owner valid. */
#define FP_READ_LOCKOWNER		(UINT32_C(1) << 1)

/* fp_ioctl_in.flags / fp_ioctl_out.flags. */
#define FP_IOCTL_COMPAT			(UINT32_C(1) << 0)	/* 32-bit compat ioctl */
#define FP_IOCTL_UNRESTRICTED		(UINT32_C(1) << 1)	/* retry allowed */
#define FP_IOCTL_RETRY			(UINT32_C(1) << 2)	/* reply carries iovecs */
#define FP_IOCTL_32BIT			(UINT32_C(1) << 3)
#define FP_IOCTL_DIR			(UINT32_C(1) << 4)
#define FP_IOCTL_COMPAT_X32		(UINT32_C(1) << 5)
/* Most in_iovs + out_iovs in a RETRY reply. */
#define FP_IOCTL_MAX_IOV		256

/* fp_poll_in.flags: daemon should send NOTIFY_POLL when ready. */
#define FP_POLL_SCHEDULE_NOTIFY		(UINT32_C(1) << 0)

/* fp_fsync_in.fsync_flags: data only. */
#define FP_FSYNC_FDATASYNC		(UINT32_C(1) << 0)

/* fp_attr.flags. */
#define FP_ATTR_SUBMOUNT		(UINT32_C(1) << 0)
#define FP_ATTR_DAX			(UINT32_C(1) << 1)

/* fp_setxattr_in.setxattr_flags: clear SGID when setting the access ACL. */
#define FP_SETXATTR_ACL_KILL_SGID	(UINT32_C(1) << 0)

/* fp_notify_inval_entry_out.flags: expire the entry, do not drop it. */
#define FP_EXPIRE_ONLY			(UINT32_C(1) << 0)

/* fp_setupmapping_in.flags (64-bit field). */
#define FP_SETUPMAPPING_FLAG_WRITE	(UINT64_C(1) << 0)
#define FP_SETUPMAPPING_FLAG_READ	(UINT64_C(1) << 1)

/* ------------------------------------------------------------------------ */
/* Compatibility sizes for older negotiated minors                          */
/* ------------------------------------------------------------------------ */

#define FP_COMPAT_ENTRY_OUT_SIZE	120	/* minor < 9 */
#define FP_COMPAT_ATTR_OUT_SIZE		96	/* minor < 9 */
#define FP_COMPAT_STATFS_SIZE		48	/* minor < 4 */
#define FP_COMPAT_WRITE_IN_SIZE		24	/* minor < 9 */
#define FP_COMPAT_MKNOD_IN_SIZE		8	/* minor < 12 */
#define FP_COMPAT_INIT_OUT_SIZE		8	/* minor < 5 */
#define FP_COMPAT_22_INIT_OUT_SIZE	24	/* minor < 23 */
#define FP_COMPAT_SETXATTR_IN_SIZE	8	/* without FP_SETXATTR_EXT */
/* Not in the uapi: fp_init_in before 7.36 (no flags2/unused). */
#define FP_COMPAT_INIT_IN_SIZE		16

/* Longest info-string area after fp_cuse_init_out. */
#define FP_CUSE_INIT_INFO_MAX		4096

/* ------------------------------------------------------------------------ */
/* Extension area (7.36 security context, 7.38 generic)                     */
/* ------------------------------------------------------------------------ */

/* fp_ext_header.type: 0..31 is a security-context block whose header is
 * fp_secctx_header (type is then nr_secctx); 32 is supplementary groups. */
enum fp_ext_type {
	FP_MAX_NR_SECCTX	= 31,
	FP_EXT_GROUPS		= 32
};

/* ------------------------------------------------------------------------ */
/* Device ioctls on /dev/fuse (magic 229 = 0xE5)                             */
/* ------------------------------------------------------------------------ */

/* Literal values of _IOR/_IOW/_IO as encoded on x86, arm, arm64, riscv and
 * the other asm-generic ioctl architectures; powerpc, mips, sparc and alpha
 * encode directions differently and would need other values. */
#define FP_DEV_IOC_MAGIC		229
#define FP_DEV_IOC_CLONE		UINT32_C(0x8004E500)	/* _IOR(229, 0, uint32_t) */
#define FP_DEV_IOC_BACKING_OPEN		UINT32_C(0x4010E501)	/* _IOW(229, 1, struct fp_backing_map) */
#define FP_DEV_IOC_BACKING_CLOSE	UINT32_C(0x4004E502)	/* _IOW(229, 2, uint32_t) */
#define FP_DEV_IOC_SYNC_INIT		UINT32_C(0xE503)	/* _IO(229, 3), new in 6.18 */

/* ------------------------------------------------------------------------ */
/* io_uring transport (7.42)                                                 */
/* ------------------------------------------------------------------------ */

/* Sizes of the two fixed areas of fp_uring_req_header. */
#define FP_URING_IN_OUT_HEADER_SZ	128
#define FP_URING_OP_IN_OUT_SZ		128

/* cmd_op of IORING_OP_URING_CMD on a /dev/fuse fd. */
enum fp_uring_cmd {
	FP_IO_URING_CMD_INVALID			= 0,
	FP_IO_URING_CMD_REGISTER		= 1,	/* register buffer, fetch a request */
	FP_IO_URING_CMD_COMMIT_AND_FETCH	= 2	/* commit a reply, fetch the next */
};

/* ------------------------------------------------------------------------ */
/* Common sub-structs                                                       */
/* ------------------------------------------------------------------------ */

/* Inode attributes, inside fp_entry_out and fp_attr_out (flags: FP_ATTR_*). */
struct fp_attr {
	uint64_t	ino;
	uint64_t	size;
	uint64_t	blocks;
	uint64_t	atime;
	uint64_t	mtime;
	uint64_t	ctime;
	uint32_t	atimensec;
	uint32_t	mtimensec;
	uint32_t	ctimensec;
	uint32_t	mode;
	uint32_t	nlink;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	rdev;
	uint32_t	blksize;
	uint32_t	flags;
};
FP_ABI_CHECK_SIZE(fp_attr, 88);
FP_ABI_CHECK_OFF(fp_attr, size, 8);
FP_ABI_CHECK_OFF(fp_attr, blocks, 16);
FP_ABI_CHECK_OFF(fp_attr, atime, 24);
FP_ABI_CHECK_OFF(fp_attr, mtime, 32);
FP_ABI_CHECK_OFF(fp_attr, ctime, 40);
FP_ABI_CHECK_OFF(fp_attr, atimensec, 48);
FP_ABI_CHECK_OFF(fp_attr, mtimensec, 52);
FP_ABI_CHECK_OFF(fp_attr, ctimensec, 56);
FP_ABI_CHECK_OFF(fp_attr, mode, 60);
FP_ABI_CHECK_OFF(fp_attr, nlink, 64);
FP_ABI_CHECK_OFF(fp_attr, uid, 68);
FP_ABI_CHECK_OFF(fp_attr, gid, 72);
FP_ABI_CHECK_OFF(fp_attr, rdev, 76);
FP_ABI_CHECK_OFF(fp_attr, blksize, 80);
FP_ABI_CHECK_OFF(fp_attr, flags, 84);

/* Timestamp inside fp_statx (STATX, 7.39); uapi field __reserved. */
struct fp_sx_time {
	int64_t		tv_sec;
	uint32_t	tv_nsec;
	int32_t		reserved;
};
FP_ABI_CHECK_SIZE(fp_sx_time, 16);
FP_ABI_CHECK_OFF(fp_sx_time, tv_nsec, 8);
FP_ABI_CHECK_OFF(fp_sx_time, reserved, 12);

/* statx attributes inside fp_statx_out (STATX, 7.39); uapi __spare0/__spare2. */
struct fp_statx {
	uint32_t		mask;
	uint32_t		blksize;
	uint64_t		attributes;
	uint32_t		nlink;
	uint32_t		uid;
	uint32_t		gid;
	uint16_t		mode;
	uint16_t		spare0[1];
	uint64_t		ino;
	uint64_t		size;
	uint64_t		blocks;
	uint64_t		attributes_mask;
	struct fp_sx_time	atime;
	struct fp_sx_time	btime;
	struct fp_sx_time	ctime;
	struct fp_sx_time	mtime;
	uint32_t		rdev_major;
	uint32_t		rdev_minor;
	uint32_t		dev_major;
	uint32_t		dev_minor;
	uint64_t		spare2[14];
};
FP_ABI_CHECK_SIZE(fp_statx, 256);
FP_ABI_CHECK_OFF(fp_statx, blksize, 4);
FP_ABI_CHECK_OFF(fp_statx, attributes, 8);
FP_ABI_CHECK_OFF(fp_statx, nlink, 16);
FP_ABI_CHECK_OFF(fp_statx, uid, 20);
FP_ABI_CHECK_OFF(fp_statx, gid, 24);
FP_ABI_CHECK_OFF(fp_statx, mode, 28);
FP_ABI_CHECK_OFF(fp_statx, spare0, 30);
FP_ABI_CHECK_OFF(fp_statx, ino, 32);
FP_ABI_CHECK_OFF(fp_statx, size, 40);
FP_ABI_CHECK_OFF(fp_statx, blocks, 48);
FP_ABI_CHECK_OFF(fp_statx, attributes_mask, 56);
FP_ABI_CHECK_OFF(fp_statx, atime, 64);
FP_ABI_CHECK_OFF(fp_statx, btime, 80);
FP_ABI_CHECK_OFF(fp_statx, ctime, 96);
FP_ABI_CHECK_OFF(fp_statx, mtime, 112);
FP_ABI_CHECK_OFF(fp_statx, rdev_major, 128);
FP_ABI_CHECK_OFF(fp_statx, rdev_minor, 132);
FP_ABI_CHECK_OFF(fp_statx, dev_major, 136);
FP_ABI_CHECK_OFF(fp_statx, dev_minor, 140);
FP_ABI_CHECK_OFF(fp_statx, spare2, 144);

/* Filesystem statistics inside fp_statfs_out (STATFS; 48 bytes before 7.4). */
struct fp_kstatfs {
	uint64_t	blocks;
	uint64_t	bfree;
	uint64_t	bavail;
	uint64_t	files;
	uint64_t	ffree;
	uint32_t	bsize;
	uint32_t	namelen;
	uint32_t	frsize;
	uint32_t	padding;
	uint32_t	spare[6];
};
FP_ABI_CHECK_SIZE(fp_kstatfs, 80);
FP_ABI_CHECK_OFF(fp_kstatfs, bfree, 8);
FP_ABI_CHECK_OFF(fp_kstatfs, bavail, 16);
FP_ABI_CHECK_OFF(fp_kstatfs, files, 24);
FP_ABI_CHECK_OFF(fp_kstatfs, ffree, 32);
FP_ABI_CHECK_OFF(fp_kstatfs, bsize, 40);
FP_ABI_CHECK_OFF(fp_kstatfs, namelen, 44);
FP_ABI_CHECK_OFF(fp_kstatfs, frsize, 48);
FP_ABI_CHECK_OFF(fp_kstatfs, padding, 52);
FP_ABI_CHECK_OFF(fp_kstatfs, spare, 56);

/* A lock range inside fp_lk_in / fp_lk_out (GETLK/SETLK/SETLKW, 7.7). */
struct fp_file_lock {
	uint64_t	start;
	uint64_t	end;
	uint32_t	type;
	uint32_t	pid;	/* tgid */
};
FP_ABI_CHECK_SIZE(fp_file_lock, 24);
FP_ABI_CHECK_OFF(fp_file_lock, end, 8);
FP_ABI_CHECK_OFF(fp_file_lock, type, 16);
FP_ABI_CHECK_OFF(fp_file_lock, pid, 20);

/* ------------------------------------------------------------------------ */
/* Message headers                                                          */
/* ------------------------------------------------------------------------ */

/* Header of every request (kernel -> daemon); total_extlen (8-byte units) 7.38. */
struct fp_in_header {
	uint32_t	len;
	uint32_t	opcode;
	uint64_t	unique;
	uint64_t	nodeid;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	pid;
	uint16_t	total_extlen;
	uint16_t	padding;
};
FP_ABI_CHECK_SIZE(fp_in_header, 40);
FP_ABI_CHECK_OFF(fp_in_header, opcode, 4);
FP_ABI_CHECK_OFF(fp_in_header, unique, 8);
FP_ABI_CHECK_OFF(fp_in_header, nodeid, 16);
FP_ABI_CHECK_OFF(fp_in_header, uid, 24);
FP_ABI_CHECK_OFF(fp_in_header, gid, 28);
FP_ABI_CHECK_OFF(fp_in_header, pid, 32);
FP_ABI_CHECK_OFF(fp_in_header, total_extlen, 36);
FP_ABI_CHECK_OFF(fp_in_header, padding, 38);

/* Header of every reply and notification (daemon -> kernel); error is -errno
 * for a reply, the notify code when unique == 0. */
struct fp_out_header {
	uint32_t	len;
	int32_t		error;
	uint64_t	unique;
};
FP_ABI_CHECK_SIZE(fp_out_header, 16);
FP_ABI_CHECK_OFF(fp_out_header, error, 4);
FP_ABI_CHECK_OFF(fp_out_header, unique, 8);

/* ------------------------------------------------------------------------ */
/* Lookup, attributes, forget                                               */
/* ------------------------------------------------------------------------ */

/* Reply to LOOKUP/MKNOD/MKDIR/SYMLINK/LINK, first part of CREATE/TMPFILE
 * (orig; 120 bytes before 7.9). */
struct fp_entry_out {
	uint64_t	nodeid;
	uint64_t	generation;
	uint64_t	entry_valid;
	uint64_t	attr_valid;
	uint32_t	entry_valid_nsec;
	uint32_t	attr_valid_nsec;
	struct fp_attr	attr;
};
FP_ABI_CHECK_SIZE(fp_entry_out, 128);
FP_ABI_CHECK_OFF(fp_entry_out, generation, 8);
FP_ABI_CHECK_OFF(fp_entry_out, entry_valid, 16);
FP_ABI_CHECK_OFF(fp_entry_out, attr_valid, 24);
FP_ABI_CHECK_OFF(fp_entry_out, entry_valid_nsec, 32);
FP_ABI_CHECK_OFF(fp_entry_out, attr_valid_nsec, 36);
FP_ABI_CHECK_OFF(fp_entry_out, attr, 40);

/* FORGET request body (orig); hdr.nodeid is the inode. */
struct fp_forget_in {
	uint64_t	nlookup;
};
FP_ABI_CHECK_SIZE(fp_forget_in, 8);

/* One entry of a BATCH_FORGET request (7.16). */
struct fp_forget_one {
	uint64_t	nodeid;
	uint64_t	nlookup;
};
FP_ABI_CHECK_SIZE(fp_forget_one, 16);
FP_ABI_CHECK_OFF(fp_forget_one, nlookup, 8);

/* BATCH_FORGET request body (7.16), followed by count fp_forget_one. */
struct fp_batch_forget_in {
	uint32_t	count;
	uint32_t	dummy;
};
FP_ABI_CHECK_SIZE(fp_batch_forget_in, 8);
FP_ABI_CHECK_OFF(fp_batch_forget_in, dummy, 4);

/* GETATTR request body (7.9); fh valid with FP_GETATTR_FH. */
struct fp_getattr_in {
	uint32_t	getattr_flags;
	uint32_t	dummy;
	uint64_t	fh;
};
FP_ABI_CHECK_SIZE(fp_getattr_in, 16);
FP_ABI_CHECK_OFF(fp_getattr_in, dummy, 4);
FP_ABI_CHECK_OFF(fp_getattr_in, fh, 8);

/* Reply to GETATTR/SETATTR (orig; 96 bytes before 7.9). */
struct fp_attr_out {
	uint64_t	attr_valid;
	uint32_t	attr_valid_nsec;
	uint32_t	dummy;
	struct fp_attr	attr;
};
FP_ABI_CHECK_SIZE(fp_attr_out, 104);
FP_ABI_CHECK_OFF(fp_attr_out, attr_valid_nsec, 8);
FP_ABI_CHECK_OFF(fp_attr_out, dummy, 12);
FP_ABI_CHECK_OFF(fp_attr_out, attr, 16);

/* STATX request body (7.39). */
struct fp_statx_in {
	uint32_t	getattr_flags;
	uint32_t	reserved;
	uint64_t	fh;
	uint32_t	sx_flags;
	uint32_t	sx_mask;
};
FP_ABI_CHECK_SIZE(fp_statx_in, 24);
FP_ABI_CHECK_OFF(fp_statx_in, reserved, 4);
FP_ABI_CHECK_OFF(fp_statx_in, fh, 8);
FP_ABI_CHECK_OFF(fp_statx_in, sx_flags, 16);
FP_ABI_CHECK_OFF(fp_statx_in, sx_mask, 20);

/* Reply to STATX (7.39). */
struct fp_statx_out {
	uint64_t	attr_valid;
	uint32_t	attr_valid_nsec;
	uint32_t	flags;
	uint64_t	spare[2];
	struct fp_statx	stat;
};
FP_ABI_CHECK_SIZE(fp_statx_out, 288);
FP_ABI_CHECK_OFF(fp_statx_out, attr_valid_nsec, 8);
FP_ABI_CHECK_OFF(fp_statx_out, flags, 12);
FP_ABI_CHECK_OFF(fp_statx_out, spare, 16);
FP_ABI_CHECK_OFF(fp_statx_out, stat, 32);

/* SETATTR request body (7.1); valid holds FP_FATTR_*. */
struct fp_setattr_in {
	uint32_t	valid;
	uint32_t	padding;
	uint64_t	fh;
	uint64_t	size;
	uint64_t	lock_owner;
	uint64_t	atime;
	uint64_t	mtime;
	uint64_t	ctime;
	uint32_t	atimensec;
	uint32_t	mtimensec;
	uint32_t	ctimensec;
	uint32_t	mode;
	uint32_t	unused4;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	unused5;
};
FP_ABI_CHECK_SIZE(fp_setattr_in, 88);
FP_ABI_CHECK_OFF(fp_setattr_in, padding, 4);
FP_ABI_CHECK_OFF(fp_setattr_in, fh, 8);
FP_ABI_CHECK_OFF(fp_setattr_in, size, 16);
FP_ABI_CHECK_OFF(fp_setattr_in, lock_owner, 24);
FP_ABI_CHECK_OFF(fp_setattr_in, atime, 32);
FP_ABI_CHECK_OFF(fp_setattr_in, mtime, 40);
FP_ABI_CHECK_OFF(fp_setattr_in, ctime, 48);
FP_ABI_CHECK_OFF(fp_setattr_in, atimensec, 56);
FP_ABI_CHECK_OFF(fp_setattr_in, mtimensec, 60);
FP_ABI_CHECK_OFF(fp_setattr_in, ctimensec, 64);
FP_ABI_CHECK_OFF(fp_setattr_in, mode, 68);
FP_ABI_CHECK_OFF(fp_setattr_in, unused4, 72);
FP_ABI_CHECK_OFF(fp_setattr_in, uid, 76);
FP_ABI_CHECK_OFF(fp_setattr_in, gid, 80);
FP_ABI_CHECK_OFF(fp_setattr_in, unused5, 84);

/* ------------------------------------------------------------------------ */
/* Namespace operations                                                     */
/* ------------------------------------------------------------------------ */

/* MKNOD request body (7.1; 8 bytes before 7.12), then name\0 [+ext]. */
struct fp_mknod_in {
	uint32_t	mode;
	uint32_t	rdev;
	uint32_t	umask;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_mknod_in, 16);
FP_ABI_CHECK_OFF(fp_mknod_in, rdev, 4);
FP_ABI_CHECK_OFF(fp_mknod_in, umask, 8);
FP_ABI_CHECK_OFF(fp_mknod_in, padding, 12);

/* MKDIR request body (7.1), then name\0 [+ext]. */
struct fp_mkdir_in {
	uint32_t	mode;
	uint32_t	umask;
};
FP_ABI_CHECK_SIZE(fp_mkdir_in, 8);
FP_ABI_CHECK_OFF(fp_mkdir_in, umask, 4);

/* RENAME request body (7.1), then oldname\0 newname\0. */
struct fp_rename_in {
	uint64_t	newdir;
};
FP_ABI_CHECK_SIZE(fp_rename_in, 8);

/* RENAME2 request body (7.23), then oldname\0 newname\0. */
struct fp_rename2_in {
	uint64_t	newdir;
	uint32_t	flags;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_rename2_in, 16);
FP_ABI_CHECK_OFF(fp_rename2_in, flags, 8);
FP_ABI_CHECK_OFF(fp_rename2_in, padding, 12);

/* LINK request body (7.1), then newname\0; hdr.nodeid is the new parent. */
struct fp_link_in {
	uint64_t	oldnodeid;
};
FP_ABI_CHECK_SIZE(fp_link_in, 8);

/* ------------------------------------------------------------------------ */
/* Open, I/O, release                                                       */
/* ------------------------------------------------------------------------ */

/* OPEN/OPENDIR request body (7.1); open_flags holds FP_OPEN_KILL_SUIDGID. */
struct fp_open_in {
	uint32_t	flags;
	uint32_t	open_flags;
};
FP_ABI_CHECK_SIZE(fp_open_in, 8);
FP_ABI_CHECK_OFF(fp_open_in, open_flags, 4);

/* CREATE (7.3; fp_open_in before 7.12) and TMPFILE (7.37) request body,
 * then name\0 [+ext]. */
struct fp_create_in {
	uint32_t	flags;
	uint32_t	mode;
	uint32_t	umask;
	uint32_t	open_flags;
};
FP_ABI_CHECK_SIZE(fp_create_in, 16);
FP_ABI_CHECK_OFF(fp_create_in, mode, 4);
FP_ABI_CHECK_OFF(fp_create_in, umask, 8);
FP_ABI_CHECK_OFF(fp_create_in, open_flags, 12);

/* Reply to OPEN/OPENDIR, second part of CREATE/TMPFILE; backing_id 7.40. */
struct fp_open_out {
	uint64_t	fh;
	uint32_t	open_flags;
	int32_t		backing_id;
};
FP_ABI_CHECK_SIZE(fp_open_out, 16);
FP_ABI_CHECK_OFF(fp_open_out, open_flags, 8);
FP_ABI_CHECK_OFF(fp_open_out, backing_id, 12);

/* RELEASE/RELEASEDIR request body (7.1); release_flags holds FP_RELEASE_*. */
struct fp_release_in {
	uint64_t	fh;
	uint32_t	flags;
	uint32_t	release_flags;
	uint64_t	lock_owner;
};
FP_ABI_CHECK_SIZE(fp_release_in, 24);
FP_ABI_CHECK_OFF(fp_release_in, flags, 8);
FP_ABI_CHECK_OFF(fp_release_in, release_flags, 12);
FP_ABI_CHECK_OFF(fp_release_in, lock_owner, 16);

/* FLUSH request body (7.1). */
struct fp_flush_in {
	uint64_t	fh;
	uint32_t	unused;
	uint32_t	padding;
	uint64_t	lock_owner;
};
FP_ABI_CHECK_SIZE(fp_flush_in, 24);
FP_ABI_CHECK_OFF(fp_flush_in, unused, 8);
FP_ABI_CHECK_OFF(fp_flush_in, padding, 12);
FP_ABI_CHECK_OFF(fp_flush_in, lock_owner, 16);

/* READ/READDIR/READDIRPLUS request body (7.1; lock_owner and flags 7.9). */
struct fp_read_in {
	uint64_t	fh;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	read_flags;
	uint64_t	lock_owner;
	uint32_t	flags;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_read_in, 40);
FP_ABI_CHECK_OFF(fp_read_in, offset, 8);
FP_ABI_CHECK_OFF(fp_read_in, size, 16);
FP_ABI_CHECK_OFF(fp_read_in, read_flags, 20);
FP_ABI_CHECK_OFF(fp_read_in, lock_owner, 24);
FP_ABI_CHECK_OFF(fp_read_in, flags, 32);
FP_ABI_CHECK_OFF(fp_read_in, padding, 36);

/* WRITE request body (7.1; 24 bytes before 7.9), then size data bytes. */
struct fp_write_in {
	uint64_t	fh;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	write_flags;
	uint64_t	lock_owner;
	uint32_t	flags;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_write_in, 40);
FP_ABI_CHECK_OFF(fp_write_in, offset, 8);
FP_ABI_CHECK_OFF(fp_write_in, size, 16);
FP_ABI_CHECK_OFF(fp_write_in, write_flags, 20);
FP_ABI_CHECK_OFF(fp_write_in, lock_owner, 24);
FP_ABI_CHECK_OFF(fp_write_in, flags, 32);
FP_ABI_CHECK_OFF(fp_write_in, padding, 36);

/* Reply to WRITE (7.1) and COPY_FILE_RANGE (7.28). */
struct fp_write_out {
	uint32_t	size;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_write_out, 8);
FP_ABI_CHECK_OFF(fp_write_out, padding, 4);

/* Reply to STATFS (orig; 48 bytes before 7.4). */
struct fp_statfs_out {
	struct fp_kstatfs	st;
};
FP_ABI_CHECK_SIZE(fp_statfs_out, 80);

/* FSYNC (7.1) / FSYNCDIR (7.2) request body. */
struct fp_fsync_in {
	uint64_t	fh;
	uint32_t	fsync_flags;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_fsync_in, 16);
FP_ABI_CHECK_OFF(fp_fsync_in, fsync_flags, 8);
FP_ABI_CHECK_OFF(fp_fsync_in, padding, 12);

/* FALLOCATE request body (7.19). */
struct fp_fallocate_in {
	uint64_t	fh;
	uint64_t	offset;
	uint64_t	length;
	uint32_t	mode;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_fallocate_in, 32);
FP_ABI_CHECK_OFF(fp_fallocate_in, offset, 8);
FP_ABI_CHECK_OFF(fp_fallocate_in, length, 16);
FP_ABI_CHECK_OFF(fp_fallocate_in, mode, 24);
FP_ABI_CHECK_OFF(fp_fallocate_in, padding, 28);

/* LSEEK request body (7.24). */
struct fp_lseek_in {
	uint64_t	fh;
	uint64_t	offset;
	uint32_t	whence;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_lseek_in, 24);
FP_ABI_CHECK_OFF(fp_lseek_in, offset, 8);
FP_ABI_CHECK_OFF(fp_lseek_in, whence, 16);
FP_ABI_CHECK_OFF(fp_lseek_in, padding, 20);

/* Reply to LSEEK (7.24). */
struct fp_lseek_out {
	uint64_t	offset;
};
FP_ABI_CHECK_SIZE(fp_lseek_out, 8);

/* COPY_FILE_RANGE (7.28) and COPY_FILE_RANGE_64 (7.45) request body. */
struct fp_copy_file_range_in {
	uint64_t	fh_in;
	uint64_t	off_in;
	uint64_t	nodeid_out;
	uint64_t	fh_out;
	uint64_t	off_out;
	uint64_t	len;
	uint64_t	flags;
};
FP_ABI_CHECK_SIZE(fp_copy_file_range_in, 56);
FP_ABI_CHECK_OFF(fp_copy_file_range_in, off_in, 8);
FP_ABI_CHECK_OFF(fp_copy_file_range_in, nodeid_out, 16);
FP_ABI_CHECK_OFF(fp_copy_file_range_in, fh_out, 24);
FP_ABI_CHECK_OFF(fp_copy_file_range_in, off_out, 32);
FP_ABI_CHECK_OFF(fp_copy_file_range_in, len, 40);
FP_ABI_CHECK_OFF(fp_copy_file_range_in, flags, 48);

/* Reply to COPY_FILE_RANGE_64 (7.45). */
struct fp_copy_file_range_out {
	uint64_t	bytes_copied;
};
FP_ABI_CHECK_SIZE(fp_copy_file_range_out, 8);

/* SYNCFS request body (7.34; only virtiofs sends it). */
struct fp_syncfs_in {
	uint64_t	padding;
};
FP_ABI_CHECK_SIZE(fp_syncfs_in, 8);

/* ------------------------------------------------------------------------ */
/* Extended attributes, locks, access                                       */
/* ------------------------------------------------------------------------ */

/* SETXATTR request body (7.1; only size and flags, 8 bytes, without
 * FP_SETXATTR_EXT 7.33), then name\0 and size value bytes. */
struct fp_setxattr_in {
	uint32_t	size;
	uint32_t	flags;
	uint32_t	setxattr_flags;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_setxattr_in, 16);
FP_ABI_CHECK_OFF(fp_setxattr_in, flags, 4);
FP_ABI_CHECK_OFF(fp_setxattr_in, setxattr_flags, 8);
FP_ABI_CHECK_OFF(fp_setxattr_in, padding, 12);

/* GETXATTR (then name\0) / LISTXATTR request body (7.1). */
struct fp_getxattr_in {
	uint32_t	size;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_getxattr_in, 8);
FP_ABI_CHECK_OFF(fp_getxattr_in, padding, 4);

/* Reply to GETXATTR/LISTXATTR when the request's size was 0 (7.1). */
struct fp_getxattr_out {
	uint32_t	size;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_getxattr_out, 8);
FP_ABI_CHECK_OFF(fp_getxattr_out, padding, 4);

/* GETLK/SETLK/SETLKW request body (7.7; lk_flags 7.9). */
struct fp_lk_in {
	uint64_t		fh;
	uint64_t		owner;
	struct fp_file_lock	lk;
	uint32_t		lk_flags;
	uint32_t		padding;
};
FP_ABI_CHECK_SIZE(fp_lk_in, 48);
FP_ABI_CHECK_OFF(fp_lk_in, owner, 8);
FP_ABI_CHECK_OFF(fp_lk_in, lk, 16);
FP_ABI_CHECK_OFF(fp_lk_in, lk_flags, 40);
FP_ABI_CHECK_OFF(fp_lk_in, padding, 44);

/* Reply to GETLK (7.7). */
struct fp_lk_out {
	struct fp_file_lock	lk;
};
FP_ABI_CHECK_SIZE(fp_lk_out, 24);

/* ACCESS request body (7.3). */
struct fp_access_in {
	uint32_t	mask;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_access_in, 8);
FP_ABI_CHECK_OFF(fp_access_in, padding, 4);

/* ------------------------------------------------------------------------ */
/* INIT and CUSE_INIT                                                       */
/* ------------------------------------------------------------------------ */

/* INIT request body (orig; 64 bytes with flags2 since 7.36, 16 before). */
struct fp_init_in {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	max_readahead;
	uint32_t	flags;
	uint32_t	flags2;
	uint32_t	unused[11];
};
FP_ABI_CHECK_SIZE(fp_init_in, 64);
FP_ABI_CHECK_OFF(fp_init_in, minor, 4);
FP_ABI_CHECK_OFF(fp_init_in, max_readahead, 8);
FP_ABI_CHECK_OFF(fp_init_in, flags, 12);
FP_ABI_CHECK_OFF(fp_init_in, flags2, 16);
FP_ABI_CHECK_OFF(fp_init_in, unused, 20);

/* Reply to INIT (orig; 8 bytes before 7.5, 24 before 7.23; request_timeout
 * 7.43). */
struct fp_init_out {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	max_readahead;
	uint32_t	flags;
	uint16_t	max_background;
	uint16_t	congestion_threshold;
	uint32_t	max_write;
	uint32_t	time_gran;
	uint16_t	max_pages;
	uint16_t	map_alignment;
	uint32_t	flags2;
	uint32_t	max_stack_depth;
	uint16_t	request_timeout;
	uint16_t	unused[11];
};
FP_ABI_CHECK_SIZE(fp_init_out, 64);
FP_ABI_CHECK_OFF(fp_init_out, minor, 4);
FP_ABI_CHECK_OFF(fp_init_out, max_readahead, 8);
FP_ABI_CHECK_OFF(fp_init_out, flags, 12);
FP_ABI_CHECK_OFF(fp_init_out, max_background, 16);
FP_ABI_CHECK_OFF(fp_init_out, congestion_threshold, 18);
FP_ABI_CHECK_OFF(fp_init_out, max_write, 20);
FP_ABI_CHECK_OFF(fp_init_out, time_gran, 24);
FP_ABI_CHECK_OFF(fp_init_out, max_pages, 28);
FP_ABI_CHECK_OFF(fp_init_out, map_alignment, 30);
FP_ABI_CHECK_OFF(fp_init_out, flags2, 32);
FP_ABI_CHECK_OFF(fp_init_out, max_stack_depth, 36);
FP_ABI_CHECK_OFF(fp_init_out, request_timeout, 40);
FP_ABI_CHECK_OFF(fp_init_out, unused, 42);

/* CUSE_INIT request body (CUSE, 7.11); flags holds FP_CUSE_UNRESTRICTED_IOCTL. */
struct fp_cuse_init_in {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	unused;
	uint32_t	flags;
};
FP_ABI_CHECK_SIZE(fp_cuse_init_in, 16);
FP_ABI_CHECK_OFF(fp_cuse_init_in, minor, 4);
FP_ABI_CHECK_OFF(fp_cuse_init_in, unused, 8);
FP_ABI_CHECK_OFF(fp_cuse_init_in, flags, 12);

/* Reply to CUSE_INIT (7.11), then NUL-separated info strings
 * (at most FP_CUSE_INIT_INFO_MAX bytes). */
struct fp_cuse_init_out {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	unused;
	uint32_t	flags;
	uint32_t	max_read;
	uint32_t	max_write;
	uint32_t	dev_major;	/* chardev major */
	uint32_t	dev_minor;	/* chardev minor */
	uint32_t	spare[10];
};
FP_ABI_CHECK_SIZE(fp_cuse_init_out, 72);
FP_ABI_CHECK_OFF(fp_cuse_init_out, minor, 4);
FP_ABI_CHECK_OFF(fp_cuse_init_out, unused, 8);
FP_ABI_CHECK_OFF(fp_cuse_init_out, flags, 12);
FP_ABI_CHECK_OFF(fp_cuse_init_out, max_read, 16);
FP_ABI_CHECK_OFF(fp_cuse_init_out, max_write, 20);
FP_ABI_CHECK_OFF(fp_cuse_init_out, dev_major, 24);
FP_ABI_CHECK_OFF(fp_cuse_init_out, dev_minor, 28);
FP_ABI_CHECK_OFF(fp_cuse_init_out, spare, 32);

/* ------------------------------------------------------------------------ */
/* Interrupt, bmap, ioctl, poll                                             */
/* ------------------------------------------------------------------------ */

/* INTERRUPT request body (7.7); hdr.unique is unique | FP_INT_REQ_BIT. */
struct fp_interrupt_in {
	uint64_t	unique;
};
FP_ABI_CHECK_SIZE(fp_interrupt_in, 8);

/* BMAP request body (7.8; fuseblk only). */
struct fp_bmap_in {
	uint64_t	block;
	uint32_t	blocksize;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_bmap_in, 16);
FP_ABI_CHECK_OFF(fp_bmap_in, blocksize, 8);
FP_ABI_CHECK_OFF(fp_bmap_in, padding, 12);

/* Reply to BMAP (7.8). */
struct fp_bmap_out {
	uint64_t	block;
};
FP_ABI_CHECK_SIZE(fp_bmap_out, 8);

/* IOCTL request body (7.11), then in_size bytes of input. */
struct fp_ioctl_in {
	uint64_t	fh;
	uint32_t	flags;
	uint32_t	cmd;
	uint64_t	arg;
	uint32_t	in_size;
	uint32_t	out_size;
};
FP_ABI_CHECK_SIZE(fp_ioctl_in, 32);
FP_ABI_CHECK_OFF(fp_ioctl_in, flags, 8);
FP_ABI_CHECK_OFF(fp_ioctl_in, cmd, 12);
FP_ABI_CHECK_OFF(fp_ioctl_in, arg, 16);
FP_ABI_CHECK_OFF(fp_ioctl_in, in_size, 24);
FP_ABI_CHECK_OFF(fp_ioctl_in, out_size, 28);

/* One iovec of an IOCTL reply with FP_IOCTL_RETRY (7.16). */
struct fp_ioctl_iovec {
	uint64_t	base;
	uint64_t	len;
};
FP_ABI_CHECK_SIZE(fp_ioctl_iovec, 16);
FP_ABI_CHECK_OFF(fp_ioctl_iovec, len, 8);

/* Reply to IOCTL (7.11), then iovecs (RETRY) or output data. */
struct fp_ioctl_out {
	int32_t		result;
	uint32_t	flags;
	uint32_t	in_iovs;
	uint32_t	out_iovs;
};
FP_ABI_CHECK_SIZE(fp_ioctl_out, 16);
FP_ABI_CHECK_OFF(fp_ioctl_out, flags, 4);
FP_ABI_CHECK_OFF(fp_ioctl_out, in_iovs, 8);
FP_ABI_CHECK_OFF(fp_ioctl_out, out_iovs, 12);

/* POLL request body (7.11; events 7.21). */
struct fp_poll_in {
	uint64_t	fh;
	uint64_t	kh;
	uint32_t	flags;
	uint32_t	events;
};
FP_ABI_CHECK_SIZE(fp_poll_in, 24);
FP_ABI_CHECK_OFF(fp_poll_in, kh, 8);
FP_ABI_CHECK_OFF(fp_poll_in, flags, 16);
FP_ABI_CHECK_OFF(fp_poll_in, events, 20);

/* Reply to POLL (7.11). */
struct fp_poll_out {
	uint32_t	revents;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_poll_out, 8);
FP_ABI_CHECK_OFF(fp_poll_out, padding, 4);

/* ------------------------------------------------------------------------ */
/* Directory entries (READDIR, READDIRPLUS 7.21)                            */
/* ------------------------------------------------------------------------ */

/* One READDIR record: the fixed part, then namelen name bytes (no NUL),
 * zero-padded to a multiple of 8 (FP_DIRENT_SIZE). */
struct fp_dirent {
	uint64_t	ino;
	uint64_t	off;
	uint32_t	namelen;
	uint32_t	type;	/* DT_* (S_IFMT >> 12) */
	char		name[];
};
FP_ABI_CHECK_SIZE(fp_dirent, 24);
FP_ABI_CHECK_OFF(fp_dirent, off, 8);
FP_ABI_CHECK_OFF(fp_dirent, namelen, 16);
FP_ABI_CHECK_OFF(fp_dirent, type, 20);
FP_ABI_CHECK_OFF(fp_dirent, name, 24);

/*
 * fp_dirent without its flexible name, for embedding: ISO C forbids a struct
 * with a flexible array member inside another struct. Not a uapi struct;
 * same layout as fp_dirent up to the name.
 */
struct fp_dirent_head {
	uint64_t	ino;
	uint64_t	off;
	uint32_t	namelen;
	uint32_t	type;
};
FP_ABI_CHECK_SIZE(fp_dirent_head, 24);
FP_ABI_CHECK_OFF(fp_dirent_head, off, 8);
FP_ABI_CHECK_OFF(fp_dirent_head, namelen, 16);
FP_ABI_CHECK_OFF(fp_dirent_head, type, 20);

/* One READDIRPLUS record (7.21): the name follows the struct (offset 152),
 * zero-padded to a multiple of 8 (FP_DIRENTPLUS_SIZE). The uapi embeds
 * struct fuse_dirent here; dirent.name is replaced by the bytes after it. */
struct fp_direntplus {
	struct fp_entry_out	entry_out;
	struct fp_dirent_head	dirent;
};
FP_ABI_CHECK_SIZE(fp_direntplus, 152);
FP_ABI_CHECK_OFF(fp_direntplus, dirent, 128);
FP_ABI_CHECK_OFF(fp_direntplus, dirent.namelen, 144);
FP_ABI_CHECK_OFF(fp_direntplus, dirent.type, 148);

/* Round a record length up to 8 bytes (no masking, so any integer type works). */
#define FP_REC_ALIGN(x)			((((x) + 7u) / 8u) * 8u)
#define FP_DIRENT_ALIGN(x)		FP_REC_ALIGN(x)

/* Offset of the name in a READDIR / READDIRPLUS record. */
#define FP_NAME_OFFSET			24
#define FP_NAME_OFFSET_DIRENTPLUS	152

/* Padded length of a record with a name of namelen bytes (the uapi macros
 * take a pointer to the record instead). */
#define FP_DIRENT_SIZE(namelen) \
	FP_DIRENT_ALIGN(FP_NAME_OFFSET + (namelen))
#define FP_DIRENTPLUS_SIZE(namelen) \
	FP_DIRENT_ALIGN(FP_NAME_OFFSET_DIRENTPLUS + (namelen))

_Static_assert(FP_NAME_OFFSET == offsetof(struct fp_dirent, name),
	       "FP_NAME_OFFSET must match struct fp_dirent");
_Static_assert(FP_NAME_OFFSET_DIRENTPLUS == sizeof(struct fp_direntplus),
	       "FP_NAME_OFFSET_DIRENTPLUS must match struct fp_direntplus");
_Static_assert(FP_DIRENT_SIZE(1) == 32 && FP_DIRENT_SIZE(8) == 32 &&
	       FP_DIRENT_SIZE(9) == 40,
	       "FP_DIRENT_SIZE must pad to 8 bytes");
_Static_assert(FP_DIRENTPLUS_SIZE(1) == 160,
	       "FP_DIRENTPLUS_SIZE must pad to 8 bytes");

/* ------------------------------------------------------------------------ */
/* Notifications (daemon -> kernel) and NOTIFY_REPLY                        */
/* ------------------------------------------------------------------------ */

/* NOTIFY_POLL body (7.11): the kh of a POLL request. */
struct fp_notify_poll_wakeup_out {
	uint64_t	kh;
};
FP_ABI_CHECK_SIZE(fp_notify_poll_wakeup_out, 8);

/* NOTIFY_INVAL_INODE body (7.12). */
struct fp_notify_inval_inode_out {
	uint64_t	ino;
	int64_t		off;
	int64_t		len;
};
FP_ABI_CHECK_SIZE(fp_notify_inval_inode_out, 24);
FP_ABI_CHECK_OFF(fp_notify_inval_inode_out, off, 8);
FP_ABI_CHECK_OFF(fp_notify_inval_inode_out, len, 16);

/* NOTIFY_INVAL_ENTRY body (7.12; flags FP_EXPIRE_ONLY 7.38), then name\0. */
struct fp_notify_inval_entry_out {
	uint64_t	parent;
	uint32_t	namelen;
	uint32_t	flags;
};
FP_ABI_CHECK_SIZE(fp_notify_inval_entry_out, 16);
FP_ABI_CHECK_OFF(fp_notify_inval_entry_out, namelen, 8);
FP_ABI_CHECK_OFF(fp_notify_inval_entry_out, flags, 12);

/* NOTIFY_DELETE body (7.18), then name\0. */
struct fp_notify_delete_out {
	uint64_t	parent;
	uint64_t	child;
	uint32_t	namelen;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_notify_delete_out, 24);
FP_ABI_CHECK_OFF(fp_notify_delete_out, child, 8);
FP_ABI_CHECK_OFF(fp_notify_delete_out, namelen, 16);
FP_ABI_CHECK_OFF(fp_notify_delete_out, padding, 20);

/* NOTIFY_STORE body (7.15), then size data bytes. */
struct fp_notify_store_out {
	uint64_t	nodeid;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_notify_store_out, 24);
FP_ABI_CHECK_OFF(fp_notify_store_out, offset, 8);
FP_ABI_CHECK_OFF(fp_notify_store_out, size, 16);
FP_ABI_CHECK_OFF(fp_notify_store_out, padding, 20);

/* NOTIFY_RETRIEVE body (7.15); the kernel answers with a NOTIFY_REPLY
 * request whose unique is notify_unique. */
struct fp_notify_retrieve_out {
	uint64_t	notify_unique;
	uint64_t	nodeid;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_notify_retrieve_out, 32);
FP_ABI_CHECK_OFF(fp_notify_retrieve_out, nodeid, 8);
FP_ABI_CHECK_OFF(fp_notify_retrieve_out, offset, 16);
FP_ABI_CHECK_OFF(fp_notify_retrieve_out, size, 24);
FP_ABI_CHECK_OFF(fp_notify_retrieve_out, padding, 28);

/* NOTIFY_REPLY request body (7.15), then the data; sized like fp_write_in. */
struct fp_notify_retrieve_in {
	uint64_t	dummy1;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	dummy2;
	uint64_t	dummy3;
	uint64_t	dummy4;
};
FP_ABI_CHECK_SIZE(fp_notify_retrieve_in, 40);
FP_ABI_CHECK_OFF(fp_notify_retrieve_in, offset, 8);
FP_ABI_CHECK_OFF(fp_notify_retrieve_in, size, 16);
FP_ABI_CHECK_OFF(fp_notify_retrieve_in, dummy2, 20);
FP_ABI_CHECK_OFF(fp_notify_retrieve_in, dummy3, 24);
FP_ABI_CHECK_OFF(fp_notify_retrieve_in, dummy4, 32);

/* NOTIFY_PRUNE body (7.45), then count uint64_t node ids. */
struct fp_notify_prune_out {
	uint32_t	count;
	uint32_t	padding;
	uint64_t	spare;
};
FP_ABI_CHECK_SIZE(fp_notify_prune_out, 16);
FP_ABI_CHECK_OFF(fp_notify_prune_out, padding, 4);
FP_ABI_CHECK_OFF(fp_notify_prune_out, spare, 8);

/* ------------------------------------------------------------------------ */
/* Passthrough and DAX                                                      */
/* ------------------------------------------------------------------------ */

/* Argument of FP_DEV_IOC_BACKING_OPEN (7.40); flags and padding must be 0. */
struct fp_backing_map {
	int32_t		fd;
	uint32_t	flags;
	uint64_t	padding;
};
FP_ABI_CHECK_SIZE(fp_backing_map, 16);
FP_ABI_CHECK_OFF(fp_backing_map, flags, 4);
FP_ABI_CHECK_OFF(fp_backing_map, padding, 8);

/* SETUPMAPPING request body (7.31; virtiofs DAX); flags FP_SETUPMAPPING_FLAG_*. */
struct fp_setupmapping_in {
	uint64_t	fh;
	uint64_t	foffset;
	uint64_t	len;
	uint64_t	flags;
	uint64_t	moffset;
};
FP_ABI_CHECK_SIZE(fp_setupmapping_in, 40);
FP_ABI_CHECK_OFF(fp_setupmapping_in, foffset, 8);
FP_ABI_CHECK_OFF(fp_setupmapping_in, len, 16);
FP_ABI_CHECK_OFF(fp_setupmapping_in, flags, 24);
FP_ABI_CHECK_OFF(fp_setupmapping_in, moffset, 32);

/* REMOVEMAPPING request body (7.31), then count fp_removemapping_one. */
struct fp_removemapping_in {
	uint32_t	count;
};
FP_ABI_CHECK_SIZE(fp_removemapping_in, 4);

/* One range of a REMOVEMAPPING request (7.31). */
struct fp_removemapping_one {
	uint64_t	moffset;
	uint64_t	len;
};
FP_ABI_CHECK_SIZE(fp_removemapping_one, 16);
FP_ABI_CHECK_OFF(fp_removemapping_one, len, 8);

/* Most ranges per REMOVEMAPPING; the uapi uses the kernel's PAGE_SIZE. */
#define FP_REMOVEMAPPING_MAX_ENTRY(page_size) \
	((page_size) / sizeof(struct fp_removemapping_one))

/* ------------------------------------------------------------------------ */
/* Request extensions (trailing hdr.total_extlen * 8 bytes)                 */
/* ------------------------------------------------------------------------ */

/* One security context (7.36), followed by name\0 and size context bytes. */
struct fp_secctx {
	uint32_t	size;
	uint32_t	padding;
};
FP_ABI_CHECK_SIZE(fp_secctx, 8);
FP_ABI_CHECK_OFF(fp_secctx, padding, 4);

/* Security-context block header (7.36); size covers the whole block. */
struct fp_secctx_header {
	uint32_t	size;
	uint32_t	nr_secctx;
};
FP_ABI_CHECK_SIZE(fp_secctx_header, 8);
FP_ABI_CHECK_OFF(fp_secctx_header, nr_secctx, 4);

/* Generic extension header (7.38); size includes the header, type is
 * enum fp_ext_type (types above FP_MAX_NR_SECCTX). */
struct fp_ext_header {
	uint32_t	size;
	uint32_t	type;
};
FP_ABI_CHECK_SIZE(fp_ext_header, 8);
FP_ABI_CHECK_OFF(fp_ext_header, type, 4);

/* FP_EXT_GROUPS payload (7.38, with FP_CREATE_SUPP_GROUP). */
struct fp_supp_groups {
	uint32_t	nr_groups;
	uint32_t	groups[];
};
FP_ABI_CHECK_SIZE(fp_supp_groups, 4);
FP_ABI_CHECK_OFF(fp_supp_groups, groups, 4);

/* ------------------------------------------------------------------------ */
/* io_uring transport structs (7.42)                                         */
/* ------------------------------------------------------------------------ */

/* Per-entry metadata at the end of fp_uring_req_header. */
struct fp_uring_ent_in_out {
	uint64_t	flags;
	uint64_t	commit_id;	/* to use in the reply's commit */
	uint32_t	payload_sz;	/* bytes in the payload buffer */
	uint32_t	padding;
	uint64_t	reserved;
};
FP_ABI_CHECK_SIZE(fp_uring_ent_in_out, 32);
FP_ABI_CHECK_OFF(fp_uring_ent_in_out, commit_id, 8);
FP_ABI_CHECK_OFF(fp_uring_ent_in_out, payload_sz, 16);
FP_ABI_CHECK_OFF(fp_uring_ent_in_out, padding, 20);
FP_ABI_CHECK_OFF(fp_uring_ent_in_out, reserved, 24);

/* iov[0] of each ring entry: in/out header area, per-op header area, metadata. */
struct fp_uring_req_header {
	char				in_out[FP_URING_IN_OUT_HEADER_SZ];
	char				op_in[FP_URING_OP_IN_OUT_SZ];
	struct fp_uring_ent_in_out	ring_ent_in_out;
};
FP_ABI_CHECK_SIZE(fp_uring_req_header, 288);
FP_ABI_CHECK_OFF(fp_uring_req_header, op_in, 128);
FP_ABI_CHECK_OFF(fp_uring_req_header, ring_ent_in_out, 256);

/* The SQE command area of a FUSE URING_CMD (REGISTER / COMMIT_AND_FETCH). */
struct fp_uring_cmd_req {
	uint64_t	flags;
	uint64_t	commit_id;
	uint16_t	qid;
	uint8_t		padding[6];
};
FP_ABI_CHECK_SIZE(fp_uring_cmd_req, 24);
FP_ABI_CHECK_OFF(fp_uring_cmd_req, commit_id, 8);
FP_ABI_CHECK_OFF(fp_uring_cmd_req, qid, 16);
FP_ABI_CHECK_OFF(fp_uring_cmd_req, padding, 18);

#endif /* FUSEPROTO_ABI_H */
