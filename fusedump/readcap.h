/* fusedump -r: a capture file read back into the same trace as live. */
#ifndef FUSEDUMP_READCAP_H
#define FUSEDUMP_READCAP_H

#include <stddef.h>
#include <stdint.h>

#include "out.h"
#include "stats.h"

/* Print every message and event of the capture `path` (at most `count` message lines; 0:
 * all) with the session rebuilt from it (paths, pairing, latency). A damaged file is read
 * up to its last good record. Returns 0, or 1 when the file could not be opened or is
 * damaged, with what and where in err (to print once the output is written). */
int fd_read_capture(const char *path, struct fd_out *out, struct fd_stats *stats, uint64_t count,
		    char *err, size_t n);

#endif
