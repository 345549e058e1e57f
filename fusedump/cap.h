/* The capture sink (-w): every message as it was read, fusedump's own events, and the
 * messages fusedump changed as they were forwarded, written to a pcap file by a thread of
 * its own (libproto's capture writer), so that a slow disk never holds up the proxy. */
#ifndef FUSEDUMP_CAP_H
#define FUSEDUMP_CAP_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/capture.h"
#include "fuseproto/msg.h"

struct fd_cap;

/* Create the capture (with rotation `ro`), keeping at most `snaplen` bytes of a message
 * beyond its headers (0: all), with `limit` bytes waiting for the writer at most (beyond:
 * records are dropped, counted, and the next record says how many). Returns NULL with a
 * message in err. */
struct fd_cap *fd_cap_open(const char *path, const struct fp_capw_opts *ro, uint32_t snaplen,
			   size_t limit, char *err, size_t n);

/* A decoded message as it was read (or injected: flags FP_CAP_F_INJECTED), with the
 * connection negotiated so far. */
void fd_cap_msg(struct fd_cap *c, const struct fp_msg *m, const struct fp_conn *conn,
		uint32_t flags);

/* The bytes of a message as fusedump forwarded them after changing them (the record just
 * before, of the same origin, holds them as they were read). */
void fd_cap_modified(struct fd_cap *c, enum fp_origin from, const uint8_t *buf, size_t len,
		     uint64_t ts_ns, const struct fp_conn *conn, uint32_t flags);

/* One of fusedump's own events. */
void fd_cap_event(struct fd_cap *c, uint64_t ts_ns, const char *name, uint64_t unique,
		  const char *text);

/* Wake the writer (the proxy is going idle). Returns -1 once writing failed. */
int fd_cap_kick(struct fd_cap *c);

/* Write what is left and close. Returns 0, or -1 with a message in err. *lost: records
 * dropped because the writer was too slow. */
int fd_cap_close(struct fd_cap *c, uint64_t *lost, char *err, size_t n);

/* The message of the error that stopped the writer ("" if none). */
const char *fd_cap_error(struct fd_cap *c);

#endif
