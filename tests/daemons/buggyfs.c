/* buggyfs: a small writable in-memory libfuse3 low-level daemon with three planted bugs, the
 * target of fusereplay --fuzz. Apart from the bugs it must answer everything correctly, even
 * garbage: every nodeid, handle, offset, size and name it gets is checked, so that a fuzzer
 * finds the planted bugs and nothing else.
 *
 * At start (nodeid: path):
 *   1: /        2: /hello.txt "Hello from buggyfs!\n"     3: /d/
 *   4: /d/one.txt "one\n"     5: /d/two.txt "two\n"        6: /d/sub/
 *
 * The planted bugs (--no-bugs turns all three off); each is deterministic and needs no
 * earlier request beyond INIT:
 *   1. crash  MKDIR of a name of 200 bytes or more (under any parent, known or not) aborts
 *             the daemon, as a strcpy into a 200-byte buffer under _FORTIFY_SOURCE would.
 *             The kernel sends names of up to 255 bytes, so `mkdir` of a 200-byte name
 *             from a shell finds it too. Without the bug such names up to 255 bytes work
 *             and longer ones get ENAMETOOLONG.
 *   2. hang   SETATTR of a known nodeid whose valid has both FATTR_SIZE and FATTR_MODE is
 *             never answered; the daemon goes on serving other requests. chmod and
 *             truncate each send only one of the two; a truncate of a setuid file by a
 *             user without CAP_FSETID sends both (the kernel clears the bit; buggyfs
 *             leaves that to it by turning FUSE_CAP_HANDLE_KILLPRIV off).
 *   3. reply  READDIR (not READDIRPLUS) of a directory at offset 1 (right after ".") is
 *             answered with a 32-byte buffer holding one fuse_dirent whose namelen (64)
 *             claims more name bytes than the buffer holds. The fh is not looked at (a
 *             listing is computed from the tree; OPENDIR's fh is always 0), so READDIR of
 *             nodeid 1 at offset 1 is enough.
 *
 *   buggyfs [--no-bugs] [-f] [-d] [-s] [-o OPT,...] MOUNTPOINT
 *
 * Always single-threaded (-s is accepted and changes nothing): replies come in request
 * order, and the loop goes on past the unanswered SETATTR. Everything is deterministic:
 * the clock is stopped at FIXED_TIME (times change only by an explicit SETATTR), a new
 * node takes the lowest free nodeid, a handle the lowest free fh.
 *
 * Limits (answered, never crashed on): names of 255 bytes (ENAMETOOLONG), 1023 nodes
 * (ENOSPC), 1023 open files (ENFILE), 16 MiB a file (EFBIG), 64 MiB of data in all
 * (ENOSPC); READ and READDIR replies are cut at 1 MiB (no kernel asks for more).
 * Unimplemented ops (links, symlinks, xattrs, locks, ...) get ENOSYS from libfuse.
 */
#define FUSE_USE_VERSION 34
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ll_main.h"

#define TIMEOUT 1.0
#define FIXED_TIME 1700000000
#define NAME_LEN_MAX 255
#define MAX_NODES 1024 /* nodeids 1 .. MAX_NODES - 1 */
#define MAX_HANDLES 1024 /* fh 1 .. MAX_HANDLES - 1 */
#define MAX_FILE_SIZE (16u << 20)
#define MAX_TOTAL_DATA (64u << 20)
#define DATA_ROUND 4096u
#define MAX_REPLY (1u << 20)
/* libfuse reads a message into a buffer of at least 32 pages and a header page, and passes
 * BATCH_FORGET's count on unchecked; more entries than fit there are not in the message. */
#define MAX_BATCH_FORGET 8192

#define BUG_MKDIR_NAME_LEN 200
#define BUG_READDIR_OFFSET 1

static bool bugs = true;

struct node {
	char *name; /* NULL for the root */
	fuse_ino_t parent; /* the root is its own parent */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	dev_t rdev;
	char *data; /* a regular file's content: size bytes used of cap */
	size_t size;
	size_t cap;
	struct timespec atime, mtime, ctime;
	uint64_t nlookup; /* the kernel's references (LOOKUP and the like, minus FORGET) */
	unsigned opens; /* handles open on it */
	bool linked; /* has a name in a directory: false once unlinked or replaced */
};

static struct node *nodes[MAX_NODES];
static uint64_t generations[MAX_NODES]; /* bumped when a nodeid is freed, for its reuse */
static size_t total_data; /* sum of every node's cap */

static struct handle {
	fuse_ino_t ino; /* 0: free */
	int flags;
} handles[MAX_HANDLES];

static struct node *get_node(fuse_ino_t ino)
{
	return ino >= FUSE_ROOT_ID && ino < MAX_NODES ? nodes[ino] : NULL;
}

static struct node *get_dir(fuse_ino_t ino, int *err)
{
	struct node *n = get_node(ino);
	*err = !n ? ENOENT : !S_ISDIR(n->mode) ? ENOTDIR : 0;
	return *err ? NULL : n;
}

/* A name as a directory entry: 1 .. NAME_LEN_MAX bytes, no '/'. "." and ".." pass. */
static int check_name(const char *name)
{
	size_t len = strnlen(name, NAME_LEN_MAX + 1);
	if (len > NAME_LEN_MAX)
		return ENAMETOOLONG;
	if (len == 0 || memchr(name, '/', len))
		return EINVAL;
	return 0;
}

static bool is_dot_or_dotdot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static fuse_ino_t find_child(fuse_ino_t dir, const char *name)
{
	for (fuse_ino_t i = FUSE_ROOT_ID + 1; i < MAX_NODES; i++)
		if (nodes[i] && nodes[i]->linked && nodes[i]->parent == dir &&
		    strcmp(nodes[i]->name, name) == 0)
			return i;
	return 0;
}

static bool dir_is_empty(fuse_ino_t dir)
{
	for (fuse_ino_t i = FUSE_ROOT_ID + 1; i < MAX_NODES; i++)
		if (nodes[i] && nodes[i]->linked && nodes[i]->parent == dir)
			return false;
	return true;
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	const struct node *n = nodes[ino];
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_rdev = n->rdev;
	st->st_nlink = n->linked ? 1 : 0;
	st->st_size = (off_t)n->size;
	if (S_ISDIR(n->mode)) {
		if (n->linked) {
			st->st_nlink = 2; /* "." and the entry in the parent, plus each ".." below */
			for (fuse_ino_t i = FUSE_ROOT_ID + 1; i < MAX_NODES; i++)
				if (nodes[i] && nodes[i]->linked && nodes[i]->parent == ino &&
				    S_ISDIR(nodes[i]->mode))
					st->st_nlink++;
		}
		st->st_size = 4096;
	}
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

static void fill_entry(fuse_ino_t ino, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->generation = generations[ino];
	fill_stat(ino, &e->attr);
	e->attr_timeout = TIMEOUT;
	e->entry_timeout = TIMEOUT;
}

/* Free a node nobody can reach any more: no name, no kernel reference, no open handle. */
static void maybe_free(fuse_ino_t ino)
{
	struct node *n = nodes[ino];
	if (ino == FUSE_ROOT_ID || n->linked || n->nlookup || n->opens)
		return;
	total_data -= n->cap;
	free(n->data);
	free(n->name);
	free(n);
	nodes[ino] = NULL;
	generations[ino]++;
}

/* Make room for `size` bytes of content (or give room back), within the total budget. */
static int resize_data(struct node *n, size_t size)
{
	size_t cap = (size + DATA_ROUND - 1) / DATA_ROUND * DATA_ROUND;
	if (cap == n->cap)
		return 0;
	if (cap > n->cap && cap - n->cap > MAX_TOTAL_DATA - total_data)
		return ENOSPC;
	if (cap == 0) {
		free(n->data);
		n->data = NULL;
	} else {
		char *p = realloc(n->data, cap);
		if (!p)
			return ENOMEM;
		n->data = p;
	}
	total_data = total_data - n->cap + cap;
	n->cap = cap;
	return 0;
}

/* Set a regular file's size; what it grows by reads as zeros. */
static int set_size(struct node *n, size_t size)
{
	int err = resize_data(n, size);
	if (err)
		return err;
	if (size > n->size)
		memset(n->data + n->size, 0, size - n->size);
	n->size = size;
	return 0;
}

static fuse_ino_t new_node(fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
			   const struct fuse_ctx *ctx, int *err)
{
	fuse_ino_t ino;
	for (ino = FUSE_ROOT_ID + 1; ino < MAX_NODES && nodes[ino]; ino++)
		;
	if (ino == MAX_NODES) {
		*err = ENOSPC;
		return 0;
	}
	struct node *n = calloc(1, sizeof(*n));
	if (n)
		n->name = strdup(name);
	if (!n || !n->name) {
		free(n);
		*err = ENOMEM;
		return 0;
	}
	n->parent = parent;
	n->mode = mode;
	n->uid = ctx ? ctx->uid : 0;
	n->gid = ctx ? ctx->gid : 0;
	n->rdev = rdev;
	n->atime = n->mtime = n->ctime = (struct timespec){.tv_sec = FIXED_TIME};
	n->linked = true;
	nodes[ino] = n;
	return ino;
}

/* The checks that MKNOD, MKDIR and CREATE share: a live directory, a new valid name. */
static int check_new_entry(fuse_ino_t parent, const char *name)
{
	int err;
	struct node *dir = get_dir(parent, &err);
	if (!dir)
		return err;
	if (!dir->linked)
		return ENOENT; /* removed: nothing may be created in it */
	if ((err = check_name(name)) != 0)
		return err;
	if (is_dot_or_dotdot(name) || find_child(parent, name))
		return EEXIST;
	return 0;
}

/* Answer with a node's entry; the kernel holds a reference only if it got it. */
static void reply_entry(fuse_req_t req, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	fill_entry(ino, &e);
	if (fuse_reply_entry(req, &e) == 0)
		nodes[ino]->nlookup++;
}

static struct handle *get_handle(fuse_ino_t ino, uint64_t fh)
{
	if (fh == 0 || fh >= MAX_HANDLES || handles[fh].ino == 0 || handles[fh].ino != ino)
		return NULL;
	return &handles[fh];
}

static uint64_t new_handle(fuse_ino_t ino, int flags)
{
	for (uint64_t fh = 1; fh < MAX_HANDLES; fh++) {
		if (handles[fh].ino == 0) {
			handles[fh] = (struct handle){.ino = ino, .flags = flags};
			nodes[ino]->opens++;
			return fh;
		}
	}
	return 0;
}

static void free_handle(uint64_t fh)
{
	fuse_ino_t ino = handles[fh].ino;
	handles[fh].ino = 0;
	nodes[ino]->opens--;
	maybe_free(ino);
}

static bool has_free_handle(void)
{
	for (uint64_t fh = 1; fh < MAX_HANDLES; fh++)
		if (handles[fh].ino == 0)
			return true;
	return false;
}

static void bf_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Splicing would read from fusedump's socket through a pipe: plain reads suffice.
	 * Without HANDLE_KILLPRIV the kernel clears setuid bits itself, with SETATTR. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_HANDLE_KILLPRIV);
}

static void bf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int err;
	struct node *dir = get_dir(parent, &err);
	fuse_ino_t ino = 0;
	if (!dir || (err = check_name(name)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	if (strcmp(name, ".") == 0)
		ino = parent;
	else if (strcmp(name, "..") == 0)
		ino = dir->linked ? dir->parent : 0;
	else
		ino = find_child(parent, name);
	if (!ino)
		fuse_reply_err(req, ENOENT);
	else
		reply_entry(req, ino);
}

static void forget_one(fuse_ino_t ino, uint64_t nlookup)
{
	struct node *n = get_node(ino);
	if (!n)
		return; /* unknown: there is no reply to get wrong */
	n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
	maybe_free(ino);
}

static void bf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void bf_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	if (count > MAX_BATCH_FORGET)
		count = MAX_BATCH_FORGET;
	for (size_t i = 0; i < count; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void bf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi; /* attributes belong to the node, whichever handle asks */
	struct stat st;
	if (!get_node(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static bool valid_nsec(long nsec)
{
	return nsec >= 0 && nsec < 1000000000L;
}

static void bf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct node *n = get_node(ino);
	struct stat st;
	int err;

	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* Planted bug 2: the size change and the mode change both want the node, and this
	 * request waits for itself. */
	if (bugs && (to_set & FUSE_SET_ATTR_SIZE) && (to_set & FUSE_SET_ATTR_MODE))
		return;
	if (fi && S_ISREG(n->mode) && !get_handle(ino, fi->fh)) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (((to_set & FUSE_SET_ATTR_ATIME) && !(to_set & FUSE_SET_ATTR_ATIME_NOW) &&
	     !valid_nsec(attr->st_atim.tv_nsec)) ||
	    ((to_set & FUSE_SET_ATTR_MTIME) && !(to_set & FUSE_SET_ATTR_MTIME_NOW) &&
	     !valid_nsec(attr->st_mtim.tv_nsec)) ||
	    ((to_set & FUSE_SET_ATTR_CTIME) && !valid_nsec(attr->st_ctim.tv_nsec))) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* The size first: it is the only change that can fail. */
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (S_ISDIR(n->mode))
			err = EISDIR;
		else if (!S_ISREG(n->mode) || attr->st_size < 0)
			err = EINVAL;
		else if ((uint64_t)attr->st_size > MAX_FILE_SIZE)
			err = EFBIG;
		else
			err = set_size(n, (size_t)attr->st_size);
		if (err) {
			fuse_reply_err(req, err);
			return;
		}
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	/* "now" is FIXED_TIME: the clock is stopped */
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		n->atime = (struct timespec){.tv_sec = FIXED_TIME};
	else if (to_set & FUSE_SET_ATTR_ATIME)
		n->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		n->mtime = (struct timespec){.tv_sec = FIXED_TIME};
	else if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_CTIME)
		n->ctime = attr->st_ctim;
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void bf_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	int err = check_new_entry(parent, name);
	mode_t type = mode & S_IFMT;
	fuse_ino_t ino;

	if (!err && type != 0 && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK &&
	    type != S_IFCHR && type != S_IFBLK)
		err = EINVAL;
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (type == 0)
		type = S_IFREG; /* as mknod(2) does */
	ino = new_node(parent, name, type | (mode & 07777),
		       type == S_IFCHR || type == S_IFBLK ? rdev : 0, fuse_req_ctx(req), &err);
	if (!ino)
		fuse_reply_err(req, err);
	else
		reply_entry(req, ino);
}

static void bf_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	size_t len = strnlen(name, NAME_LEN_MAX + 1);
	fuse_ino_t ino = 0;
	int err;

	/* Planted bug 1: the name went into a 200-byte buffer; _FORTIFY_SOURCE would stop
	 * the overflowing strcpy just like this. */
	if (bugs && len >= BUG_MKDIR_NAME_LEN) {
		fprintf(stderr, "*** buffer overflow detected ***: buggyfs: MKDIR name of %zu%s bytes\n",
			len, len > NAME_LEN_MAX ? " or more" : "");
		abort();
	}
	err = check_new_entry(parent, name);
	if (!err)
		ino = new_node(parent, name, S_IFDIR | (mode & 07777), 0, fuse_req_ctx(req), &err);
	if (err)
		fuse_reply_err(req, err);
	else
		reply_entry(req, ino);
}

/* UNLINK and RMDIR: an existing child that is (RMDIR) or is not (UNLINK) a directory. */
static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	int err;
	fuse_ino_t ino = 0;
	if (get_dir(parent, &err) && (err = check_name(name)) == 0) {
		if (is_dot_or_dotdot(name))
			err = !dir ? EISDIR : strcmp(name, ".") == 0 ? EINVAL : ENOTEMPTY;
		else if (!(ino = find_child(parent, name)))
			err = ENOENT;
		else if (dir && !S_ISDIR(nodes[ino]->mode))
			err = ENOTDIR;
		else if (!dir && S_ISDIR(nodes[ino]->mode))
			err = EISDIR;
		else if (dir && !dir_is_empty(ino))
			err = ENOTEMPTY;
	}
	if (!err) {
		nodes[ino]->linked = false;
		maybe_free(ino);
	}
	fuse_reply_err(req, err);
}

static void bf_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, false);
}

static void bf_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, true);
}

/* Whether `ino` is `anc` or lies below it. Linked nodes lead up to the root. */
static bool is_under(fuse_ino_t ino, fuse_ino_t anc)
{
	for (int depth = 0; depth < MAX_NODES; depth++) {
		if (ino == anc)
			return true;
		if (ino == FUSE_ROOT_ID)
			return false;
		ino = nodes[ino]->parent;
	}
	return false;
}

static int do_rename(fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned flags)
{
	struct node *dir, *newdir, *n;
	fuse_ino_t ino, target;
	char *copy;
	int err;

	if (flags & ~RENAME_NOREPLACE)
		return EINVAL; /* RENAME_EXCHANGE and RENAME_WHITEOUT are not supported */
	if (!(dir = get_dir(parent, &err)) || !(newdir = get_dir(newparent, &err)))
		return err;
	if ((err = check_name(name)) != 0 || (err = check_name(newname)) != 0)
		return err;
	if (is_dot_or_dotdot(name) || is_dot_or_dotdot(newname))
		return EINVAL;
	if (!(ino = find_child(parent, name)))
		return ENOENT;
	if (!newdir->linked)
		return ENOENT;
	n = nodes[ino];
	if (S_ISDIR(n->mode) && is_under(newparent, ino))
		return EINVAL; /* into itself */
	target = find_child(newparent, newname);
	if (target == ino)
		return 0;
	if (target) {
		if (flags & RENAME_NOREPLACE)
			return EEXIST;
		if (S_ISDIR(n->mode) && !S_ISDIR(nodes[target]->mode))
			return ENOTDIR;
		if (!S_ISDIR(n->mode) && S_ISDIR(nodes[target]->mode))
			return EISDIR;
		if (S_ISDIR(nodes[target]->mode) && !dir_is_empty(target))
			return ENOTEMPTY;
	}
	if (!(copy = strdup(newname)))
		return ENOMEM;
	free(n->name);
	n->name = copy;
	n->parent = newparent;
	if (target) {
		nodes[target]->linked = false;
		maybe_free(target);
	}
	return 0;
}

static void bf_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	fuse_reply_err(req, do_rename(parent, name, newparent, newname, flags));
}

/* The access mode of open flags, or -1 when it is not one. */
static int acc_mode(int flags)
{
	int acc = flags & O_ACCMODE;
	return acc == O_RDONLY || acc == O_WRONLY || acc == O_RDWR ? acc : -1;
}

static void bf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = get_node(ino);
	int acc = acc_mode(fi->flags);
	int err = 0;

	if (!n)
		err = ENOENT;
	else if (S_ISDIR(n->mode))
		err = EISDIR;
	else if (!S_ISREG(n->mode))
		err = ENXIO; /* a device or FIFO node: nothing behind it */
	else if (acc < 0)
		err = EINVAL;
	else if (!has_free_handle())
		err = ENFILE;
	else if ((fi->flags & O_TRUNC) && acc != O_RDONLY)
		err = set_size(n, 0);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = new_handle(ino, fi->flags);
	if (fuse_reply_open(req, fi) != 0)
		free_handle(fi->fh); /* the opener is gone: nobody will release it */
}

static void bf_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	int err = check_new_entry(parent, name);
	struct fuse_entry_param e;
	fuse_ino_t ino = 0;

	if (!err && acc_mode(fi->flags) < 0)
		err = EINVAL;
	if (!err && !has_free_handle())
		err = ENFILE;
	if (!err)
		ino = new_node(parent, name, S_IFREG | (mode & 07777), 0, fuse_req_ctx(req), &err);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = new_handle(ino, fi->flags);
	fill_entry(ino, &e);
	if (fuse_reply_create(req, &e, fi) == 0)
		nodes[ino]->nlookup++;
	else
		free_handle(fi->fh);
}

static void bf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = get_handle(ino, fi->fh);
	struct node *n;
	size_t len;

	if (!h || acc_mode(h->flags) == O_WRONLY) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	n = nodes[ino];
	if ((uint64_t)off >= n->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	len = n->size - (size_t)off;
	if (len > size)
		len = size;
	if (len > MAX_REPLY)
		len = MAX_REPLY; /* a short read: the reader asks again */
	fuse_reply_buf(req, n->data + off, len);
}

static void bf_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
			 struct fuse_file_info *fi)
{
	struct handle *h = get_handle(ino, fi->fh);
	size_t len = fuse_buf_size(bufv);
	size_t old_size;
	struct node *n;
	ssize_t got;
	int err;

	if (!h || acc_mode(h->flags) == O_RDONLY) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (len > MAX_FILE_SIZE || (uint64_t)off > MAX_FILE_SIZE - len) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	if (len == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	n = nodes[ino];
	old_size = n->size;
	if ((size_t)off + len > n->size && (err = set_size(n, (size_t)off + len)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(len);
	dst.buf[0].mem = n->data + off;
	got = fuse_buf_copy(&dst, bufv, 0);
	if (got != (ssize_t)len) {
		/* not with the data in memory (splice is off), but then keep the old size */
		n->size = old_size;
		fuse_reply_err(req, got < 0 ? (int)-got : EIO);
		return;
	}
	fuse_reply_write(req, len);
}

static void bf_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, get_handle(ino, fi->fh) ? 0 : EBADF);
}

static void bf_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!get_handle(ino, fi->fh)) {
		fuse_reply_err(req, EBADF);
		return;
	}
	free_handle(fi->fh);
	fuse_reply_err(req, 0);
}

static void bf_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync; /* in memory: always in sync */
	fuse_reply_err(req, get_handle(ino, fi->fh) ? 0 : EBADF);
}

/* Directory handles carry nothing: a listing is computed from the tree at each READDIR. */
static void bf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int err;
	if (!get_dir(ino, &err)) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void bf_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* The layout of struct fuse_dirent (the kernel's header, which libfuse keeps private). */
struct wire_dirent {
	uint64_t ino;
	uint64_t off;
	uint32_t namelen;
	uint32_t type;
	char name[8];
};

/* Planted bug 3: an entry that claims 64 name bytes in a 32-byte reply. */
static void reply_bad_dirent(fuse_req_t req, fuse_ino_t ino)
{
	struct wire_dirent d = {.ino = nodes[ino]->parent, .off = 2, .namelen = 64,
				.type = DT_DIR, .name = ".."};
	fuse_reply_buf(req, (const char *)&d, sizeof(d));
}

/* READDIR and READDIRPLUS. Entry offsets stay valid while the directory changes: "." has
 * 1, ".." 2, the child with nodeid k has k + 2; a request at offset `off` lists the entries
 * above it, children in nodeid order. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct node *dir;
	size_t used = 0;
	char *buf;
	int err;

	if (!(dir = get_dir(ino, &err))) {
		fuse_reply_err(req, err);
		return;
	}
	if (bugs && !plus && off == BUG_READDIR_OFFSET) {
		reply_bad_dirent(req, ino);
		return;
	}
	if (!dir->linked) {
		fuse_reply_buf(req, NULL, 0); /* removed: no entries, not even "." and ".." */
		return;
	}
	if (size > MAX_REPLY)
		size = MAX_REPLY;
	if (!(buf = malloc(size ? size : 1))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* a negative offset is past every entry */
	for (uint64_t cookie = (uint64_t)off + 1; off >= 0 && cookie < MAX_NODES + 2; cookie++) {
		fuse_ino_t child = cookie == 1 ? ino : cookie == 2 ? dir->parent : cookie - 2;
		const char *name = cookie == 1 ? "." : cookie == 2 ? ".." : NULL;
		struct fuse_entry_param e;
		size_t len;

		if (cookie == 3)
			continue;
		if (!name) {
			if (!nodes[child] || !nodes[child]->linked || nodes[child]->parent != ino)
				continue;
			name = nodes[child]->name;
		}
		fill_entry(child, &e);
		if (plus) {
			if (cookie <= 2) {
				/* nodeid 0: the kernel takes no reference on "." and ".." */
				e.ino = 0;
				e.attr_timeout = e.entry_timeout = 0;
			}
			len = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
						     (off_t)cookie);
		} else {
			len = fuse_add_direntry(req, buf + used, size - used, name, &e.attr,
						(off_t)cookie);
		}
		if (len > size - used)
			break; /* did not fit: the next request goes on from here */
		used += len;
		if (plus && cookie > 2)
			nodes[child]->nlookup++;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void bf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void bf_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

static void bf_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv = {.f_bsize = DATA_ROUND, .f_frsize = DATA_ROUND,
			     .f_blocks = MAX_TOTAL_DATA / DATA_ROUND,
			     .f_files = MAX_NODES - 1, .f_namemax = NAME_LEN_MAX};
	sv.f_bfree = sv.f_bavail = (MAX_TOTAL_DATA - total_data) / DATA_ROUND;
	for (fuse_ino_t i = FUSE_ROOT_ID; i < MAX_NODES; i++)
		if (!nodes[i])
			sv.f_ffree++;
	sv.f_favail = sv.f_ffree;
	fuse_reply_statfs(req, &sv);
}

/* The mode bits for the caller (owner, group or other); root may read and write anything
 * and execute what has an x bit, or search any directory. */
static void bf_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct node *n = get_node(ino);
	mode_t bits;

	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (mask & ~(R_OK | W_OK | X_OK)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (ctx->uid == 0)
		bits = R_OK | W_OK | (S_ISDIR(n->mode) || (n->mode & 0111) ? X_OK : 0);
	else if (ctx->uid == n->uid)
		bits = (n->mode >> 6) & 7;
	else if (ctx->gid == n->gid)
		bits = (n->mode >> 3) & 7;
	else
		bits = n->mode & 7;
	fuse_reply_err(req, (mask & ~bits) ? EACCES : 0);
}

static const struct fuse_lowlevel_ops bf_ops = {
	.init = bf_init,
	.lookup = bf_lookup,
	.forget = bf_forget,
	.forget_multi = bf_forget_multi,
	.getattr = bf_getattr,
	.setattr = bf_setattr,
	.mknod = bf_mknod,
	.mkdir = bf_mkdir,
	.unlink = bf_unlink,
	.rmdir = bf_rmdir,
	.rename = bf_rename,
	.open = bf_open,
	.create = bf_create,
	.read = bf_read,
	.write_buf = bf_write_buf,
	.flush = bf_flush,
	.release = bf_release,
	.fsync = bf_fsync,
	.opendir = bf_opendir,
	.readdir = bf_readdir,
	.readdirplus = bf_readdirplus,
	.releasedir = bf_releasedir,
	.statfs = bf_statfs,
	.access = bf_access,
};

static int add_initial(fuse_ino_t parent, const char *name, mode_t mode, const char *text)
{
	int err = 0;
	fuse_ino_t ino = new_node(parent, name, mode, 0, NULL, &err);
	if (!ino)
		return -1;
	if (text) {
		size_t len = strlen(text);
		if (set_size(nodes[ino], len) != 0)
			return -1;
		memcpy(nodes[ino]->data, text, len);
	}
	return (int)ino;
}

static int make_tree(void)
{
	struct node *root = calloc(1, sizeof(*root));
	if (!root)
		return -1;
	root->parent = FUSE_ROOT_ID;
	root->mode = S_IFDIR | 0755;
	root->atime = root->mtime = root->ctime = (struct timespec){.tv_sec = FIXED_TIME};
	root->linked = true;
	nodes[FUSE_ROOT_ID] = root;
	int d;
	if (add_initial(FUSE_ROOT_ID, "hello.txt", S_IFREG | 0644, "Hello from buggyfs!\n") < 0 ||
	    (d = add_initial(FUSE_ROOT_ID, "d", S_IFDIR | 0755, NULL)) < 0 ||
	    add_initial((fuse_ino_t)d, "one.txt", S_IFREG | 0644, "one\n") < 0 ||
	    add_initial((fuse_ino_t)d, "two.txt", S_IFREG | 0644, "two\n") < 0 ||
	    add_initial((fuse_ino_t)d, "sub", S_IFDIR | 0755, NULL) < 0)
		return -1;
	return 0;
}

/* --no-bugs is ours: fuse_opt_parse takes it out of the arguments libfuse sees. */
static const struct fuse_opt bf_optspec[] = {{"--no-bugs", 0, 1}, FUSE_OPT_END};

/* Before the session, once the command line is good (ll_main.h). */
static int bf_setup(struct fuse_args *args)
{
	(void)args;
	/* Planted bug 1 crashes on purpose, again and again under a fuzzer: no core files. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
	if (make_tree() != 0) {
		fprintf(stderr, "buggyfs: out of memory\n");
		return -1;
	}
	if (!bugs)
		fprintf(stderr, "buggyfs: planted bugs off\n");
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	int no_bugs = 0;
	int ret = 1;

	if (fuse_opt_parse(&args, &no_bugs, bf_optspec, NULL) == 0) {
		bugs = !no_bugs;
		ret = ll_main(&args, &bf_ops, sizeof(bf_ops), bf_setup, LL_HELP_FULL,
			      "usage: %s [--no-bugs] [options] MOUNTPOINT\n");
	}
	fuse_opt_free_args(&args);
	return ret;
}
