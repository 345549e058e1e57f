/* Decode a session recorded as hex lines ("K>D <hex>" kernel to daemon, "D>K <hex>" daemon
 * to kernel, as in tests/data/) and print one text or JSON line per message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/format.h"
#include "fuseproto/session.h"
#include "hexsession.h"

static void usage(void)
{
	fprintf(stderr, "usage: hexdecode [-v] [--json] FILE.hex[.gz]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned flags = 0;
	int json = 0;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			flags |= FP_FMT_VERBOSE;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' || path)
			usage();
		else
			path = argv[i];
	}
	if (!path)
		usage();
	struct hexsession hs;
	if (hexsession_load(&hs, path) < 0) {
		fprintf(stderr, "hexdecode: %s: %s\n", path, hs.error);
		return 1;
	}
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	struct fp_sbuf out = {0};
	fp_msg_init(&m);
	size_t bad = 0;
	for (size_t i = 0; i < hs.n; i++) {
		const struct hexmsg *x = &hs.msgs[i];
		/* recorded sessions carry no times: one microsecond a message keeps output stable */
		if (fp_session_feed(s, &m, x->from, x->buf, x->len, (uint64_t)i * 1000) < 0) {
			fprintf(stderr, "hexdecode: out of memory\n");
			return 1;
		}
		bad += m.status != FP_OK;
		fp_sbuf_clear(&out);
		if (json)
			fp_format_json(&out, &m, flags);
		else
			fp_format_text(&out, &m, flags);
		printf("%s\n", out.s);
	}
	fprintf(stderr, "hexdecode: %zu messages, %zu not decoded cleanly\n", hs.n, bad);
	fp_sbuf_free(&out);
	fp_msg_free(&m);
	fp_session_free(s);
	hexsession_free(&hs);
	return bad ? 1 : 0;
}
