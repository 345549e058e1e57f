/* Per-connection state: the negotiated version, requests waiting for their replies, and
 * the map from nodeid to (parent, name) that gives every request its full path. */
#ifndef FUSEPROTO_SESSION_H
#define FUSEPROTO_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fp_session;

/* Bounds: requests in flight and RETRIEVEs remembered; beyond them new ones are not
 * tracked (their replies then show as unpaired). Nodes are bounded by what is live (each
 * is dropped when FORGETs bring its lookup count to 0), and capped at FP_SESSION_MAX_NODES
 * against a peer that never forgets. */
#define FP_SESSION_MAX_PENDING 65536
#define FP_SESSION_MAX_RETRIEVES 4096
#define FP_SESSION_MAX_NODES (1u << 22)

/* A new session, before INIT (layouts of the newest minor until INIT says otherwise).
 * Returns NULL when memory runs out. */
struct fp_session *fp_session_new(void);
void fp_session_free(struct fp_session *s);

/* Decode one message seen on the connection at time ts_ns and update the session: pair a
 * reply with its request (latency, opcode, layout), learn names from entry replies, apply
 * RENAME, UNLINK, RMDIR, FORGET, take the version from INIT, link INTERRUPT and
 * NOTIFY_REPLY. Fills m's path, latency and link. A reply to a unique that is not in
 * flight, or to the INTERRUPT of one, is marked invalid (the kernel refuses both). Returns what fp_decode returns. */
int fp_session_feed(struct fp_session *s, struct fp_msg *m, enum fp_origin from,
		    const uint8_t *buf, size_t len, uint64_t ts_ns);

/* The full path of nodeid into buf ("/" for the root). Returns buf, or NULL when a name on
 * the way is unknown or buf is too small. */
const char *fp_session_path(const struct fp_session *s, uint64_t nodeid, char *buf, size_t n);

/* Take `c` as negotiated, for a session joined after its INIT (a capture that starts
 * mid-session); a later INIT still replaces it. Replies to requests older than the first
 * one seen are then shown unpaired, not invalid. */
void fp_session_set_conn(struct fp_session *s, const struct fp_conn *c);

/* The connection INIT negotiated, or NULL before (fp_session_conn() then assumes the
 * newest). */
const struct fp_conn *fp_session_negotiated(const struct fp_session *s);

/* The negotiated connection (FP_CONN_NEWEST before INIT). */
const struct fp_conn *fp_session_conn(const struct fp_session *s);

/* Bytes of heap the session holds now, and how many nodes and requests it tracks. */
size_t fp_session_mem(const struct fp_session *s);
size_t fp_session_nodes(const struct fp_session *s);
size_t fp_session_pending(const struct fp_session *s);

/* The opcode of the request `unique` that waits for its reply, or 0 when none does. For a
 * proxy that must know what a reply answers before it forwards it (and decodes it). */
uint32_t fp_session_pending_op(const struct fp_session *s, uint64_t unique);

#ifdef __cplusplus
}
#endif
#endif
