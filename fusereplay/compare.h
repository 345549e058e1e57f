/* Comparing a live reply with the recorded one, field by field through libproto's decoded
 * values; and the ids (nodeid, fh, directory offsets) that the two pair up on the way. */
#ifndef FUSEREPLAY_COMPARE_H
#define FUSEREPLAY_COMPARE_H

#include <stdint.h>

#include "fuseproto/format.h"
#include "fuseproto/msg.h"

/* fr_cmp_opts.flags */
#define FR_CMP_STRICT          0x01u /* nothing is ignored by default */
#define FR_CMP_IGNORE_INO      0x02u /* ino is ignored too */
#define FR_CMP_ORDERED_READDIR 0x04u /* directory entries must come in the same order */

struct fr_cmp_opts {
	unsigned flags;
	char **ignore; /* --ignore: field names or dotted paths */
	unsigned nignore;
};

/* Add an --ignore FIELD. Returns 0, or -1 for a FIELD that cannot be a field (empty,
 * spaces, ...). */
int fr_cmp_ignore(struct fr_cmp_opts *o, const char *field);
void fr_cmp_free(struct fr_cmp_opts *o);

/* What is ignored, for the report's header: "atime mtime ... ino" (a static or owned
 * string in b). */
void fr_cmp_ignored(const struct fr_cmp_opts *o, struct fp_sbuf *b);

/* Kinds of ids that a reply hands out and later requests refer to. */
enum fr_id_kind {
	FR_ID_NODEID, /* entry_out.nodeid: header nodeid, newdir, oldnodeid, forget nodeid */
	FR_ID_FH,     /* open_out.fh: fh, fh_in, fh_out */
	FR_ID_OFF,    /* dirent.off: READDIR offset */
	FR_ID_KINDS,
};

/* Which id a field is, by its name and its place (request or reply); -1: none. */
int fr_id_kind(const struct fp_field *f, enum fp_dir dir);

/* Called for each difference: `field` is the dotted path ("attr.size", "entries[\"b\"]"),
 * rec and live the two values as text (NULL: absent on that side). */
typedef void (*fr_diff_fn)(void *ctx, const char *field, const char *rec, const char *live);

/* Called for each pair of ids in the same place of the two replies (recorded, live). */
typedef void (*fr_id_fn)(void *ctx, enum fr_id_kind kind, uint64_t rec, uint64_t live);

/*
 * Compare the live reply with the recorded one: the error first (when they differ,
 * nothing else), then every field of the body by its dotted path; directory entries by
 * name unless FR_CMP_ORDERED_READDIR; data byte for byte. A recorded reply whose payload
 * was cut (-s) is compared over the bytes kept. Ids are passed to `id` rather than
 * compared. Returns the number of differences.
 */
unsigned fr_compare(const struct fr_cmp_opts *o, const struct fp_msg *rec, int rec_snapped,
		    const struct fp_msg *live, fr_diff_fn diff, fr_id_fn id, void *ctx);

#endif
