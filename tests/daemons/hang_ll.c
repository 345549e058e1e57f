/* hang_ll: a libfuse3 low-level daemon with three read-only files, "hello", "stuck" and
 * "stuck2". Everything is answered except a READ of "stuck" or "stuck2", which never is: the
 * reader waits until the connection ends. It gives tests/integration/test_top.sh requests
 * that stay in flight. Entries and attributes are valid for an hour, so that a workload's requests can
 * be counted exactly (no repeated LOOKUP or GETATTR once a name is known); a missing name
 * gets a plain ENOENT, which the kernel does not cache, so every stat of one is a LOOKUP.
 *
 *   hang_ll [-f] [-d] MOUNTPOINT     (single-threaded: the loop goes on past the hung READ)
 */
#define FUSE_USE_VERSION 34
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ll_main.h"

#define HELLO_INO 2
#define STUCK_INO 3
#define STUCK2_INO 4
#define VALID 3600.0

static const char hello_text[] = "Hello World!\n";

static const struct {
	const char *name;
	fuse_ino_t ino;
} files[] = {{"hello", HELLO_INO}, {"stuck", STUCK_INO}, {"stuck2", STUCK2_INO}};

#define NFILES (sizeof(files) / sizeof(files[0]))

static int fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (ino < HELLO_INO || ino > STUCK2_INO)
		return -1;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = sizeof(hello_text) - 1;
	return 0;
}

static void hl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	for (size_t i = 0; parent == FUSE_ROOT_ID && i < NFILES; i++) {
		if (strcmp(name, files[i].name) != 0)
			continue;
		e.ino = files[i].ino;
		fill_stat(e.ino, &e.attr);
		e.attr_timeout = VALID;
		e.entry_timeout = VALID;
		fuse_reply_entry(req, &e);
		return;
	}
	fuse_reply_err(req, ENOENT);
}

static void hl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	if (fill_stat(ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, VALID);
}

static void hl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	char buf[512];
	size_t used = 0;
	for (off_t i = off; i < (off_t)NFILES + 2; i++) {
		struct stat st = {.st_ino = FUSE_ROOT_ID, .st_mode = S_IFDIR};
		const char *name = i == 0 ? "." : "..";
		if (i >= 2) {
			st.st_ino = files[i - 2].ino;
			st.st_mode = S_IFREG;
			name = files[i - 2].name;
		}
		size_t n = fuse_add_direntry(req, buf + used, sizeof(buf) - used, name, &st, i + 1);
		if (used + n > sizeof(buf) || used + n > size)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void hl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino < HELLO_INO || ino > STUCK2_INO)
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EACCES);
	else
		fuse_reply_open(req, fi);
}

static void hl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	if (ino == STUCK_INO || ino == STUCK2_INO)
		return; /* never answered: libfuse keeps the request until the session ends */
	size_t len = sizeof(hello_text) - 1;
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, hello_text + off, len - (size_t)off < size ? len - (size_t)off : size);
}

/* answered, so that the kernel sends one FLUSH per close (after an ENOSYS it stops) */
static void hl_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops hl_ops = {
	.lookup = hl_lookup,
	.getattr = hl_getattr,
	.readdir = hl_readdir,
	.open = hl_open,
	.read = hl_read,
	.flush = hl_flush,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	int ret = ll_main(&args, &hl_ops, sizeof(hl_ops), NULL, LL_HELP_TERSE,
			  "usage: %s [-f] [-d] MOUNTPOINT\n");

	fuse_opt_free_args(&args);
	return ret;
}
