/* The control socket between a proxy and its shims (fusetransport/ctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fusetransport/ctl.h"

static int set_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a->sun_path, path, n + 1);
	return 0;
}

int ft_send_fd(int s, const void *buf, size_t n, int fd)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.b;
		mh.msg_controllen = sizeof(c.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t r;
	do
		r = sendmsg(s, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

/* Receive one message into buf (NUL-terminated); *fd gets a passed fd or -1. Returns its
 * length, 0 at end of file, -1 with errno set. */
static ssize_t recv_msg(int s, char *buf, size_t size, int *fd)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} c;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
			    .msg_controllen = sizeof(c.b)};
	ssize_t r;
	do
		r = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	*fd = -1;
	if (r < 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = f;
			else
				close(f); /* more than we asked for */
		}
	}
	buf[r] = 0;
	return r;
}

int ft_ctl_call(const char *path, int argc, const char *const argv[], int *fd, char *msg,
		size_t msgsz)
{
	if (fd)
		*fd = -1;
	if (msg && msgsz)
		msg[0] = 0;
	char buf[FT_CTL_MSG_MAX + 1];
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (n + l > FT_CTL_MSG_MAX)
			return -E2BIG;
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	struct sockaddr_un a;
	if (set_addr(&a, path) < 0)
		return -errno;
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	/* a proxy that is gone or stuck must not hang the daemon's mount or unmount */
	struct timeval tv = {.tv_sec = FT_CTL_TIMEOUT_S};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int e = 0;
	int got = -1;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || ft_send_fd(s, buf, n, -1) < 0) {
		e = errno;
	} else {
		ssize_t r = recv_msg(s, buf, sizeof(buf), &got);
		if (r < 0)
			e = errno;
		else if (r == 0)
			e = ECONNRESET;
	}
	close(s);
	if (e) {
		if (got >= 0)
			close(got);
		return -e;
	}
	char *end;
	long st = strtol(buf, &end, 10);
	if (end == buf || *end || st > 0 || st < -4095) {
		if (got >= 0)
			close(got);
		return -EPROTO;
	}
	if (msg && msgsz) {
		const char *text = end + 1 < buf + FT_CTL_MSG_MAX ? end + 1 : "";
		size_t tl = strnlen(text, msgsz - 1);
		memcpy(msg, text, tl);
		msg[tl] = 0;
	}
	if (fd)
		*fd = got;
	else if (got >= 0)
		close(got);
	return (int)st;
}

int ft_ctl_listen(const char *path)
{
	struct sockaddr_un a;
	if (set_addr(&a, path) < 0)
		return -1;
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

int ft_ctl_accept(int lfd, struct ft_ctl_req *r)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	memset(r, 0, sizeof(*r));
	r->fd = c;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
		r->pid = cr.pid;
	/* a shim sends its request right after connecting; do not wait on one that does not */
	struct pollfd pf = {c, POLLIN, 0};
	int fd = -1;
	ssize_t n = -1;
	if (poll(&pf, 1, 1000) == 1)
		n = recv_msg(c, r->buf, sizeof(r->buf), &fd);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || r->buf[n - 1] != 0) {
		close(c);
		r->fd = -1;
		errno = n < 0 ? errno : EPROTO;
		return -1;
	}
	for (ssize_t i = 0; i < n && r->argc < FT_CTL_ARGS; i += (ssize_t)strlen(r->buf + i) + 1)
		r->argv[r->argc++] = r->buf + i;
	return 1;
}

void ft_ctl_reply(struct ft_ctl_req *r, int status, int fd, const char *msg)
{
	if (r->fd < 0)
		return;
	char buf[FT_CTL_MSG_MAX];
	int n = snprintf(buf, sizeof(buf), "%d%c%s", status, 0, msg ? msg : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	buf[n] = 0;
	ft_send_fd(r->fd, buf, (size_t)n + 1, status == 0 ? fd : -1);
	close(r->fd);
	r->fd = -1;
}
