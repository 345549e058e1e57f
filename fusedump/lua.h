/* Lua 5.4 in the proxy: scripts with hooks on every request, reply and notification
 * (--lua), and display filters (-Y). The proxy asks a hook what to do with a message and
 * gets a verdict; what scripts do on their own (log lines, notifications, timers) goes
 * through the host callbacks. */
#ifndef FUSEDUMP_LUA_H
#define FUSEDUMP_LUA_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/msg.h"

struct fd_lua;

/* What the proxy provides to scripts. */
struct fd_lua_host {
	void *ctx;
	/* fuse.log(...): a line for the trace, from `script` */
	void (*log)(void *ctx, const char *script, const char *text);
	/* a notification built by a script, to write to the kernel; returns 0 or an errno */
	int (*notify)(void *ctx, const char *script, const uint8_t *buf, size_t len);
	/* a script failed (raised, ran too long, ran out of memory): report it */
	void (*error)(void *ctx, const char *script, const char *what);
};

struct fd_lua_opts {
	const char *const *scripts; /* run in this order */
	unsigned n;
	uint64_t seed;       /* math.random's seed (printed, so that a run can be repeated) */
	int unsafe;          /* --lua-unsafe: os.execute, io.popen, C modules, os.exit allowed */
	int fail_closed;     /* --lua-fail-closed: a request whose hook failed is answered EIO */
	size_t mem_limit;    /* bytes the scripts may allocate together */
};

/* What to do with a message. */
enum fd_verdict {
	FD_PASS,     /* forward it as it was read */
	FD_MODIFIED, /* forward buf instead (the scripts changed fields) */
	FD_ANSWER,   /* requests: do not forward; answer the kernel with buf (a reply) */
	FD_DROP,     /* do not forward, never answer */
};

struct fd_action {
	enum fd_verdict v;
	uint64_t delay_ns;   /* hold the message (or the answer) this long first; 0: no delay */
	uint8_t *buf;        /* FD_MODIFIED, FD_ANSWER: the bytes (the caller frees them) */
	size_t len;
	const char *script;  /* the script that decided (for the trace), or NULL */
};

/* Load the scripts. Returns NULL with a message in err (a script that does not compile or
 * raises while loading). Until fd_lua_set_host(), what scripts log and report goes to
 * stderr and their notifications fail. */
struct fd_lua *fd_lua_new(const struct fd_lua_opts *o, char *err, size_t n);
void fd_lua_set_host(struct fd_lua *L, const struct fd_lua_host *host);
void fd_lua_free(struct fd_lua *L);

/* Whether some script has a hook for requests / replies / notifications. */
int fd_lua_wants(const struct fd_lua *L, enum fp_dir dir);

/* Run the hooks for a decoded message (m is the message as read, with the session's path
 * and pairing); `conn` is the negotiated connection, for building answers. Fills *a. */
void fd_lua_hook(struct fd_lua *L, struct fp_msg *m, const struct fp_conn *conn,
		 struct fd_action *a);

/* The earliest timer (CLOCK_MONOTONIC ns), or 0 when none is set. */
uint64_t fd_lua_next_timer(const struct fd_lua *L);

/* Run the timers due at `now`. */
void fd_lua_run_timers(struct fd_lua *L, uint64_t now);

/* ------------------------------------------------------------------ -Y filters */

struct fd_filter;

/* Compile a display filter: a Lua expression over a message's fields (op == "LOOKUP" and
 * name:match("%.log$"), error ~= 0, path == "/a"). NULL with a message in err. */
struct fd_filter *fd_filter_new(const char *expr, char *err, size_t n);
void fd_filter_free(struct fd_filter *f);

/* Whether m passes. An expression that fails on m (say, indexes a missing field) counts as
 * false; the first such error is kept for fd_filter_error(). */
int fd_filter_match(struct fd_filter *f, struct fp_msg *m);
const char *fd_filter_error(const struct fd_filter *f);

#endif
