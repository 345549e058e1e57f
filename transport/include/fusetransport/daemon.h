/* The daemon side of a FUSE connection: a SOCK_SEQPACKET socketpair in place of /dev/fuse,
 * and an unmodified daemon spawned on it, given either /dev/fd/N as its mountpoint
 * argument or the shims of fusetransport/shims.h. */
#ifndef FUSETRANSPORT_DAEMON_H
#define FUSETRANSPORT_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Socket buffer size asked for on both ends. A 1 MiB WRITE (libfuse's max_write) needs
 * more than the default 208 KiB, or send fails with EMSGSIZE (protocol notes §2.4). */
#define FT_SOCKBUF_SIZE (8u << 20)

/*
 * Create an AF_UNIX SOCK_SEQPACKET socketpair, both ends CLOEXEC, and size SO_SNDBUF and
 * SO_RCVBUF of both ends to `bufsize` (SO_SNDBUFFORCE/SO_RCVBUFFORCE, which need
 * CAP_NET_ADMIN; otherwise SO_SNDBUF/SO_RCVBUF, capped by net.core.wmem_max/rmem_max).
 * fds[0] is for the proxy, fds[1] for the daemon. *maxmsg gets the largest message that
 * either end can send in one piece with the buffers obtained. Returns 0, or -1 with errno
 * set and errbuf filled.
 */
int ft_socketpair(int fds[2], size_t bufsize, size_t *maxmsg, char *errbuf);

/*
 * Which argument of a daemon's argv is its mountpoint: for now the last argument (not
 * argv[0]) that names an existing directory. Daemons take the mountpoint as their last
 * positional argument, and their option values (-o source=DIR, ...) are seldom bare
 * directories; a caller that knows better can pass its own index to ft_spawn().
 * Returns the index, or -1 when there is none.
 */
int ft_find_mountpoint(char *const argv[]);

/* ft_spawn() flags. */
#define FT_SPAWN_SETPGRP 0x01u /* run the daemon in a process group of its own, so that a
				* terminal's ^C reaches only the caller */

/*
 * Start argv (searched in the PATH of `envp`) with environment envp (NULL: ours). With
 * fd >= 0, fd is inherited (CLOEXEC cleared in the child) and, with mnt_index > 0,
 * argv[mnt_index] is replaced by "/dev/fd/<fd>", which libfuse3 >= 3.3 takes as an
 * already-open /dev/fuse; with mnt_index < 0 argv is run as it is. In the child the
 * signal mask is emptied and SIGPIPE is reset to its default, since proxies often block or
 * ignore signals. Returns 0 with *pid set once the exec succeeded, or -1 with errno set
 * and errbuf filled (also when the exec failed: the child is then reaped).
 */
int ft_spawn(pid_t *pid, char *const argv[], int mnt_index, int fd, char *const envp[],
	     unsigned flags, char *errbuf);

/* Describe a waitpid() status ("exited 0", "killed by SIGKILL", "killed by SIGSEGV (core
 * dumped)") into buf. Returns buf. */
const char *ft_status_str(int status, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
