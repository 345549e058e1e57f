/* The kernel side: /dev/fuse, mount(2) with libfuse's option rules, and an unmount that
 * only ever touches the mount this process made (checked in /proc/self/mountinfo). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fusetransport/kernel.h"
#include "internal.h"

/* ------------------------------------------------------------------ options */

struct msopt {
	const char *name;
	unsigned long flag;
	int set; /* 1: the option sets the flag, 0: clears it */
};

static const struct msopt msopts[] = {
	{"ro", MS_RDONLY, 1},		{"rw", MS_RDONLY, 0},
	{"nosuid", MS_NOSUID, 1},	{"suid", MS_NOSUID, 0},
	{"nodev", MS_NODEV, 1},		{"dev", MS_NODEV, 0},
	{"noexec", MS_NOEXEC, 1},	{"exec", MS_NOEXEC, 0},
	{"noatime", MS_NOATIME, 1},	{"atime", MS_NOATIME, 0},
	{"nodiratime", MS_NODIRATIME, 1}, {"diratime", MS_NODIRATIME, 0},
	{"relatime", MS_RELATIME, 1},	{"norelatime", MS_RELATIME, 0},
	{"strictatime", MS_STRICTATIME, 1}, {"nostrictatime", MS_STRICTATIME, 0},
	{"lazytime", MS_LAZYTIME, 1},	{"nolazytime", MS_LAZYTIME, 0},
	{"sync", MS_SYNCHRONOUS, 1},	{"async", MS_SYNCHRONOUS, 0},
	{"dirsync", MS_DIRSYNC, 1},
};

/* Options for the fuse module. `value`: 0 none, 1 a decimal number, 2 any string. */
struct kopt {
	const char *name;
	int value;
};

static const struct kopt kopts[] = {
	{"allow_other", 0}, {"default_permissions", 0},
	{"max_read", 1}, {"blksize", 1},
	{"context", 2}, {"fscontext", 2}, {"defcontext", 2}, {"rootcontext", 2},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

void ft_mount_opts_init(struct ft_mount_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->msflags = MS_NOSUID | MS_NODEV;
}

void ft_mount_opts_free(struct ft_mount_opts *o)
{
	free(o->kernel);
	free(o->fsname);
	free(o->subtype);
	memset(o, 0, sizeof(*o));
}

/* Split "name=value": the length of the name part. */
static size_t opt_namelen(const char *opt)
{
	return strcspn(opt, "=");
}

static const struct msopt *find_ms(const char *opt)
{
	for (size_t i = 0; i < N(msopts); i++)
		if (!strcmp(opt, msopts[i].name))
			return &msopts[i];
	return NULL;
}

static const struct kopt *find_k(const char *opt)
{
	size_t n = opt_namelen(opt);
	for (size_t i = 0; i < N(kopts); i++)
		if (strlen(kopts[i].name) == n && !strncmp(opt, kopts[i].name, n))
			return &kopts[i];
	return NULL;
}

int ft_mount_opt_known(const char *opt)
{
	return find_ms(opt) || find_k(opt) || !strncmp(opt, "fsname=", 7) ||
	       !strncmp(opt, "subtype=", 8);
}

static int set_str(char **dst, const char *v, const char *name, char *errbuf)
{
	if (!*v) {
		ft_seterr(errbuf, "mount option %s= needs a value", name);
		errno = EINVAL;
		return -1;
	}
	char *s = strdup(v);
	if (!s) {
		ft_seterr(errbuf, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int append_kernel(struct ft_mount_opts *o, const char *opt, char *errbuf)
{
	size_t old = o->kernel ? strlen(o->kernel) : 0;
	char *s = realloc(o->kernel, old + 1 + strlen(opt) + 1);
	if (!s) {
		ft_seterr(errbuf, "out of memory");
		return -1;
	}
	if (old)
		s[old++] = ',';
	strcpy(s + old, opt);
	o->kernel = s;
	return 0;
}

static int add_one(struct ft_mount_opts *o, const char *opt, char *errbuf)
{
	const struct msopt *ms = find_ms(opt);
	if (ms) {
		if (ms->set)
			o->msflags |= ms->flag;
		else
			o->msflags &= ~ms->flag;
		return 0;
	}
	if (!strncmp(opt, "fsname=", 7))
		return set_str(&o->fsname, opt + 7, "fsname", errbuf);
	if (!strncmp(opt, "subtype=", 8))
		return set_str(&o->subtype, opt + 8, "subtype", errbuf);
	const struct kopt *k = find_k(opt);
	if (!k) {
		ft_seterr(errbuf, "unknown mount option \"%s\"", opt);
		errno = EINVAL;
		return -1;
	}
	const char *eq = opt + opt_namelen(opt);
	int ok;
	if (k->value == 0) {
		ok = *eq == 0;
	} else if (k->value == 1) {
		char *end;
		errno = 0;
		unsigned long long v = *eq ? strtoull(eq + 1, &end, 10) : 0;
		ok = *eq && eq[1] >= '0' && eq[1] <= '9' && !*end && !errno && v <= UINT_MAX;
	} else {
		ok = *eq && eq[1];
	}
	if (!ok) {
		ft_seterr(errbuf, "bad mount option \"%s\" (%s)", opt,
			  k->value == 0 ? "takes no value" :
			  k->value == 1 ? "needs a decimal number" : "needs a value");
		errno = EINVAL;
		return -1;
	}
	/* a comma inside a kernel option would split it in the mount data */
	if (strchr(opt, ',')) {
		ft_seterr(errbuf, "bad mount option \"%s\" (comma in a kernel option)", opt);
		errno = EINVAL;
		return -1;
	}
	return append_kernel(o, opt, errbuf);
}

/* Split opts like libfuse (commas, "\," for a comma inside a value) and add each option,
 * or with known_only each one that ft_mount_opt_known() takes. */
static int add_list(struct ft_mount_opts *o, const char *opts, int known_only, char *errbuf)
{
	char *tok = malloc(strlen(opts) + 1);
	if (!tok) {
		ft_seterr(errbuf, "out of memory");
		return -1;
	}
	int rc = 0;
	const char *p = opts;
	while (rc == 0) {
		size_t n = 0;
		while (*p && *p != ',') {
			if (*p == '\\' && p[1])
				p++;
			tok[n++] = *p++;
		}
		tok[n] = 0;
		if (n && (!known_only || ft_mount_opt_known(tok)))
			rc = add_one(o, tok, errbuf);
		if (!*p)
			break;
		p++;
	}
	free(tok);
	return rc;
}

int ft_mount_opts_add(struct ft_mount_opts *o, const char *opts, char *errbuf)
{
	return add_list(o, opts, 0, errbuf);
}

int ft_mount_opts_add_known(struct ft_mount_opts *o, const char *opts, char *errbuf)
{
	return add_list(o, opts, 1, errbuf);
}

/* ------------------------------------------------------------------ mountinfo */

/* Undo the octal escapes (\040 for a space, ...) of a mountinfo path, in place. */
static void unescape(char *s)
{
	char *d = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

enum mi_state { MI_ERROR = -1, MI_GONE, MI_TOP, MI_COVERED };

/*
 * Look for `path` in /proc/self/mountinfo. A line is
 *   id parent major:minor root mountpoint options [optional...] - fstype source superopts
 * *top_id gets the id of the last (topmost) mount at path whose type is fuse or fuse.*,
 * or -1; with want_id >= 0 the result says where that mount is: gone, topmost at path,
 * or covered by a later mount.
 */
static enum mi_state mountinfo_find(const char *path, int want_id, int *top_id)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return MI_ERROR;
	char *line = NULL;
	size_t cap = 0;
	int found = 0, top = -1, last_at_path = -1;
	while (getline(&line, &cap, f) > 0) {
		int id;
		char mp[4097];
		if (sscanf(line, "%d %*d %*s %*s %4096s", &id, mp) != 2)
			continue;
		unescape(mp);
		if (id == want_id)
			found = 1;
		if (strcmp(mp, path) != 0)
			continue;
		last_at_path = id;
		const char *sep = strstr(line, " - ");
		if (sep && (!strncmp(sep + 3, "fuse ", 5) || !strncmp(sep + 3, "fuse.", 5)))
			top = id;
	}
	free(line);
	int err = ferror(f);
	fclose(f);
	if (err)
		return MI_ERROR;
	if (top_id)
		*top_id = top;
	if (want_id < 0)
		return MI_ERROR;
	if (!found)
		return MI_GONE;
	return last_at_path == want_id ? MI_TOP : MI_COVERED;
}

/* ------------------------------------------------------------------ mount */

static int open_dev(char *errbuf)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		ft_seterr(errbuf, "/dev/fuse: %s", strerror(e));
		errno = e;
	}
	return fd;
}

int ft_kernel_open(struct ft_kernel *k, int nonblock, char *errbuf)
{
	ft_kernel_close(k);
	k->fd = open_dev(errbuf);
	if (k->fd >= 0 && !nonblock)
		fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) & ~O_NONBLOCK);
	return k->fd < 0 ? -1 : 0;
}

int ft_kernel_mount(struct ft_kernel *k, const char *mountpoint, const struct ft_mount_opts *o,
		    char *errbuf)
{
	/* an fd of ft_kernel_open() stays in k whatever happens; one opened here is closed
	 * on failure */
	int fd = k->fd;
	int opened = fd < 0;
	memset(k, 0, sizeof(*k));
	k->fd = fd;
	k->mnt_id = -1;
	k->watchdog = -1;
	int e;
	struct stat st;
	char *mnt = realpath(mountpoint, NULL);
	if (!mnt) {
		e = errno;
		ft_seterr(errbuf, "%s: %s", mountpoint, strerror(e));
		goto fail;
	}
	if (stat(mnt, &st) < 0) {
		e = errno;
		ft_seterr(errbuf, "%s: %s", mnt, strerror(e));
		goto fail;
	}
	if (opened && (fd = open_dev(errbuf)) < 0) {
		e = errno;
		goto fail;
	}
	char data[64 + 4096];
	int n = snprintf(data, sizeof(data), "fd=%d,rootmode=%o,user_id=%u,group_id=%u%s%s", fd,
			 (unsigned)(st.st_mode & S_IFMT), (unsigned)getuid(), (unsigned)getgid(),
			 o->kernel ? "," : "", o->kernel ? o->kernel : "");
	char type[300];
	int tn = snprintf(type, sizeof(type), "fuse%s%s", o->subtype ? "." : "",
			  o->subtype ? o->subtype : "");
	if (n < 0 || (size_t)n >= sizeof(data) || tn < 0 || (size_t)tn >= sizeof(type)) {
		e = E2BIG;
		ft_seterr(errbuf, "mount options too long");
		goto fail;
	}
	const char *source = o->fsname ? o->fsname : "fuse";
	if (mount(source, mnt, type, o->msflags, data) < 0) {
		e = errno;
		ft_seterr(errbuf, "mount %s on %s (type %s, options %s): %s%s", source, mnt, type, data,
			  strerror(e), e == EPERM ? " (mount(2) needs root)" : "");
		goto fail;
	}
	k->fd = fd;
	k->mountpoint = mnt;
	k->mounted = 1;
	/* Just mounted, so the topmost fuse mount at this path is ours. Without its id the
	 * unmount cannot check that it is still ours; it then trusts the path. */
	int id = -1;
	mountinfo_find(mnt, -1, &id);
	k->mnt_id = id;
	return 0;
fail:
	if (opened && fd >= 0)
		close(fd);
	free(mnt);
	errno = e;
	return -1;
}

/* ------------------------------------------------------------------ unmount */

int ft_kernel_unmount(struct ft_kernel *k, int *lazy, char *errbuf)
{
	if (lazy)
		*lazy = 0;
	if (!k->mountpoint || !k->mounted)
		return 0;
	if (k->mnt_id >= 0) {
		enum mi_state st = mountinfo_find(k->mountpoint, k->mnt_id, NULL);
		if (st == MI_GONE) {
			k->mounted = 0;
			return 0;
		}
		if (st == MI_COVERED) {
			ft_seterr(errbuf, "%s: another mount now covers ours; not unmounting it",
				  k->mountpoint);
			errno = EBUSY;
			return -1;
		}
	}
	/* Plain "fuse" mounts send nothing to the daemon on unmount (DESTROY is for fuseblk
	 * only), so calling this from the thread that serves /dev/fuse cannot deadlock. */
	if (umount2(k->mountpoint, UMOUNT_NOFOLLOW) == 0) {
		k->mounted = 0;
		return 1;
	}
	int e = errno;
	if (e == EBUSY) {
		if (umount2(k->mountpoint, UMOUNT_NOFOLLOW | MNT_DETACH) == 0) {
			k->mounted = 0;
			if (lazy)
				*lazy = 1;
			return 1;
		}
		e = errno;
	}
	if (e == EINVAL) {
		/* not a mount point any more: someone else unmounted it */
		k->mounted = 0;
		return 0;
	}
	ft_seterr(errbuf, "umount %s: %s", k->mountpoint, strerror(e));
	errno = e;
	return -1;
}

void ft_kernel_close(struct ft_kernel *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

#define FUSE_SUPER_MAGIC 0x65735546

int ft_kernel_watchdog(struct ft_kernel *k, const char *const *leftovers, char *errbuf)
{
	if (!k->mountpoint) {
		ft_seterr(errbuf, "watchdog: nothing mounted");
		return -1;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		ft_seterr(errbuf, "watchdog: pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		ft_seterr(errbuf, "watchdog: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only syscalls from here: the parent may have threads. Hold nothing that keeps
		 * the connection or the mount alive: no fd but the pipe, cwd "/". */
		int rfd = p[0];
		if (rfd > 3)
			close_range(3, (unsigned)rfd - 1, 0);
		close_range((unsigned)rfd + 1, ~0u, 0);
		close_range(0, 2, 0);
		setsid();
		struct sigaction sa = {.sa_handler = SIG_IGN};
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		if (chdir("/") < 0)
			_exit(1);
		char c = 0;
		ssize_t r;
		do
			r = read(rfd, &c, 1);
		while (r < 0 && errno == EINTR);
		if (r == 1)
			_exit(0); /* stood down */
		/* a dead connection gives ENOTCONN, or ECONNABORTED to a request that was
		 * waiting when it was aborted, which a statfs right after our death can be */
		struct statfs sf;
		if (statfs(k->mountpoint, &sf) == 0 ? (unsigned long)sf.f_type == FUSE_SUPER_MAGIC
						     : errno == ENOTCONN || errno == ECONNABORTED)
			umount2(k->mountpoint, MNT_DETACH);
		for (const char *const *l = leftovers; l && *l; l++)
			if (unlink(*l) < 0 && errno == EISDIR)
				rmdir(*l);
		_exit(0);
	}
	close(p[0]);
	k->watchdog = p[1];
	return 0;
}

void ft_kernel_free(struct ft_kernel *k)
{
	ft_kernel_close(k);
	if (k->watchdog >= 0) {
		ssize_t w = write(k->watchdog, "x", 1);
		(void)w;
		close(k->watchdog);
		k->watchdog = -1;
	}
	free(k->mountpoint);
	k->mountpoint = NULL;
}
