/* fusedump -r (readcap.h). Messages are decoded with a session fed in capture order, as the
 * live proxy feeds it, so paths, pairing and latencies come out the same. The messages
 * fusedump or a script changed are recorded twice, as read and as forwarded, and shown
 * both ways as live; replies made up by fusedump or a script are marked injected. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "fuseproto/capture.h"
#include "fuseproto/session.h"
#include "readcap.h"

/* The version to decode with when the capture has no INIT: the one its records carry, or
 * the newest. Said in an event line, since it is a guess the live trace did not need. */
static void assume_version(struct fp_session *s, struct fd_out *out, const struct fp_cap_msg *c)
{
	if (c->major) {
		struct fp_conn conn = {c->major, c->minor, c->initflags};
		fp_session_set_conn(s, &conn);
		char msg[200];
		snprintf(msg, sizeof(msg), "the capture starts after INIT: decoding as protocol %u.%u "
			 "with the INIT flags its records carry", c->major, c->minor);
		fd_out_event_text(out, c->ts_ns, "assumed", 0, msg);
	} else {
		const struct fp_conn newest = FP_CONN_NEWEST;
		fp_session_set_conn(s, &newest);
		char msg[200];
		snprintf(msg, sizeof(msg), "the capture starts after INIT and does not say which "
			 "version was negotiated: decoding as protocol %u.%u with every INIT flag",
			 newest.major, newest.minor);
		fd_out_event_text(out, c->ts_ns, "assumed", 0, msg);
	}
}

static void show_event(struct fd_out *out, const struct fp_cap_msg *c)
{
	uint64_t unique;
	const char *name, *text;
	size_t tl;
	if (fp_cap_event_parse(c, &unique, &name, &text, &tl) < 0) {
		fd_out_event_text(out, c->ts_ns, "bad_event", 0, "a malformed event record");
		return;
	}
	char msg[2048];
	snprintf(msg, sizeof(msg), "%.*s", (int)(tl < sizeof(msg) ? tl : sizeof(msg) - 1), text);
	fd_out_event_text(out, c->ts_ns, name, unique, msg);
}

/* Whether path ("-": stdin) is a file, which is read without waiting. */
static int regular_file(const char *path)
{
	struct stat st;
	return (strcmp(path, "-") ? stat(path, &st) : fstat(STDIN_FILENO, &st)) == 0 &&
	       S_ISREG(st.st_mode);
}

int fd_read_capture(const char *path, struct fd_out *out, struct fd_stats *stats, uint64_t count,
		    char *err, size_t n)
{
	struct fp_capr *r = fp_capr_open(path, err, n);
	if (!r)
		return 1;
	struct fp_session *s = fp_session_new();
	struct fp_msg m;
	fp_msg_init(&m);
	int code = 0, first = 1, stream = !regular_file(path);
	uint64_t printed = 0;
	struct fp_cap_msg c;
	int x = 0;
	while ((!count || printed < count) && (x = fp_capr_next(r, &c, err, n)) > 0) {
		if (c.lost) {
			char msg[120];
			snprintf(msg, sizeof(msg), "%" PRIu32 " messages missing here: the capture writer "
				 "was too slow", c.lost);
			fd_out_event_text(out, c.ts_ns, "lost", 0, msg);
		}
		if (c.type == FP_CAP_T_EVENT) {
			show_event(out, &c);
			continue;
		}
		enum fp_origin from = c.type == FP_CAP_T_KERNEL ? FP_FROM_KERNEL : FP_FROM_DAEMON;
		if (c.flags & FP_CAP_F_MODIFIED) {
			/* the copy as forwarded of the message just before, as the live trace shows it */
			if (!first)
				fd_out_modified(out, &m, c.buf, c.len, fp_session_conn(s), c.ts_ns,
						c.flags & FP_CAP_F_SCRIPT);
			stats->edits++;
			continue;
		}
		if (first) {
			first = 0;
			int init = from == FP_FROM_KERNEL && c.len >= 8 &&
				   c.buf[4] == FP_INIT && !c.buf[5] && !c.buf[6] && !c.buf[7];
			if (!init)
				assume_version(s, out, &c);
		}
		if (!s || fp_session_feed(s, &m, from, c.buf, c.len, c.ts_ns) < 0) {
			snprintf(err, n, "%s: out of memory at record %" PRIu64, path, c.record);
			code = 1;
			break;
		}
		fd_stats_msg(stats, &m, from, c.msglen);
		fd_out_msg(out, &m, fp_session_conn(s), (c.flags & FP_CAP_F_INJECTED ? FD_MARK_INJECTED : 0) |
			   (c.len < c.msglen ? FD_MARK_SNAPPED : 0));
		/* the reader of the output went away (| head): no use reading on. From a pipe
		 * (fusedump -w - | fusedump -r -), which may wait for more, every line is passed
		 * on at once, not in the batches of a file (out.c) */
		if ((++printed % 1024 == 0 || stream) && fd_out_flush(out) < 0)
			break;
		if (out->top && fd_top_quit(out->top)) /* q in --top: no use reading on */
			break;
	}
	if (x < 0)
		code = 1;
	fp_msg_free(&m);
	fp_session_free(s);
	fp_capr_close(r);
	return code;
}
