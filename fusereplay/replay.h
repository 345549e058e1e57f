/* fusereplay: play the kernel's part of a capture against a live daemon and compare its
 * replies with the recorded ones. */
#ifndef FUSEREPLAY_REPLAY_H
#define FUSEREPLAY_REPLAY_H

#include <stdint.h>

#include "compare.h"

struct fp_cap_msg;

/* A message on the daemon's socket: a request as sent (from_daemon 0) or what the daemon
 * wrote (1). */
typedef void (*fr_wire_fn)(void *ctx, int from_daemon, const uint8_t *buf, size_t len);

enum fr_speed {
	FR_SPEED_MAX,      /* each request as soon as the order allows */
	FR_SPEED_ORIGINAL, /* no earlier than its time in the capture, relative to the first */
};

struct fr_replay_opts {
	const char *capture;
	char **argv;            /* the daemon's command line */
	int devfd;              /* hand the socket over as /dev/fd/N in place of the mountpoint */
	const char *before;     /* --before: a shell command run first, or NULL */
	unsigned concurrency;   /* requests in flight at most (1: one at a time) */
	enum fr_speed speed;
	uint64_t timeout_ns;    /* how long to wait for a reply */
	uint64_t count;         /* replay at most this many requests (0: all) */
	int json;               /* the report as JSON lines */
	int progress;           /* a status line on stderr (a terminal) */
	int verbose;            /* also a line for every request that compared equal */
	int lint;               /* check the live messages against libproto's lint rules */
	struct fr_cmp_opts cmp;
	/* for the fuzzer: */
	int silent;             /* no report on stdout, no messages on stderr */
	int daemon_err;         /* the daemon's stderr goes here (-1: ours) */
	uint64_t exit_grace_ns; /* how long the daemon may take to end after its connection
				 * does, before SIGTERM (0: 5 s) */
	fr_wire_fn wire;        /* every request as sent and every live message, or NULL */
	void *wire_ctx;
};

/* What a replay came to, for the fuzzer's oracles. */
struct fr_outcome {
	uint64_t sent, equal, differing, missing, unexpected, skipped, violations;
	int started;            /* the daemon was started */
	int reaped, status;     /* the daemon's waitpid status, when reaped */
	int crashed;            /* killed by a signal, or failed before the end of the capture */
	uint32_t crash_op;      /* then: the first request sent since it last wrote, 0: none */
	int stuck;              /* did not end when its connection did */
	int closed;             /* closed its connection before the end (or exited 0) */
	uint64_t missing_unique; /* the first request that got no reply (capture unique) */
	uint32_t missing_op;
	uint64_t lint_unique;   /* the first lint violation: its request, opcode and rule */
	uint32_t lint_op;
	char lint_rule[32];
	char missing_why[96];
};

/* Replay; the report goes to stdout. Returns the exit status: 0 every reply equal, 1
 * differences (or the daemon failed), 2 broken input (with a message on stderr). */
int fr_replay(const struct fr_replay_opts *o);

/* The next record of a replay, as fp_capr_next() gives it: 1 with *m filled (valid until
 * the next call), 0 at the end, -1 with a message in err. */
typedef int (*fr_source_fn)(void *src, struct fp_cap_msg *m, char *err, size_t n);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t fr_now_mono(void);

/* Whether capture record c is a message one of the peers wrote on the capture's first
 * connection: not an event of the tool that wrote it, not a message the tool made or
 * changed, not another connection. *conn is that connection once *seen is set (by the
 * first call with a message). */
int fr_peer_msg(const struct fp_cap_msg *c, uint32_t *conn, int *seen);

/* A source over a capture being read (src: a struct fp_capr). */
int fr_capr_source(void *src, struct fp_cap_msg *m, char *err, size_t n);

/* Replay the records that `next` gives (`name` stands for them in messages); *out gets
 * what happened. Returns the exit status as fr_replay() does. */
int fr_replay_source(const struct fr_replay_opts *o, fr_source_fn next, void *src,
		     const char *name, struct fr_outcome *out);

#endif
