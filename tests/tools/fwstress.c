/* Concurrent readers and writers on a directory (a FUSE mount), checking every byte read.
 *
 *   fwstress [-k] [-t THREADS] [-r READERS] [-s SECONDS] [-b BLOCKS] [-m MANIFEST] DIR
 *   fwstress -C MANIFEST DIR
 *
 * Run mode: THREADS workers (default 32) each own a file DIR/wNN of BLOCKS 4 KiB blocks
 * (default 64) and, for SECONDS (default 10), write runs of blocks, read runs back, read the
 * whole file, fsync, fstat and reopen it, in a random mix. READERS more threads (default 4)
 * read random runs of DIR/shared, written once at the start. -k: never reopen; every file
 * stays open from start to end (what still works after a lazy unmount).
 *
 * Every block says whose it is, which block and which generation (how often it was
 * written), and the rest of it is a pseudo-random function of those three, so a stale,
 * misplaced, torn or foreign block is told apart from the right one. With -m, the
 * generation of every block at the end goes to MANIFEST (keep it outside DIR). Check mode
 * (-C) reads the files named in MANIFEST from DIR (the daemon's own directory, say) and
 * compares them with it.
 *
 * A thread stops at its first error or wrong block and says so on stderr (`fwstress: w03
 * write: ENOTCONN`, `fwstress: w03: block 5 wrong ...`). At the end one line on stdout
 * counts operations and the pwrite and pread calls made (setup included): "ops=N writes=N
 * reads=N ...". Exit status: 0 all good, 1 some operation failed (errno), 2 some content was
 * wrong, 3 usage or setup error. */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BS 4096
#define MAGIC 0x7373657274737766ull /* "fwstress", little-endian */
#define RUN_MAX 8                   /* blocks per read or write */
#define SHARED_OWNER 0              /* workers are owners 1..THREADS */

struct worker {
	pthread_t tid;
	unsigned owner;     /* 0: a reader of DIR/shared */
	char name[16];
	char path[4096];
	uint64_t rng;
	uint32_t *gen;      /* per block; NULL for a reader (all at generation 0) */
	uint64_t ops, writes, reads, bytes;
	int err;            /* errno of the failed operation, or 0 */
	int bad;            /* a block was wrong */
};

static unsigned nblocks = 64;
static int keep_open;
static uint64_t run_ns;
static pthread_barrier_t start_line;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The content of block `block` of owner's file at generation gen: a 32-byte header
 * (magic, owner, block, gen) and bytes that depend on all three. */
static void fill_block(uint8_t *b, unsigned owner, unsigned block, uint32_t gen)
{
	put64(b, MAGIC);
	put64(b + 8, owner);
	put64(b + 16, block);
	put64(b + 24, gen);
	uint64_t s = ((uint64_t)owner << 40 ^ (uint64_t)block << 20 ^ gen) * 0x9e3779b97f4a7c15ull;
	s |= 1;
	for (size_t i = 32; i < BS; i += 8)
		put64(b + i, xorshift(&s));
}

/* Describe a wrong block: whose, which and what generation it says it is. */
static void describe(char *out, size_t n, const uint8_t *got)
{
	if (get64(got) != MAGIC)
		snprintf(out, n, "no header (starts %02x %02x %02x %02x)", got[0], got[1], got[2], got[3]);
	else
		snprintf(out, n, "header says owner %" PRIu64 " block %" PRIu64 " gen %" PRIu64,
			 get64(got + 8), get64(got + 16), get64(got + 24));
}

/* Compare blocks [first, first + n) read into buf with what they should be. Returns 0, or
 * -1 after printing the first wrong block. */
static int check_blocks(const char *who, const uint8_t *buf, unsigned owner, unsigned first,
			unsigned n, const uint32_t *gen)
{
	uint8_t want[BS];
	for (unsigned i = 0; i < n; i++) {
		unsigned k = first + i;
		fill_block(want, owner, k, gen ? gen[k] : 0);
		const uint8_t *got = buf + (size_t)i * BS;
		if (memcmp(want, got, BS) == 0)
			continue;
		size_t at = 0;
		while (want[at] == got[at])
			at++;
		char d[128];
		describe(d, sizeof(d), got);
		fprintf(stderr, "fwstress: %s: block %u wrong from byte %zu (want gen %u; %s)\n", who,
			k, at, gen ? gen[k] : 0, d);
		return -1;
	}
	return 0;
}

/* pread/pwrite of exactly len bytes; a short count is retried. Each call is counted in
 * *calls. Returns 0, -1 with errno, or 1 for an early end of file on a read. */
static int full_io(int fd, uint8_t *buf, size_t len, off_t off, int wr, uint64_t *calls)
{
	while (len) {
		ssize_t r = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
		(*calls)++;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 1;
		buf += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

static int fail_op(struct worker *w, const char *op)
{
	w->err = errno;
	const char *name = strerrorname_np(errno);
	fprintf(stderr, "fwstress: %s %s: %s\n", w->name, op, name ? name : strerror(errno));
	return -1;
}

static int short_file(struct worker *w, off_t off)
{
	fprintf(stderr, "fwstress: %s: end of file at %jd, before %u blocks\n", w->name,
		(intmax_t)off, nblocks);
	w->bad = 1;
	return -1;
}

/* Read blocks [first, first + n) and check them. */
static int read_run(struct worker *w, int fd, uint8_t *buf, unsigned first, unsigned n)
{
	off_t off = (off_t)first * BS;
	int r = full_io(fd, buf, (size_t)n * BS, off, 0, &w->reads);
	if (r < 0)
		return fail_op(w, "read");
	if (r > 0)
		return short_file(w, off);
	w->bytes += (size_t)n * BS;
	if (check_blocks(w->name, buf, w->owner, first, n, w->owner ? w->gen : NULL) < 0) {
		w->bad = 1;
		return -1;
	}
	return 0;
}

/* Write blocks [first, first + n) at their next generation. */
static int write_run(struct worker *w, int fd, uint8_t *buf, unsigned first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fill_block(buf + (size_t)i * BS, w->owner, first + i, w->gen[first + i] + 1);
	if (full_io(fd, buf, (size_t)n * BS, (off_t)first * BS, 1, &w->writes) < 0)
		return fail_op(w, "write");
	/* the generations move only once the write has succeeded */
	for (unsigned i = 0; i < n; i++)
		w->gen[first + i]++;
	w->bytes += (size_t)n * BS;
	return 0;
}

/* One random operation. Returns 0, or -1 when the thread must stop. */
static int one_op(struct worker *w, int *fd, uint8_t *buf)
{
	/* dice >= 95: reopen */
	unsigned dice = (unsigned)(xorshift(&w->rng) % (keep_open ? 95 : 100));
	unsigned n = 1 + (unsigned)(xorshift(&w->rng) % RUN_MAX);
	if (n > nblocks)
		n = nblocks;
	unsigned first = (unsigned)(xorshift(&w->rng) % (nblocks - n + 1));
	w->ops++;
	if (!w->owner) {
		/* a reader: mostly reads, sometimes a reopen */
		if (dice < 95)
			return read_run(w, *fd, buf, first, n);
		close(*fd);
		if ((*fd = open(w->path, O_RDONLY)) < 0)
			return fail_op(w, "open");
		return 0;
	}
	if (dice < 40)
		return write_run(w, *fd, buf, first, n);
	if (dice < 80)
		return read_run(w, *fd, buf, first, n);
	if (dice < 85) {
		/* the whole file, RUN_MAX blocks at a time */
		for (unsigned k = 0; k < nblocks; k += RUN_MAX) {
			unsigned m = nblocks - k < RUN_MAX ? nblocks - k : RUN_MAX;
			if (read_run(w, *fd, buf, k, m) < 0)
				return -1;
		}
		return 0;
	}
	if (dice < 90)
		return fsync(*fd) < 0 ? fail_op(w, "fsync") : 0;
	if (dice < 95) {
		struct stat st;
		if (fstat(*fd, &st) < 0)
			return fail_op(w, "fstat");
		if (st.st_size != (off_t)nblocks * BS) {
			fprintf(stderr, "fwstress: %s: size %jd, want %u\n", w->name,
				(intmax_t)st.st_size, nblocks * BS);
			w->bad = 1;
			return -1;
		}
		return 0;
	}
	if (close(*fd) < 0) {
		*fd = -1;
		return fail_op(w, "close");
	}
	if ((*fd = open(w->path, O_RDWR)) < 0)
		return fail_op(w, "open");
	return 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc((size_t)RUN_MAX * BS);
	int fd = -1;
	if (!buf) {
		errno = ENOMEM;
		fail_op(w, "malloc");
	} else if (w->owner) {
		/* create the file with every block at generation 0 */
		fd = open(w->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			fail_op(w, "create");
		for (unsigned k = 0; fd >= 0 && k < nblocks; k++) {
			fill_block(buf, w->owner, k, 0);
			if (full_io(fd, buf, BS, (off_t)k * BS, 1, &w->writes) < 0) {
				fail_op(w, "write");
				break;
			}
			w->bytes += BS;
		}
	} else if ((fd = open(w->path, O_RDONLY)) < 0) {
		fail_op(w, "open");
	}
	pthread_barrier_wait(&start_line);
	uint64_t end = now_ns() + run_ns;
	while (!w->err && !w->bad && now_ns() < end)
		if (one_op(w, &fd, buf) < 0)
			break;
	/* a last look at the whole file */
	if (!w->err && !w->bad)
		for (unsigned k = 0; k < nblocks; k += RUN_MAX)
			if (read_run(w, fd, buf, k, nblocks - k < RUN_MAX ? nblocks - k : RUN_MAX) < 0)
				break;
	if (fd >= 0 && close(fd) < 0 && !w->err && !w->bad)
		fail_op(w, "close");
	free(buf);
	return NULL;
}

/* DIR/shared, all blocks at generation 0, for the readers. */
static int make_shared(const char *path, uint64_t *calls)
{
	uint8_t buf[BS];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	for (unsigned k = 0; k < nblocks; k++) {
		fill_block(buf, SHARED_OWNER, k, 0);
		if (full_io(fd, buf, BS, (off_t)k * BS, 1, calls) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	if (fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Manifest: one line per file, "NAME OWNER BLOCKS GEN0 GEN1 ...". */
static int write_manifest(const char *path, struct worker *ws, unsigned n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "shared %u %u", SHARED_OWNER, nblocks);
	for (unsigned k = 0; k < nblocks; k++)
		fputs(" 0", f);
	fputc('\n', f);
	for (unsigned i = 0; i < n; i++) {
		if (!ws[i].owner)
			continue;
		fprintf(f, "%s %u %u", ws[i].name, ws[i].owner, nblocks);
		for (unsigned k = 0; k < nblocks; k++)
			fprintf(f, " %" PRIu32, ws[i].gen[k]);
		fputc('\n', f);
	}
	return fclose(f);
}

/* Check mode: every file of the manifest, read from dir, has exactly the blocks listed. */
static int check_manifest(const char *manifest, const char *dir)
{
	FILE *f = fopen(manifest, "r");
	if (!f) {
		fprintf(stderr, "fwstress: %s: %s\n", manifest, strerror(errno));
		return 3;
	}
	int rc = 0;
	unsigned files = 0;
	char name[64];
	unsigned owner, n;
	uint8_t buf[BS];
	while (fscanf(f, "%63s %u %u", name, &owner, &n) == 3) {
		uint32_t *gen = calloc(n ? n : 1, sizeof(*gen));
		if (!gen) {
			fclose(f);
			return 3;
		}
		for (unsigned k = 0; k < n; k++)
			if (fscanf(f, "%" SCNu32, &gen[k]) != 1) {
				fprintf(stderr, "fwstress: %s: bad line for %s\n", manifest, name);
				free(gen);
				fclose(f);
				return 3;
			}
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		int fd = open(path, O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			fprintf(stderr, "fwstress: %s: %s\n", path, strerror(errno));
			rc = 2;
		} else if (st.st_size != (off_t)n * BS) {
			fprintf(stderr, "fwstress: %s: size %jd, want %u\n", path, (intmax_t)st.st_size,
				n * BS);
			rc = 2;
		} else {
			for (unsigned k = 0; k < n; k++) {
				uint64_t calls = 0;
				if (full_io(fd, buf, BS, (off_t)k * BS, 0, &calls) != 0) {
					fprintf(stderr, "fwstress: %s: read failed\n", path);
					rc = 2;
					break;
				}
				if (check_blocks(path, buf, owner, k, 1, gen) < 0) {
					rc = 2;
					break;
				}
			}
		}
		if (fd >= 0)
			close(fd);
		free(gen);
		files++;
	}
	fclose(f);
	if (!files) {
		fprintf(stderr, "fwstress: %s lists no files\n", manifest);
		return 3;
	}
	printf("fwstress: checked %u files in %s: %s\n", files, dir, rc ? "WRONG" : "all right");
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: fwstress [-k] [-t THREADS] [-r READERS] [-s SECONDS] [-b BLOCKS] "
			"[-m MANIFEST] DIR\n"
			"       fwstress -C MANIFEST DIR\n");
	exit(3);
}

static unsigned number(const char *s, unsigned max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		usage();
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	unsigned threads = 32, readers = 4, seconds = 10;
	const char *manifest = NULL, *check = NULL;
	int c;
	while ((c = getopt(argc, argv, "kt:r:s:b:m:C:")) != -1) {
		switch (c) {
		case 'k': keep_open = 1; break;
		case 't': threads = number(optarg, 99); break;
		case 'r': readers = number(optarg, 99); break;
		case 's': seconds = number(optarg, 86400); break;
		case 'b': nblocks = number(optarg, 1 << 16); break;
		case 'm': manifest = optarg; break;
		case 'C': check = optarg; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || !nblocks || (threads == 0 && readers == 0 && !check))
		usage();
	const char *dir = argv[optind];
	if (check)
		return check_manifest(check, dir);

	char shared[4096];
	uint64_t shared_writes = 0;
	snprintf(shared, sizeof(shared), "%s/shared", dir);
	if (readers && make_shared(shared, &shared_writes) < 0) {
		fprintf(stderr, "fwstress: %s: %s\n", shared, strerror(errno));
		return 3;
	}
	run_ns = (uint64_t)seconds * 1000000000ull;
	unsigned n = threads + readers;
	int rc = 3;
	struct worker *ws = calloc(n, sizeof(*ws));
	if (!ws)
		goto oom;
	for (unsigned i = 0; i < threads; i++)
		if (!(ws[i].gen = calloc(nblocks, sizeof(*ws[i].gen))))
			goto oom;
	if (pthread_barrier_init(&start_line, NULL, n + 1))
		goto oom;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &ws[i];
		if (i < threads) {
			w->owner = i + 1;
			snprintf(w->name, sizeof(w->name), "w%02u", i);
		} else {
			snprintf(w->name, sizeof(w->name), "r%02u", i - threads);
		}
		snprintf(w->path, sizeof(w->path), "%s/%s", dir, w->owner ? w->name : "shared");
		w->rng = 0x2545f4914f6cdd1dull * (i + 1);
		int e = pthread_create(&w->tid, NULL, run, w);
		if (e) {
			/* the threads already started wait at the start line for good */
			fprintf(stderr, "fwstress: pthread_create: %s\n", strerror(e));
			exit(3);
		}
	}
	pthread_barrier_wait(&start_line);
	uint64_t ops = 0, writes = shared_writes, reads = 0;
	uint64_t bytes = readers ? (uint64_t)nblocks * BS : 0;
	unsigned errs = 0, bad = 0;
	for (unsigned i = 0; i < n; i++) {
		pthread_join(ws[i].tid, NULL);
		ops += ws[i].ops;
		writes += ws[i].writes;
		reads += ws[i].reads;
		bytes += ws[i].bytes;
		errs += ws[i].err != 0;
		bad += ws[i].bad;
	}
	pthread_barrier_destroy(&start_line);
	printf("fwstress: %u writers, %u readers, %u s: ops=%" PRIu64 " writes=%" PRIu64
	       " reads=%" PRIu64 " MiB=%" PRIu64 " failed=%u wrong=%u\n",
	       threads, readers, seconds, ops, writes, reads, bytes >> 20, errs, bad);
	rc = bad ? 2 : errs ? 1 : 0;
	if (manifest && write_manifest(manifest, ws, n) < 0) {
		fprintf(stderr, "fwstress: %s: %s\n", manifest, strerror(errno));
		rc = 3;
	}
out:
	for (unsigned i = 0; ws && i < threads; i++)
		free(ws[i].gen);
	free(ws);
	return rc;
oom:
	fprintf(stderr, "fwstress: out of memory\n");
	goto out;
}
