/* Capture files: pcap (nanosecond timestamps, written and read with libpcap) whose records
 * are a pseudo-header of ours followed by the bytes of one FUSE message or of one event of
 * the tool that wrote it. captures/README.md describes the format for other readers. */
#ifndef FUSEPROTO_CAPTURE_H
#define FUSEPROTO_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The link type: LINKTYPE_USER0, reserved for private use (there is no FUSE link type);
 * the dissector in dissectors/ registers itself for it. */
#define FP_CAP_LINKTYPE 147

/* The pcap snapshot length of our files, which is also the largest record: libpcap refuses
 * to read longer records of a link type like ours. Longer messages are split into
 * fragments (FP_CAP_F_MORE). */
#define FP_CAP_SNAPLEN 262144u

/*
 * The pseudo-header, little-endian, at the start of every record:
 *
 *   0  magic     "FUSE"
 *   4  u16 hdrlen   bytes of pseudo-header (40 in version 1): the message starts here;
 *                   readers skip what they do not know
 *   6  u8  version  1
 *   7  u8  type     FP_CAP_T_*
 *   8  u32 flags    FP_CAP_F_*
 *  12  u32 conn     connection id: 0 for the first connection of the tool that wrote it
 *  16  u32 msglen   length of the whole message (or event)
 *  20  u32 fragoff  where this record's bytes start in it (fragments of a long message)
 *  24  u32 lost     messages the writer could not keep right before this one (it was too
 *                   slow), 0 normally
 *  28  u16 major    the protocol version negotiated by INIT at the time of the record,
 *  30  u16 minor    or 0.0 before INIT (or when the writer did not know)
 *  32  u64 initflags the INIT flags negotiated (flags | flags2 << 32), with major != 0
 */
#define FP_CAP_MAGIC "FUSE"
#define FP_CAP_HDRLEN 40u
#define FP_CAP_VERSION 1u

/* Record types. */
enum fp_cap_type {
	FP_CAP_T_KERNEL = 0, /* written by the kernel (read from /dev/fuse): requests, FORGET,
			      * INTERRUPT, NOTIFY_REPLY */
	FP_CAP_T_DAEMON = 1, /* written by the daemon: replies and notifications */
	FP_CAP_T_EVENT = 2,  /* something the tool itself reports (mount, INIT edit, exit) */
};

/* Record flags. */
#define FP_CAP_F_INJECTED 0x01u /* made by the tool (or a script), not by the peer */
#define FP_CAP_F_MODIFIED 0x02u /* the message as forwarded, changed by the tool: it replaces
				 * the previous record of the same type, which holds the message as
				 * received */
#define FP_CAP_F_SNAPPED  0x04u /* payload cut (-s): msglen says how long the message was */
#define FP_CAP_F_MORE     0x08u /* more fragments of this message follow */
#define FP_CAP_F_DROPPED  0x10u /* not forwarded (a script dropped it) */
#define FP_CAP_F_SCRIPT   0x20u /* with MODIFIED: a script changed it (the trace shows the
				 * copy; fusedump's own INIT and OPEN edits it only reports) */

/*
 * An event record's bytes: u64 unique (the request it concerns, 0: none), the event's name
 * (NUL-terminated, "mount", "init_rewrite", ...), then the text (UTF-8, to the end).
 */

/* One message or event: what the writer is given and what the reader returns. */
struct fp_cap_msg {
	uint64_t ts_ns;     /* nanoseconds since the epoch */
	uint8_t type;       /* FP_CAP_T_* */
	uint32_t flags;     /* FP_CAP_F_* (not MORE: the writer and reader deal with fragments) */
	uint32_t conn;
	uint32_t lost;
	uint16_t major, minor;
	uint64_t initflags;
	const uint8_t *buf; /* the bytes kept: the message, or its first len bytes when snapped */
	uint32_t len;
	uint32_t msglen;    /* the whole message (> len when snapped) */
	/* reader only: where the message starts in the file */
	uint64_t record;    /* record number, from 1 */
	uint64_t offset;    /* byte offset of that record */
};

/* ------------------------------------------------------------------ writing */

struct fp_capw;

/* Rotation like tcpdump's -C and -W. */
struct fp_capw_opts {
	uint64_t file_size; /* start a new file when the current one reaches this; 0: never */
	unsigned files;     /* with file_size: keep this many files, then overwrite the oldest,
			     * named PATH0.. (0: no limit, named PATH, PATH1, PATH2, ...) */
};

/* Create the capture `path` (and, with rotation, the files after it). Returns a writer,
 * or NULL with a message in err. */
struct fp_capw *fp_capw_open(const char *path, const struct fp_capw_opts *opts, char *err,
			     size_t n);

/* Write one message or event (m->len bytes of m->buf, split into fragments when longer
 * than a record holds). Starts the next file first when rotation says so. Returns 0, or -1
 * with a message in err. */
int fp_capw_write(struct fp_capw *w, const struct fp_cap_msg *m, char *err, size_t n);

/* Push what is buffered to the file. Returns 0, or -1 with a message in err (write errors
 * show up here first). */
int fp_capw_flush(struct fp_capw *w, char *err, size_t n);

/* Flush and close. Returns 0, or -1 with a message in err. */
int fp_capw_close(struct fp_capw *w, char *err, size_t n);

/* Bytes of message to keep with snapshot length `snaplen` (0: all): everything up to the
 * payload (file data, xattr values), which starts at payload_off, and at most snaplen
 * bytes in all beyond that. */
uint32_t fp_cap_snap(uint32_t len, uint32_t payload_off, uint32_t snaplen);

/* ------------------------------------------------------------------ reading */

struct fp_capr;

/* Open a capture (pcap or pcapng) for reading. Returns a reader, or NULL with a message in
 * err naming the file and what is wrong with it. */
struct fp_capr *fp_capr_open(const char *path, char *err, size_t n);

/* The same over an open stream (a fuzzer's memory); `name` is used in messages. The stream
 * is the reader's: fp_capr_close() closes it, also when this fails. */
struct fp_capr *fp_capr_fopen(FILE *f, const char *name, char *err, size_t n);

/* Next message or event, fragments put back together. Returns 1 with *m filled (valid
 * until the next call), 0 at the end of the file, -1 when the file is damaged, with a
 * message in err naming the record and its byte offset:
 *   "capture.pcap: truncated record 112 at byte 40960 (...)". */
int fp_capr_next(struct fp_capr *r, struct fp_cap_msg *m, char *err, size_t n);

void fp_capr_close(struct fp_capr *r);

/* Split an event record's bytes into its parts. Returns 0, or -1 when they are malformed. */
int fp_cap_event_parse(const struct fp_cap_msg *m, uint64_t *unique, const char **name,
		       const char **text, size_t *textlen);

/* Build an event record's bytes into buf (cap bytes). Returns the length, or 0 if it does
 * not fit. */
size_t fp_cap_event_build(uint8_t *buf, size_t cap, uint64_t unique, const char *name,
			  const char *text);

#ifdef __cplusplus
}
#endif
#endif
