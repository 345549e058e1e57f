/* Symbol tables shared by the families and the formatters (errno, open flags, INIT flags,
 * dirent types), and the small helpers over field kinds and symbols. */
#define _GNU_SOURCE
#include <fcntl.h>

#include "fuseproto/abi.h"
#include "fuseproto/field.h"

unsigned fp_kind_width(enum fp_kind kind)
{
	switch (kind) {
	case FP_K_U8:
		return 1;
	case FP_K_U16:
		return 2;
	case FP_K_U32:
	case FP_K_S32:
		return 4;
	case FP_K_U64:
	case FP_K_S64:
		return 8;
	default:
		return 0;
	}
}

int fp_kind_is_int(enum fp_kind kind)
{
	return fp_kind_width(kind) != 0;
}

const char *fp_sym_name(const struct fp_sym *sym, uint64_t v)
{
	for (; sym && sym->name; sym++)
		if (sym->v == v)
			return sym->name;
	return NULL;
}

/* Linux errno values (asm-generic/errno-base.h and errno.h). */
const struct fp_sym fp_sym_errno[] = {
	{1, "EPERM"},
	{2, "ENOENT"},
	{3, "ESRCH"},
	{4, "EINTR"},
	{5, "EIO"},
	{6, "ENXIO"},
	{7, "E2BIG"},
	{8, "ENOEXEC"},
	{9, "EBADF"},
	{10, "ECHILD"},
	{11, "EAGAIN"},
	{12, "ENOMEM"},
	{13, "EACCES"},
	{14, "EFAULT"},
	{15, "ENOTBLK"},
	{16, "EBUSY"},
	{17, "EEXIST"},
	{18, "EXDEV"},
	{19, "ENODEV"},
	{20, "ENOTDIR"},
	{21, "EISDIR"},
	{22, "EINVAL"},
	{23, "ENFILE"},
	{24, "EMFILE"},
	{25, "ENOTTY"},
	{26, "ETXTBSY"},
	{27, "EFBIG"},
	{28, "ENOSPC"},
	{29, "ESPIPE"},
	{30, "EROFS"},
	{31, "EMLINK"},
	{32, "EPIPE"},
	{33, "EDOM"},
	{34, "ERANGE"},
	{35, "EDEADLK"},
	{36, "ENAMETOOLONG"},
	{37, "ENOLCK"},
	{38, "ENOSYS"},
	{39, "ENOTEMPTY"},
	{40, "ELOOP"},
	{42, "ENOMSG"},
	{43, "EIDRM"},
	{44, "ECHRNG"},
	{45, "EL2NSYNC"},
	{46, "EL3HLT"},
	{47, "EL3RST"},
	{48, "ELNRNG"},
	{49, "EUNATCH"},
	{50, "ENOCSI"},
	{51, "EL2HLT"},
	{52, "EBADE"},
	{53, "EBADR"},
	{54, "EXFULL"},
	{55, "ENOANO"},
	{56, "EBADRQC"},
	{57, "EBADSLT"},
	{59, "EBFONT"},
	{60, "ENOSTR"},
	{61, "ENODATA"},
	{62, "ETIME"},
	{63, "ENOSR"},
	{64, "ENONET"},
	{65, "ENOPKG"},
	{66, "EREMOTE"},
	{67, "ENOLINK"},
	{68, "EADV"},
	{69, "ESRMNT"},
	{70, "ECOMM"},
	{71, "EPROTO"},
	{72, "EMULTIHOP"},
	{73, "EDOTDOT"},
	{74, "EBADMSG"},
	{75, "EOVERFLOW"},
	{76, "ENOTUNIQ"},
	{77, "EBADFD"},
	{78, "EREMCHG"},
	{79, "ELIBACC"},
	{80, "ELIBBAD"},
	{81, "ELIBSCN"},
	{82, "ELIBMAX"},
	{83, "ELIBEXEC"},
	{84, "EILSEQ"},
	{85, "ERESTART"},
	{86, "ESTRPIPE"},
	{87, "EUSERS"},
	{88, "ENOTSOCK"},
	{89, "EDESTADDRREQ"},
	{90, "EMSGSIZE"},
	{91, "EPROTOTYPE"},
	{92, "ENOPROTOOPT"},
	{93, "EPROTONOSUPPORT"},
	{94, "ESOCKTNOSUPPORT"},
	{95, "EOPNOTSUPP"},
	{96, "EPFNOSUPPORT"},
	{97, "EAFNOSUPPORT"},
	{98, "EADDRINUSE"},
	{99, "EADDRNOTAVAIL"},
	{100, "ENETDOWN"},
	{101, "ENETUNREACH"},
	{102, "ENETRESET"},
	{103, "ECONNABORTED"},
	{104, "ECONNRESET"},
	{105, "ENOBUFS"},
	{106, "EISCONN"},
	{107, "ENOTCONN"},
	{108, "ESHUTDOWN"},
	{109, "ETOOMANYREFS"},
	{110, "ETIMEDOUT"},
	{111, "ECONNREFUSED"},
	{112, "EHOSTDOWN"},
	{113, "EHOSTUNREACH"},
	{114, "EALREADY"},
	{115, "EINPROGRESS"},
	{116, "ESTALE"},
	{117, "EUCLEAN"},
	{118, "ENOTNAM"},
	{119, "ENAVAIL"},
	{120, "EISNAM"},
	{121, "EREMOTEIO"},
	{122, "EDQUOT"},
	{123, "ENOMEDIUM"},
	{124, "EMEDIUMTYPE"},
	{125, "ECANCELED"},
	{126, "ENOKEY"},
	{127, "EKEYEXPIRED"},
	{128, "EKEYREVOKED"},
	{129, "EKEYREJECTED"},
	{130, "EOWNERDEAD"},
	{131, "ENOTRECOVERABLE"},
	{132, "ERFKILL"},
	{0, NULL},
};

const char *fp_errno_name(int64_t err)
{
	uint64_t v = err < 0 ? (uint64_t)(-(err + 1)) + 1 : (uint64_t)err;
	return fp_sym_name(fp_sym_errno, v);
}

/* open(2) flags other than the access mode (O_RDONLY, O_WRONLY, O_RDWR), Linux x86 values. */
const struct fp_sym fp_sym_oflags[] = {
	{O_CREAT, "O_CREAT"},
	{O_EXCL, "O_EXCL"},
	{O_NOCTTY, "O_NOCTTY"},
	{O_TRUNC, "O_TRUNC"},
	{O_APPEND, "O_APPEND"},
	{O_NONBLOCK, "O_NONBLOCK"},
	{O_DSYNC, "O_DSYNC"},
	{O_ASYNC, "O_ASYNC"},
	{O_DIRECT, "O_DIRECT"},
	{0100000, "O_LARGEFILE"},
	{O_DIRECTORY, "O_DIRECTORY"},
	{O_NOFOLLOW, "O_NOFOLLOW"},
	{O_NOATIME, "O_NOATIME"},
	{O_CLOEXEC, "O_CLOEXEC"},
	{04000000 & ~O_DSYNC, "O_SYNC"},
	{O_PATH, "O_PATH"},
	{020000000, "O_TMPFILE"},
	{0, NULL},
};

/* INIT flags by their bit in the 64-bit value (flags | flags2 << 32). */
const struct fp_sym fp_sym_init_flags[] = {
	{FP_ASYNC_READ, "ASYNC_READ"},
	{FP_POSIX_LOCKS, "POSIX_LOCKS"},
	{FP_FILE_OPS, "FILE_OPS"},
	{FP_ATOMIC_O_TRUNC, "ATOMIC_O_TRUNC"},
	{FP_EXPORT_SUPPORT, "EXPORT_SUPPORT"},
	{FP_BIG_WRITES, "BIG_WRITES"},
	{FP_DONT_MASK, "DONT_MASK"},
	{FP_SPLICE_WRITE, "SPLICE_WRITE"},
	{FP_SPLICE_MOVE, "SPLICE_MOVE"},
	{FP_SPLICE_READ, "SPLICE_READ"},
	{FP_FLOCK_LOCKS, "FLOCK_LOCKS"},
	{FP_HAS_IOCTL_DIR, "HAS_IOCTL_DIR"},
	{FP_AUTO_INVAL_DATA, "AUTO_INVAL_DATA"},
	{FP_DO_READDIRPLUS, "DO_READDIRPLUS"},
	{FP_READDIRPLUS_AUTO, "READDIRPLUS_AUTO"},
	{FP_ASYNC_DIO, "ASYNC_DIO"},
	{FP_WRITEBACK_CACHE, "WRITEBACK_CACHE"},
	{FP_NO_OPEN_SUPPORT, "NO_OPEN_SUPPORT"},
	{FP_PARALLEL_DIROPS, "PARALLEL_DIROPS"},
	{FP_HANDLE_KILLPRIV, "HANDLE_KILLPRIV"},
	{FP_POSIX_ACL, "POSIX_ACL"},
	{FP_ABORT_ERROR, "ABORT_ERROR"},
	{FP_MAX_PAGES, "MAX_PAGES"},
	{FP_CACHE_SYMLINKS, "CACHE_SYMLINKS"},
	{FP_NO_OPENDIR_SUPPORT, "NO_OPENDIR_SUPPORT"},
	{FP_EXPLICIT_INVAL_DATA, "EXPLICIT_INVAL_DATA"},
	{FP_MAP_ALIGNMENT, "MAP_ALIGNMENT"},
	{FP_SUBMOUNTS, "SUBMOUNTS"},
	{FP_HANDLE_KILLPRIV_V2, "HANDLE_KILLPRIV_V2"},
	{FP_SETXATTR_EXT, "SETXATTR_EXT"},
	{FP_INIT_EXT, "INIT_EXT"},
	{FP_INIT_RESERVED, "INIT_RESERVED"},
	{FP_SECURITY_CTX, "SECURITY_CTX"},
	{FP_HAS_INODE_DAX, "HAS_INODE_DAX"},
	{FP_CREATE_SUPP_GROUP, "CREATE_SUPP_GROUP"},
	{FP_HAS_EXPIRE_ONLY, "HAS_EXPIRE_ONLY"},
	{FP_DIRECT_IO_ALLOW_MMAP, "DIRECT_IO_ALLOW_MMAP"},
	{FP_PASSTHROUGH, "PASSTHROUGH"},
	{FP_NO_EXPORT_SUPPORT, "NO_EXPORT_SUPPORT"},
	{FP_HAS_RESEND, "HAS_RESEND"},
	{FP_ALLOW_IDMAP, "ALLOW_IDMAP"},
	{FP_OVER_IO_URING, "OVER_IO_URING"},
	{FP_REQUEST_TIMEOUT, "REQUEST_TIMEOUT"},
	{0, NULL},
};

/* INIT flags2: the upper 32 bits of the 64-bit value, as the flags2 field holds them. */
const struct fp_sym fp_sym_init_flags2[] = {
	{FP_SECURITY_CTX >> 32, "SECURITY_CTX"},
	{FP_HAS_INODE_DAX >> 32, "HAS_INODE_DAX"},
	{FP_CREATE_SUPP_GROUP >> 32, "CREATE_SUPP_GROUP"},
	{FP_HAS_EXPIRE_ONLY >> 32, "HAS_EXPIRE_ONLY"},
	{FP_DIRECT_IO_ALLOW_MMAP >> 32, "DIRECT_IO_ALLOW_MMAP"},
	{FP_PASSTHROUGH >> 32, "PASSTHROUGH"},
	{FP_NO_EXPORT_SUPPORT >> 32, "NO_EXPORT_SUPPORT"},
	{FP_HAS_RESEND >> 32, "HAS_RESEND"},
	{FP_ALLOW_IDMAP >> 32, "ALLOW_IDMAP"},
	{FP_OVER_IO_URING >> 32, "OVER_IO_URING"},
	{FP_REQUEST_TIMEOUT >> 32, "REQUEST_TIMEOUT"},
	{0, NULL},
};

/* dirent.type: the DT_* value, S_IFMT >> 12. */
const struct fp_sym fp_sym_dtype[] = {
	{0, "DT_UNKNOWN"},
	{1, "DT_FIFO"},
	{2, "DT_CHR"},
	{4, "DT_DIR"},
	{6, "DT_BLK"},
	{8, "DT_REG"},
	{10, "DT_LNK"},
	{12, "DT_SOCK"},
	{14, "DT_WHT"},
	{0, NULL},
};
