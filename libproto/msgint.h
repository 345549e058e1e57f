/* What the decoder, the encoder and the message builder share inside libproto. */
#ifndef FP_MSGINT_H
#define FP_MSGINT_H

#include "fuseproto/msg.h"

/* Bytes owned by a message (fp_msg_set_bytes). */
struct fp_blob {
	struct fp_blob *next;
	size_t n;
	uint8_t data[];
};

/* Synthetic fields for the roots of the tree and the extension area. */
extern const struct fp_field fp_fld_header;
extern const struct fp_field fp_fld_args;     /* request and notification body root */
extern const struct fp_field fp_fld_result;   /* reply body root */
extern const struct fp_field fp_fld_ext;      /* extension area: array of records */
extern const struct fp_field fp_fld_trailing; /* bytes after a body */
extern const struct fp_struct fp_empty_s;     /* a body with no fields */

/* Append a zeroed value; returns its index, or -1 when memory runs out. */
long fp_msg_push(struct fp_msg *m);

/* Forget every value and owned blob, keeping the allocation of m->v. */
void fp_msg_reset(struct fp_msg *m);

/* Whether field f exists at the connection's version and flags. */
int fp_field_present(const struct fp_field *f, const struct fp_conn *conn);

/* Refresh m->h from the header values. */
void fp_msg_sync_hdr(struct fp_msg *m);

/* The layout of an extension record of `type`. */
const struct fp_struct *fp_ext_layout(uint32_t type);

#endif
