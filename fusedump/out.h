/* fusedump's trace output: one text or JSON line per message, and "# " event lines for
 * what the proxy itself does (mount, INIT edits, injected replies, shutdown). */
#ifndef FUSEDUMP_OUT_H
#define FUSEDUMP_OUT_H

#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include <sys/types.h>

#include "fuseproto/format.h"
#include "fuseproto/msg.h"

struct ft_kernel;
struct ft_mount_opts;

/* Most bytes of trace waiting for the writer; beyond it, lines are dropped. */
#define FD_OUT_LIMIT (16u << 20)

struct fd_out {
	int fd;
	const char *name;  /* for error messages: "stdout" or the file name */
	int json;
	unsigned fmt;      /* FP_FMT_* */
	struct fp_sbuf line; /* the line being formatted (the proxy's thread only) */

	/* shared with the writer thread, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running, closing, writing;
	struct fp_sbuf pend; /* lines waiting to be written */
	size_t limit;
	int err;             /* errno of the first write error, 0 if none */
	uint64_t dropped;    /* lines dropped since the last "dropped" line */
	uint64_t dropped_total;
};

/* Open the trace on `path` ("-" or NULL: stdout), holding at most `limit` bytes for the
 * writer (0: FD_OUT_LIMIT). Returns 0, or -1 with errno set. */
int fd_out_open(struct fd_out *o, const char *path, int json, unsigned fmt, size_t limit);

/* Write out what is waiting and close; returns 0, or -1 with errno set when a write failed
 * now or earlier. o->dropped_total then says how many lines were dropped. */
int fd_out_close(struct fd_out *o);

/* One line for a decoded message. */
void fd_out_msg(struct fd_out *o, const struct fp_msg *m);

/* The wall clock in nanoseconds since the epoch: the timestamp of event lines and of the
 * messages the proxy records. */
uint64_t fd_now_real(void);

/* One event line: text "# <msg>", JSON {"ts":..,"dir":"event","event":NAME,
 * ["unique":N,] "msg":"..."}. unique 0: none. */
void fd_out_event(struct fd_out *o, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The "# fusedump VERSION: mounted SRC on MNT (type fuse.X[, HOW]); daemon pid N: CMD"
 * line that opens a trace. argv[mi] is shown as /dev/fd/<fd> (mi < 0: argv as it is). */
void fd_out_start(struct fd_out *o, const struct ft_kernel *k, const struct ft_mount_opts *mo,
		  char *const argv[], int mi, int fd, pid_t child, const char *how);

/* Wake the writer for what is waiting (called before the proxy sleeps). Returns 0, or -1
 * once a write has failed (o->err says why). */
int fd_out_flush(struct fd_out *o);

#endif
