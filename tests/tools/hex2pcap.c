/* Turn a recorded session in the hex form of tests/data/ into a capture file, as fusedump -w
 * would have written it, for the Wireshark dissector's tests. Messages get made-up times,
 * 10 us apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "fuseproto/capture.h"
#include "fuseproto/session.h"
#include "hexsession.h"

/* 2023-11-14 22:13:20 UTC: a fixed start keeps the output of the tests stable. */
#define T0_NS 1700000000000000000ull
#define STEP_NS 10000ull

static void usage(void)
{
	fprintf(stderr,
		"usage: hex2pcap [-n] [-c CONN] [-e NAME=TEXT]... IN.hex[.gz] OUT.pcap\n"
		"  -n            stamp records with the version and flags INIT negotiated\n"
		"  -c CONN       connection id of every record (default 0)\n"
		"  -e NAME=TEXT  write an event record (unique 0) before the messages\n");
	exit(2);
}

static int put(struct fp_capw *w, struct fp_cap_msg *m)
{
	char err[256];
	if (fp_capw_write(w, m, err, sizeof(err)) < 0) {
		fprintf(stderr, "hex2pcap: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int stamp = 0;
	uint32_t conn = 0;
	const char *events[16];
	unsigned nev = 0;
	int i;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-n")) {
			stamp = 1;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			conn = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "-e") && i + 1 < argc && nev < 16 &&
			   strchr(argv[i + 1], '=')) {
			events[nev++] = argv[++i];
		} else {
			usage();
		}
	}
	if (argc - i != 2)
		usage();

	struct hexsession hs;
	if (hexsession_load(&hs, argv[i]) < 0) {
		fprintf(stderr, "hex2pcap: %s: %s\n", argv[i], hs.error);
		return 1;
	}
	char err[256];
	struct fp_capw *w = fp_capw_open(argv[i + 1], NULL, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "hex2pcap: %s\n", err);
		hexsession_free(&hs);
		return 1;
	}
	struct fp_session *s = fp_session_new();
	struct fp_msg dm;
	fp_msg_init(&dm);
	int rc = 0;
	uint64_t ts = T0_NS;

	for (unsigned k = 0; k < nev && rc == 0; k++) {
		uint8_t buf[512];
		char name[64];
		const char *eq = strchr(events[k], '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq - events[k]), events[k]);
		size_t n = fp_cap_event_build(buf, sizeof(buf), 0, name, eq + 1);
		if (!n) {
			fprintf(stderr, "hex2pcap: event %s is too long\n", name);
			rc = 1;
			break;
		}
		struct fp_cap_msg m = {.ts_ns = ts, .type = FP_CAP_T_EVENT, .conn = conn,
				       .buf = buf, .len = (uint32_t)n, .msglen = (uint32_t)n};
		rc = put(w, &m) < 0;
		ts += STEP_NS;
	}

	int negotiated = 0;
	for (size_t k = 0; k < hs.n && rc == 0; k++) {
		const struct hexmsg *x = &hs.msgs[k];
		struct fp_cap_msg m = {
			.ts_ns = ts,
			.type = x->from == FP_FROM_KERNEL ? FP_CAP_T_KERNEL : FP_CAP_T_DAEMON,
			.conn = conn,
			.buf = x->buf,
			.len = (uint32_t)x->len,
			.msglen = (uint32_t)x->len,
		};
		const struct fp_conn *c = fp_session_conn(s);
		if (stamp && negotiated) {
			m.major = (uint16_t)c->major;
			m.minor = (uint16_t)c->minor;
			m.initflags = c->flags;
		}
		rc = put(w, &m) < 0;
		/* the session follows INIT; the record of the INIT reply itself is still 0.0 */
		if (fp_session_feed(s, &dm, x->from, x->buf, x->len, ts) < 0) {
			fprintf(stderr, "hex2pcap: out of memory\n");
			rc = 1;
		}
		if (dm.dir == FP_REPLY && dm.opcode == FP_INIT && dm.h.error == 0)
			negotiated = 1;
		ts += STEP_NS;
	}
	if (fp_capw_close(w, err, sizeof(err)) < 0) {
		fprintf(stderr, "hex2pcap: %s\n", err);
		rc = 1;
	}
	fp_msg_free(&dm);
	fp_session_free(s);
	hexsession_free(&hs);
	return rc;
}
