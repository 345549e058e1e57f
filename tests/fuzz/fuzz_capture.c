/* libFuzzer harness for libproto's capture reader: the input is a whole file (pcap or
 * pcapng, damaged in any way), read record by record with fragments put back together,
 * and every message decoded through a session and formatted as text and JSON, as
 * `fusedump -r` does. A finding is a sanitizer report or an abort(): a message longer
 * than its record says, or an event whose parts do not lie within it.
 * Seeds: tests/fuzz/corpus/fuzz_capture/ (small real captures). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/capture.h"
#include "fuseproto/format.h"
#include "fuseproto/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	char err[600];
	struct fp_capr *r = fp_capr_fopen(f, "fuzz.pcap", err, sizeof(err));
	if (!r)
		return 0;
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	struct fp_sbuf b = {0};
	struct fp_cap_msg c;
	while (fp_capr_next(r, &c, err, sizeof(err)) > 0) {
		if (c.len > c.msglen)
			abort();
		if (c.type == FP_CAP_T_EVENT) {
			uint64_t unique;
			const char *name, *text;
			size_t tl;
			if (fp_cap_event_parse(&c, &unique, &name, &text, &tl) == 0 &&
			    (name < (const char *)c.buf || text + tl != (const char *)c.buf + c.len))
				abort();
			continue;
		}
		enum fp_origin from = c.type == FP_CAP_T_KERNEL ? FP_FROM_KERNEL : FP_FROM_DAEMON;
		if (fp_session_feed(s, &m, from, c.buf, c.len, c.ts_ns) < 0)
			break;
		fp_sbuf_clear(&b);
		fp_format_text(&b, &m, FP_FMT_VERBOSE | FP_FMT_TIME);
		fp_format_json(&b, &m, FP_FMT_HEX);
	}
	fp_sbuf_free(&b);
	fp_msg_free(&m);
	fp_session_free(s);
	fp_capr_close(r);
	return 0;
}
