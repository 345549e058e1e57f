/* Replay (replay.h): the kernel's part of a capture, played against a live daemon on a
 * socketpair.
 *
 * The capture is read in order, one record at a time. A request is sent once the order
 * allows it: every request whose recorded reply came before it in the capture must have
 * its live reply by then (a later request may use the nodeid or fh that reply handed
 * out), and no more than --concurrency requests may wait for their live replies. Before
 * it is sent, its unique is renumbered and its nodeids, fh and directory offsets are
 * mapped to the live daemon's (learnt by comparing earlier replies). A recorded reply is
 * kept with its request until the live one is there; then the two are compared. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/abi.h"
#include "fuseproto/capture.h"
#include "fuseproto/format.h"
#include "fuseproto/le.h"
#include "fuseproto/lint.h"
#include "fuseproto/session.h"
#include "fusetransport/chan.h"
#include "fusetransport/ctl.h"
#include "fusetransport/daemon.h"
#include "fusetransport/kernel.h"
#include "fusetransport/shims.h"
#include "map.h"
#include "replay.h"

#define NS_PER_S UINT64_C(1000000000)
#define UNIQUE_STEP 2          /* the kernel's uniques go up by 2; bit 0 marks INTERRUPTs */
#define EXIT_GRACE_NS (5 * NS_PER_S) /* the daemon's time to end after we let go */
#define PROGRESS_NS (NS_PER_S / 5)
#define BATCH 64                    /* requests sent with one sendmmsg(2), at most */
#define BATCH_BYTES (256u << 10)    /* and their bytes */

/* One replayed request, until both its replies (or their absence) are known. */
struct pend {
	uint64_t cap_unique, live_unique;
	struct fp_reqinfo ri;
	const char *label;     /* what stands for the request when there is none ("daemon") */
	char *desc;            /* `READ "/a" offset=0 size=4096`, made when first reported */
	char *path;            /* or NULL */
	const uint8_t *req;    /* the request as captured (stored after the struct) */
	uint32_t reqlen;
	struct fp_conn req_conn;
	uint8_t *rec, *live;   /* the replies' bytes */
	uint32_t reclen, livelen;
	int rec_snapped;
	struct fp_conn rec_conn;
	uint64_t deadline;     /* for the live reply */
	unsigned have_rec : 1, have_live : 1, timed_out : 1;
	unsigned req_bad : 1;  /* the request did not decode cleanly (a fuzzer's) */
	struct pend *prev, *next; /* the list of all, in sending order */
};

struct replay {
	const struct fr_replay_opts *o;
	const char *name;              /* the capture, for messages */
	struct fr_outcome *res;
	struct fp_sbuf out;            /* the report, written out line by line */
	struct fp_session *rec_sess;   /* the capture, as recorded */
	struct fp_session *live_sess;  /* the live INIT (for the live daemon's version); with
					* --lint, every live message */
	struct fp_lint *lint;          /* with --lint */
	struct fp_conn live_conn;
	struct fp_msg req, a, b, d;    /* scratch decodes */
	struct fr_map by_cap, by_live; /* pend by the capture's unique, by the live one */
	struct fr_map ids[FR_ID_KINDS];
	struct fr_map dups;            /* live uniques sent twice (a capture that reuses one) */
	int init_refused;              /* the live INIT reply ends the connection */
	uint32_t unanswered_op;        /* the first request sent since the daemon last wrote:
					* the one it was on when it died */
	uint32_t init_major;           /* the major of the INIT sent */
	struct pend *head, *tail;
	uint64_t next_unique;
	uint64_t max_cap_unique;       /* the largest capture unique sent so far */
	uint64_t outstanding;          /* sent, no live reply yet, not timed out */
	uint64_t barrier;              /* recorded reply read, live one not there yet */
	uint64_t sent, equal, differing, missing, unexpected, skipped, violations;
	uint64_t lost;                 /* messages the capture's writer could not keep */
	uint64_t t0, cap_t0;           /* monotonic start; first request's capture time */
	uint64_t last_progress;
	struct ft_chan sock;
	int sock_open;
	int daemon_fd;                 /* the daemon's end, until it took it */
	int ctl_fd, pidfd;
	pid_t child;
	int child_reaped, child_status;
	int daemon_gone;               /* EOF on the socket */
	int failed;                    /* broken input: exit 2 */
	char daemon_end[96];           /* why the daemon is gone, for the report */
	uint8_t *buf;                  /* a request being rewritten */
	struct {                       /* requests ready to go, sent together */
		uint8_t *data;
		size_t len;
		unsigned n;
		size_t off[BATCH], size[BATCH];
		struct pend *p[BATCH];
	} q;
};

uint64_t fr_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void flush_out(struct replay *r)
{
	if (r->out.len && !r->o->silent)
		fwrite(r->out.s, 1, r->out.len, stdout);
	fp_sbuf_clear(&r->out);
	fflush(stdout);
}

/* ------------------------------------------------------------------ the report */

static void clear_progress(struct replay *r)
{
	if (r->o->progress && !r->o->silent && r->last_progress)
		fputs("\r\033[K", stderr);
}

static void progress(struct replay *r, int force)
{
	if (!r->o->progress || r->o->silent)
		return;
	uint64_t now = fr_now_mono();
	if (!force && now - r->last_progress < PROGRESS_NS)
		return;
	r->last_progress = now;
	double s = (double)(now - r->t0) / NS_PER_S;
	fprintf(stderr, "\r\033[Kfusereplay: %" PRIu64 " sent, %" PRIu64 " equal, %" PRIu64
		" differing, %" PRIu64 " missing, %.0f requests/s", r->sent, r->equal, r->differing,
		r->missing, s > 0 ? (double)r->sent / s : 0.0);
}

/* A short name for a request: op, path, then its names, offset and size. */
static char *describe(const struct fp_msg *m, const char *path)
{
	struct fp_sbuf b = {0};
	const char *op = fp_op_name(m->opcode);
	fp_sbuf_printf(&b, "%s", op ? op : "?");
	if (path) {
		fp_sbuf_put(&b, " ", 1);
		fp_sbuf_quote(&b, (const uint8_t *)path, strlen(path));
	}
	if (m->body != UINT32_MAX) {
		uint32_t end = m->body + m->v[m->body].nsub;
		for (uint32_t i = m->body + 1; i <= end; i++) {
			const struct fp_val *v = &m->v[i];
			const char *n = v->f->name;
			if (v->f->kind == FP_K_STR ||
			    (fp_kind_is_int(v->f->kind) &&
			     (!strcmp(n, "offset") || !strcmp(n, "size") || !strcmp(n, "mask") ||
			      !strcmp(n, "valid")))) {
				fp_sbuf_printf(&b, " %s=", n);
				fp_format_value(&b, m, (long)i, 0);
			}
		}
	}
	return b.oom ? (fp_sbuf_free(&b), NULL) : b.s;
}

/* The request's short name, made from its captured bytes the first time it is needed:
 * most requests compare equal and never need one. */
static const char *pend_desc(struct replay *r, const struct pend *cp)
{
	struct pend *p = (struct pend *)cp;
	if (p->label)
		return p->label;
	if (!p->desc && fp_decode(&r->d, p->req, p->reqlen, FP_FROM_KERNEL, &p->req_conn, NULL) >= 0)
		p->desc = describe(&r->d, p->path);
	return p->desc ? p->desc : "?";
}

/* One difference: `field` of the request p, recorded value vs live. */
static void diff_line(struct replay *r, const struct pend *p, const char *field,
		      const char *rec, const char *live)
{
	struct fp_sbuf *b = &r->out;
	if (r->o->silent)
		return;
	if (r->o->json) {
		fp_sbuf_printf(b, "{\"type\":\"diff\",\"unique\":%" PRIu64 ",\"op\":", p->cap_unique);
		const char *op = fp_op_name(p->ri.opcode);
		fp_sbuf_json_quote(b, (const uint8_t *)(op ? op : "?"), strlen(op ? op : "?"));
		if (p->path) {
			fp_sbuf_put(b, ",\"path\":", 8);
			fp_sbuf_json_quote(b, (const uint8_t *)p->path, strlen(p->path));
		}
		const char *desc = pend_desc(r, p);
		fp_sbuf_put(b, ",\"request\":", 11);
		fp_sbuf_json_quote(b, (const uint8_t *)desc, strlen(desc));
		fp_sbuf_put(b, ",\"field\":", 9);
		fp_sbuf_json_quote(b, (const uint8_t *)field, strlen(field));
		fp_sbuf_put(b, ",\"recorded\":", 12);
		if (rec)
			fp_sbuf_json_quote(b, (const uint8_t *)rec, strlen(rec));
		else
			fp_sbuf_put(b, "null", 4);
		fp_sbuf_put(b, ",\"live\":", 8);
		if (live)
			fp_sbuf_json_quote(b, (const uint8_t *)live, strlen(live));
		else
			fp_sbuf_put(b, "null", 4);
		fp_sbuf_put(b, "}\n", 2);
	} else {
		if (p->cap_unique)
			fp_sbuf_printf(b, "#%" PRIu64 " ", p->cap_unique);
		fp_sbuf_printf(b, "%s: %s: recorded %s, live %s\n", pend_desc(r, p), field, rec ? rec : "none",
			       live ? live : "none");
	}
}

struct diffctx {
	struct replay *r;
	const struct pend *p;
};

static void on_diff(void *ctx, const char *field, const char *rec, const char *live)
{
	struct diffctx *d = ctx;
	diff_line(d->r, d->p, field, rec, live);
}

static void on_id(void *ctx, enum fr_id_kind kind, uint64_t rec, uint64_t live)
{
	struct diffctx *d = ctx;
	/* nodeid 0 is "no entry" and offset 0 the start, but fh 0 is a handle like any other */
	if ((rec || kind == FR_ID_FH) && fr_map_put(&d->r->ids[kind], rec, live) < 0)
		d->r->failed = 1;
}

static void pend_free(struct replay *r, struct pend *p)
{
	/* one still waiting in the send batch is sent without it */
	for (unsigned i = 0; i < r->q.n; i++)
		if (r->q.p[i] == p)
			r->q.p[i] = NULL;
	fr_map_del(&r->by_cap, p->cap_unique);
	fr_map_del(&r->by_live, p->live_unique);
	if (p->prev)
		p->prev->next = p->next;
	else
		r->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		r->tail = p->prev;
	free(p->desc);
	free(p->path);
	free(p->rec);
	free(p->live);
	free(p);
}

struct lintctx {
	struct replay *r;
	const struct pend *p;
};

/* A lint violation in what the daemon wrote. */
static void on_lint(void *ctx, const struct fp_msg *m, const char *rule, const char *text)
{
	struct lintctx *c = ctx;
	struct replay *r = c->r;
	/* a reply to a request the kernel never sends cannot be judged by what the request
	 * asked: an opcode newer than the negotiated minor (the daemon answers with today's
	 * layout), or a request that does not decode (the daemon read something else) */
	static const char *const asked[] = {"bad-nodeid", "wrong-type", "long-reply", "long-write",
					    NULL};
	if (m->op && m->op->since > fp_session_conn(r->live_sess)->minor)
		return;
	for (unsigned i = 0; c->p && c->p->req_bad && asked[i]; i++)
		if (!strcmp(rule, asked[i]))
			return;
	static const struct pend notify = {.label = "notification"};
	const struct pend *p = c->p ? c->p : &notify;
	char field[48];
	snprintf(field, sizeof(field), "lint %s", rule);
	diff_line(r, p, field, "-", text);
	if (!r->violations++) {
		r->res->lint_unique = p->cap_unique;
		r->res->lint_op = c->p ? p->ri.opcode : m->opcode;
		snprintf(r->res->lint_rule, sizeof(r->res->lint_rule), "%s", rule);
	}
}

/* Feed a live message to the live session: INIT always (for the daemon's version), every
 * message with --lint, whose rules then see it. Violations count only in what the daemon
 * wrote: the requests are ours (and a fuzzer's are wrong on purpose). */
static void live_feed(struct replay *r, enum fp_origin from, const uint8_t *buf, size_t len,
		      uint32_t opcode, const struct pend *p)
{
	if (!r->lint && opcode != FP_INIT)
		return;
	if (fp_session_feed(r->live_sess, &r->b, from, buf, len, fr_now_mono()) < 0) {
		r->failed = 1;
		return;
	}
	if (opcode == FP_INIT && from == FP_FROM_DAEMON)
		r->live_conn = *fp_session_conn(r->live_sess);
	if (r->lint) {
		struct lintctx c = {r, p};
		fp_lint_check(r->lint, &r->b, from, fp_session_conn(r->live_sess),
			      from == FP_FROM_DAEMON ? on_lint : NULL, &c);
	}
}

/* Both replies are there: compare them, learn the ids, and let the request go. */
static void settle(struct replay *r, struct pend *p)
{
	int st = fp_decode(&r->a, p->rec, p->reclen, FP_FROM_DAEMON, &p->rec_conn, &p->ri);
	int lt = st < 0 ? -1 : fp_decode(&r->b, p->live, p->livelen, FP_FROM_DAEMON, &r->live_conn, &p->ri);
	if (st < 0 || lt < 0) {
		fprintf(stderr, "fusereplay: out of memory\n");
		r->failed = 1;
		pend_free(r, p);
		return;
	}
	struct diffctx d = {r, p};
	unsigned n = fr_compare(&r->o->cmp, &r->a, p->rec_snapped, &r->b, on_diff, on_id, &d);
	if (n)
		r->differing++;
	else
		r->equal++;
	if (!n && r->o->verbose)
		fp_sbuf_printf(&r->out, r->o->json ?
			       "{\"type\":\"equal\",\"unique\":%" PRIu64 "}\n" : "#%" PRIu64 " %s: equal\n",
			       p->cap_unique, pend_desc(r, p));
	pend_free(r, p);
}

/* What a request came to when one side never answered. */
static void unanswered(struct replay *r, struct pend *p, const char *live_why)
{
	if (!p->have_live) {
		/* a request the daemon never answers is reported even when the capture has no
		 * reply either: it hung then too, and a reproducer of a hang must show it */
		struct fp_sbuf rec = {0};
		if (p->have_rec &&
		    fp_decode(&r->a, p->rec, p->reclen, FP_FROM_DAEMON, &p->rec_conn, &p->ri) >= 0) {
			const char *n = fp_errno_name(r->a.h.error);
			fp_sbuf_printf(&rec, "= %d%s%s", r->a.h.error, n ? " " : "", n ? n : "");
		}
		diff_line(r, p, "reply", rec.s ? rec.s : p->have_rec ? "a reply" : "none", live_why);
		fp_sbuf_free(&rec);
		if (!r->missing++) {
			r->res->missing_unique = p->cap_unique;
			r->res->missing_op = p->ri.opcode;
			snprintf(r->res->missing_why, sizeof(r->res->missing_why), "%s", live_why);
		}
	} else if (r->lost) {
		r->skipped++; /* its recorded reply may be among the messages the capture lost */
	} else {
		char live[48];
		int32_t e = (int32_t)fp_load_le(p->live + 4, 4);
		const char *n = fp_errno_name(e);
		snprintf(live, sizeof(live), "= %d%s%s", e, n ? " " : "", n ? n : "");
		diff_line(r, p, "reply", NULL, live);
		r->unexpected++;
	}
	pend_free(r, p);
}

/* ------------------------------------------------------------------ the daemon */

static void reap(struct replay *r)
{
	int st;
	if (r->child_reaped)
		return;
	pid_t w = waitpid(r->child, &st, WNOHANG);
	if (w == r->child) {
		r->child_reaped = 1;
		r->child_status = st;
		if (r->pidfd >= 0)
			close(r->pidfd);
		r->pidfd = -1;
	}
	/* orphans of a daemon that went to the background are ours as subreaper */
	while (waitpid(-1, &st, WNOHANG) > 0)
		;
}

static void hand_over_done(struct replay *r)
{
	if (r->daemon_fd >= 0)
		close(r->daemon_fd); /* the daemon has its copy: its end must give us EOF */
	r->daemon_fd = -1;
}

/* The shims ask for a /dev/fuse fd ("open") and to mount ("mount"): both get the socket,
 * and nothing is mounted. */
static void on_ctl(struct replay *r)
{
	struct ft_ctl_req q;
	int got;
	while ((got = ft_ctl_accept(r->ctl_fd, &q)) != 0) {
		if (got < 0)
			continue;
		const char *verb = q.argv[0];
		if (!strcmp(verb, "open") || (!strcmp(verb, "mount") && q.argc >= 4)) {
			if (r->daemon_fd < 0) {
				ft_ctl_reply(&q, -EBUSY, -1, "fusereplay serves one connection");
				continue;
			}
			ft_ctl_reply(&q, 0, r->daemon_fd, NULL);
			if (!strcmp(verb, "mount"))
				hand_over_done(r);
		} else if (!strcmp(verb, "umount")) {
			ft_ctl_reply(&q, 0, -1, NULL);
		} else {
			ft_ctl_reply(&q, -EINVAL, -1, "unknown request");
		}
	}
}

static int start_daemon(struct replay *r, struct ft_shims *sh)
{
	char err[FT_ERRBUF_SIZE];
	int sv[2];
	size_t maxmsg;
	if (ft_socketpair(sv, FT_SOCKBUF_SIZE, &maxmsg, err) < 0) {
		fprintf(stderr, "fusereplay: %s\n", err);
		return -1;
	}
	int mi = -1;
	if (r->o->devfd) {
		mi = ft_find_mountpoint(r->o->argv);
		if (mi < 0) {
			fprintf(stderr, "fusereplay: --devfd: no argument of the daemon names an existing "
					"directory (its mountpoint) to replace with /dev/fd/N\n");
			goto fail;
		}
	} else if (ft_shims_open(sh, err) < 0) {
		fprintf(stderr, "fusereplay: %s\n", err);
		goto fail;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* the daemon's stderr elsewhere: for the fuzzer, which keeps it with a finding */
	/* ... and its stdout too: a fuzzed WRITE to fh 1 must not land in our report */
	int saved_out = -1, saved_err = -1;
	if (r->o->daemon_err >= 0) {
		saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		fflush(stdout);
		dup2(r->o->daemon_err, STDOUT_FILENO);
		dup2(r->o->daemon_err, STDERR_FILENO);
	}
	int spawned = ft_spawn(&r->child, r->o->argv, mi, r->o->devfd ? sv[1] : -1,
			       r->o->devfd ? NULL : sh->env, FT_SPAWN_SETPGRP, err);
	if (saved_out >= 0) {
		dup2(saved_out, STDOUT_FILENO);
		close(saved_out);
	}
	if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	if (spawned < 0) {
		fprintf(stderr, "fusereplay: %s\n", err);
		goto fail;
	}
	r->pidfd = pidfd_open(r->child, 0);
	r->daemon_fd = sv[1];
	r->ctl_fd = r->o->devfd ? -1 : sh->lfd;
	if (r->o->devfd)
		hand_over_done(r);
	if (ft_chan_init(&r->sock, sv[0], FT_CHAN_SOCK, FT_MSG_MAX) < 0) {
		fprintf(stderr, "fusereplay: socket: %s\n", strerror(errno));
		close(sv[0]);
		return -1;
	}
	/* who wrote each message (fusedump shows it) is of no use here, and costs every recv */
	int off = 0;
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &off, sizeof(off));
	r->sock_open = 1;
	return 0;
fail:
	close(sv[0]);
	close(sv[1]);
	return -1;
}

/* Let the daemon go: close our end (it reads the end of its connection), give it time
 * to exit, then SIGTERM and SIGKILL its process group. Returns the last signal sent, or
 * 0 when it ended by itself. */
static int stop_daemon(struct replay *r)
{
	if (r->sock_open) {
		close(r->sock.fd);
		ft_chan_free(&r->sock);
		r->sock_open = 0;
	}
	hand_over_done(r);
	uint64_t until = fr_now_mono() + (r->o->exit_grace_ns ? r->o->exit_grace_ns : EXIT_GRACE_NS);
	int sig = 0;
	for (;;) {
		reap(r);
		if (r->child_reaped)
			break;
		if (fr_now_mono() >= until) {
			if (sig == SIGKILL)
				break;
			sig = sig ? SIGKILL : SIGTERM;
			kill(-r->child, sig);
			until = fr_now_mono() + 2 * NS_PER_S;
		}
		/* it may still ask the shims to unmount on its way out */
		struct pollfd p[2] = {{.fd = r->pidfd, .events = POLLIN},
				      {.fd = r->ctl_fd, .events = POLLIN}};
		if (poll(p, 2, 50) > 0 && (p[1].revents & POLLIN))
			on_ctl(r);
	}
	return sig;
}

/* ------------------------------------------------------------------ requests */

/* The request's bytes as the live daemon must see them: unique renumbered, ids mapped.
 * Returns 0, or 1 when it cannot be sent (an INTERRUPT of a request already answered). */
static int rewrite(struct replay *r, const struct fp_msg *m, uint8_t *buf, uint64_t unique)
{
	int dir_op = m->opcode == FP_READDIR || m->opcode == FP_READDIRPLUS;
	/* an INTERRUPT's own unique is odd; one whose target is cut off gets one that no
	 * request will ever have */
	if (m->opcode == FP_INTERRUPT && m->buflen >= 16)
		fp_store_le(buf + 8, 8, (UINT64_C(1) << 62) | (r->sent << 1) | 1);
	for (uint32_t i = 0; i < m->nv; i++) {
		const struct fp_val *v = &m->v[i];
		if (!fp_kind_is_int(v->f->kind) || (v->vflags & FP_V_OWNED))
			continue;
		unsigned w = fp_kind_width(v->f->kind);
		uint64_t to;
		if (i <= m->v[0].nsub && !strcmp(v->f->name, "unique")) {
			if (m->opcode != FP_INTERRUPT)
				fp_store_le(buf + v->off, w, unique);
			continue;
		}
		if (m->opcode == FP_INTERRUPT && !strcmp(v->f->name, "unique")) {
			/* the live unique of the request it interrupts; none when that one is
			 * answered already; as recorded when the capture never sent it */
			uint64_t pp;
			if (!fr_map_get(&r->by_cap, v->u, &pp)) {
				if (v->u <= r->max_cap_unique)
					return 1;
				fp_store_le(buf + 8, 8, v->u | 1);
				continue;
			}
			struct pend *t = (struct pend *)(uintptr_t)pp;
			if (t->have_live || t->timed_out)
				return 1;
			fp_store_le(buf + v->off, w, t->live_unique);
			fp_store_le(buf + 8, 8, t->live_unique | 1);
			continue;
		}
		int k = fr_id_kind(v->f, FP_REQUEST);
		if (dir_op && !strcmp(v->f->name, "offset"))
			k = FR_ID_OFF;
		if (k >= 0 && fr_map_get(&r->ids[k], v->u, &to))
			fp_store_le(buf + v->off, w, to);
	}
	return 0;
}

/* May the next request go now? */
static int may_send(const struct replay *r, uint64_t cap_ts)
{
	if (r->barrier || r->outstanding >= r->o->concurrency)
		return 0;
	if (r->o->speed == FR_SPEED_ORIGINAL && r->cap_t0 && cap_ts > r->cap_t0 &&
	    fr_now_mono() - r->t0 < cap_ts - r->cap_t0)
		return 0;
	return 1;
}

static void drain(struct replay *r);
static void flush(struct replay *r);

/* Send one request; while the socket is full, take in what the daemon writes (it may be
 * blocked on writing a reply), for at most the reply timeout. */
static int send_all(struct replay *r, const uint8_t *buf, size_t len)
{
	uint64_t until = fr_now_mono() + r->o->timeout_ns;
	while (ft_chan_send(&r->sock, buf, len) < 0) {
		if (errno != EAGAIN)
			return -1;
		struct pollfd p = {.fd = r->sock.fd, .events = POLLOUT | POLLIN};
		if (poll(&p, 1, 100) > 0 && (p.revents & POLLIN))
			drain(r);
		if (!r->sock_open) {
			errno = EPIPE;
			return -1;
		}
		if (fr_now_mono() > until) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* A request that could not be sent: it will have no reply. */
static void send_failed(struct replay *r, struct pend *p)
{
	if (!r->daemon_end[0])
		snprintf(r->daemon_end, sizeof(r->daemon_end), "none (sending failed: %s)",
			 strerror(errno));
	if (!p || p->have_live || p->timed_out)
		return; /* answered already (a daemon may answer a unique before it is sent) */
	p->timed_out = 1;
	r->outstanding--;
	if (p->have_rec) {
		r->barrier--;
		unanswered(r, p, r->daemon_end);
	}
}

/* Send the requests waiting in the batch: sendmmsg(2), and while the socket is full, take
 * in what the daemon writes. */
static void flush(struct replay *r)
{
	unsigned done = 0;
	uint64_t until = fr_now_mono() + r->o->timeout_ns;
	while (done < r->q.n) {
		struct mmsghdr mm[BATCH];
		struct iovec iov[BATCH];
		unsigned n = r->q.n - done;
		for (unsigned i = 0; i < n; i++) {
			iov[i] = (struct iovec){r->q.data + r->q.off[done + i], r->q.size[done + i]};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int k = r->sock_open ? sendmmsg(r->sock.fd, mm, n, MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
		if (!r->sock_open)
			errno = EPIPE;
		if (k > 0) {
			done += (unsigned)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN && fr_now_mono() < until) {
			struct pollfd pf = {.fd = r->sock.fd, .events = POLLOUT | POLLIN};
			if (poll(&pf, 1, 100) > 0 && (pf.revents & POLLIN))
				drain(r);
			continue;
		}
		if (k < 0 && errno == EAGAIN)
			errno = ETIMEDOUT;
		for (; done < r->q.n; done++)
			send_failed(r, r->q.p[done]);
	}
	r->q.n = 0;
	r->q.len = 0;
}

/* Send the captured request c (already fed to the recorded session as r->req). */
static void send_request(struct replay *r, const struct fp_cap_msg *c)
{
	struct fp_msg *m = &r->req;
	if (!r->cap_t0)
		r->cap_t0 = c->ts_ns;
	if (m->opcode == FP_NOTIFY_REPLY) {
		r->skipped++; /* answers a RETRIEVE of the recorded daemon, not of this one */
		return;
	}
	memcpy(r->buf, c->buf, c->len);
	uint64_t unique = r->next_unique, pp;
	/* a unique the capture reuses while it is in flight goes out as the same live one */
	int dup = fr_map_get(&r->by_cap, m->h.unique, &pp);
	if (dup)
		unique = ((struct pend *)(uintptr_t)pp)->live_unique;
	if (rewrite(r, m, r->buf, unique)) {
		r->skipped++;
		return;
	}
	if (m->h.unique > r->max_cap_unique)
		r->max_cap_unique = m->h.unique;
	if (m->opcode == FP_INIT && c->len >= 44)
		r->init_major = (uint32_t)fp_load_le(c->buf + 40, 4);
	int noreply = dup || (m->op && (m->op->flags & FP_OP_NOREPLY));
	struct pend *p = NULL;
	if (!noreply) {
		p = calloc(1, sizeof(*p) + c->len);
		if (!p || (m->path_known && !(p->path = strdup(m->path)))) {
			free(p);
			fprintf(stderr, "fusereplay: out of memory\n");
			r->failed = 1;
			return;
		}
		memcpy(p + 1, c->buf, c->len);
		p->req = (const uint8_t *)(p + 1);
		p->reqlen = c->len;
		p->req_conn = *fp_session_conn(r->rec_sess);
		p->cap_unique = m->h.unique;
		p->live_unique = unique;
		p->req_bad = m->status != FP_OK;
		p->ri.opcode = m->opcode;
		if (m->op && m->op->arg) {
			long i = fp_msg_find(m, m->op->arg);
			p->ri.arg = i >= 0 ? m->v[i].u : 0;
		}
		p->deadline = fr_now_mono() + r->o->timeout_ns;
		if (fr_map_put(&r->by_cap, p->cap_unique, (uintptr_t)p) < 0 ||
		    fr_map_put(&r->by_live, unique, (uintptr_t)p) < 0) {
			free(p->path);
			free(p);
			r->failed = 1;
			return;
		}
		p->prev = r->tail;
		if (r->tail)
			r->tail->next = p;
		else
			r->head = p;
		r->tail = p;
	}
	if (dup && fr_map_put(&r->dups, unique, 1) < 0)
		r->failed = 1;
	if (!dup)
		live_feed(r, FP_FROM_KERNEL, r->buf, c->len, m->opcode, p);
	if (m->opcode != FP_INTERRUPT && !dup)
		r->next_unique += UNIQUE_STEP;
	r->sent++;
	if (!r->unanswered_op)
		r->unanswered_op = m->opcode;
	if (r->o->wire)
		r->o->wire(r->o->wire_ctx, 0, r->buf, c->len);
	if (p)
		r->outstanding++;
	if (!r->sock_open) {
		errno = EPIPE; /* the daemon is gone: nothing goes out any more */
		send_failed(r, p);
		return;
	}
	/* with several requests in flight, they go out together; one at a time, at once */
	if (r->o->concurrency > 1 && c->len <= BATCH_BYTES) {
		if (r->q.n == BATCH || r->q.len + c->len > BATCH_BYTES)
			flush(r);
		memcpy(r->q.data + r->q.len, r->buf, c->len);
		r->q.off[r->q.n] = r->q.len;
		r->q.size[r->q.n] = c->len;
		r->q.p[r->q.n++] = p;
		r->q.len += c->len;
		return;
	}
	flush(r);
	if (send_all(r, r->buf, c->len) < 0)
		send_failed(r, p);
}

/* A reply (or notification) from the live daemon. */
static void live_msg(struct replay *r, const struct ft_rx *rx)
{
	if (rx->len < sizeof(struct fp_out_header)) {
		fprintf(stderr, "fusereplay: the daemon sent a message of %zu bytes (shorter than a "
			"reply header)\n", rx->len);
		return;
	}
	if (r->o->wire)
		r->o->wire(r->o->wire_ctx, 1, rx->buf, rx->len);
	r->unanswered_op = 0;
	uint64_t unique = fp_load_le(rx->buf + 8, 8), pp;
	if (!unique) { /* a notification: not compared, but the lint sees it */
		live_feed(r, FP_FROM_DAEMON, rx->buf, rx->len, 0, NULL);
		return;
	}
	if (!(unique & 1) && !fr_map_get(&r->by_live, unique, &pp) &&
	    fr_map_get(&r->dups, unique, &pp)) {
		fr_map_del(&r->dups, unique); /* the answer to the second copy of a request */
		return;
	}
	if ((unique & 1) || !fr_map_get(&r->by_live, unique, &pp)) {
		live_feed(r, FP_FROM_DAEMON, rx->buf, rx->len, 0, NULL);
		/* an INTERRUPT's answer (EAGAIN), or a unique nobody waits for */
		if (!(unique & 1)) {
			struct pend q = {.label = "a reply to a unique never sent or already answered"};
			char u[32];
			snprintf(u, sizeof(u), "%" PRIu64, unique);
			diff_line(r, &q, "reply", NULL, u);
			r->unexpected++;
		}
		return;
	}
	struct pend *p = (struct pend *)(uintptr_t)pp;
	if (p->have_live || p->timed_out)
		return; /* a second reply, or one too late: already counted */
	if (!(p->live = malloc(rx->len))) {
		r->failed = 1;
		return;
	}
	memcpy(p->live, rx->buf, rx->len);
	p->livelen = (uint32_t)rx->len;
	p->have_live = 1;
	r->outstanding--;
	live_feed(r, FP_FROM_DAEMON, rx->buf, rx->len, p->ri.opcode, p);
	/* the kernel ends the connection after an INIT reply with an error or another
	 * major: nothing after it would reach a daemon */
	if (p->ri.opcode == FP_INIT &&
	    ((int32_t)fp_load_le(rx->buf + 4, 4) != 0 ||
	     (rx->len >= 20 && fp_load_le(rx->buf + 16, 4) != r->init_major)))
		r->init_refused = 1;
	if (p->have_rec) {
		r->barrier--;
		settle(r, p);
	}
}

/* A recorded reply: kept with its request, or compared at once when the live one is in. */
static void recorded_reply(struct replay *r, const struct fp_cap_msg *c)
{
	uint64_t unique = fp_load_le(c->buf + 8, 8), pp;
	if (!unique)
		return; /* a recorded notification: not compared */
	if (!fr_map_get(&r->by_cap, unique, &pp))
		return; /* its request was not replayed (before the capture, skipped) */
	struct pend *p = (struct pend *)(uintptr_t)pp;
	if (p->have_rec)
		return;
	if (!(p->rec = malloc(c->len ? c->len : 1))) {
		r->failed = 1;
		return;
	}
	memcpy(p->rec, c->buf, c->len);
	p->reclen = c->len;
	p->rec_snapped = (c->flags & FP_CAP_F_SNAPPED) != 0;
	p->rec_conn = *fp_session_conn(r->rec_sess);
	p->have_rec = 1;
	if (p->have_live)
		settle(r, p);
	else if (p->timed_out)
		unanswered(r, p, r->daemon_end[0] ? r->daemon_end : "none in time");
	else
		r->barrier++;
}

/* Requests whose live reply is late: missing. */
static void expire(struct replay *r, uint64_t now, const char *why)
{
	char buf[128];
	if (!why) {
		snprintf(buf, sizeof(buf), "none within %" PRIu64 " s",
			 r->o->timeout_ns / NS_PER_S);
		why = buf;
	}
	struct pend *p = r->head, *next;
	for (; p; p = next) {
		next = p->next;
		if (p->have_live || p->timed_out || (now < p->deadline && !r->daemon_gone))
			continue;
		p->timed_out = 1;
		r->outstanding--;
		if (p->have_rec) {
			r->barrier--;
			unanswered(r, p, why);
		}
	}
}

/* Take in everything the daemon has written. */
static void drain(struct replay *r)
{
	while (r->sock_open) {
		struct ft_rx rx;
		int got = ft_chan_recv(&r->sock, &rx);
		if (got == FT_RECV_MSG) {
			live_msg(r, &rx);
			continue;
		}
		if (got == FT_RECV_EOF || got == FT_RECV_ERR) {
			r->daemon_gone = 1;
			close(r->sock.fd);
			ft_chan_free(&r->sock);
			r->sock_open = 0;
		}
		break;
	}
}

/* Wait for something from the daemon (or its shims) until `until` (0: just look). */
static void wait_daemon(struct replay *r, uint64_t until)
{
	struct pollfd p[3];
	int n = 0;
	if (r->sock_open)
		p[n++] = (struct pollfd){.fd = r->sock.fd, .events = POLLIN};
	int ci = -1, pi = -1;
	if (r->ctl_fd >= 0)
		ci = n, p[n++] = (struct pollfd){.fd = r->ctl_fd, .events = POLLIN};
	if (r->pidfd >= 0)
		pi = n, p[n++] = (struct pollfd){.fd = r->pidfd, .events = POLLIN};
	uint64_t now = fr_now_mono();
	int ms = until > now ? (int)((until - now + 999999) / 1000000) : 0;
	if (r->o->progress && ms > 250)
		ms = 250;
	if (poll(p, (nfds_t)n, ms) < 0 && errno != EINTR)
		return;
	if (ci >= 0 && (p[ci].revents & POLLIN))
		on_ctl(r);
	if (pi >= 0 && p[pi].revents)
		reap(r);
	drain(r);
	if (r->child_reaped && r->daemon_fd >= 0) {
		/* it ended before it took its socket: there will be no EOF */
		hand_over_done(r);
		r->daemon_gone = 1;
	}
}

/* The earliest reply deadline, or `dflt`. */
static uint64_t next_deadline(const struct replay *r, uint64_t dflt)
{
	uint64_t d = dflt;
	for (const struct pend *p = r->head; p; p = p->next)
		if (!p->have_live && !p->timed_out && p->deadline < d) {
			d = p->deadline;
			break; /* sent in order, with the same timeout: the first is the earliest */
		}
	return d;
}

static const char *gone_why(struct replay *r)
{
	if (!r->daemon_end[0]) {
		/* it closed its connection: most likely it is ending; say how, when it does */
		for (int i = 0; i < 20 && !r->child_reaped && r->pidfd >= 0; i++) {
			struct pollfd p = {.fd = r->pidfd, .events = POLLIN};
			poll(&p, 1, 50);
			reap(r);
		}
		reap(r);
		char st[64] = "";
		if (r->child_reaped)
			ft_status_str(r->child_status, st, sizeof(st));
		if (st[0])
			snprintf(r->daemon_end, sizeof(r->daemon_end), "none (the daemon ended: %s)", st);
		else
			snprintf(r->daemon_end, sizeof(r->daemon_end), "none (the daemon closed its "
				 "connection)");
	}
	return r->daemon_end;
}

/* Until the next request may go (or nothing more will come). */
static void wait_turn(struct replay *r, uint64_t cap_ts)
{
	if (!may_send(r, cap_ts))
		flush(r);
	while (!r->failed && !may_send(r, cap_ts)) {
		if (r->daemon_gone) {
			expire(r, fr_now_mono(), gone_why(r));
			if (!may_send(r, cap_ts) && r->outstanding == 0 && r->barrier == 0)
				return; /* only --speed original holds it back */
			if (r->outstanding == 0)
				return;
		}
		uint64_t until = next_deadline(r, fr_now_mono() + NS_PER_S);
		if (r->o->speed == FR_SPEED_ORIGINAL && r->cap_t0 && cap_ts > r->cap_t0) {
			uint64_t due = r->t0 + (cap_ts - r->cap_t0);
			if (due < until)
				until = due;
		}
		wait_daemon(r, until);
		expire(r, fr_now_mono(), r->daemon_gone ? gone_why(r) : NULL);
		progress(r, 0);
	}
}

static void header(struct replay *r)
{
	struct fp_sbuf ign = {0};
	fr_cmp_ignored(&r->o->cmp, &ign);
	if (r->o->json) {
		fp_sbuf_put(&r->out, "{\"type\":\"header\",\"capture\":", 27);
		fp_sbuf_json_quote(&r->out, (const uint8_t *)r->name, strlen(r->name));
		fp_sbuf_printf(&r->out, ",\"daemon_pid\":%d,\"concurrency\":%u,\"ignored\":",
			       (int)r->child, r->o->concurrency);
		fp_sbuf_json_quote(&r->out, (const uint8_t *)ign.s, ign.len);
		fp_sbuf_put(&r->out, "}\n", 2);
	} else {
		fp_sbuf_printf(&r->out, "# fusereplay %s against pid %d (%s), concurrency %u; "
			       "ignored: %s\n", r->name, (int)r->child, r->o->argv[0],
			       r->o->concurrency, ign.s);
	}
	fp_sbuf_free(&ign);
	flush_out(r);
}

/* Read the capture and replay it. Returns 0, or -1 when the capture is broken. */
static int run(struct replay *r, fr_source_fn next, void *src, struct ft_shims *sh)
{
	struct fp_cap_msg c;
	char err[512];
	int got, conn_set = 0;
	uint32_t conn = 0;
	uint64_t requests = 0;
	while (!r->failed && (got = next(src, &c, err, sizeof(err))) == 1) {
		r->lost += c.lost;
		if (!fr_peer_msg(&c, &conn, &conn_set))
			continue;
		enum fp_origin from = c.type == FP_CAP_T_KERNEL ? FP_FROM_KERNEL : FP_FROM_DAEMON;
		if (fp_session_feed(r->rec_sess, &r->req, from, c.buf, c.len, c.ts_ns) < 0) {
			fprintf(stderr, "fusereplay: out of memory\n");
			return -1;
		}
		if (from == FP_FROM_DAEMON) {
			if (c.len >= sizeof(struct fp_out_header))
				recorded_reply(r, &c);
			continue;
		}
		if (c.flags & FP_CAP_F_DROPPED)
			continue; /* the daemon never saw it */
		if (c.len > FT_MSG_MAX) {
			fprintf(stderr, "fusereplay: %s: record %" PRIu64 " at byte %" PRIu64 ": a "
				"request of %u bytes, more than the %u a FUSE connection carries\n",
				r->name, c.record, c.offset, c.len, (unsigned)FT_MSG_MAX);
			return -1;
		}
		if (c.len < c.msglen || (c.flags & FP_CAP_F_SNAPPED)) {
			fprintf(stderr, "fusereplay: %s: record %" PRIu64 " at byte %" PRIu64 ": the %s "
				"request is cut (%u of %u bytes: captured with -s?); a replay needs whole "
				"requests\n", r->name, c.record, c.offset,
				fp_op_name(r->req.opcode) ? fp_op_name(r->req.opcode) : "unknown", c.len,
				c.msglen);
			return -1;
		}
		if (!requests && r->req.opcode != FP_INIT) {
			fprintf(stderr, "fusereplay: %s: the capture starts mid-session (its first "
				"request is %s, not INIT): a fresh daemon cannot be brought to that point\n",
				r->name, fp_op_name(r->req.opcode) ? fp_op_name(r->req.opcode) : "unknown");
			return -1;
		}
		if (r->o->count && requests == r->o->count)
			break;
		if (!requests++) {
			/* the capture looks replayable: now the daemon */
			if (start_daemon(r, sh) < 0) {
				r->failed = 1;
				break;
			}
			header(r);
			r->t0 = fr_now_mono();
		}
		wait_turn(r, c.ts_ns);
		if (r->init_refused)
			break;
		if (r->daemon_gone && !r->sock_open) {
			/* nothing can be sent: what follows is missing, as the daemon is */
			send_request(r, &c);
			expire(r, fr_now_mono(), gone_why(r));
		} else {
			send_request(r, &c);
		}
		progress(r, 0);
	}
	if (got < 0) {
		if (!r->o->silent)
			fprintf(stderr, "fusereplay: %s\n", err);
		return -1;
	}
	/* the capture is done: wait for the replies still out */
	flush(r);
	while (!r->failed && r->outstanding) {
		if (r->daemon_gone)
			expire(r, fr_now_mono(), gone_why(r));
		else
			wait_daemon(r, next_deadline(r, fr_now_mono() + NS_PER_S));
		expire(r, fr_now_mono(), r->daemon_gone ? gone_why(r) : NULL);
		progress(r, 0);
	}
	char within[64];
	snprintf(within, sizeof(within), "none within %" PRIu64 " s", r->o->timeout_ns / NS_PER_S);
	while (r->head)
		unanswered(r, r->head, r->daemon_gone ? gone_why(r) :
				       r->head->timed_out ? within : "none");
	return 0;
}

static int run_before(const char *cmd)
{
	int st = system(cmd);
	if (st == 0)
		return 0;
	char why[64];
	if (st < 0)
		snprintf(why, sizeof(why), "could not be run: %s", strerror(errno));
	else
		ft_status_str(st, why, sizeof(why));
	fprintf(stderr, "fusereplay: --before '%s' %s\n", cmd, why);
	return -1;
}

static void summary(struct replay *r, double secs)
{
	double rate = secs > 0 ? (double)r->sent / secs : 0;
	if (r->lost && !r->o->json)
		fp_sbuf_printf(&r->out, "# the capture lost %" PRIu64 " messages (its writer was too "
			       "slow): requests whose recorded reply is missing are not compared\n",
			       r->lost);
	if (r->o->json)
		fp_sbuf_printf(&r->out, "{\"type\":\"summary\",\"sent\":%" PRIu64 ",\"equal\":%" PRIu64
			       ",\"differing\":%" PRIu64 ",\"missing\":%" PRIu64 ",\"unexpected\":%"
			       PRIu64 ",\"skipped\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"violations\":%" PRIu64
			       ",\"seconds\":%.3f,\"rate\":%.0f}\n",
			       r->sent, r->equal, r->differing, r->missing, r->unexpected, r->skipped,
			       r->lost, r->violations, secs, rate);
	else {
		fp_sbuf_printf(&r->out, "fusereplay: %" PRIu64 " requests sent, %" PRIu64 " equal, %"
			       PRIu64 " differing, %" PRIu64 " missing, %" PRIu64 " unexpected",
			       r->sent, r->equal, r->differing, r->missing, r->unexpected);
		if (r->skipped)
			fp_sbuf_printf(&r->out, ", %" PRIu64 " skipped", r->skipped);
		if (r->lint)
			fp_sbuf_printf(&r->out, ", %" PRIu64 " lint violations", r->violations);
		fp_sbuf_printf(&r->out, " in %.3f s (%.0f requests/s)\n", secs, rate);
	}
}

int fr_peer_msg(const struct fp_cap_msg *c, uint32_t *conn, int *seen)
{
	if (c->type == FP_CAP_T_EVENT)
		return 0;
	if (!*seen) {
		*conn = c->conn;
		*seen = 1;
	}
	return c->conn == *conn && !(c->flags & (FP_CAP_F_MODIFIED | FP_CAP_F_INJECTED));
}

int fr_capr_source(void *src, struct fp_cap_msg *m, char *err, size_t n)
{
	return fp_capr_next(src, m, err, n);
}

int fr_replay(const struct fr_replay_opts *o)
{
	char err[512];
	struct fp_capr *cr = fp_capr_open(o->capture, err, sizeof(err));
	if (!cr) {
		fprintf(stderr, "fusereplay: %s\n", err);
		return 2;
	}
	struct fr_outcome res;
	int code = fr_replay_source(o, fr_capr_source, cr, o->capture, &res);
	fp_capr_close(cr);
	return code;
}

int fr_replay_source(const struct fr_replay_opts *o, fr_source_fn next, void *src,
		     const char *name, struct fr_outcome *res)
{
	struct replay r = {.o = o, .name = name, .res = res, .next_unique = UNIQUE_STEP,
			   .ctl_fd = -1, .pidfd = -1, .daemon_fd = -1};
	memset(res, 0, sizeof(*res));
	if (o->before && run_before(o->before) < 0)
		return 2;
	struct ft_shims sh = {.lfd = -1};
	int code = 2;
	r.rec_sess = fp_session_new();
	r.live_sess = fp_session_new();
	r.buf = malloc(FT_MSG_MAX);
	r.q.data = malloc(BATCH_BYTES);
	fp_msg_init(&r.req);
	fp_msg_init(&r.a);
	fp_msg_init(&r.b);
	fp_msg_init(&r.d);
	r.live_conn = FP_CONN_NEWEST;
	if (o->lint)
		r.lint = fp_lint_new();
	if (!r.rec_sess || !r.live_sess || !r.buf || !r.q.data || (o->lint && !r.lint) ||
	    fr_map_put(&r.ids[FR_ID_NODEID], 1, 1) < 0) {
		fprintf(stderr, "fusereplay: out of memory\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	int broken = run(&r, next, src, &sh) < 0;
	if (!r.child) {
		if (!broken && !r.failed && !o->silent)
			fprintf(stderr, "fusereplay: %s: no request to replay\n", name);
		goto out;
	}
	res->started = 1;
	double secs = (double)(fr_now_mono() - r.t0) / NS_PER_S;
	reap(&r);
	int ended_first = r.child_reaped; /* before we let go of its connection */
	int sig = stop_daemon(&r);
	/* a daemon that crashed, or failed before the end, is a difference even when every
	 * reply was in; after the end, an exit status is only the daemon's view of an EOF on
	 * its socket (libfuse without the shims: "short read on fuse device", status 1) */
	if (!sig && r.child_reaped && (WIFSIGNALED(r.child_status) ||
				       (ended_first && WEXITSTATUS(r.child_status)))) {
		char st[64];
		ft_status_str(r.child_status, st, sizeof(st));
		struct pend q = {.label = "daemon"};
		diff_line(&r, &q, "exit", "none", st);
		r.differing++;
		res->crashed = 1;
		res->crash_op = r.unanswered_op;
	} else if (sig) {
		struct pend q = {.label = "daemon"};
		diff_line(&r, &q, "exit", "none", sig == SIGKILL ? "none (SIGTERM did not end it, "
			  "SIGKILL did)" : "none soon after the end of its connection (SIGTERM ended "
			  "it)");
		r.differing++;
		res->stuck = 1;
	}
	res->reaped = r.child_reaped;
	res->status = r.child_status;
	res->closed = r.daemon_gone && !res->crashed;
	clear_progress(&r);
	summary(&r, secs);
	flush_out(&r);
	if (broken || r.failed)
		code = 2;
	else
		code = r.differing || r.missing || r.unexpected || r.violations ? 1 : 0;
out:
	res->sent = r.sent;
	res->equal = r.equal;
	res->differing = r.differing;
	res->missing = r.missing;
	res->unexpected = r.unexpected;
	res->skipped = r.skipped;
	res->violations = r.violations;
	while (r.head)
		pend_free(&r, r.head);
	if (r.sock_open) {
		close(r.sock.fd);
		ft_chan_free(&r.sock);
	}
	if (r.daemon_fd >= 0)
		close(r.daemon_fd);
	if (r.pidfd >= 0)
		close(r.pidfd);
	ft_shims_close(&sh);
	fp_session_free(r.rec_sess);
	fp_session_free(r.live_sess);
	fp_lint_free(r.lint);
	fp_msg_free(&r.req);
	fp_msg_free(&r.a);
	fp_msg_free(&r.b);
	fp_msg_free(&r.d);
	for (int k = 0; k < FR_ID_KINDS; k++)
		fr_map_free(&r.ids[k]);
	fr_map_free(&r.by_cap);
	fr_map_free(&r.by_live);
	fr_map_free(&r.dups);
	free(r.buf);
	free(r.q.data);
	fp_sbuf_free(&r.out);
	return code;
}
