/* The mirror ring (fusetransport/mirror.h): records come out as they went in, in the order
 * they were reserved, across the end of the ring and from several threads at once; file
 * data is cut to `keep` for READ replies and WRITE requests only; a full ring loses
 * messages (counted) and never blocks; an unfinished record waits, unless its producer is
 * gone; a scribbled record is dropped, never read out of bounds. */
#define _GNU_SOURCE /* pthread_tryjoin_np */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuseproto/abi.h"
#include "fuseproto/le.h"
#include "fusetransport/kernel.h"
#include "fusetransport/mirror.h"

#define RING (4u << 20)

struct pair {
	struct ft_mirror c, p; /* the consumer's mapping, a producer's */
};

static struct pair *open_pair(uint32_t keep)
{
	static struct pair pr;
	char err[FT_ERRBUF_SIZE];
	assert_int_equal(ft_mirror_create(&pr.c, RING, keep, err), 0);
	assert_int_equal(ft_mirror_attach(&pr.p, pr.c.fd), 0);
	assert_int_equal(ft_mirror_attached(&pr.c), 1);
	return &pr;
}

static void close_pair(struct pair *pr)
{
	ft_mirror_close(&pr->p);
	ft_mirror_close(&pr->c);
}

/* A message of len bytes: header len, opcode (or error), unique, then bytes of `fill`. */
static uint8_t *msg(uint8_t *b, uint32_t len, uint32_t opcode, uint64_t unique, uint8_t fill)
{
	memset(b, fill, len);
	fp_store_le(b, 4, len);
	fp_store_le(b + 4, 4, opcode);
	fp_store_le(b + 8, 8, unique);
	return b;
}

static void put(struct pair *pr, enum ft_mirror_from from, const uint8_t *b, size_t len)
{
	struct ft_mirror_rec *r =
		ft_mirror_begin(&pr->p, from, &(struct iovec){(void *)b, len}, 1, len);
	assert_non_null(r);
	ft_mirror_end(&pr->p, r, 0);
}

/* The next record: from, msglen, caplen, and its bytes equal to want's first caplen. */
static void get(struct pair *pr, enum ft_mirror_from from, const uint8_t *want, uint32_t msglen,
		uint32_t caplen)
{
	const uint8_t *data;
	const struct ft_mirror_rec *r = ft_mirror_peek(&pr->c, &data);
	assert_non_null(r);
	assert_int_equal(r->from, from);
	assert_int_equal(r->msglen, msglen);
	assert_int_equal(r->caplen, caplen);
	assert_int_equal(r->pid, getpid());
	assert_true(r->ts_ns > 0);
	assert_memory_equal(data, want, caplen);
	ft_mirror_next(&pr->c);
}

static void test_roundtrip_and_cut(void **state)
{
	(void)state;
	struct pair *pr = open_pair(64);
	static uint8_t a[8192], b[8192], c[8192], d[8192];
	msg(a, 80, FP_READ, 10, 1);
	put(pr, FT_MIRROR_KERNEL, a, 80);
	msg(b, 16 + 4096, 0, 10, 2); /* the READ's reply: data cut */
	put(pr, FT_MIRROR_DAEMON, b, 16 + 4096);
	msg(c, 80 + 4096, FP_WRITE, 12, 3); /* WRITE: data cut */
	put(pr, FT_MIRROR_KERNEL, c, 80 + 4096);
	msg(d, 16 + 4096, 0, 12, 4); /* not a READ's reply: whole */
	put(pr, FT_MIRROR_DAEMON, d, 16 + 4096);
	put(pr, FT_MIRROR_DAEMON, b, 16 + 4096); /* unique 10 again: no READ waits for it */
	msg(a + 100, 80, FP_READ, 14, 5);
	put(pr, FT_MIRROR_KERNEL, a + 100, 80);
	msg(a + 200, 16 + 50, 0, 14, 6); /* a READ's reply, but short: not cut */
	put(pr, FT_MIRROR_DAEMON, a + 200, 16 + 50);
	get(pr, FT_MIRROR_KERNEL, a, 80, 80);
	get(pr, FT_MIRROR_DAEMON, b, 16 + 4096, 16 + 64);
	get(pr, FT_MIRROR_KERNEL, c, 80 + 4096, 80 + 64);
	get(pr, FT_MIRROR_DAEMON, d, 16 + 4096, 16 + 4096);
	get(pr, FT_MIRROR_DAEMON, b, 16 + 4096, 16 + 4096);
	get(pr, FT_MIRROR_KERNEL, a + 100, 80, 80);
	get(pr, FT_MIRROR_DAEMON, a + 200, 16 + 50, 16 + 50);
	const uint8_t *data;
	assert_null(ft_mirror_peek(&pr->c, &data));
	assert_int_equal(ft_mirror_lost(&pr->c), 0);
	close_pair(pr);
}

/* Gathered from several iovecs, and laps of the ring: a record is whole where it wraps. */
static void test_iov_and_laps(void **state)
{
	(void)state;
	struct pair *pr = open_pair(0);
	static uint8_t m[70000];
	for (unsigned i = 0; i < 3 * RING / sizeof(m); i++) {
		uint32_t len = 1000 + (i * 7919) % (sizeof(m) - 1000);
		msg(m, len, 1000 + i, 2 * i + 2, (uint8_t)i);
		struct iovec iov[3] = {{m, 16}, {m + 16, 7}, {m + 23, len - 23}};
		struct ft_mirror_rec *r = ft_mirror_begin(&pr->p, FT_MIRROR_DAEMON, iov, 3, len);
		assert_non_null(r);
		ft_mirror_end(&pr->p, r, i % 2 ? 2 : 0);
		const uint8_t *data;
		const struct ft_mirror_rec *g = ft_mirror_peek(&pr->c, &data);
		assert_non_null(g);
		assert_int_equal(g->msglen, len);
		assert_int_equal(g->result, i % 2 ? 2 : 0);
		assert_memory_equal(data, m, len);
		ft_mirror_next(&pr->c);
		ft_mirror_release(&pr->c);
	}
	assert_int_equal(ft_mirror_fill(&pr->c), 0);
	close_pair(pr);
}

/* A full ring loses what does not fit, counts it, and takes messages again once freed. */
static void test_full(void **state)
{
	(void)state;
	struct pair *pr = open_pair(0);
	static uint8_t m[65536];
	msg(m, sizeof(m), 1, 2, 9);
	unsigned n = 0;
	while (ft_mirror_begin(&pr->p, FT_MIRROR_KERNEL, &(struct iovec){m, sizeof(m)}, 1,
			       sizeof(m)) != NULL)
		n++;
	assert_int_equal(n, RING / (sizeof(m) + sizeof(struct ft_mirror_rec)));
	assert_int_equal(ft_mirror_lost(&pr->c), 1);
	/* reserved but never finished: the consumer waits for them ... */
	const uint8_t *data;
	assert_null(ft_mirror_peek(&pr->c, &data));
	/* ... unless their producer is gone */
	const struct ft_mirror_rec *r = ft_mirror_peek_any(&pr->c, &data);
	assert_non_null(r);
	assert_int_equal(r->msglen, sizeof(m));
	assert_int_equal(r->ts_ns, 0);
	assert_memory_equal(data, m, sizeof(m));
	ft_mirror_next(&pr->c);
	ft_mirror_release(&pr->c);
	put(pr, FT_MIRROR_KERNEL, m, 1000);
	close_pair(pr);
}

/* A record whose header a producer scribbled over is dropped with all that was reserved,
 * whatever the lie: data past the record, a record past the ring or past what was
 * reserved, a size that is not a multiple of 8. */
static void test_scribbled(void **state)
{
	(void)state;
	static uint8_t m[100];
	msg(m, sizeof(m), 1, 2, 9);
	for (int how = 0; how < 4; how++) {
		struct pair *pr = open_pair(0);
		struct ft_mirror_rec *r = ft_mirror_begin(&pr->p, FT_MIRROR_KERNEL,
							  &(struct iovec){m, sizeof(m)}, 1, sizeof(m));
		put(pr, FT_MIRROR_KERNEL, m, sizeof(m));
		if (how == 0)
			r->caplen = 1u << 30;
		else if (how == 1)
			r->size = 2 * RING;
		else if (how == 2)
			r->size += 8 * 200; /* past head */
		else
			r->size += 4;
		ft_mirror_end(&pr->p, r, 0);
		const uint8_t *data;
		assert_null(ft_mirror_peek(&pr->c, &data));
		assert_int_equal(ft_mirror_lost(&pr->c), 1);
		assert_int_equal(ft_mirror_fill(&pr->c), 0);
		put(pr, FT_MIRROR_KERNEL, m, sizeof(m));
		get(pr, FT_MIRROR_KERNEL, m, sizeof(m), sizeof(m));
		close_pair(pr);
	}
}

/* Producers in several threads, the consumer alongside: each thread's messages come out in
 * its order, none twice, and what is neither read nor lost does not exist. */
#define THREADS 4
#define PER_THREAD 50000

struct producer {
	struct ft_mirror *p;
	unsigned id;
};

static void *produce(void *arg)
{
	struct producer *w = arg;
	uint8_t m[200];
	for (uint32_t seq = 0; seq < PER_THREAD; seq++) {
		uint32_t len = 24 + seq % 150;
		msg(m, len, w->id, seq, (uint8_t)seq);
		struct ft_mirror_rec *r =
			ft_mirror_begin(w->p, FT_MIRROR_KERNEL, &(struct iovec){m, len}, 1, len);
		if (r)
			ft_mirror_end(w->p, r, 0);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct pair *pr = open_pair(0);
	pthread_t t[THREADS];
	struct producer w[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct producer){&pr->p, i};
		assert_int_equal(pthread_create(&t[i], NULL, produce, &w[i]), 0);
	}
	int64_t next[THREADS] = {0};
	uint64_t got = 0;
	unsigned joined = 0;
	while (joined < THREADS || ft_mirror_fill(&pr->c)) {
		const struct ft_mirror_rec *r;
		const uint8_t *b;
		while ((r = ft_mirror_peek(&pr->c, &b))) {
			uint32_t id = (uint32_t)fp_load_le(b + 4, 4);
			int64_t seq = (int64_t)fp_load_le(b + 8, 8);
			assert_true(id < THREADS);
			assert_true(seq >= next[id]); /* in order; a gap is a lost message */
			assert_int_equal(r->msglen, 24 + seq % 150);
			assert_int_equal(b[r->msglen - 1], (uint8_t)seq);
			next[id] = seq + 1;
			got++;
			ft_mirror_next(&pr->c);
		}
		ft_mirror_release(&pr->c);
		if (joined < THREADS && pthread_tryjoin_np(t[joined], NULL) == 0)
			joined++;
	}
	assert_int_equal(got + ft_mirror_lost(&pr->c), (uint64_t)THREADS * PER_THREAD);
	print_message("%u threads: %llu messages read, %llu lost\n", THREADS,
		      (unsigned long long)got, (unsigned long long)ft_mirror_lost(&pr->c));
	close_pair(pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_cut),
		cmocka_unit_test(test_iov_and_laps),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_scribbled),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
