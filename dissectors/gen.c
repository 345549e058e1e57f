/* The generator of fuse.lua, the Wireshark dissector of fusewire's captures: it copies the
 * hand-written template and puts in place of its "--@GENERATED@" line what libproto's tables
 * say: a ProtoField for every field of every layout, value strings, and the layouts expanded
 * per opcode, which the template's walker decodes. README.md gives the filter names.
 *
 *   gen TEMPLATE OUT   write the dissector
 *   gen --list         one line per opcode and notification row: NAME CODE FIELD-PREFIX
 */
#define _GNU_SOURCE /* open_memstream */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/abi.h"
#include "fuseproto/field.h"
#include "fuseproto/msg.h"
#include "fuseproto/optable.h"
#include "msgint.h" /* fp_ext_layout: the extension records have no row of their own */

#define MARKER "--@GENERATED@"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		die("out of memory");
	return s;
}

/* The generated text, in the order Lua needs it: value strings and symbol lists, then the
 * fields that use them, then the layouts that use the fields. */
static FILE *vo, *fo, *so;

/* A Lua string literal of s. */
static void lua_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (isprint((unsigned char)*s))
			fputc(*s, f);
		else
			fprintf(f, "\\%03o", (unsigned char)*s);
	}
	fputc('"', f);
}

/* A name as one component of a filter name: lower case, [a-z0-9_] only. */
static char *filter_part(const char *name)
{
	char *s = xasprintf("%s", name);
	for (char *p = s; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
	return s;
}

/* ------------------------------------------------------------------ registries */

/* Value strings (Lua tables value -> name), one per symbol table. */
struct vsent {
	const void *key;
	unsigned idx;
};
static struct vsent *vss;
static unsigned nvs;

static unsigned vs_find(const void *key)
{
	for (unsigned i = 0; i < nvs; i++)
		if (vss[i].key == key)
			return vss[i].idx;
	return 0;
}

static unsigned vs_add(const void *key)
{
	vss = xrealloc(vss, (nvs + 1) * sizeof(*vss));
	vss[nvs] = (struct vsent){key, nvs + 1};
	return ++nvs;
}

/* VS[i] from a symbol table; `both_signs` also maps -v (errnos). */
static unsigned vs_of_sym(const struct fp_sym *sym, int both_signs)
{
	unsigned i = vs_find(sym);
	if (i)
		return i;
	i = vs_add(sym);
	fprintf(vo, "VS[%u] = {", i);
	for (const struct fp_sym *s = sym; s->name; s++) {
		fprintf(vo, "[%llu]=", (unsigned long long)s->v);
		lua_str(vo, s->name);
		fputc(',', vo);
		if (both_signs) {
			fprintf(vo, "[-%llu]=", (unsigned long long)s->v);
			lua_str(vo, s->name);
			fputc(',', vo);
		}
	}
	fputs("}\n", vo);
	return i;
}

/* Symbol lists for the text the walker appends: {{lo, hi, "NAME"}, ...}, the entries that
 * fit a field `bits` wide. */
struct syment {
	const struct fp_sym *sym;
	unsigned bits;
	unsigned idx;
};
static struct syment *syms;
static unsigned nsyms;

static unsigned sym_list(const struct fp_sym *sym, unsigned bits)
{
	for (unsigned i = 0; i < nsyms; i++)
		if (syms[i].sym == sym && syms[i].bits == bits)
			return syms[i].idx;
	syms = xrealloc(syms, (nsyms + 1) * sizeof(*syms));
	syms[nsyms] = (struct syment){sym, bits, nsyms + 1};
	unsigned i = ++nsyms;
	fprintf(vo, "SYM[%u] = {", i);
	for (const struct fp_sym *s = sym; s->name; s++) {
		if (bits < 64 && (s->v >> bits))
			continue;
		fprintf(vo, "{%lu,%lu,", (unsigned long)(s->v & 0xffffffffu),
			(unsigned long)(s->v >> 32));
		lua_str(vo, s->name);
		fputs("},", vo);
	}
	fputs("}\n", vo);
	return i;
}

/* ProtoFields by filter name. A name met again (INIT's twelve "unused", one layout under
 * two opcodes' names) is the same field if it has the same type; otherwise the tables
 * would give one filter name two meanings, which is a bug to fix there. */
struct fent {
	char *abbr;
	char *sig;
	unsigned idx;
};
static struct fent *fents;
static unsigned nfents;

/* F[i] for `abbr`: `ctor` is the ProtoField constructor's name, `args` its arguments between
 * the label and the description (display, value string, mask), "" for none. */
static unsigned field(const char *abbr, const char *label, const char *ctor, const char *args,
		      const char *desc)
{
	char *sig = xasprintf("%s(%s,%s)", ctor, label, args);
	for (unsigned i = 0; i < nfents; i++) {
		if (strcmp(fents[i].abbr, abbr))
			continue;
		if (strcmp(fents[i].sig, sig))
			die("%s has two types: %s and %s", abbr, fents[i].sig, sig);
		free(sig);
		return fents[i].idx;
	}
	fents = xrealloc(fents, (nfents + 1) * sizeof(*fents));
	fents[nfents] = (struct fent){xasprintf("%s", abbr), sig, nfents + 1};
	unsigned i = ++nfents;
	fprintf(fo, "F[%u] = ProtoField.%s(", i, ctor);
	lua_str(fo, abbr);
	fputc(',', fo);
	lua_str(fo, label);
	fprintf(fo, "%s%s,", *args ? "," : "", args);
	lua_str(fo, desc);
	fputs(")\n", fo);
	return i;
}

/* Layouts expanded under a filter-name prefix. */
struct sent {
	char *prefix;
	const struct fp_struct *st;
	int hdr;
	unsigned idx;
};
static struct sent *sents;
static unsigned nsents;

/* ------------------------------------------------------------------ fields */

enum hdr_kind {
	HDR_NONE,
	HDR_REQUEST,  /* fuse_in_header: opcode named by the opcode table */
	HDR_REPLY,    /* fuse_out_header of a reply: error */
	HDR_NOTIFY,   /* fuse_out_header of a notification: error holds the notify code */
};

static unsigned vs_opcode, vs_notify, vs_errno, vs_accmode, vs_ftype;

static const char *const kind_name[] = {
	[FP_K_U8] = "U8", [FP_K_U16] = "U16", [FP_K_U32] = "U32", [FP_K_U64] = "U64",
	[FP_K_S32] = "S32", [FP_K_S64] = "S64", [FP_K_STR] = "STR", [FP_K_BYTES] = "BYTES",
	[FP_K_PAD8] = "PAD8", [FP_K_STRUCT] = "STRUCT", [FP_K_ARRAY] = "ARRAY", [FP_K_EXT] = "EXT",
};

static const char *const disp_name[] = {
	[FP_D_DEC] = "DEC", [FP_D_HEX] = "HEX", [FP_D_OCT] = "OCT", [FP_D_MODE] = "MODE",
	[FP_D_FLAGS] = "FLAGS", [FP_D_ENUM] = "ENUM", [FP_D_OFLAGS] = "OFLAGS",
	[FP_D_ERRNO] = "ERRNO", [FP_D_STR] = "STR", [FP_D_STRLIST] = "STRLIST", [FP_D_DATA] = "DATA",
};

/* Boolean sub-fields, one per bit of sym that fits 32 bits (ProtoField masks are 32-bit),
 * appended to `out` as ",F[i]". */
static void bit_fields(FILE *out, const char *abbr, const struct fp_sym *sym, unsigned width,
		       const char *desc)
{
	for (const struct fp_sym *s = sym; s->name; s++) {
		if (!s->v || (s->v >> 32) || (width < 64 && (s->v >> width)))
			continue;
		char *part = filter_part(s->name);
		char *a = xasprintf("%s.%s", abbr, part);
		char *args = xasprintf("%u,nil,0x%llx", width, (unsigned long long)s->v);
		fprintf(out, "F[%u],", field(a, s->name, "bool", args, desc));
		free(args);
		free(a);
		free(part);
	}
}

/* An integer field: F index of the value, and the ",b=...,y=..." parts of its entry. */
static unsigned int_field(FILE *e, const char *abbr, const char *label, const struct fp_field *f,
			  unsigned vs, const char *desc)
{
	static const char *const ctor[] = {
		[FP_K_U8] = "uint8", [FP_K_U16] = "uint16", [FP_K_U32] = "uint32",
		[FP_K_U64] = "uint64", [FP_K_S32] = "int32", [FP_K_S64] = "int64",
	};
	unsigned width = fp_kind_width(f->kind) * 8;
	const char *base = "base.DEC";
	switch ((enum fp_disp)f->disp) {
	case FP_D_HEX:
	case FP_D_FLAGS:
		base = "base.HEX";
		break;
	case FP_D_OCT:
	case FP_D_MODE:
	case FP_D_OFLAGS:
		base = "base.OCT";
		break;
	case FP_D_ENUM:
		if (!vs && f->sym)
			vs = vs_of_sym(f->sym, 0);
		break;
	case FP_D_ERRNO:
		if (!vs)
			vs = vs_errno;
		break;
	default:
		break;
	}
	char *args = vs ? xasprintf("%s,VS[%u],nil", base, vs) : xasprintf("%s,nil,nil", base);
	unsigned idx = field(abbr, label, ctor[f->kind], args, desc);
	free(args);
	if (vs)
		fputs(",vs=true", e);

	switch ((enum fp_disp)f->disp) {
	case FP_D_FLAGS:
		if (!f->sym)
			break;
		fputs(",b={", e);
		bit_fields(e, abbr, f->sym, width, desc);
		fprintf(e, "},y=SYM[%u]", sym_list(f->sym, width));
		break;
	case FP_D_ENUM:
		if (f->sym)
			fprintf(e, ",y=SYM[%u]", sym_list(f->sym, width));
		break;
	case FP_D_ERRNO:
		fprintf(e, ",y=SYM[%u]", sym_list(fp_sym_errno, 64));
		break;
	case FP_D_OFLAGS: {
		char *a = xasprintf("%s.accmode", abbr);
		char *aargs = xasprintf("base.DEC,VS[%u],0x3", vs_accmode);
		fprintf(e, ",b={F[%u],", field(a, "access mode", ctor[f->kind], aargs, desc));
		bit_fields(e, abbr, fp_sym_oflags, width, desc);
		fprintf(e, "},y=SYM[%u]", sym_list(fp_sym_oflags, width));
		free(aargs);
		free(a);
		break;
	}
	case FP_D_MODE: {
		char *t = xasprintf("%s.type", abbr), *p = xasprintf("%s.perm", abbr);
		char *targs = xasprintf("base.DEC,VS[%u],0xf000", vs_ftype);
		unsigned ti = field(t, "file type", ctor[f->kind], targs, desc);
		unsigned pi = field(p, "permissions", ctor[f->kind], "base.OCT,nil,0xfff", desc);
		fprintf(e, ",b={F[%u],F[%u]}", ti, pi);
		free(targs);
		free(t);
		free(p);
		break;
	}
	default:
		break;
	}
	return idx;
}

static unsigned expand(const char *prefix, const struct fp_struct *st, enum hdr_kind hdr,
		       const char *what);

/* One entry of a layout table: {k=..., f=F[i], ...}. */
static void entry(FILE *e, const char *prefix, const struct fp_struct *st,
		  const struct fp_field *f, enum hdr_kind hdr, const char *what)
{
	const char *name = f->name;
	unsigned vs = 0;
	if (hdr == HDR_REQUEST && !strcmp(name, "opcode"))
		vs = vs_opcode;
	if (hdr == HDR_NOTIFY && !strcmp(name, "error")) {
		name = "notify_code";
		vs = vs_notify;
	}
	char *part = filter_part(name);
	char *abbr = xasprintf("%s.%s", prefix, part);
	char *desc = xasprintf("%s.%s (%s)", st->name, f->name, what);

	fprintf(e, "{k=K_%s,n=", kind_name[f->kind]);
	lua_str(e, name);
	fprintf(e, ",d=D_%s", disp_name[f->disp]);
	if (f->since)
		fprintf(e, ",s=%u", f->since);
	if (f->need)
		fprintf(e, ",nd=%u", f->need - 1);
	if (f->flags & FP_F_OPT)
		fputs(",opt=true", e);
	if (f->flags & FP_F_PAD)
		fputs(",pad=true", e);
	if (f->flags & FP_F_VERBOSE)
		fputs(",v=true", e);
	if (f->ref)
		fprintf(e, ",ref=%u", f->ref);
	if (f->adj)
		fprintf(e, ",adj=%d", f->adj);

	unsigned idx;
	if (fp_kind_is_int(f->kind)) {
		idx = int_field(e, abbr, name, f, vs, desc);
	} else {
		switch ((enum fp_kind)f->kind) {
		case FP_K_STR:
			idx = field(abbr, name, "string", "base.UNICODE", desc);
			break;
		case FP_K_BYTES:
			if (f->disp == FP_D_STR || f->disp == FP_D_STRLIST)
				idx = field(abbr, name, "string", "base.UNICODE", desc);
			else
				idx = field(abbr, name, "bytes", "base.NONE", desc);
			break;
		case FP_K_PAD8:
			idx = field(abbr, name, "bytes", "base.NONE", desc);
			break;
		case FP_K_STRUCT:
		case FP_K_ARRAY:
			idx = field(abbr, name, "none", "", desc);
			fprintf(e, ",sub=S[%u]", expand(abbr, f->sub, HDR_NONE, what));
			break;
		default:
			die("%s: field kind %s cannot be in a layout", abbr, kind_name[f->kind]);
		}
	}
	fprintf(e, ",f=F[%u]}", idx);
	free(desc);
	free(abbr);
	free(part);
}

/* S[i]: layout st with its fields named under prefix. */
static unsigned expand(const char *prefix, const struct fp_struct *st, enum hdr_kind hdr,
		       const char *what)
{
	for (unsigned i = 0; i < nsents; i++)
		if (sents[i].st == st && sents[i].hdr == (int)hdr && !strcmp(sents[i].prefix, prefix))
			return sents[i].idx;
	char *text;
	size_t len;
	FILE *e = open_memstream(&text, &len);
	if (!e)
		die("out of memory");
	fputs("{n=", e);
	lua_str(e, st->name);
	fprintf(e, ",size=%u,\n", st->size);
	for (unsigned k = 0; k < st->n; k++) {
		const struct fp_field *f = &st->fields[k];
		if (!strcmp(f->name, "reply") && hdr == HDR_NONE)
			die("%s: a field named \"reply\" would clash with %s.reply", prefix, prefix);
		fputs("  ", e);
		entry(e, prefix, st, f, hdr, what);
		fputs(",\n", e);
	}
	fputs("}", e);
	if (fclose(e))
		die("out of memory");
	/* children first: they were written while this entry was being put together */
	sents = xrealloc(sents, (nsents + 1) * sizeof(*sents));
	sents[nsents] = (struct sent){xasprintf("%s", prefix), st, (int)hdr, nsents + 1};
	unsigned i = ++nsents;
	fprintf(so, "S[%u] = %s\n", i, text);
	free(text);
	return i;
}

/* ------------------------------------------------------------------ rows */

static char *row_prefix(const struct fp_op *op)
{
	char *part = filter_part(op->name);
	char *p = xasprintf("fuse.%s", part);
	free(part);
	return p;
}

/* A reply layout chosen by a request field: libproto's rep_for functions tell zero from
 * non-zero (GETXATTR's size 0 asks for the length). Any other choice needs the walker
 * changed, so it stops the build. */
static void rep_choice(const struct fp_op *op, const struct fp_struct **zero,
		       const struct fp_struct **other)
{
	static const uint64_t probes[] = {1, 2, 255, 4096, 65536, UINT32_MAX, UINT64_MAX};
	*zero = op->rep_for(0);
	*other = op->rep_for(probes[0]);
	for (size_t i = 1; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (op->rep_for(probes[i]) != *other)
			die("%s: the reply layout depends on %s in a way other than zero/non-zero",
			    op->name, op->arg);
}

static void layout_ref(FILE *f, const char *key, const char *prefix, const struct fp_struct *st,
		       const char *what)
{
	if (st)
		fprintf(f, ",%s=S[%u]", key, expand(prefix, st, HDR_NONE, what));
}

static void row(const struct fp_op *op)
{
	char *prefix = row_prefix(op);
	int notify = (op->flags & FP_OP_NOTIFY) != 0;
	char *label = xasprintf("%s %s", op->name, notify ? "notification" : "request");
	char *what = xasprintf("%s %s", op->name, notify ? "notification" : "request");
	unsigned root = field(prefix, label, "none", "", what);
	char *body;
	size_t len;
	FILE *e = open_memstream(&body, &len);
	if (!e)
		die("out of memory");
	fprintf(e, "{name=");
	lua_str(e, op->name);
	fprintf(e, ",code=%u,since=%u,fl=%u,f=F[%u]", op->code, op->since, op->flags, root);
	layout_ref(e, "req", prefix, op->req, what);
	if (!notify) {
		char *rprefix = xasprintf("%s.reply", prefix);
		char *rlabel = xasprintf("%s reply", op->name);
		fprintf(e, ",rf=F[%u]", field(rprefix, rlabel, "none", "", rlabel));
		if (op->rep_for) {
			const struct fp_struct *zero, *other;
			rep_choice(op, &zero, &other);
			fputs(",arg=", e);
			lua_str(e, op->arg);
			layout_ref(e, "rep0", rprefix, zero, rlabel);
			layout_ref(e, "rep1", rprefix, other, rlabel);
		} else {
			layout_ref(e, "rep", rprefix, op->rep, rlabel);
		}
		free(rlabel);
		free(rprefix);
	}
	fputs("}", e);
	if (fclose(e))
		die("out of memory");
	fprintf(so, "%s[%u] = %s\n", notify ? "NOTIFY" : "OPS", op->code, body);
	free(body);
	free(what);
	free(label);
	free(prefix);
}

/* The extension records of a request: a layout per type, the last one for every type not
 * listed. */
static void ext_records(void)
{
	fprintf(so, "EXT_ROOT = F[%u]\n", field("fuse.ext", "extensions", "none", "",
						   "request extension area"));
	const struct fp_struct *other = fp_ext_layout(FP_EXT_GROUPS + 1);
	for (uint32_t t = 0; t <= FP_EXT_GROUPS + 1; t++) {
		const struct fp_struct *st = fp_ext_layout(t);
		if (st == other && t <= FP_EXT_GROUPS)
			continue;
		const char *n = strncmp(st->name, "fuse_", 5) ? st->name : st->name + 5;
		char *part = filter_part(n);
		char *prefix = xasprintf("fuse.ext.%s", part);
		char *what = xasprintf("extension record %s", st->name);
		unsigned root = field(prefix, st->name, "none", "", what);
		unsigned s = expand(prefix, st, HDR_NONE, what);
		if (st == other)
			fprintf(so, "EXT_OTHER = {f=F[%u],st=S[%u]}\n", root, s);
		else
			fprintf(so, "EXT[%u] = {f=F[%u],st=S[%u]}\n", t, root, s);
		free(what);
		free(prefix);
		free(part);
	}
}

static void generate(FILE *out)
{
	char *vt, *ft, *st;
	size_t vl, fl, sl;
	vo = open_memstream(&vt, &vl);
	fo = open_memstream(&ft, &fl);
	so = open_memstream(&st, &sl);
	if (!vo || !fo || !so)
		die("out of memory");

	/* value strings of the headers and of the bits every open(2) flags and mode field has */
	vs_opcode = vs_add(&vs_opcode);
	vs_notify = vs_add(&vs_notify);
	fprintf(vo, "VS[%u] = {", vs_opcode);
	for (unsigned i = 0; fp_op_at(i); i++)
		if (!(fp_op_at(i)->flags & FP_OP_NOTIFY))
			fprintf(vo, "[%u]=\"%s\",", fp_op_at(i)->code, fp_op_at(i)->name);
	fprintf(vo, "}\nVS[%u] = {", vs_notify);
	for (unsigned i = 0; fp_op_at(i); i++)
		if (fp_op_at(i)->flags & FP_OP_NOTIFY)
			fprintf(vo, "[%u]=\"%s\",", fp_op_at(i)->code, fp_op_at(i)->name);
	fputs("}\n", vo);
	vs_errno = vs_of_sym(fp_sym_errno, 1);
	fprintf(vo, "VS[%u][0] = \"OK\"\n", vs_errno);
	vs_accmode = vs_add(&vs_accmode);
	fprintf(vo, "VS[%u] = {[0]=\"O_RDONLY\",[1]=\"O_WRONLY\",[2]=\"O_RDWR\",[3]=\"O_ACCMODE\"}\n",
		vs_accmode);
	/* S_IFMT >> 12: the same values as dirent.type */
	vs_ftype = vs_add(&vs_ftype);
	fprintf(vo, "VS[%u] = {[1]=\"S_IFIFO\",[2]=\"S_IFCHR\",[4]=\"S_IFDIR\",[6]=\"S_IFBLK\","
		"[8]=\"S_IFREG\",[10]=\"S_IFLNK\",[12]=\"S_IFSOCK\"}\n", vs_ftype);

	fprintf(so, "HDR_REQUEST = S[%u]\n", expand("fuse", &fp_in_header_s, HDR_REQUEST, "header"));
	fprintf(so, "HDR_REPLY = S[%u]\n", expand("fuse", &fp_out_header_s, HDR_REPLY, "header"));
	fprintf(so, "HDR_NOTIFY = S[%u]\n", expand("fuse", &fp_out_header_s, HDR_NOTIFY, "header"));
	for (unsigned i = 0; fp_op_at(i); i++)
		row(fp_op_at(i));
	ext_records();
	if (fclose(vo) || fclose(fo) || fclose(so))
		die("out of memory");

	struct fp_conn newest = FP_CONN_NEWEST;
	fputs("-- Generated by dissectors/gen.c from libproto's tables: edit those, not this.\n", out);
	fputs("local K_U8, K_U16, K_U32, K_U64, K_S32, K_S64, K_STR, K_BYTES, K_PAD8, K_STRUCT, "
	      "K_ARRAY, K_EXT =\n", out);
	fprintf(out, "  %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d\n", FP_K_U8, FP_K_U16,
		FP_K_U32, FP_K_U64, FP_K_S32, FP_K_S64, FP_K_STR, FP_K_BYTES, FP_K_PAD8, FP_K_STRUCT,
		FP_K_ARRAY, FP_K_EXT);
	fputs("local D_DEC, D_HEX, D_OCT, D_MODE, D_FLAGS, D_ENUM, D_OFLAGS, D_ERRNO, D_STR, "
	      "D_STRLIST, D_DATA =\n", out);
	fprintf(out, "  %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d\n", FP_D_DEC, FP_D_HEX, FP_D_OCT,
		FP_D_MODE, FP_D_FLAGS, FP_D_ENUM, FP_D_OFLAGS, FP_D_ERRNO, FP_D_STR, FP_D_STRLIST,
		FP_D_DATA);
	fprintf(out, "local OPF_NOREPLY, OPF_EXT, OPF_ENTRY, OPF_NOTIFY = %u, %u, %u, %u\n",
		FP_OP_NOREPLY, FP_OP_EXT, FP_OP_ENTRY, FP_OP_NOTIFY);
	fprintf(out, "local NEWEST_MINOR = %u\n", newest.minor);
	fprintf(out, "local OP_INIT = %u\n", (unsigned)FP_INIT);
	fprintf(out, "local INIT_EXT_BIT = %d\n", __builtin_ctzll(FP_INIT_EXT));
	fprintf(out, "local VS_OPCODE, VS_NOTIFY, VS_ERRNO = %u, %u, %u\n", vs_opcode, vs_notify,
		vs_errno);
	fputs("local VS, SYM, F, S, OPS, NOTIFY, EXT = {}, {}, {}, {}, {}, {}, {}\n", out);
	fputs("local HDR_REQUEST, HDR_REPLY, HDR_NOTIFY, EXT_ROOT, EXT_OTHER\n", out);
	fwrite(vt, 1, vl, out);
	fwrite(ft, 1, fl, out);
	fwrite(st, 1, sl, out);
	fputs("-- End of the generated part.\n", out);
	free(vt);
	free(ft);
	free(st);
}

static void list(void)
{
	for (unsigned i = 0; fp_op_at(i); i++) {
		char *p = row_prefix(fp_op_at(i));
		printf("%s %u %s\n", fp_op_at(i)->name, fp_op_at(i)->code, p);
		free(p);
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		list();
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: gen TEMPLATE OUT | gen --list\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in)
		die("%s: cannot open", argv[1]);
	char *tmp = xasprintf("%s.tmp", argv[2]);
	FILE *out = fopen(tmp, "w");
	if (!out)
		die("%s: cannot create", tmp);
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (getline(&line, &cap, in) > 0) {
		if (!strncmp(line, MARKER, strlen(MARKER))) {
			generate(out);
			found++;
		} else {
			fputs(line, out);
		}
	}
	free(line);
	fclose(in);
	if (found != 1)
		die("%s: %d lines \"%s\", expected one", argv[1], found, MARKER);
	/* written whole or not at all: a failed build leaves no half dissector behind */
	if (fclose(out) || rename(tmp, argv[2]))
		die("%s: cannot write", argv[2]);
	free(tmp);
	for (unsigned i = 0; i < nfents; i++) {
		free(fents[i].abbr);
		free(fents[i].sig);
	}
	for (unsigned i = 0; i < nsents; i++)
		free(sents[i].prefix);
	free(fents);
	free(sents);
	free(vss);
	free(syms);
	return 0;
}
