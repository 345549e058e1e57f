/* The trace sink: formats with libproto, writes to stdout or -o FILE, flushed whenever the
 * proxy is about to wait so that lines appear live without a write per line. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fusetransport/kernel.h"
#include "out.h"

int fd_out_open(struct fd_out *o, const char *path, int json, unsigned fmt)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->fmt = fmt;
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		o->name = "stdout";
		return 0;
	}
	o->f = fopen(path, "we");
	if (!o->f)
		return -1;
	o->name = path;
	return 0;
}

static void put_line(struct fd_out *o)
{
	if (o->err)
		return;
	if (o->line.oom) {
		o->err = ENOMEM;
		return;
	}
	fp_sbuf_put(&o->line, "\n", 1);
	if (fwrite(o->line.s, 1, o->line.len, o->f) != o->line.len)
		o->err = errno ? errno : EIO;
}

void fd_out_msg(struct fd_out *o, const struct fp_msg *m)
{
	fp_sbuf_clear(&o->line);
	if (o->json)
		fp_format_json(&o->line, m, o->fmt);
	else
		fp_format_text(&o->line, m, o->fmt);
	put_line(o);
}

uint64_t fd_now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	if (o->json) {
		fp_sbuf_printf(&o->line,
			       "{\"ts\":%" PRIu64 ".%09" PRIu64 ",\"dir\":\"event\",\"event\":\"%s\"",
			       ts_ns / 1000000000u, ts_ns % 1000000000u, name);
		if (unique)
			fp_sbuf_printf(&o->line, ",\"unique\":%" PRIu64, unique);
		fp_sbuf_put(&o->line, ",\"msg\":", 7);
		fp_sbuf_json_quote(&o->line, (const uint8_t *)msg, strlen(msg));
		fp_sbuf_put(&o->line, "}", 1);
	} else {
		if (o->fmt & FP_FMT_TIME)
			fp_sbuf_clock(&o->line, ts_ns);
		fp_sbuf_printf(&o->line, "# %s", msg);
	}
	put_line(o);
}

int fd_out_flush(struct fd_out *o)
{
	if (!o->err && fflush(o->f) != 0)
		o->err = errno ? errno : EIO;
	return o->err ? -1 : 0;
}

int fd_out_close(struct fd_out *o)
{
	fd_out_flush(o);
	int err = o->err;
	if (o->f && o->f != stdout) {
		if (fclose(o->f) != 0 && !err)
			err = errno ? errno : EIO;
	}
	o->f = NULL;
	fp_sbuf_free(&o->line);
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
