/* Counting for --stats. */
#include <inttypes.h>

#include "fuseproto/optable.h"
#include "stats.h"

static unsigned slot(uint32_t opcode)
{
	return opcode <= FP_OPCODE_MAX ? opcode : 0;
}

/* The bucket of a latency: its bit length, then the FD_LAT_SUB steps below the next power
 * of two. Values under FD_LAT_SUB ns get a bucket each. */
static unsigned lat_bucket(uint64_t ns)
{
	if (ns < FD_LAT_SUB)
		return (unsigned)ns;
	unsigned bits = 64 - (unsigned)__builtin_clzll(ns); /* >= 4 */
	unsigned sub = (unsigned)(ns >> (bits - 4)) & (FD_LAT_SUB - 1);
	return (bits - 3) * FD_LAT_SUB + sub;
}

/* The middle of a bucket, in ns. */
static uint64_t lat_value(unsigned b)
{
	if (b < FD_LAT_SUB)
		return b;
	unsigned bits = b / FD_LAT_SUB + 3, sub = b % FD_LAT_SUB;
	uint64_t lo = ((uint64_t)(FD_LAT_SUB + sub)) << (bits - 4);
	return lo + (((uint64_t)1 << (bits - 4)) >> 1);
}

/* The p-th percentile (0 < p <= 100) of o's latencies, in ns. */
static uint64_t lat_percentile(const struct fd_opstat *o, unsigned p)
{
	uint64_t rank = (o->lat_n * p + 99) / 100, seen = 0;
	for (unsigned b = 0; b < FD_LAT_BUCKETS; b++) {
		seen += o->lat[b];
		if (seen >= rank && seen)
			return lat_value(b) < o->lat_max_ns ? lat_value(b) : o->lat_max_ns;
	}
	return o->lat_max_ns;
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
		o->lat[lat_bucket(l)]++;
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
		   " not delivered, %" PRIu64 " edited",
		st->unclean, st->reassembled, st->send_failed, st->write_failed, st->undelivered,
		st->edits);
	if (st->lost)
		fprintf(f, ", %" PRIu64 " not traced (the mirror ring was full)", st->lost);
	fputc('\n', f);
	fprintf(f, "%-16s %10s %10s %8s %9s %9s %9s %9s %9s\n", "op", "requests", "replies",
		"errors", "avg_us", "p50_us", "p90_us", "p99_us", "max_us");
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
		fprintf(f, "%-16s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %9.1f %9.1f %9.1f %9.1f"
			   " %9.1f\n",
			name, o->requests, o->replies, o->errors,
			o->lat_n ? (double)o->lat_sum_ns / (double)o->lat_n / 1e3 : 0.0,
			(double)lat_percentile(o, 50) / 1e3, (double)lat_percentile(o, 90) / 1e3,
			(double)lat_percentile(o, 99) / 1e3, (double)o->lat_max_ns / 1e3);
	}
}
