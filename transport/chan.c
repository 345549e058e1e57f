/* Framed channels over /dev/fuse and the daemon's SOCK_SEQPACKET socket: one message per
 * read or recv, splice fragments put back together by the header's len (§2.4). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuseproto/le.h"

#include "fusetransport/chan.h"

/* Both headers start with the message's total length:
 *   fuse_in_header  { u32 len; u32 opcode; u64 unique; ... }   40 bytes
 *   fuse_out_header { u32 len; s32 error;  u64 unique; }       16 bytes */
#define IN_HDR_LEN 40u
#define OUT_HDR_LEN 16u

static uint32_t hdr_len(const uint8_t *p)
{
	return (uint32_t)fp_load_le(p, 4);
}

int ft_chan_init(struct ft_chan *c, int fd, enum ft_chan_kind kind, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->kind = kind;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (kind == FT_CHAN_SOCK) {
		int one = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
			return -1;
	}
	c->buf = malloc(cap);
	if (!c->buf)
		return -1;
	c->cap = cap;
	return 0;
}

void ft_chan_free(struct ft_chan *c)
{
	free(c->buf);
	c->buf = NULL;
	c->cap = c->have = 0;
}

static int recv_dev(struct ft_chan *c, struct ft_rx *rx)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf, c->cap);
		if (n > 0) {
			rx->buf = c->buf;
			rx->len = (size_t)n;
			rx->pieces = 1;
			if ((size_t)n < IN_HDR_LEN || hdr_len(c->buf) != (size_t)n)
				rx->flags |= FT_RX_LEN_MISMATCH;
			return FT_RECV_MSG;
		}
		if (n == 0) {
			errno = EIO; /* the kernel never returns an empty request */
			return FT_RECV_ERR;
		}
		switch (errno) {
		case EINTR:
		case ENOENT: /* the request was interrupted while we read it */
			continue;
		case EAGAIN:
			return FT_RECV_AGAIN;
		case ENODEV:
		case ECONNABORTED:
			return FT_RECV_EOF;
		default:
			return FT_RECV_ERR;
		}
	}
}

/* Deliver c->buf[0, len) and start afresh. */
static int deliver(struct ft_chan *c, struct ft_rx *rx, size_t len, unsigned flags)
{
	rx->buf = c->buf;
	rx->len = len;
	rx->flags |= flags;
	rx->pieces = c->pieces;
	if (c->pieces > 1)
		rx->flags |= FT_RX_REASSEMBLED;
	if (len < OUT_HDR_LEN || hdr_len(c->buf) != len)
		rx->flags |= FT_RX_LEN_MISMATCH;
	rx->pid = c->last_pid;
	c->have = 0;
	c->pieces = 0;
	return FT_RECV_MSG;
}

static int recv_sock(struct ft_chan *c, struct ft_rx *rx)
{
	for (;;) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} cm;
		struct iovec iov = {c->buf + c->have, c->cap - c->have};
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = cm.b,
			.msg_controllen = sizeof(cm.b),
		};
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return FT_RECV_AGAIN;
			if (errno == ECONNRESET)
				goto eof;
			return FT_RECV_ERR;
		}
		/* With SO_PASSCRED every message carries its writer's credentials; the end of
		 * file carries none, which tells it from an empty message. */
		int creds = 0;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
			if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS &&
			    h->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
				struct ucred u;
				memcpy(&u, CMSG_DATA(h), sizeof(u));
				c->last_pid = u.pid;
				creds = 1;
			}
		}
		if (n == 0 && !creds)
			goto eof;
		c->pieces++;
		size_t have = c->have + (size_t)n;
		if (mh.msg_flags & MSG_TRUNC)
			return deliver(c, rx, have, FT_RX_TRUNCATED);
		uint32_t want = have >= 4 ? hdr_len(c->buf) : 0;
		if (have < OUT_HDR_LEN || want <= have || want > c->cap)
			return deliver(c, rx, have, 0);
		/* a first piece of a longer message, or a middle one: read on */
		c->have = have;
	}
eof:
	if (c->have)
		/* the daemon went away in the middle of a message: show what came */
		return deliver(c, rx, c->have, 0);
	return FT_RECV_EOF;
}

int ft_chan_recv(struct ft_chan *c, struct ft_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	return c->kind == FT_CHAN_DEV ? recv_dev(c, rx) : recv_sock(c, rx);
}

int ft_chan_send(struct ft_chan *c, const uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n;
		if (c->kind == FT_CHAN_DEV)
			n = write(c->fd, buf, len);
		else
			n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			if ((size_t)n == len)
				return 0;
			errno = EIO; /* neither side ever takes part of a message */
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}
