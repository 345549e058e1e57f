/* fwbench: the workloads of bench/run.sh, one per subcommand, each printing one result
 * line "WORKLOAD VALUE UNIT key=value..." on stdout (run.sh reads the first three fields).
 *
 *   fwbench setup DIR            create the data set below DIR (not through FUSE)
 *   fwbench read4k FILE SECONDS  O_DIRECT 4 KiB preads, sequential and wrapping: us/op
 *   fwbench read1m FILE SECONDS  whole-file passes of O_DIRECT 1 MiB reads: us/MiB
 *   fwbench walk DIR SECONDS     stat every entry of the tree below DIR: ms/walk
 *   fwbench par8 DIR SECONDS     8 threads, O_DIRECT 128 KiB reads of DIR/0..7: MiB/s
 *
 * Timed workloads repeat until SECONDS have passed (whole passes or walks for read1m and
 * walk, so at least one) and report the mean over that time. O_DIRECT is what makes every
 * read reach the daemon on every run, whatever the mount's cache options: the page cache
 * would otherwise serve the second pass without a single READ. The walk needs the mount's
 * help for the same (run.sh mounts with -o cache=never: zero entry and attribute timeouts).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024ul
#define MIB (1024ul * KIB)

#define BIG_SIZE (256 * MIB)      /* read4k and read1m */
#define PAR_THREADS 8
#define PAR_SIZE (32 * MIB)       /* per parallel reader */
#define PAR_BLOCK (128 * KIB)
#define TREE_DIRS 100
#define TREE_FILES 100            /* per directory: 10,000 files in all */
#define TREE_FILE_SIZE 64
#define ALIGN 4096                /* O_DIRECT buffer alignment */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *aligned_buf(size_t size)
{
	void *p;
	int e = posix_memalign(&p, ALIGN, size);

	if (e)
		errx(1, "posix_memalign(%zu): %s", size, strerror(e));
	memset(p, 0xa5, size);
	return p;
}

static double parse_seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0))
		errx(2, "SECONDS must be a positive number, not '%s'", s);
	return v;
}

static int open_direct(const char *path, off_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECT);

	if (fd < 0)
		err(1, "open %s", path);
	if (fstat(fd, &st) < 0)
		err(1, "fstat %s", path);
	if (st.st_size < (off_t)MIB || st.st_size % (off_t)MIB)
		errx(1, "%s: size %lld is not a non-zero multiple of 1 MiB", path,
		     (long long)st.st_size);
	*size = st.st_size;
	return fd;
}

/* Read exactly len bytes at off; a short read means the data set or the mount is wrong. */
static void read_at(int fd, void *buf, size_t len, off_t off, const char *path)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		err(1, "pread %s at %lld", path, (long long)off);
	if ((size_t)n != len)
		errx(1, "pread %s at %lld: %zd bytes instead of %zu", path, (long long)off, n, len);
}

static void write_file(const char *path, size_t size, unsigned char fill)
{
	size_t chunk = size < MIB ? size : MIB;
	unsigned char *buf = malloc(chunk);
	size_t done;
	int fd;

	if (!buf)
		err(1, "malloc");
	memset(buf, fill, chunk);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		err(1, "create %s", path);
	for (done = 0; done < size; done += chunk)
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			err(1, "write %s", path);
	if (close(fd) < 0)
		err(1, "close %s", path);
	free(buf);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		err(1, "mkdir %s", path);
}

static int cmd_setup(const char *dir)
{
	char path[4096];
	int i, j;

	make_dir(dir);
	snprintf(path, sizeof(path), "%s/big", dir);
	write_file(path, BIG_SIZE, 'b');
	snprintf(path, sizeof(path), "%s/par", dir);
	make_dir(path);
	for (i = 0; i < PAR_THREADS; i++) {
		snprintf(path, sizeof(path), "%s/par/%d", dir, i);
		write_file(path, PAR_SIZE, (unsigned char)('0' + i));
	}
	snprintf(path, sizeof(path), "%s/tree", dir);
	make_dir(path);
	for (i = 0; i < TREE_DIRS; i++) {
		snprintf(path, sizeof(path), "%s/tree/d%02d", dir, i);
		make_dir(path);
		for (j = 0; j < TREE_FILES; j++) {
			snprintf(path, sizeof(path), "%s/tree/d%02d/f%02d", dir, i, j);
			write_file(path, TREE_FILE_SIZE, 't');
		}
	}
	printf("setup %s big=%lu MiB par=%dx%lu MiB tree=%d files\n", dir, BIG_SIZE / MIB,
	       PAR_THREADS, PAR_SIZE / MIB, TREE_DIRS * TREE_FILES);
	return 0;
}

static int cmd_read4k(const char *file, double secs)
{
	void *buf = aligned_buf(4 * KIB);
	off_t size, off = 0;
	int fd = open_direct(file, &size);
	uint64_t ops = 0;
	double t0 = now(), t;

	do {
		read_at(fd, buf, 4 * KIB, off, file);
		off = (off_t)((uint64_t)(off + 4 * KIB) % (uint64_t)size);
		ops++;
		t = now() - t0;
	} while (t < secs);
	close(fd);
	free(buf);
	printf("read4k %.3f us/op ops=%llu ops/s=%.0f secs=%.3f\n", t * 1e6 / (double)ops,
	       (unsigned long long)ops, (double)ops / t, t);
	return 0;
}

static int cmd_read1m(const char *file, double secs)
{
	void *buf = aligned_buf(MIB);
	off_t size, off;
	int fd = open_direct(file, &size);
	unsigned passes = 0;
	double t0 = now(), t, mib;

	do {
		for (off = 0; off < size; off += (off_t)MIB)
			read_at(fd, buf, MIB, off, file);
		passes++;
		t = now() - t0;
	} while (t < secs);
	close(fd);
	free(buf);
	mib = (double)passes * (double)size / (double)MIB;
	printf("read1m %.3f us/MiB MiB/s=%.1f passes=%u secs=%.3f\n", t * 1e6 / mib, mib / t,
	       passes, t);
	return 0;
}

/* fstatat every entry below the open directory dfd (which this closes); counts regular
 * files in *files. readdir+fstatat rather than nftw: no path building, no chdir, and
 * exactly one LOOKUP (or GETATTR) per entry and stat. */
static void walk_dir(int dfd, const char *name, unsigned long *files)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	struct stat st;

	if (!d)
		err(1, "fdopendir %s", name);
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			err(1, "stat %s/%s", name, de->d_name);
		if (S_ISREG(st.st_mode)) {
			(*files)++;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY);

			if (sub < 0)
				err(1, "open %s/%s", name, de->d_name);
			walk_dir(sub, de->d_name, files);
		}
	}
	if (errno)
		err(1, "readdir %s", name);
	closedir(d);
}

static int cmd_walk(const char *dir, double secs)
{
	const unsigned long want = TREE_DIRS * TREE_FILES;
	unsigned walks = 0;
	double t0 = now(), t;

	do {
		unsigned long files = 0;
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);

		if (dfd < 0)
			err(1, "open %s", dir);
		walk_dir(dfd, dir, &files);
		if (files != want)
			errx(1, "walk %s: %lu files instead of %lu (run setup)", dir, files, want);
		walks++;
		t = now() - t0;
	} while (t < secs);
	printf("walk %.3f ms/walk walks=%u files=%lu secs=%.3f\n", t * 1e3 / walks, walks,
	       want, t);
	return 0;
}

struct reader {
	pthread_t tid;
	char path[4096];
	double deadline;
	uint64_t bytes;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	void *buf = aligned_buf(PAR_BLOCK);
	off_t size, off = 0;
	int fd = open_direct(r->path, &size);

	do {
		read_at(fd, buf, PAR_BLOCK, off, r->path);
		r->bytes += PAR_BLOCK;
		off = (off_t)((uint64_t)(off + (off_t)PAR_BLOCK) % (uint64_t)size);
	} while (now() < r->deadline);
	close(fd);
	free(buf);
	return NULL;
}

static int cmd_par8(const char *dir, double secs)
{
	struct reader r[PAR_THREADS];
	uint64_t bytes = 0;
	double t0, t;
	int i, e;

	memset(r, 0, sizeof(r));
	t0 = now();
	for (i = 0; i < PAR_THREADS; i++) {
		snprintf(r[i].path, sizeof(r[i].path), "%s/%d", dir, i);
		r[i].deadline = t0 + secs;
		e = pthread_create(&r[i].tid, NULL, reader_main, &r[i]);
		if (e)
			errx(1, "pthread_create: %s", strerror(e));
	}
	for (i = 0; i < PAR_THREADS; i++) {
		pthread_join(r[i].tid, NULL);
		bytes += r[i].bytes;
	}
	t = now() - t0;
	printf("par8 %.1f MiB/s threads=%d block=%lu KiB secs=%.3f\n",
	       (double)bytes / (double)MIB / t, PAR_THREADS, PAR_BLOCK / KIB, t);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fwbench setup DIR\n"
		"       fwbench read4k FILE SECONDS\n"
		"       fwbench read1m FILE SECONDS\n"
		"       fwbench walk DIR SECONDS\n"
		"       fwbench par8 DIR SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "setup"))
		return cmd_setup(argv[2]);
	if (argc != 4)
		usage();
	if (!strcmp(argv[1], "read4k"))
		return cmd_read4k(argv[2], parse_seconds(argv[3]));
	if (!strcmp(argv[1], "read1m"))
		return cmd_read1m(argv[2], parse_seconds(argv[3]));
	if (!strcmp(argv[1], "walk"))
		return cmd_walk(argv[2], parse_seconds(argv[3]));
	if (!strcmp(argv[1], "par8"))
		return cmd_par8(argv[2], parse_seconds(argv[3]));
	usage();
	return 2;
}
