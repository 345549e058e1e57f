/* The mirror ring of fusetransport/mirror.h: shared by the LD_PRELOAD library (producers)
 * and the tracer (the consumer). No allocation, no stdio on the producer side: it runs
 * inside the daemon's read() and write() calls. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuseproto/abi.h"
#include "fuseproto/le.h"
#include "fusetransport/kernel.h"
#include "fusetransport/mirror.h"
#include "internal.h"

#define MAGIC 0x524d5746u   /* "FWMR" */
#define VERSION 1u
#define PENDING 0x50454e44494e475fULL /* a stamp: position ^ PENDING while being filled */
#define FT_MIRROR_DONE 0x444f4e455f5f5f5fULL /* position ^ this once complete */
#define SIZE_MIN (4u << 20)
#define SIZE_MAX_ (2ull << 30) /* record sizes are 32-bit */

struct ft_mirror_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t size;
	uint32_t keep;
	uint32_t attached;
	uint64_t lost;
	uint64_t head __attribute__((aligned(64))); /* reserved up to here (producers) */
	uint64_t tail __attribute__((aligned(64))); /* freed up to here (the consumer) */
};

/* Whether `size` can be a ring's: a power of two from 4 MiB to 2 GiB. */
static int size_ok(uint64_t size)
{
	return size >= SIZE_MIN && !(size & (size - 1)) && size <= SIZE_MAX_;
}

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

/* Map the header page, then the data twice in a row, of memfd fd. */
static int map_ring(struct ft_mirror *m, int fd, size_t size)
{
	size_t pg = page_size();
	uint8_t *base = mmap(NULL, pg + 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	/* populated: a page fault in the daemon's read() costs more than the copy */
	int fl = MAP_SHARED | MAP_FIXED | MAP_POPULATE;
	if (mmap(base, pg, PROT_READ | PROT_WRITE, fl, fd, 0) == MAP_FAILED ||
	    mmap(base + pg, size, PROT_READ | PROT_WRITE, fl, fd, (off_t)pg) == MAP_FAILED ||
	    mmap(base + pg + size, size, PROT_READ | PROT_WRITE, fl, fd, (off_t)pg) == MAP_FAILED) {
		int e = errno;
		munmap(base, pg + 2 * size);
		errno = e;
		return -1;
	}
	m->h = (struct ft_mirror_hdr *)base;
	m->data = base + pg;
	m->size = size;
	return 0;
}

int ft_mirror_create(struct ft_mirror *m, size_t size, uint32_t keep, char *errbuf)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!size)
		size = FT_MIRROR_SIZE_DEFAULT;
	if (!size_ok(size)) {
		ft_seterr(errbuf, "mirror ring of %zu bytes: not a power of two from 4 MiB to 2 GiB",
			  size);
		return -1;
	}
	int fd = memfd_create("fusewire-mirror", 0);
	if (fd < 0 || ftruncate(fd, (off_t)(page_size() + size)) < 0 || map_ring(m, fd, size) < 0) {
		ft_seterr(errbuf, "mirror ring of %zu MiB: %s", size >> 20, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m->fd = fd;
	m->h->magic = MAGIC;
	m->h->version = VERSION;
	m->h->size = size;
	m->h->keep = keep;
	return 0;
}

/* ------------------------------------------------------------------ producers */

/* The pid of this process, refreshed after a fork (getpid() is a system call). */
static pid_t my_pid;

static void forked(void)
{
	my_pid = getpid();
}

int ft_mirror_attach(struct ft_mirror *m, int fd)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	size_t pg = page_size();
	struct ft_mirror_hdr *h = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return -1;
	uint64_t size = h->size;
	int ok = h->magic == MAGIC && h->version == VERSION && size_ok(size);
	munmap(h, pg);
	if (!ok) {
		errno = EPROTO;
		return -1;
	}
	if (map_ring(m, fd, (size_t)size) < 0)
		return -1;
	forked();
	pthread_atfork(NULL, NULL, forked);
	__atomic_add_fetch(&m->h->attached, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * The uniques of READ requests in flight, so that their replies, which carry no opcode,
 * can be told apart and their data cut. One slot per hash of the unique; a READ that
 * finds its slot taken by a later one is simply copied whole. Per process: a request is
 * answered by the process that read it.
 */
#define NREADS 1024
static uint64_t reads[NREADS];

static size_t read_slot(uint64_t unique)
{
	return (size_t)((unique * 0x9e3779b97f4a7c15ull) >> 54) & (NREADS - 1);
}

/* Bytes of a `len`-byte message to copy: all, or its headers and `keep` bytes of data. */
static size_t to_copy(const struct ft_mirror *m, enum ft_mirror_from from, const struct iovec *iov,
		      int iovcnt, size_t len)
{
	uint8_t hdr[16];
	size_t got = 0;
	for (int i = 0; i < iovcnt && got < sizeof(hdr); i++) {
		size_t n = iov[i].iov_len < sizeof(hdr) - got ? iov[i].iov_len : sizeof(hdr) - got;
		memcpy(hdr + got, iov[i].iov_base, n);
		got += n;
	}
	if (got < sizeof(hdr))
		return len;
	uint64_t unique = fp_load_le(hdr + 8, 8);
	size_t payload = len;
	if (from == FT_MIRROR_KERNEL) {
		uint32_t opcode = (uint32_t)fp_load_le(hdr + 4, 4);
		if (opcode == FP_READ)
			__atomic_store_n(&reads[read_slot(unique)], unique, __ATOMIC_RELAXED);
		else if (opcode == FP_WRITE)
			payload = 40 + 40; /* fuse_in_header, fuse_write_in */
	} else if (unique) {
		uint64_t want = unique;
		if (__atomic_compare_exchange_n(&reads[read_slot(unique)], &want, 0, 0,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			payload = 16; /* fuse_out_header, then the data */
	}
	uint32_t keep = m->h->keep;
	if (!keep || payload >= len || len - payload <= keep)
		return len;
	return payload + keep;
}

struct ft_mirror_rec *ft_mirror_begin(struct ft_mirror *m, enum ft_mirror_from from,
				      const struct iovec *iov, int iovcnt, size_t len)
{
	struct ft_mirror_hdr *h = m->h;
	size_t cap = to_copy(m, from, iov, iovcnt, len);
	uint64_t size = (sizeof(struct ft_mirror_rec) + cap + 7) & ~(uint64_t)7;
	uint64_t pos = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
	do {
		uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
		if (size > m->size || pos + size - tail > m->size || len > UINT32_MAX) {
			__atomic_add_fetch(&h->lost, 1, __ATOMIC_RELAXED);
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&h->head, &pos, pos + size, 1, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	struct ft_mirror_rec *r = (struct ft_mirror_rec *)(m->data + (pos & (m->size - 1)));
	r->size = (uint32_t)size;
	r->msglen = (uint32_t)len;
	r->caplen = (uint32_t)cap;
	r->from = (uint8_t)from;
	r->result = 0;
	r->pid = my_pid;
	r->ts_ns = 0;
	__atomic_store_n(&r->stamp, pos ^ PENDING, __ATOMIC_RELEASE);
	uint8_t *p = (uint8_t *)(r + 1);
	for (int i = 0; i < iovcnt && cap; i++) {
		size_t n = iov[i].iov_len < cap ? iov[i].iov_len : cap;
		memcpy(p, iov[i].iov_base, n);
		p += n;
		cap -= n;
	}
	return r;
}

void ft_mirror_end(struct ft_mirror *m, struct ft_mirror_rec *r, int result)
{
	(void)m;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	r->result = result;
	uint64_t pos = __atomic_load_n(&r->stamp, __ATOMIC_RELAXED) ^ PENDING;
	__atomic_store_n(&r->stamp, pos ^ FT_MIRROR_DONE, __ATOMIC_RELEASE);
}

void ft_mirror_count_lost(struct ft_mirror *m)
{
	__atomic_add_fetch(&m->h->lost, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ the consumer */

/* The record at the read position, complete (or, with any, at least reserved and sized),
 * copied and checked to lie within what was reserved; NULL when there is none. A record
 * that does not is the work of a producer that scribbled on the ring: everything reserved
 * is dropped. */
static const struct ft_mirror_rec *peek(struct ft_mirror *m, int any, const uint8_t **data)
{
	struct ft_mirror_hdr *h = m->h;
	uint64_t pos = m->pos;
	uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	if (pos == head)
		return NULL;
	const uint8_t *at = m->data + (pos & (m->size - 1));
	const struct ft_mirror_rec *r = (const void *)at;
	uint64_t stamp = __atomic_load_n(&r->stamp, __ATOMIC_ACQUIRE);
	if (stamp != (pos ^ FT_MIRROR_DONE) && !(any && stamp == (pos ^ PENDING))) {
		if (any)
			goto drop; /* reserved, but its producer died before it wrote a size */
		return NULL;
	}
	/* one copy, checked once: the shared bytes may change under us */
	memcpy(&m->rec, r, sizeof(m->rec));
	struct ft_mirror_rec *c = &m->rec;
	if (c->size < sizeof(*c) || c->size % 8 || c->size > m->size || c->size > head - pos ||
	    c->caplen > c->size - sizeof(*c) || c->caplen > c->msglen)
		goto drop;
	if (stamp != (pos ^ FT_MIRROR_DONE))
		c->ts_ns = 0;
	*data = at + sizeof(*c);
	return c;
drop:
	__atomic_add_fetch(&h->lost, 1, __ATOMIC_RELAXED);
	m->pos = head;
	ft_mirror_release(m);
	return NULL;
}

const struct ft_mirror_rec *ft_mirror_peek(struct ft_mirror *m, const uint8_t **data)
{
	return peek(m, 0, data);
}

const struct ft_mirror_rec *ft_mirror_peek_any(struct ft_mirror *m, const uint8_t **data)
{
	return peek(m, 1, data);
}

void ft_mirror_next(struct ft_mirror *m)
{
	m->pos += m->rec.size;
}

void ft_mirror_release(struct ft_mirror *m)
{
	uint64_t tail = m->h->tail;
	if (m->pos == tail)
		return;
	memset(m->data + (tail & (m->size - 1)), 0, (size_t)(m->pos - tail));
	__atomic_store_n(&m->h->tail, m->pos, __ATOMIC_RELEASE);
}

size_t ft_mirror_fill(const struct ft_mirror *m)
{
	return (size_t)(__atomic_load_n(&m->h->head, __ATOMIC_RELAXED) -
			__atomic_load_n(&m->h->tail, __ATOMIC_RELAXED));
}

uint64_t ft_mirror_lost(const struct ft_mirror *m)
{
	return __atomic_load_n(&m->h->lost, __ATOMIC_RELAXED);
}

uint32_t ft_mirror_attached(const struct ft_mirror *m)
{
	return __atomic_load_n(&m->h->attached, __ATOMIC_RELAXED);
}

void ft_mirror_close(struct ft_mirror *m)
{
	if (m->h)
		munmap(m->h, page_size() + 2 * m->size);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}
