/* A mirror of a daemon's /dev/fuse: the daemon keeps the real /dev/fuse, and the
 * LD_PRELOAD library copies every message it reads from it or writes to it into a ring in
 * shared memory, which the tracer reads when it likes. Tracing then adds no process to the
 * path of a request and no wakeup: each message costs its daemon thread a copy of its
 * headers (and of the data the trace shows), as libfuse's own -d costs a print.
 *
 * The ring is a memfd: one page of header, then FT_MIRROR data bytes mapped twice in a row,
 * so that a record is always contiguous. Any number of producers (the daemon's threads and
 * processes) reserve space with a compare-and-swap on `head`, fill their record and stamp
 * it; one consumer reads the records in the order they were reserved, and frees them by
 * moving `tail`. A producer never waits: when the ring is full, the message is counted in
 * `lost` and left out. A record is valid when its stamp is its position XOR a constant, so
 * that stale bytes of an earlier lap are never mistaken for one.
 *
 * Order: a request is reserved after the read that got it returned, a reply (or
 * notification) before the write that sends it, so a reply always comes after its request
 * and before whatever the kernel does because of it.
 */
#ifndef FUSETRANSPORT_MIRROR_H
#define FUSETRANSPORT_MIRROR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable that gives the LD_PRELOAD library the ring: the number of the
 * memfd that the daemon inherits. */
#define FT_MIRROR_ENV "FUSEWIRE_MIRROR"

#define FT_MIRROR_SIZE_DEFAULT (64u << 20) /* data bytes of the ring */

enum ft_mirror_from {
	FT_MIRROR_KERNEL = 0, /* read from /dev/fuse: a request, NOTIFY_REPLY */
	FT_MIRROR_DAEMON = 1, /* written to /dev/fuse: a reply or notification */
};

/* One message in the ring; its bytes follow. */
struct ft_mirror_rec {
	uint64_t stamp;   /* (atomic) position ^ FT_MIRROR_DONE once complete */
	uint32_t size;    /* of the record, this header included, a multiple of 8 */
	uint32_t msglen;  /* bytes of the message as read or written */
	uint32_t caplen;  /* bytes of it in the record: < msglen when its data was cut */
	uint8_t from;     /* enum ft_mirror_from */
	uint8_t pad[3];
	int32_t result;   /* FT_MIRROR_DAEMON: 0, or the errno the kernel refused it with */
	int32_t pid;      /* the process that read or wrote it */
	uint64_t ts_ns;   /* CLOCK_REALTIME when it was read, or written */
};

struct ft_mirror_hdr;

struct ft_mirror {
	struct ft_mirror_hdr *h;
	uint8_t *data;  /* size bytes, then the same again */
	size_t size;
	uint64_t pos;   /* the consumer: where it reads, ahead of tail until it releases */
	struct ft_mirror_rec rec; /* the consumer: its copy of the record it looks at */
	int fd;         /* the memfd (the creator's; -1 in a producer) */
};

/*
 * Consumer: create a ring of `size` data bytes (a power of two from 4 MiB to 2 GiB; 0: the
 * default). `keep` is how many bytes of file data (READ replies, WRITE requests) producers
 * copy; 0: all of it. The memfd is not close-on-exec: the daemon is to inherit it.
 * Returns 0, or -1 with errbuf (FT_ERRBUF_SIZE) filled.
 */
int ft_mirror_create(struct ft_mirror *m, size_t size, uint32_t keep, char *errbuf);

/* Producer: map the ring of memfd `fd`. Returns 0, or -1 with errno set. */
int ft_mirror_attach(struct ft_mirror *m, int fd);

/* Unmap (and close the creator's memfd). Idempotent. */
void ft_mirror_close(struct ft_mirror *m);

/*
 * Producer: reserve a record for a message of `len` bytes, gathered from iov, and copy it
 * (its data cut to `keep`). Returns the record, to be finished with ft_mirror_end(), or
 * NULL when the ring is full (the message is counted as lost).
 */
struct ft_mirror_rec *ft_mirror_begin(struct ft_mirror *m, enum ft_mirror_from from,
				      const struct iovec *iov, int iovcnt, size_t len);

/* Producer: stamp the time and `result`, and make the record visible. */
void ft_mirror_end(struct ft_mirror *m, struct ft_mirror_rec *r, int result);

/* Producer: count a message that could not be copied (the ring was not full). */
void ft_mirror_count_lost(struct ft_mirror *m);

/*
 * Consumer: the next complete record, or NULL when there is none (yet). What is returned
 * is the consumer's own copy of the record's header, checked to lie within the ring (a
 * producer that scribbles on the shared memory cannot make the consumer read outside it:
 * such a record is dropped with all that was reserved, and counted as lost); *data gets
 * its caplen bytes, in the shared memory (valid until ft_mirror_release()). A record
 * that its producer died before finishing has ts_ns 0.
 */
const struct ft_mirror_rec *ft_mirror_peek(struct ft_mirror *m, const uint8_t **data);

/* Consumer: the same, also taking a record that a producer never finished (it died: call
 * only when no producer is left). */
const struct ft_mirror_rec *ft_mirror_peek_any(struct ft_mirror *m, const uint8_t **data);

/* Consumer: go past the record that ft_mirror_peek() returned. */
void ft_mirror_next(struct ft_mirror *m);

/* Consumer: free what it went past, for the producers, zeroed (so that the bytes of an
 * earlier lap never pass for a record). Once per batch of records rather than per record:
 * each release moves a cache line that every producer reads. */
void ft_mirror_release(struct ft_mirror *m);

/* Consumer: the bytes reserved and not released, from 0 to m->size. */
size_t ft_mirror_fill(const struct ft_mirror *m);

/* Messages left out so far because the ring was full. */
uint64_t ft_mirror_lost(const struct ft_mirror *m);

/* Processes that attached so far (a producer in each process that mapped the ring). */
uint32_t ft_mirror_attached(const struct ft_mirror *m);

#ifdef __cplusplus
}
#endif
#endif
