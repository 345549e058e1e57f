/* Framed channels: one FUSE message per read from /dev/fuse and per recv from the
 * daemon's socket, checked against the header's len, written back byte-exact. */
#ifndef FUSETRANSPORT_CHAN_H
#define FUSETRANSPORT_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fuseproto/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Receive buffer size: the kernel refuses a /dev/fuse read with a buffer smaller than
 * max(8192, 80 + max_write), and libfuse's largest max_write is 1 MiB (256 pages). This is
 * libfuse's own buffer size (1 MiB + 4 KiB) plus the 80 bytes of WRITE headers. A daemon
 * that asks for a larger max_write must be clamped to FT_MSG_MAX - 80 by the caller.
 */
#define FT_MSG_MAX ((1u << 20) + 4096u + 80u)

/* INIT capabilities that need the daemon to hold /dev/fuse itself, so that neither a proxy
 * (the daemon has a socket) nor a served capture (there is no daemon) can offer them:
 * passthrough needs BACKING_OPEN ioctls on the daemon's fd (ENOTTY on a socket), io_uring
 * needs URING_CMDs on it, and the DAX and submount bits belong to virtiofs. */
#define FT_INIT_NEEDS_DEV \
	(FP_PASSTHROUGH | FP_OVER_IO_URING | FP_MAP_ALIGNMENT | FP_HAS_INODE_DAX | FP_SUBMOUNTS)

enum ft_chan_kind {
	FT_CHAN_DEV,  /* /dev/fuse: the kernel writes requests, we write replies */
	FT_CHAN_SOCK, /* the daemon's socket: the daemon writes replies, we send requests */
};

/* What ft_chan_recv() found out about a message (ft_rx.flags). */
#define FT_RX_LEN_MISMATCH 0x01u /* header len differs from the bytes received (or the
				  * message is shorter than its header) */
#define FT_RX_REASSEMBLED  0x02u /* the message came in several pieces (splice, §2.4) */
#define FT_RX_TRUNCATED    0x04u /* a piece did not fit the buffer: bytes are lost */

/* One received message; valid until the next ft_chan_recv() on the same channel. */
struct ft_rx {
	uint8_t *buf;   /* the bytes (writable, for in-place edits before forwarding) */
	size_t len;
	unsigned flags; /* FT_RX_* */
	unsigned pieces; /* recv calls that made it up (1 unless reassembled) */
	pid_t pid;      /* FT_CHAN_SOCK: the writer's pid (SCM_CREDENTIALS), 0 if unknown */
};

struct ft_chan {
	int fd;
	enum ft_chan_kind kind;
	uint8_t *buf;
	size_t cap;
	size_t have;     /* FT_CHAN_SOCK: bytes of a message still being reassembled */
	unsigned pieces;
	pid_t last_pid;  /* FT_CHAN_SOCK: the pid that last wrote to the socket, 0 if none yet */
};

/*
 * Set up a channel over fd (which stays the caller's: ft_chan_free() does not close it)
 * with a receive buffer of `cap` bytes. Makes fd non-blocking; on a socket, also turns on
 * SO_PASSCRED so that every message comes with its writer's pid. Returns 0, or -1 with
 * errno set.
 */
int ft_chan_init(struct ft_chan *c, int fd, enum ft_chan_kind kind, size_t cap);
void ft_chan_free(struct ft_chan *c);

/* ft_chan_recv() results. */
#define FT_RECV_MSG   1  /* a message is in *rx */
#define FT_RECV_AGAIN 0  /* nothing (more) to read now; a partly received message is kept */
#define FT_RECV_EOF  (-2) /* the other side is gone: ENODEV (or ECONNABORTED) on /dev/fuse
			   * (unmounted or aborted), end of file on the socket */
#define FT_RECV_ERR  (-1) /* errno says why */

/*
 * Read one message. /dev/fuse gives one request per read; ENOENT (a request that was
 * interrupted while being read) and EINTR are retried. On the socket, one message per
 * recv, except that a reply split into several messages by splice(2) is put back together:
 * a first piece shorter than its header's len is kept, and the following pieces are
 * appended until len bytes are there. This is only sound while one thread writes the
 * socket at a time (pieces of concurrent splices may interleave, §2.4).
 */
int ft_chan_recv(struct ft_chan *c, struct ft_rx *rx);

/*
 * Write one message in a single write(2)/send(2). Returns 0, or -1 with errno set:
 * on /dev/fuse the kernel's verdict on a reply (ENOENT: nobody waits for that unique any
 * more; EINVAL: a malformed reply; ENODEV: the connection is gone); on the socket EAGAIN
 * when it is full (wait for POLLOUT and retry), EMSGSIZE when the message is larger than
 * the socket buffers allow, EPIPE when the daemon is gone.
 */
int ft_chan_send(struct ft_chan *c, const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
