/* --stats: counts of messages and bytes each way, per-opcode counts, errors and latency,
 * and what the proxy had to do (reassembly, injected replies), printed at exit. */
#ifndef FUSEDUMP_STATS_H
#define FUSEDUMP_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuseproto/abi.h"
#include "fuseproto/msg.h"

/* Latencies are counted in buckets of a log scale: FD_LAT_SUB per power of two, so that a
 * percentile read from them is within 1/FD_LAT_SUB of the true value. */
#define FD_LAT_SUB 8
#define FD_LAT_BUCKETS (64 * FD_LAT_SUB)

struct fd_opstat {
	uint64_t requests, replies, errors;
	uint64_t lat_sum_ns, lat_max_ns, lat_n;
	uint32_t lat[FD_LAT_BUCKETS];
};

struct fd_stats {
	uint64_t msgs[2], bytes[2]; /* [0] kernel to daemon, [1] daemon to kernel */
	uint64_t notifies;
	uint64_t unclean;      /* not decoded cleanly (truncated or invalid) */
	uint64_t reassembled;  /* replies that came in several pieces */
	uint64_t send_failed;  /* requests the socket refused (answered -EIO or dropped) */
	uint64_t write_failed; /* replies or notifications the kernel refused */
	uint64_t undelivered;  /* daemon messages read after the kernel was gone */
	uint64_t edits;        /* messages fusedump or a script changed before forwarding them */
	uint64_t lost;         /* --mirror: messages left out of the ring (it was full) */
	struct fd_opstat op[FP_OPCODE_MAX + 1]; /* by opcode; [0]: unknown or unpaired */
};

/* Count one decoded message of `len` bytes from `from`. */
void fd_stats_msg(struct fd_stats *st, const struct fp_msg *m, enum fp_origin from, size_t len);

/* Print the summary. */
void fd_stats_print(const struct fd_stats *st, FILE *f);

#endif
