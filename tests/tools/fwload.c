/* fwload: a filesystem workload whose output depends only on how the filesystem behaves,
 * so that runs on two mounts can be diffed (tests/integration/test_transparency.sh: a
 * direct mount of passthrough_ll against the same daemon behind fusedump).
 *
 *   fwload [-n ENTRIES] [-b MIB] DIR
 *
 * Runs every step in DIR (which should be empty) and prints one line per step: return
 * values, errno names, checksums, stat fields that do not vary between runs (mode, size,
 * nlink, uid, gid; times only where utimens set them). Steps that fail print their errno
 * and the run goes on: the point is that both mounts fail alike. -n is the number of
 * entries of the big directory (10000), -b the size of the big file in MiB (64).
 * Exit status: 0 when the workload ran to the end, 1 when it could not go on, 2 for usage.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MIB (1u << 20)
#define FNV_INIT 0xcbf29ce484222325ull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Deterministic content: byte i of the stream of seed is a function of (seed, i). */
static void fill(uint8_t *buf, size_t n, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = (off + i) / 8 * 0x9e3779b97f4a7c15ull + seed;
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 32;
		buf[i] = (uint8_t)(x >> (8 * ((off + i) % 8)));
	}
}

static void say(const char *step, const char *fmt, ...)
{
	va_list ap;
	printf("%s: ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* Print the result of a call that returns -1 and sets errno on failure. */
static long res(const char *step, long r)
{
	if (r < 0)
		say(step, "-1 %s", ename(errno));
	else
		say(step, "%ld", r);
	return r;
}

/* Fail the run: a step that the rest depends on did not work. */
static void fatal(const char *step)
{
	say(step, "FATAL %s", ename(errno));
	exit(1);
}

static void show_stat(const char *step, int r, const struct stat *st)
{
	if (r < 0) {
		say(step, "-1 %s", ename(errno));
		return;
	}
	say(step, "mode=0%o size=%lld nlink=%lu uid=%u gid=%u", st->st_mode, (long long)st->st_size,
	    (unsigned long)st->st_nlink, st->st_uid, st->st_gid);
}

static void do_stat(const char *step, const char *path)
{
	struct stat st;
	show_stat(step, stat(path, &st), &st);
}

static void do_lstat(const char *step, const char *path)
{
	struct stat st;
	show_stat(step, lstat(path, &st), &st);
}

/* The times utimens set: atime too unless it was left alone (then it is the clock's). */
static void do_times(const char *step, const char *path, int with_atime)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		say(step, "-1 %s", ename(errno));
		return;
	}
	if (with_atime)
		say(step, "atime=%lld.%09ld mtime=%lld.%09ld", (long long)st.st_atim.tv_sec,
		    st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	else
		say(step, "mtime=%lld.%09ld", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* Read fd to its end in chunks of n: "bytes=N fnv=H". */
static void read_sum(const char *step, int fd, void *buf, size_t n)
{
	uint64_t h = FNV_INIT, total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r < 0) {
			say(step, "-1 %s after %" PRIu64 " bytes", ename(errno), total);
			return;
		}
		if (r == 0)
			break;
		h = fnv(h, buf, (size_t)r);
		total += (uint64_t)r;
	}
	say(step, "bytes=%" PRIu64 " fnv=%016" PRIx64, total, h);
}

static void file_sum(const char *step, const char *path)
{
	static uint8_t buf[65536];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		say(step, "open -1 %s", ename(errno));
		return;
	}
	read_sum(step, fd, buf, sizeof(buf));
	close(fd);
}

/* open() with its result ("ok", not the fd number, which says nothing about the mount). */
static int try_open(const char *step, const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags, mode);
	if (fd < 0)
		say(step, "-1 %s", ename(errno));
	else
		say(step, "ok");
	return fd;
}

/* An open() that may succeed or fail; the file is not used. */
static void open_close(const char *step, const char *path, int flags, mode_t mode)
{
	int fd = try_open(step, path, flags, mode);
	if (fd >= 0)
		close(fd);
}

static int xopen(const char *step, const char *path, int flags, mode_t mode)
{
	int fd = try_open(step, path, flags, mode);
	if (fd < 0)
		fatal(step);
	return fd;
}

static void xwrite(const char *step, int fd, const void *buf, size_t n, off_t off)
{
	res(step, pwrite(fd, buf, n, off));
}

/* ------------------------------------------------------------------ steps */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void step_create(void)
{
	static const char text[] = "hello through fuse\n";
	char buf[256];
	res("mkdir dir", mkdir("dir", 0755));
	res("mkdir dir/sub", mkdir("dir/sub", 0755));
	int fd = xopen("create dir/sub/file", "dir/sub/file", O_CREAT | O_EXCL | O_RDWR, 0644);
	xwrite("write file", fd, text, sizeof(text) - 1, 0);
	xwrite("write file at 4096", fd, text, sizeof(text) - 1, 4096);
	ssize_t r = pread(fd, buf, sizeof(buf), 0);
	say("pread file", "%zd fnv=%016" PRIx64, r, r > 0 ? fnv(FNV_INIT, buf, (size_t)r) : 0);
	res("close file", close(fd));
	do_stat("stat file", "dir/sub/file");
	file_sum("read back file", "dir/sub/file");
	fd = try_open("open append", "dir/sub/file", O_WRONLY | O_APPEND, 0);
	res("write append", write(fd, "more\n", 5));
	res("close append", close(fd));
	do_stat("stat after append", "dir/sub/file");
	open_close("create existing O_EXCL", "dir/sub/file", O_CREAT | O_EXCL | O_WRONLY, 0644);
	open_close("open missing", "dir/sub/missing", O_RDONLY, 0);
	open_close("open dir for writing", "dir", O_WRONLY, 0);
	open_close("open file as dir", "dir/sub/file", O_RDONLY | O_DIRECTORY, 0);
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	open_close("create long name", longname, O_CREAT | O_WRONLY, 0644);
	res("access file rw", access("dir/sub/file", R_OK | W_OK));
	res("access missing", access("dir/sub/missing", F_OK));
	fd = try_open("open O_TRUNC", "dir/sub/file", O_RDWR | O_TRUNC, 0);
	xwrite("rewrite file", fd, text, sizeof(text) - 1, 0);
	res("close O_TRUNC", close(fd));
	file_sum("read back rewritten", "dir/sub/file");
}

static void step_attrs(void)
{
	res("chmod 0640", chmod("dir/sub/file", 0640));
	do_stat("stat after chmod", "dir/sub/file");
	int fd = try_open("open for fchmod", "dir/sub/file", O_RDWR, 0);
	res("fchmod 0600", fchmod(fd, 0600));
	res("fchown 1234:5678", fchown(fd, 1234, 5678));
	struct stat st;
	show_stat("fstat after fchown", fstat(fd, &st), &st);
	res("ftruncate 100000", ftruncate(fd, 100000));
	show_stat("fstat after ftruncate", fstat(fd, &st), &st);
	struct timespec ft[2] = {{.tv_nsec = UTIME_OMIT}, {1300000000, 5}};
	res("futimens omit atime", futimens(fd, ft));
	do_times("times after futimens", "dir/sub/file", 0);
	res("close after futimens", close(fd));
	file_sum("read extended file", "dir/sub/file");
	res("chown 4321:8765", chown("dir/sub/file", 4321, 8765));
	do_stat("stat after chown", "dir/sub/file");
	res("chown -1:-1", chown("dir/sub/file", (uid_t)-1, (gid_t)-1));
	res("chown 0:0", chown("dir/sub/file", 0, 0));
	res("chmod 0644", chmod("dir/sub/file", 0644));
	res("chmod dir 0700", chmod("dir/sub", 0700));
	do_stat("stat dir after chmod", "dir/sub");
	res("chmod dir 0755", chmod("dir/sub", 0755));
	res("chmod missing", chmod("dir/missing", 0644));
	res("truncate 3", truncate("dir/sub/file", 3));
	do_stat("stat after truncate", "dir/sub/file");
	file_sum("read truncated", "dir/sub/file");
	res("truncate missing", truncate("dir/missing", 0));
	res("truncate dir", truncate("dir", 0));
	struct timespec t[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
	res("utimensat", utimensat(AT_FDCWD, "dir/sub/file", t, 0));
	do_times("times after utimensat", "dir/sub/file", 1);
	struct timespec dt[2] = {{1100000000, 0}, {1100000001, 1}};
	res("utimensat dir", utimensat(AT_FDCWD, "dir/sub", dt, 0));
	do_times("times of dir", "dir/sub", 1);
	res("utimensat missing", utimensat(AT_FDCWD, "dir/missing", t, 0));
}

static void step_xattr(void)
{
	const char *f = "dir/sub/file";
	char buf[256];
	res("setxattr user.fw", setxattr(f, "user.fw", "value1", 6, 0));
	res("getxattr size", getxattr(f, "user.fw", NULL, 0));
	ssize_t r = getxattr(f, "user.fw", buf, sizeof(buf));
	if (r < 0)
		say("getxattr user.fw", "-1 %s", ename(errno));
	else
		say("getxattr user.fw", "%zd \"%.*s\"", r, (int)r, buf);
	res("getxattr small buffer", getxattr(f, "user.fw", buf, 2));
	res("setxattr XATTR_CREATE existing", setxattr(f, "user.fw", "x", 1, XATTR_CREATE));
	res("setxattr XATTR_REPLACE", setxattr(f, "user.fw", "value-two", 9, XATTR_REPLACE));
	r = getxattr(f, "user.fw", buf, sizeof(buf));
	if (r < 0)
		say("getxattr replaced", "-1 %s", ename(errno));
	else
		say("getxattr replaced", "%zd \"%.*s\"", r, (int)r, buf);
	res("setxattr XATTR_REPLACE missing", setxattr(f, "user.none", "x", 1, XATTR_REPLACE));
	res("setxattr user.empty", setxattr(f, "user.empty", "", 0, 0));
	res("setxattr user.big", setxattr(f, "user.big", buf, 200, 0));
	res("listxattr size", listxattr(f, NULL, 0));
	r = listxattr(f, buf, sizeof(buf));
	if (r < 0) {
		say("listxattr", "-1 %s", ename(errno));
	} else {
		/* the order is the underlying filesystem's: sort the names */
		const char *names[32];
		size_t n = 0;
		for (ssize_t i = 0; i < r && n < 32; i += (ssize_t)strlen(buf + i) + 1)
			names[n++] = buf + i;
		qsort(names, n, sizeof(*names), by_name);
		printf("listxattr: %zd", r);
		for (size_t i = 0; i < n; i++)
			printf(" %s", names[i]);
		putchar('\n');
	}
	res("listxattr small buffer", listxattr(f, buf, 1));
	res("removexattr user.fw", removexattr(f, "user.fw"));
	res("getxattr removed", getxattr(f, "user.fw", buf, sizeof(buf)));
	res("removexattr again", removexattr(f, "user.fw"));
	res("removexattr user.empty", removexattr(f, "user.empty"));
	res("removexattr user.big", removexattr(f, "user.big"));
	res("getxattr missing file", getxattr("dir/missing", "user.fw", buf, sizeof(buf)));
	res("setxattr dir", setxattr("dir", "user.d", "d", 1, 0));
	res("getxattr dir", getxattr("dir", "user.d", buf, sizeof(buf)));
	res("setxattr bad namespace", setxattr(f, "nonsense.x", "x", 1, 0));
}

static void step_names(void)
{
	char buf[256];
	/* rename: a file moves (its nodeid keeps the new name), over a file, into another dir */
	res("rename file", rename("dir/sub/file", "dir/sub/renamed"));
	do_stat("stat old name", "dir/sub/file");
	file_sum("read renamed", "dir/sub/renamed");
	int fd = try_open("create other", "dir/sub/other", O_CREAT | O_WRONLY, 0600);
	res("write other", write(fd, "other\n", 6));
	res("close other", close(fd));
	res("rename over other", rename("dir/sub/other", "dir/sub/victim"));
	open_close("create victim", "dir/sub/victim2", O_CREAT | O_WRONLY, 0644);
	res("rename replacing", rename("dir/sub/victim", "dir/sub/victim2"));
	file_sum("read replaced", "dir/sub/victim2");
	res("rename into dir", rename("dir/sub/victim2", "dir/moved"));
	res("rename missing", rename("dir/missing", "dir/x"));
	res("rename dir into itself", rename("dir", "dir/sub/inner"));
	res("rename file over dir", rename("dir/moved", "dir/sub"));
	res("rename dir over file", rename("dir/sub", "dir/moved"));
	do_stat("stat moved", "dir/moved");
	do_stat("stat renamed", "dir/sub/renamed");

	/* renameat2 flags, on files of their own; the one that may move a file comes last,
	 * and the contents show what happened */
	open_close("create r2a", "dir/r2a", O_CREAT | O_WRONLY, 0644);
	fd = try_open("create r2b", "dir/r2b", O_CREAT | O_WRONLY, 0644);
	res("write r2b", write(fd, "b", 1));
	res("close r2b", close(fd));
	res("rename2 EXCHANGE", renameat2(AT_FDCWD, "dir/r2a", AT_FDCWD, "dir/r2b", RENAME_EXCHANGE));
	res("rename2 EXCHANGE missing",
	    renameat2(AT_FDCWD, "dir/r2a", AT_FDCWD, "dir/nothing", RENAME_EXCHANGE));
	res("rename2 NOREPLACE existing",
	    renameat2(AT_FDCWD, "dir/r2a", AT_FDCWD, "dir/r2b", RENAME_NOREPLACE));
	res("rename2 bad flags", renameat2(AT_FDCWD, "dir/r2a", AT_FDCWD, "dir/r2c",
					   RENAME_NOREPLACE | RENAME_EXCHANGE));
	res("rename2 WHITEOUT", renameat2(AT_FDCWD, "dir/r2a", AT_FDCWD, "dir/r2w", RENAME_WHITEOUT));
	res("rename2 NOREPLACE new",
	    renameat2(AT_FDCWD, "dir/r2b", AT_FDCWD, "dir/r2c", RENAME_NOREPLACE));
	file_sum("r2a", "dir/r2a");
	file_sum("r2b", "dir/r2b");
	file_sum("r2c", "dir/r2c");
	do_lstat("lstat r2a", "dir/r2a");
	do_lstat("lstat r2w", "dir/r2w");

	/* symlinks */
	res("symlink", symlink("sub/renamed", "dir/sl"));
	ssize_t r = readlink("dir/sl", buf, sizeof(buf));
	if (r < 0)
		say("readlink", "-1 %s", ename(errno));
	else
		say("readlink", "%zd \"%.*s\"", r, (int)r, buf);
	do_lstat("lstat symlink", "dir/sl");
	do_stat("stat through symlink", "dir/sl");
	file_sum("read through symlink", "dir/sl");
	res("symlink existing", symlink("x", "dir/sl"));
	res("symlink dangling", symlink("nowhere", "dir/dangling"));
	do_stat("stat dangling", "dir/dangling");
	do_lstat("lstat dangling", "dir/dangling");
	res("symlink loop", symlink("loop", "dir/loop"));
	open_close("open loop", "dir/loop", O_RDONLY, 0);
	res("readlink regular file", readlink("dir/moved", buf, sizeof(buf)));
	open_close("open symlink O_NOFOLLOW", "dir/sl", O_RDONLY | O_NOFOLLOW, 0);
	res("lchown symlink", lchown("dir/sl", 1111, 2222));
	do_lstat("lstat after lchown", "dir/sl");
	struct timespec t[2] = {{1400000000, 1}, {1400000000, 2}};
	res("utimensat symlink nofollow", utimensat(AT_FDCWD, "dir/sl", t, AT_SYMLINK_NOFOLLOW));
	do_times("times of symlink", "dir/sl", 1);
	res("lsetxattr symlink", lsetxattr("dir/sl", "user.l", "l", 1, 0));
	res("llistxattr symlink", llistxattr("dir/sl", buf, sizeof(buf)));

	/* hard links */
	res("link", link("dir/moved", "dir/sub/hard"));
	do_stat("stat link source", "dir/moved");
	do_stat("stat link", "dir/sub/hard");
	file_sum("read link", "dir/sub/hard");
	res("link existing", link("dir/moved", "dir/sub/hard"));
	res("link dir", link("dir/sub", "dir/sublink"));
	res("link missing", link("dir/missing", "dir/ml"));
	res("unlink link", unlink("dir/sub/hard"));
	do_stat("stat after unlink", "dir/moved");
	res("unlink missing", unlink("dir/sub/hard"));
	res("unlink dir", unlink("dir/sub"));

	/* directories */
	res("mkdir d2", mkdir("d2", 0750));
	do_stat("stat d2", "d2");
	res("mkdir d2/e", mkdir("d2/e", 0700));
	do_stat("stat d2 with subdir", "d2");
	res("mkdir existing", mkdir("d2", 0755));
	res("mkdir missing parent", mkdir("d3/e", 0755));
	res("rmdir non-empty", rmdir("d2"));
	res("rmdir d2/e", rmdir("d2/e"));
	res("rmdir d2", rmdir("d2"));
	res("rmdir missing", rmdir("d2"));
	res("rmdir file", rmdir("dir/moved"));
	res("mknod fifo", mknod("dir/fifo", S_IFIFO | 0600, 0));
	do_lstat("lstat fifo", "dir/fifo");
	res("unlink fifo", unlink("dir/fifo"));
	res("mknod chr", mknod("dir/null", S_IFCHR | 0600, makedev(1, 3)));
	struct stat st;
	if (lstat("dir/null", &st) < 0)
		say("lstat chr", "-1 %s", ename(errno));
	else
		say("lstat chr", "mode=0%o rdev=%u:%u", st.st_mode, major(st.st_rdev), minor(st.st_rdev));
	res("unlink chr", unlink("dir/null"));
	struct statvfs sv;
	if (statvfs(".", &sv) < 0)
		say("statvfs", "-1 %s", ename(errno));
	else
		say("statvfs", "bsize=%lu namemax=%lu", sv.f_bsize, sv.f_namemax);
}

static void step_bigdir(unsigned entries)
{
	char name[64];
	res("mkdir many", mkdir("many", 0755));
	unsigned made = 0;
	int err = 0;
	for (unsigned i = 0; i < entries; i++) {
		snprintf(name, sizeof(name), "many/f%05u", i);
		if (mknod(name, S_IFREG | 0644, 0) == 0)
			made++;
		else if (!err)
			err = errno;
	}
	say("mknod many", "%u of %u%s%s", made, entries, err ? " first error " : "",
	    err ? ename(err) : "");
	DIR *d = opendir("many");
	if (!d)
		fatal("opendir many");
	char **names = calloc(entries + 16, sizeof(*names));
	if (!names)
		fatal("readdir many");
	size_t n = 0, cap = entries + 16, regs = 0, dirs = 0, other = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (de->d_type == DT_REG)
			regs++;
		else if (de->d_type == DT_DIR)
			dirs++;
		else
			other++;
		if (n < cap)
			names[n++] = strdup(de->d_name);
	}
	say("readdir many", "errno=%s entries=%zu reg=%zu dir=%zu other=%zu",
	    errno ? ename(errno) : "0", n, regs, dirs, other);
	res("closedir many", closedir(d));
	qsort(names, n, sizeof(*names), by_name);
	uint64_t h = FNV_INIT;
	size_t dups = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			dups++;
		h = fnv(h, names[i], strlen(names[i]) + 1);
	}
	say("readdir many names", "duplicates=%zu fnv=%016" PRIx64, dups, h);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	snprintf(name, sizeof(name), "many/f%05u", entries / 2);
	do_stat("stat an entry", name);
	res("unlink an entry", unlink(name));
	res("rmdir many non-empty", rmdir("many"));
}

static void step_bigfile(unsigned mib)
{
	uint8_t *buf = NULL;
	if (posix_memalign((void **)&buf, 4096, MIB))
		fatal("big buffer");
	int fd = xopen("create big", "big", O_CREAT | O_TRUNC | O_WRONLY, 0644);
	uint64_t h = FNV_INIT, total = 0;
	for (unsigned i = 0; i < mib; i++) {
		fill(buf, MIB, 1, (uint64_t)i * MIB);
		h = fnv(h, buf, MIB);
		ssize_t r = write(fd, buf, MIB);
		if (r != (ssize_t)MIB) {
			say("write big", "chunk %u: %zd %s", i, r, r < 0 ? ename(errno) : "short");
			break;
		}
		total += (uint64_t)r;
	}
	say("write big", "bytes=%" PRIu64 " fnv=%016" PRIx64, total, h);
	res("fsync big", fsync(fd));
	res("fdatasync big", fdatasync(fd));
	res("close big", close(fd));
	do_stat("stat big", "big");
	fd = try_open("open big", "big", O_RDONLY, 0);
	read_sum("read back big", fd, buf, MIB);
	ssize_t r = pread(fd, buf, 100, (off_t)mib * MIB / 2 + 12345);
	say("pread big middle", "%zd fnv=%016" PRIx64, r, r > 0 ? fnv(FNV_INIT, buf, (size_t)r) : 0);
	r = pread(fd, buf, 100, (off_t)mib * MIB - 10);
	say("pread big end", "%zd", r);
	res("close read big", close(fd));

	/* O_DIRECT: aligned reads of the whole file, then unaligned and a write */
	fd = try_open("open big O_DIRECT", "big", O_RDONLY | O_DIRECT, 0);
	if (fd >= 0) {
		read_sum("read big O_DIRECT", fd, buf, MIB);
		r = pread(fd, buf + 1, 1000, 3);
		if (r < 0)
			say("pread O_DIRECT unaligned", "-1 %s", ename(errno));
		else
			say("pread O_DIRECT unaligned", "%zd fnv=%016" PRIx64, r,
			    fnv(FNV_INIT, buf + 1, (size_t)r));
		res("close O_DIRECT", close(fd));
	}
	fd = try_open("open dio O_DIRECT", "dio", O_CREAT | O_WRONLY | O_DIRECT, 0644);
	if (fd >= 0) {
		fill(buf, MIB, 2, 0);
		res("write dio O_DIRECT", write(fd, buf, MIB));
		res("close dio", close(fd));
		do_stat("stat dio", "dio");
		file_sum("read dio", "dio");
	}
	free(buf);
}

static void step_sync_locks(void)
{
	int fd = open("dir/sub/renamed", O_RDWR);
	if (fd < 0)
		fatal("open for locks");
	res("fsync", fsync(fd));
	res("fdatasync", fdatasync(fd));
	int dfd = try_open("open dir", "dir", O_RDONLY | O_DIRECTORY, 0);
	res("fsync dir", fsync(dfd));
	res("close dir", close(dfd));

	int fd2 = try_open("open second", "dir/sub/renamed", O_RDWR, 0);
	res("flock EX", flock(fd, LOCK_EX));
	res("flock EX second NB", flock(fd2, LOCK_EX | LOCK_NB));
	res("flock SH second NB", flock(fd2, LOCK_SH | LOCK_NB));
	res("flock UN", flock(fd, LOCK_UN));
	res("flock SH second", flock(fd2, LOCK_SH | LOCK_NB));
	res("flock SH first", flock(fd, LOCK_SH | LOCK_NB));
	res("flock EX first NB", flock(fd, LOCK_EX | LOCK_NB));
	res("flock UN first", flock(fd, LOCK_UN));
	res("flock UN second", flock(fd2, LOCK_UN));
	res("flock EX first again", flock(fd, LOCK_EX | LOCK_NB));
	res("flock UN first again", flock(fd, LOCK_UN));

	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
	res("fcntl SETLK write 0+100", fcntl(fd, F_SETLK, &fl));
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5};
	res("fcntl GETLK own", fcntl(fd2, F_GETLK, &fl));
	say("fcntl GETLK own lock", "type=%d", fl.l_type);
	fflush(stdout);
	/* a conflict needs another process: the child reports what it saw, in order */
	pid_t pid = fork();
	if (pid == 0) {
		struct flock c = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 10};
		int r = fcntl(fd2, F_GETLK, &c);
		if (r < 0)
			say("child GETLK", "-1 %s", ename(errno));
		else
			say("child GETLK", "type=%d start=%lld len=%lld", c.l_type,
			    (long long)c.l_start, (long long)c.l_len);
		c = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 10};
		res("child SETLK conflicting", fcntl(fd2, F_SETLK, &c));
		c = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 10};
		res("child SETLK free range", fcntl(fd2, F_SETLK, &c));
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		fatal("fork for locks");
	fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
	res("fcntl unlock", fcntl(fd, F_SETLK, &fl));
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	res("OFD SETLK first", fcntl(fd, F_OFD_SETLK, &fl));
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10};
	res("OFD SETLK second conflicting", fcntl(fd2, F_OFD_SETLK, &fl));
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10};
	res("OFD GETLK second", fcntl(fd2, F_OFD_GETLK, &fl));
	say("OFD GETLK result", "type=%d start=%lld len=%lld", fl.l_type, (long long)fl.l_start,
	    (long long)fl.l_len);
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 10};
	res("OFD SETLK second free", fcntl(fd2, F_OFD_SETLK, &fl));
	res("close first", close(fd));
	res("close second", close(fd2));
}

static void step_mmap(void)
{
	const size_t len = 65536 + 100;
	int fd = open("mm", O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0)
		fatal("create mm");
	res("ftruncate mm", ftruncate(fd, (off_t)len));
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		say("mmap mm", "-1 %s", ename(errno));
		close(fd);
		return;
	}
	say("mmap mm", "ok");
	fill(p, len, 3, 0);
	uint64_t h = fnv(FNV_INIT, p, len);
	say("mmap written", "fnv=%016" PRIx64, h);
	res("msync", msync(p, len, MS_SYNC));
	res("munmap", munmap(p, len));
	res("close mm", close(fd));
	file_sum("read mm", "mm");
	do_stat("stat mm", "mm");

	fd = open("big", O_RDONLY);
	if (fd < 0) {
		say("mmap big", "open -1 %s", ename(errno));
		return;
	}
	p = mmap(NULL, MIB, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		say("mmap big", "-1 %s", ename(errno));
	} else {
		say("mmap big first MiB", "fnv=%016" PRIx64, fnv(FNV_INIT, p, MIB));
		munmap(p, MIB);
	}
	close(fd);
}

/* Everything below ".", sorted, with what must not vary between runs. */
static void tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		say("tree", "%s: opendir -1 %s", dir, ename(errno));
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				fatal("tree");
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096], step[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(step, sizeof(step), "tree %s", path);
		struct stat st;
		if (lstat(path, &st) < 0) {
			say(step, "-1 %s", ename(errno));
		} else if (S_ISDIR(st.st_mode) && !strcmp(path, "./many")) {
			show_stat(step, 0, &st); /* its entries were checked by readdir many */
		} else if (S_ISDIR(st.st_mode)) {
			show_stat(step, 0, &st);
			tree(path);
		} else if (S_ISREG(st.st_mode)) {
			show_stat(step, 0, &st);
			snprintf(step, sizeof(step), "tree %s content", path);
			file_sum(step, path);
		} else {
			show_stat(step, 0, &st);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	unsigned entries = 10000, mib = 64;
	int c;
	while ((c = getopt(argc, argv, "n:b:")) != -1) {
		if (c == 'n')
			entries = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'b')
			mib = (unsigned)strtoul(optarg, NULL, 10);
		else
			goto usage;
	}
	if (optind != argc - 1 || !mib)
		goto usage;
	if (chdir(argv[optind]) < 0) {
		perror(argv[optind]);
		return 1;
	}
	umask(022);
	step_create();
	step_attrs();
	step_xattr();
	step_names();
	step_bigdir(entries);
	step_bigfile(mib);
	step_sync_locks();
	step_mmap();
	tree(".");
	say("end", "ok");
	return 0;
usage:
	fprintf(stderr, "usage: fwload [-n ENTRIES] [-b MIB] DIR\n");
	return 2;
}
