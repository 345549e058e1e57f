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
#include <sys/random.h>
#include <time.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fusewire/cli.h"
#include "fusetransport/chan.h"
#include "fusetransport/daemon.h"
#include "fusetransport/kernel.h"
#include "fusetransport/mirror.h"
#include "fusetransport/shims.h"
#include "out.h"
#include "lua.h"
#include "proxy.h"
#include "readcap.h"
#include "stats.h"

/* --lua-mem's default: what the scripts may allocate together. */
#define LUA_MEM_DEFAULT (256u << 20)

#ifndef FUSEWIRE_VERSION
#define FUSEWIRE_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: fusedump [-tvx] [--json] [-o FILE] [-c COUNT] [-B KIB] [--stats] [-m OPTS]\n"
	"                [--devfd | --mirror]\n"
	"                [-w FILE [--print] [-s SNAPLEN] [-C SIZE [-W COUNT]]] -- DAEMON [ARGS...]\n"
	"                [-g SCRIPT.lua]... [--lua-seed N] [--lua-fail-closed] [--lua-unsafe]\n"
	"                [-Y EXPRESSION] [--lint] [--top]\n"
	"       fusedump -r FILE [-tvx] [--json] [-o FILE] [-c COUNT] [--stats] [-Y EXPRESSION]\n"
	"                [--lint] [--top [--speed N]]\n";

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
	"  -w, --write FILE       write every message to the capture FILE (pcap; Wireshark\n"
	"                         reads it with dissectors/fuse.lua) instead of printing it\n"
	"      --print            with -w: print the trace too (to stdout, or -o FILE)\n"
	"  -s, --snapshot-length SNAPLEN\n"
	"                         with -w: keep at most SNAPLEN bytes of each message, but\n"
	"                         always its headers and fields: only data (READ and WRITE\n"
	"                         data, xattr values) is cut (default 0: everything)\n"
	"  -C, --file-size SIZE   with -w: start a new file when this one reaches SIZE\n"
	"                         (millions of bytes, or with a suffix k, m, g: KiB, MiB, GiB);\n"
	"                         FILE, FILE1, FILE2, ...\n"
	"  -W, --file-count COUNT with -C: keep COUNT files, FILE0 to FILE<COUNT-1>, and\n"
	"                         then overwrite the oldest\n"
	"  -r, --read FILE        print the capture FILE (pcap or pcapng, written by -w) as\n"
	"                         the live trace was printed, instead of running a daemon\n"
	"  -g, --lua SCRIPT.lua   run the Lua 5.4 script's hooks (on_request, on_reply,\n"
	"                         on_notify) on every message: change, answer, delay or drop\n"
	"                         it; several scripts run in the order given (see fusedump(1))\n"
	"      --lua-seed N       seed math.random with N (by default a random seed, printed)\n"
	"      --lua-fail-closed  answer -EIO to a request whose hook raised an error\n"
	"                         (by default the message goes on unchanged)\n"
	"      --lua-unsafe       give scripts os.execute, io.popen, os.exit and C modules\n"
	"      --lua-mem MIB      memory the scripts may use together (default 256)\n"
	"  -Y, --display-filter EXPRESSION\n"
	"                         print only messages for which the Lua EXPRESSION is true,\n"
	"                         with the message's fields as names: 'op == \"LOOKUP\"',\n"
	"                         'error and error ~= 0', 'path and path:match(\"%.log$\")'\n"
	"      --lint             check every message against the protocol's rules (libproto's\n"
	"                         lint) and mark each violation on its line: [lint RULE: ...]\n"
	"      --top              show a live view on the terminal instead of the trace:\n"
	"                         requests in flight, counts, errors, latencies, busiest\n"
	"                         paths (keys: ? in the view; see fusedump(1))\n"
	"      --speed N          with --top -r: play the capture N times as fast as it was\n"
	"                         recorded (default 1; 0: as fast as it can be read)\n"
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
	"      --mirror           no proxy: the daemon gets /dev/fuse itself, and the LD_PRELOAD\n"
	"                         library copies every message it reads or writes there to\n"
	"                         shared memory, where fusedump reads them; the filesystem runs\n"
	"                         at nearly the daemon's own speed. For daemons that mount with\n"
	"                         mount(2) as root (libfuse2, libfuse3); not with --lua\n"
	"  -h, --help             this help\n"
	"  -V, --version          the version\n"
	"\n"
	"Lines starting with '#' are fusedump's own events (INIT edits, injected replies,\n"
	"unmount, how the daemon ended). Exit status: 0 when the daemon ends after the\n"
	"unmount (128+signal if it crashes then); when it dies while mounted, its exit code,\n"
	"128+signal, or 1; 1 for fusedump's own failures; 2 for usage errors.\n";

struct opts {
	const char **lua;
	unsigned nlua;
	uint64_t lua_seed;
	int lua_seeded, lua_unsafe, lua_fail_closed;
	size_t lua_mem;
	const char *filter;
	int top, speed_set, lint;
	double speed; /* --top -r */
	const char *write, *read;
	int print;
	uint32_t snaplen;
	struct fp_capw_opts rot;
	int json;
	unsigned fmt;
	const char *output;
	uint64_t count;
	int stats;
	const char *mount_opts;
	int devfd, mirror;
	size_t buffer; /* -B, bytes */
	char **argv; /* the daemon's */
};

/* -C: millions of bytes like tcpdump, or KiB, MiB, GiB with a suffix k, m, g. */
static uint64_t size_arg(const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	uint64_t unit = 1000000;
	if (*end && !end[1] && strchr("kKmMgG", *end))
		unit = *end == 'k' || *end == 'K' ? 1024u : *end == 'm' || *end == 'M' ? 1u << 20 : 1u << 30;
	else if (*end)
		v = 0;
	if (!*arg || errno || arg[0] == '-' || v == 0 || v > (1ull << 40) / unit)
		fw_usage_error("-C: '%s' is not a file size (millions of bytes, or a number with k, m "
			    "or g)", arg);
	return v * unit;
}

/* Long options without a short one that could clash with a later short option. */
enum { OPT_TOP = 0x100, OPT_SPEED, OPT_LINT, OPT_MIRROR };

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"time", no_argument, NULL, 't'},
		{"hex", no_argument, NULL, 'x'},
		{"count", required_argument, NULL, 'c'},
		{"stats", no_argument, NULL, 'S'},
		{"write", required_argument, NULL, 'w'},
		{"read", required_argument, NULL, 'r'},
		{"print", no_argument, NULL, 'P'},
		{"snapshot-length", required_argument, NULL, 's'},
		{"file-size", required_argument, NULL, 'C'},
		{"file-count", required_argument, NULL, 'W'},
		{"lua", required_argument, NULL, 'g'},
		{"lua-seed", required_argument, NULL, 'E'},
		{"lua-unsafe", no_argument, NULL, 'U'},
		{"lua-fail-closed", no_argument, NULL, 'F'},
		{"lua-mem", required_argument, NULL, 'M'},
		{"display-filter", required_argument, NULL, 'Y'},
		{"top", no_argument, NULL, OPT_TOP},
		{"lint", no_argument, NULL, OPT_LINT},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"mount-options", required_argument, NULL, 'm'},
		{"devfd", no_argument, NULL, 'D'},
		{"mirror", no_argument, NULL, OPT_MIRROR},
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
	while ((c = getopt_long(argc, argv, "+:o:vtxc:m:B:w:r:s:C:W:g:Y:hV", longopts, NULL)) != -1) {
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
		case 'c':
			o->count = fw_number(optarg, "-c", 1, UINT64_MAX);
			break;
		case 'S':
			o->stats = 1;
			break;
		case 'g': {
			const char **v = realloc(o->lua, (o->nlua + 1) * sizeof(*v));
			if (!v) {
				fprintf(stderr, "fusedump: out of memory\n");
				exit(1);
			}
			o->lua = v;
			o->lua[o->nlua++] = optarg;
			break;
		}
		case 'E':
			o->lua_seed = fw_number(optarg, "--lua-seed", 0, UINT64_MAX);
			o->lua_seeded = 1;
			break;
		case 'U':
			o->lua_unsafe = 1;
			break;
		case 'F':
			o->lua_fail_closed = 1;
			break;
		case 'M':
			o->lua_mem = (size_t)fw_number(optarg, "--lua-mem", 1, 1u << 20) << 20;
			break;
		case 'Y':
			o->filter = optarg;
			break;
		case OPT_TOP:
			o->top = 1;
			break;
		case OPT_LINT:
			o->lint = 1;
			break;
		case OPT_SPEED: {
			char *end;
			o->speed = strtod(optarg, &end);
			if (!*optarg || *end || !(o->speed >= 0 && o->speed <= 1e6))
				fw_usage_error("--speed: '%s' is not a number from 0 to 1000000", optarg);
			o->speed_set = 1;
			break;
		}
		case 'w':
			o->write = optarg;
			break;
		case 'r':
			o->read = optarg;
			break;
		case 'P':
			o->print = 1;
			break;
		case 's':
			o->snaplen = (uint32_t)fw_number(optarg, "-s", 0, UINT32_MAX);
			break;
		case 'C':
			o->rot.file_size = size_arg(optarg);
			break;
		case 'W':
			o->rot.files = (unsigned)fw_number(optarg, "-W", 1, 1000000);
			break;
		case 'B':
			o->buffer = (size_t)fw_number(optarg, "-B", 1, 1ull << 30) << 10;
			break;
		case 'm':
			o->mount_opts = optarg;
			break;
		case 'D':
			o->devfd = 1;
			break;
		case OPT_MIRROR:
			o->mirror = 1;
			break;
		case 'h':
			printf("%s\n%s", usage_text, help_text);
			exit(0);
		case 'V':
			printf("fusedump (fusewire) %s\n", FUSEWIRE_VERSION);
			exit(0);
		case ':':
			fw_usage_error("option '%s' needs an argument", argv[optind - 1]);
			break;
		default:
			fw_usage_error("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	if (o->speed_set && !(o->top && o->read))
		fw_usage_error("%s", "--speed goes with --top -r");
	if (o->top && o->print && !o->output)
		fw_usage_error("%s", "--top takes the terminal: --print needs -o FILE");
	if (o->read) {
		if (optind < argc)
			fw_usage_error("-r reads a capture and runs no daemon: '%s'", argv[optind]);
		if (o->write || o->mount_opts || o->devfd || o->mirror || o->nlua || o->print ||
		    o->snaplen || o->rot.file_size || o->rot.files || o->buffer)
			fw_usage_error("%s", "-r goes with the output options only (-o, --json, -v, -t, -x, "
					  "-c, --stats, -Y), not with -w, --print, -s, -C, -W, -B, -m, "
					  "--devfd, --mirror or --lua");
		return;
	}
	if ((o->lua_seeded || o->lua_unsafe || o->lua_fail_closed || o->lua_mem) && !o->nlua)
		fw_usage_error("%s", "--lua-seed, --lua-unsafe, --lua-fail-closed and --lua-mem go with --lua");
	if ((o->print || o->snaplen || o->rot.file_size) && !o->write)
		fw_usage_error("%s", "--print, -s and -C go with -w");
	if (o->rot.files && !o->rot.file_size)
		fw_usage_error("%s", "-W goes with -C");
	if (o->mirror && (o->devfd || o->nlua))
		fw_usage_error("%s", "--mirror only watches: not with --lua (which changes messages on "
				  "their way) or --devfd (the mirror needs the LD_PRELOAD library)");
	if (optind >= argc)
		fw_usage_error("%s", "no daemon to run");
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
		fw_usage_error("mount options: %s", errbuf);
}

/* --devfd: mount now, on the daemon's mountpoint argument, with the options of its command
 * line, and give it /dev/fd/N there. Returns the index of that argument, or -1. */
static int mount_devfd(struct opts *o, struct ft_kernel *k, struct ft_mount_opts *mo,
		       char *errbuf)
{
	int mi = ft_find_mountpoint(o->argv);
	if (mi < 0)
		fw_usage_error("%s", "--devfd: no mountpoint among the daemon's arguments (fusedump "
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

/* Close the output, say what it lost, and then `err` (the output comes first). Returns the
 * exit status: `code`, or 1 when it was 0 but the output failed. */
static int finish(struct fd_out *out, int code, const char *err)
{
	const char *name = out->name;
	if (out->lint)
		fprintf(stderr, "fusedump: %" PRIu64 " lint violations\n", out->violations);
	if (out->filter && *fd_filter_error(out->filter))
		fprintf(stderr, "fusedump: -Y: an error on some messages (they were left out): %s\n",
			fd_filter_error(out->filter));
	if (fd_out_close(out) < 0) {
		if (errno == EPIPE && !out->cap_err[0])
			; /* the reader went away (| head): nothing to say, as with SIGPIPE */
		else if (out->cap_err[0])
			fprintf(stderr, "fusedump: %s\n", out->cap_err);
		else
			fprintf(stderr, "fusedump: %s: %s\n", name, strerror(errno));
		if (!code)
			code = 1;
	}
	if (out->dropped_total)
		fprintf(stderr, "fusedump: %" PRIu64 " trace lines dropped: %s was slower than the "
				"traffic\n", out->dropped_total, name);
	if (out->cap_lost)
		fprintf(stderr, "fusedump: %" PRIu64 " messages left out of the capture: writing it "
				"was slower than the traffic\n", out->cap_lost);
	if (err)
		fprintf(stderr, "fusedump: %s\n", err);
	return code;
}

/* --top: the view on the terminal, shown what `out` is. Returns 0, or -1 after saying why. */
static int start_top(struct fd_out *out, const struct opts *o)
{
	char err[256];
	out->top = fd_top_start(o->read, o->speed_set ? o->speed : 1, err, sizeof(err));
	if (!out->top) {
		fprintf(stderr, "fusedump: %s\n", err);
		return -1;
	}
	return 0;
}

/* --mirror: how many bytes of file data (READ replies, WRITE requests) the daemon copies
 * for us. What the trace shows of it, unless -v, -x or -w wants all of it. */
static uint32_t mirror_keep(const struct opts *o)
{
	const uint32_t shown = 64; /* libproto's text at -v, and JSON, show 64 bytes */
	if (o->fmt & (FP_FMT_VERBOSE | FP_FMT_HEX))
		return 0;
	if (o->write)
		return o->snaplen ? (o->snaplen > shown ? o->snaplen : shown) : 0;
	return shown;
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
	fw_cli_init("fusedump", usage_text);
	parse_args(&o, argc, argv);
	char errbuf[FT_ERRBUF_SIZE];
	if (o.mount_opts)
		check_mount_opts(o.mount_opts);
	if (o.top && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "fusedump: --top needs a terminal (standard input and output)\n");
		return 2;
	}

	/* like tcpdump, -w alone prints nothing: the trace too with --print or -o; --top has
	 * the terminal, the trace goes to -o only */
	const char *trace = o.output ? o.output : (!o.write || o.print) && !o.top ? "-" : NULL;
	struct fd_out out;
	if (fd_out_open(&out, trace, o.json, o.fmt, o.buffer) < 0) {
		fprintf(stderr, "fusedump: %s: %s\n", trace, strerror(errno));
		return 1;
	}
	if (o.filter) {
		char err[600];
		out.filter = fd_filter_new(o.filter, err, sizeof(err));
		if (!out.filter) {
			fd_out_close(&out);
			fw_usage_error("%s", err);
		}
	}
	if (o.lint && !(out.lint = fp_lint_new())) {
		fprintf(stderr, "fusedump: out of memory\n");
		return finish(&out, 1, NULL);
	}
	struct fd_stats stats;
	memset(&stats, 0, sizeof(stats));
	if (o.read) {
		char err[600];
		out.lossless = 1;
		if (o.top && start_top(&out, &o) < 0)
			return finish(&out, 1, NULL);
		int code = fd_read_capture(o.read, &out, &stats, o.count, err, sizeof(err));
		if (out.top)
			fd_top_wait(out.top, code ? err : NULL);
		if (o.stats)
			fd_stats_print(&stats, stderr);
		return finish(&out, code, code ? err : NULL);
	}
	if (o.write) {
		char err[600];
		if (fd_out_capture(&out, o.write, &o.rot, o.snaplen, o.buffer, err, sizeof(err)) < 0) {
			fprintf(stderr, "fusedump: %s\n", err);
			fd_out_close(&out);
			return 1;
		}
	}

	struct fd_lua *lua = NULL;
	if (o.nlua) {
		char err[1200];
		uint64_t seed = o.lua_seed;
		if (!o.lua_seeded && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
		seed &= INT64_MAX; /* a number a user can pass back to --lua-seed */
		struct fd_lua_opts lo = {
			.scripts = o.lua,
			.n = o.nlua,
			.seed = seed,
			.unsafe = o.lua_unsafe,
			.fail_closed = o.lua_fail_closed,
			.mem_limit = o.lua_mem ? o.lua_mem : LUA_MEM_DEFAULT,
		};
		lua = fd_lua_new(&lo, err, sizeof(err));
		if (!lua) {
			fprintf(stderr, "fusedump: %s\n", err);
			free(o.lua);
			return finish(&out, 1, NULL);
		}
		struct fp_sbuf names = {0};
		for (unsigned i = 0; i < o.nlua; i++)
			fp_sbuf_printf(&names, "%s%s", i ? ", " : "", o.lua[i]);
		fd_out_event(&out, fd_now_real(), "lua", 0, "lua: %s; seed %" PRIu64 " (--lua-seed %" PRIu64
			     " repeats it)", names.s ? names.s : "", seed, seed);
		fp_sbuf_free(&names);
		free(o.lua);
	}
	int code = 1, sigfd = -1, sv[2] = {-1, -1};
	struct ft_kernel k = {.fd = -1, .mnt_id = -1, .watchdog = -1};
	struct ft_mount_opts mo;
	ft_mount_opts_init(&mo);
	struct ft_shims sh = {.lfd = -1};
	struct ft_mirror ring = {.fd = -1};
	if (o.top && start_top(&out, &o) < 0)
		goto out;

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
	if (o.mirror) {
		/* the daemon inherits the ring, and the LD_PRELOAD library finds it by the
		 * variable, which the shims' environment takes over from ours; the lines of a
		 * read of the ring are queued together */
		char num[16];
		out.batched = 1;
		if (ft_mirror_create(&ring, 0, mirror_keep(&o), errbuf) < 0) {
			fprintf(stderr, "fusedump: %s\n", errbuf);
			goto out;
		}
		snprintf(num, sizeof(num), "%d", ring.fd);
		setenv(FT_MIRROR_ENV, num, 1);
	} else if (ft_socketpair(sv, FT_SOCKBUF_SIZE, &maxmsg, errbuf) < 0) {
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

	struct fd_proxy p = {
		.out = &out,
		.lua = lua,
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
		.spin_ns = o.mirror ? 0 : spin_ns(),
		.mirror = o.mirror ? &ring : NULL,
	};
	code = fd_proxy_run(&p);
	sv[0] = p.sock_fd; /* closed by the loop: -1 */
	sv[1] = p.daemon_fd;
	if (o.stats)
		fd_stats_print(&stats, stderr);
out:
	code = finish(&out, code, NULL);
	fd_lua_free(lua);
	ft_shims_close(&sh);
	ft_mirror_close(&ring);
	ft_mount_opts_free(&mo);
	ft_kernel_free(&k);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (sigfd >= 0)
		close(sigfd);
	return code;
}
