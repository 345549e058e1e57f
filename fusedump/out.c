/* The trace sink: the proxy formats each line with libproto and appends it to a bounded
 * queue (queue.h); its thread writes that to stdout or -o FILE. A slow terminal or pipe
 * never holds up the proxy: when the queue is full, lines are dropped and counted, and a
 * line says so where they went missing. Capture records go to the capture sink (cap.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fusetransport/kernel.h"
#include "lua.h"
#include "out.h"

/* Lines go by the batch where there are many: the writer thread gathers them and writes
 * WRITE_BATCH bytes at a time, and what is left whenever the queue has been drained, so
 * that a fast producer costs a write(2) per batch, not per line, and a live trace is not
 * held back; reading a capture (lossless), the proxy's thread also queues them
 * WRITE_BATCH bytes at a time rather than taking the queue's lock for each. */
#define WRITE_BATCH (64u << 10)

/* The queue's context: what each side keeps of lines not yet passed on. */
struct lines {
	int fd;
	struct fp_sbuf buf;   /* the writer thread's: not yet written */
	struct fp_sbuf batch; /* the proxy's thread's, when lossless: not yet queued */
	uint64_t nbatch;      /* lines in batch */
};

static int write_all(int fd, const char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, p + off, n - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EINTR)
			return errno;
		else if (w == 0)
			return EIO;
	}
	return 0;
}

static int write_gathered(void *ctx)
{
	struct lines *l = ctx;
	int e = l->buf.len ? write_all(l->fd, l->buf.s, l->buf.len) : 0;
	fp_sbuf_clear(&l->buf);
	return e;
}

static int gather(void *ctx, const char *p, size_t n)
{
	struct lines *l = ctx;
	int e;
	if (l->buf.len + n > WRITE_BATCH && (e = write_gathered(l)) != 0)
		return e;
	if (n < WRITE_BATCH) {
		fp_sbuf_put(&l->buf, p, n);
		if (!l->buf.oom)
			return 0;
		/* no memory to gather in: what is there goes out, then this line alone */
		l->buf.oom = 0;
		if ((e = write_gathered(l)) != 0)
			return e;
	}
	return write_all(l->fd, p, n);
}

int fd_out_open(struct fd_out *o, const char *path, int json, unsigned fmt, size_t limit)
{
	memset(o, 0, sizeof(*o));
	fp_msg_init(&o->mod);
	o->json = json;
	o->fmt = fmt;
	o->fd = -1;
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		o->name = "stdout";
	} else {
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (o->fd < 0)
			return -1;
		o->name = path;
	}
	struct lines *l = calloc(1, sizeof(*l));
	int e = l ? 0 : ENOMEM;
	if (l) {
		l->fd = o->fd;
		e = fd_queue_start(&o->q, limit ? limit : FD_OUT_LIMIT, gather, write_gathered, l);
	}
	if (e) {
		free(l);
		if (o->fd != STDOUT_FILENO)
			close(o->fd);
		errno = e;
		return -1;
	}
	o->text = 1;
	return 0;
}

int fd_out_capture(struct fd_out *o, const char *path, const struct fp_capw_opts *ro,
		   uint32_t snaplen, size_t limit, char *err, size_t n)
{
	o->cap = fd_cap_open(path, ro, snaplen, limit ? limit : FD_OUT_LIMIT, err, n);
	return o->cap ? 0 : -1;
}

static void format_event(const struct fd_out *o, struct fp_sbuf *b, uint64_t ts_ns,
			 const char *name, uint64_t unique, uint64_t lines, const char *msg);

/* When lines were dropped and there is room again, say so, there (FD_Q_WAIT: make room). */
static void note_dropped(struct fd_out *o, enum fd_queue_mode mode)
{
	if (!o->dropped || (mode != FD_Q_WAIT && !fd_queue_room(&o->q, 256)))
		return;
	char msg[96];
	snprintf(msg, sizeof(msg), "%" PRIu64 " trace lines dropped here: the output was too slow",
		 o->dropped);
	struct fp_sbuf note = {0};
	format_event(o, &note, fd_now_real(), "dropped", 0, o->dropped, msg);
	fp_sbuf_put(&note, "\n", 1);
	if (!note.oom && fd_queue_put(&o->q, note.s, note.len, NULL, 0, mode) == 0) {
		o->dropped_total += o->dropped;
		o->dropped = 0;
	}
	fp_sbuf_free(&note);
}

/* Queue the lines batched so far: lossless (or at the end), waiting for room; batched,
 * dropping them all (and counting them) when there is none. */
static void put_batch(struct fd_out *o, int end)
{
	struct lines *l = o->q.ctx;
	enum fd_queue_mode mode = o->lossless || end ? FD_Q_WAIT : FD_Q_DROP;
	if (l->batch.len && fd_queue_put(&o->q, l->batch.s, l->batch.len, NULL, 0, mode) < 0)
		o->dropped += l->nbatch;
	fp_sbuf_clear(&l->batch);
	l->nbatch = 0;
}

/* Lossless or batched: add the line to the batch, which is queued once it is WRITE_BATCH
 * long, or at the next fd_out_flush(). */
static void batch_line(struct fd_out *o)
{
	struct lines *l = o->q.ctx;
	if (o->dropped) { /* the note goes after the lines before it */
		put_batch(o, 0);
		note_dropped(o, o->lossless ? FD_Q_WAIT : FD_Q_FORCE);
	}
	fp_sbuf_put(&l->batch, o->line.s, o->line.len);
	if (l->batch.oom) { /* no memory to batch in: this line alone, after the others */
		l->batch.oom = 0;
		put_batch(o, 0);
		if (fd_queue_put(&o->q, o->line.s, o->line.len, NULL, 0, FD_Q_WAIT) < 0)
			o->dropped++;
		return;
	}
	l->nbatch++;
	if (l->batch.len >= WRITE_BATCH)
		put_batch(o, 0);
}

/* Hand the formatted line over to the writer. A message line is dropped (and counted)
 * when the writer is that far behind; fusedump's own event lines, which are few, are
 * always kept; reading a capture (lossless), nothing is dropped. */
static void put_line(struct fd_out *o, int event)
{
	if (o->line.oom) {
		o->dropped++;
		return;
	}
	fp_sbuf_put(&o->line, "\n", 1);
	if (o->lossless || (o->batched && !event)) {
		batch_line(o);
		return;
	}
	if (o->batched)
		put_batch(o, 0); /* an event goes after the lines before it */
	note_dropped(o, FD_Q_FORCE);
	enum fd_queue_mode mode = event ? FD_Q_FORCE : FD_Q_DROP;
	if (fd_queue_put(&o->q, o->line.s, o->line.len, NULL, 0, mode) < 0)
		o->dropped++;
}

/* Put `word` at the end of the message's own line in o->line, before any -x hex lines. */
static void mark_line(struct fd_out *o, const char *word, size_t wl)
{
	if (o->line.oom)
		return;
	const char *nl = memchr(o->line.s, '\n', o->line.len);
	size_t at = nl ? (size_t)(nl - o->line.s) : o->line.len, tail = o->line.len - at;
	fp_sbuf_put(&o->line, word, wl); /* grow by wl, then shift the tail */
	if (!o->line.oom) {
		memmove(o->line.s + at + wl, o->line.s + at, tail);
		memcpy(o->line.s + at, word, wl);
	}
}

/* The line for m with its mark and what it broke (o->marks), into o->line. */
static void format_msg(struct fd_out *o, const struct fp_msg *m, unsigned mark)
{
	fp_sbuf_clear(&o->line);
	if (o->json) {
		fp_format_json(&o->line, m, o->fmt);
		if (o->line.len && o->line.s[o->line.len - 1] == '}') {
			if (mark & (FD_MARK_INJECTED | FD_MARK_MODIFIED)) {
				o->line.len--;
				fp_sbuf_printf(&o->line, ",\"%s\":true}",
					       mark & FD_MARK_INJECTED ? "injected" : "modified");
			}
			if (o->marks.len) {
				o->line.len--;
				fp_sbuf_printf(&o->line, ",\"lint\":[%s]}", o->marks.s);
			}
		}
	} else {
		fp_format_text(&o->line, m, o->fmt);
		if (mark & (FD_MARK_INJECTED | FD_MARK_MODIFIED))
			mark_line(o, mark & FD_MARK_INJECTED ? " [injected]" : " [modified]", 11);
		if (o->marks.len)
			mark_line(o, o->marks.s, o->marks.len);
	}
}

/* A lint violation: " [lint RULE: TEXT]", or a JSON object, for the message's line. */
static void on_lint(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	(void)m;
	struct fd_out *o = ctx;
	o->violations++;
	if (o->json) {
		fp_sbuf_printf(&o->marks, "%s{\"rule\":\"%s\",\"text\":", o->marks.len ? "," : "", rule);
		fp_sbuf_json_quote(&o->marks, (const uint8_t *)text, strlen(text));
		fp_sbuf_put(&o->marks, "}", 1);
	} else {
		fp_sbuf_printf(&o->marks, " [lint %s: ", rule);
		fp_sbuf_quote(&o->marks, (const uint8_t *)text, strlen(text));
		fp_sbuf_put(&o->marks, "]", 1);
	}
}

void fd_out_msg(struct fd_out *o, const struct fp_msg *m, const struct fp_conn *conn,
		unsigned mark)
{
	if (o->cap)
		fd_cap_msg(o->cap, m, conn, mark & FD_MARK_INJECTED ? FP_CAP_F_INJECTED : 0);
	fp_sbuf_clear(&o->marks);
	if (o->lint) {
		/* every message, also those -Y leaves out and with no trace at all (-w): the
		 * rules follow the whole session, and the count is printed at the end */
		fp_lint_set_flags(o->lint, mark & FD_MARK_SNAPPED ? FP_LINT_SNAPPED : 0);
		fp_lint_check(o->lint, m, m->dir == FP_REQUEST ? FP_FROM_KERNEL : FP_FROM_DAEMON,
			      conn ? conn : &FP_CONN_NEWEST, on_lint, o);
	}
	if (!o->text && !o->top)
		return;
	if (o->filter && !fd_filter_match(o->filter, (struct fp_msg *)m))
		return;
	if (o->top)
		fd_top_msg(o->top, m);
	if (!o->text)
		return;
	format_msg(o, m, mark);
	put_line(o, 0);
}

/* Which reply layout a decoded reply was decoded with, so that a copy decodes alike. */
static struct fp_reqinfo reqinfo_of(const struct fp_msg *m)
{
	struct fp_reqinfo ri = {m->opcode, 0};
	if (m->op && m->op->rep_for && m->body != UINT32_MAX &&
	    fp_op_reply_layout(m->op, 0) != m->v[m->body].st)
		ri.arg = 1;
	return ri;
}

void fd_out_modified(struct fd_out *o, const struct fp_msg *orig, const uint8_t *buf, size_t len,
		     const struct fp_conn *conn, uint64_t ts_ns, int by_script)
{
	if (!ts_ns)
		ts_ns = fd_now_real();
	enum fp_origin from = orig->dir == FP_REQUEST ? FP_FROM_KERNEL : FP_FROM_DAEMON;
	if (o->cap)
		fd_cap_modified(o->cap, from, buf, len, ts_ns, conn, by_script ? FP_CAP_F_SCRIPT : 0);
	if (!o->text || !by_script)
		return;
	struct fp_conn c = conn ? *conn : (struct fp_conn)FP_CONN_NEWEST;
	struct fp_reqinfo ri = reqinfo_of(orig);
	if (fp_decode(&o->mod, buf, len, from, &c, orig->dir == FP_REPLY ? &ri : NULL) < 0)
		return;
	o->mod.ts_ns = ts_ns;
	o->mod.latency_ns = orig->latency_ns;
	o->mod.path_known = orig->path_known;
	memcpy(o->mod.path, orig->path, sizeof(o->mod.path));
	if (orig->dir == FP_REPLY) {
		o->mod.op = orig->op;
		o->mod.opcode = orig->opcode;
	}
	if (o->filter && !fd_filter_match(o->filter, &o->mod))
		return;
	format_msg(o, &o->mod, FD_MARK_MODIFIED);
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
		fp_sbuf_printf(b, "{\"ts\":%" PRIu64 ".%09" PRIu64 ",\"dir\":\"event\",\"event\":",
			       ts_ns / 1000000000u, ts_ns % 1000000000u);
		fp_sbuf_json_quote(b, (const uint8_t *)name, strlen(name));
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
		fp_sbuf_put(b, "# ", 2);
		/* from a capture file the text is anybody's: escape what could drive a terminal */
		for (const char *c = msg; *c; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				fp_sbuf_printf(b, "\\x%02x", (unsigned char)*c);
			else
				fp_sbuf_put(b, c, 1);
		}
	}
}

void fd_out_event_text(struct fd_out *o, uint64_t ts_ns, const char *name, uint64_t unique,
		       const char *msg)
{
	if (o->top)
		fd_top_event(o->top, ts_ns, name, unique, msg);
	if (!o->text)
		return;
	fp_sbuf_clear(&o->line);
	format_event(o, &o->line, ts_ns, name, unique, 0, msg);
	put_line(o, 1);
}

void fd_out_event(struct fd_out *o, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->cap)
		fd_cap_event(o->cap, ts_ns, name, unique, msg);
	fd_out_event_text(o, ts_ns, name, unique, msg);
}

int fd_out_flush(struct fd_out *o)
{
	int failed = 0;
	if (o->text) {
		if (o->lossless || o->batched)
			put_batch(o, 0);
		int e = fd_queue_kick(&o->q);
		if (e && !o->err)
			o->err = e;
		failed = e != 0;
	}
	if (o->cap && fd_cap_kick(o->cap) < 0)
		failed = 1;
	return failed ? -1 : 0;
}

const char *fd_out_failure(struct fd_out *o, char *buf, size_t n)
{
	if (o->err)
		snprintf(buf, n, "%s: %s", o->name, strerror(o->err));
	else if (o->cap && *fd_cap_error(o->cap))
		snprintf(buf, n, "%s", fd_cap_error(o->cap));
	else
		snprintf(buf, n, "writing the output failed");
	return buf;
}

int fd_out_close(struct fd_out *o)
{
	int err = 0, failed = 0;
	/* first: what the caller prints after this must not go under the screen */
	fd_top_close(o->top);
	o->top = NULL;
	if (o->text) {
		if (o->lossless || o->batched)
			put_batch(o, 1);
		/* the last drops get their line too */
		note_dropped(o, FD_Q_WAIT);
		err = fd_queue_stop(&o->q);
		struct lines *l = o->q.ctx;
		fp_sbuf_free(&l->buf);
		fp_sbuf_free(&l->batch);
		free(l);
		if (!err)
			err = o->err;
		o->text = 0;
		o->dropped_total += o->dropped;
		if (o->fd != STDOUT_FILENO && close(o->fd) != 0 && !err)
			err = errno;
		o->fd = -1;
		failed = err != 0;
	}
	if (o->cap) {
		if (fd_cap_close(o->cap, &o->cap_lost, o->cap_err, sizeof(o->cap_err)) < 0)
			failed = 1;
		o->cap = NULL;
	}
	fp_sbuf_free(&o->line);
	fp_msg_free(&o->mod);
	fd_filter_free(o->filter);
	o->filter = NULL;
	fp_lint_free(o->lint);
	o->lint = NULL;
	fp_sbuf_free(&o->marks);
	if (failed) {
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
