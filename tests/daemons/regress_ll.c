/* regress_ll: a read-only, in-memory, fully deterministic libfuse3 low-level daemon for the
 * replay tests of fusereplay. A session is captured against it with no regression, then
 * replayed against it with one regression switched on; the replay must report exactly the
 * one reply that the regression changes. Everything is fixed (inode numbers, times 1700000000,
 * uid/gid 0, modes, sizes, 1 s timeouts), so that a replay without a regression compares equal.
 *
 *   /hello.txt   "Hello from regress_ll!\n"
 *   /data.bin    100000 bytes, byte i = (i * 7 + 3) & 0xff
 *   /sub/        a.txt, b.txt, c.txt
 *
 * Regressions (--regress=KIND):
 *   size     a READ of /hello.txt misses the last byte of the range it should return
 *            (GETATTR still reports the right size)
 *   errno    a LOOKUP of a missing name fails with EACCES instead of ENOENT
 *   readdir  READDIR and READDIRPLUS of /sub leave out b.txt (LOOKUP of b.txt still works)
 *
 *   regress_ll [--regress=KIND] [-f] [-d] [-s] [-o OPT,...] MOUNTPOINT
 *
 * Always single-threaded (-s is accepted and changes nothing), so that replies come in the
 * order requests were read. INIT gets libfuse's defaults; unimplemented ops get ENOSYS.
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
#include <sys/statvfs.h>
#include <unistd.h>

#include "ll_main.h"

#define TIMEOUT 1.0
#define FIXED_TIME 1700000000
#define DATA_SIZE 100000

enum regress { REGRESS_NONE, REGRESS_SIZE, REGRESS_ERRNO, REGRESS_READDIR, REGRESS_COUNT };

static const char *const regress_names[REGRESS_COUNT] = {
	[REGRESS_SIZE] = "size",
	[REGRESS_ERRNO] = "errno",
	[REGRESS_READDIR] = "readdir",
};

static enum regress regress = REGRESS_NONE;

/* nodeid == inode number == index in nodes[]; 0 is unused */
enum { ROOT_INO = FUSE_ROOT_ID, HELLO_INO, DATA_INO, SUB_INO, A_INO, B_INO, C_INO, NINODES };

static const char hello_text[] = "Hello from regress_ll!\n";
static char data_bin[DATA_SIZE]; /* filled in rl_setup() */

static const struct node {
	const char *name;
	fuse_ino_t parent;
	mode_t mode;
	const char *data; /* a file's content; NULL for a directory */
	size_t size;
} nodes[NINODES] = {
	[ROOT_INO] = {"", ROOT_INO, S_IFDIR | 0755, NULL, 0},
	[HELLO_INO] = {"hello.txt", ROOT_INO, S_IFREG | 0444, hello_text, sizeof(hello_text) - 1},
	[DATA_INO] = {"data.bin", ROOT_INO, S_IFREG | 0444, data_bin, DATA_SIZE},
	[SUB_INO] = {"sub", ROOT_INO, S_IFDIR | 0755, NULL, 0},
	[A_INO] = {"a.txt", SUB_INO, S_IFREG | 0444, "a\n", 2},
	[B_INO] = {"b.txt", SUB_INO, S_IFREG | 0444, "bb\n", 3},
	[C_INO] = {"c.txt", SUB_INO, S_IFREG | 0444, "ccc\n", 4},
};

static const struct node *get_node(fuse_ino_t ino)
{
	return ino >= ROOT_INO && ino < NINODES ? &nodes[ino] : NULL;
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	const struct node *n = &nodes[ino];
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = n->mode;
	st->st_nlink = 1;
	st->st_size = (off_t)n->size;
	if (S_ISDIR(n->mode)) {
		st->st_nlink = 2; /* "." and the entry in the parent, plus each subdirectory's ".." */
		for (fuse_ino_t i = ROOT_INO + 1; i < NINODES; i++)
			if (nodes[i].parent == ino && S_ISDIR(nodes[i].mode))
				st->st_nlink++;
		st->st_size = 4096;
	}
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim.tv_sec = FIXED_TIME;
	st->st_mtim.tv_sec = FIXED_TIME;
	st->st_ctim.tv_sec = FIXED_TIME;
}

static void rl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	for (fuse_ino_t i = ROOT_INO + 1; i < NINODES; i++) {
		if (nodes[i].parent != parent || strcmp(nodes[i].name, name) != 0)
			continue;
		struct fuse_entry_param e;
		memset(&e, 0, sizeof(e));
		e.ino = i;
		fill_stat(i, &e.attr);
		e.attr_timeout = TIMEOUT;
		e.entry_timeout = TIMEOUT;
		fuse_reply_entry(req, &e);
		return;
	}
	fuse_reply_err(req, regress == REGRESS_ERRNO ? EACCES : ENOENT);
}

/* Nothing to free: the nodes live as long as the daemon. */
static void rl_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void rl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	if (!get_node(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void rl_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct node *n = get_node(ino);
	if (!n)
		fuse_reply_err(req, ENOENT);
	else if (!S_ISDIR(n->mode))
		fuse_reply_err(req, ENOTDIR);
	else
		fuse_reply_open(req, fi);
}

/* READDIR and READDIRPLUS: ".", "..", then the children in nodes[] order. Entry i has offset
 * i + 1, so a request at offset `off` goes on with entry `off`. The offsets stay the same
 * under --regress=readdir, so that only a reply that would hold b.txt differs. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	const struct node *dir = get_node(ino);
	if (!dir || !S_ISDIR(dir->mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	struct {
		const char *name;
		fuse_ino_t ino;
	} ents[NINODES + 2] = {{".", ino}, {"..", dir->parent}};
	size_t count = 2;
	for (fuse_ino_t i = ROOT_INO + 1; i < NINODES; i++) {
		if (nodes[i].parent == ino) {
			ents[count].name = nodes[i].name;
			ents[count++].ino = i;
		}
	}
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	/* a negative offset becomes a huge index: nothing more to list */
	for (size_t i = (size_t)off; i < count; i++) {
		struct fuse_entry_param e;
		size_t len;
		if (regress == REGRESS_READDIR && ents[i].ino == B_INO)
			continue;
		memset(&e, 0, sizeof(e));
		fill_stat(ents[i].ino, &e.attr);
		if (plus) {
			/* "." and ".." get nodeid 0: the kernel takes no lookup reference on them */
			if (i >= 2) {
				e.ino = ents[i].ino;
				e.attr_timeout = TIMEOUT;
				e.entry_timeout = TIMEOUT;
			}
			len = fuse_add_direntry_plus(req, buf + used, size - used, ents[i].name, &e,
						     (off_t)i + 1);
		} else {
			len = fuse_add_direntry(req, buf + used, size - used, ents[i].name, &e.attr,
						(off_t)i + 1);
		}
		if (len > size - used)
			break; /* did not fit: the next request goes on from here */
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void rl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

static void rl_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}

static void rl_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void rl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct node *n = get_node(ino);
	if (!n)
		fuse_reply_err(req, ENOENT);
	else if (S_ISDIR(n->mode))
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EACCES);
	else
		fuse_reply_open(req, fi);
}

static void rl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	const struct node *n = get_node(ino);
	if (!n || !n->data) {
		fuse_reply_err(req, n ? EISDIR : ENOENT);
		return;
	}
	if (off < 0 || (size_t)off >= n->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t len = n->size - (size_t)off < size ? n->size - (size_t)off : size;
	if (regress == REGRESS_SIZE && ino == HELLO_INO && len > 0)
		len--;
	fuse_reply_buf(req, n->data + off, len);
}

static void rl_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv = {.f_bsize = 4096, .f_frsize = 4096, .f_blocks = 32,
			     .f_files = NINODES - 1, .f_namemax = 255};
	fuse_reply_statfs(req, &sv);
}

/* Nobody may write; only what has an x bit may be executed (or searched). */
static void rl_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct node *n = get_node(ino);
	if (!n)
		fuse_reply_err(req, ENOENT);
	else if ((mask & W_OK) || ((mask & X_OK) && !(n->mode & 0111)))
		fuse_reply_err(req, EACCES);
	else
		fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops rl_ops = {
	.lookup = rl_lookup,
	.forget = rl_forget,
	.getattr = rl_getattr,
	.opendir = rl_opendir,
	.readdir = rl_readdir,
	.readdirplus = rl_readdirplus,
	.releasedir = rl_release,
	.open = rl_open,
	.read = rl_read,
	.release = rl_release,
	.statfs = rl_statfs,
	.access = rl_access,
};

/* --regress=KIND is ours: fuse_opt_parse takes it out of the arguments libfuse sees. */
static const struct fuse_opt rl_optspec[] = {{"--regress=%s", 0, 0}, FUSE_OPT_END};

/* Before the session, once the command line is good (ll_main.h). */
static int rl_setup(struct fuse_args *args)
{
	(void)args;
	for (size_t i = 0; i < DATA_SIZE; i++)
		data_bin[i] = (char)((i * 7 + 3) & 0xff);
	if (regress != REGRESS_NONE)
		fprintf(stderr, "regress_ll: regression '%s' is on\n", regress_names[regress]);
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	char *kind = NULL;
	int ret = 1;

	if (fuse_opt_parse(&args, &kind, rl_optspec, NULL) != 0)
		goto out;
	if (kind) {
		int k;
		for (k = REGRESS_NONE + 1; k < REGRESS_COUNT; k++)
			if (strcmp(kind, regress_names[k]) == 0)
				break;
		if (k == REGRESS_COUNT) {
			fprintf(stderr, "regress_ll: unknown regression '%s' (size, errno, readdir)\n",
				kind);
			goto out;
		}
		regress = k;
	}
	ret = ll_main(&args, &rl_ops, sizeof(rl_ops), rl_setup, LL_HELP_FULL,
		      "usage: %s [--regress=size|errno|readdir] [options] MOUNTPOINT\n");
out:
	free(kind);
	fuse_opt_free_args(&args);
	return ret;
}
