/* fusereplay --serve: play the daemon's part of a capture toward the kernel. */
#ifndef FUSEREPLAY_SERVE_H
#define FUSEREPLAY_SERVE_H

struct fr_serve_opts {
	const char *capture;    /* the capture file */
	const char *mountpoint; /* where to mount it */
	const char *mount_opts; /* -m: extra mount options (fusedump's syntax), or NULL */
	int unmatched;          /* --unmatched: the errno (positive) for requests with no match */
	int verbose;            /* -v: one line per request on stderr, with how it was answered */
};

/* Mount the capture's filesystem and serve it until unmounted or SIGINT/SIGTERM; then list
 * the unmatched requests on stderr. Returns the exit status: 0, 1 on failure (with a
 * message on stderr), 2 for a capture that cannot be served (unreadable, no INIT reply). */
int fr_serve(const struct fr_serve_opts *o);

#endif
