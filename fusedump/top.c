/* fusedump --top (top.h).
 *
 * Two sides share struct fd_top under one mutex. The feeding side (the proxy's loop, or
 * the reader of a capture) adds each message to `cur`, the counts since the last frame, and
 * keeps the table of requests in flight: a request goes in by its unique, its reply takes
 * it out. The view's thread, four times a second, swaps `cur` for an empty one and takes a
 * copy of the oldest requests in flight, which is all it does under the mutex; it then
 * adds the counts to its totals and draws, on its own time. So the forwarding path never
 * waits for the terminal, and a frame costs about the same however many messages went by
 * (what grows is the merging of the paths seen since the last frame).
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/abi.h"
#include "fuseproto/field.h"
#include "fuseproto/optable.h"
#include "lua.h"
#include "out.h"
#include "queue.h"
#include "top.h"

#define SEC UINT64_C(1000000000)
#define TICK_NS (SEC / 4)       /* a frame */
#define RATE_WINDOW_NS SEC      /* rates are over the last second */
#define RING 8                  /* frames of counts kept for the rates */
#define NOPS (FP_OPCODE_MAX + 1) /* [0]: unknown opcodes and unpaired replies */
#define NNOTIFY 16
#define NERRNO 192              /* errno values counted one by one; [0]: the others */
#define NOTIFY_KEY 0x10000u     /* an opcode row's key: the opcode, or this + notify code */
#define FLIGHT_PATH 168         /* the end of a request's path kept while it is in flight */
#define FLIGHT_MAX (1u << 20)   /* requests in flight tracked at most */
#define SHOW_MAX 256            /* oldest requests in flight copied for a frame, at most */
#define PATHS_MAX 50000         /* paths counted at most; beyond, the least busy are forgotten */
#define STDERR_KEEP (64u << 10) /* standard error kept to write out at the end */
#define MIN_W 80
#define MIN_H 24
#define FLIGHT_PATH_X 56        /* the column of the paths in flight */
#define PATHS_PATH_X 24         /* the column of the busiest paths */

/* Latencies: a log scale with LAT_SUB buckets per power of two; the middle of a bucket is
 * within 1/(2 * LAT_SUB) of every latency in it. */
#define LAT_SUB 4
#define LAT_BUCKETS (64 * LAT_SUB)

struct opacc {
	uint64_t reqs, replies, errs;
	uint64_t lat_n, lat_sum, lat_max;
	uint64_t hist[LAT_BUCKETS];
};

/* Paths by the hash of their text (0: an empty slot), the text in an arena. */
struct pent {
	uint64_t hash;
	uint32_t off, len;
	uint64_t reqs, errs, bytes;
};

struct ptab {
	struct pent *e;
	size_t cap, n; /* cap: 0 or a power of two, at most half full */
	char *s;
	size_t slen, scap;
};

/* Counts: between two frames (the feeding side's), or since the start (the view's). */
struct acc {
	struct opacc op[NOPS];
	uint64_t notify[NNOTIFY];
	uint64_t err[NERRNO];
	uint64_t msgs, rbytes, wbytes;
	struct ptab paths;
};

struct flight {
	uint64_t unique; /* 0: an empty slot */
	uint64_t ts_ns;
	uint64_t phash;
	uint32_t opcode, pid;
	int intr;        /* the kernel sent an INTERRUPT for it */
	char path[FLIGHT_PATH];
};

/* A frame's counts, for the rates. */
struct sample {
	uint64_t clock, msgs, rbytes, wbytes, errs, reqs;
	uint64_t op[NOPS];
};

/* The columns of the opcode table, which can be sorted by any of them. */
enum { C_OP, C_REQS, C_RATE, C_ERRS, C_INFL, C_AVG, C_P50, C_P99, C_MAX, NCOLS };

static const struct {
	const char *name;
	int width;
} cols[NCOLS] = {
	{"OP", 15}, {"REQS", 9}, {"/s", 8}, {"ERRS", 7}, {"INFL", 5},
	{"AVG", 8}, {"P50", 8}, {"P99", 8}, {"MAX", 8},
};

struct oprow {
	unsigned key;
	char name[24];
	uint64_t reqs, errs, infl, lat_n;
	double rate;
	uint64_t avg, p50, p99, max;
};

/* What only the view's thread touches. */
struct ui {
	struct acc *spare;   /* swapped with fd_top.cur every frame */
	struct acc tot;
	uint64_t forgotten;  /* paths dropped to stay under PATHS_MAX */
	struct sample ring[RING];
	unsigned nring;
	double rate_op[NOPS], rate_msgs, rate_reqs, rate_r, rate_w, rate_errs;
	uint64_t clock;      /* the frame's time, ns since the epoch */
	struct flight show[SHOW_MAX]; /* the oldest requests in flight, oldest first */
	size_t nshow, inflight;
	uint32_t flop[NOPS];
	uint64_t untracked;
	char title[256], event[300];
	uint64_t event_seen;
	int stopping, ended;
	char end_why[300];
	struct oprow rows[NOPS + NNOTIFY];
	size_t nrows;
	unsigned sel;        /* the key of the selected row */
	int sel_set;         /* chosen with the keys; until then, the first row */
	int top_row;         /* the first opcode row shown */
	int sort, rev;
	int frozen;          /* live: paused */
	int help;
	int quits;           /* live: q pressed this many times */
	int prompting;       /* reading a line: 'w' a file name, '/' a filter */
	int prompt_filter;   /* the line is a display filter */
	char filter[256];    /* the filter shown now ('/'), "" for none */
	char input[256];
	size_t ilen;
	char **shot;         /* the screen when 'w' was pressed */
	int nshot;
	char status[300];
	uint64_t status_until; /* CLOCK_MONOTONIC */
	char errline[256];   /* the last line on standard error */
	uint64_t errline_until;
	char *errkeep;       /* the end of standard error, written out at the close */
	size_t errlen;
	uint64_t errlost;
	int done;            /* the view is over (a capture's, quit) */
};

struct fd_top {
	pthread_mutex_t mu;
	/* the '/' filter: made by the view's thread, handed to the thread that feeds the view
	 * (which alone runs it) through next_filter, under mu */
	struct fd_filter *filter, *next_filter;
	int filter_changed;
	pthread_cond_t cv;   /* playing a capture: pause, quit, the end */
	struct acc *cur;
	struct flight *fl;
	size_t flcap, fln;
	uint32_t flop[NOPS];
	uint64_t untracked;
	char title[256], event[300];
	uint64_t event_seq;
	int stopping;

	/* playing a capture */
	int replay;
	double speed;
	int started, paused, ended, quit, ui_gone;
	uint64_t base_virt, base_mono, last_ts;
	char end_why[300];

	/* set up by fd_top_start */
	SCREEN *scr;
	pthread_t th;
	int thread;
	int sigfd, wakefd, errfd, saved_err;
	int closing;
	struct ui ui;
};

static uint64_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ counting */

static unsigned lat_bucket(uint64_t ns)
{
	if (ns < LAT_SUB)
		return (unsigned)ns;
	unsigned bits = 64 - (unsigned)__builtin_clzll(ns); /* >= 3 */
	return (bits - 2) * LAT_SUB + (unsigned)((ns >> (bits - 3)) & (LAT_SUB - 1));
}

/* The smallest latency of bucket b, and how wide it is. */
static uint64_t lat_low(unsigned b, uint64_t *width)
{
	if (b < LAT_SUB) {
		*width = 1;
		return b;
	}
	unsigned bits = b / LAT_SUB + 2;
	*width = (uint64_t)1 << (bits - 3);
	return (uint64_t)(LAT_SUB + b % LAT_SUB) << (bits - 3);
}

/* The p-th percentile of o's latencies: the middle of its bucket, at most the maximum. */
static uint64_t lat_pct(const struct opacc *o, unsigned p)
{
	uint64_t rank = (o->lat_n * p + 99) / 100, seen = 0;
	for (unsigned b = 0; b < LAT_BUCKETS && o->lat_n; b++) {
		seen += o->hist[b];
		if (seen >= rank) {
			uint64_t w, v = lat_low(b, &w) + w / 2;
			return v < o->lat_max ? v : o->lat_max;
		}
	}
	return o->lat_max;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static int ptab_grow(struct ptab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct pent *e = calloc(cap, sizeof(*e));
	if (!e)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->e[i].hash)
			continue;
		size_t j = slot_of(t->e[i].hash, cap);
		while (e[j].hash)
			j = (j + 1) & (cap - 1);
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->cap = cap;
	return 0;
}

/* The entry of path `hash`, made with the text s[0, n) when new; NULL when out of memory. */
static struct pent *ptab_get(struct ptab *t, uint64_t hash, const char *s, size_t n)
{
	if ((t->n + 1) * 2 > t->cap && ptab_grow(t) < 0)
		return NULL;
	size_t j = slot_of(hash, t->cap);
	while (t->e[j].hash && t->e[j].hash != hash)
		j = (j + 1) & (t->cap - 1);
	struct pent *p = &t->e[j];
	if (p->hash)
		return p;
	if (t->slen + n > t->scap) {
		size_t cap = t->scap ? t->scap : 4096;
		while (cap < t->slen + n)
			cap *= 2;
		char *s2 = realloc(t->s, cap);
		if (!s2)
			return NULL;
		t->s = s2;
		t->scap = cap;
	}
	memcpy(t->s + t->slen, s, n);
	*p = (struct pent){.hash = hash, .off = (uint32_t)t->slen, .len = (uint32_t)n};
	t->slen += n;
	t->n++;
	return p;
}

static void ptab_free(struct ptab *t)
{
	free(t->e);
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* Empty it for reuse; the memory stays unless it is much more than was used. */
static void ptab_clear(struct ptab *t)
{
	if (t->cap > 1024 && t->n < t->cap / 8) {
		ptab_free(t);
		return;
	}
	if (t->n)
		memset(t->e, 0, t->cap * sizeof(*t->e));
	t->n = 0;
	t->slen = 0;
}

static void acc_clear(struct acc *a)
{
	struct ptab p = a->paths;
	memset(a, 0, sizeof(*a));
	ptab_clear(&p);
	a->paths = p;
}

/* In flight: open addressing by unique, linear probing, deletion by shifting back. */

static struct flight *flight_find(struct fd_top *t, uint64_t unique)
{
	if (!t->flcap || !unique)
		return NULL;
	for (size_t j = slot_of(unique, t->flcap);; j = (j + 1) & (t->flcap - 1)) {
		if (t->fl[j].unique == unique)
			return &t->fl[j];
		if (!t->fl[j].unique)
			return NULL;
	}
}

static int flight_grow(struct fd_top *t)
{
	size_t cap = t->flcap ? t->flcap * 2 : 256;
	struct flight *fl = calloc(cap, sizeof(*fl));
	if (!fl)
		return -1;
	for (size_t i = 0; i < t->flcap; i++) {
		if (!t->fl[i].unique)
			continue;
		size_t j = slot_of(t->fl[i].unique, cap);
		while (fl[j].unique)
			j = (j + 1) & (cap - 1);
		fl[j] = t->fl[i];
	}
	free(t->fl);
	t->fl = fl;
	t->flcap = cap;
	return 0;
}

static struct flight *flight_add(struct fd_top *t, uint64_t unique)
{
	struct flight *f = flight_find(t, unique);
	if (f)
		return f; /* a unique used again: the old request was answered unseen */
	if (t->fln >= FLIGHT_MAX || ((t->fln + 1) * 2 > t->flcap && flight_grow(t) < 0)) {
		t->untracked++;
		return NULL;
	}
	size_t j = slot_of(unique, t->flcap);
	while (t->fl[j].unique)
		j = (j + 1) & (t->flcap - 1);
	t->fln++;
	t->fl[j].unique = unique;
	return &t->fl[j];
}

static void flight_del(struct fd_top *t, struct flight *f)
{
	size_t mask = t->flcap - 1, i = (size_t)(f - t->fl);
	if (f->opcode < NOPS && t->flop[f->opcode])
		t->flop[f->opcode]--;
	/* move back each entry of the run after i that may sit in i, its home not in (i, j] */
	for (size_t j = (i + 1) & mask; t->fl[j].unique; j = (j + 1) & mask) {
		size_t home = slot_of(t->fl[j].unique, t->flcap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->fl[i] = t->fl[j];
			i = j;
		}
	}
	t->fl[i].unique = 0;
	t->fln--;
}

/* The path of a request: its node's, and for the operations on a name in a directory,
 * that name too ("/dir" and name "a" is "/dir/a"): that is what is looked up, made or
 * removed. Its hash covers all of it; `tail` keeps its end. */
struct reqpath {
	uint64_t hash;
	size_t len;
	char tail[FLIGHT_PATH];
};

static const char *name_field(uint32_t opcode)
{
	switch (opcode) {
	case FP_LOOKUP:
	case FP_MKNOD:
	case FP_MKDIR:
	case FP_UNLINK:
	case FP_RMDIR:
	case FP_CREATE:
	case FP_SYMLINK:
		return "name";
	case FP_RENAME:
	case FP_RENAME2:
		return "oldname";
	case FP_LINK:
		return "newname";
	default:
		return NULL;
	}
}

/* Append s[0, n) to rp's tail, as the part of the whole path from byte `at` on. */
static void tail_put(struct reqpath *rp, size_t skip, size_t *at, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, (*at)++)
		if (*at >= skip)
			rp->tail[rp->len++] = s[i];
}

static void req_path(const struct fp_msg *m, struct reqpath *rp)
{
	char nb[48];
	const char *dir = m->path;
	size_t dl;
	if (m->path_known) {
		dl = strnlen(m->path, sizeof(m->path));
	} else {
		dl = (size_t)snprintf(nb, sizeof(nb), "<nodeid %" PRIu64 ">", m->h.nodeid);
		dir = nb;
	}
	const char *name = NULL, *field = name_field(m->opcode);
	size_t nl = 0;
	if (field && m->body != UINT32_MAX) {
		long i = fp_msg_field(m, (long)m->body, field);
		if (i >= 0 && m->v[i].p) {
			name = (const char *)m->v[i].p;
			nl = strnlen(name, m->v[i].len);
		}
	}
	size_t slash = name && !(dl && dir[dl - 1] == '/');
	size_t total = dl + slash + nl, skip = 0, at = 0;
	rp->hash = fnv(fnv(fnv(0xcbf29ce484222325ull, dir, dl), "/", slash), name ? name : "", nl);
	if (!rp->hash)
		rp->hash = 1;
	rp->len = 0;
	if (total >= FLIGHT_PATH) {
		memcpy(rp->tail, "...", 3);
		rp->len = 3;
		skip = total - (FLIGHT_PATH - 4);
	}
	tail_put(rp, skip, &at, dir, dl);
	tail_put(rp, skip, &at, "/", slash);
	tail_put(rp, skip, &at, name ? name : "", nl);
	rp->tail[rp->len] = 0;
}

/* rp: the request's path, NULL when it gets no reply */
static void count_request(struct fd_top *t, const struct fp_msg *m, const struct reqpath *rp)
{
	struct acc *a = t->cur;
	unsigned op = m->opcode < NOPS ? m->opcode : 0;
	a->op[op].reqs++;
	if (m->opcode == FP_INTERRUPT) {
		struct flight *f = flight_find(t, m->link);
		if (f)
			f->intr = 1;
		return;
	}
	if (!rp)
		return;
	struct pent *p = m->h.nodeid ? ptab_get(&a->paths, rp->hash, rp->tail, rp->len) : NULL;
	if (p)
		p->reqs++;
	struct flight *f = flight_add(t, m->h.unique);
	if (!f)
		return;
	f->ts_ns = m->ts_ns;
	f->phash = m->h.nodeid ? rp->hash : 0;
	f->opcode = op;
	f->pid = m->h.pid;
	f->intr = 0;
	memcpy(f->path, rp->tail, rp->len + 1);
	t->flop[op]++;
}

static void count_reply(struct fd_top *t, const struct fp_msg *m)
{
	struct acc *a = t->cur;
	struct opacc *o = &a->op[m->opcode < NOPS ? m->opcode : 0];
	o->replies++;
	uint64_t bytes = 0;
	if (m->h.error) {
		int64_t e = m->h.error < 0 ? -(int64_t)m->h.error : m->h.error;
		o->errs++;
		a->err[e < NERRNO ? e : 0]++;
	} else if (m->opcode == FP_READ && m->h.len > 16) {
		bytes = m->h.len - 16; /* the header's length: a capture cut by -s has it whole */
		a->rbytes += bytes;
	} else if (m->opcode == FP_WRITE && m->body != UINT32_MAX) {
		long i = fp_msg_field(m, (long)m->body, "size");
		if (i >= 0) {
			bytes = m->v[i].u;
			a->wbytes += bytes;
		}
	}
	if (m->latency_ns >= 0) {
		uint64_t l = (uint64_t)m->latency_ns;
		o->lat_n++;
		o->lat_sum += l;
		o->hist[lat_bucket(l)]++;
		if (l > o->lat_max)
			o->lat_max = l;
	}
	struct flight *f = flight_find(t, m->h.unique);
	if (!f)
		return;
	if ((m->h.error || bytes) && f->phash) {
		struct pent *p = ptab_get(&a->paths, f->phash, f->path, strlen(f->path));
		if (p) {
			p->errs += m->h.error != 0;
			p->bytes += bytes;
		}
	}
	flight_del(t, f);
}

/* ------------------------------------------------------------------ the clock */

/* The view's time, ns since the epoch: live, now; playing a capture, where the play is. */
static uint64_t view_clock(const struct fd_top *t)
{
	if (!t->replay)
		return fd_now_real();
	if (!t->started || t->ended || t->speed <= 0)
		return t->last_ts;
	if (t->paused)
		return t->base_virt;
	return t->base_virt + (uint64_t)((double)(now_mono() - t->base_mono) * t->speed);
}

int fd_top_quit(struct fd_top *t)
{
	pthread_mutex_lock(&t->mu);
	int q = t->quit;
	pthread_mutex_unlock(&t->mu);
	return q;
}

/* Playing a capture: wait (mutex held) until a message stamped ts is due. Returns -1
 * once the user has quit: nothing more is shown. */
static int pace(struct fd_top *t, uint64_t ts)
{
	if (!t->started) {
		t->started = 1;
		t->base_virt = ts;
		t->base_mono = now_mono();
	}
	while (!t->quit) {
		if (t->paused) {
			pthread_cond_wait(&t->cv, &t->mu);
			continue;
		}
		if (t->speed <= 0 || ts <= t->base_virt)
			break;
		uint64_t due = t->base_mono + (uint64_t)((double)(ts - t->base_virt) / t->speed);
		if (now_mono() >= due)
			break;
		struct timespec dl = {(time_t)(due / SEC), (long)(due % SEC)};
		pthread_cond_timedwait(&t->cv, &t->mu, &dl);
	}
	if (t->quit)
		return -1;
	if (ts > t->last_ts)
		t->last_ts = ts;
	return 0;
}

void fd_top_msg(struct fd_top *t, const struct fp_msg *m)
{
	if (__atomic_load_n(&t->filter_changed, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&t->mu);
		struct fd_filter *old = t->filter;
		t->filter = t->next_filter;
		t->next_filter = NULL;
		__atomic_store_n(&t->filter_changed, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&t->mu);
		fd_filter_free(old);
	}
	/* a message the '/' filter leaves out is not counted, but still paces a capture and
	 * ends a request's time in flight */
	int counted = !t->filter || fd_filter_match(t->filter, (struct fp_msg *)m);
	if (!counted) {
		pthread_mutex_lock(&t->mu);
		if (!t->replay || pace(t, m->ts_ns) == 0) {
			struct flight *f = m->dir == FP_REPLY ? flight_find(t, m->h.unique) : NULL;
			if (f)
				flight_del(t, f);
		}
		pthread_mutex_unlock(&t->mu);
		return;
	}
	struct reqpath rp;
	/* the path of a request that gets a reply, put together before taking the mutex */
	int answered = m->dir == FP_REQUEST && m->opcode != FP_INTERRUPT &&
		       !(m->op && (m->op->flags & FP_OP_NOREPLY));
	if (answered)
		req_path(m, &rp);
	pthread_mutex_lock(&t->mu);
	if (t->replay && pace(t, m->ts_ns) < 0) {
		pthread_mutex_unlock(&t->mu);
		return;
	}
	t->cur->msgs++;
	if (m->dir == FP_NOTIFY)
		t->cur->notify[m->opcode < NNOTIFY ? m->opcode : 0]++;
	else if (m->dir == FP_REQUEST)
		count_request(t, m, answered ? &rp : NULL);
	else
		count_reply(t, m);
	pthread_mutex_unlock(&t->mu);
}

void fd_top_event(struct fd_top *t, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *msg)
{
	(void)unique;
	pthread_mutex_lock(&t->mu);
	if (t->replay && pace(t, ts_ns) < 0) {
		pthread_mutex_unlock(&t->mu);
		return;
	}
	snprintf(t->event, sizeof(t->event), "%s", msg);
	t->event_seq++;
	/* "... mounted SRC on MNT (type ...": the title is "SRC on MNT" */
	const char *a = strstr(msg, "mounted "), *b = a ? strstr(a + 8, " (type") : NULL;
	if (!strcmp(name, "start") && b)
		snprintf(t->title, sizeof(t->title), "%.*s", (int)(b - (a + 8)), a + 8);
	if (!strcmp(name, "stop"))
		t->stopping = 1;
	if (!strcmp(name, "kernel") && t->fl) {
		/* the connection is gone: nothing in flight will be answered */
		memset(t->fl, 0, t->flcap * sizeof(*t->fl));
		memset(t->flop, 0, sizeof(t->flop));
		t->fln = 0;
	}
	pthread_mutex_unlock(&t->mu);
}

/* ------------------------------------------------------------------ a frame's data */

static void merge(struct ui *u, struct acc *d)
{
	struct acc *a = &u->tot;
	for (unsigned i = 0; i < NOPS; i++) {
		struct opacc *o = &a->op[i], *p = &d->op[i];
		if (!p->reqs && !p->replies)
			continue;
		o->reqs += p->reqs;
		o->replies += p->replies;
		o->errs += p->errs;
		o->lat_n += p->lat_n;
		o->lat_sum += p->lat_sum;
		if (p->lat_max > o->lat_max)
			o->lat_max = p->lat_max;
		for (unsigned b = 0; p->lat_n && b < LAT_BUCKETS; b++)
			o->hist[b] += p->hist[b];
	}
	for (unsigned i = 0; i < NNOTIFY; i++)
		a->notify[i] += d->notify[i];
	for (unsigned i = 0; i < NERRNO; i++)
		a->err[i] += d->err[i];
	a->msgs += d->msgs;
	a->rbytes += d->rbytes;
	a->wbytes += d->wbytes;
	for (size_t i = 0; i < d->paths.cap; i++) {
		const struct pent *p = &d->paths.e[i];
		if (!p->hash)
			continue;
		struct pent *q = ptab_get(&a->paths, p->hash, d->paths.s + p->off, p->len);
		if (q) {
			q->reqs += p->reqs;
			q->errs += p->errs;
			q->bytes += p->bytes;
		}
	}
}

/* Over PATHS_MAX paths: forget the least busy, until half are left. */
static void prune_paths(struct ui *u)
{
	struct ptab *old = &u->tot.paths;
	if (old->n <= PATHS_MAX)
		return;
	uint64_t cut = 1;
	for (;;) {
		size_t below = 0;
		for (size_t i = 0; i < old->cap; i++)
			below += old->e[i].hash && old->e[i].reqs <= cut;
		if (old->n - below <= PATHS_MAX / 2)
			break;
		cut *= 2;
	}
	struct ptab keep = {0};
	for (size_t i = 0; i < old->cap; i++) {
		const struct pent *p = &old->e[i];
		if (!p->hash)
			continue;
		if (p->reqs <= cut) {
			u->forgotten++;
			continue;
		}
		struct pent *q = ptab_get(&keep, p->hash, old->s + p->off, p->len);
		if (q) {
			q->reqs = p->reqs;
			q->errs = p->errs;
			q->bytes = p->bytes;
		}
	}
	ptab_free(old);
	*old = keep;
}

static void sample_rates(struct ui *u)
{
	const struct acc *a = &u->tot;
	if (u->nring && u->ring[(u->nring - 1) % RING].clock == u->clock)
		return; /* a paused capture: the rates stay as they were */
	struct sample *s = &u->ring[u->nring % RING];
	s->clock = u->clock;
	s->msgs = a->msgs;
	s->rbytes = a->rbytes;
	s->wbytes = a->wbytes;
	s->errs = 0;
	s->reqs = 0;
	for (unsigned i = 0; i < NOPS; i++) {
		s->op[i] = a->op[i].reqs;
		s->errs += a->op[i].errs;
		s->reqs += a->op[i].reqs;
	}
	u->nring++;
	/* the latest sample at least RATE_WINDOW_NS older, or else the oldest */
	unsigned n = u->nring < RING ? u->nring : RING;
	const struct sample *o = NULL;
	for (unsigned k = 1; k < n; k++) {
		o = &u->ring[(u->nring - 1 - k) % RING];
		if (s->clock - o->clock >= RATE_WINDOW_NS)
			break;
	}
	double dt = o && s->clock > o->clock ? (double)(s->clock - o->clock) / 1e9 : 0;
	if (dt <= 0) {
		memset(u->rate_op, 0, sizeof(u->rate_op));
		u->rate_msgs = u->rate_reqs = u->rate_r = u->rate_w = u->rate_errs = 0;
		return;
	}
	for (unsigned i = 0; i < NOPS; i++)
		u->rate_op[i] = (double)(s->op[i] - o->op[i]) / dt;
	u->rate_msgs = (double)(s->msgs - o->msgs) / dt;
	u->rate_reqs = (double)(s->reqs - o->reqs) / dt;
	u->rate_r = (double)(s->rbytes - o->rbytes) / dt;
	u->rate_w = (double)(s->wbytes - o->wbytes) / dt;
	u->rate_errs = (double)(s->errs - o->errs) / dt;
}

/* A frame: take what the feeding side counted and the oldest requests in flight. */
static void collect(struct fd_top *t)
{
	struct ui *u = &t->ui;
	struct {
		uint64_t ts;
		size_t i;
	} pick[SHOW_MAX];
	size_t np = 0, want = (size_t)(LINES > 0 ? LINES : MIN_H);
	if (want > SHOW_MAX)
		want = SHOW_MAX;

	pthread_mutex_lock(&t->mu);
	struct acc *d = t->cur;
	t->cur = u->spare;
	u->spare = d;
	u->clock = view_clock(t);
	for (size_t i = 0; i < t->flcap; i++) {
		if (!t->fl[i].unique || (np == want && t->fl[i].ts_ns >= pick[np - 1].ts))
			continue;
		size_t k = np < want ? np++ : np - 1;
		while (k > 0 && pick[k - 1].ts > t->fl[i].ts_ns) {
			pick[k] = pick[k - 1];
			k--;
		}
		pick[k].ts = t->fl[i].ts_ns;
		pick[k].i = i;
	}
	for (size_t k = 0; k < np; k++)
		u->show[k] = t->fl[pick[k].i];
	u->nshow = np;
	u->inflight = t->fln;
	memcpy(u->flop, t->flop, sizeof(u->flop));
	u->untracked = t->untracked;
	if (u->event_seen != t->event_seq) {
		u->event_seen = t->event_seq;
		memcpy(u->event, t->event, sizeof(u->event));
		memcpy(u->title, t->title, sizeof(u->title));
	}
	u->stopping = t->stopping;
	if (t->ended && !u->ended) {
		u->ended = 1;
		memcpy(u->end_why, t->end_why, sizeof(u->end_why));
	}
	pthread_mutex_unlock(&t->mu);

	merge(u, d);
	acc_clear(d);
	prune_paths(u);
	sample_rates(u);
}

/* ------------------------------------------------------------------ formatting */

/* v in at most `w` characters: as it is, or with k, M, G, T (powers of 1000). */
static const char *fmt_count(char *b, size_t n, double v, int w)
{
	static const char units[] = " kMGT";
	int len = snprintf(b, n, v < 10 && v != (double)(uint64_t)v ? "%.1f" : "%.0f", v);
	for (unsigned u = 1; len > w && u < sizeof(units) - 1; u++) {
		v /= 1000;
		len = snprintf(b, n, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	}
	return b;
}

static const char *fmt_bytes(char *b, size_t n, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(b, n, u && v < 10 ? "%.1f%s" : "%.0f%s", v, units[u]);
	return b;
}

static const char *fmt_lat(char *b, size_t n, uint64_t ns)
{
	double v = (double)ns;
	if (ns < 1000)
		snprintf(b, n, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(b, n, v < 1e4 ? "%.2fus" : v < 1e5 ? "%.1fus" : "%.0fus", v / 1e3);
	else if (ns < SEC)
		snprintf(b, n, v < 1e7 ? "%.2fms" : v < 1e8 ? "%.1fms" : "%.0fms", v / 1e6);
	else
		snprintf(b, n, v < 1e10 ? "%.2fs" : v < 1e11 ? "%.1fs" : "%.0fs", v / 1e9);
	return b;
}

static const char *fmt_age(char *b, size_t n, uint64_t ns)
{
	uint64_t s = ns / SEC;
	if (s < 60)
		snprintf(b, n, "%" PRIu64 ".%" PRIu64 "s", s, ns % SEC / (SEC / 10));
	else if (s < 3600)
		snprintf(b, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(b, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	return b;
}

static const char *opname(unsigned key, char *b, size_t n)
{
	const char *s = NULL;
	if (key >= NOTIFY_KEY) {
		const struct fp_op *op = fp_notify_get(key - NOTIFY_KEY);
		s = op ? op->name : NULL;
		if (!s)
			snprintf(b, n, "NOTIFY %u", key - NOTIFY_KEY);
	} else {
		s = key ? fp_op_name(key) : "(other)";
		if (!s)
			snprintf(b, n, "opcode %u", key);
	}
	if (s)
		snprintf(b, n, "%s", s);
	return b;
}

/* ------------------------------------------------------------------ drawing */

/* Up to w columns of s at (y, x); what could drive the terminal is shown as '?'. */
static void put(int y, int x, int w, const char *s)
{
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return;
	if (w > COLS - x)
		w = COLS - x;
	move(y, x);
	for (int i = 0; i < w && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		addch(c >= 0x20 && c < 0x7f ? c : '?');
	}
}

static void putf(int y, int x, int w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void putf(int y, int x, int w, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	put(y, x, w, b);
}

/* A path in w columns: its end, after "...", when it is longer. */
static void put_path(int y, int x, int w, const char *s, size_t n)
{
	char b[1024];
	if (w <= 0)
		return;
	if (n > (size_t)w && w > 3)
		snprintf(b, sizeof(b), "...%.*s", w - 3, s + n - (size_t)(w - 3));
	else
		snprintf(b, sizeof(b), "%.*s", (int)(n < sizeof(b) - 1 ? n : sizeof(b) - 1), s);
	put(y, x, w, b);
}

/* s in a cell of w columns, on its right when `right`. */
static void put_cell(int y, int x, int w, const char *s, int right)
{
	int n = (int)strlen(s);
	put(y, x + (right && n < w ? w - n : 0), w, s);
}

static void fill_line(int y, attr_t a)
{
	move(y, 0);
	attron(a);
	for (int x = 0; x < COLS; x++)
		addch(' ');
	attroff(a);
}

static void draw_title(struct fd_top *t, struct ui *u)
{
	char right[128], clk[32] = "--:--:--";
	time_t secs = (time_t)(u->clock / SEC);
	struct tm tm;
	if (u->clock && localtime_r(&secs, &tm))
		strftime(clk, sizeof(clk), "%H:%M:%S", &tm);
	if (t->replay && t->speed > 0)
		snprintf(right, sizeof(right), "%s capture at %s, x%g",
			 u->ended ? "end of" : t->paused ? "PAUSED" : "playing", clk, t->speed);
	else if (t->replay)
		snprintf(right, sizeof(right), "%s capture at %s, as fast as read",
			 u->ended ? "end of" : t->paused ? "PAUSED" : "playing", clk);
	else
		snprintf(right, sizeof(right), "%s%s",
			 u->frozen ? "PAUSED  " : u->stopping ? "stopping  " : "", clk);
	fill_line(0, A_REVERSE);
	attron(A_REVERSE | A_BOLD);
	putf(0, 0, COLS, "fusedump --top  %s", u->title);
	int rl = (int)strlen(right);
	put(0, COLS - rl - 1 > 0 ? COLS - rl - 1 : 0, rl, right);
	attroff(A_REVERSE | A_BOLD);
}

static void draw_totals(struct ui *u)
{
	char a[32], b[32], c[32], d[32], e[32], f[32];
	uint64_t oldest = u->nshow && u->clock > u->show[0].ts_ns ? u->clock - u->show[0].ts_ns : 0;
	/* what matters most first: on 80 columns, the message counts may not fit */
	putf(1, 0, COLS, "req/s %s  in flight %zu%s%s%s  read %s/s  write %s/s  msgs %s (%s/s)",
	     fmt_count(c, sizeof(c), u->rate_reqs, 7), u->inflight, u->nshow ? " (oldest " : "",
	     u->nshow ? fmt_age(d, sizeof(d), oldest) : "", u->nshow ? ")" : "",
	     fmt_bytes(e, sizeof(e), u->rate_r), fmt_bytes(f, sizeof(f), u->rate_w),
	     fmt_count(a, sizeof(a), (double)u->tot.msgs, 9), fmt_count(b, sizeof(b), u->rate_msgs, 7));
}

static void draw_errnos(struct ui *u)
{
	unsigned idx[NERRNO];
	unsigned n = 0;
	uint64_t total = 0;
	for (unsigned i = 0; i < NERRNO; i++) {
		if (!u->tot.err[i])
			continue;
		total += u->tot.err[i];
		unsigned k = n++;
		while (k > 0 && u->tot.err[idx[k - 1]] < u->tot.err[i]) {
			idx[k] = idx[k - 1];
			k--;
		}
		idx[k] = i;
	}
	char b[32], c[32];
	attron(A_BOLD);
	put(2, 0, 7, "ERRORS");
	attroff(A_BOLD);
	int x = 7;
	putf(2, x, COLS - x, "%s (%s/s)", fmt_count(b, sizeof(b), (double)total, 9),
	     fmt_count(c, sizeof(c), u->rate_errs, 7));
	x = 24;
	for (unsigned k = 0; k < n && x < COLS; k++) {
		char item[64], nb[24];
		const char *name = idx[k] ? fp_errno_name(idx[k]) : NULL;
		if (!name) {
			snprintf(nb, sizeof(nb), idx[k] ? "errno %u" : "other", idx[k]);
			name = nb;
		}
		int len = snprintf(item, sizeof(item), "%s %s", name,
				   fmt_count(b, sizeof(b), (double)u->tot.err[idx[k]], 9));
		if (x + len > COLS)
			break;
		put(2, x, len, item);
		x += len + 2;
	}
}

static void draw_flight(struct fd_top *t, struct ui *u, int y, int rows)
{
	char a[32], b[32];
	fill_line(y, A_BOLD);
	attron(A_BOLD);
	snprintf(a, sizeof(a), "IN FLIGHT %zu", u->inflight);
	putf(y, 0, COLS, "%-12s %8s %-13s %10s %7s  %s", a, "AGE", "OP", "UNIQUE", "PID",
	     "PATH (oldest first)");
	attroff(A_BOLD);
	if (!u->nshow) {
		put(y + 1, 0, COLS, u->ended && t->replay ? "  (nothing in flight at the end)"
							  : "  (nothing in flight)");
		return;
	}
	size_t shown = u->nshow < (size_t)rows ? u->nshow : (size_t)rows;
	if (u->inflight > shown && shown == (size_t)rows)
		shown--; /* room for the line that says how many more */
	for (size_t k = 0; k < shown; k++) {
		const struct flight *f = &u->show[k];
		uint64_t age = u->clock > f->ts_ns ? u->clock - f->ts_ns : 0;
		int row = y + 1 + (int)k;
		if (age >= SEC)
			attron(A_BOLD);
		putf(row, 0, COLS, "%-12s %8s %-13.13s %10" PRIu64 " %7" PRIu32 "  ",
		     f->intr ? " interrupted" : "", fmt_age(a, sizeof(a), age),
		     opname(f->opcode, b, sizeof(b)), f->unique, f->pid);
		put_path(row, FLIGHT_PATH_X, COLS - FLIGHT_PATH_X, f->path, strlen(f->path));
		attroff(A_BOLD);
	}
	if (shown < u->inflight)
		putf(y + 1 + (int)shown, 0, COLS, "  ... and %zu more%s", u->inflight - shown,
		     u->untracked ? " (some not tracked: too many)" : "");
}

static const uint64_t *sort_field(const struct oprow *r, int col)
{
	switch (col) {
	case C_REQS:
		return &r->reqs;
	case C_ERRS:
		return &r->errs;
	case C_INFL:
		return &r->infl;
	case C_AVG:
		return &r->avg;
	case C_P50:
		return &r->p50;
	case C_P99:
		return &r->p99;
	default:
		return &r->max;
	}
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct oprow *a = pa, *b = pb;
	const struct ui *u = arg;
	int r = 0;
	switch (u->sort) {
	case C_OP:
		r = strcmp(a->name, b->name);
		break;
	case C_RATE:
		r = a->rate < b->rate ? 1 : a->rate > b->rate ? -1 : 0;
		break;
	default: {
		/* the other columns are numbers, the largest first */
		const uint64_t *x = sort_field(a, u->sort), *y = sort_field(b, u->sort);
		r = *x < *y ? 1 : *x > *y ? -1 : 0;
	}
	}
	if (!r)
		r = a->key < b->key ? -1 : a->key > b->key;
	return u->rev ? -r : r;
}

/* The opcode rows, sorted; the selection stays on its opcode. */
static void build_rows(struct ui *u)
{
	size_t n = 0;
	for (unsigned i = 0; i < NOPS; i++) {
		const struct opacc *o = &u->tot.op[i];
		if (!o->reqs && !o->replies && !u->flop[i])
			continue;
		struct oprow *r = &u->rows[n++];
		r->key = i;
		opname(i, r->name, sizeof(r->name));
		r->reqs = o->reqs;
		r->errs = o->errs;
		r->infl = u->flop[i];
		r->rate = u->rate_op[i];
		r->lat_n = o->lat_n;
		r->avg = o->lat_n ? o->lat_sum / o->lat_n : 0;
		r->p50 = lat_pct(o, 50);
		r->p99 = lat_pct(o, 99);
		r->max = o->lat_max;
	}
	for (unsigned i = 0; i < NNOTIFY; i++) {
		if (!u->tot.notify[i])
			continue;
		struct oprow *r = &u->rows[n++];
		memset(r, 0, sizeof(*r));
		r->key = NOTIFY_KEY + i;
		opname(r->key, r->name, sizeof(r->name));
		r->reqs = u->tot.notify[i];
	}
	u->nrows = n;
	qsort_r(u->rows, n, sizeof(*u->rows), cmp_rows, u);
}

static int sel_index(const struct ui *u)
{
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i].key == u->sel)
			return (int)i;
	return -1;
}

static void draw_ops(struct ui *u, int y, int rows)
{
	int x = 0;
	fill_line(y, A_BOLD);
	for (int c = 0; c < NCOLS; c++) {
		attron(A_BOLD | (c == u->sort ? A_UNDERLINE : 0));
		put_cell(y, x, cols[c].width - 1, cols[c].name, c != C_OP);
		attroff(A_BOLD | A_UNDERLINE);
		x += cols[c].width;
	}
	int si = sel_index(u);
	if ((si < 0 || !u->sel_set) && u->nrows) {
		si = 0;
		u->sel = u->rows[0].key;
	}
	if (si < u->top_row)
		u->top_row = si;
	if (si >= u->top_row + rows)
		u->top_row = si - rows + 1;
	if (u->top_row > (int)u->nrows - rows)
		u->top_row = (int)u->nrows - rows;
	if (u->top_row < 0)
		u->top_row = 0;
	for (int k = 0; k < rows && u->top_row + k < (int)u->nrows; k++) {
		const struct oprow *r = &u->rows[u->top_row + k];
		char v[NCOLS][32];
		int note = r->key >= NOTIFY_KEY;
		snprintf(v[C_OP], sizeof(v[C_OP]), "%s", r->name);
		fmt_count(v[C_REQS], sizeof(v[0]), (double)r->reqs, cols[C_REQS].width - 1);
		fmt_count(v[C_RATE], sizeof(v[0]), r->rate, cols[C_RATE].width - 1);
		fmt_count(v[C_ERRS], sizeof(v[0]), (double)r->errs, cols[C_ERRS].width - 1);
		fmt_count(v[C_INFL], sizeof(v[0]), (double)r->infl, cols[C_INFL].width - 1);
		fmt_lat(v[C_AVG], sizeof(v[0]), r->avg);
		fmt_lat(v[C_P50], sizeof(v[0]), r->p50);
		fmt_lat(v[C_P99], sizeof(v[0]), r->p99);
		fmt_lat(v[C_MAX], sizeof(v[0]), r->max);
		if (note || !r->lat_n)
			for (int c = C_AVG; c <= C_MAX; c++)
				snprintf(v[c], sizeof(v[c]), "-");
		if (note)
			snprintf(v[C_RATE], sizeof(v[0]), "-");
		int row = y + 1 + k;
		if (r->key == u->sel)
			fill_line(row, A_REVERSE);
		attron(r->key == u->sel ? A_REVERSE : 0);
		x = 0;
		for (int c = 0; c < NCOLS; c++) {
			if (c == C_ERRS && r->errs)
				attron(A_BOLD);
			put_cell(row, x, cols[c].width - 1, v[c], c != C_OP);
			if (c == C_ERRS)
				attroff(A_BOLD);
			x += cols[c].width;
		}
		attroff(A_REVERSE);
	}
	/* more rows than room: arrows say which way the others are */
	if (u->top_row > 0)
		put(y + 1, COLS - 1, 1, "^");
	if (u->top_row + rows < (int)u->nrows)
		put(y + rows, COLS - 1, 1, "v");
}

static void draw_paths(struct ui *u, int y, int w, int rows)
{
	struct pent *top[SHOW_MAX];
	int n = 0;
	if (rows > SHOW_MAX)
		rows = SHOW_MAX;
	const struct ptab *p = &u->tot.paths;
	for (size_t i = 0; i < p->cap; i++) {
		struct pent *e = &p->e[i];
		if (!e->hash || (n == rows && e->reqs <= top[n - 1]->reqs))
			continue;
		int k = n < rows ? n++ : n - 1;
		while (k > 0 && top[k - 1]->reqs < e->reqs) {
			top[k] = top[k - 1];
			k--;
		}
		top[k] = e;
	}
	attron(A_BOLD);
	putf(y, 0, w, "%7s %6s %7s  %s", "REQS", "ERRS", "BYTES",
	     u->forgotten ? "BUSIEST PATHS (the least busy forgotten)" : "BUSIEST PATHS");
	attroff(A_BOLD);
	for (int k = 0; k < n; k++) {
		char a[32], b[32], c[32];
		putf(y + 1 + k, 0, w, "%7s %6s %7s  ", fmt_count(a, sizeof(a), (double)top[k]->reqs, 7),
		     fmt_count(b, sizeof(b), (double)top[k]->errs, 6),
		     fmt_bytes(c, sizeof(c), (double)top[k]->bytes));
		put_path(y + 1 + k, PATHS_PATH_X, w - PATHS_PATH_X, p->s + top[k]->off, top[k]->len);
	}
	if (!n)
		put(y + 1, 0, w, "  (no requests yet)");
}

/* The selected opcode's latencies: one line per power of two (several when they do not
 * fit), from the fastest to the slowest seen. */
static void draw_hist(struct ui *u, int y, int x, int w, int rows)
{
	char a[32], b[32], c[32];
	int si = sel_index(u);
	const struct oprow *r = si >= 0 ? &u->rows[si] : NULL;
	const struct opacc *o = r && r->key < NOPS ? &u->tot.op[r->key] : NULL;
	/* the percentiles when they fit (they are in the table too) */
	char head[160];
	int hl = snprintf(head, sizeof(head), "LATENCY %s", r ? r->name : "");
	if (o && o->lat_n && hl < (int)sizeof(head))
		snprintf(head + hl, sizeof(head) - (size_t)hl, "  p50 %s  p99 %s  max %s",
			 fmt_lat(a, sizeof(a), r->p50), fmt_lat(b, sizeof(b), r->p99),
			 fmt_lat(c, sizeof(c), r->max));
	if ((int)strlen(head) > w)
		head[hl] = 0;
	attron(A_BOLD);
	put(y, x, w, head);
	attroff(A_BOLD);
	if (rows < 2)
		return;
	if (!o || !o->lat_n) {
		put(y + 1, x, w, r && r->key >= NOTIFY_KEY ? "  (notifications have no reply)"
							   : "  (no replies yet)");
		return;
	}
	uint64_t oct[65] = {0};
	int lo = 64, hi = 0;
	for (unsigned bk = 0; bk < LAT_BUCKETS; bk++) {
		if (!o->hist[bk])
			continue;
		uint64_t wd, low = lat_low(bk, &wd);
		int k = low ? 64 - __builtin_clzll(low) : 0; /* [2^(k-1), 2^k) */
		oct[k] += o->hist[bk];
		lo = k < lo ? k : lo;
		hi = k > hi ? k : hi;
	}
	int span = hi - lo + 1, g = (span + rows - 2) / (rows - 1), nb = (span + g - 1) / g;
	uint64_t bins[65] = {0}, most = 1;
	for (int i = 0; i < nb; i++) {
		for (int k = lo + i * g; k < lo + (i + 1) * g && k <= hi; k++)
			bins[i] += oct[k];
		most = bins[i] > most ? bins[i] : most;
	}
	int barw = w - 17;
	for (int i = 0; i < nb; i++) {
		int k = lo + i * g;
		uint64_t low = k ? (uint64_t)1 << (k - 1) : 0;
		char bar[256];
		int len = (int)((double)bins[i] * barw / (double)most + 0.5);
		if (bins[i] && !len)
			len = 1;
		if (len > (int)sizeof(bar) - 1)
			len = (int)sizeof(bar) - 1;
		memset(bar, '#', (size_t)len);
		bar[len] = 0;
		putf(y + 1 + i, x, w, "%7s %-*s %7s", fmt_lat(a, sizeof(a), low), barw, bar,
		     fmt_count(b, sizeof(b), (double)bins[i], 7));
	}
}

static void draw_bottom(struct fd_top *t, struct ui *u)
{
	int y = LINES - 1;
	uint64_t now = now_mono();
	move(y, 0);
	clrtoeol();
	if (u->prompting) {
		putf(y, 0, COLS, "%s%s", u->prompt_filter ? "filter (Lua, -Y syntax; empty: none): " :
			"write the screen to: ", u->input);
		return;
	}
	const char *keys = "q quit  ? help";
	int kl = (int)strlen(keys);
	int w = COLS - kl - 2;
	if (now < u->status_until) {
		attron(A_BOLD);
		put(y, 0, w, u->status);
		attroff(A_BOLD);
	} else if (!t->replay && u->quits) {
		attron(A_BOLD);
		put(y, 0, w, u->quits == 1 ? "quitting: unmounting (q again: close /dev/fuse at once; "
					     "requests in flight fail)"
					   : "quitting: closing /dev/fuse");
		attroff(A_BOLD);
	} else if (u->ended) {
		attron(A_BOLD);
		putf(y, 0, w, "%s; q to quit", *u->end_why ? u->end_why : "the end of the capture");
		attroff(A_BOLD);
	} else if (now < u->errline_until) {
		putf(y, 0, w, "stderr: %s", u->errline);
	} else if (*u->event) {
		putf(y, 0, w, "# %s", u->event);
	}
	put(y, COLS - kl, kl, keys);
}

static const char *const help_lines[] = {
	"fusedump --top: keys",
	"",
	"q          quit: unmount and end, as on SIGINT;",
	"           again: close /dev/fuse at once",
	"p, space   pause (a capture: its play too)",
	"< >        sort the opcodes by the column left/right",
	"r          reverse the order",
	"up, down   select an opcode: its latencies on the right",
	"w          write the screen to a text file",
	"/          count only the messages a Lua expression",
	"           (-Y syntax) is true for; empty: all",
	"z          zero the counts (not what is in flight)",
	"^L         draw the screen again",
	"?          this help; any key to close it",
};

static void draw_help(void)
{
	int n = (int)(sizeof(help_lines) / sizeof(help_lines[0])), w = 60;
	int y0 = (LINES - n - 2) / 2, x0 = (COLS - w) / 2;
	for (int i = 0; i < n + 2; i++) {
		move(y0 + i, x0);
		attron(A_REVERSE);
		for (int x = 0; x < w; x++)
			addch(' ');
		if (i > 0 && i <= n)
			put(y0 + i, x0 + 2, w - 4, help_lines[i - 1]);
		attroff(A_REVERSE);
	}
}

static void draw(struct fd_top *t)
{
	struct ui *u = &t->ui;
	erase();
	if (LINES < MIN_H || COLS < MIN_W) {
		putf(0, 0, COLS, "fusedump --top needs %dx%d at least; this is %dx%d. q quits.", MIN_W,
		     MIN_H, COLS, LINES);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	build_rows(u);
	draw_title(t, u);
	draw_totals(u);
	draw_errnos(u);
	int body = LINES - 4, y = 3;
	int nfl = body / 5 > 3 ? body / 5 : 3;
	draw_flight(t, u, y, nfl);
	y += 1 + nfl;
	int rest = LINES - 1 - y, bottom = 6;
	int ops = rest - bottom - 1;
	if ((int)u->nrows < ops)
		ops = u->nrows ? (int)u->nrows : 1;
	draw_ops(u, y, ops);
	y += 1 + ops;
	int hw = COLS * 2 / 5;
	hw = hw < 32 ? 32 : hw > 72 ? 72 : hw;
	draw_paths(u, y, COLS - hw - 1, LINES - 2 - y);
	draw_hist(u, y, COLS - hw, hw, LINES - 1 - y);
	draw_bottom(t, u);
	if (u->help)
		draw_help();
	wnoutrefresh(stdscr);
	doupdate();
}

/* ------------------------------------------------------------------ keys, signals */

static void set_status(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->status, sizeof(u->status), fmt, ap);
	va_end(ap);
	u->status_until = now_mono() + 5 * SEC;
}

static void quit(struct fd_top *t)
{
	struct ui *u = &t->ui;
	if (t->replay) {
		pthread_mutex_lock(&t->mu);
		t->quit = 1;
		pthread_cond_broadcast(&t->cv);
		pthread_mutex_unlock(&t->mu);
		u->done = 1;
		return;
	}
	/* Live, q is ^C: kill(), not raise(), which would signal this thread only. Every
	 * thread blocks SIGINT, so it stays pending for the process until the proxy's loop
	 * reads it from its signalfd and unmounts, as for a SIGINT from outside; a second q is
	 * a second SIGINT, which closes /dev/fuse. */
	kill(getpid(), SIGINT);
	u->quits++;
}

static void pause_toggle(struct fd_top *t)
{
	struct ui *u = &t->ui;
	if (!t->replay) {
		u->frozen = !u->frozen;
		return;
	}
	pthread_mutex_lock(&t->mu);
	if (!t->paused) {
		t->base_virt = view_clock(t);
		t->paused = 1;
	} else {
		t->base_mono = now_mono();
		t->paused = 0;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
}

static void free_shot(struct ui *u)
{
	for (int i = 0; i < u->nshot; i++)
		free(u->shot[i]);
	free(u->shot);
	u->shot = NULL;
	u->nshot = 0;
}

/* 'w': keep the screen as it is now, and ask for a file name. */
static void start_write(struct ui *u)
{
	free_shot(u);
	u->shot = calloc((size_t)LINES, sizeof(*u->shot));
	if (!u->shot) {
		set_status(u, "out of memory");
		return;
	}
	u->nshot = LINES;
	for (int y = 0; y < LINES; y++) {
		char *s = malloc((size_t)COLS + 1);
		if (!s)
			break;
		int n = mvinnstr(y, 0, s, COLS);
		s[n > 0 ? n : 0] = 0;
		for (int i = n - 1; i >= 0 && s[i] == ' '; i--)
			s[i] = 0;
		u->shot[y] = s;
	}
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	u->ilen = strftime(u->input, sizeof(u->input), "fusedump-top-%Y%m%d-%H%M%S.txt", &tm);
	u->prompting = 1;
}

static void finish_write(struct ui *u)
{
	FILE *f = fopen(u->input, "w");
	int ok = f != NULL;
	for (int y = 0; ok && y < u->nshot; y++)
		ok = fprintf(f, "%s\n", u->shot[y] ? u->shot[y] : "") >= 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok)
		set_status(u, "wrote the screen to %s", u->input);
	else
		set_status(u, "%s: %s", u->input, strerror(errno));
	free_shot(u);
}

static void zero(struct ui *u)
{
	struct ptab p = u->tot.paths;
	ptab_free(&p);
	memset(&u->tot, 0, sizeof(u->tot));
	u->nring = 0;
	u->forgotten = 0;
	sample_rates(u);
}

/* '/': read a display filter, starting from the one in force */
static void start_filter(struct ui *u)
{
	snprintf(u->input, sizeof(u->input), "%s", u->filter);
	u->ilen = strlen(u->input);
	u->prompting = 1;
	u->prompt_filter = 1;
}

/* Compile the filter typed and hand it to the feeding thread; counts start again, since
 * they were of other messages. */
static void finish_filter(struct fd_top *t)
{
	struct ui *u = &t->ui;
	struct fd_filter *f = NULL;
	if (u->ilen) {
		char err[300];
		f = fd_filter_new(u->input, err, sizeof(err));
		if (!f) {
			set_status(u, "%s", err);
			return;
		}
	}
	pthread_mutex_lock(&t->mu);
	fd_filter_free(t->next_filter); /* one the feeding thread never took */
	t->next_filter = f;
	__atomic_store_n(&t->filter_changed, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&t->mu);
	snprintf(u->filter, sizeof(u->filter), "%s", u->input);
	zero(u);
	set_status(u, u->ilen ? "filter: %s" : "no filter%s", u->input);
}

static void prompt_key(struct fd_top *t, struct ui *u, int c)
{
	if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		u->prompting = 0;
		if (u->prompt_filter)
			finish_filter(t);
		else if (u->ilen)
			finish_write(u);
		else
			free_shot(u);
		u->prompt_filter = 0;
	} else if (c == 27) {
		u->prompting = 0;
		if (!u->prompt_filter)
			free_shot(u);
		u->prompt_filter = 0;
	} else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
		if (u->ilen)
			u->input[--u->ilen] = 0;
	} else if (c == 21) { /* ^U: clear the line */
		u->ilen = 0;
		u->input[0] = 0;
	} else if (c >= 0x20 && c < 0x7f && u->ilen + 1 < sizeof(u->input)) {
		u->input[u->ilen++] = (char)c;
		u->input[u->ilen] = 0;
	}
}

static void move_sel(struct ui *u, int d)
{
	int i = sel_index(u) + d;
	if (i >= 0 && i < (int)u->nrows)
		u->sel = u->rows[i].key;
	u->sel_set = 1;
}


static void on_keys(struct fd_top *t)
{
	struct ui *u = &t->ui;
	int c;
	while ((c = getch()) != ERR) {
		if (u->prompting) {
			prompt_key(t, u, c);
			continue;
		}
		if (u->help) {
			u->help = 0;
			continue;
		}
		switch (c) {
		case 'q':
		case 'Q':
			quit(t);
			break;
		case 'p':
		case ' ':
			pause_toggle(t);
			break;
		case '<':
		case ',':
			u->sort = (u->sort + NCOLS - 1) % NCOLS;
			break;
		case '>':
		case '.':
			u->sort = (u->sort + 1) % NCOLS;
			break;
		case 'r':
			u->rev = !u->rev;
			break;
		case KEY_UP:
		case 'k':
			move_sel(u, -1);
			break;
		case KEY_DOWN:
		case 'j':
			move_sel(u, 1);
			break;
		case 'w':
			start_write(u);
			break;
		case '/':
			start_filter(u);
			break;
		case 'z':
			zero(u);
			break;
		case '?':
		case 'h':
			u->help = 1;
			break;
		case 12: /* ^L */
			clearok(curscr, TRUE);
			break;
		default:
			break;
		}
	}
}

static void resize(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

static void on_signals(struct fd_top *t)
{
	struct signalfd_siginfo si;
	while (read(t->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGWINCH)
			resize();
		else if (si.ssi_signo == SIGTSTP)
			set_status(&t->ui, "not suspending: a stopped fusedump would hang the filesystem");
		else
			quit(t);
	}
}

/* What the daemon and fusedump wrote to standard error: kept for the end, its last
 * line shown. */
static void on_stderr(struct fd_top *t)
{
	struct ui *u = &t->ui;
	char b[4096];
	ssize_t n;
	while ((n = read(t->errfd, b, sizeof(b))) > 0) {
		size_t k = (size_t)n;
		if (u->errlen + k > STDERR_KEEP) {
			size_t drop = u->errlen + k - STDERR_KEEP;
			if (drop > u->errlen)
				drop = u->errlen;
			memmove(u->errkeep, u->errkeep + drop, u->errlen - drop);
			u->errlen -= drop;
			u->errlost += drop;
		}
		memcpy(u->errkeep + u->errlen, b, k); /* k <= sizeof(b) < STDERR_KEEP */
		u->errlen += k;
	}
	/* the last complete line */
	size_t end = u->errlen;
	while (end && u->errkeep[end - 1] == '\n')
		end--;
	size_t start = end;
	while (start && u->errkeep[start - 1] != '\n')
		start--;
	if (end > start) {
		snprintf(u->errline, sizeof(u->errline), "%.*s", (int)(end - start), u->errkeep + start);
		u->errline_until = now_mono() + 10 * SEC;
	}
}

static int closing(struct fd_top *t)
{
	pthread_mutex_lock(&t->mu);
	int c = t->closing;
	pthread_mutex_unlock(&t->mu);
	return c;
}

static void *run(void *arg)
{
	struct fd_top *t = arg;
	struct ui *u = &t->ui;
	int in = STDIN_FILENO;
	uint64_t next = now_mono();
	while (!u->done && !closing(t)) {
		uint64_t now = now_mono();
		if (now >= next) {
			/* paused (live), the counts wait in t->cur and the screen stays as it is */
			if (!u->frozen) {
				collect(t);
				draw(t);
			}
			next += TICK_NS;
			if (next <= now)
				next = now + TICK_NS;
		}
		struct pollfd pf[4] = {
			{in, POLLIN, 0}, {t->sigfd, POLLIN, 0}, {t->wakefd, POLLIN, 0}, {t->errfd, POLLIN, 0},
		};
		now = now_mono();
		int ms = next > now ? (int)((next - now) / 1000000u) + 1 : 0;
		if (poll(pf, 4, ms) <= 0)
			continue;
		if (pf[2].revents) {
			/* closing, or the end of a capture, to be shown now */
			uint64_t v;
			if (read(t->wakefd, &v, sizeof(v)) == (ssize_t)sizeof(v))
				next = now_mono();
			continue;
		}
		if (pf[1].revents)
			on_signals(t);
		if (pf[3].revents)
			on_stderr(t);
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* the terminal went away: nobody is left to quit */
			in = -1;
			if (!u->quits)
				quit(t);
		} else if (pf[0].revents) {
			on_keys(t);
		}
		if ((pf[0].revents || pf[1].revents) && !u->done)
			draw(t);
	}
	endwin();
	pthread_mutex_lock(&t->mu);
	t->ui_gone = 1;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* ------------------------------------------------------------------ start and end */

static void top_free(struct fd_top *t)
{
	if (t->sigfd >= 0)
		close(t->sigfd);
	if (t->wakefd >= 0)
		close(t->wakefd);
	ptab_free(&t->cur->paths);
	free(t->cur);
	ptab_free(&t->ui.spare->paths);
	free(t->ui.spare);
	ptab_free(&t->ui.tot.paths);
	free(t->fl);
	free_shot(&t->ui);
	free(t->ui.errkeep);
	fd_filter_free(t->filter);
	fd_filter_free(t->next_filter);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Give standard error back, then write what came through the pipe. */
static void restore_stderr(struct fd_top *t)
{
	struct ui *u = &t->ui;
	if (t->errfd < 0)
		return;
	on_stderr(t);
	dup2(t->saved_err, STDERR_FILENO);
	close(t->saved_err);
	close(t->errfd);
	t->errfd = -1;
	if (u->errlost)
		fprintf(stderr, "fusedump: (%" PRIu64 " earlier bytes of standard error not kept)\n",
			u->errlost);
	for (size_t off = 0; off < u->errlen;) {
		ssize_t w = write(STDERR_FILENO, u->errkeep + off, u->errlen - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

struct fd_top *fd_top_start(const char *capture, double speed, char *err, size_t n)
{
	struct fd_top *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	t->replay = capture != NULL;
	t->speed = speed;
	t->sigfd = t->wakefd = t->errfd = t->saved_err = -1;
	t->ui.sort = C_REQS;
	if (capture)
		snprintf(t->title, sizeof(t->title), "%s", capture);
	snprintf(t->ui.title, sizeof(t->ui.title), "%s", t->title);
	t->cur = calloc(1, sizeof(*t->cur));
	t->ui.spare = calloc(1, sizeof(*t->ui.spare));
	t->ui.errkeep = malloc(STDERR_KEEP);
	if (!t->cur || !t->ui.spare || !t->ui.errkeep) {
		snprintf(err, n, "out of memory");
		top_free(t);
		return NULL;
	}

	sigset_t sigs, mine;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGTSTP);
	sigaddset(&sigs, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	mine = sigs;
	if (!capture) {
		sigdelset(&mine, SIGINT);
		sigdelset(&mine, SIGTERM);
		sigdelset(&mine, SIGHUP);
	}
	t->sigfd = signalfd(-1, &mine, SFD_CLOEXEC | SFD_NONBLOCK);
	t->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->sigfd < 0 || t->wakefd < 0) {
		snprintf(err, n, "%s: %s", t->sigfd < 0 ? "signalfd" : "eventfd", strerror(errno));
		top_free(t);
		return NULL;
	}

	t->scr = newterm(NULL, stdout, stdin);
	if (!t->scr) {
		const char *term = getenv("TERM");
		snprintf(err, n, "--top: cannot use the terminal (TERM=%s)", term ? term : "");
		top_free(t);
		return NULL;
	}
	set_term(t->scr);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	leaveok(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);

	/* Standard error on the terminal would write over the screen: a pipe takes its place. */
	int p[2];
	if (isatty(STDERR_FILENO) && pipe2(p, O_CLOEXEC) == 0) {
		t->saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (t->saved_err >= 0 && dup2(p[1], STDERR_FILENO) >= 0) {
			fcntl(p[0], F_SETFL, O_NONBLOCK);
			t->errfd = p[0];
		} else {
			if (t->saved_err >= 0)
				close(t->saved_err);
			close(p[0]);
		}
		close(p[1]);
	}

	/* what the view's thread wants of signals, it reads from sigfd */
	int e = fd_thread_start(&t->th, run, t);
	if (e) {
		endwin();
		delscreen(t->scr);
		restore_stderr(t);
		snprintf(err, n, "--top: starting a thread: %s", strerror(e));
		top_free(t);
		return NULL;
	}
	pthread_setname_np(t->th, "fusedump-top");
	t->thread = 1;
	return t;
}

void fd_top_wait(struct fd_top *t, const char *why)
{
	uint64_t one = 1;
	pthread_mutex_lock(&t->mu);
	t->ended = 1;
	snprintf(t->end_why, sizeof(t->end_why), "%s", why ? why : "");
	pthread_mutex_unlock(&t->mu);
	if (write(t->wakefd, &one, sizeof(one)) < 0)
		return;
	pthread_mutex_lock(&t->mu);
	while (!t->quit && !t->ui_gone)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

void fd_top_close(struct fd_top *t)
{
	if (!t)
		return;
	if (t->thread) {
		uint64_t one = 1;
		pthread_mutex_lock(&t->mu);
		t->closing = 1;
		pthread_mutex_unlock(&t->mu);
		/* it also looks at `closing` at every frame, should the wakeup fail */
		if (write(t->wakefd, &one, sizeof(one)) < 0)
			fprintf(stderr, "fusedump: --top: eventfd: %s\n", strerror(errno));
		pthread_join(t->th, NULL);
	}
	delscreen(t->scr);
	restore_stderr(t);
	top_free(t);
}
