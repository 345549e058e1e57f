/* The daemon side: the socketpair that stands in for /dev/fuse, and spawning an unmodified
 * daemon on it (protocol notes §2.1, §2.4). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fusetransport/daemon.h"
#include "fusetransport/kernel.h"
#include "internal.h"

/* Set one buffer option, forcing it past the sysctl limit when we may. */
static int set_buf(int fd, int force_opt, int opt, int size)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	return setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

int ft_socketpair(int fds[2], size_t bufsize, size_t *maxmsg, char *errbuf)
{
	if (bufsize > (size_t)(1u << 30))
		bufsize = 1u << 30;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
		int e = errno;
		ft_seterr(errbuf, "socketpair: %s", strerror(e));
		errno = e;
		return -1;
	}
	size_t lim = SIZE_MAX;
	for (int i = 0; i < 2; i++) {
		if (set_buf(fds[i], SO_SNDBUFFORCE, SO_SNDBUF, (int)bufsize) < 0 ||
		    set_buf(fds[i], SO_RCVBUFFORCE, SO_RCVBUF, (int)bufsize) < 0) {
			int e = errno;
			ft_seterr(errbuf, "setsockopt(SO_SNDBUF/SO_RCVBUF, %zu): %s", bufsize,
				  strerror(e));
			close(fds[0]);
			close(fds[1]);
			errno = e;
			return -1;
		}
		/* getsockopt reports sk_sndbuf (twice what was set); a SEQPACKET send of
		 * more than sk_sndbuf - 32 bytes fails with EMSGSIZE (af_unix.c). */
		int got = 0;
		socklen_t gl = sizeof(got);
		if (getsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &got, &gl) == 0 && got > 32 &&
		    (size_t)got - 32 < lim)
			lim = (size_t)got - 32;
	}
	if (maxmsg)
		*maxmsg = lim == SIZE_MAX ? 0 : lim;
	return 0;
}

int ft_find_mountpoint(char *const argv[])
{
	int found = -1;
	for (int i = 1; argv[i]; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			found = i;
	}
	return found;
}

int ft_spawn(pid_t *pid, char *const argv[], int mnt_index, int fd, char *const envp[],
	     unsigned flags, char *errbuf)
{
	extern char **environ;
	int argc = 0;
	while (argv[argc])
		argc++;
	if (argc == 0 || mnt_index == 0 || mnt_index >= argc || (mnt_index > 0 && fd < 0)) {
		ft_seterr(errbuf, "spawn: bad arguments");
		errno = EINVAL;
		return -1;
	}
	/* Everything the child needs is prepared here: after fork it only makes syscalls. */
	char devfd[32];
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", fd);
	char **av = calloc((size_t)argc + 1, sizeof(*av));
	if (!av) {
		ft_seterr(errbuf, "out of memory");
		return -1;
	}
	for (int i = 0; i < argc; i++)
		av[i] = i == mnt_index ? devfd : argv[i];
	char *const *env = envp ? envp : environ;
	sigset_t none;
	sigemptyset(&none);

	/* The child reports a failed exec through this pipe; a successful exec closes it. */
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		int e = errno;
		ft_seterr(errbuf, "pipe: %s", strerror(e));
		free(av);
		errno = e;
		return -1;
	}
	pid_t p = fork();
	if (p < 0) {
		int e = errno;
		ft_seterr(errbuf, "fork: %s", strerror(e));
		close(ep[0]);
		close(ep[1]);
		free(av);
		errno = e;
		return -1;
	}
	if (p == 0) {
		close(ep[0]);
		if (flags & FT_SPAWN_SETPGRP)
			setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int e = 0;
		if (fd >= 0 && fcntl(fd, F_SETFD, 0) < 0)
			e = errno;
		else
			execvpe(av[0], av, env);
		if (!e)
			e = errno;
		ssize_t w = write(ep[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	if (flags & FT_SPAWN_SETPGRP)
		setpgid(p, p); /* also here, so that it holds before we go on */
	close(ep[1]);
	free(av);
	int e = 0;
	ssize_t r;
	do
		r = read(ep[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(ep[0]);
	if (r > 0) {
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		ft_seterr(errbuf, "%s: %s", argv[0], strerror(e));
		errno = e;
		return -1;
	}
	*pid = p;
	return 0;
}

const char *ft_status_str(int status, char *buf, size_t n)
{
	if (WIFEXITED(status)) {
		snprintf(buf, n, "exited %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		const char *core = WCOREDUMP(status) ? " (core dumped)" : "";
		if (abbrev)
			snprintf(buf, n, "killed by SIG%s%s", abbrev, core);
		else
			snprintf(buf, n, "killed by signal %d%s", WTERMSIG(status), core);
	} else {
		snprintf(buf, n, "status 0x%x", (unsigned)status);
	}
	return buf;
}
