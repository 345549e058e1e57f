/* The proxy loop: forwards every message between /dev/fuse and the daemon's socket,
 * decodes and prints each once, and takes both sides down cleanly at the end. */
#ifndef FUSEDUMP_PROXY_H
#define FUSEDUMP_PROXY_H

#include <stdint.h>
#include <sys/types.h>

#include "fusetransport/kernel.h"
#include "out.h"
#include "stats.h"

struct fd_lua;
struct ft_mirror;

struct fd_proxy {
	struct fd_out *out;
	struct fd_lua *lua;   /* --lua scripts, or NULL; the loop installs its host callbacks */
	struct fd_stats *stats;
	struct ft_kernel *k;  /* mounted (or, with ctl_fd, mounted when the daemon asks);
			       * closed and unmounted by the loop */
	int sock_fd;          /* our end of the daemon's socketpair; closed by the loop */
	int ctl_fd;           /* the shims' listening control socket (fusetransport/ctl.h),
			       * or -1 (the daemon got /dev/fd/N) */
	int daemon_fd;        /* with ctl_fd: the daemon's end of the socketpair, handed to
			       * the shims, closed by the loop once mounted */
	const char *user_opts; /* with ctl_fd: -m, applied over the daemon's options */
	const char *const *leftovers; /* with ctl_fd: the shims' files, for the watchdog */
	char *const *argv;    /* the daemon's command line, for the trace */
	int sigfd;            /* signalfd for SIGINT, SIGTERM, SIGHUP, SIGCHLD (blocked) */
	pid_t child;          /* the spawned daemon */
	size_t limit;         /* largest message the proxy can carry either way */
	uint64_t count;       /* -c: stop after this many message lines; 0: no limit */
	uint64_t spin_ns;     /* poll without sleeping this long after a message; 0: never */
	struct ft_mirror *mirror; /* --mirror (with ctl_fd; sock_fd and daemon_fd are -1): the
			       * daemon gets /dev/fuse itself, and the loop reads the messages
			       * from the ring that the LD_PRELOAD library fills */
};

/*
 * With ctl_fd, first wait for the daemon to mount through a shim (open("/dev/fuse") and
 * mount(2) through the LD_PRELOAD library, or fusermount3), mount for it, and hand it the
 * socket; a daemon that exits first ends the run with its status.
 * Then run until both sides are gone:
 *  - the filesystem is unmounted (ENODEV on /dev/fuse): a daemon that mounted through
 *    a shim gets the end of file on its socket (which the LD_PRELOAD library turns into
 *    ENODEV), and SIGTERM only if it has not ended 5 s later; a --devfd daemon, which
 *    cannot get ENODEV from a socket, gets SIGTERM at once (to the pid that wrote the
 *    socket last, known from SCM_CREDENTIALS); then its socket is closed and it is
 *    waited for;
 *  - the daemon closes the socket (it died): /dev/fuse is closed, which fails requests in
 *    flight with ENOTCONN, the mount is removed (lazily if busy);
 *  - SIGINT, SIGTERM, SIGHUP or -c: unmount (lazily if busy) and go on until the kernel
 *    lets go; a second signal closes /dev/fuse at once.
 * With mirror, the daemon holds /dev/fuse, and ends by itself when the filesystem is
 * unmounted (it reads ENODEV); when it ends while mounted it died, and the mount is removed.
 * SIGINT, SIGTERM, SIGHUP or -c unmount, and the daemon then ends; a second signal, or a
 * daemon still there 5 s after a plain unmount, gets SIGTERM.
 * Expects the caller to have made itself a child subreaper, so that a daemon that goes to
 * the background stays our child. Returns fusedump's exit status: after the kernel let
 * go, 0 when the daemon then exits (it only ends because we told it to), 128+signal when
 * it crashes, 1 when it had to be killed; when the daemon died first, its exit code,
 * 128+signal, or 1.
 */
int fd_proxy_run(struct fd_proxy *p);

#endif
