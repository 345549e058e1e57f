/* Text and JSON rendering of decoded messages: one line per message, deterministic, so
 * that outputs can be compared with golden files. */
#ifndef FUSEPROTO_FORMAT_H
#define FUSEPROTO_FORMAT_H

#include <stddef.h>

#include "fuseproto/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A growable string. Zero-initialise; release with fp_sbuf_free(). After a failed
 * allocation `oom` is set and further appends are dropped. */
struct fp_sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

void fp_sbuf_free(struct fp_sbuf *b);
void fp_sbuf_clear(struct fp_sbuf *b);
void fp_sbuf_printf(struct fp_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fp_sbuf_put(struct fp_sbuf *b, const char *s, size_t n);

/* Append s[0, n) as an escaped string in double quotes: printable ASCII as it is, \" \\ \n
 * \t \r, every other byte as \xNN, so a name from the wire can never drive a terminal. */
void fp_sbuf_quote(struct fp_sbuf *b, const uint8_t *s, size_t n);

/* Append s[0, n) as a JSON string: well-formed UTF-8 as it is, quotes, backslashes and every
 * other byte escaped (\u00NN), so the line stays valid JSON whatever the wire held. */
void fp_sbuf_json_quote(struct fp_sbuf *b, const uint8_t *s, size_t n);

/* Append the time of day of ts_ns (nanoseconds since the epoch) as "HH:MM:SS.uuuuuu " (UTC). */
void fp_sbuf_clock(struct fp_sbuf *b, uint64_t ts_ns);

/* Append the names in sym of the bits set in v, '|'-separated ("0" for none, unnamed bits
 * in hex): fp_sbuf_flags(b, fp_sym_init_flags, FP_PASSTHROUGH) gives "PASSTHROUGH". */
void fp_sbuf_flags(struct fp_sbuf *b, const struct fp_sym *sym, uint64_t v);

/* Format flags. */
#define FP_FMT_VERBOSE 0x01u /* every field, padding included; data in full (JSON) or longer (text) */
#define FP_FMT_TIME    0x02u /* text: start the line with the time of day (UTC) from m->ts_ns */
#define FP_FMT_HEX     0x04u /* the message's bytes too: text, tcpdump -x style lines after the
			      * line ("\t0x0000:  2800 0000 ..."); JSON, a "raw" hex string */

/* Append one text line for m (no newline), e.g.
 *   LOOKUP #12 nodeid=1 "/" name="a.txt"
 *   #12 LOOKUP = 0 {nodeid=2 attr={ino=2 size=3 mode=0100644 ...}} 21us
 *   #14 LOOKUP = -2 ENOENT 8us
 * A truncated or invalid message ends with [truncated at byte N: reason]. */
void fp_format_text(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags);

/* Append one JSON object for m (no newline) with keys ts, dir, unique, op, len; nodeid,
 * uid, gid, pid for requests; error, errno, latency_us for replies; path when known; args
 * (requests, notifications) or result (replies) keyed by uapi field names; status and
 * reason when the message is truncated or invalid. */
void fp_format_json(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags);

/* Append the value at index i of m as text (what follows "name=" in a text line). */
void fp_format_value(struct fp_sbuf *b, const struct fp_msg *m, long i, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
