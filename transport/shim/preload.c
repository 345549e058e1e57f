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
 * With FUSEWIRE_MIRROR (fusetransport/mirror.h), the proxy hands back a real /dev/fuse
 * instead (later opens, libfuse's clone_fd, open it for real), and every message read
 * from or written to a /dev/fuse fd (read, readv, write, writev, splice both ways) is
 * copied into the mirror ring for the tracer.
 * Everything else, and everything when FUSEWIRE_CTL is not set, goes to libc unchanged.
 */
#include <dlfcn.h>
#include <pthread.h>
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

#include "fusetransport/chan.h"
#include "fusetransport/ctl.h"
#include "fusetransport/mirror.h"
#include "fuseproto/le.h"

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

/* --mirror: the ring's fd (FUSEWIRE_MIRROR; -1: no mirror), the ring once mapped (at the
 * first open of /dev/fuse, so that the daemon's other descendants never map it), and which
 * fds are /dev/fuse (set when opened, cleared when closed or replaced) */
static int ring_fd = -1;
static struct ft_mirror ring;
static int mirroring;
#define NFUSEFDS 65536
static unsigned char fusefd[NFUSEFDS];

static void drop_thread_bufs(void *);
static pthread_key_t thread_key;

__attribute__((constructor)) static void init(void)
{
	const char *p = getenv(FT_CTL_ENV);
	ctl_path = p && *p ? p : NULL;
	const char *m = getenv(FT_MIRROR_ENV);
	if (ctl_path && m && *m) {
		char *end;
		long fd = strtol(m, &end, 10);
		if (!*end && fd >= 0 && fd < 65536)
			ring_fd = (int)fd;
	}
}

/* With a mirror asked for, map it; a daemon that cannot be traced gets no /dev/fuse,
 * rather than one that nobody sees (0, or -1 with errno set and the reason said). */
static int mirror_ready(void)
{
	if (ring_fd < 0 || mirroring)
		return 0;
	if (ft_mirror_attach(&ring, ring_fd) < 0) {
		int e = errno;
		char msg[160];
		int n = snprintf(msg, sizeof(msg), "fusewire: the mirror ring (fd %d) cannot be "
				 "mapped: %s\n", ring_fd, strerror(e));
		if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
			n = 0; /* standard error is gone: nothing more to be done */
		errno = e;
		return -1;
	}
	pthread_key_create(&thread_key, drop_thread_bufs);
	mirroring = 1;
	return 0;
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

static int is_fusefd(int fd)
{
	return mirroring && fd >= 0 && fd < NFUSEFDS && fusefd[fd];
}

/* open("/dev/fuse", flags): the daemon's socket from the proxy (with the mirror: the
 * /dev/fuse that the proxy mounts, then /dev/fuse itself). */
static int fuse_open(int flags)
{
	if (mirror_ready() < 0)
		return -1;
	int fd, have = any_ours();
	if (have >= 0 && mirroring) {
		REAL(int, open, (const char *, int, ...));
		fd = real_open("/dev/fuse", flags);
		if (fd < 0)
			return -1;
	} else if (have >= 0) {
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
		if (mirroring && (flags & O_NONBLOCK)) /* handed over blocking */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	remember(fd);
	if (mirroring && fd < NFUSEFDS)
		fusefd[fd] = 1;
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

/* ------------------------------------------------------------------ the mirror */

/* A message read from /dev/fuse, into the ring; errno is left as it was. */
static void mirror_in(const struct iovec *iov, int iovcnt, ssize_t n)
{
	int e = errno;
	struct ft_mirror_rec *r = ft_mirror_begin(&ring, FT_MIRROR_KERNEL, iov, iovcnt, (size_t)n);
	if (r)
		ft_mirror_end(&ring, r, 0);
	errno = e;
}

static size_t iov_len(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* A reply's record is taken before the write, so that it precedes whatever the kernel
 * does because of it (a NOTIFY_RETRIEVE's NOTIFY_REPLY, the caller's next request). */
static void mirror_out_end(struct ft_mirror_rec *r, ssize_t res, int err)
{
	if (r)
		ft_mirror_end(&ring, r, res < 0 ? err : 0);
	errno = err;
}

/* A buffer and a pipe of this thread's, for the messages that splice(2) moves without
 * showing us; freed when the thread ends (libfuse's workers come and go). */
static __thread uint8_t *tbuf;
static __thread size_t tcap;
static __thread int tpipe[2] = {-1, -1};

static void drop_thread_bufs(void *arg)
{
	(void)arg;
	free(tbuf);
	tbuf = NULL;
	tcap = 0;
	for (int i = 0; i < 2; i++)
		if (tpipe[i] >= 0) {
			REAL(int, close, (int));
			real_close(tpipe[i]);
			tpipe[i] = -1;
		}
}

static uint8_t *thread_buf(size_t n)
{
	if (n > tcap) {
		uint8_t *b = realloc(tbuf, n);
		if (!b)
			return NULL;
		tbuf = b;
		tcap = n;
		pthread_setspecific(thread_key, tbuf); /* so that the destructor runs */
	}
	return tbuf;
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	REAL(ssize_t, read, (int, void *, size_t));
	ssize_t r = real_read(fd, buf, n);
	if (r > 0 && is_fusefd(fd))
		mirror_in(&(struct iovec){buf, (size_t)r}, 1, r);
	return eof_to_enodev(r, fd, n);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	REAL(ssize_t, readv, (int, const struct iovec *, int));
	ssize_t r = real_readv(fd, iov, iovcnt);
	if (r > 0 && is_fusefd(fd))
		mirror_in(iov, iovcnt, r);
	return eof_to_enodev(r, fd, iovcnt > 0);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, write, (int, const void *, size_t));
	if (!is_fusefd(fd))
		return real_write(fd, buf, n);
	struct ft_mirror_rec *r =
		ft_mirror_begin(&ring, FT_MIRROR_DAEMON, &(struct iovec){(void *)buf, n}, 1, n);
	ssize_t res = real_write(fd, buf, n);
	mirror_out_end(r, res, errno);
	return res;
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	REAL(ssize_t, writev, (int, const struct iovec *, int));
	if (!is_fusefd(fd))
		return real_writev(fd, iov, iovcnt);
	struct ft_mirror_rec *r =
		ft_mirror_begin(&ring, FT_MIRROR_DAEMON, iov, iovcnt, iov_len(iov, iovcnt));
	ssize_t res = real_writev(fd, iov, iovcnt);
	mirror_out_end(r, res, errno);
	return res;
}

static void unmark(int fd)
{
	if (mirroring && fd >= 0 && fd < NFUSEFDS)
		fusefd[fd] = 0;
}

EXPORT int close(int fd)
{
	REAL(int, close, (int));
	unmark(fd);
	return real_close(fd);
}

/* an fd that dup2/dup3 puts in place of a /dev/fuse one is something else */
EXPORT int dup2(int old, int new)
{
	REAL(int, dup2, (int, int));
	int r = real_dup2(old, new);
	if (r >= 0 && old != new)
		unmark(new);
	return r;
}

EXPORT int dup3(int old, int new, int flags)
{
	REAL(int, dup3, (int, int, int));
	int r = real_dup3(old, new, flags);
	if (r >= 0)
		unmark(new);
	return r;
}

/* A request spliced out of /dev/fuse (libfuse with splice_read): read it here and write it
 * into the daemon's pipe, where it finds the same bytes; a reply spliced in (splice_write):
 * its bytes are copied out of the daemon's pipe with tee(2) first. */
static ssize_t splice_in(int fd_in, int fd_out, size_t len)
{
	REAL(ssize_t, read, (int, void *, size_t));
	REAL(ssize_t, write, (int, const void *, size_t));
	uint8_t *b = thread_buf(len);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t r = real_read(fd_in, b, len);
	if (r <= 0)
		return eof_to_enodev(r, fd_in, len);
	mirror_in(&(struct iovec){b, (size_t)r}, 1, r);
	for (ssize_t done = 0; done < r;) {
		ssize_t w = real_write(fd_out, b + done, (size_t)(r - done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1; /* the request is lost with the daemon's pipe: as a failed splice */
		done += w;
	}
	return r;
}

/* A copy of what the daemon's pipe holds, by tee(2) into a pipe of ours; a message that
 * cannot be copied whole is counted as lost. */
static struct ft_mirror_rec *peek_pipe(int fd_in, size_t len)
{
	REAL(ssize_t, read, (int, void *, size_t));
	if (tpipe[0] < 0) {
		if (pipe2(tpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
			ft_mirror_count_lost(&ring);
			return NULL;
		}
		/* a whole message; an unprivileged process may get only pipe-max-size */
		if (fcntl(tpipe[1], F_SETPIPE_SZ, (int)FT_MSG_MAX) < 0)
			fcntl(tpipe[1], F_SETPIPE_SZ, 1 << 20);
	}
	uint8_t *b = thread_buf(len);
	ssize_t t = b ? tee(fd_in, tpipe[1], len, SPLICE_F_NONBLOCK) : -1;
	ssize_t got = t > 0 ? real_read(tpipe[0], b, (size_t)t) : -1;
	if (got <= 0 || (size_t)got < len || (size_t)got < fp_load_le(b, 4)) {
		/* empty our pipe for the next one */
		while (got > 0 && real_read(tpipe[0], b, len) > 0)
			;
		ft_mirror_count_lost(&ring);
		return NULL;
	}
	return ft_mirror_begin(&ring, FT_MIRROR_DAEMON, &(struct iovec){b, (size_t)got}, 1,
			       (size_t)got);
}

EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		      unsigned int flags)
{
	REAL(ssize_t, splice, (int, loff_t *, int, loff_t *, size_t, unsigned int));
	if (is_fusefd(fd_in) && !off_in && !off_out)
		return splice_in(fd_in, fd_out, len);
	if (is_fusefd(fd_out) && !off_in) {
		int e = errno;
		struct ft_mirror_rec *r = peek_pipe(fd_in, len);
		errno = e;
		ssize_t res = real_splice(fd_in, off_in, fd_out, off_out, len, flags);
		mirror_out_end(r, res, errno);
		return res;
	}
	return eof_to_enodev(real_splice(fd_in, off_in, fd_out, off_out, len, flags), fd_in, len);
}
