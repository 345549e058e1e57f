/* The bounds-checked cursor: every read of wire bytes, and the little-endian helpers. */
#include "wire/cursor.h"

#include <stdarg.h>
#include <stdio.h>

void fp_cur_fail(struct fp_cur *c, enum fp_status st, uint32_t off, const char *fmt, ...)
{
	if (c->err != FP_OK)
		return;
	c->err = st;
	c->err_off = off;
	if (c->reason && c->reason_cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->reason, c->reason_cap, fmt, ap);
		va_end(ap);
	}
}

int fp_cur_need(struct fp_cur *c, uint64_t n, const char *what)
{
	if (c->err != FP_OK)
		return 0;
	uint32_t lim = c->end < c->avail ? c->end : c->avail;
	if (c->pos <= lim && n <= (uint64_t)(lim - c->pos))
		return 1;
	if (c->pos <= c->end && n <= (uint64_t)(c->end - c->pos))
		fp_cur_fail(c, FP_TRUNCATED, c->pos, "%s: needs %llu bytes, %u captured", what,
			    (unsigned long long)n, c->avail > c->pos ? c->avail - c->pos : 0);
	else
		fp_cur_fail(c, FP_INVALID, c->pos, "%s: needs %llu bytes, message has %u", what,
			    (unsigned long long)n, fp_cur_left(c));
	return 0;
}

uint64_t fp_cur_uint(struct fp_cur *c, unsigned width, const char *what)
{
	if (!fp_cur_need(c, width, what))
		return 0;
	uint64_t v = fp_load_le(c->buf + c->pos, width);
	c->pos += width;
	return v;
}
