/* Counting for --stats. */
#include <inttypes.h>

#include "fuseproto/optable.h"
#include "stats.h"

static unsigned slot(uint32_t opcode)
{
	return opcode <= FP_OPCODE_MAX ? opcode : 0;
}

void fd_stats_msg(struct fd_stats *st, const struct fp_msg *m, enum fp_origin from, size_t len)
{
	st->msgs[from]++;
	st->bytes[from] += len;
	if (m->status != FP_OK)
		st->unclean++;
	if (m->dir == FP_NOTIFY) {
		st->notifies++;
		return;
	}
	struct fd_opstat *o = &st->op[slot(m->opcode)];
	if (m->dir == FP_REQUEST) {
		o->requests++;
		return;
	}
	o->replies++;
	if (m->h.error)
		o->errors++;
	if (m->latency_ns >= 0) {
		uint64_t l = (uint64_t)m->latency_ns;
		o->lat_sum_ns += l;
		o->lat_n++;
		if (l > o->lat_max_ns)
			o->lat_max_ns = l;
	}
}

void fd_stats_print(const struct fd_stats *st, FILE *f)
{
	fprintf(f, "fusedump: kernel to daemon: %" PRIu64 " messages, %" PRIu64 " bytes; "
		   "daemon to kernel: %" PRIu64 " messages (%" PRIu64 " notifications), %" PRIu64
		   " bytes\n",
		st->msgs[0], st->bytes[0], st->msgs[1], st->notifies, st->bytes[1]);
	fprintf(f, "fusedump: %" PRIu64 " not decoded cleanly, %" PRIu64 " reassembled, %" PRIu64
		   " refused by the socket, %" PRIu64 " refused by the kernel, %" PRIu64
		   " not delivered, %" PRIu64 " edited\n",
		st->unclean, st->reassembled, st->send_failed, st->write_failed, st->undelivered,
		st->init_edits);
	fprintf(f, "%-20s %10s %10s %8s %10s %10s\n", "op", "requests", "replies", "errors",
		"avg_us", "max_us");
	for (unsigned i = 0; i <= FP_OPCODE_MAX; i++) {
		const struct fd_opstat *o = &st->op[i];
		if (!o->requests && !o->replies)
			continue;
		const char *name = i ? fp_op_name(i) : NULL;
		char num[24];
		if (!name) {
			snprintf(num, sizeof(num), i ? "op%u" : "(other)", i);
			name = num;
		}
		fprintf(f, "%-20s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %10" PRIu64 " %10" PRIu64
			   "\n",
			name, o->requests, o->replies, o->errors,
			o->lat_n ? o->lat_sum_ns / o->lat_n / 1000 : 0, o->lat_max_ns / 1000);
	}
}
