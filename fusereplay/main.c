/* fusereplay: replay a captured FUSE session against a daemon and report every reply
 * that differs (replay.c), or serve a capture to the kernel as a mounted filesystem
 * (serve.c). This file is the command line. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/field.h"
#include "fusewire/cli.h"
#include "fuzz.h"
#include "replay.h"
#include "serve.h"

#ifndef FUSEWIRE_VERSION
#define FUSEWIRE_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: fusereplay [-qv] [--json] [--concurrency N] [--speed max|original] [--timeout SEC]\n"
	"                  [--ignore FIELD]... [--ignore-ino] [--strict] [--ordered-readdir]\n"
	"                  [-c COUNT] [--before CMD] [--devfd] [--lint] CAPTURE -- DAEMON [ARGS...]\n"
	"       fusereplay --serve [-v] [--unmatched ERRNO] [-m OPTS] CAPTURE MOUNTPOINT\n"
	"       fusereplay --fuzz [--seed N] [--time SEC] [--runs N] [--findings DIR]\n"
	"                  [--max-findings N] [--unsafe-names] [--timeout SEC] [--devfd]\n"
	"                  CAPTURE... -- DAEMON [ARGS...]\n";

static const char help_text[] =
	"Play the kernel's part of the FUSE session in CAPTURE (written by fusedump -w) against\n"
	"the daemon DAEMON ARGS..., started on a socket: no mount, no root, no /dev/fuse. Each\n"
	"request is sent with its unique renumbered and its nodeid and fh mapped from what the\n"
	"live daemon answered to the same earlier requests; each live reply is compared with the\n"
	"recorded one, field by field. One line per difference, then a summary. Exit status: 0\n"
	"every reply equal, 1 differences, 2 usage or broken input.\n"
	"\n"
	"The daemon runs with its command line unchanged: shims catch open(\"/dev/fuse\") and\n"
	"mount(2) (LD_PRELOAD) and fusermount/fusermount3 (PATH) and hand it the socket; its\n"
	"mountpoint must exist but is never mounted.\n"
	"\n"
	"      --concurrency N    send requests that were in flight together in the capture\n"
	"                         together, at most N at a time (default 1: one by one)\n"
	"      --speed max|original  as fast as the order allows (default), or keeping the\n"
	"                         capture's pace\n"
	"      --timeout SEC      a reply that takes longer is missing (default 10)\n"
	"      --ignore FIELD     do not compare FIELD: a field name (\"size\") or a dotted path\n"
	"                         (\"attr.size\", \"entries.type\"); may be repeated\n"
	"      --ignore-ino       do not compare inode numbers (ino) either\n"
	"      --strict           compare every field, also the ones ignored by default\n"
	"      --ordered-readdir  directory listings must come in the same order (default:\n"
	"                         compared as sets of entries)\n"
	"  -c, --count COUNT      replay the first COUNT requests only\n"
	"      --before CMD       run CMD with /bin/sh first (restore the daemon's data)\n"
	"      --devfd            give the daemon its socket as /dev/fd/N in place of its\n"
	"                         mountpoint argument (libfuse3 >= 3.3; for static daemons)\n"
	"      --lint             check what the daemon writes against the protocol's rules\n"
	"                         (libproto's lint) and report every violation\n"
	"      --json             the report as JSON lines\n"
	"  -q, --quiet            no status line\n"
	"  -v, --verbose          a line for every request that compared equal too\n"
	"\n"
	"Ignored unless --strict: times (atime, mtime, ctime, btime and their nsec parts), fh,\n"
	"generation, nodeid and directory offsets (mapped, not compared), the free counts of\n"
	"STATFS (bfree, bavail, ffree). The report's first line lists them.\n"
	"\n"
	"      --serve            mount CAPTURE on MOUNTPOINT and answer the kernel with the\n"
	"                         recorded replies (as root); until unmounted or interrupted\n"
	"      --unmatched ERRNO  the error for requests with no recorded reply (default\n"
	"                         ENOSYS; a name or a number)\n"
	"  -m, --mount-options OPTS  extra mount options (ro, allow_other, ...)\n"
	"\n"
	"      --fuzz             mutate the requests of the CAPTUREs (seeds) and replay them\n"
	"                         against a fresh daemon each run; keep, minimized, what\n"
	"                         crashes it, hangs it (--timeout, default 2 here) or breaks\n"
	"                         the protocol (--lint): capture files that fusereplay --lint\n"
	"                         replays to the same finding\n"
	"      --seed N           the runs of --fuzz (the same N, seeds and daemon: the same runs)\n"
	"      --time SEC         fuzz for SEC seconds (default: until interrupted)\n"
	"      --runs N           fuzz for N runs\n"
	"      --findings DIR     where findings go (default fusereplay-findings)\n"
	"      --max-findings N   stop after N different findings\n"
	"      --unsafe-names     also names with '/' and \"..\": they lead a daemon that serves\n"
	"                         a directory out of it (run it in a throwaway system)\n"
	"\n"
	"  -h, --help             this help\n"
	"      --version          the version\n";

/* --unmatched: an errno name ("EROFS") or a positive number. */
static int errno_arg(const char *arg)
{
	for (const struct fp_sym *s = fp_sym_errno; s->name; s++)
		if (!strcasecmp(s->name, arg))
			return (int)s->v;
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 1 || v > 511)
		fw_usage_error("--unmatched: '%s' is neither an errno name (EROFS) nor a number from 1 "
			    "to 511", arg);
	return (int)v;
}

enum {
	OPT_CONCURRENCY = 0x100, OPT_SPEED, OPT_TIMEOUT, OPT_IGNORE, OPT_IGNORE_INO, OPT_STRICT,
	OPT_ORDERED, OPT_BEFORE, OPT_DEVFD, OPT_JSON, OPT_SERVE, OPT_UNMATCHED, OPT_VERSION,
	OPT_LINT, OPT_FUZZ, OPT_SEED, OPT_TIME, OPT_RUNS, OPT_FINDINGS, OPT_MAX_FINDINGS,
	OPT_UNSAFE_NAMES,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"ignore", required_argument, NULL, OPT_IGNORE},
		{"ignore-ino", no_argument, NULL, OPT_IGNORE_INO},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"ordered-readdir", no_argument, NULL, OPT_ORDERED},
		{"count", required_argument, NULL, 'c'},
		{"before", required_argument, NULL, OPT_BEFORE},
		{"devfd", no_argument, NULL, OPT_DEVFD},
		{"json", no_argument, NULL, OPT_JSON},
		{"lint", no_argument, NULL, OPT_LINT},
		{"fuzz", no_argument, NULL, OPT_FUZZ},
		{"seed", required_argument, NULL, OPT_SEED},
		{"time", required_argument, NULL, OPT_TIME},
		{"runs", required_argument, NULL, OPT_RUNS},
		{"findings", required_argument, NULL, OPT_FINDINGS},
		{"max-findings", required_argument, NULL, OPT_MAX_FINDINGS},
		{"unsafe-names", no_argument, NULL, OPT_UNSAFE_NAMES},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"serve", no_argument, NULL, OPT_SERVE},
		{"unmatched", required_argument, NULL, OPT_UNMATCHED},
		{"mount-options", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	fw_cli_init("fusereplay", usage_text);
	struct fr_replay_opts r = {
		.concurrency = 1,
		.speed = FR_SPEED_MAX,
		.timeout_ns = 10000000000ull,
		.progress = 1,
		.daemon_err = -1,
	};
	struct fr_serve_opts s = {.unmatched = ENOSYS};
	struct fr_fuzz_opts f = {.findings = "fusereplay-findings"};
	int serve = 0, fuzz = 0, seeded = 0, timeout_set = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+c:qvm:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONCURRENCY:
			r.concurrency = (unsigned)fw_number(optarg, "--concurrency", 1, 4096);
			break;
		case OPT_SPEED:
			if (!strcmp(optarg, "max"))
				r.speed = FR_SPEED_MAX;
			else if (!strcmp(optarg, "original"))
				r.speed = FR_SPEED_ORIGINAL;
			else
				fw_usage_error("--speed: '%s' is neither max nor original", optarg);
			break;
		case OPT_TIMEOUT:
			r.timeout_ns = fw_number(optarg, "--timeout", 1, 86400) * 1000000000ull;
			timeout_set = 1;
			break;
		case OPT_FUZZ:
			fuzz = 1;
			break;
		case OPT_SEED:
			f.seed = fw_number(optarg, "--seed", 0, INT64_MAX);
			seeded = 1;
			break;
		case OPT_TIME:
			f.seconds = fw_number(optarg, "--time", 1, UINT32_MAX);
			break;
		case OPT_RUNS:
			f.runs = fw_number(optarg, "--runs", 1, UINT64_MAX);
			break;
		case OPT_FINDINGS:
			f.findings = optarg;
			break;
		case OPT_UNSAFE_NAMES:
			f.unsafe_names = 1;
			break;
		case OPT_MAX_FINDINGS:
			f.max_findings = (unsigned)fw_number(optarg, "--max-findings", 1, 64);
			break;
		case OPT_IGNORE:
			if (fr_cmp_ignore(&r.cmp, optarg) < 0)
				fw_usage_error("--ignore: '%s' is not a field name or dotted path", optarg);
			break;
		case OPT_IGNORE_INO:
			r.cmp.flags |= FR_CMP_IGNORE_INO;
			break;
		case OPT_STRICT:
			r.cmp.flags |= FR_CMP_STRICT;
			break;
		case OPT_ORDERED:
			r.cmp.flags |= FR_CMP_ORDERED_READDIR;
			break;
		case 'c':
			r.count = fw_number(optarg, "-c", 1, UINT64_MAX);
			break;
		case OPT_BEFORE:
			r.before = optarg;
			break;
		case OPT_DEVFD:
			r.devfd = 1;
			break;
		case OPT_JSON:
			r.json = 1;
			break;
		case OPT_LINT:
			r.lint = 1;
			break;
		case 'q':
			r.progress = 0;
			break;
		case 'v':
			r.verbose = s.verbose = 1;
			break;
		case OPT_SERVE:
			serve = 1;
			break;
		case OPT_UNMATCHED:
			s.unmatched = errno_arg(optarg);
			break;
		case 'm':
			s.mount_opts = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs("\n", stdout);
			fputs(help_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("fusereplay %s\n", FUSEWIRE_VERSION);
			return 0;
		default:
			fprintf(stderr, "%sTry 'fusereplay --help'.\n", usage_text);
			return 2;
		}
	}
	if (serve) {
		if (argc - optind != 2)
			fw_usage_error("--serve takes a capture and a mountpoint%s", "");
		s.capture = argv[optind];
		s.mountpoint = argv[optind + 1];
		return fr_serve(&s);
	}
	if (fuzz) {
		f.captures = argv + optind;
		while (optind < argc && strcmp(argv[optind], "--"))
			optind++;
		f.ncaptures = (unsigned)(argv + optind - f.captures);
		if (!f.ncaptures)
			fw_usage_error("--fuzz: no capture given as a seed%s", "");
		if (optind + 1 >= argc)
			fw_usage_error("--fuzz: no daemon given: fusereplay --fuzz CAPTURE... -- DAEMON ARGS...%s", "");
		r.argv = argv + optind + 1;
		if (!timeout_set)
			r.timeout_ns = 2000000000ull;
		if (!seeded && getrandom(&f.seed, sizeof(f.seed), 0) != sizeof(f.seed))
			f.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
		f.seed &= INT64_MAX; /* a number a user can pass back to --seed */
		f.run = r;
		f.progress = isatty(STDERR_FILENO) && r.progress;
		return fr_fuzz(&f);
	}
	if (optind >= argc)
		fw_usage_error("no capture given%s", "");
	r.capture = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc)
		fw_usage_error("no daemon given: fusereplay CAPTURE -- DAEMON ARGS...%s", "");
	r.argv = argv + optind;
	if (r.progress && !isatty(STDERR_FILENO))
		r.progress = 0;
	int code = fr_replay(&r);
	fr_cmp_free(&r.cmp);
	return code;
}
