/* The bounds-checked cursor every read of wire bytes goes through. Errors are sticky: after
 * the first one every read returns 0, so a decoder can read on and check once (no longjmp,
 * which must never cross Lua's own). */
#ifndef FP_CURSOR_H
#define FP_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/le.h"
#include "fuseproto/msg.h"

struct fp_cur {
	const uint8_t *buf;
	uint32_t pos;   /* next byte to read */
	uint32_t end;   /* where the current area ends, as the message declares it */
	uint32_t avail; /* bytes really present in buf: reads past this are truncated */
	enum fp_status err;
	uint32_t err_off;
	char *reason;   /* where to write the reason (the message's buffer) */
	size_t reason_cap;
};

/* Record the first error; later ones are ignored. */
void fp_cur_fail(struct fp_cur *c, enum fp_status st, uint32_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Whether n more bytes lie inside the area and the buffer. If not, records a truncated
 * error (the area goes on past the bytes we have) or an invalid one (the area itself is too
 * short), naming `what`, and returns 0. Overflow-safe: compares n with end - pos. */
int fp_cur_need(struct fp_cur *c, uint64_t n, const char *what);

/* Little-endian reads of `what`; 0 after an error. */
uint64_t fp_cur_uint(struct fp_cur *c, unsigned width, const char *what);

/* Bytes left in the area (declared, not necessarily present). */
static inline uint32_t fp_cur_left(const struct fp_cur *c)
{
	return c->pos < c->end ? c->end - c->pos : 0;
}


#endif
