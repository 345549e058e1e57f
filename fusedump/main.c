/* fusedump: run an unmodified FUSE daemon behind a transparent proxy and print every
 * message it exchanges with the kernel. This file is the command line and the setup:
 * mount, socketpair, spawn; proxy.c does the rest. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fusetransport/chan.h"
#include "fusetransport/daemon.h"
#include "fusetransport/kernel.h"
#include "fusetransport/shims.h"
#include "out.h"
#include "proxy.h"
#include "stats.h"

#ifndef FUSEWIRE_VERSION
#define FUSEWIRE_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: fusedump [-tvx] [--json] [-o FILE] [-c COUNT] [-B KIB] [--stats] [-m OPTS] [--devfd] -- DAEMON [ARGS...]\n";

static const char help_text[] =
	"Run the FUSE daemon DAEMON ARGS..., unmodified, behind a transparent proxy, and print\n"
	"one line for every message that it and the kernel exchange.\n"
	"\n"
	"The daemon runs with its command line unchanged. When it mounts, fusedump mounts for\n"
	"it (mount(2), so as root) with the options it asked for, and gives it a socket in\n"
	"place of /dev/fuse: shims catch open(\"/dev/fuse\") and mount(2) (LD_PRELOAD: libfuse2,\n"
	"libfuse3 and other dynamically linked daemons) and fusermount/fusermount3 (first in\n"
	"its PATH: go-fuse, fuser). fusedump runs until the filesystem is unmounted, the daemon\n"
	"exits, or it gets SIGINT/SIGTERM (then it unmounts and lets the daemon end).\n"
	"\n"
	"  -o, --output FILE      write the trace to FILE instead of stdout\n"
	"      --json             one JSON object per line instead of text\n"
	"  -v, --verbose          every field, padding included; more of the data\n"
	"  -t, --time             start text lines with the time of day (UTC)\n"
	"  -x, --hex              the bytes of every message too, in hex (JSON: \"raw\")\n"
	"  -c, --count COUNT      print COUNT messages, then unmount and end\n"
	"      --stats            print message counts and latencies to stderr at the end\n"
	"  -B, --buffer-size KIB  trace waiting to be written, at most (default 16384); when\n"
	"                         the output is slower than that, lines are dropped and counted\n"
	"  -m, --mount-options OPTS\n"
	"                         mount options (allow_other, default_permissions, ro, noexec,\n"
	"                         fsname=, subtype=, max_read=, ...); those in the daemon's own\n"
	"                         applied over those the daemon asks for\n"
	"      --devfd            mount at once on the daemon's mountpoint argument (the last\n"
	"                         argument that is an existing directory), with the options of\n"
	"                         its -o arguments, and put /dev/fd/N in its place (libfuse3 >=\n"
	"                         3.3, go-fuse >= 2.2): for daemons the shims cannot reach\n"
	"  -h, --help             this help\n"
	"  -V, --version          the version\n"
	"\n"
	"Lines starting with '#' are fusedump's own events (INIT edits, injected replies,\n"
	"unmount, how the daemon ended). Exit status: 0 when the daemon ends after the\n"
	"unmount (128+signal if it crashes then); when it dies while mounted, its exit code,\n"
	"128+signal, or 1; 1 for fusedump's own failures; 2 for usage errors.\n";

struct opts {
	int json;
	unsigned fmt;
	const char *output;
	uint64_t count;
	int stats;
	const char *mount_opts;
	int devfd;
	size_t buffer; /* -B, bytes */
	char **argv; /* the daemon's */
};

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "fusedump: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%sTry 'fusedump --help'.\n", usage_text);
	exit(2);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"time", no_argument, NULL, 't'},
		{"hex", no_argument, NULL, 'x'},
		{"count", required_argument, NULL, 'c'},
		{"stats", no_argument, NULL, 's'},
		{"mount-options", required_argument, NULL, 'm'},
		{"devfd", no_argument, NULL, 'D'},
		{"buffer-size", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	int c;
	opterr = 0; /* our own messages, which name "fusedump" rather than argv[0] */
	/* '+': stop at the first non-option, the daemon, even without "--"; ':': tell a
	 * missing argument from an unknown option */
	while ((c = getopt_long(argc, argv, "+:o:vtxc:m:B:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'v':
			o->fmt |= FP_FMT_VERBOSE;
			break;
		case 't':
			o->fmt |= FP_FMT_TIME;
			break;
		case 'x':
			o->fmt |= FP_FMT_HEX;
			break;
		case 'c': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || v == 0 || optarg[0] == '-')
				usage_error("-c: '%s' is not a positive number", optarg);
			o->count = v;
			break;
		}
		case 's':
			o->stats = 1;
			break;
		case 'B': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || v == 0 || optarg[0] == '-' || v > (1ull << 30))
				usage_error("-B: '%s' is not a size in KiB from 1 to 1073741824", optarg);
			o->buffer = (size_t)v << 10;
			break;
		}
		case 'm':
			o->mount_opts = optarg;
			break;
		case 'D':
			o->devfd = 1;
			break;
		case 'h':
			printf("%s\n%s", usage_text, help_text);
			exit(0);
		case 'V':
			printf("fusedump (fusewire) %s\n", FUSEWIRE_VERSION);
			exit(0);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	if (optind >= argc)
		usage_error("%s", "no daemon to run");
	o->argv = argv + optind;
}

/* Add the mount options found in the daemon's own "-o a,b" / "-oa,b" arguments: with a
 * /dev/fd/N mountpoint libfuse parses them but no longer applies them, so the mounter
 * must. Options of the daemon itself (source=, ...) are left alone. */
static int add_daemon_opts(struct ft_mount_opts *mo, char **argv, char *errbuf)
{
	for (int i = 1; argv[i]; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		const char *list;
		if (!strcmp(argv[i], "-o") && argv[i + 1])
			list = argv[++i];
		else if (!strncmp(argv[i], "-o", 2) && argv[i][2])
			list = argv[i] + 2;
		else
			continue;
		if (ft_mount_opts_add_known(mo, list, errbuf) < 0)
			return -1;
	}
	return 0;
}

/* Validate -m on its own, so that a typo is a usage error before anything starts. */
static void check_mount_opts(const char *opts)
{
	char errbuf[FT_ERRBUF_SIZE];
	struct ft_mount_opts mo;
	ft_mount_opts_init(&mo);
	int r = ft_mount_opts_add(&mo, opts, errbuf);
	ft_mount_opts_free(&mo);
	if (r < 0)
		usage_error("mount options: %s", errbuf);
}

/* --devfd: mount now, on the daemon's mountpoint argument, with the options of its command
 * line, and give it /dev/fd/N there. Returns the index of that argument, or -1. */
static int mount_devfd(struct opts *o, struct ft_kernel *k, struct ft_mount_opts *mo,
		       char *errbuf)
{
	int mi = ft_find_mountpoint(o->argv);
	if (mi < 0)
		usage_error("%s", "--devfd: no mountpoint among the daemon's arguments (fusedump "
				  "takes the last argument that is an existing directory)");
	/* like libfuse, fsname and subtype default to the program's name */
	const char *base = strrchr(o->argv[0], '/');
	base = base ? base + 1 : o->argv[0];
	mo->fsname = strdup(base);
	mo->subtype = strdup(base);
	if (!mo->fsname || !mo->subtype) {
		snprintf(errbuf, FT_ERRBUF_SIZE, "out of memory");
		return -1;
	}
	if (add_daemon_opts(mo, o->argv, errbuf) < 0 ||
	    (o->mount_opts && ft_mount_opts_add(mo, o->mount_opts, errbuf) < 0))
		return -1;
	if (ft_kernel_mount(k, o->argv[mi], mo, errbuf) < 0)
		return -1;
	if (ft_kernel_watchdog(k, NULL, errbuf) < 0)
		fprintf(stderr, "fusedump: warning: %s\n", errbuf);
	return mi;
}

/* How long the loop polls without sleeping after a message (proxy.h). */
static uint64_t spin_ns(void)
{
	const char *e = getenv("FUSEDUMP_SPIN_US");
	return (e && *e ? strtoull(e, NULL, 10) : 50) * 1000u;
}

int main(int argc, char **argv)
{
	struct opts o;
	parse_args(&o, argc, argv);
	char errbuf[FT_ERRBUF_SIZE];
	if (o.mount_opts)
		check_mount_opts(o.mount_opts);

	struct fd_out out;
	if (fd_out_open(&out, o.output, o.json, o.fmt, o.buffer) < 0) {
		fprintf(stderr, "fusedump: %s: %s\n", o.output, strerror(errno));
		return 1;
	}

	int code = 1, sigfd = -1, sv[2] = {-1, -1};
	struct ft_kernel k = {.fd = -1, .mnt_id = -1, .watchdog = -1};
	struct ft_mount_opts mo;
	ft_mount_opts_init(&mo);
	struct ft_shims sh = {.lfd = -1};

	/* A daemon that goes to the background (libfuse without -f) stays our descendant; as
	 * subreaper we get it as a child when its parent exits, and can wait for it. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "fusedump: warning: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		fprintf(stderr, "fusedump: signalfd: %s\n", strerror(errno));
		goto out;
	}
	size_t maxmsg = 0;
	if (ft_socketpair(sv, FT_SOCKBUF_SIZE, &maxmsg, errbuf) < 0) {
		fprintf(stderr, "fusedump: %s\n", errbuf);
		goto out;
	}
	int mi = -1;
	if (o.devfd) {
		mi = mount_devfd(&o, &k, &mo, errbuf);
		if (mi < 0) {
			fprintf(stderr, "fusedump: %s\n", errbuf);
			goto out;
		}
	} else if (ft_shims_open(&sh, errbuf) < 0) {
		fprintf(stderr, "fusedump: %s\n", errbuf);
		goto out;
	}
	pid_t child;
	if (ft_spawn(&child, o.argv, mi, o.devfd ? sv[1] : -1, o.devfd ? NULL : sh.env,
		     FT_SPAWN_SETPGRP, errbuf) < 0) {
		fprintf(stderr, "fusedump: %s\n", errbuf);
		ft_kernel_close(&k);
		int lazy;
		if (ft_kernel_unmount(&k, &lazy, errbuf) < 0)
			fprintf(stderr, "fusedump: %s\n", errbuf);
		goto out;
	}
	if (o.devfd) {
		fd_out_start(&out, &k, &mo, o.argv, mi, sv[1], child, NULL);
		close(sv[1]);
		sv[1] = -1;
	}

	struct fd_stats stats;
	memset(&stats, 0, sizeof(stats));
	struct fd_proxy p = {
		.out = &out,
		.stats = &stats,
		.k = &k,
		.sock_fd = sv[0],
		.ctl_fd = sh.lfd,
		.daemon_fd = sv[1],
		.user_opts = o.mount_opts,
		.leftovers = sh.leftovers,
		.argv = o.argv,
		.sigfd = sigfd,
		.child = child,
		.limit = maxmsg && maxmsg < FT_MSG_MAX ? maxmsg : FT_MSG_MAX,
		.count = o.count,
		.spin_ns = spin_ns(),
	};
	code = fd_proxy_run(&p);
	sv[0] = p.sock_fd; /* closed by the loop: -1 */
	sv[1] = p.daemon_fd;
	if (o.stats)
		fd_stats_print(&stats, stderr);
out:
	if (fd_out_close(&out) < 0) {
		fprintf(stderr, "fusedump: %s: %s\n", out.name, strerror(errno));
		if (!code)
			code = 1;
	}
	if (out.dropped_total)
		fprintf(stderr, "fusedump: %" PRIu64 " trace lines dropped: %s was slower than the "
				"traffic\n", out.dropped_total, out.name);
	ft_shims_close(&sh);
	ft_mount_opts_free(&mo);
	ft_kernel_free(&k);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (sigfd >= 0)
		close(sigfd);
	return code;
}
