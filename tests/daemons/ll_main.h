/* The main() of our libfuse3 low-level test daemons, after each has taken its own options
 * out of the arguments: libfuse's command line, -h and -V, the daemon's setup, then a
 * session served single-threaded, so that replies come in the order requests were read.
 * Include after defining FUSE_USE_VERSION. */
#ifndef LL_MAIN_H
#define LL_MAIN_H

#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>

/* What -h, -V and a missing MOUNTPOINT print. */
enum ll_help {
	LL_HELP_FULL,   /* -h: the usage line and libfuse's help; -V: the versions; a missing
			 * MOUNTPOINT: the usage line on stderr */
	LL_HELP_TERSE,  /* all three: just the usage line, on stdout */
};

/* usage is the usage line, a printf format taking argv[0]. setup (NULL: nothing to do) runs
 * once the command line is good, before the session, with what libfuse's command line
 * left of args; nonzero: exit with status 1. Returns the exit status; args stay the
 * caller's to free. */
static inline int ll_main(struct fuse_args *args, const struct fuse_lowlevel_ops *ops,
			  size_t ops_size, int (*setup)(struct fuse_args *),
			  enum ll_help help, const char *usage)
{
	struct fuse_cmdline_opts opts = {0};
	struct fuse_session *se;
	int ret = 1;

	if (fuse_parse_cmdline(args, &opts) != 0)
		return 1;
	if (opts.show_help) {
		printf(usage, args->argv[0]);
		if (help == LL_HELP_FULL) {
			fuse_cmdline_help();
			fuse_lowlevel_help();
		}
		ret = 0;
		goto out;
	}
	if (opts.show_version) {
		if (help == LL_HELP_FULL) {
			printf("FUSE library version %s\n", fuse_pkgversion());
			/* fuse_lowlevel_version() runs fusermount3, which prints too */
			fflush(stdout);
			fuse_lowlevel_version();
		} else {
			printf(usage, args->argv[0]);
		}
		ret = 0;
		goto out;
	}
	if (!opts.mountpoint) {
		fprintf(help == LL_HELP_FULL ? stderr : stdout, usage, args->argv[0]);
		goto out;
	}
	if (setup && setup(args) != 0)
		goto out;

	se = fuse_session_new(args, ops, ops_size, NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);
	ret = fuse_session_loop(se) ? 1 : 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out:
	free(opts.mountpoint);
	return ret;
}

#endif
