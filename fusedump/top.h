/* fusedump --top: a live view of the filesystem on the terminal (ncurses), fed with every
 * decoded message and event. The thread that feeds it only counts, under a mutex held for
 * a few hundred nanoseconds; a thread of its own draws four times a second from what was
 * counted, reads the keys, and follows the terminal's size. */
#ifndef FUSEDUMP_TOP_H
#define FUSEDUMP_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/msg.h"

struct fd_top;

/* Take over the terminal (standard input and output, which the caller has checked are
 * one) and start drawing.
 * `capture`: the view plays that capture (-r), at `speed` times the pace of its timestamps
 * (0: as fast as it is read); NULL: live, fed by the proxy.
 * In the calling thread, and so in the threads it starts later, it blocks SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGTSTP and SIGWINCH: the view reads SIGWINCH (resize), SIGTSTP
 * (ignored: a stopped proxy would hang the filesystem) and SIGQUIT (quit) itself, and, when
 * playing a capture, SIGINT, SIGTERM and SIGHUP too (quit); live, those stay for the proxy.
 * While it runs, standard error, when it is the terminal, goes to a pipe instead (the
 * daemon inherits it): its last line is shown on the screen, and all of it is written out
 * when the view closes. Returns NULL, with a message in err, when the terminal cannot be used. */
struct fd_top *fd_top_start(const char *capture, double speed, char *err, size_t n);

/* A decoded message. Playing a capture, it waits until the message is due. */
void fd_top_msg(struct fd_top *t, const struct fp_msg *m);

/* One of fusedump's events (out.h), shown on the bottom line. */
void fd_top_event(struct fd_top *t, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *msg);

/* Playing a capture: whether the user has quit (reading it on is no use). */
int fd_top_quit(struct fd_top *t);

/* Playing a capture: it has all been read (`why`: what went wrong, or NULL). The view
 * stays, with its clock stopped at the last message, until the user quits. */
void fd_top_wait(struct fd_top *t, const char *why);

/* Give the terminal back as it was, and standard error, with what was written to it in
 * the meantime. */
void fd_top_close(struct fd_top *t);

#endif
