/* Decoded FUSE messages: a flat tree of field values over the message bytes, with the
 * decoder that builds it and the encoder that turns it back into bytes. */
#ifndef FUSEPROTO_MSG_H
#define FUSEPROTO_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/field.h"
#include "fuseproto/optable.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who wrote a message. */
enum fp_origin {
	FP_FROM_KERNEL, /* read from /dev/fuse: requests, FORGET, INTERRUPT, NOTIFY_REPLY */
	FP_FROM_DAEMON, /* written to /dev/fuse: replies and notifications */
};

/* What a message is. */
enum fp_dir {
	FP_REQUEST, /* kernel to daemon */
	FP_REPLY,   /* daemon to kernel, unique != 0 */
	FP_NOTIFY,  /* daemon to kernel, unique == 0; out_header.error holds the code */
};

/* How decoding went. Truncated: bytes are missing (the buffer ends before the message or
 * a field does). Invalid: the bytes are there but break the protocol. */
enum fp_status {
	FP_OK,
	FP_TRUNCATED,
	FP_INVALID,
};

/* The connection parameters that change layouts, from INIT. */
struct fp_conn {
	uint32_t major;
	uint32_t minor;  /* negotiated minor: min(kernel's, daemon's) */
	uint64_t flags;  /* negotiated INIT flags, 64-bit (flags | flags2 << 32) */
};

/* A connection before INIT: assume the newest protocol, every flag. */
#define FP_CONN_NEWEST ((struct fp_conn){7, 45, UINT64_MAX})

/* Value flags. */
#define FP_V_ELEM   0x01u /* an array element (f is the array's field, st the element layout) */
#define FP_V_OWNED  0x02u /* p points into the message's own storage, not the input buffer */

/* One decoded field. Values are stored in pre-order: a struct, array or element is followed
 * by its `nsub` descendants. */
struct fp_val {
	const struct fp_field *f;    /* descriptor */
	const struct fp_struct *st;  /* STRUCT, element, EXT record: the layout decoded */
	uint32_t off;                /* byte offset in the message */
	uint32_t len;                /* bytes on the wire (a STR counts its NUL) */
	uint32_t nsub;               /* number of descendants that follow */
	uint16_t depth;              /* 0 for the header and body roots */
	uint8_t vflags;              /* FP_V_* */
	uint64_t u;                  /* integers (signed ones sign-extended); ARRAY: element count */
	const uint8_t *p;            /* STR (without its NUL), BYTES, PAD8: the bytes */
};

/* Header fields, copied out for convenience (the values are also in the tree). */
struct fp_hdr {
	uint32_t len;
	uint32_t opcode;        /* requests */
	uint64_t unique;
	uint64_t nodeid;        /* requests */
	uint32_t uid, gid, pid; /* requests */
	uint16_t total_extlen;  /* requests */
	int32_t error;          /* replies; notifications: the notify code */
};

/* A decoded message. Initialise with fp_msg_init(), reuse for many messages, release with
 * fp_msg_free(). */
struct fp_msg {
	enum fp_dir dir;
	const struct fp_op *op;  /* the row: the request's opcode (replies: the paired request's), the notification's code; NULL: unknown */
	uint32_t opcode;         /* requests and paired replies: the opcode; notifications: the code; 0: unknown */
	struct fp_hdr h;
	const uint8_t *buf;      /* the bytes decoded (not owned) */
	uint32_t buflen;

	enum fp_status status;
	uint32_t bad_off;        /* where the problem is, bytes from the message start */
	char reason[120];        /* what is wrong, for people */

	struct fp_val *v;        /* v[0]: header; v[hdr.nsub + 1]: body root (if any) */
	uint32_t nv, cap;
	uint32_t body;           /* index of the body root in v, or UINT32_MAX when there is none */

	/* Filled by a session (fp_session_feed); zero otherwise. */
	uint64_t ts_ns;          /* when it was seen */
	int64_t latency_ns;      /* replies: since the request; -1: unpaired */
	uint64_t link;           /* INTERRUPT: the unique it interrupts; NOTIFY_REPLY: the RETRIEVE's notify_unique */
	int linked;              /* link refers to a request or RETRIEVE the session knew */
	int path_known;
	char path[4096];         /* full path of the request's nodeid (requests and their replies) */

	/* Bytes set by fp_msg_set_bytes(); freed by fp_msg_free(). */
	struct fp_blob *blobs;
};

/* For replies: what the session kept of the request it answers. */
struct fp_reqinfo {
	uint32_t opcode;
	uint64_t arg; /* the value of the op row's `arg` field in the request */
};

void fp_msg_init(struct fp_msg *m);
void fp_msg_free(struct fp_msg *m);

/* Decode one message of `len` bytes into `m`, replacing what it held.
 * `from` says who wrote it; `conn` gives the negotiated version (FP_CONN_NEWEST before INIT);
 * `req` describes the request a reply answers (NULL when unknown: the body is kept as bytes).
 * Never reads outside buf[0, len). Returns m->status; on FP_TRUNCATED and FP_INVALID the
 * values decoded before the problem are kept, and m->reason, m->bad_off say what and where.
 * Returns -1 only when memory runs out. */
int fp_decode(struct fp_msg *m, const uint8_t *buf, size_t len, enum fp_origin from,
	      const struct fp_conn *conn, const struct fp_reqinfo *req);

/* Encoder flags. */
#define FP_ENC_FIXUP 0x01u /* recompute header len, total_extlen and every length/count field from the values */

/* Write the message described by m->v to out (at most cap bytes).
 * Returns the full message length (which may exceed cap: nothing past cap is written), or
 * -1 when the values are inconsistent (a STR containing NUL, a length field that overflows). */
long fp_encode(struct fp_msg *m, uint8_t *out, size_t cap, unsigned flags);

/* Build the values of an empty message: the header and every field of the body layout at
 * `conn`'s version, zero, with empty strings, bytes and arrays. For a request, `code` is
 * the opcode; for a reply, the opcode answered (with `req` for layouts that depend on the
 * request), or 0 for a header-only reply such as an error; for a notification, the notify
 * code. Encode with FP_ENC_FIXUP to fill in the lengths and counts. Returns 0, or -1 for an
 * unknown code or no memory. */
int fp_msg_build(struct fp_msg *m, enum fp_dir dir, uint32_t code, const struct fp_conn *conn,
		 const struct fp_reqinfo *req);

/* Find a value by dotted path below the body ("attr.size", "entries.3.name") or in the
 * header ("header.unique"). Returns its index in m->v, or -1. */
long fp_msg_find(const struct fp_msg *m, const char *path);

/* Set an integer value (by index). Returns 0, or -1 if it is not an integer. */
int fp_msg_set_u64(struct fp_msg *m, long idx, uint64_t v);

/* Set a STR or BYTES value to a copy of p[0, n). Returns 0, or -1 (no memory, not a byte field). */
int fp_msg_set_bytes(struct fp_msg *m, long idx, const void *p, size_t n);

/* Append a zeroed element to the array at `idx`. Returns the index of the new element, or -1. */
long fp_msg_append(struct fp_msg *m, long idx, const struct fp_conn *conn);

/* The i-th child (0-based) of the struct, element or array at `idx`, or -1. */
long fp_msg_child(const struct fp_msg *m, long idx, unsigned i);

/* The child of `idx` named `name`, or -1. */
long fp_msg_field(const struct fp_msg *m, long idx, const char *name);

#ifdef __cplusplus
}
#endif
#endif
