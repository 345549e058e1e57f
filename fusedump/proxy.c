/* The proxy loop: one thread, one poll() over /dev/fuse, the daemon's socket, the shims'
 * control socket, a signalfd and the daemon's pidfds. Every message is forwarded as it was
 * read (except for the INIT and OPEN edits of rewrite.c) and then decoded once and handed
 * to the trace writer (out.c), which writes in a thread of its own.
 *
 * One thread forwards both ways, on purpose: the time a message waits is the syscalls
 * that move it, since decoding and formatting happen after it has gone, while the other
 * side works on it; a splice-fragmented reply can only be put back together because one
 * thread reads the socket; and what costs most on small machines is not copying but
 * waking threads on other CPUs, which the loop avoids by polling for a moment after each
 * message (spin_ns) before it sleeps.
 *
 * With --mirror the same loop forwards nothing: the daemon holds /dev/fuse, and the loop
 * reads the copies of its messages from the ring of fusetransport/mirror.h every
 * MIRROR_EVERY_MS, and learns of the end of the filesystem from the daemon's own end.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/le.h"
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/optable.h"
#include "fuseproto/session.h"
#include "fusetransport/chan.h"
#include "fusetransport/ctl.h"
#include "fusetransport/daemon.h"
#include "fusetransport/mirror.h"
#include "lua.h"
#include "proxy.h"
#include "rewrite.h"

#define BURST 64                        /* messages per side per wakeup */
#define SEC 1000000000ull
#define DRAIN_NS (5 * SEC)              /* after the kernel left: wait this long for the socket EOF */
#define REAP_NS (10 * SEC)              /* then for the processes, before SIGKILL */
#define ESCALATE_NS (5 * SEC)           /* between later escalation steps */
#define MOUNT_HINT_NS (10 * SEC)        /* no mount request after this long: say why */
#define FLUSH_NS (SEC / 4)              /* --mirror: wake the trace writer at least this often */
#define BG_WAIT_NS (10 * SEC)           /* --mirror: for a daemon gone to the background to read */
#define MIRROR_EVERY_MS 25              /* --mirror: read the ring this often (its bursts
					 * of decoding cost the filesystem less than
					 * frequent small ones) */

enum phase {
	PH_MOUNTWAIT,  /* the daemon runs, has not asked through a shim to mount yet */
	PH_RUN,        /* both sides up */
	PH_UNMOUNTING, /* we unmounted (maybe lazily): serve until the kernel lets go */
	PH_DRAIN,      /* the kernel is gone, the daemon told (EOF, SIGTERM): read until EOF */
	PH_REAP,       /* both channels closed: wait for the daemon's processes */
	PH_DONE,
};

/* A process we wait for: the spawned child, or the pid that writes the socket (which is
 * another one when the daemon went to the background). */
struct proc {
	pid_t pid;     /* 0: none */
	int pidfd;     /* -1 when pidfd_open failed or once it ended */
	int done;      /* it has ended */
	int reaped;    /* status is valid */
	int status;
	int term_sent; /* we sent it SIGTERM */
	int kill_sent; /* we sent it SIGKILL */
};

/* Processes reaped before we knew they mattered (a writer seen after it died). */
#define RECENT 16

/* A message a script delayed: forwarded (or, for an answer, written to the kernel) when
 * it is due. */
struct held {
	uint64_t due;        /* CLOCK_MONOTONIC ns */
	int to_kernel;       /* 1: write to /dev/fuse; 0: send to the daemon */
	int injected;        /* an answer made by a script (printed when written) */
	uint64_t unique;     /* of the request (answer) it is or answers */
	uint8_t *buf;
	size_t len;
};

struct loop {
	struct fd_proxy *p;
	struct ft_chan dev, sock;
	int dev_open, sock_open;
	struct fp_session *s;
	struct fp_msg m;
	enum phase ph;
	int pending;          /* a request read from /dev/fuse waits for room in the socket */
	struct ft_rx pend;
	uint64_t printed;
	const char *stop_why; /* a stop asked for while handling a message, done in step() */
	int stops;
	int daemon_died;      /* the socket closed while the kernel was still there */
	int failed;           /* something went wrong that makes the exit status 1 */
	int shim_mounted;     /* the daemon mounted through a shim, not --devfd */
	int preloaded;        /* through the LD_PRELOAD library, which turns the socket's end
			       * of file into ENODEV */
	int hinted;           /* said that no mount request came yet */
	int out_failed;
	uint64_t deadline;    /* CLOCK_MONOTONIC ns; 0: none */
	uint64_t last_msg;    /* CLOCK_MONOTONIC ns of the last message forwarded */
	int esc;              /* PH_REAP escalation: 0 wait, 1 SIGTERM sent, 2 SIGKILL sent */
	struct proc child, writer;
	struct {
		pid_t pid;
		int status;
	} recent[RECENT];
	unsigned nrecent;
	/* --lua */
	struct held *held;    /* delayed messages, in no order */
	size_t nheld;
	uint64_t *dropped;    /* requests dropped by scripts, waiting for nothing (or INTERRUPT) */
	size_t ndropped;
	/* --mirror */
	uint8_t *zero;        /* FT_MSG_MAX bytes of zeros, to put cut messages back at length */
	uint64_t mirror_lost; /* ft_mirror_lost() last said */
	unsigned drained;     /* messages the last read of the ring had (DRAIN_MAX: more wait) */
	int mirror_idle;      /* our threads run as SCHED_IDLE */
	uint64_t flushed;     /* CLOCK_MONOTONIC ns when the trace writer was last woken */
	uint64_t bg_wait;     /* the spawned daemon exited 0 with no writer known: wait for
			       * the one it left until then (CLOCK_MONOTONIC ns) */
};

static uint64_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

#define EVENT(l, name, unique, ...) \
	fd_out_event((l)->p->out, fd_now_real(), name, unique, __VA_ARGS__)

static const char *opname(uint32_t opcode, char *buf, size_t n)
{
	const char *s = fp_op_name(opcode);
	if (s)
		return s;
	snprintf(buf, n, "opcode %u", opcode);
	return buf;
}

/* ------------------------------------------------------------------ processes */

static void proc_set(struct proc *pr, pid_t pid)
{
	memset(pr, 0, sizeof(*pr));
	pr->pid = pid;
	pr->pidfd = pid > 0 ? pidfd_open(pid, 0) : -1;
}

static void proc_close(struct proc *pr)
{
	if (pr->pidfd >= 0)
		close(pr->pidfd);
	pr->pidfd = -1;
}

static void proc_ended(struct proc *pr, int reaped, int status)
{
	pr->done = 1;
	pr->reaped = reaped;
	pr->status = status;
	proc_close(pr);
}

/* How events name a process: "daemon" for the one that writes the socket, "spawned" for
 * the one we started when that is another (it went to the background) or not known yet. */
static const char *proc_label(const struct loop *l, pid_t pid)
{
	return pid == l->writer.pid ? "daemon" : "spawned";
}

/* Signal pr if it is still running. Through its pidfd, so that a recycled pid is never
 * hit; without one (pidfd_open failed), by pid, which is safe for a child not yet reaped.
 * Returns 1 when the signal was sent. */
static int proc_signal(struct loop *l, struct proc *pr, int sig)
{
	if (!pr->pid || pr->done)
		return 0;
	int r;
	if (pr->pidfd >= 0)
		r = pidfd_send_signal(pr->pidfd, sig, NULL, 0);
	else
		r = kill(pr->pid, sig);
	if (r < 0)
		return 0;
	if (sig == SIGTERM)
		pr->term_sent = 1;
	if (sig == SIGKILL)
		pr->kill_sent = 1;
	EVENT(l, "signal", 0, "sent SIG%s to %s pid %d", sigabbrev_np(sig), proc_label(l, pr->pid),
	      (int)pr->pid);
	return 1;
}

/* The process that is "the daemon": the writer of the socket once known, else the child. */
static struct proc *daemon_proc(struct loop *l)
{
	return l->writer.pid ? &l->writer : &l->child;
}

static void reap(struct loop *l)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		int ours = 0;
		if (pid == l->child.pid && !l->child.done) {
			proc_ended(&l->child, 1, st);
			ours = 1;
		}
		if (pid == l->writer.pid && !l->writer.done) {
			proc_ended(&l->writer, 1, st);
			ours = 1;
		}
		if (ours) {
			char sb[64];
			const struct proc *pr = pid == l->writer.pid ? &l->writer : &l->child;
			EVENT(l, "exit", 0, "%s pid %d %s%s", proc_label(l, pid), (int)pid,
			      ft_status_str(st, sb, sizeof(sb)),
			      pr->term_sent ? " (after our SIGTERM)" : "");
		} else {
			/* an orphan we inherited as subreaper, or a writer not seen yet */
			unsigned i = l->nrecent++ % RECENT;
			l->recent[i].pid = pid;
			l->recent[i].status = st;
		}
	}
}

/* A pidfd became readable: that process ended. Reap it if it is our child. */
static void proc_check(struct loop *l, struct proc *pr)
{
	if (pr->done)
		return;
	reap(l);
	if (pr->done)
		return;
	int st;
	pid_t r = waitpid(pr->pid, &st, WNOHANG);
	if (r == pr->pid) {
		char sb[64];
		proc_ended(pr, 1, st);
		EVENT(l, "exit", 0, "%s pid %d %s", proc_label(l, pr->pid), (int)pr->pid,
		      ft_status_str(st, sb, sizeof(sb)));
	} else if (r < 0 && errno == ECHILD) {
		proc_ended(pr, 0, 0);
		EVENT(l, "exit", 0, "%s pid %d ended (not our child: status unknown)",
		      proc_label(l, pr->pid), (int)pr->pid);
	}
}

/* SCM_CREDENTIALS named the pid that wrote the last message. */
static void track_writer(struct loop *l, pid_t pid)
{
	if (pid <= 0 || pid == l->writer.pid)
		return;
	proc_close(&l->writer);
	proc_set(&l->writer, pid);
	for (unsigned i = 0; i < RECENT && i < l->nrecent; i++)
		if (l->recent[i].pid == pid)
			proc_ended(&l->writer, 1, l->recent[i].status);
	if (pid == l->child.pid) {
		if (l->child.done)
			proc_ended(&l->writer, l->child.reaped, l->child.status);
	} else {
		EVENT(l, "daemon", 0, "daemon pid %d writes %s (spawned as pid %d)", (int)pid,
		      l->p->mirror ? "/dev/fuse" : "the socket", (int)l->child.pid);
	}
	/* First heard of after the kernel went away (a daemon that was still going to the
	 * background then): it is owed the SIGTERM that the others got. */
	if (l->ph == PH_DRAIN && !l->writer.term_sent)
		proc_signal(l, &l->writer, SIGTERM);
}

/* ------------------------------------------------------------------ shutdown */

/* Remove our mount if it is still there. */
static void unmount_final(struct loop *l)
{
	char err[FT_ERRBUF_SIZE];
	int lazy = 0;
	int r = ft_kernel_unmount(l->p->k, &lazy, err);
	if (r < 0) {
		EVENT(l, "unmount", 0, "unmount failed: %s", err);
		fprintf(stderr, "fusedump: %s\n", err);
		l->failed = 1;
	} else if (r > 0) {
		EVENT(l, "unmount", 0, "unmounted %s%s", l->p->k->mountpoint,
		      lazy ? " lazily (it was busy)" : "");
	}
}

static void close_dev(struct loop *l)
{
	if (!l->dev_open)
		return;
	ft_kernel_close(l->p->k);
	l->dev_open = 0;
	l->pending = 0; /* a request still waiting for the socket died with the connection */
}

static void close_sock(struct loop *l)
{
	if (!l->sock_open)
		return;
	close(l->p->sock_fd);
	l->p->sock_fd = -1;
	l->sock_open = 0;
}

/* The kernel side ended: the filesystem was unmounted (or the connection aborted). The
 * daemon cannot learn that from a socket, so it gets SIGTERM, which libfuse daemons take
 * as the end of their loop. */
static void kernel_gone(struct loop *l, const char *why)
{
	EVENT(l, "kernel", 0, "%s", why);
	close_dev(l);
	unmount_final(l);
	/* A daemon that mounted through a shim ends at the end of file on its socket (the
	 * LD_PRELOAD shim turns it into ENODEV, as /dev/fuse would; go-fuse ends its loop),
	 * and gets SIGTERM only if it is still there at the deadline: told at once, gocryptfs
	 * tries to unmount what is gone and exits 15. Any other gets SIGTERM now, and the end
	 * of file too, which wakes the readers of a daemon that waits for its loop to end. */
	if (l->sock_open && (l->shim_mounted || proc_signal(l, daemon_proc(l), SIGTERM))) {
		shutdown(l->p->sock_fd, SHUT_WR);
		if (l->shim_mounted)
			EVENT(l, "daemon", 0,
			      "closed the daemon's side of the socket: it reads %s and ends",
			      l->preloaded ? "ENODEV" : "the end of file");
		l->ph = PH_DRAIN;
		l->deadline = now_mono() + DRAIN_NS;
	} else {
		/* Nobody to signal: the daemon went to the background and never wrote, so its
		 * pid is unknown. The end of file on its socket is all it can be told. */
		close_sock(l);
		l->ph = PH_REAP;
		l->deadline = now_mono() + REAP_NS;
		l->esc = 1;
	}
}

/* The daemon closed the socket while the filesystem was still there: it died. Close
 * /dev/fuse first, so that requests in flight fail with ENOTCONN (as when a daemon dies
 * without a proxy), then remove the mount. */
static void daemon_gone(struct loop *l, const char *why)
{
	EVENT(l, "daemon", 0, "%s", why);
	l->daemon_died = 1;
	close_sock(l);
	close_dev(l);
	unmount_final(l);
	l->ph = PH_REAP;
	l->deadline = now_mono() + ESCALATE_NS;
	l->esc = 0;
}

/* --mirror: the daemon, which holds /dev/fuse, is to end now: SIGTERM (libfuse ends its
 * loop, and /dev/fuse closes with it, which ends the connection). */
static void mirror_end_daemon(struct loop *l, const char *why)
{
	EVENT(l, "stop", 0, "%s", why);
	proc_signal(l, daemon_proc(l), SIGTERM);
	l->ph = PH_DRAIN;
	l->deadline = now_mono() + DRAIN_NS;
}

/* SIGINT, SIGTERM, SIGHUP, -c, or a failed output: unmount and let the daemon end. */
static void stop(struct loop *l, const char *why)
{
	l->stops++;
	switch (l->ph) {
	case PH_RUN: {
		char err[FT_ERRBUF_SIZE];
		int lazy = 0;
		EVENT(l, "stop", 0, "%s: unmounting %s", why, l->p->k->mountpoint);
		int r = ft_kernel_unmount(l->p->k, &lazy, err);
		if (r < 0) {
			EVENT(l, "unmount", 0, "unmount failed: %s; closing /dev/fuse", err);
			fprintf(stderr, "fusedump: %s\n", err);
			l->failed = 1;
			if (l->p->mirror) {
				mirror_end_daemon(l, "ending the daemon");
				return;
			}
			close_dev(l);
			kernel_gone(l, "closed /dev/fuse");
			return;
		}
		if (r > 0)
			EVENT(l, "unmount", 0, "unmounted %s%s", l->p->k->mountpoint,
			      !lazy ? "" : l->p->mirror ? " lazily (busy: the daemon serves until its "
				"last user lets go; signal again to end the daemon)" :
				" lazily (busy: serving until its last user lets go; signal again to "
				"close /dev/fuse)");
		l->ph = PH_UNMOUNTING;
		if (l->p->mirror && !lazy) {
			/* the daemon reads ENODEV and ends */
			l->ph = PH_DRAIN;
			l->deadline = now_mono() + DRAIN_NS;
		}
		break;
	}
	case PH_MOUNTWAIT:
		EVENT(l, "stop", 0, "%s before the daemon mounted: ending it", why);
		close_sock(l);
		l->ph = PH_REAP;
		l->deadline = now_mono();
		l->esc = 0;
		break;
	case PH_UNMOUNTING:
		if (l->p->mirror) {
			mirror_end_daemon(l, "again: ending the daemon, which closes /dev/fuse: "
					     "requests in flight fail with ENOTCONN");
			break;
		}
		EVENT(l, "stop", 0, "%s again: closing /dev/fuse", why);
		close_dev(l);
		kernel_gone(l, "closed /dev/fuse: requests in flight fail with ENOTCONN");
		break;
	case PH_DRAIN:
	case PH_REAP:
		l->deadline = now_mono(); /* hurry up the escalation */
		break;
	case PH_DONE:
		break;
	}
}

/* ------------------------------------------------------------------ messages */

/* Decode one message, seen at ts_ns, into l->m, count it and print it. Returns 0, or -1
 * when it could not be decoded (out of memory; it is still forwarded). */
static int feed_at(struct loop *l, enum fp_origin from, const uint8_t *buf, size_t len,
		   uint64_t ts_ns, int count, unsigned mark)
{
	if (fp_session_feed(l->s, &l->m, from, buf, len, ts_ns) < 0) {
		EVENT(l, "error", 0, "out of memory while decoding a %zu-byte message", len);
		return -1;
	}
	if (count)
		fd_stats_msg(l->p->stats, &l->m, from, len);
	uint64_t max = l->p->count;
	if (!max || l->printed < max) {
		fd_out_msg(l->p->out, &l->m, fp_session_negotiated(l->s), mark);
		if (++l->printed == max && !l->stop_why)
			l->stop_why = "-c count reached";
	}
	return 0;
}

/* The same, seen now. */
static int feed(struct loop *l, enum fp_origin from, const uint8_t *buf, size_t len, int count,
		unsigned mark)
{
	return feed_at(l, from, buf, len, fd_now_real(), count, mark);
}

/* The kernel refused a reply or notification of the daemon's (errno e). */
static void refused(struct loop *l, uint64_t unique, int e)
{
	l->p->stats->write_failed++;
	if (e == ENODEV || e == ECONNABORTED)
		return; /* the end of the connection, which is said otherwise */
	EVENT(l, "write_failed", unique, "#%" PRIu64 ": the kernel refused the %s: %s%s", unique,
	      unique ? "reply" : "notification", strerror(e),
	      e == ENOENT ? " (nobody waits for it any more: interrupted or aborted)" :
	      e == EINVAL ? " (malformed)" : "");
}

/* Write a reply or notification that fusedump (or a script) made to the kernel, printed
 * as injected. Returns 0 or the kernel's errno. */
static int inject(struct loop *l, const uint8_t *buf, size_t len)
{
	feed(l, FP_FROM_DAEMON, buf, len, 0, FD_MARK_INJECTED);
	if (!l->dev_open)
		return ENODEV;
	if (ft_chan_send(&l->dev, buf, len) == 0)
		return 0;
	int e = errno;
	uint64_t unique = len >= 16 ? fp_load_le(buf + 8, 8) : 0;
	EVENT(l, "write_failed", unique, "#%" PRIu64 ": the kernel refused the injected %s: %s",
	      unique, unique ? "reply" : "notification", strerror(e));
	return e;
}

/* Answer request `unique` with -err in the daemon's place. */
static void answer_errno(struct loop *l, uint64_t unique, int err)
{
	/* fuse_out_header { u32 len = 16; s32 error; u64 unique } */
	uint8_t r[16];
	fp_store_le(r, 4, 16);
	fp_store_le(r + 4, 4, (uint32_t)-err);
	fp_store_le(r + 8, 8, unique);
	inject(l, r, sizeof(r));
}

/* The socket refused a request for good: answer it with -EIO so that the caller never
 * hangs (unless it takes no reply), and say so. */
static void fail_request(struct loop *l, const uint8_t *buf, size_t len, int err)
{
	if ((err == EPIPE || err == ECONNRESET) && l->dev_open) {
		/* The daemon is gone, and the end of file on its socket is not read yet. As when
		 * it is: /dev/fuse is closed, which fails this request with ECONNABORTED, as
		 * with any dead daemon, rather than EIO from us. */
		char why[160];
		snprintf(why, sizeof(why), "the daemon closed the socket (send: %s) while the "
			 "filesystem was mounted", strerror(err));
		daemon_gone(l, why);
		return;
	}
	l->p->stats->send_failed++;
	if (len < 16) {
		EVENT(l, "send_failed", 0, "a %zu-byte request could not be sent to the daemon: %s",
		      len, strerror(err));
		return;
	}
	uint32_t opcode = (uint32_t)fp_load_le(buf + 4, 4);
	uint64_t unique = fp_load_le(buf + 8, 8);
	char nb[32];
	const char *name = opname(opcode, nb, sizeof(nb));
	const struct fp_op *op = fp_op_get(opcode);
	if (op && (op->flags & FP_OP_NOREPLY)) {
		EVENT(l, "send_failed", unique,
		      "%s #%" PRIu64 " not delivered to the daemon: %s; dropped (it takes no reply)",
		      name, unique, strerror(err));
		return;
	}
	EVENT(l, "send_failed", unique,
	      "%s #%" PRIu64 " (%zu bytes): send to the daemon failed: %s; answering -EIO", name,
	      unique, len, strerror(err));
	answer_errno(l, unique, EIO);
}

/* Send a request to the daemon; keep it pending when the socket is full. Returns 0, or the
 * errno of a send that failed for good (the caller answers the request). */
static int send_request(struct loop *l, const struct ft_rx *rx)
{
	if (ft_chan_send(&l->sock, rx->buf, rx->len) == 0) {
		l->pending = 0;
		return 0;
	}
	if (errno == EAGAIN) {
		l->pending = 1;
		l->pend = *rx;
		return 0;
	}
	l->pending = 0;
	return errno;
}

/* ------------------------------------------------------------------ scripts */

/* Forward a message that a script let pass, changed or held back: to the daemon (a
 * request) or to the kernel (a reply or notification; injected: one a script made).
 * Returns EAGAIN when the socket is full, for the caller to hold it and try again; any
 * other failure is dealt with here: a request is answered -EIO, a refused reply is said. */
static int deliver(struct loop *l, int to_kernel, int injected, const uint8_t *buf, size_t len,
		   uint64_t unique)
{
	if (to_kernel && injected) {
		inject(l, buf, len);
		return 0;
	}
	if (to_kernel) {
		if (l->dev_open && ft_chan_send(&l->dev, buf, len) < 0 && errno != ENODEV &&
		    errno != ECONNABORTED) {
			int e = errno;
			l->p->stats->write_failed++;
			EVENT(l, "write_failed", unique, "#%" PRIu64 ": the kernel refused the %s: %s",
			      unique, unique ? "reply" : "notification", strerror(e));
		}
		return 0;
	}
	if (!l->sock_open) {
		fail_request(l, buf, len, EPIPE);
		return 0;
	}
	if (ft_chan_send(&l->sock, buf, len) == 0)
		return 0;
	if (errno == EAGAIN)
		return EAGAIN;
	fail_request(l, buf, len, errno);
	return 0;
}

static void hold(struct loop *l, const struct fd_action *a, const uint8_t *buf, size_t len,
		 int to_kernel, int injected, uint64_t unique)
{
	struct held *h = realloc(l->held, (l->nheld + 1) * sizeof(*h));
	uint8_t *copy = malloc(len ? len : 1);
	if (!h || !copy) {
		free(copy);
		if (h)
			l->held = h;
		EVENT(l, "lua", unique, "#%" PRIu64 ": out of memory holding it back: sent now", unique);
		if (deliver(l, to_kernel, injected, buf, len, unique) == EAGAIN)
			fail_request(l, buf, len, EAGAIN); /* nowhere to keep it for later */
		return;
	}
	l->held = h;
	memcpy(copy, buf, len);
	h[l->nheld++] = (struct held){now_mono() + a->delay_ns, to_kernel, injected, unique, copy, len};
	EVENT(l, "lua", unique, "#%" PRIu64 " held back %.3f ms by %s", unique,
	      (double)a->delay_ns / 1e6, a->script ? a->script : "a script");
}

static void unhold(struct loop *l, size_t i)
{
	free(l->held[i].buf);
	l->held[i] = l->held[--l->nheld];
}

/* Send what was held back and is due; run the scripts' timers. */
static void release(struct loop *l)
{
	uint64_t now = now_mono();
	for (size_t i = 0; i < l->nheld;) {
		struct held *h = &l->held[i];
		if (h->due > now) {
			i++;
			continue;
		}
		if (deliver(l, h->to_kernel, h->injected, h->buf, h->len, h->unique) == EAGAIN) {
			h->due = now + 1000000; /* the socket is full: again soon */
			i++;
			continue;
		}
		unhold(l, i);
	}
	if (l->p->lua)
		fd_lua_run_timers(l->p->lua, now);
}

/* When something held back or a timer is due next (0: nothing). */
static uint64_t next_due(const struct loop *l)
{
	uint64_t t = l->p->lua ? fd_lua_next_timer(l->p->lua) : 0;
	for (size_t i = 0; i < l->nheld; i++)
		if (!t || l->held[i].due < t)
			t = l->held[i].due;
	return t;
}

/* An INTERRUPT of a request that a script dropped or still holds: the daemon never saw
 * it, so fusedump answers it -EINTR, as a daemon that honours interrupts would, and the
 * INTERRUPT goes no further. Returns whether it was one of those. */
static int interrupt_held(struct loop *l)
{
	if (l->m.dir != FP_REQUEST || l->m.opcode != FP_INTERRUPT || !l->m.linked)
		return 0;
	uint64_t u = l->m.link;
	for (size_t i = 0; i < l->ndropped; i++)
		if (l->dropped[i] == u) {
			l->dropped[i] = l->dropped[--l->ndropped];
			EVENT(l, "lua", u, "INTERRUPT of #%" PRIu64 ", which a script dropped: "
				       "answering -EINTR", u);
			answer_errno(l, u, EINTR);
			return 1;
		}
	for (size_t i = 0; i < l->nheld; i++)
		if (!l->held[i].to_kernel && l->held[i].unique == u) {
			unhold(l, i);
			EVENT(l, "lua", u, "INTERRUPT of #%" PRIu64 ", which a script held back: "
				       "answering -EINTR", u);
			answer_errno(l, u, EINTR);
			return 1;
		}
	return 0;
}

static void host_log(void *ctx, const char *script, const char *text)
{
	struct loop *l = ctx;
	EVENT(l, "lua", 0, "%s: %s", script, text);
}

static void host_error(void *ctx, const char *script, const char *what)
{
	struct loop *l = ctx;
	/* one line: the traceback's lines joined with " | " */
	char one[1024];
	size_t n = 0;
	for (const char *c = what; *c && n + 4 < sizeof(one); c++) {
		if (*c == '\n') {
			memcpy(one + n, " | ", 3);
			n += 3;
		} else if (*c != '\t') {
			one[n++] = *c;
		}
	}
	one[n] = 0;
	EVENT(l, "lua_error", 0, "%s: %s", script, one);
}

static int host_notify(void *ctx, const char *script, const uint8_t *buf, size_t len)
{
	(void)script;
	return inject(ctx, buf, len);
}

/* Carry out a script's verdict on the message in l->m, read as rx. */
static void carry_out(struct loop *l, struct fd_action *a, struct ft_rx *rx)
{
	int request = l->m.dir == FP_REQUEST;
	uint64_t unique = l->m.h.unique;
	char nb[32];
	const char *who = a->script ? a->script : "a script";
	const uint8_t *buf = rx->buf;
	size_t len = rx->len;
	switch (a->v) {
	case FD_DROP:
		EVENT(l, "lua", unique, "%s #%" PRIu64 " dropped by %s%s", opname(l->m.opcode, nb,
		      sizeof(nb)), unique, who, request && !(l->m.op && (l->m.op->flags & FP_OP_NOREPLY)) ?
		      ": the kernel waits for an answer that will not come" : "");
		if (request) {
			uint64_t *d = realloc(l->dropped, (l->ndropped + 1) * sizeof(*d));
			if (d) {
				l->dropped = d;
				d[l->ndropped++] = unique;
			}
		}
		return;
	case FD_ANSWER:
		if (a->delay_ns)
			hold(l, a, a->buf, a->len, 1, 1, unique);
		else
			inject(l, a->buf, a->len);
		return;
	case FD_MODIFIED:
		l->p->stats->edits++;
		fd_out_modified(l->p->out, &l->m, a->buf, a->len, fp_session_negotiated(l->s), 0, 1);
		buf = a->buf;
		len = a->len;
		break;
	case FD_PASS:
		break;
	}
	if (a->delay_ns) {
		hold(l, a, buf, len, !request, 0, unique);
		return;
	}
	/* a full socket: like a delay of nothing */
	if (deliver(l, !request, 0, buf, len, unique) == EAGAIN)
		hold(l, &(struct fd_action){.script = a->script}, buf, len, 0, 0, unique);
}

/* A request, with scripts that want to see it: decoded first, then the verdict. */
static void script_request(struct loop *l, struct ft_rx *rx)
{
	if (feed(l, FP_FROM_KERNEL, rx->buf, rx->len, 1, 0) < 0) {
		carry_out(l, &(struct fd_action){.v = FD_PASS}, rx); /* not decoded: as it is */
		return;
	}
	if (interrupt_held(l))
		return;
	struct fd_action a;
	fd_lua_hook(l->p->lua, &l->m, fp_session_conn(l->s), &a);
	carry_out(l, &a, rx);
	free(a.buf);
}

/* A request from the kernel. It is forwarded first and decoded and printed afterwards,
 * while the daemon works on it; only INIT, which may be edited, is decoded first. */
static void kernel_msg(struct loop *l, struct ft_rx *rx)
{
	int init = rx->len >= 8 && fp_load_le(rx->buf + 4, 4) == FP_INIT;
	if (init) {
		feed(l, FP_FROM_KERNEL, rx->buf, rx->len, 1, 0);
		uint64_t cleared = fd_rewrite_init_in(rx->buf, rx->len);
		if (cleared) {
			fd_out_modified(l->p->out, &l->m, rx->buf, rx->len, fp_session_negotiated(l->s), 0, 0);
			struct fp_sbuf names = {0};
			fp_sbuf_flags(&names, fp_sym_init_flags, cleared);
			l->p->stats->edits++;
			EVENT(l, "init_rewrite", fp_load_le(rx->buf + 8, 8),
			      "INIT #%" PRIu64 ": cleared %s in the request to the daemon (cannot cross "
			      "a socket)", fp_load_le(rx->buf + 8, 8), names.s ? names.s : "?");
			fp_sbuf_free(&names);
		}
	}
	else if (l->p->lua && fd_lua_wants(l->p->lua, FP_REQUEST)) {
		script_request(l, rx);
		return;
	}
	int err = l->sock_open ? send_request(l, rx) : EPIPE;
	if (!init)
		feed(l, FP_FROM_KERNEL, rx->buf, rx->len, 1, 0);
	if (err)
		fail_request(l, rx->buf, rx->len, err);
}

/* A reply or notification that fusedump may have to edit before the kernel sees it: the
 * INIT reply and the replies that open files. */
static int edited_reply(const struct loop *l, const struct ft_rx *rx)
{
	if (rx->len < 16)
		return 0;
	uint64_t unique = fp_load_le(rx->buf + 8, 8);
	if (!unique)
		return 0;
	uint32_t op = fp_session_pending_op(l->s, unique);
	return op == FP_INIT || op == FP_OPEN || op == FP_CREATE || op == FP_TMPFILE;
}

static void edit_reply(struct loop *l, struct ft_rx *rx)
{
	struct fd_stats *st = l->p->stats;
	const struct fp_msg *m = &l->m;
	uint64_t unique = m->h.unique;
	if (m->dir == FP_REPLY && m->opcode == FP_INIT && m->h.error == 0) {
		struct fd_clamp cl;
		uint64_t cleared = fd_rewrite_init_out(rx->buf, rx->len, l->p->limit, &cl);
		if (cleared) {
			struct fp_sbuf names = {0};
			fp_sbuf_flags(&names, fp_sym_init_flags, cleared);
			st->edits++;
			EVENT(l, "init_rewrite", unique,
			      "INIT #%" PRIu64 ": cleared %s in the reply to the kernel (cannot cross a socket)",
			      unique, names.s ? names.s : "?");
			fp_sbuf_free(&names);
		}
		if (cl.max_write_was)
			EVENT(l, "init_clamp", unique,
			      "INIT #%" PRIu64 ": max_write %u -> %u in the reply to the kernel (the proxy "
			      "carries messages of at most %zu bytes)",
			      unique, cl.max_write_was, cl.max_write, l->p->limit);
		if (cl.max_pages_was)
			EVENT(l, "init_clamp", unique,
			      "INIT #%" PRIu64 ": max_pages %u -> %u in the reply to the kernel (the proxy "
			      "carries messages of at most %zu bytes)",
			      unique, cl.max_pages_was, cl.max_pages, l->p->limit);
		if (cleared || cl.max_write_was || cl.max_pages_was)
			fd_out_modified(l->p->out, m, rx->buf, rx->len, fp_session_negotiated(l->s), 0, 0);
	} else if (fd_rewrite_open_out(rx->buf, m)) {
		fd_out_modified(l->p->out, m, rx->buf, rx->len, fp_session_negotiated(l->s), 0, 0);
		st->edits++;
		EVENT(l, "open_rewrite", unique,
		      "#%" PRIu64 ": cleared FOPEN_PASSTHROUGH and backing_id in the reply to the kernel",
		      unique);
	}
}

/* What fusedump says about a message from the daemon besides its line. */
static void daemon_msg_events(struct loop *l, const struct ft_rx *rx)
{
	if (rx->flags & FT_RX_REASSEMBLED)
		l->p->stats->reassembled++;
	if (rx->flags & FT_RX_TRUNCATED)
		EVENT(l, "truncated", 0,
		      "a message from the daemon did not fit in %zu bytes: forwarded cut", rx->len);
	else if (rx->flags & FT_RX_LEN_MISMATCH)
		EVENT(l, "len_mismatch", 0,
		      "a message from the daemon says %u bytes in its header but is %zu: forwarded "
		      "as is (the kernel refuses it)",
		      rx->len >= 4 ? (uint32_t)fp_load_le(rx->buf, 4) : 0, rx->len);
}

/* A reply or notification from the daemon: forwarded first, then decoded and printed
 * while the caller goes on, except for those fusedump may edit. */
static void daemon_msg(struct loop *l, struct ft_rx *rx)
{
	track_writer(l, rx->pid);
	struct fd_stats *st = l->p->stats;
	uint64_t unique = rx->len >= 16 ? fp_load_le(rx->buf + 8, 8) : 0;
	int first = edited_reply(l, rx);
	if (!first && l->dev_open && l->p->lua &&
	    fd_lua_wants(l->p->lua, unique ? FP_REPLY : FP_NOTIFY)) {
		int decoded = feed(l, FP_FROM_DAEMON, rx->buf, rx->len, 1, 0) == 0;
		daemon_msg_events(l, rx);
		struct fd_action a = {.v = FD_PASS};
		if (decoded)
			fd_lua_hook(l->p->lua, &l->m, fp_session_conn(l->s), &a);
		carry_out(l, &a, rx);
		free(a.buf);
		return;
	}
	if (first || !l->dev_open) {
		int decoded = feed(l, FP_FROM_DAEMON, rx->buf, rx->len, 1, 0) == 0;
		daemon_msg_events(l, rx);
		if (!l->dev_open) {
			st->undelivered++;
			return;
		}
		if (decoded)
			edit_reply(l, rx);
	}
	int e = ft_chan_send(&l->dev, rx->buf, rx->len) < 0 ? errno : 0;
	if (!first) {
		feed(l, FP_FROM_DAEMON, rx->buf, rx->len, 1, 0);
		daemon_msg_events(l, rx);
	}
	if (e)
		refused(l, unique, e); /* ENODEV: the next read of /dev/fuse reports the end */
}

/* ------------------------------------------------------------------ the mirror */

/*
 * With the mirror, fusedump is out of the filesystem's path, and its work (decoding,
 * printing) is best done when no CPU has anything better to do: every thread of ours goes
 * to SCHED_IDLE, which any other thread preempts at once, and back to the normal policy
 * while the ring is more than half full. On a small machine, reading the ring at normal
 * priority made the filesystem 15-25 % slower for 5 % of a CPU: its bursts of decoding
 * delayed the daemon's and its callers' wakeups.
 */
static void mirror_policy(struct loop *l, int idle)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	struct sched_param sp = {0};
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			sched_setscheduler(atoi(e->d_name), idle ? SCHED_IDLE : SCHED_OTHER, &sp);
	if (d)
		closedir(d);
	l->mirror_idle = idle;
}

/* The spawned daemon exited 0 and left a process behind (ours, as subreaper): it went to
 * the background, and that process is the daemon now. */
static int went_to_background(const struct loop *l)
{
	siginfo_t si;
	return l->child.reaped && WIFEXITED(l->child.status) && WEXITSTATUS(l->child.status) == 0 &&
	       waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* Whether pid, read from the ring, may be taken as the daemon: the process we spawned, or
 * one whose parent it or we are (it went to the background). A pid read late may have
 * ended and been given to another process since, which must never be signalled. */
static int our_daemon(const struct loop *l, pid_t pid)
{
	if (pid == l->child.pid || pid == l->writer.pid)
		return 1;
	char path[32], st[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(st, 1, sizeof(st) - 1, f) : 0;
	if (f)
		fclose(f);
	st[n] = 0;
	const char *e = strrchr(st, ')'); /* "pid (comm) state ppid ...": comm may hold anything */
	int ppid = 0;
	if (!e || sscanf(e + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid == getpid() || ppid == l->child.pid;
}

/* Decode and print what the ring holds (with `all`, also the records of producers that
 * died before they finished them), at most DRAIN_MAX messages: the loop has signals and
 * the daemon to see to as well. Returns how many messages it had. */
#define DRAIN_MAX 8192
static unsigned drain(struct loop *l, int all)
{
	struct ft_mirror *mr = l->p->mirror;
	const struct ft_mirror_rec *r;
	const uint8_t *buf;
	unsigned n = 0;
	while (n < DRAIN_MAX && (r = all ? ft_mirror_peek_any(mr, &buf) : ft_mirror_peek(mr, &buf))) {
		if (r->pid != l->writer.pid && our_daemon(l, r->pid))
			track_writer(l, r->pid);
		size_t len = r->caplen;
		uint64_t unique = len >= 16 ? fp_load_le(buf + 8, 8) : 0;
		/* data cut in the daemon (only what the trace shows was copied) is put back as
		 * zeros, so that the message decodes as the whole one it was */
		int padded = r->caplen < r->msglen && r->msglen <= FT_MSG_MAX;
		if (padded) {
			memcpy(l->zero, buf, r->caplen);
			buf = l->zero;
			len = r->msglen;
		}
		enum fp_origin from = r->from == FT_MIRROR_KERNEL ? FP_FROM_KERNEL : FP_FROM_DAEMON;
		feed_at(l, from, buf, len, r->ts_ns ? r->ts_ns : fd_now_real(), 1, 0);
		if (padded)
			memset(l->zero, 0, r->caplen);
		if (from == FP_FROM_DAEMON && r->result)
			refused(l, unique, r->result);
		ft_mirror_next(mr);
		if (++n % 256 == 0)
			ft_mirror_release(mr);
	}
	ft_mirror_release(mr);
	/* idle priority while the ring has room; the normal one when it fills up, so that the
	 * trace keeps up with a filesystem that keeps both CPUs busy */
	size_t fill = ft_mirror_fill(mr);
	if (l->mirror_idle && fill > mr->size / 2)
		mirror_policy(l, 0);
	else if (!l->mirror_idle && fill < mr->size / 8)
		mirror_policy(l, 1);
	uint64_t lost = ft_mirror_lost(mr);
	if (lost != l->mirror_lost) {
		l->p->stats->lost += lost - l->mirror_lost;
		EVENT(l, "lost", 0, "%" PRIu64 " messages not traced: the mirror ring was full (the "
			  "trace fell behind the filesystem)", lost - l->mirror_lost);
		l->mirror_lost = lost;
	}
	return n;
}

/* The daemon holds /dev/fuse and has ended. Unmounted first, it read ENODEV: the normal
 * end. Still mounted, it died: its /dev/fuse closed with it, which failed the requests in
 * flight with ENOTCONN, as for any dead daemon; the mount is removed. */
static void mirror_ended(struct loop *l)
{
	struct proc *d = daemon_proc(l);
	if (!d->done)
		return;
	/* it went to the background, and the process it left has not read yet (INIT waits
	 * for it): give that one time, then take the filesystem as served by nobody */
	if (!l->writer.pid && went_to_background(l)) {
		if (!l->bg_wait)
			l->bg_wait = now_mono() + BG_WAIT_NS;
		if (now_mono() < l->bg_wait)
			return;
		EVENT(l, "daemon", 0, "the daemon went to the background, and nothing has read "
				      "/dev/fuse in %d s", (int)(BG_WAIT_NS / SEC));
	}
	drain(l, 1);
	if (l->ph == PH_RUN) {
		char err[FT_ERRBUF_SIZE];
		int lazy = 0;
		int r = ft_kernel_unmount(l->p->k, &lazy, err);
		if (r == 0) {
			EVENT(l, "kernel", 0, "the filesystem was unmounted (the daemon read ENODEV)");
		} else {
			l->daemon_died = 1;
			EVENT(l, "daemon", 0, "the daemon ended while the filesystem was mounted: "
					      "requests in flight failed with ENOTCONN");
			if (r > 0)
				EVENT(l, "unmount", 0, "unmounted %s%s", l->p->k->mountpoint,
				      lazy ? " lazily (it was busy)" : "");
			else {
				EVENT(l, "unmount", 0, "unmount failed: %s", err);
				fprintf(stderr, "fusedump: %s\n", err);
				l->failed = 1;
			}
		}
	}
	l->ph = PH_REAP;
	l->deadline = now_mono() + ESCALATE_NS;
	l->esc = 0;
}

/* ------------------------------------------------------------------ the shims */

/* Mount for the daemon: its options (libfuse's fusermount form), then ours (-m) over them.
 * Returns 0 or -errno, with err filled. */
static int do_mount(struct loop *l, const char *target, const char *opts, pid_t pid,
		    const char *via, char *err)
{
	struct fd_proxy *p = l->p;
	struct ft_mount_opts mo;
	ft_mount_opts_init(&mo);
	int r = ft_mount_opts_add_known(&mo, opts, err);
	if (r == 0 && p->user_opts)
		r = ft_mount_opts_add(&mo, p->user_opts, err);
	int e = 0;
	if (r < 0)
		e = EINVAL;
	else if (ft_kernel_mount(p->k, target, &mo, err) < 0)
		e = errno ? errno : EIO;
	if (!e && ft_kernel_watchdog(p->k, p->leftovers, err) < 0)
		EVENT(l, "mount", 0, "%s", err);
	if (!e) {
		char how[128];
		snprintf(how, sizeof(how), "asked by pid %d through %s%s", (int)pid, via,
			 p->mirror ? "; the daemon holds /dev/fuse, traced through the mirror" : "");
		fd_out_start(p->out, p->k, &mo, p->argv, -1, -1, p->child, how);
	}
	ft_mount_opts_free(&mo);
	return -e;
}

/* The daemon is mounted: from now on it is a proxy like any other. With the mirror, it has
 * /dev/fuse: ours is closed, so that the connection ends with the daemon. */
static int start_running(struct loop *l)
{
	if (l->p->mirror) {
		mirror_policy(l, 1);
		ft_kernel_close(l->p->k);
		l->ph = PH_RUN;
		l->deadline = 0;
		return 0;
	}
	if (ft_chan_init(&l->dev, l->p->k->fd, FT_CHAN_DEV, FT_MSG_MAX) < 0) {
		fprintf(stderr, "fusedump: setting up the channels: %s\n", strerror(errno));
		return -1;
	}
	l->dev_open = 1;
	l->ph = PH_RUN;
	l->deadline = 0;
	close(l->p->daemon_fd); /* the daemon has its copy: its death must give us EOF */
	l->p->daemon_fd = -1;
	return 0;
}

static void on_ctl(struct loop *l)
{
	struct ft_ctl_req r;
	int got;
	while ((got = ft_ctl_accept(l->p->ctl_fd, &r)) != 0) {
		if (got < 0) {
			EVENT(l, "shim", 0, "a bad request on the control socket: %s", strerror(errno));
			continue;
		}
		const char *verb = r.argv[0];
		char err[FT_ERRBUF_SIZE] = "";
		if (!strcmp(verb, "open") && l->p->mirror) {
			/* the /dev/fuse that "mount" will mount, for the daemon to hold */
			if (l->ph != PH_MOUNTWAIT) {
				ft_ctl_reply(&r, -ENODEV, -1, "already mounted");
				continue;
			}
			if (l->p->k->fd < 0 && ft_kernel_open(l->p->k, 0, err) < 0) {
				ft_ctl_reply(&r, -errno, -1, err);
				continue;
			}
			ft_ctl_reply(&r, 0, l->p->k->fd, NULL);
		} else if (!strcmp(verb, "open")) {
			if (l->p->daemon_fd < 0) {
				ft_ctl_reply(&r, -ENODEV, -1, "already mounted");
				continue;
			}
			ft_ctl_reply(&r, 0, l->p->daemon_fd, NULL);
		} else if (!strcmp(verb, "mount") && r.argc >= 4) {
			if (l->ph != PH_MOUNTWAIT) {
				EVENT(l, "shim", 0, "pid %d asked to mount %s again: refused", (int)r.pid,
				      r.argv[1]);
				ft_ctl_reply(&r, -EBUSY, -1, "fusedump mounts one filesystem");
				continue;
			}
			if (l->p->mirror && (strcmp(r.argv[3], "mount(2)") || l->p->k->fd < 0)) {
				snprintf(err, sizeof(err), "--mirror: the daemon mounts through %s, not "
					 "mount(2) in a process that has the LD_PRELOAD library, which "
					 "would not see its /dev/fuse (a statically linked daemon such "
					 "as go-fuse's?): trace it without --mirror", r.argv[3]);
				EVENT(l, "mount", 0, "%s", err);
				fprintf(stderr, "fusedump: %s\n", err);
				l->failed = 1;
				ft_ctl_reply(&r, -EPERM, -1, err);
				continue;
			}
			int st = do_mount(l, r.argv[1], r.argv[2], r.pid, r.argv[3], err);
			if (st < 0) {
				EVENT(l, "mount", 0, "pid %d asked to mount %s: %s", (int)r.pid,
				      r.argv[1], err);
				fprintf(stderr, "fusedump: %s\n", err);
				ft_ctl_reply(&r, st, -1, err);
				continue;
			}
			l->shim_mounted = 1;
			if (!strcmp(r.argv[3], "mount(2)"))
				l->preloaded = 1;
			ft_ctl_reply(&r, 0, l->p->daemon_fd, NULL);
			if (start_running(l) < 0) {
				l->failed = 1;
				stop(l, "setup failed");
			}
		} else if (!strcmp(verb, "umount") && r.argc >= 3) {
			const char *m = l->p->k->mountpoint;
			char *abs = realpath(r.argv[1], NULL);
			int ours = m && (!strcmp(r.argv[1], m) || (abs && !strcmp(abs, m)));
			free(abs);
			if (!ours) {
				ft_ctl_reply(&r, -EINVAL, -1, "not fusedump's mount");
				continue;
			}
			char why[96];
			snprintf(why, sizeof(why), "pid %d asked to unmount (%s)", (int)r.pid,
				 !strcmp(r.argv[2], "1") ? "lazily" : "umount");
			if (l->ph == PH_RUN)
				stop(l, why);
			ft_ctl_reply(&r, 0, -1, NULL);
		} else {
			ft_ctl_reply(&r, -EINVAL, -1, "unknown request");
		}
	}
}

/* The spawned daemon ended before it asked to mount. When it exited 0 and left a process
 * behind (ours, as subreaper), that one went to the background and may still ask. */
static void never_mounted(struct loop *l)
{
	if (went_to_background(l)) {
		if (!l->hinted)
			EVENT(l, "mount", 0, "the daemon exited 0 without mounting: waiting for the "
					     "process it left to ask");
		l->hinted = 1;
		return;
	}
	EVENT(l, "daemon", 0, "the daemon ended before it mounted");
	l->daemon_died = 1;
	close_sock(l);
	l->ph = PH_REAP;
	l->deadline = now_mono() + ESCALATE_NS;
}

/* ------------------------------------------------------------------ the loop */

static void on_dev(struct loop *l, short rev)
{
	if (l->pending) {
		/* not read while a request waits: its bytes are in the read buffer */
		if (rev & (POLLERR | POLLHUP))
			kernel_gone(l, "the kernel closed the connection (unmounted or aborted)");
		return;
	}
	for (int i = 0; i < BURST && l->dev_open && !l->pending; i++) {
		struct ft_rx rx;
		int r = ft_chan_recv(&l->dev, &rx);
		if (r == FT_RECV_AGAIN)
			return;
		if (r == FT_RECV_EOF) {
			kernel_gone(l, "the kernel closed the connection (read /dev/fuse: ENODEV: "
				       "unmounted or aborted)");
			return;
		}
		if (r == FT_RECV_ERR) {
			int e = errno;
			fprintf(stderr, "fusedump: read /dev/fuse: %s%s\n", strerror(e),
				e == EINVAL ? " (buffer smaller than the kernel's max_write + 80)" : "");
			l->failed = 1;
			close_dev(l);
			kernel_gone(l, "read /dev/fuse failed: closed it");
			return;
		}
		kernel_msg(l, &rx);
		l->last_msg = now_mono();
	}
}

static void on_sock(struct loop *l)
{
	for (int i = 0; i < BURST && l->sock_open; i++) {
		struct ft_rx rx;
		int r = ft_chan_recv(&l->sock, &rx);
		if (r == FT_RECV_AGAIN)
			return;
		if (r == FT_RECV_MSG) {
			daemon_msg(l, &rx);
			l->last_msg = now_mono();
			continue;
		}
		const char *why = r == FT_RECV_EOF ? "end of file" : strerror(errno);
		if (l->ph == PH_DRAIN) {
			EVENT(l, "daemon", 0, "the daemon closed the socket (%s)", why);
			close_sock(l);
			l->ph = PH_REAP;
			l->deadline = now_mono() + REAP_NS;
			l->esc = 1;
		} else {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "the daemon closed the socket (%s) while the filesystem was mounted", why);
			daemon_gone(l, msg);
		}
		return;
	}
}

static void on_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(l);
			continue;
		}
		char why[32];
		snprintf(why, sizeof(why), "SIG%s", sigabbrev_np((int)si.ssi_signo));
		stop(l, why);
	}
}

static int all_done(const struct loop *l)
{
	return l->child.done && (!l->writer.pid || l->writer.done);
}

/* Deadlines and deferred stops. */
static void step(struct loop *l)
{
	if (l->stop_why) {
		const char *why = l->stop_why;
		l->stop_why = NULL;
		if (l->ph == PH_RUN)
			stop(l, why);
	}
	uint64_t now = now_mono();
	if (l->ph == PH_DRAIN && now >= l->deadline) {
		EVENT(l, "daemon", 0, l->p->mirror ? "the daemon has not ended" :
			  "the daemon still has the socket open: closing it");
		close_sock(l);
		l->ph = PH_REAP;
		l->deadline = now + REAP_NS;
		l->esc = proc_signal(l, daemon_proc(l), SIGTERM) || daemon_proc(l)->term_sent;
	}
	if (l->ph == PH_MOUNTWAIT && !l->hinted && now >= l->deadline) {
		l->hinted = 1;
		EVENT(l, "mount", 0, "no mount request from the daemon yet: a daemon that is "
				     "statically linked and mounts by itself needs --devfd");
	}
	if (l->ph != PH_REAP)
		return;
	if (all_done(l)) {
		l->ph = PH_DONE;
		return;
	}
	if (now < l->deadline)
		return;
	struct proc *procs[2] = {&l->child, &l->writer};
	if (l->esc < 2) {
		int sig = l->esc == 0 ? SIGTERM : SIGKILL;
		for (int i = 0; i < 2; i++)
			if (!(i == 1 && l->writer.pid == l->child.pid))
				proc_signal(l, procs[i], sig);
		l->esc++;
		l->deadline = now + ESCALATE_NS;
		return;
	}
	for (int i = 0; i < 2; i++)
		if (procs[i]->pid && !procs[i]->done)
			EVENT(l, "exit", 0, "daemon pid %d is still there after SIGKILL; giving up",
			      (int)procs[i]->pid);
	l->failed = 1;
	l->ph = PH_DONE;
}

static int exit_status(const struct loop *l)
{
	const struct proc *d = l->writer.pid ? &l->writer : &l->child;
	int code;
	if (l->daemon_died) {
		if (d->reaped && WIFEXITED(d->status) && WEXITSTATUS(d->status))
			code = WEXITSTATUS(d->status);
		else if (d->reaped && WIFSIGNALED(d->status))
			code = 128 + WTERMSIG(d->status);
		else
			code = 1;
		char sb[64];
		fprintf(stderr, "fusedump: the daemon (pid %d) %s: %s\n", (int)d->pid,
			l->p->k->mountpoint ? "went away while mounted" : "ended before it mounted",
			d->reaped ? ft_status_str(d->status, sb, sizeof(sb)) : "status unknown");
		return code;
	}
	/* Once the kernel has ended the session, the daemon only ends because we told it to:
	 * with SIGTERM, which libfuse keeps as the session's error (its daemons then exit 1;
	 * with a real /dev/fuse they would have read ENODEV and exited 0), or with the end of
	 * file on its socket ("short read", 1 again; ENODEV and 0 through the LD_PRELOAD
	 * shim). So any exit is the clean end; a crash, or having to use SIGKILL, is not.
	 * (When the daemon never went to the background, child and writer are one process,
	 * which the escalation signals through the child.) */
	if (d->kill_sent || (d->pid == l->child.pid && l->child.kill_sent))
		code = 1;
	else if (!d->reaped || WIFEXITED(d->status))
		code = 0;
	else if (WTERMSIG(d->status) == SIGTERM)
		code = 0;
	else
		code = 128 + WTERMSIG(d->status);
	if (code == 0 && (l->failed || l->out_failed))
		code = 1;
	return code;
}

int fd_proxy_run(struct fd_proxy *p)
{
	struct loop l;
	memset(&l, 0, sizeof(l));
	l.p = p;
	l.sock_open = !p->mirror;
	l.dev_open = p->ctl_fd < 0;
	l.ph = l.dev_open ? PH_RUN : PH_MOUNTWAIT;
	if (!l.dev_open)
		l.deadline = now_mono() + MOUNT_HINT_NS;
	proc_set(&l.child, p->child);
	l.writer.pidfd = -1;
	if (p->lua)
		fd_lua_set_host(p->lua, &(struct fd_lua_host){&l, host_log, host_notify, host_error});
	fp_msg_init(&l.m);
	l.s = fp_session_new();
	if (p->mirror)
		l.zero = calloc(1, FT_MSG_MAX);
	if (!l.s || (l.dev_open && ft_chan_init(&l.dev, p->k->fd, FT_CHAN_DEV, FT_MSG_MAX) < 0) ||
	    (l.sock_open && ft_chan_init(&l.sock, p->sock_fd, FT_CHAN_SOCK, FT_MSG_MAX) < 0) ||
	    (p->mirror && !l.zero)) {
		fprintf(stderr, "fusedump: setting up the channels: %s\n", strerror(errno));
		l.failed = 1;
		close_sock(&l);
		close_dev(&l);
		unmount_final(&l);
		/* the daemon sees EOF and ends; wait for it like any other end */
		l.ph = PH_REAP;
		l.deadline = now_mono() + ESCALATE_NS;
	}

	while (l.ph != PH_DONE) {
		/* Busy for a moment after the last message (the loop polls, yielding the CPU,
		 * instead of sleeping): the answer to what was just forwarded, or the caller's
		 * next request, usually comes within microseconds, and a sleeping proxy costs a
		 * wakeup on another CPU each way, which on small machines is most of a
		 * round trip. */
		int spin = l.ph == PH_RUN && p->spin_ns && now_mono() - l.last_msg < p->spin_ns;
		/* the writer is woken when the trace goes quiet (it wakes by itself every 50 ms
		 * and whenever much is waiting): with the mirror, whose ring is read in batches,
		 * not after every batch, which would cost a wakeup on another CPU each time */
		int quiet = !spin && !(p->mirror && l.drained && now_mono() - l.flushed < FLUSH_NS);
		if (quiet)
			l.flushed = now_mono();
		if (quiet && fd_out_flush(p->out) < 0 && !l.out_failed) {
			l.out_failed = 1;
			char why[600];
			fprintf(stderr, "fusedump: %s; unmounting\n", fd_out_failure(p->out, why, sizeof(why)));
			if (l.ph == PH_RUN)
				stop(&l, "output failed");
		}
		struct pollfd pf[6];
		int n = 0, idev = -1, isock = -1, ichild = -1, iwriter = -1, ictl = -1;
		if (p->ctl_fd >= 0) {
			ictl = n;
			pf[n++] = (struct pollfd){p->ctl_fd, POLLIN, 0};
		}
		if (l.dev_open && (l.ph == PH_RUN || l.ph == PH_UNMOUNTING)) {
			idev = n;
			pf[n++] = (struct pollfd){p->k->fd, l.pending ? 0 : POLLIN, 0};
		}
		if (l.sock_open) {
			isock = n;
			pf[n++] = (struct pollfd){p->sock_fd, (short)(POLLIN | (l.pending ? POLLOUT : 0)), 0};
		}
		int isig = n;
		pf[n++] = (struct pollfd){p->sigfd, POLLIN, 0};
		/* with the mirror, a daemon's end is learnt from its pidfd, not from a socket */
		if ((l.ph == PH_REAP || l.ph == PH_MOUNTWAIT || p->mirror) && !l.child.done &&
		    l.child.pidfd >= 0) {
			ichild = n;
			pf[n++] = (struct pollfd){l.child.pidfd, POLLIN, 0};
		}
		if ((l.ph == PH_REAP || p->mirror) && l.writer.pid && !l.writer.done && l.writer.pidfd >= 0 &&
		    l.writer.pid != l.child.pid) {
			iwriter = n;
			pf[n++] = (struct pollfd){l.writer.pidfd, POLLIN, 0};
		}
		int timeout = -1;
		uint64_t due = 0;
		if (l.deadline && (l.ph == PH_DRAIN || l.ph == PH_REAP ||
				   (l.ph == PH_MOUNTWAIT && !l.hinted)))
			due = l.deadline;
		uint64_t held = l.ph == PH_RUN || l.ph == PH_UNMOUNTING ? next_due(&l) : 0;
		if (held && (!due || held < due))
			due = held;
		if (due) {
			uint64_t now = now_mono();
			timeout = now >= due ? 0 : (int)((due - now) / 1000000u + 1);
		}
		if (p->mirror && l.ph != PH_MOUNTWAIT) {
			int every = l.drained == DRAIN_MAX ? 0 : MIRROR_EVERY_MS;
			if (timeout < 0 || timeout > every)
				timeout = every;
		}
		int ready = poll(pf, (nfds_t)n, spin ? 0 : timeout);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fusedump: poll: %s\n", strerror(errno));
			l.failed = 1;
			break;
		}
		if (ready == 0 && spin) {
			sched_yield();
			continue;
		}
		/* the ring first: what the daemon did comes before its end */
		if (p->mirror && l.ph != PH_MOUNTWAIT)
			l.drained = drain(&l, 0);
		/* the socket first: a writer's message is seen before its SIGCHLD */
		if (isock >= 0 && l.sock_open) {
			if (pf[isock].revents & (POLLIN | POLLHUP | POLLERR))
				on_sock(&l);
			if (l.sock_open && l.pending && (pf[isock].revents & POLLOUT)) {
				int err = send_request(&l, &l.pend);
				if (err)
					fail_request(&l, l.pend.buf, l.pend.len, err);
			}
		}
		if (idev >= 0 && l.dev_open && pf[idev].revents)
			on_dev(&l, pf[idev].revents);
		if (pf[isig].revents & POLLIN)
			on_signals(&l);
		if (ichild >= 0 && (pf[ichild].revents & POLLIN))
			proc_check(&l, &l.child);
		if (ictl >= 0 && (pf[ictl].revents & POLLIN))
			on_ctl(&l);
		if (l.ph == PH_MOUNTWAIT && l.child.done)
			never_mounted(&l);
		if (iwriter >= 0 && (pf[iwriter].revents & POLLIN))
			proc_check(&l, &l.writer);
		if (l.nheld || p->lua)
			release(&l);
		if (p->mirror && (l.ph == PH_RUN || l.ph == PH_UNMOUNTING || l.ph == PH_DRAIN))
			mirror_ended(&l);
		step(&l);
	}
	if (p->mirror)
		drain(&l, all_done(&l));

	for (size_t i = 0; i < l.nheld; i++)
		free(l.held[i].buf);
	free(l.held);
	free(l.dropped);
	free(l.zero);
	/* Whatever happened, no mount is left behind. */
	close_sock(&l);
	close_dev(&l);
	if (p->k->mounted)
		unmount_final(&l);
	int code = exit_status(&l);
	fd_out_flush(p->out);
	proc_close(&l.child);
	proc_close(&l.writer);
	ft_chan_free(&l.dev);
	ft_chan_free(&l.sock);
	fp_msg_free(&l.m);
	fp_session_free(l.s);
	return code;
}
