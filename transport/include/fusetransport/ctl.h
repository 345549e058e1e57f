/* The control socket between a proxy and the shims that run inside its daemon: the
 * LD_PRELOAD library (open("/dev/fuse"), mount(2), umount2(2) of libfuse2/libfuse3 daemons
 * that mount as root) and the fusermount/fusermount3 stand-in (go-fuse, fuser, libfuse as
 * a user). A shim asks; the proxy mounts /dev/fuse for real and hands back the daemon's end
 * of the socketpair in place of a /dev/fuse fd.
 *
 * One request per connection on an AF_UNIX SOCK_SEQPACKET socket: a single message of
 * NUL-terminated strings, the verb first:
 *   "open"                        a /dev/fuse fd is wanted
 *   "mount" TARGET OPTIONS VIA    mount TARGET; OPTIONS as libfuse passes them to
 *                                 fusermount ("rw,nosuid,nodev,allow_other,fsname=x,...");
 *                                 VIA says which shim asks ("mount(2)", "fusermount3")
 *   "umount" TARGET LAZY          unmount TARGET ("1": lazily)
 * The answer is one message: the decimal status ("0" or "-errno"), NUL, an optional text
 * for people, NUL; with "open" and "mount" on success, the daemon's socket in SCM_RIGHTS.
 *
 * The client side makes no allocation and calls no stdio, so that the LD_PRELOAD library
 * can use it from inside any libc call of any program.
 */
#ifndef FUSETRANSPORT_CTL_H
#define FUSETRANSPORT_CTL_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable that names the control socket, for the LD_PRELOAD library. */
#define FT_CTL_ENV "FUSEWIRE_CTL"

#define FT_CTL_MSG_MAX 8192 /* longest request or answer */
#define FT_CTL_ARGS 8       /* most strings in a request, the verb included */
#define FT_CTL_TIMEOUT_S 30 /* a client gives up on an answer after this long (EAGAIN) */

/*
 * Client: connect to the control socket at `path`, send argv[0..argc), wait for the
 * answer. Returns the status (0 or -errno as the proxy answered; -errno of the socket
 * calls when the proxy cannot be reached). *fd gets the fd that came with the answer, or
 * -1 (fd may be NULL: such an fd is then closed). msg (may be NULL) gets the text.
 */
int ft_ctl_call(const char *path, int argc, const char *const argv[], int *fd, char *msg,
		size_t msgsz);

/* Send one message of n bytes on socket s, with fd in SCM_RIGHTS unless fd < 0.
 * Returns 0, or -1 with errno set. */
int ft_send_fd(int s, const void *buf, size_t n, int fd);

/* Server: a listening socket at `path` (which must not exist), O_NONBLOCK|O_CLOEXEC.
 * Returns the fd, or -1 with errno set. */
int ft_ctl_listen(const char *path);

struct ft_ctl_req {
	int fd;                   /* the connection, for ft_ctl_reply() */
	pid_t pid;                /* who asked (SO_PEERCRED) */
	int argc;
	const char *argv[FT_CTL_ARGS];
	char buf[FT_CTL_MSG_MAX + 1];
};

/*
 * Server: accept one connection from listening socket `lfd` and read its request (waiting
 * at most a second for it). Returns 1 with *r filled, 0 when no connection was waiting, or
 * -1 with errno set (a connection that sent nothing usable is closed).
 */
int ft_ctl_accept(int lfd, struct ft_ctl_req *r);

/* Server: answer r with `status` (0 or -errno), an optional text and an optional fd
 * (-1: none), and close the connection. */
void ft_ctl_reply(struct ft_ctl_req *r, int status, int fd, const char *msg);

#ifdef __cplusplus
}
#endif
#endif
