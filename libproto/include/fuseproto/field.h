/* Field tables: how libproto describes every FUSE struct once, for decoding, encoding,
 * text and JSON output, Lua field access and the generated Wireshark dissector. */
#ifndef FUSEPROTO_FIELD_H
#define FUSEPROTO_FIELD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a field sits on the wire. All integers are little-endian. */
enum fp_kind {
	FP_K_U8,
	FP_K_U16,
	FP_K_U32,
	FP_K_U64,
	FP_K_S32,
	FP_K_S64,
	FP_K_STR,    /* NUL-terminated string; with `ref`, exactly that many bytes and then a NUL */
	FP_K_BYTES,  /* raw bytes: `ref` bytes (+adj), or up to the end of the enclosing area */
	FP_K_PAD8,   /* filler up to the next 8-byte boundary of the enclosing record */
	FP_K_STRUCT, /* a nested struct, `sub` */
	FP_K_ARRAY,  /* `sub` repeated: `ref` times, or until the enclosing area ends */
	FP_K_EXT,    /* the request extension area: the last total_extlen*8 bytes of a request */
};

/* How a field is shown. */
enum fp_disp {
	FP_D_DEC,
	FP_D_HEX,
	FP_D_OCT,
	FP_D_MODE,    /* st_mode: file type and permission bits */
	FP_D_FLAGS,   /* bits named by `sym`; unnamed bits shown in hex */
	FP_D_ENUM,    /* one value named by `sym` */
	FP_D_OFLAGS,  /* open(2) flags: access mode plus O_* bits */
	FP_D_ERRNO,   /* an errno, positive or negative */
	FP_D_STR,     /* bytes shown as an escaped string */
	FP_D_STRLIST, /* NUL-separated strings (LISTXATTR) */
	FP_D_DATA,    /* payload: its length and a prefix */
};

/* Field flags. */
#define FP_F_PAD     0x01u /* padding, unused, dummy, spare: shown only verbosely or when non-zero */
#define FP_F_VERBOSE 0x02u /* shown only verbosely */
#define FP_F_OPT     0x04u /* may be absent when the area ends right before it (INIT's growing structs) */
#define FP_F_LEN     0x08u /* an integer that another field's length or count refers to */

/* A name for a value (FP_D_ENUM) or a bit mask (FP_D_FLAGS). Tables end with name == NULL. */
struct fp_sym {
	uint64_t v;
	const char *name;
};

struct fp_struct;

/* One field of a struct. */
struct fp_field {
	const char *name;            /* the uapi field name: "nodeid", "fh", "offset" */
	uint8_t kind;                /* enum fp_kind */
	uint8_t disp;                /* enum fp_disp */
	uint8_t since;               /* minor version that added it; absent in older sessions */
	uint8_t need;                /* 1 + the INIT flag bit it depends on (FUSE_SETXATTR_EXT), 0: none */
	uint8_t flags;               /* FP_F_* */
	uint8_t ref;                 /* 1 + index of the earlier sibling holding this length or count; 0: none */
	int8_t adj;                  /* length = sibling value + adj */
	const struct fp_struct *sub; /* FP_K_STRUCT, FP_K_ARRAY: element layout */
	const struct fp_sym *sym;    /* FP_D_FLAGS, FP_D_ENUM */
};

/* A struct: an ordered list of fields. `size` is its full size at the newest minor when every
 * field is fixed-width, 0 when it has variable parts. */
struct fp_struct {
	const char *name;
	const struct fp_field *fields;
	uint16_t n;
	uint16_t size;
};

/* The fixed wire width of an integer kind, 0 for the others. */
unsigned fp_kind_width(enum fp_kind kind);

/* Whether a kind holds an integer. */
int fp_kind_is_int(enum fp_kind kind);

/* The name of `v` in `sym`, or NULL. */
const char *fp_sym_name(const struct fp_sym *sym, uint64_t v);

/* Symbol tables shared by several families and by the formatters. */
extern const struct fp_sym fp_sym_errno[];      /* positive errno values: 2 -> "ENOENT" */
extern const struct fp_sym fp_sym_oflags[];     /* O_* bits except the access mode */
extern const struct fp_sym fp_sym_init_flags[]; /* 64-bit INIT flags: bit -> "ASYNC_READ" */
extern const struct fp_sym fp_sym_init_flags2[]; /* INIT flags2 (bits 32..63 shifted down) */
extern const struct fp_sym fp_sym_dtype[];      /* DT_* values of dirent.type */

/* The name of an errno value (sign ignored), or NULL when unknown. */
const char *fp_errno_name(int64_t err);

#ifdef __cplusplus
}
#endif
#endif
