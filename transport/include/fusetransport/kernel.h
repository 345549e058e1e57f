/* The kernel side of a FUSE connection: open /dev/fuse, mount(2) it as root, unmount. */
#ifndef FUSETRANSPORT_KERNEL_H
#define FUSETRANSPORT_KERNEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the errbuf that functions of this library fill on failure. */
#define FT_ERRBUF_SIZE 256

/*
 * Mount options, as libfuse's mount code sorts them:
 *   MS_* flags      ro rw nosuid suid nodev dev noexec exec noatime atime nodiratime diratime
 *                   relatime norelatime strictatime nostrictatime lazytime nolazytime sync
 *                   async dirsync
 *   kernel options  allow_other default_permissions max_read=N blksize=N (passed to the fuse
 *                   module after fd=, rootmode=, user_id=, group_id=)
 *   fsname=NAME     the mount source ("fuse" by default)
 *   subtype=NAME    the type becomes "fuse.NAME"
 * Defaults are those of libfuse as root: nosuid,nodev.
 */
struct ft_mount_opts {
	unsigned long msflags; /* MS_* for mount(2) */
	char *kernel;          /* comma-separated kernel options, or NULL */
	char *fsname;          /* or NULL */
	char *subtype;         /* or NULL */
};

/* Set o to the defaults (nosuid,nodev, no kernel options). */
void ft_mount_opts_init(struct ft_mount_opts *o);
void ft_mount_opts_free(struct ft_mount_opts *o);

/* Add the comma-separated options of `opts` to o (a later option overrides an earlier one;
 * "\," escapes a comma inside a value, as in libfuse). Returns 0, or -1 with errbuf filled
 * for an option that is not a mount option or has a bad value, or when memory runs out. */
int ft_mount_opts_add(struct ft_mount_opts *o, const char *opts, char *errbuf);

/* Whether the single option `opt` ("allow_other", "fsname=x") is one that
 * ft_mount_opts_add() takes. For callers that pick mount options out of a longer list. */
int ft_mount_opt_known(const char *opt);

/* ft_mount_opts_add() for a longer list (a daemon's own "-o" options): the options that
 * ft_mount_opt_known() refuses are skipped, the others added. Returns 0, or -1 with errbuf
 * filled for a known option with a bad value, or when memory runs out. */
int ft_mount_opts_add_known(struct ft_mount_opts *o, const char *opts, char *errbuf);

/* A mounted connection. */
struct ft_kernel {
	int fd;            /* /dev/fuse, O_NONBLOCK|O_CLOEXEC; -1 once closed */
	char *mountpoint;  /* absolute path, as mounted */
	int mnt_id;        /* the mount's id in /proc/self/mountinfo, or -1 when unknown */
	int mounted;       /* ours is (as far as we know) still mounted */
	int watchdog;      /* write end of the watchdog's pipe, or -1 (set it to -1 before
			    * ft_kernel_mount when the struct is not zeroed) */
};

/* Open /dev/fuse ahead of ft_kernel_mount(), which then mounts that fd (for a daemon
 * that is to hold it itself; nonblock 0: in blocking mode, as a daemon expects). Returns
 * 0, or -1 with errno set and errbuf filled. ft_kernel_mount() takes k->fd >= 0 for such
 * an fd: a struct not zeroed by ft_kernel_mount() itself must have fd = -1. */
int ft_kernel_open(struct ft_kernel *k, int nonblock, char *errbuf);

/*
 * Open /dev/fuse (unless ft_kernel_open() did) and mount it on `mountpoint` (made
 * absolute) with
 *   fd=N,rootmode=<type of the mountpoint>,user_id=<uid>,group_id=<gid>[,<kernel options>]
 * Needs CAP_SYS_ADMIN (no fusermount fallback). The kernel queues INIT at once; mount(2)
 * does not wait for the answer. Returns 0, or -1 with errno set and errbuf filled; nothing
 * is left mounted on failure, nor open but what ft_kernel_open() opened.
 */
int ft_kernel_mount(struct ft_kernel *k, const char *mountpoint, const struct ft_mount_opts *o,
		    char *errbuf);

/*
 * Unmount our mount: umount2(0), and umount2(MNT_DETACH) when that fails with EBUSY
 * (*lazy is then set to 1). Only the mount we made is unmounted: when
 * /proc/self/mountinfo shows that it is gone, this returns 0 at once, and when another
 * mount now sits on top of ours, -1 with EBUSY (nothing is unmounted). Returns 1 when it
 * unmounted, 0 when the mount was already gone, or -1 with errno set and errbuf filled.
 */
int ft_kernel_unmount(struct ft_kernel *k, int *lazy, char *errbuf);

/* Close /dev/fuse. While the filesystem is mounted this aborts the connection: requests in
 * flight and new ones fail with ENOTCONN, as when a daemon dies. Idempotent. */
void ft_kernel_close(struct ft_kernel *k);

/*
 * Start a watchdog for our mount: a small process of its own session that waits until we
 * are gone and, if we died without ft_kernel_free() (SIGKILL, a crash), unmounts lazily
 * what is left on the mountpoint when it is still FUSE (or a dead FUSE connection,
 * ENOTCONN), so that even then no mount is left behind; it then also removes `leftovers`
 * (NULL, or a NULL-terminated list of files and then empty directories, in that order).
 * Returns 0, or -1 with errbuf filled.
 */
int ft_kernel_watchdog(struct ft_kernel *k, const char *const *leftovers, char *errbuf);

/* Close /dev/fuse (if open), stand the watchdog down, free the mountpoint. Does not
 * unmount. */
void ft_kernel_free(struct ft_kernel *k);

#ifdef __cplusplus
}
#endif
#endif
