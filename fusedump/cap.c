/* The capture sink (cap.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap.h"
#include "queue.h"

/* What the proxy queues for each record, followed by its bytes. */
struct qrec {
	uint64_t ts_ns;
	uint64_t initflags;
	uint32_t flags, msglen, lost;
	uint16_t major, minor;
	uint8_t type;
};

struct fd_cap {
	struct fd_queue q;
	struct fp_capw *w;
	uint32_t snaplen;
	uint64_t lost;       /* records dropped since the last one written (proxy thread) */
	uint64_t lost_total;
	char err[512];       /* the writer's first error */
};

static int drain(void *ctx, const char *p, size_t n)
{
	struct fd_cap *c = ctx;
	struct qrec r;
	if (n < sizeof(r))
		return EINVAL;
	memcpy(&r, p, sizeof(r));
	struct fp_cap_msg m = {
		.ts_ns = r.ts_ns,
		.type = r.type,
		.flags = r.flags,
		.lost = r.lost,
		.major = r.major,
		.minor = r.minor,
		.initflags = r.initflags,
		.buf = (const uint8_t *)p + sizeof(r),
		.len = (uint32_t)(n - sizeof(r)),
		.msglen = r.msglen,
	};
	return fp_capw_write(c->w, &m, c->err, sizeof(c->err)) < 0 ? EIO : 0;
}

static int idle(void *ctx)
{
	struct fd_cap *c = ctx;
	return fp_capw_flush(c->w, c->err, sizeof(c->err)) < 0 ? EIO : 0;
}

struct fd_cap *fd_cap_open(const char *path, const struct fp_capw_opts *ro, uint32_t snaplen,
			   size_t limit, char *err, size_t n)
{
	struct fd_cap *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, n, "%s: out of memory", path);
		return NULL;
	}
	c->snaplen = snaplen;
	c->w = fp_capw_open(path, ro, err, n);
	if (!c->w) {
		free(c);
		return NULL;
	}
	int e = fd_queue_start(&c->q, limit, drain, idle, c);
	if (e) {
		snprintf(err, n, "%s: starting its writer: %s", path, strerror(e));
		fp_capw_close(c->w, NULL, 0);
		free(c);
		return NULL;
	}
	return c;
}

static void put(struct fd_cap *c, struct qrec *r, const uint8_t *buf, uint32_t len,
		enum fd_queue_mode mode)
{
	r->lost = c->lost > UINT32_MAX ? UINT32_MAX : (uint32_t)c->lost;
	if (fd_queue_put(&c->q, r, sizeof(*r), buf, len, mode) < 0) {
		c->lost++;
		c->lost_total++;
		return;
	}
	c->lost = 0;
}

static void set_conn(struct qrec *r, const struct fp_conn *conn)
{
	if (conn) {
		r->major = (uint16_t)conn->major;
		r->minor = (uint16_t)conn->minor;
		r->initflags = conn->flags;
	}
}

/* Where the payload of m starts (file data, xattr values), or its end if it has none. */
static uint32_t payload_off(const struct fp_msg *m)
{
	for (uint32_t i = 0; i < m->nv; i++) {
		const struct fp_field *f = m->v[i].f;
		if (f && f->kind == FP_K_BYTES && f->disp == FP_D_DATA && !(m->v[i].vflags & FP_V_OWNED))
			return m->v[i].off;
	}
	return m->buflen;
}

void fd_cap_msg(struct fd_cap *c, const struct fp_msg *m, const struct fp_conn *conn,
		uint32_t flags)
{
	struct qrec r = {.ts_ns = m->ts_ns, .msglen = m->buflen, .flags = flags};
	r.type = m->dir == FP_REQUEST ? FP_CAP_T_KERNEL : FP_CAP_T_DAEMON;
	set_conn(&r, conn);
	uint32_t keep = c->snaplen ? fp_cap_snap(m->buflen, payload_off(m), c->snaplen) : m->buflen;
	if (keep < m->buflen)
		r.flags |= FP_CAP_F_SNAPPED;
	put(c, &r, m->buf, keep, FD_Q_DROP);
}

void fd_cap_modified(struct fd_cap *c, enum fp_origin from, const uint8_t *buf, size_t len,
		     uint64_t ts_ns, const struct fp_conn *conn, uint32_t flags)
{
	struct qrec r = {.ts_ns = ts_ns, .msglen = (uint32_t)len, .flags = FP_CAP_F_MODIFIED | flags};
	r.type = from == FP_FROM_KERNEL ? FP_CAP_T_KERNEL : FP_CAP_T_DAEMON;
	set_conn(&r, conn);
	put(c, &r, buf, (uint32_t)len, FD_Q_FORCE);
}

void fd_cap_event(struct fd_cap *c, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *text)
{
	uint8_t buf[2048];
	size_t n = fp_cap_event_build(buf, sizeof(buf), unique, name, text);
	if (!n)
		return;
	struct qrec r = {.ts_ns = ts_ns, .type = FP_CAP_T_EVENT, .msglen = (uint32_t)n};
	put(c, &r, buf, (uint32_t)n, FD_Q_FORCE);
}

int fd_cap_kick(struct fd_cap *c)
{
	return fd_queue_kick(&c->q) ? -1 : 0;
}

const char *fd_cap_error(struct fd_cap *c)
{
	return c->err;
}

int fd_cap_close(struct fd_cap *c, uint64_t *lost, char *err, size_t n)
{
	int qerr = fd_queue_stop(&c->q);
	int r = 0;
	if (qerr) {
		snprintf(err, n, "%s", c->err[0] ? c->err : strerror(qerr));
		r = -1;
	}
	if (fp_capw_close(c->w, r ? NULL : err, n) < 0)
		r = -1;
	*lost = c->lost_total;
	free(c);
	return r;
}
