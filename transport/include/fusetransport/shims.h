/* Starting a daemon so that the shims of transport/shim/ stand between it and the kernel:
 * a private directory holding the control socket (fusetransport/ctl.h) and fusermount /
 * fusermount3 scripts that run fusewire-fusermount, and the environment that puts them to
 * work: PATH with that directory first, LD_PRELOAD with libfusewire-preload.so, and
 * FUSEWIRE_CTL naming the socket. */
#ifndef FUSETRANSPORT_SHIMS_H
#define FUSETRANSPORT_SHIMS_H

#include <limits.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable that overrides where the shims are looked for. */
#define FT_LIBEXEC_ENV "FUSEWIRE_LIBEXEC"

struct ft_shims {
	char dir[96];           /* the private directory (mode 0700) */
	char ctl[108];          /* its control socket (a sockaddr_un path) */
	char libexec[PATH_MAX]; /* where libfusewire-preload.so and fusewire-fusermount are */
	int lfd;                /* the listening control socket, O_NONBLOCK; -1 when closed */
	char **env;             /* the daemon's environment: ours plus the additions */
	char paths[5][128];     /* what the directory holds, and itself, in removal order */
	const char *leftovers[6]; /* the same as a NULL-terminated list (ft_kernel_watchdog) */
};

/*
 * Find the shims ($FUSEWIRE_LIBEXEC, else ../libexec/fusewire from the running program's
 * directory, which holds for the build tree and an install), make the directory under
 * $TMPDIR or /tmp with the control socket and the scripts, and build the environment.
 * Returns 0, or -1 with errbuf (FT_ERRBUF_SIZE) filled; nothing is left on failure.
 */
int ft_shims_open(struct ft_shims *s, char *errbuf);

/* Close the socket, remove the directory, free the environment. Idempotent. */
void ft_shims_close(struct ft_shims *s);

#ifdef __cplusplus
}
#endif
#endif
