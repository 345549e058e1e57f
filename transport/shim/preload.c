/* libfusewire-preload.so: loaded with LD_PRELOAD into a daemon that mounts /dev/fuse
 * itself (libfuse2, libfuse3 as root, anything dynamically linked that calls mount(2)),
 * so that it runs behind a proxy with its command line unchanged. It stands in for:
 *   open("/dev/fuse")  the proxy's control socket hands back the daemon's end of the
 *                      proxy's socketpair, which then serves as the daemon's /dev/fuse;
 *   mount(2)           of a FUSE filesystem on that fd: the proxy mounts for real, with
 *                      the options asked for (flags, allow_other, fsname, subtype, ...);
 *   umount2(2)         of that mount: the proxy unmounts;
 *   read/readv/splice  on that fd: the end of file that a socket gives once the proxy
 *                      has let go becomes ENODEV, what /dev/fuse gives after an unmount,
 *                      so that libfuse ends its loop cleanly instead of reporting a
 *                      short read and exiting 1.
 * Everything else, and everything when FUSEWIRE_CTL is not set, goes to libc unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fusetransport/ctl.h"

#define EXPORT __attribute__((visibility("default")))

static const char *ctl_path; /* FUSEWIRE_CTL, or NULL: do nothing */

/* The fds we handed out in place of /dev/fuse, with the socket's inode: a read that
 * returns 0 on an fd whose number was since reused for a file is left alone. */
#define NFDS 64
static struct {
	int fd;
	ino_t ino;
	dev_t dev;
} ours[NFDS];
static int nours;
static char mounted_on[4096]; /* what the daemon mounted through us */

__attribute__((constructor)) static void init(void)
{
	const char *p = getenv(FT_CTL_ENV);
	ctl_path = p && *p ? p : NULL;
}

#define REAL(ret, name, args) \
	static ret(*real_##name) args; \
	if (!real_##name) \
		real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name)

static void remember(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	int slot = nours < NFDS ? nours++ : fd % NFDS;
	ours[slot].fd = fd;
	ours[slot].ino = st.st_ino;
	ours[slot].dev = st.st_dev;
}

/* Whether fd is (still) one of ours. Called only when a read returned 0. */
static int is_ours(int fd)
{
	struct stat st;
	for (int i = 0; i < nours; i++)
		if (ours[i].fd == fd)
			return fstat(fd, &st) == 0 && st.st_ino == ours[i].ino &&
			       st.st_dev == ours[i].dev;
	return 0;
}

/* An fd of ours still open, to dup for a second open("/dev/fuse") (libfuse's clone_fd
 * opens one per thread): -1 when none. */
static int any_ours(void)
{
	for (int i = 0; i < nours; i++)
		if (is_ours(ours[i].fd))
			return ours[i].fd;
	return -1;
}

static int set_errno(int status)
{
	errno = -status;
	return -1;
}

/* open("/dev/fuse", flags): the daemon's socket from the proxy. */
static int fuse_open(int flags)
{
	int fd, have = any_ours();
	if (have >= 0) {
		fd = fcntl(have, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
		if (fd < 0)
			return -1;
	} else {
		const char *av[] = {"open"};
		int st = ft_ctl_call(ctl_path, 1, av, &fd, NULL, 0);
		if (st < 0)
			return set_errno(st);
		if (fd < 0)
			return set_errno(-EPROTO);
		if (!(flags & O_CLOEXEC))
			fcntl(fd, F_SETFD, 0);
	}
	remember(fd);
	return fd;
}

static int is_dev_fuse(const char *path)
{
	return ctl_path && path && strcmp(path, "/dev/fuse") == 0;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(name) \
	EXPORT int name(const char *path, int flags, ...) \
	{ \
		va_list ap; \
		va_start(ap, flags); \
		mode_t mode = mode_arg(flags, ap); \
		va_end(ap); \
		if (is_dev_fuse(path)) \
			return fuse_open(flags); \
		REAL(int, name, (const char *, int, ...)); \
		return real_##name(path, flags, mode); \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

#define OPENAT_WRAPPER(name) \
	EXPORT int name(int dirfd, const char *path, int flags, ...) \
	{ \
		va_list ap; \
		va_start(ap, flags); \
		mode_t mode = mode_arg(flags, ap); \
		va_end(ap); \
		if (is_dev_fuse(path)) \
			return fuse_open(flags); \
		REAL(int, name, (int, const char *, int, ...)); \
		return real_##name(dirfd, path, flags, mode); \
	}
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

/* _FORTIFY_SOURCE's checked variants, which take no mode. */
#define OPEN2_WRAPPER(name) \
	EXPORT int name(const char *path, int flags) \
	{ \
		if (is_dev_fuse(path)) \
			return fuse_open(flags); \
		REAL(int, name, (const char *, int)); \
		return real_##name(path, flags); \
	}
OPEN2_WRAPPER(__open_2)
OPEN2_WRAPPER(__open64_2)

/* ------------------------------------------------------------------ mount */

struct obuf {
	char s[FT_CTL_MSG_MAX / 2];
	size_t n;
	int full;
};

static void oput(struct obuf *b, const char *s, size_t n, int escape_commas)
{
	if (b->n && b->n + 1 < sizeof(b->s) && !escape_commas)
		b->s[b->n++] = ',';
	for (size_t i = 0; i < n; i++) {
		if (escape_commas && (s[i] == ',' || s[i] == '\\')) {
			if (b->n + 1 >= sizeof(b->s))
				break;
			b->s[b->n++] = '\\';
		}
		if (b->n + 1 >= sizeof(b->s)) {
			b->full = 1;
			break;
		}
		b->s[b->n++] = s[i];
	}
	b->s[b->n] = 0;
}

static void oputs(struct obuf *b, const char *s)
{
	oput(b, s, strlen(s), 0);
}

/* Whether the comma-separated `data` says fd=N for an fd of ours. */
static int data_names_our_fd(const char *data)
{
	for (const char *p = data; p && *p;) {
		if (!strncmp(p, "fd=", 3)) {
			char *end;
			long fd = strtol(p + 3, &end, 10);
			if (end != p + 3 && (*end == ',' || !*end))
				return fd >= 0 && fd <= 0x7fffffff && is_ours((int)fd);
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

/* mount(2)'s flags and data as libfuse's option string: what fusermount is given. */
static void mount_options(struct obuf *b, const char *source, const char *type,
			  unsigned long flags, const char *data)
{
	static const struct {
		unsigned long flag;
		const char *on, *off;
	} fl[] = {
		{MS_RDONLY, "ro", "rw"},           {MS_NOSUID, "nosuid", "suid"},
		{MS_NODEV, "nodev", "dev"},        {MS_NOEXEC, "noexec", "exec"},
		{MS_SYNCHRONOUS, "sync", NULL},    {MS_DIRSYNC, "dirsync", NULL},
		{MS_NOATIME, "noatime", NULL},     {MS_NODIRATIME, "nodiratime", NULL},
		{MS_RELATIME, "relatime", NULL},   {MS_STRICTATIME, "strictatime", NULL},
		{MS_LAZYTIME, "lazytime", NULL},
	};
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		const char *s = (flags & fl[i].flag) ? fl[i].on : fl[i].off;
		if (s)
			oputs(b, s);
	}
	/* the kernel options, less those that describe the fd: the proxy sets its own */
	for (const char *p = data; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && strncmp(p, "fd=", 3) && strncmp(p, "rootmode=", 9) &&
		    strncmp(p, "user_id=", 8) && strncmp(p, "group_id=", 9))
			oput(b, p, n, 0);
		p = e ? e + 1 : NULL;
	}
	if (source && *source) {
		oputs(b, "fsname=");
		oput(b, source, strlen(source), 1);
	}
	if (type && !strncmp(type, "fuse.", 5) && type[5]) {
		oputs(b, "subtype=");
		oput(b, type + 5, strlen(type + 5), 1);
	}
}

EXPORT int mount(const char *source, const char *target, const char *type,
		 unsigned long flags, const void *data)
{
	REAL(int, mount, (const char *, const char *, const char *, unsigned long, const void *));
	if (!ctl_path || !type || strncmp(type, "fuse", 4) || !data ||
	    !data_names_our_fd(data) || (flags & (MS_REMOUNT | MS_BIND | MS_MOVE)))
		return real_mount(source, target, type, flags, data);
	if (!strcmp(type, "fuseblk"))
		return set_errno(-ENODEV); /* block-device FUSE cannot be proxied */
	struct obuf b = {.n = 0};
	mount_options(&b, source, type, flags, data);
	if (b.full)
		return set_errno(-E2BIG);
	const char *av[] = {"mount", target, b.s, "mount(2)"};
	int st = ft_ctl_call(ctl_path, 4, av, NULL, NULL, 0);
	if (st < 0)
		return set_errno(st);
	size_t n = strlen(target);
	if (n < sizeof(mounted_on))
		memcpy(mounted_on, target, n + 1);
	return 0;
}

static int fuse_umount(const char *target, int flags)
{
	const char *av[] = {"umount", target, (flags & MNT_DETACH) ? "1" : "0"};
	int st = ft_ctl_call(ctl_path, 3, av, NULL, NULL, 0);
	return st < 0 ? set_errno(st) : 0;
}

EXPORT int umount2(const char *target, int flags)
{
	if (ctl_path && target && mounted_on[0] && !strcmp(target, mounted_on))
		return fuse_umount(target, flags);
	REAL(int, umount2, (const char *, int));
	return real_umount2(target, flags);
}

EXPORT int umount(const char *target)
{
	if (ctl_path && target && mounted_on[0] && !strcmp(target, mounted_on))
		return fuse_umount(target, 0);
	REAL(int, umount, (const char *));
	return real_umount(target);
}

/* ------------------------------------------------------------------ end of file */

static ssize_t eof_to_enodev(ssize_t r, int fd, size_t asked)
{
	if (r == 0 && asked && nours && is_ours(fd)) {
		errno = ENODEV;
		return -1;
	}
	return r;
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	REAL(ssize_t, read, (int, void *, size_t));
	return eof_to_enodev(real_read(fd, buf, n), fd, n);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	REAL(ssize_t, readv, (int, const struct iovec *, int));
	return eof_to_enodev(real_readv(fd, iov, iovcnt), fd, iovcnt > 0);
}

EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		      unsigned int flags)
{
	REAL(ssize_t, splice, (int, loff_t *, int, loff_t *, size_t, unsigned int));
	return eof_to_enodev(real_splice(fd_in, off_in, fd_out, off_out, len, flags), fd_in, len);
}
