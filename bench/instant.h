/* The answers of instantd, the daemon of the replay benchmark (bench/replay.sh), computed
 * from the request alone: the same request always gets the same reply bytes. mkreplay
 * writes its capture's replies with these same functions, so that the two cannot drift. */
#ifndef BENCH_INSTANT_H
#define BENCH_INSTANT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuseproto/abi.h"

/* What instantd offers in its INIT reply. */
#define INSTANT_MINOR 45
#define INSTANT_MAX_WRITE 131072u
#define INSTANT_MAX_PAGES 32u /* READs of at most 128 KiB */
#define INSTANT_FLAGS (FP_ASYNC_READ | FP_BIG_WRITES | FP_MAX_PAGES)

/* One buffer holds a request and then its reply: the kernel wants at least 80 + max_write
 * for a read of /dev/fuse, a READ reply is at most 16 + 4096 * max_pages. */
#define INSTANT_BUFSIZE (INSTANT_MAX_WRITE + 4096u)

/* Fixed file times: 2023-11-14 22:13:20 UTC. */
#define INSTANT_TIME 1700000000u

/* LOOKUP gives names nodeids in [2, 2 + INSTANT_NODES). */
#define INSTANT_NODES 1000000u

/* What INIT negotiated (the minor chooses the sizes of entry and attr replies). */
struct instant_conn {
	uint32_t minor;
};

#define INSTANT_CONN_INIT ((struct instant_conn){INSTANT_MINOR})

static inline uint64_t instant_fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The nodeid LOOKUP gives the name p[0, n). */
static inline uint64_t instant_nodeid(const uint8_t *p, size_t n)
{
	return 2 + instant_fnv1a(p, n) % INSTANT_NODES;
}

/* The attributes of nodeid: regular files of nodeid * 100 bytes, except the root, which
 * must be a directory for a real mount to work (the kernel marks an inode bad whose type
 * changes). */
static inline void instant_attr(struct fp_attr *a, uint64_t nodeid)
{
	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	a->atime = a->mtime = a->ctime = INSTANT_TIME;
	a->blksize = 4096;
	if (nodeid == FP_ROOT_ID) {
		a->mode = 0040755;
		a->nlink = 2;
	} else {
		a->size = nodeid * 100;
		a->blocks = (a->size + 511) / 512;
		a->mode = 0100644;
		a->nlink = 1;
	}
}

/* The byte at position pos of every file. */
static inline uint8_t instant_byte(uint64_t pos)
{
	return (uint8_t)(pos ^ (pos >> 8) ^ (pos >> 16) ^ (pos >> 24));
}

/* Write the reply header into out; returns len. */
static inline size_t instant_hdr(uint8_t *out, size_t len, int error, uint64_t unique)
{
	struct fp_out_header oh = {.len = (uint32_t)len, .error = error, .unique = unique};
	memcpy(out, &oh, sizeof(oh));
	return len;
}

/*
 * The reply to the request req[0, n) into out (cap >= INSTANT_BUFSIZE bytes; out may be
 * req: everything needed is read before anything is written). Returns the reply's length,
 * or 0 for a request that gets no reply (FORGET, BATCH_FORGET, NOTIFY_REPLY) or no header
 * to answer (n < 40). INIT sets c->minor.
 */
static inline size_t instant_answer(const uint8_t *req, size_t n, uint8_t *out, size_t cap,
				    struct instant_conn *c)
{
	struct fp_in_header h;
	if (n < sizeof(h))
		return 0;
	memcpy(&h, req, sizeof(h));
	const uint8_t *body = req + sizeof(h);
	size_t blen = n - sizeof(h);
	const size_t oh = sizeof(struct fp_out_header);
	if (h.len != n)
		return instant_hdr(out, oh, -EIO, h.unique);

	switch (h.opcode) {
	case FP_FORGET:
	case FP_BATCH_FORGET:
	case FP_NOTIFY_REPLY:
		return 0;
	case FP_INIT: {
		struct fp_init_in in = {0};
		struct fp_init_out o = {.major = FP_KERNEL_VERSION, .minor = INSTANT_MINOR};
		memcpy(&in, body, blen < sizeof(in) ? blen : sizeof(in));
		if (blen < 8)
			return instant_hdr(out, oh, -EINVAL, h.unique);
		size_t olen = 8; /* another major: ours, for the kernel to retry or give up */
		if (in.major == FP_KERNEL_VERSION) {
			if (in.minor < o.minor)
				o.minor = in.minor;
			o.max_readahead = in.max_readahead;
			o.flags = in.flags & (uint32_t)INSTANT_FLAGS;
			o.max_write = INSTANT_MAX_WRITE;
			o.time_gran = 1;
			o.max_pages = INSTANT_MAX_PAGES;
			olen = o.minor < 5 ? FP_COMPAT_INIT_OUT_SIZE :
			       o.minor < 23 ? FP_COMPAT_22_INIT_OUT_SIZE : sizeof(o);
			c->minor = o.minor;
		}
		memcpy(out + oh, &o, olen);
		return instant_hdr(out, oh + olen, 0, h.unique);
	}
	case FP_GETATTR: {
		struct fp_attr_out o = {.attr_valid = 1};
		instant_attr(&o.attr, h.nodeid);
		size_t olen = c->minor < 9 ? FP_COMPAT_ATTR_OUT_SIZE : sizeof(o);
		memcpy(out + oh, &o, olen);
		return instant_hdr(out, oh + olen, 0, h.unique);
	}
	case FP_LOOKUP: {
		const uint8_t *nul = memchr(body, 0, blen);
		if (!nul || nul == body)
			return instant_hdr(out, oh, -EINVAL, h.unique);
		struct fp_entry_out o = {.entry_valid = 1, .attr_valid = 1};
		o.nodeid = instant_nodeid(body, (size_t)(nul - body));
		instant_attr(&o.attr, o.nodeid);
		size_t olen = c->minor < 9 ? FP_COMPAT_ENTRY_OUT_SIZE : sizeof(o);
		memcpy(out + oh, &o, olen);
		return instant_hdr(out, oh + olen, 0, h.unique);
	}
	case FP_READ: {
		struct fp_read_in in;
		/* offset and size: the first 24 bytes, also of the read_in before 7.9 */
		if (blen < FP_COMPAT_WRITE_IN_SIZE)
			return instant_hdr(out, oh, -EINVAL, h.unique);
		memcpy(&in, body, FP_COMPAT_WRITE_IN_SIZE);
		size_t size = in.size < cap - oh ? in.size : cap - oh;
		for (size_t i = 0; i < size; i++)
			out[oh + i] = instant_byte(in.offset + i);
		return instant_hdr(out, oh + size, 0, h.unique);
	}
	case FP_DESTROY:
		return instant_hdr(out, oh, 0, h.unique);
	default:
		return instant_hdr(out, oh, -ENOSYS, h.unique);
	}
}

#endif
