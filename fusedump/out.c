/* The trace sink: the proxy formats each line with libproto and appends it to a bounded
 * buffer; a writer thread writes that to stdout or -o FILE. A slow terminal or pipe never
 * holds up the proxy: when the buffer is full, lines are dropped and counted, and a line
 * says so where they went missing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fusetransport/kernel.h"
#include "out.h"

/* The writer thread: takes what the proxy appended and writes it with blocking writes,
 * woken when a lot is waiting or the proxy goes idle, and at least every WRITER_TICK_MS. */
#define WRITER_TICK_MS 50
#define KICK_BYTES (256u << 10)

static void *writer(void *arg)
{
	struct fd_out *o = arg;
	struct fp_sbuf mine = {0};
	pthread_mutex_lock(&o->lock);
	for (;;) {
		while (!o->pend.len && !o->closing) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += WRITER_TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&o->cond, &o->lock, &ts);
		}
		if (!o->pend.len && o->closing)
			break;
		/* swap buffers: the proxy appends to the empty one while we write */
		struct fp_sbuf t = o->pend;
		o->pend = mine;
		mine = t;
		o->writing = 1;
		pthread_mutex_unlock(&o->lock);
		int err = 0;
		for (size_t off = 0; off < mine.len && !err;) {
			ssize_t w = write(o->fd, mine.s + off, mine.len - off);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EINTR)
				err = errno;
			else if (w == 0)
				err = EIO;
		}
		fp_sbuf_clear(&mine);
		pthread_mutex_lock(&o->lock);
		o->writing = 0;
		if (err && !o->err)
			o->err = err;
		pthread_cond_broadcast(&o->cond);
	}
	pthread_mutex_unlock(&o->lock);
	fp_sbuf_free(&mine);
	return NULL;
}

int fd_out_open(struct fd_out *o, const char *path, int json, unsigned fmt, size_t limit)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->fmt = fmt;
	o->limit = limit ? limit : FD_OUT_LIMIT;
	if (!path || !strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		o->name = "stdout";
	} else {
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (o->fd < 0)
			return -1;
		o->name = path;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	/* the writer takes no signals: they are for the proxy's signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&o->thread, NULL, writer, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		if (o->fd != STDOUT_FILENO)
			close(o->fd);
		errno = e;
		return -1;
	}
	o->running = 1;
	return 0;
}

static void format_event(const struct fd_out *o, struct fp_sbuf *b, uint64_t ts_ns,
			 const char *name, uint64_t unique, uint64_t lines, const char *msg);

/* With lock held: when lines were dropped and there is room again, say so, there. */
static void note_dropped(struct fd_out *o)
{
	if (!o->dropped || o->pend.len + 256 > o->limit)
		return;
	char msg[96];
	snprintf(msg, sizeof(msg), "%" PRIu64 " trace lines dropped here: the output was too slow",
		 o->dropped);
	struct fp_sbuf note = {0};
	format_event(o, &note, fd_now_real(), "dropped", 0, o->dropped, msg);
	fp_sbuf_put(&note, "\n", 1);
	if (!note.oom)
		fp_sbuf_put(&o->pend, note.s, note.len);
	fp_sbuf_free(&note);
	o->dropped_total += o->dropped;
	o->dropped = 0;
}

/* Hand the formatted line over to the writer. A message line is dropped (and counted)
 * when the writer is that far behind; fusedump's own event lines, which are few, are
 * always kept. */
static void put_line(struct fd_out *o, int event)
{
	if (o->line.oom) {
		o->dropped++;
		return;
	}
	fp_sbuf_put(&o->line, "\n", 1);
	pthread_mutex_lock(&o->lock);
	note_dropped(o);
	if (!event && (o->pend.len + o->line.len > o->limit || o->pend.oom))
		o->dropped++;
	else
		fp_sbuf_put(&o->pend, o->line.s, o->line.len);
	int kick = o->pend.len >= KICK_BYTES && !o->writing;
	pthread_mutex_unlock(&o->lock);
	if (kick)
		pthread_cond_signal(&o->cond);
}

void fd_out_msg(struct fd_out *o, const struct fp_msg *m)
{
	fp_sbuf_clear(&o->line);
	if (o->json)
		fp_format_json(&o->line, m, o->fmt);
	else
		fp_format_text(&o->line, m, o->fmt);
	put_line(o, 0);
}

uint64_t fd_now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An event line into b: text "# <msg>", JSON {"ts":..,"dir":"event","event":NAME,
 * ["unique":N,] ["lines":N,] "msg":"..."}. unique and lines 0: none. */
static void format_event(const struct fd_out *o, struct fp_sbuf *b, uint64_t ts_ns,
			 const char *name, uint64_t unique, uint64_t lines, const char *msg)
{
	if (o->json) {
		fp_sbuf_printf(b, "{\"ts\":%" PRIu64 ".%09" PRIu64 ",\"dir\":\"event\",\"event\":\"%s\"",
			       ts_ns / 1000000000u, ts_ns % 1000000000u, name);
		if (unique)
			fp_sbuf_printf(b, ",\"unique\":%" PRIu64, unique);
		if (lines)
			fp_sbuf_printf(b, ",\"lines\":%" PRIu64, lines);
		fp_sbuf_put(b, ",\"msg\":", 7);
		fp_sbuf_json_quote(b, (const uint8_t *)msg, strlen(msg));
		fp_sbuf_put(b, "}", 1);
	} else {
		if (o->fmt & FP_FMT_TIME)
			fp_sbuf_clock(b, ts_ns);
		fp_sbuf_printf(b, "# %s", msg);
	}
}

void fd_out_event(struct fd_out *o, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fp_sbuf_clear(&o->line);
	format_event(o, &o->line, ts_ns, name, unique, 0, msg);
	put_line(o, 1);
}

int fd_out_flush(struct fd_out *o)
{
	pthread_mutex_lock(&o->lock);
	int kick = o->pend.len && !o->writing;
	int err = o->err;
	pthread_mutex_unlock(&o->lock);
	if (kick)
		pthread_cond_signal(&o->cond);
	return err ? -1 : 0;
}

int fd_out_close(struct fd_out *o)
{
	int err = 0;
	if (o->running) {
		pthread_mutex_lock(&o->lock);
		/* the last drops get their line too, once the writer has made room */
		while (o->dropped && o->pend.len + 256 > o->limit && !o->err) {
			pthread_cond_signal(&o->cond);
			pthread_cond_wait(&o->cond, &o->lock);
		}
		note_dropped(o);
		o->closing = 1;
		pthread_cond_broadcast(&o->cond);
		pthread_mutex_unlock(&o->lock);
		pthread_join(o->thread, NULL);
		o->running = 0;
		err = o->err;
		o->dropped_total += o->dropped;
		pthread_mutex_destroy(&o->lock);
		pthread_cond_destroy(&o->cond);
		if (o->fd != STDOUT_FILENO && close(o->fd) != 0 && !err)
			err = errno;
		o->fd = -1;
	}
	fp_sbuf_free(&o->line);
	fp_sbuf_free(&o->pend);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Append an argument to b, quoted when it holds anything but plain characters. */
static void put_arg(struct fp_sbuf *b, const char *a)
{
	size_t n = strlen(a);
	int plain = n > 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=,:@%+-",
			    a[i]))
			plain = 0;
	if (plain)
		fp_sbuf_put(b, a, n);
	else
		fp_sbuf_quote(b, (const uint8_t *)a, n);
}

void fd_out_start(struct fd_out *o, const struct ft_kernel *k, const struct ft_mount_opts *mo,
		  char *const argv[], int mi, int fd, pid_t child, const char *how)
{
	struct fp_sbuf cmd = {0};
	for (int i = 0; argv[i]; i++) {
		if (i)
			fp_sbuf_put(&cmd, " ", 1);
		if (i == mi)
			fp_sbuf_printf(&cmd, "/dev/fd/%d", fd);
		else
			put_arg(&cmd, argv[i]);
	}
	struct fp_sbuf mnt = {0};
	put_arg(&mnt, k->mountpoint);
	struct fp_sbuf src = {0};
	put_arg(&src, mo->fsname ? mo->fsname : "fuse");
	fd_out_event(o, fd_now_real(), "start", 0,
		     "fusedump %s: mounted %s on %s (type fuse%s%s%s%s); daemon pid %d: %s",
		     FUSEWIRE_VERSION, src.s ? src.s : "", mnt.s ? mnt.s : "",
		     mo->subtype ? "." : "", mo->subtype ? mo->subtype : "", how ? ", " : "",
		     how ? how : "", (int)child, cmd.s ? cmd.s : "");
	fp_sbuf_free(&src);
	fp_sbuf_free(&cmd);
	fp_sbuf_free(&mnt);
}
