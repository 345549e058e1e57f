/* In-place edits of INIT and OPEN-type messages at fixed offsets (reference: the 7.45
 * uapi fuse_init_in, fuse_init_out, fuse_open_out as laid out in abi.h). */
#include <stdio.h>
#include <string.h>

#include "fuseproto/le.h"
#include <unistd.h>

#include "rewrite.h"

#define IN_HDR sizeof(struct fp_in_header)
#define OUT_HDR sizeof(struct fp_out_header)

/* Clear `clear` in the 64-bit flags held at buf[fo] (low half) and buf[f2o] (high half,
 * only with INIT_EXT and only when the message reaches it). */
static uint64_t clear_flags(uint8_t *buf, size_t len, size_t fo, size_t f2o, uint64_t clear)
{
	if (len < fo + 4)
		return 0;
	uint32_t lo = (uint32_t)fp_load_le(buf + fo, 4);
	uint64_t f = lo;
	int ext = (f & FP_INIT_EXT) && len >= f2o + 4;
	if (ext)
		f |= (uint64_t)(uint32_t)fp_load_le(buf + f2o, 4) << 32;
	uint64_t cleared = f & clear;
	if (!cleared)
		return 0;
	f &= ~clear;
	fp_store_le(buf + fo, 4, (uint32_t)f);
	if (ext)
		fp_store_le(buf + f2o, 4, (uint32_t)(f >> 32));
	return cleared;
}

/*
 * INIT request, after the 40-byte fuse_in_header:
 *   @0 major  @4 minor  @8 max_readahead  @12 flags  @16 flags2 (7.36+)  @20 unused[11]
 */
uint64_t fd_rewrite_init_in(uint8_t *buf, size_t len)
{
	if (len < IN_HDR || (uint32_t)fp_load_le(buf + 4, 4) != FP_INIT)
		return 0;
	return clear_flags(buf, len, IN_HDR + offsetof(struct fp_init_in, flags),
			   IN_HDR + offsetof(struct fp_init_in, flags2), FT_INIT_NEEDS_DEV);
}

/*
 * INIT reply, after the 16-byte fuse_out_header:
 *   @0 major  @4 minor  @8 max_readahead  @12 flags  @16 max_background
 *   @18 congestion_threshold  @20 max_write  @24 time_gran  @28 max_pages
 *   @30 map_alignment  @32 flags2  @36 max_stack_depth  @40 request_timeout  @42 unused
 * Older daemons send 24 bytes (minor < 23) or 8 (minor < 5); fields past the end are left.
 */
uint64_t fd_rewrite_init_out(uint8_t *buf, size_t len, size_t limit, struct fd_clamp *cl)
{
	memset(cl, 0, sizeof(*cl));
	if (len < OUT_HDR)
		return 0;
	uint64_t cleared = clear_flags(buf, len, OUT_HDR + offsetof(struct fp_init_out, flags),
				       OUT_HDR + offsetof(struct fp_init_out, flags2),
				       FT_INIT_NEEDS_DEV);

	/* Not clamped unless needed: with FT_MSG_MAX buffers and 8 MiB socket buffers,
	 * libfuse's 1 MiB max_write and 256 max_pages fit. A WRITE request is 80 bytes of
	 * headers plus at most max_write (and max_pages pages) of data; a READ reply is 16
	 * bytes plus at most max_pages pages. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (limit <= 80 + page)
		return cleared;
	size_t mw_off = OUT_HDR + offsetof(struct fp_init_out, max_write);
	if (len >= mw_off + 4) {
		uint32_t mw = (uint32_t)fp_load_le(buf + mw_off, 4);
		if ((size_t)mw + 80 > limit) {
			uint32_t nmw = (uint32_t)((limit - 80) / page * page);
			fp_store_le(buf + mw_off, 4, nmw);
			cl->max_write_was = mw;
			cl->max_write = nmw;
		}
	}
	size_t mp_off = OUT_HDR + offsetof(struct fp_init_out, max_pages);
	size_t fl_off = OUT_HDR + offsetof(struct fp_init_out, flags);
	if (len >= mp_off + 2 && ((uint32_t)fp_load_le(buf + fl_off, 4) & FP_MAX_PAGES)) {
		uint16_t mp = (uint16_t)fp_load_le(buf + mp_off, 2);
		if ((size_t)mp * page + 80 > limit) {
			uint16_t nmp = (uint16_t)((limit - 80) / page);
			fp_store_le(buf + mp_off, 2, nmp);
			cl->max_pages_was = mp;
			cl->max_pages = nmp;
		}
	}
	return cleared;
}

/* Set the u32 at value index i to v in buf; 0 if the value does not sit in the message. */
static int put_val32(uint8_t *buf, const struct fp_msg *m, long i, uint32_t v)
{
	if (i < 0 || m->v[i].len != 4 || m->v[i].off > m->buflen - 4)
		return 0;
	fp_store_le(buf + m->v[i].off, 4, v);
	return 1;
}

int fd_rewrite_open_out(uint8_t *buf, const struct fp_msg *m)
{
	if (m->dir != FP_REPLY || m->h.error != 0 || m->buflen < 4)
		return 0;
	const char *flags_path, *id_path;
	switch (m->opcode) {
	case FP_OPEN:
	case FP_OPENDIR:
		flags_path = "open_flags";
		id_path = "backing_id";
		break;
	case FP_CREATE:
	case FP_TMPFILE:
		flags_path = "open.open_flags";
		id_path = "open.backing_id";
		break;
	default:
		return 0;
	}
	long fi = fp_msg_find(m, flags_path);
	if (fi < 0 || !(m->v[fi].u & FP_FOPEN_PASSTHROUGH))
		return 0;
	int changed = put_val32(buf, m, fi, (uint32_t)(m->v[fi].u & ~(uint64_t)FP_FOPEN_PASSTHROUGH));
	if (changed)
		put_val32(buf, m, fp_msg_find(m, id_path), 0);
	return changed;
}
