/* The only edits fusedump makes to messages it forwards: capabilities that cannot cross a
 * socket are cleared from INIT (both ways) and from OPEN-type replies (protocol notes §3). */
#ifndef FUSEDUMP_REWRITE_H
#define FUSEDUMP_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/abi.h"
#include "fuseproto/msg.h"
#include "fusetransport/chan.h"

/* Clear FT_INIT_NEEDS_DEV in an INIT request (read from /dev/fuse) in place. Returns the 64-bit
 * flags that were set and are now clear (0: nothing changed). */
uint64_t fd_rewrite_init_in(uint8_t *buf, size_t len);

/* What fd_rewrite_init_out() lowered; a field is 0 when it was left alone. */
struct fd_clamp {
	uint32_t max_write_was, max_write;
	uint32_t max_pages_was, max_pages;
};

/* Clear FT_INIT_NEEDS_DEV in a successful INIT reply (from the daemon) in place, and lower
 * max_write and max_pages when the largest message they allow would not fit in `limit`
 * bytes (the proxy's buffers and the socket's largest message). Returns the flags cleared;
 * *cl says what was clamped. */
uint64_t fd_rewrite_init_out(uint8_t *buf, size_t len, size_t limit, struct fd_clamp *cl);

/* Clear FOPEN_PASSTHROUGH and zero backing_id in a successful OPEN, OPENDIR, CREATE or
 * TMPFILE reply, decoded in m from buf. A daemon that never saw FUSE_PASSTHROUGH should not
 * set it, but if it reached the kernel, open() would fail with EIO. Returns 1 when the
 * bytes were changed. */
int fd_rewrite_open_out(uint8_t *buf, const struct fp_msg *m);

#endif
