/* The opcode table, the spine of libproto: for each opcode and notification its name,
 * the minor version that introduced it, whether it is answered, and its body layouts. */
#ifndef FUSEPROTO_OPTABLE_H
#define FUSEPROTO_OPTABLE_H

#include <stdint.h>

#include "fuseproto/field.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row flags. */
#define FP_OP_NOREPLY 0x01u /* the kernel expects no reply (FORGET, BATCH_FORGET, NOTIFY_REPLY, INTERRUPT) */
#define FP_OP_EXT     0x02u /* the request may carry an extension area (CREATE, MKNOD, MKDIR, ...) */
#define FP_OP_ENTRY   0x04u /* a successful reply starts with fuse_entry_out: a new lookup reference */
#define FP_OP_NOTIFY  0x08u /* a notification (daemon to kernel, unique 0): `code` is the notify code */

/* One opcode or notification. */
struct fp_op {
	uint32_t code;              /* opcode, or notification code with FP_OP_NOTIFY */
	const char *name;           /* "LOOKUP", "NOTIFY_INVAL_ENTRY" */
	const char *family;         /* the ops/ file that describes it: "entry", "attr", ... */
	uint8_t since;              /* minor version that introduced it (0: the original protocol) */
	uint8_t flags;              /* FP_OP_* */
	const struct fp_struct *req;   /* request (or notification) body; NULL: empty */
	const struct fp_struct *rep;   /* reply body on success; NULL: empty */
	/* Where the reply layout depends on the request (GETXATTR with size 0 answers with
	 * getxattr_out, otherwise with the value), `arg` names the request field whose value
	 * is kept with the pending request and `rep_for` picks the layout from it. */
	const char *arg;
	const struct fp_struct *(*rep_for)(uint64_t arg);
};

/* The row of a request opcode (1..53, CUSE_INIT), or NULL for an unknown opcode. */
const struct fp_op *fp_op_get(uint32_t opcode);

/* The row of a notification code (1..9), or NULL. */
const struct fp_op *fp_notify_get(uint32_t code);

/* Row i (0-based) of all rows, opcodes first, then notifications; NULL past the end.
 * For generators (the Wireshark dissector) and tests that walk the whole table. */
const struct fp_op *fp_op_at(unsigned i);

/* The name of an opcode ("LOOKUP"), or NULL when unknown. */
const char *fp_op_name(uint32_t opcode);

/* The body layout of a reply to `op`, given the request's `arg` field value. */
const struct fp_struct *fp_op_reply_layout(const struct fp_op *op, uint64_t arg);

/* The request header and reply header layouts. */
extern const struct fp_struct fp_in_header_s;
extern const struct fp_struct fp_out_header_s;

#ifdef __cplusplus
}
#endif
#endif
