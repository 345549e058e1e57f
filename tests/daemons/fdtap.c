/* fdtap: an LD_PRELOAD library that records every message a FUSE daemon reads from the
 * socket fusedump gives it, so that a test can compare what the daemon received with what
 * the kernel sent (tests/integration/test_transparency.sh).
 *
 *   env LD_PRELOAD=.../libfdtap.so FDTAP_FILE=FILE DAEMON ...
 *
 * Each message is appended to FILE as a record: its length (u32, little-endian), then its
 * bytes. The channel is any AF_UNIX SOCK_SEQPACKET socket (fusedump's /dev/fd/N); reads
 * of every other fd pass straight through. read, readv, recv, recvfrom, recvmsg and splice
 * (the ways libfuse reads its channel, read() or splice() into a pipe) are covered.
 *
 * Why not peek (recv MSG_PEEK) and then let the real call proceed: libfuse's worker
 * threads all read the same fd, so between one thread's peek and its read another thread
 * can take the message, and the record would show one message twice and miss another.
 * Instead the message is received once, under a lock, with MSG_DONTWAIT, and recorded
 * before the lock is dropped, so the records are in the order the socket handed the
 * messages out. Blocking reads wait in poll() outside the lock (poll, like read, is a
 * cancellation point, which libfuse's pthread_cancel of idle workers relies on; the locked
 * part disables cancellation). For splice the message goes through our buffer and is
 * written to the pipe, which gives the caller the same bytes and return value: reading a
 * SOCK_SEQPACKET socket into a pipe is a copy in the kernel too.
 *
 * Differences left: a signal arriving during a blocking read makes it fail with EINTR even
 * for a handler installed with SA_RESTART (libfuse installs its handlers without it), and
 * a splice whose pipe lacks room for the whole message has it cut to the room there is, or
 * fails with EAGAIN when the pipe is full (libfuse splices into an empty pipe sized for
 * the largest message).
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_splice)(int, loff_t *, int, loff_t *, size_t, unsigned);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = -1;

static void *next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		fprintf(stderr, "fdtap: dlsym(%s): %s\n", name, dlerror());
		abort();
	}
	return p;
}

__attribute__((constructor)) static void fdtap_init(void)
{
	real_read = next_sym("read");
	real_readv = next_sym("readv");
	real_recv = next_sym("recv");
	real_recvfrom = next_sym("recvfrom");
	real_recvmsg = next_sym("recvmsg");
	real_splice = next_sym("splice");
}

/* Whether fd is the FUSE channel. Asked on every call rather than cached per fd number,
 * since the daemon closes and reuses fd numbers all the time; one getsockopt (ENOTSOCK
 * at once for files) is cheap. errno is left as the caller had it. */
static int is_chan(int fd)
{
	int e = errno, type = 0, domain = 0;
	socklen_t n = sizeof(type);
	int r = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n) == 0 && type == SOCK_SEQPACKET;
	n = sizeof(domain);
	r = r && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &n) == 0 && domain == AF_UNIX;
	/* fusedump's control socket, which its shims talk to from inside the daemon, has a
	 * path; the socketpair's peer has none, or an abstract one (autobound: SO_PASSCRED) */
	struct sockaddr_un peer;
	socklen_t pl = sizeof(peer);
	r = r && getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 &&
	    (pl <= offsetof(struct sockaddr_un, sun_path) || peer.sun_path[0] == 0);
	errno = e;
	return r;
}

static void die(const char *what)
{
	fprintf(stderr, "fdtap: %s: %s\n", what, strerror(errno));
	abort();
}

/* Append one record: the first len bytes held by iov. Called with the lock held. */
static void record(const struct iovec *iov, size_t iovcnt, size_t len)
{
	if (out_fd < 0) {
		const char *path = getenv("FDTAP_FILE");
		if (!path || !*path) {
			errno = EINVAL;
			die("FDTAP_FILE is not set");
		}
		out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out_fd < 0)
			die(path);
	}
	uint8_t hdr[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
			  (uint8_t)(len >> 24)};
	if (write(out_fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		die("writing FDTAP_FILE");
	for (size_t i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;
		const uint8_t *p = iov[i].iov_base;
		len -= n;
		while (n) {
			ssize_t w = write(out_fd, p, n);
			if (w <= 0)
				die("writing FDTAP_FILE");
			p += w;
			n -= (size_t)w;
		}
	}
}

static int fd_nonblocking(int fd)
{
	int e = errno, fl = fcntl(fd, F_GETFL);
	errno = e;
	return fl >= 0 && (fl & O_NONBLOCK);
}

/* recvmsg() on the channel, recording what it returns (see the top of the file). */
static ssize_t tap_recvmsg(int fd, struct msghdr *mh, int flags)
{
	int nonblock = (flags & MSG_DONTWAIT) || fd_nonblocking(fd);
	for (;;) {
		if (!nonblock) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, -1) < 0)
				return -1;
		}
		int cs;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
		pthread_mutex_lock(&lock);
		ssize_t r = real_recvmsg(fd, mh, flags | MSG_DONTWAIT);
		int e = errno;
		if (r > 0 && !(flags & MSG_PEEK)) {
			/* with MSG_TRUNC, r is the message's length, maybe more than was copied */
			size_t cap = 0;
			for (size_t i = 0; i < mh->msg_iovlen; i++)
				cap += mh->msg_iov[i].iov_len;
			record(mh->msg_iov, mh->msg_iovlen, (size_t)r < cap ? (size_t)r : cap);
		}
		pthread_mutex_unlock(&lock);
		pthread_setcancelstate(cs, NULL);
		if (r < 0 && e == EAGAIN && !nonblock)
			continue; /* another thread took the message we were woken for */
		errno = e;
		return r;
	}
}

static ssize_t tap_iov(int fd, const struct iovec *iov, int iovcnt, int flags,
		       struct sockaddr *from, socklen_t *fromlen)
{
	struct msghdr mh = {
		.msg_name = from,
		.msg_namelen = fromlen ? *fromlen : 0,
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = iovcnt < 0 ? 0 : (size_t)iovcnt,
	};
	if (iovcnt < 0) {
		errno = EINVAL;
		return -1;
	}
	ssize_t r = tap_recvmsg(fd, &mh, flags);
	if (r >= 0 && fromlen)
		*fromlen = mh.msg_namelen;
	return r;
}

ssize_t read(int fd, void *buf, size_t n)
{
	if (!is_chan(fd))
		return real_read(fd, buf, n);
	struct iovec iov = {buf, n};
	return tap_iov(fd, &iov, 1, 0, NULL, NULL);
}

/* What read() becomes with _FORTIFY_SOURCE when the buffer's size is known. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	if (!is_chan(fd))
		return real_readv(fd, iov, iovcnt);
	return tap_iov(fd, iov, iovcnt, 0, NULL, NULL);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		 socklen_t *fromlen)
{
	if (!is_chan(fd))
		return real_recvfrom(fd, buf, n, flags, from, fromlen);
	struct iovec iov = {buf, n};
	return tap_iov(fd, &iov, 1, flags, from, fromlen);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	if (!is_chan(fd))
		return real_recv(fd, buf, n, flags);
	struct iovec iov = {buf, n};
	return tap_iov(fd, &iov, 1, flags, NULL, NULL);
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		abort();
	return recv(fd, buf, n, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen)
{
	if (n > buflen)
		abort();
	return recvfrom(fd, buf, n, flags, from, fromlen);
}

ssize_t recvmsg(int fd, struct msghdr *mh, int flags)
{
	if (!is_chan(fd))
		return real_recvmsg(fd, mh, flags);
	return tap_recvmsg(fd, mh, flags);
}

/* Write all of buf to the pipe; the bytes have left the socket already. */
static int fill_pipe(int fd, const uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
	       unsigned flags)
{
	if (!is_chan(fd_in))
		return real_splice(fd_in, off_in, fd_out, off_out, len, flags);
	if (off_in || off_out) {
		errno = ESPIPE; /* as splice says for a socket, or a pipe, with an offset */
		return -1;
	}
	/* the kernel reads no more than the pipe has room for */
	int e = errno, size = fcntl(fd_out, F_GETPIPE_SZ), queued = 0;
	if (size < 0) {
		errno = EINVAL; /* fd_out is not a pipe: splice needs one end to be one */
		return -1;
	}
	if (ioctl(fd_out, FIONREAD, &queued) < 0)
		queued = 0;
	errno = e;
	size_t room = size > queued ? (size_t)(size - queued) : 0;
	if (!len)
		return 0;
	if (!room) {
		errno = EAGAIN;
		return -1;
	}
	if (len > room)
		len = room;
	uint8_t *buf = malloc(len);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	struct iovec iov = {buf, len};
	ssize_t r = tap_iov(fd_in, &iov, 1, (flags & SPLICE_F_NONBLOCK) ? MSG_DONTWAIT : 0,
			    NULL, NULL);
	if (r > 0 && fill_pipe(fd_out, buf, (size_t)r) < 0) {
		fprintf(stderr, "fdtap: splice: writing %zd bytes to the pipe: %s\n", r,
			strerror(errno));
		abort();
	}
	free(buf);
	return r;
}
