/* A bounded queue of bytes with a thread that drains it: what lets the proxy hand its
 * output (trace lines, capture records) over without ever waiting for a disk or terminal.
 * One thread puts, the queue's own thread takes. */
#ifndef FUSEDUMP_QUEUE_H
#define FUSEDUMP_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#include "fuseproto/format.h"

/* How fd_queue_put() treats a queue that is full. */
enum fd_queue_mode {
	FD_Q_DROP,  /* refuse the bytes: the caller counts them as lost */
	FD_Q_FORCE, /* take them anyway (fusedump's own events, which are few) */
	FD_Q_WAIT,  /* wait until there is room (reading a capture: nothing is lost) */
};

/* Takes what was put, in order, as whole chunks. Returns 0, or an errno: the queue then
 * keeps taking (and throwing away) bytes, and fd_queue_error() reports it. */
typedef int (*fd_queue_drain)(void *ctx, const char *p, size_t n);

/* Called by the queue's thread once it has drained everything and before it sleeps (to
 * flush a stream); returns 0 or an errno. May be NULL. */
typedef int (*fd_queue_idle)(void *ctx);

struct fd_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running, closing, draining;
	struct fp_sbuf pend;   /* what waits for the thread */
	size_t limit;
	int err;
	fd_queue_drain drain;
	fd_queue_idle idle;
	void *ctx;
};

/* Start a thread that takes no signal (fusedump reads them from signalfds): the queue's,
 * --top's. Returns 0, or an errno. */
int fd_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Start the queue's thread. Returns 0, or an errno. */
int fd_queue_start(struct fd_queue *q, size_t limit, fd_queue_drain drain, fd_queue_idle idle,
		   void *ctx);

/* Append the n1 + n2 bytes of p1 and p2 as one chunk, which the drain gets in one call.
 * Returns 0, or -1 when mode is FD_Q_DROP and they do not fit (or memory ran out). */
int fd_queue_put(struct fd_queue *q, const void *p1, size_t n1, const void *p2, size_t n2,
		 enum fd_queue_mode mode);

/* Whether n more bytes fit now. */
int fd_queue_room(struct fd_queue *q, size_t n);

/* Wake the thread for what is waiting (before the proxy sleeps). Returns the queue's
 * error, 0 if none. */
int fd_queue_kick(struct fd_queue *q);

/* Drain what is left, stop the thread. Returns the queue's error, 0 if none. */
int fd_queue_stop(struct fd_queue *q);

#endif
