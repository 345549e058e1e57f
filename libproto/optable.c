/* The opcode table: every row the families in ops/ define, indexed by opcode and by
 * notification code, and the two message headers. */
#include <stddef.h>

#include "ops/ops.h"

/* struct fuse_in_header (40 bytes), before every request */
static const struct fp_field fp_in_header_s_f[] = {
	FP_U32("len", .flags = FP_F_LEN),
	FP_U32("opcode"),
	FP_U64("unique"),
	FP_U64("nodeid"),
	FP_U32("uid"),
	FP_U32("gid"),
	FP_U32("pid"),
	FP_U16("total_extlen", .flags = FP_F_LEN),
	FP_PAD16("padding"),
};
FP_STRUCT_DEF(, fp_in_header_s, "fuse_in_header", 40);

/* struct fuse_out_header (16 bytes), before every reply and notification */
static const struct fp_field fp_out_header_s_f[] = {
	FP_U32("len", .flags = FP_F_LEN),
	FP_S32("error", .disp = FP_D_ERRNO),
	FP_U64("unique"),
};
FP_STRUCT_DEF(, fp_out_header_s, "fuse_out_header", 16);

#define FP_ROW(n) [FP_##n] = &fp_op_##n,
static const struct fp_op *const by_opcode[FP_OPCODE_MAX + 1] = {
	FP_OPCODES(FP_ROW)
};
#undef FP_ROW

#define FP_ROW(n) [FP_NOTIFY_##n] = &fp_notify_##n,
static const struct fp_op *const by_notify[FP_NOTIFY_CODE_LAST + 1] = {
	FP_NOTIFIES(FP_ROW)
};
#undef FP_ROW

#define FP_ROW(n) &fp_op_##n,
#define FP_NROW(n) &fp_notify_##n,
static const struct fp_op *const all_rows[] = {
	FP_OPCODES(FP_ROW) &fp_op_CUSE_INIT, FP_NOTIFIES(FP_NROW)
};
#undef FP_ROW
#undef FP_NROW

const struct fp_op *fp_op_get(uint32_t opcode)
{
	if (opcode == FP_CUSE_INIT)
		return &fp_op_CUSE_INIT;
	return opcode <= FP_OPCODE_MAX ? by_opcode[opcode] : NULL;
}

const struct fp_op *fp_notify_get(uint32_t code)
{
	return code <= FP_NOTIFY_CODE_LAST ? by_notify[code] : NULL;
}

const struct fp_op *fp_op_at(unsigned i)
{
	return i < sizeof(all_rows) / sizeof(all_rows[0]) ? all_rows[i] : NULL;
}

const char *fp_op_name(uint32_t opcode)
{
	const struct fp_op *op = fp_op_get(opcode);
	return op ? op->name : NULL;
}

const struct fp_struct *fp_op_reply_layout(const struct fp_op *op, uint64_t arg)
{
	if (!op)
		return NULL;
	return op->rep_for ? op->rep_for(arg) : op->rep;
}
