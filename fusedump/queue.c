/* The bounded queue and its thread (queue.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "queue.h"

/* The thread wakes when a lot is waiting or the proxy goes idle, and at least every TICK_MS,
 * so that a busy proxy need not wake it for every line. */
#define TICK_MS 50
#define KICK_BYTES (256u << 10)

static void *run(void *arg)
{
	struct fd_queue *q = arg;
	struct fp_sbuf mine = {0};
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->pend.len && !q->closing) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		}
		if (!q->pend.len && q->closing)
			break;
		/* swap buffers: the proxy appends to the empty one while this one drains */
		struct fp_sbuf t = q->pend;
		q->pend = mine;
		mine = t;
		q->draining = 1;
		int failed = q->err;
		pthread_mutex_unlock(&q->lock);
		int err = 0;
		/* chunks: a size_t length, then the bytes */
		for (size_t off = 0; off + sizeof(size_t) <= mine.len && !err && !failed;) {
			size_t n;
			memcpy(&n, mine.s + off, sizeof(n));
			off += sizeof(n);
			err = q->drain(q->ctx, mine.s + off, n);
			off += n;
		}
		if (!err && !failed && q->idle)
			err = q->idle(q->ctx);
		fp_sbuf_clear(&mine);
		mine.oom = 0;
		pthread_mutex_lock(&q->lock);
		q->draining = 0;
		if (err && !q->err)
			q->err = err;
		pthread_cond_broadcast(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	fp_sbuf_free(&mine);
	return NULL;
}

int fd_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

int fd_queue_start(struct fd_queue *q, size_t limit, fd_queue_drain drain, fd_queue_idle idle,
		   void *ctx)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
	q->drain = drain;
	q->idle = idle;
	q->ctx = ctx;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	int e = fd_thread_start(&q->thread, run, q);
	if (e) {
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->cond);
		return e;
	}
	q->running = 1;
	return 0;
}

int fd_queue_room(struct fd_queue *q, size_t n)
{
	pthread_mutex_lock(&q->lock);
	int ok = q->pend.len + sizeof(size_t) + n <= q->limit && !q->pend.oom;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

int fd_queue_put(struct fd_queue *q, const void *p1, size_t n1, const void *p2, size_t n2,
		 enum fd_queue_mode mode)
{
	size_t n = n1 + n2;
	pthread_mutex_lock(&q->lock);
	if (mode == FD_Q_WAIT)
		while (q->pend.len && q->pend.len + sizeof(n) + n > q->limit && !q->err) {
			pthread_cond_signal(&q->cond);
			pthread_cond_wait(&q->cond, &q->lock);
		}
	if ((mode == FD_Q_DROP && q->pend.len + sizeof(n) + n > q->limit) || q->pend.oom) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	fp_sbuf_put(&q->pend, (const char *)&n, sizeof(n));
	fp_sbuf_put(&q->pend, p1, n1);
	if (n2)
		fp_sbuf_put(&q->pend, p2, n2);
	int kick = q->pend.len >= KICK_BYTES && !q->draining;
	pthread_mutex_unlock(&q->lock);
	if (kick)
		pthread_cond_signal(&q->cond);
	return 0;
}

int fd_queue_kick(struct fd_queue *q)
{
	pthread_mutex_lock(&q->lock);
	int kick = q->pend.len && !q->draining;
	int err = q->err;
	pthread_mutex_unlock(&q->lock);
	if (kick)
		pthread_cond_signal(&q->cond);
	return err;
}

int fd_queue_stop(struct fd_queue *q)
{
	if (!q->running)
		return q->err;
	pthread_mutex_lock(&q->lock);
	q->closing = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	q->running = 0;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	fp_sbuf_free(&q->pend);
	return q->err;
}
