/* Text and JSON rendering of decoded messages, driven by the field tables. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuseproto/format.h"
#include "msgint.h"

/* At default verbosity: array elements shown, data bytes shown. */
#define FP_SHOW_ELEMS 8
#define FP_SHOW_DATA 16
#define FP_SHOW_DATA_V 64

void fp_sbuf_free(struct fp_sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

void fp_sbuf_clear(struct fp_sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = 0;
}

static int grow(struct fp_sbuf *b, size_t n)
{
	if (b->oom)
		return 0;
	if (b->len + n + 1 <= b->cap)
		return 1;
	if (b->len + n + 1 < n) {
		b->oom = 1;
		return 0;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s) {
		b->oom = 1;
		return 0;
	}
	b->s = s;
	b->cap = cap;
	return 1;
}

/* Where n more bytes (and the NUL after them) go, or NULL once memory ran out. The caller
 * writes them and calls done(). */
static inline char *room(struct fp_sbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap || b->oom)
		return grow(b, n) ? b->s + b->len : NULL;
	return b->s + b->len;
}

static inline void done(struct fp_sbuf *b, char *end)
{
	*end = 0;
	b->len = (size_t)(end - b->s);
}

static inline void put(struct fp_sbuf *b, const char *s, size_t n)
{
	char *p = room(b, n);
	if (!p)
		return;
	memcpy(p, s, n);
	done(b, p + n);
}

void fp_sbuf_put(struct fp_sbuf *b, const char *s, size_t n)
{
	put(b, s, n);
}

static void puts_(struct fp_sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define PUTL(b, lit) put((b), (lit), sizeof(lit) - 1)

static inline void putc_(struct fp_sbuf *b, char c)
{
	char *p = room(b, 1);
	if (p)
		done(b, (*p = c, p + 1));
}

/* Numbers are written here rather than with printf, which is most of the time of a trace
 * otherwise: same digits as %u, %d, %x and %o. */
static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";
static const char hex_digits[] = "0123456789abcdef";

/* The number of decimal digits of v: log10 from log2, then one comparison. */
static inline unsigned dec_len(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
		1000000000u, 10000000000u, 100000000000u, 1000000000000u, 10000000000000u,
		100000000000000u, 1000000000000000u, 10000000000000000u, 100000000000000000u,
		1000000000000000000u, 10000000000000000000u};
	uint64_t w = v | 1; /* 0 has one digit; no power of ten but 1 is odd */
	unsigned t = (unsigned)(64 - __builtin_clzll(w)) * 1233 >> 12;
	return t + 1 - (w < pow10[t]);
}

/* v in decimal at p, n = dec_len(v) digits; returns the end. */
static inline char *dec_at(char *p, uint64_t v, unsigned n)
{
	char *end = p + n;
	while (v > UINT32_MAX) { /* then in 32 bits, which divide faster */
		unsigned k = (unsigned)(v % 100) * 2;
		v /= 100;
		*--end = digit_pairs[k + 1];
		*--end = digit_pairs[k];
	}
	uint32_t u = (uint32_t)v;
	while (u >= 100) {
		unsigned k = u % 100 * 2;
		u /= 100;
		*--end = digit_pairs[k + 1];
		*--end = digit_pairs[k];
	}
	if (u >= 10) {
		end[-1] = digit_pairs[u * 2 + 1];
		end[-2] = digit_pairs[u * 2];
	} else {
		end[-1] = (char)('0' + u);
	}
	return p + n;
}

static void put_u64(struct fp_sbuf *b, uint64_t v)
{
	unsigned n = dec_len(v);
	char *p = room(b, n);
	if (p)
		done(b, dec_at(p, v, n));
}

static void put_s64(struct fp_sbuf *b, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v;
	unsigned n = dec_len(u);
	char *p = room(b, n + 1);
	if (!p)
		return;
	if (v < 0)
		*p++ = '-';
	done(b, dec_at(p, u, n));
}

/* v in base 8 or 16 (shift 3 or 4), at least `min` digits. */
static void put_base(struct fp_sbuf *b, uint64_t v, unsigned shift, unsigned min)
{
	char t[24], *s = t + sizeof(t);
	uint64_t mask = (UINT64_C(1) << shift) - 1;
	do {
		*--s = hex_digits[v & mask];
		v >>= shift;
	} while (v || t + sizeof(t) - s < (long)min);
	put(b, s, (size_t)(t + sizeof(t) - s));
}

void fp_sbuf_printf(struct fp_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void fp_sbuf_quote(struct fp_sbuf *b, const uint8_t *s, size_t n)
{
	/* at most 4 bytes for each (\xNN), and the quotes */
	char *p = n < SIZE_MAX / 4 - 2 ? room(b, 4 * n + 2) : NULL;
	if (!p) {
		b->oom = 1;
		return;
	}
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		switch (c) {
		case '"': *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\n': *p++ = 'n'; break;
		case '\t': *p++ = 't'; break;
		case '\r': *p++ = 'r'; break;
		default:
			*p++ = 'x';
			*p++ = hex_digits[c >> 4];
			*p++ = hex_digits[c & 15];
		}
	}
	*p++ = '"';
	done(b, p);
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t need;
	uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (need >= n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

void fp_sbuf_json_quote(struct fp_sbuf *b, const uint8_t *s, size_t n)
{
	/* at most 6 bytes for each (\u00NN), and the quotes */
	char *p = n < SIZE_MAX / 6 - 2 ? room(b, 6 * n + 2) : NULL;
	if (!p) {
		b->oom = 1;
		return;
	}
	*p++ = '"';
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			*p++ = (char)c;
			i++;
		} else if (c >= 0x80 && (k = utf8_len(s + i, n - i)) != 0) {
			memcpy(p, s + i, k);
			p += k;
			i += k;
		} else {
			memcpy(p, "\\u00", 4);
			p[4] = hex_digits[c >> 4];
			p[5] = hex_digits[c & 15];
			p += 6;
			i++;
		}
	}
	*p++ = '"';
	done(b, p);
}

void fp_sbuf_clock(struct fp_sbuf *b, uint64_t ts_ns)
{
	/* UTC has no leap seconds in epoch time: the time of day is the rest of a day */
	unsigned day = (unsigned)(ts_ns / 1000000000u % 86400u);
	unsigned us = (unsigned)(ts_ns % 1000000000u / 1000u);
	char t[16], *end = t + 15;
	*end = ' ';
	for (int k = 0; k < 6; k++, us /= 10)
		*--end = (char)('0' + us % 10);
	*--end = '.';
	unsigned hms[3] = {day / 3600, day / 60 % 60, day % 60};
	for (int k = 2; k >= 0; k--) {
		end -= 2;
		memcpy(end, digit_pairs + hms[k] * 2, 2);
		if (k)
			*--end = ':';
	}
	put(b, t, sizeof(t));
}

static int64_t sval(const struct fp_val *v)
{
	return (int64_t)v->u;
}

void fp_sbuf_flags(struct fp_sbuf *b, const struct fp_sym *sym, uint64_t u)
{
	if (u == 0) {
		putc_(b, '0');
		return;
	}
	int first = 1;
	for (; sym && sym->name; sym++) {
		if (sym->v && (u & sym->v) == sym->v) {
			if (!first)
				putc_(b, '|');
			puts_(b, sym->name);
			u &= ~sym->v;
			first = 0;
		}
	}
	if (u) {
		if (!first)
			putc_(b, '|');
		PUTL(b, "0x");
		put_base(b, u, 4, 1);
	}
}

static void put_mode(struct fp_sbuf *b, uint64_t u)
{
	putc_(b, '0');
	put_base(b, u, 3, 1);
}

static void put_int(struct fp_sbuf *b, const struct fp_val *v)
{
	const struct fp_field *f = v->f;
	int is_signed = f->kind == FP_K_S32 || f->kind == FP_K_S64;
	switch ((enum fp_disp)f->disp) {
	case FP_D_HEX:
		PUTL(b, "0x");
		put_base(b, v->u, 4, 1);
		return;
	case FP_D_OCT:
		putc_(b, '0');
		put_base(b, v->u, 3, 1);
		return;
	case FP_D_MODE:
		put_mode(b, v->u);
		return;
	case FP_D_FLAGS:
		fp_sbuf_flags(b, f->sym, v->u);
		return;
	case FP_D_ENUM: {
		const char *n = fp_sym_name(f->sym, v->u);
		if (n)
			puts_(b, n);
		else
			put_u64(b, v->u);
		return;
	}
	case FP_D_OFLAGS: {
		static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
		puts_(b, acc[v->u & 3]);
		if (v->u & ~UINT64_C(3)) {
			putc_(b, '|');
			fp_sbuf_flags(b, fp_sym_oflags, v->u & ~UINT64_C(3));
		}
		return;
	}
	case FP_D_ERRNO: {
		put_s64(b, sval(v));
		const char *n = v->u ? fp_errno_name(sval(v)) : NULL;
		if (n) {
			putc_(b, '(');
			puts_(b, n);
			putc_(b, ')');
		}
		return;
	}
	default:
		if (is_signed)
			put_s64(b, sval(v));
		else
			put_u64(b, v->u);
	}
}

static int all_zero(const struct fp_val *v)
{
	if (fp_kind_is_int(v->f->kind))
		return v->u == 0;
	for (uint32_t i = 0; v->p && i < v->len; i++)
		if (v->p[i])
			return 0;
	return 1;
}

/* Whether value v is shown. */
static inline int shown(const struct fp_val *v, unsigned flags, int json)
{
	if (flags & FP_FMT_VERBOSE)
		return 1;
	if (v->vflags & FP_V_ELEM)
		return 1;
	if (v->f->flags & FP_F_PAD)
		return !all_zero(v);
	if (v->f->flags & FP_F_VERBOSE)
		return json;
	return 1;
}

static void put_strlist(struct fp_sbuf *b, const struct fp_val *v, int json)
{
	putc_(b, '[');
	uint32_t i = 0, k = 0;
	while (i < v->len) {
		const uint8_t *z = memchr(v->p + i, 0, v->len - i);
		uint32_t n = z ? (uint32_t)(z - (v->p + i)) : v->len - i;
		if (k++)
			putc_(b, json ? ',' : ' ');
		if (json)
			fp_sbuf_json_quote(b, v->p + i, n);
		else
			fp_sbuf_quote(b, v->p + i, n);
		i += n + 1;
	}
	putc_(b, ']');
}

static uint32_t text_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags);

/* Children of container i, as "k=v k=v" (struct) or "{..} {..}" (array). */
static void text_children(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags)
{
	uint32_t end = i + m->v[i].nsub, n = 0, skipped = 0;
	int array = !(m->v[i].vflags & FP_V_ELEM) &&
		    (m->v[i].f->kind == FP_K_ARRAY || m->v[i].f->kind == FP_K_EXT);
	for (uint32_t j = i + 1; j <= end; j += m->v[j].nsub + 1) {
		if (!shown(&m->v[j], flags, 0))
			continue;
		if (array && !(flags & FP_FMT_VERBOSE) && n >= FP_SHOW_ELEMS) {
			skipped++;
			continue;
		}
		if (n++)
			putc_(b, ' ');
		text_tree(b, m, j, flags);
	}
	if (skipped) {
		PUTL(b, " ...");
		put_u64(b, skipped);
		PUTL(b, " more");
	}
}

void fp_format_value(struct fp_sbuf *b, const struct fp_msg *m, long idx, unsigned flags)
{
	const struct fp_val *v = &m->v[idx];
	const struct fp_field *f = v->f;
	if (v->vflags & FP_V_ELEM || f->kind == FP_K_STRUCT) {
		putc_(b, '{');
		text_children(b, m, (uint32_t)idx, flags);
		putc_(b, '}');
		return;
	}
	if (f->kind == FP_K_ARRAY || f->kind == FP_K_EXT) {
		putc_(b, '[');
		text_children(b, m, (uint32_t)idx, flags);
		putc_(b, ']');
		return;
	}
	if (fp_kind_is_int(f->kind)) {
		put_int(b, v);
		return;
	}
	uint32_t n = f->kind == FP_K_STR ? v->len - 1 : v->len;
	if (f->disp == FP_D_STR || f->kind == FP_K_STR) {
		fp_sbuf_quote(b, v->p, n);
	} else if (f->disp == FP_D_STRLIST) {
		put_strlist(b, v, 0);
	} else {
		uint32_t show = flags & FP_FMT_VERBOSE ? FP_SHOW_DATA_V : FP_SHOW_DATA;
		putc_(b, '<');
		put_u64(b, n);
		PUTL(b, " bytes");
		if (n) {
			putc_(b, ' ');
			fp_sbuf_quote(b, v->p, n < show ? n : show);
			if (n > show)
				PUTL(b, "...");
		}
		putc_(b, '>');
	}
}

/* "name=value" for value i (elements have no name); returns the index after its subtree. */
static uint32_t text_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags)
{
	if (!(m->v[i].vflags & FP_V_ELEM)) {
		puts_(b, m->v[i].f->name);
		putc_(b, '=');
	}
	fp_format_value(b, m, i, flags);
	return i + m->v[i].nsub + 1;
}

static void text_body(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags, int braces)
{
	if (m->body == UINT32_MAX || m->v[m->body].nsub == 0)
		return;
	/* written in place, and taken back when no field was shown */
	size_t start = b->len;
	if (braces)
		PUTL(b, " {");
	else
		putc_(b, ' ');
	size_t first = b->len;
	text_children(b, m, m->body, flags);
	if (b->oom)
		return;
	if (b->len == first)
		done(b, b->s + start);
	else if (braces)
		putc_(b, '}');
}

static void put_opname(struct fp_sbuf *b, const struct fp_msg *m)
{
	if (m->op) {
		puts_(b, m->op->name);
	} else if (m->dir == FP_REQUEST) {
		PUTL(b, "OPCODE_");
		put_u64(b, m->h.opcode);
	} else if (m->dir == FP_NOTIFY) {
		PUTL(b, "NOTIFY_");
		put_s64(b, m->h.error);
	} else {
		putc_(b, '?');
	}
}

static void put_status(struct fp_sbuf *b, const struct fp_msg *m)
{
	if (m->status != FP_OK)
		fp_sbuf_printf(b, " [%s at byte %u: %s]",
			       m->status == FP_TRUNCATED ? "truncated" : "invalid", m->bad_off, m->reason);
}

/* Bytes as lowercase hex digits, no separators. */
static void put_hex(struct fp_sbuf *b, const uint8_t *p, size_t n)
{
	char *o = n < SIZE_MAX / 2 ? room(b, 2 * n) : NULL;
	if (!o) {
		b->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		*o++ = hex_digits[p[i] >> 4];
		*o++ = hex_digits[p[i] & 15];
	}
	done(b, o);
}

/* Text: the bytes as tcpdump -x shows them, 16 per line in groups of two, each line
 * "\n\t0xOOOO:  ", offsets in hex. */
static void text_hex(struct fp_sbuf *b, const struct fp_msg *m)
{
	for (uint32_t off = 0; off < m->buflen; off += 16) {
		PUTL(b, "\n\t0x");
		put_base(b, off, 4, 4);
		PUTL(b, ": ");
		uint32_t n = m->buflen - off < 16 ? m->buflen - off : 16;
		/* "  xxxx xxxx ...": a space before each pair of bytes */
		char *o = room(b, 2 * n + (n + 1) / 2);
		if (!o)
			return;
		for (uint32_t k = 0; k < n; k++) {
			if (k % 2 == 0)
				*o++ = ' ';
			*o++ = hex_digits[m->buf[off + k] >> 4];
			*o++ = hex_digits[m->buf[off + k] & 15];
		}
		done(b, o);
	}
}

void fp_format_text(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags)
{
	if (flags & FP_FMT_TIME)
		fp_sbuf_clock(b, m->ts_ns);
	if (m->dir == FP_REQUEST) {
		put_opname(b, m);
		PUTL(b, " #");
		put_u64(b, m->h.unique);
		if (m->h.nodeid) {
			PUTL(b, " nodeid=");
			put_u64(b, m->h.nodeid);
		}
		if (m->path_known) {
			putc_(b, ' ');
			fp_sbuf_quote(b, (const uint8_t *)m->path, strlen(m->path));
		}
		if (flags & FP_FMT_VERBOSE) {
			PUTL(b, " uid=");
			put_u64(b, m->h.uid);
			PUTL(b, " gid=");
			put_u64(b, m->h.gid);
			PUTL(b, " pid=");
			put_u64(b, m->h.pid);
			PUTL(b, " total_extlen=");
			put_u64(b, m->h.total_extlen);
		}
		text_body(b, m, flags, 0);
	} else if (m->dir == FP_NOTIFY) {
		put_opname(b, m);
		text_body(b, m, flags, 0);
	} else {
		putc_(b, '#');
		put_u64(b, m->h.unique);
		putc_(b, ' ');
		put_opname(b, m);
		PUTL(b, " = ");
		put_s64(b, m->h.error);
		if (m->h.error) {
			const char *n = fp_errno_name(m->h.error);
			if (n) {
				putc_(b, ' ');
				puts_(b, n);
			}
		}
		text_body(b, m, flags, 1);
		if (m->latency_ns >= 0) {
			putc_(b, ' ');
			put_s64(b, m->latency_ns / 1000);
			PUTL(b, "us");
		}
	}
	put_status(b, m);
	if (flags & FP_FMT_HEX)
		text_hex(b, m);
}

static void json_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags);

/* Field names: the same literal often, and most differ in their first letter. */
static inline int same_name(const char *a, const char *b)
{
	return a == b || (a[0] == b[0] && strcmp(a, b) == 0);
}

/* Members of container i. Consecutive fields of one name (a uapi array such as
 * unused[11] or spare[6]) become one JSON array, shown when any of them is, so that no key
 * repeats. */
static void json_children(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags,
			  int keyed)
{
	uint32_t end = i + m->v[i].nsub, n = 0;
	uint32_t j = i + 1;
	while (j <= end) {
		const char *name = m->v[j].f->name;
		uint32_t run_end = j + m->v[j].nsub + 1, count = 1;
		int show = shown(&m->v[j], flags, 1);
		while (keyed && run_end <= end && same_name(m->v[run_end].f->name, name)) {
			show |= shown(&m->v[run_end], flags, 1);
			run_end += m->v[run_end].nsub + 1;
			count++;
		}
		if (show) {
			if (n++)
				putc_(b, ',');
			if (keyed) {
				putc_(b, '"');
				puts_(b, name);
				PUTL(b, "\":");
			}
			if (count > 1)
				putc_(b, '[');
			for (uint32_t k = j; k < run_end; k += m->v[k].nsub + 1) {
				if (k != j)
					putc_(b, ',');
				json_tree(b, m, k, flags);
			}
			if (count > 1)
				putc_(b, ']');
		}
		j = run_end;
	}
}

static void json_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags)
{
	const struct fp_val *v = &m->v[i];
	const struct fp_field *f = v->f;
	if ((v->vflags & FP_V_ELEM) || f->kind == FP_K_STRUCT) {
		putc_(b, '{');
		json_children(b, m, i, flags, 1);
		putc_(b, '}');
	} else if (f->kind == FP_K_ARRAY || f->kind == FP_K_EXT) {
		putc_(b, '[');
		json_children(b, m, i, flags, 0);
		putc_(b, ']');
	} else if (fp_kind_is_int(f->kind)) {
		if (f->kind == FP_K_S32 || f->kind == FP_K_S64)
			put_s64(b, sval(v));
		else
			put_u64(b, v->u);
	} else {
		uint32_t n = f->kind == FP_K_STR ? v->len - 1 : v->len;
		if (f->kind == FP_K_STR || f->disp == FP_D_STR) {
			fp_sbuf_json_quote(b, v->p, n);
		} else if (f->disp == FP_D_STRLIST) {
			put_strlist(b, v, 1);
		} else {
			uint32_t show = flags & FP_FMT_VERBOSE ? n : (n < FP_SHOW_DATA_V ? n : FP_SHOW_DATA_V);
			PUTL(b, "{\"len\":");
			put_u64(b, n);
			PUTL(b, ",\"hex\":\"");
			put_hex(b, v->p, show);
			PUTL(b, "\"}");
		}
	}
}

/* The fraction of a second of ts_ns, as its 9 digits after a '.'. */
static void put_ts(struct fp_sbuf *b, uint64_t ts_ns)
{
	put_u64(b, ts_ns / 1000000000u);
	char t[10];
	uint32_t ns = (uint32_t)(ts_ns % 1000000000u);
	for (int k = 9; k > 0; k--, ns /= 10)
		t[k] = (char)('0' + ns % 10);
	t[0] = '.';
	put(b, t, sizeof(t));
}

void fp_format_json(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags)
{
	static const char *const dirs[] = {",\"dir\":\"request\",\"unique\":",
					   ",\"dir\":\"reply\",\"unique\":",
					   ",\"dir\":\"notify\",\"unique\":"};
	PUTL(b, "{\"ts\":");
	put_ts(b, m->ts_ns);
	puts_(b, dirs[m->dir]);
	put_u64(b, m->h.unique);
	PUTL(b, ",\"op\":");
	if (m->op) {
		fp_sbuf_json_quote(b, (const uint8_t *)m->op->name, strlen(m->op->name));
	} else if (m->dir != FP_REPLY) {
		struct fp_sbuf t = {0};
		put_opname(&t, m);
		fp_sbuf_json_quote(b, (const uint8_t *)(t.s ? t.s : ""), t.len);
		fp_sbuf_free(&t);
	} else {
		PUTL(b, "null");
	}
	PUTL(b, ",\"len\":");
	put_u64(b, m->h.len);
	if (m->dir == FP_REQUEST) {
		PUTL(b, ",\"opcode\":");
		put_u64(b, m->h.opcode);
		PUTL(b, ",\"nodeid\":");
		put_u64(b, m->h.nodeid);
		PUTL(b, ",\"uid\":");
		put_u64(b, m->h.uid);
		PUTL(b, ",\"gid\":");
		put_u64(b, m->h.gid);
		PUTL(b, ",\"pid\":");
		put_u64(b, m->h.pid);
		if (m->h.total_extlen) {
			PUTL(b, ",\"total_extlen\":");
			put_u64(b, m->h.total_extlen);
		}
	} else if (m->dir == FP_NOTIFY) {
		PUTL(b, ",\"code\":");
		put_s64(b, m->h.error);
	} else {
		PUTL(b, ",\"error\":");
		put_s64(b, m->h.error);
		const char *n = m->h.error ? fp_errno_name(m->h.error) : NULL;
		if (n) {
			PUTL(b, ",\"errno\":\"");
			puts_(b, n);
			putc_(b, '"');
		}
		if (m->latency_ns >= 0) {
			PUTL(b, ",\"latency_us\":");
			put_s64(b, m->latency_ns / 1000);
		}
	}
	if (m->linked) {
		PUTL(b, ",\"link\":");
		put_u64(b, m->link);
	}
	if (m->path_known) {
		PUTL(b, ",\"path\":");
		fp_sbuf_json_quote(b, (const uint8_t *)m->path, strlen(m->path));
	}
	if (m->body != UINT32_MAX) {
		if (m->dir == FP_REPLY)
			PUTL(b, ",\"result\":{");
		else
			PUTL(b, ",\"args\":{");
		json_children(b, m, m->body, flags, 1);
		putc_(b, '}');
	}
	if (m->status != FP_OK) {
		fp_sbuf_printf(b, ",\"status\":\"%s\",\"offset\":%u,\"reason\":",
			       m->status == FP_TRUNCATED ? "truncated" : "invalid", m->bad_off);
		fp_sbuf_json_quote(b, (const uint8_t *)m->reason, strlen(m->reason));
	}
	if (flags & FP_FMT_HEX) {
		PUTL(b, ",\"raw\":\"");
		put_hex(b, m->buf, m->buflen);
		putc_(b, '"');
	}
	putc_(b, '}');
}
