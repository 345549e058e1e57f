/* Protocol lint: rules a message can break that the kernel would refuse or that show a
 * daemon bug, checked over a connection's messages in order. Shared by every tool
 * (fusedump --lint marks violations live, fusereplay --lint reports them). */
#ifndef FUSEPROTO_LINT_H
#define FUSEPROTO_LINT_H

#include <stddef.h>
#include <stdint.h>

#include "fuseproto/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of the lint's own state. Requests in flight beyond FP_LINT_MAX_PENDING are not
 * tracked (replies to unknown uniques are then no longer reported: the lint cannot tell
 * them from the untracked ones). Answered uniques are remembered, to tell a second reply,
 * FP_LINT_MAX_DONE at a time, oldest dropped first. Nodeids with lookups are counted up to
 * FP_LINT_MAX_NODES; forgotten ones are remembered FP_LINT_MAX_FORGOTTEN at a time, oldest
 * dropped first. What is not tracked never gives a violation. */
#define FP_LINT_MAX_PENDING 65536
#define FP_LINT_MAX_DONE 16384
#define FP_LINT_MAX_NODES (1u << 20)
#define FP_LINT_MAX_FORGOTTEN 65536

struct fp_lint;

/* A new lint, before any message. Returns NULL when memory runs out. */
struct fp_lint *fp_lint_new(void);
void fp_lint_free(struct fp_lint *l);

/* Options. */
#define FP_LINT_SNAPPED 0x01u /* messages may have been cut short by a capture's snapshot
			       * length (-s): a message with fewer bytes than its header's len
			       * is not a violation. Messages with more bytes still are. */

/* Set the options (FP_LINT_*), replacing the previous ones. */
void fp_lint_set_flags(struct fp_lint *l, unsigned flags);

/* One violation. `rule` is a stable short id ("unknown-unique"); `text` says what is
 * wrong for people, naming the values ("READ reply of 8192 bytes, 4096 asked"). Both are
 * valid only during the call. */
typedef void (*fp_lint_fn)(void *ctx, const struct fp_msg *m, const char *rule, const char *text);

/* Check message m, just decoded by the caller's session (fp_session_feed, so m->op,
 * m->opcode, the path, status and values are set; the session's negotiated connection is
 * `conn`), written by `from`, and update the lint's own state (requests in flight and
 * answered, lookup counts per nodeid). Calls fn (when not NULL) once per violation.
 * Returns the number of violations. A session joined mid-way (no INIT seen) is handled:
 * replies to requests older than the first one seen and nodeids never looked up are not
 * violations. */
unsigned fp_lint_check(struct fp_lint *l, const struct fp_msg *m, enum fp_origin from,
		       const struct fp_conn *conn, fp_lint_fn fn, void *ctx);

/* The rules: id and a one-line description, for --help and the docs. NULL-terminated. */
struct fp_lint_rule {
	const char *id;
	const char *what;
};
extern const struct fp_lint_rule fp_lint_rules[];

#ifdef __cplusplus
}
#endif
#endif
