/* splice_ll: a libfuse3 low-level daemon that serves one read-only file, "data", whose
 * READ replies libfuse writes with splice(2) (FUSE_CAP_SPLICE_WRITE), so that a reply
 * larger than 16 pipe buffers reaches a SOCK_SEQPACKET socket in several pieces (protocol
 * notes §2.4). It lets the integration tests check that fusedump puts them back together.
 *
 *   splice_ll [-f] [-d] -o file=PATH MOUNTPOINT     (single-threaded, like the proxy assumes)
 */
#define FUSE_USE_VERSION 34
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ll_main.h"

#define DATA_INO 2
static const char data_name[] = "data";

static int data_fd = -1;

struct splice_opts {
	char *file;
};

static const struct fuse_opt splice_optspec[] = {
	{"file=%s", offsetof(struct splice_opts, file), 0},
	FUSE_OPT_END,
};
static struct splice_opts sopts;

static int fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (ino != DATA_INO)
		return -1;
	struct stat src;
	if (fstat(data_fd, &src) < 0)
		return -1;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = src.st_size;
	return 0;
}

static void sp_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want |= conn->capable & (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static void sp_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	if (parent != FUSE_ROOT_ID || strcmp(name, data_name) != 0 || fill_stat(DATA_INO, &e.attr) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = DATA_INO;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	fuse_reply_entry(req, &e);
}

static void sp_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	if (fill_stat(ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, 1.0);
}

/* A directory listing of ".", ".." and "data", answered from offset `off`. */
static void sp_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	static const struct {
		const char *name;
		fuse_ino_t ino;
		mode_t mode;
	} ents[] = {{".", FUSE_ROOT_ID, S_IFDIR}, {"..", FUSE_ROOT_ID, S_IFDIR},
		    {data_name, DATA_INO, S_IFREG}};
	char buf[512];
	size_t used = 0;
	for (off_t i = off; i < (off_t)(sizeof(ents) / sizeof(ents[0])); i++) {
		struct stat st = {.st_ino = ents[i].ino, .st_mode = ents[i].mode};
		size_t n = fuse_add_direntry(req, buf + used, sizeof(buf) - used, ents[i].name, &st,
					     i + 1);
		if (used + n > sizeof(buf) || used + n > size)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void sp_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != DATA_INO)
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EACCES);
	else
		fuse_reply_open(req, fi);
}

/* The reply's data comes from the file descriptor: libfuse splices it into the fuse fd. */
static void sp_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = data_fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static const struct fuse_lowlevel_ops sp_ops = {
	.init = sp_init,
	.lookup = sp_lookup,
	.getattr = sp_getattr,
	.readdir = sp_readdir,
	.open = sp_open,
	.read = sp_read,
};

/* -o file=PATH is ours, taken out of what libfuse's command line left. */
static int sp_setup(struct fuse_args *args)
{
	if (fuse_opt_parse(args, &sopts, splice_optspec, NULL) != 0)
		return -1;
	if (!sopts.file) {
		fprintf(stderr, "splice_ll: -o file=PATH is required\n");
		return -1;
	}
	data_fd = open(sopts.file, O_RDONLY | O_CLOEXEC);
	if (data_fd < 0) {
		fprintf(stderr, "splice_ll: %s: %s\n", sopts.file, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	int ret = ll_main(&args, &sp_ops, sizeof(sp_ops), sp_setup, LL_HELP_TERSE,
			  "usage: %s [-f] [-d] -o file=PATH MOUNTPOINT\n");

	if (data_fd >= 0)
		close(data_fd);
	free(sopts.file);
	fuse_opt_free_args(&args);
	return ret;
}
