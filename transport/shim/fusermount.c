/* fusewire-fusermount: stands in for fusermount/fusermount3 for a daemon that runs behind
 * a proxy (go-fuse, fuser, libfuse without root). The proxy puts a script named
 * fusermount3 (and fusermount) first in the daemon's PATH that runs
 *     fusewire-fusermount --fusewire-ctl SOCKET --fusewire-as fusermount3 ARGS...
 * and this program speaks fusermount's protocol to the daemon (protocol notes §2.2):
 *   mount:    fusermount3 [-o OPTS] [--] MOUNTPOINT, with _FUSE_COMMFD=N in the
 *             environment: the proxy mounts, and the daemon's end of the proxy's socketpair
 *             goes back over fd N (one byte, SCM_RIGHTS) in place of a /dev/fuse fd;
 *   unmount:  fusermount3 -u [-z] [-q] [--] MOUNTPOINT: the proxy unmounts.
 * Like GNU getopt, options may come after the mountpoint (go-fuse puts -o last).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fusetransport/ctl.h"

static const char *prog = "fusermount3";

static void usage(FILE *f)
{
	fprintf(f,
		"%s: fusewire's stand-in for fusermount3, run by a daemon behind fusedump\n"
		"usage: %s [-o OPTIONS] [--] MOUNTPOINT    (with _FUSE_COMMFD set)\n"
		"       %s -u [-z] [-q] [--] MOUNTPOINT\n",
		prog, prog, prog);
}

/* Drop auto_unmount from the options: the proxy unmounts whatever happens, so it is the
 * watchdog that auto_unmount asks fusermount to be. */
static void drop_auto_unmount(char *opts)
{
	char *w = opts;
	for (char *p = opts; *p;) {
		char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!(n == 12 && !strncmp(p, "auto_unmount", 12))) {
			if (w != opts)
				*w++ = ',';
			memmove(w, p, n);
			w += n;
		}
		p = e ? e + 1 : p + n;
	}
	*w = 0;
}

int main(int argc, char **argv)
{
	const char *ctl = NULL, *mnt = NULL;
	char opts[FT_CTL_MSG_MAX / 2] = "";
	int unmount = 0, lazy = 0, quiet = 0, commfd = -1, dashdash = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (dashdash || a[0] != '-' || !a[1]) {
			if (mnt) {
				fprintf(stderr, "%s: extra argument '%s'\n", prog, a);
				return 1;
			}
			mnt = a;
		} else if (!strcmp(a, "--")) {
			dashdash = 1;
		} else if (!strcmp(a, "--fusewire-ctl") && i + 1 < argc) {
			ctl = argv[++i];
		} else if (!strcmp(a, "--fusewire-as") && i + 1 < argc) {
			prog = argv[++i]; /* the name the daemon ran us by */
		} else if (!strcmp(a, "-u") || !strcmp(a, "--unmount")) {
			unmount = 1;
		} else if (!strcmp(a, "-z") || !strcmp(a, "--lazy")) {
			lazy = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("fusermount3 version: 3.14.0 (fusewire stand-in)\n");
			return 0;
		} else if (!strcmp(a, "--auto-unmount")) {
			return 0; /* a watchdog only (libfuse 3.15+): the proxy is one */
		} else if (!strncmp(a, "--comm-fd=", 10)) {
			commfd = atoi(a + 10);
		} else if ((!strcmp(a, "-o") && i + 1 < argc && (val = argv[++i])) ||
			   (!strncmp(a, "-o", 2) && a[2] && (val = a + 2)) ||
			   (!strncmp(a, "--options=", 10) && (val = a + 10))) {
			size_t have = strlen(opts), n = strlen(val);
			if (have + n + 2 > sizeof(opts)) {
				fprintf(stderr, "%s: options too long\n", prog);
				return 1;
			}
			if (have)
				opts[have++] = ',';
			memcpy(opts + have, val, n + 1);
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(stderr);
			return 1;
		}
	}
	if (!ctl) {
		fprintf(stderr, "%s: run without --fusewire-ctl: this program only works for a "
				"daemon started by fusedump\n", prog);
		return 1;
	}
	if (!mnt) {
		fprintf(stderr, "%s: missing mountpoint\n", prog);
		usage(stderr);
		return 1;
	}
	/* the proxy compares mountpoints as absolute paths */
	char abs[PATH_MAX];
	if (realpath(mnt, abs))
		mnt = abs;

	char msg[512];
	if (unmount) {
		const char *av[] = {"umount", mnt, lazy ? "1" : "0"};
		int st = ft_ctl_call(ctl, 3, av, NULL, msg, sizeof(msg));
		if (st < 0) {
			if (!quiet)
				fprintf(stderr, "%s: failed to unmount %s: %s%s%s\n", prog, mnt,
					strerror(-st), *msg ? ": " : "", msg);
			return 1;
		}
		return 0;
	}

	if (commfd < 0) {
		const char *env = getenv("_FUSE_COMMFD");
		if (!env) {
			fprintf(stderr, "%s: old style mounting not supported\n", prog);
			return 1;
		}
		commfd = atoi(env);
	}
	drop_auto_unmount(opts);
	const char *av[] = {"mount", mnt, opts, prog};
	int fd = -1;
	int st = ft_ctl_call(ctl, 4, av, &fd, msg, sizeof(msg));
	if (st < 0 || fd < 0) {
		fprintf(stderr, "%s: mount failed: %s%s%s\n", prog, strerror(st < 0 ? -st : EPROTO),
			*msg ? ": " : "", msg);
		return 1;
	}
	/* fusermount's answer: one zero byte, with the fd */
	if (ft_send_fd(commfd, "", 1, fd) < 0) {
		fprintf(stderr, "%s: sending the fd over _FUSE_COMMFD=%d: %s\n", prog, commfd,
			strerror(errno));
		return 1;
	}
	return 0;
}
