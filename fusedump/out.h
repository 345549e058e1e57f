/* fusedump's output: the trace (one text or JSON line per message, and "# " event lines for
 * what the proxy itself does: mount, INIT edits, injected replies, shutdown) and the
 * capture file (-w), which records the same messages and events. */
#ifndef FUSEDUMP_OUT_H
#define FUSEDUMP_OUT_H

#include <stdint.h>
#include <stdio.h>

#include <sys/types.h>

#include "cap.h"
#include "fuseproto/format.h"
#include "fuseproto/lint.h"
#include "fuseproto/msg.h"
#include "queue.h"
#include "top.h"

struct ft_kernel;
struct fd_filter;
struct ft_mount_opts;

/* Most bytes of trace waiting for the writer; beyond it, lines are dropped. */
#define FD_OUT_LIMIT (16u << 20)

struct fd_out {
	int text;          /* a trace is written (not with -w alone) */
	int fd;
	const char *name;  /* for error messages: "stdout" or the file name */
	int json;
	unsigned fmt;      /* FP_FMT_* */
	int lossless;      /* wait for the writer rather than drop lines (-r) */
	int batched;       /* queue lines WRITE_BATCH bytes at a time (or at fd_out_flush()),
			    * dropping a whole batch when the writer is that far behind
			    * (--mirror, which reads messages in bursts) */
	struct fp_sbuf line; /* the line being formatted (the proxy's thread only) */
	struct fp_msg mod;   /* a modified message being decoded (fd_out_modified) */
	struct fd_queue q; /* lines waiting for the writer thread */
	int err;           /* errno of the first write error, 0 if none */
	uint64_t dropped;  /* lines dropped since the last "dropped" line */
	uint64_t dropped_total;
	struct fd_cap *cap; /* -w, or NULL */
	struct fd_top *top; /* --top, or NULL: shown every message and event; closed with the rest */
	struct fd_filter *filter; /* -Y: only matching messages get a line; freed by fd_out_close */
	struct fp_lint *lint; /* --lint: violations are marked on their lines; freed by fd_out_close */
	uint64_t violations;  /* --lint: how many */
	struct fp_sbuf marks; /* --lint: what the last message broke */
	uint64_t cap_lost;  /* after fd_out_close: capture records dropped */
	char cap_err[512];  /* after a failed fd_out_close: what went wrong with the capture */
};

/* Open the trace on `path` ("-": stdout; NULL: no trace), holding at most `limit` bytes for
 * the writer (0: FD_OUT_LIMIT). Returns 0, or -1 with errno set. */
int fd_out_open(struct fd_out *o, const char *path, int json, unsigned fmt, size_t limit);

/* Also write a capture (-w) to `path`. Returns 0, or -1 with a message in err. */
int fd_out_capture(struct fd_out *o, const char *path, const struct fp_capw_opts *ro,
		   uint32_t snaplen, size_t limit, char *err, size_t n);

/* Write out what is waiting and close; returns 0, or -1 when a write failed now or
 * earlier: errno set for the trace, o->cap_err for the capture. o->dropped_total and
 * o->cap_lost then say what was dropped. */
int fd_out_close(struct fd_out *o);

/* How a message came to be, besides being read from one side and forwarded. */
#define FD_MARK_INJECTED 0x01u /* made by fusedump or a script: " [injected]" */
#define FD_MARK_MODIFIED 0x02u /* a copy changed by fusedump or a script: " [modified]" */
#define FD_MARK_SNAPPED  0x04u /* cut by -s when captured (-r): for the lint, not shown */

/* A decoded message: its trace line and its capture record. `conn`: the protocol version
 * negotiated when it was seen, for the capture; `mark`: FD_MARK_*. */
void fd_out_msg(struct fd_out *o, const struct fp_msg *m, const struct fp_conn *conn,
		unsigned mark);

/* A message that fusedump changed, as it was forwarded (buf), after `orig`, the message as
 * it was read: a capture record and, when a script changed it (by_script), a " [modified]"
 * line (decoded like orig, with its path and latency); fusedump's own INIT and OPEN edits
 * get event lines instead. ts_ns 0: now. */
void fd_out_modified(struct fd_out *o, const struct fp_msg *orig, const uint8_t *buf, size_t len,
		     const struct fp_conn *conn, uint64_t ts_ns, int by_script);

/* The wall clock in nanoseconds since the epoch: the timestamp of event lines and of the
 * messages the proxy records. */
uint64_t fd_now_real(void);

/* One event: a line, text "# <msg>", JSON {"ts":..,"dir":"event","event":NAME,
 * ["unique":N,] "msg":"..."} (unique 0: none), and a capture record. */
void fd_out_event(struct fd_out *o, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The same for an event read back from a capture (no capture record). */
void fd_out_event_text(struct fd_out *o, uint64_t ts_ns, const char *name, uint64_t unique,
		       const char *msg);

/* The "# fusedump VERSION: mounted SRC on MNT (type fuse.X[, HOW]); daemon pid N: CMD"
 * line that opens a trace. argv[mi] is shown as /dev/fd/<fd> (mi < 0: argv as it is). */
void fd_out_start(struct fd_out *o, const struct ft_kernel *k, const struct ft_mount_opts *mo,
		  char *const argv[], int mi, int fd, pid_t child, const char *how);

/* What made a write fail, "NAME: reason", into buf. */
const char *fd_out_failure(struct fd_out *o, char *buf, size_t n);

/* Wake the writers for what is waiting (called before the proxy sleeps). Returns 0, or -1
 * once a write has failed (o->err, or fd_cap_error() of o->cap, says why). */
int fd_out_flush(struct fd_out *o);

#endif
