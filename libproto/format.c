/* Text and JSON rendering of decoded messages, driven by the field tables. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void fp_sbuf_put(struct fp_sbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void puts_(struct fp_sbuf *b, const char *s)
{
	fp_sbuf_put(b, s, strlen(s));
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
	puts_(b, "\"");
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		char e[5] = {'\\', 0, 0, 0, 0};
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\t': e[1] = 't'; break;
		case '\r': e[1] = 'r'; break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				fp_sbuf_put(b, (const char *)&c, 1);
				continue;
			}
			snprintf(e + 1, 4, "x%02x", c);
		}
		puts_(b, e);
	}
	puts_(b, "\"");
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
	puts_(b, "\"");
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			fp_sbuf_put(b, e, 2);
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			fp_sbuf_put(b, (const char *)&s[i], 1);
			i++;
		} else if (c >= 0x80 && (k = utf8_len(s + i, n - i)) != 0) {
			fp_sbuf_put(b, (const char *)&s[i], k);
			i += k;
		} else {
			fp_sbuf_printf(b, "\\u%04x", c);
			i++;
		}
	}
	puts_(b, "\"");
}

void fp_sbuf_clock(struct fp_sbuf *b, uint64_t ts_ns)
{
	time_t s = (time_t)(ts_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	fp_sbuf_printf(b, "%02d:%02d:%02d.%06u ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (unsigned)(ts_ns % 1000000000u / 1000u));
}

static int64_t sval(const struct fp_val *v)
{
	return (int64_t)v->u;
}

void fp_sbuf_flags(struct fp_sbuf *b, const struct fp_sym *sym, uint64_t u)
{
	if (u == 0) {
		puts_(b, "0");
		return;
	}
	int first = 1;
	for (; sym && sym->name; sym++) {
		if (sym->v && (u & sym->v) == sym->v) {
			fp_sbuf_printf(b, "%s%s", first ? "" : "|", sym->name);
			u &= ~sym->v;
			first = 0;
		}
	}
	if (u)
		fp_sbuf_printf(b, "%s0x%" PRIx64, first ? "" : "|", u);
}

static void put_mode(struct fp_sbuf *b, uint64_t u)
{
	fp_sbuf_printf(b, "0%" PRIo64, u);
}

static void put_int(struct fp_sbuf *b, const struct fp_val *v)
{
	const struct fp_field *f = v->f;
	int is_signed = f->kind == FP_K_S32 || f->kind == FP_K_S64;
	switch ((enum fp_disp)f->disp) {
	case FP_D_HEX:
		fp_sbuf_printf(b, "0x%" PRIx64, v->u);
		return;
	case FP_D_OCT:
		fp_sbuf_printf(b, "0%" PRIo64, v->u);
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
			fp_sbuf_printf(b, "%" PRIu64, v->u);
		return;
	}
	case FP_D_OFLAGS: {
		static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
		puts_(b, acc[v->u & 3]);
		if (v->u & ~UINT64_C(3)) {
			puts_(b, "|");
			fp_sbuf_flags(b, fp_sym_oflags, v->u & ~UINT64_C(3));
		}
		return;
	}
	case FP_D_ERRNO: {
		fp_sbuf_printf(b, "%" PRId64, sval(v));
		const char *n = v->u ? fp_errno_name(sval(v)) : NULL;
		if (n)
			fp_sbuf_printf(b, "(%s)", n);
		return;
	}
	default:
		if (is_signed)
			fp_sbuf_printf(b, "%" PRId64, sval(v));
		else
			fp_sbuf_printf(b, "%" PRIu64, v->u);
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
static int shown(const struct fp_val *v, unsigned flags, int json)
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
	puts_(b, "[");
	uint32_t i = 0, k = 0;
	while (i < v->len) {
		const uint8_t *z = memchr(v->p + i, 0, v->len - i);
		uint32_t n = z ? (uint32_t)(z - (v->p + i)) : v->len - i;
		puts_(b, k++ ? (json ? "," : " ") : "");
		if (json)
			fp_sbuf_json_quote(b, v->p + i, n);
		else
			fp_sbuf_quote(b, v->p + i, n);
		i += n + 1;
	}
	puts_(b, "]");
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
			puts_(b, " ");
		text_tree(b, m, j, flags);
	}
	if (skipped)
		fp_sbuf_printf(b, " ...%u more", skipped);
}

void fp_format_value(struct fp_sbuf *b, const struct fp_msg *m, long idx, unsigned flags)
{
	const struct fp_val *v = &m->v[idx];
	const struct fp_field *f = v->f;
	if (v->vflags & FP_V_ELEM || f->kind == FP_K_STRUCT) {
		puts_(b, "{");
		text_children(b, m, (uint32_t)idx, flags);
		puts_(b, "}");
		return;
	}
	if (f->kind == FP_K_ARRAY || f->kind == FP_K_EXT) {
		puts_(b, "[");
		text_children(b, m, (uint32_t)idx, flags);
		puts_(b, "]");
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
		fp_sbuf_printf(b, "<%u bytes", n);
		if (n) {
			puts_(b, " ");
			fp_sbuf_quote(b, v->p, n < show ? n : show);
			if (n > show)
				puts_(b, "...");
		}
		puts_(b, ">");
	}
}

/* "name=value" for value i (elements have no name); returns the index after its subtree. */
static uint32_t text_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags)
{
	if (!(m->v[i].vflags & FP_V_ELEM))
		fp_sbuf_printf(b, "%s=", m->v[i].f->name);
	fp_format_value(b, m, i, flags);
	return i + m->v[i].nsub + 1;
}

static void text_body(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags, int braces)
{
	if (m->body == UINT32_MAX || m->v[m->body].nsub == 0)
		return;
	struct fp_sbuf t = {0};
	text_children(&t, m, m->body, flags);
	if (t.len)
		fp_sbuf_printf(b, braces ? " {%s}" : " %s", t.s);
	if (t.oom)
		b->oom = 1;
	fp_sbuf_free(&t);
}

static void put_opname(struct fp_sbuf *b, const struct fp_msg *m)
{
	if (m->op)
		puts_(b, m->op->name);
	else if (m->dir == FP_REQUEST)
		fp_sbuf_printf(b, "OPCODE_%u", m->h.opcode);
	else if (m->dir == FP_NOTIFY)
		fp_sbuf_printf(b, "NOTIFY_%d", m->h.error);
	else
		puts_(b, "?");
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
	static const char digits[] = "0123456789abcdef";
	char chunk[128];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		chunk[k++] = digits[p[i] >> 4];
		chunk[k++] = digits[p[i] & 15];
		if (k == sizeof(chunk) || i + 1 == n) {
			fp_sbuf_put(b, chunk, k);
			k = 0;
		}
	}
}

/* Text: the bytes as tcpdump -x shows them, 16 per line in groups of two, each line
 * "\n\t0xOOOO:  ", offsets in hex. */
static void text_hex(struct fp_sbuf *b, const struct fp_msg *m)
{
	for (uint32_t off = 0; off < m->buflen; off++) {
		if (off % 16 == 0)
			fp_sbuf_printf(b, "\n\t0x%04x: ", off);
		if (off % 2 == 0)
			puts_(b, " ");
		put_hex(b, m->buf + off, 1);
	}
}

void fp_format_text(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags)
{
	if (flags & FP_FMT_TIME)
		fp_sbuf_clock(b, m->ts_ns);
	if (m->dir == FP_REQUEST) {
		put_opname(b, m);
		fp_sbuf_printf(b, " #%" PRIu64, m->h.unique);
		if (m->h.nodeid)
			fp_sbuf_printf(b, " nodeid=%" PRIu64, m->h.nodeid);
		if (m->path_known) {
			puts_(b, " ");
			fp_sbuf_quote(b, (const uint8_t *)m->path, strlen(m->path));
		}
		if (flags & FP_FMT_VERBOSE)
			fp_sbuf_printf(b, " uid=%u gid=%u pid=%u total_extlen=%u", m->h.uid, m->h.gid,
				       m->h.pid, m->h.total_extlen);
		text_body(b, m, flags, 0);
	} else if (m->dir == FP_NOTIFY) {
		put_opname(b, m);
		text_body(b, m, flags, 0);
	} else {
		fp_sbuf_printf(b, "#%" PRIu64 " ", m->h.unique);
		put_opname(b, m);
		fp_sbuf_printf(b, " = %d", m->h.error);
		if (m->h.error) {
			const char *n = fp_errno_name(m->h.error);
			if (n)
				fp_sbuf_printf(b, " %s", n);
		}
		text_body(b, m, flags, 1);
		if (m->latency_ns >= 0)
			fp_sbuf_printf(b, " %" PRId64 "us", m->latency_ns / 1000);
	}
	put_status(b, m);
	if (flags & FP_FMT_HEX)
		text_hex(b, m);
}

static void json_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags);

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
		while (keyed && run_end <= end && strcmp(m->v[run_end].f->name, name) == 0) {
			show |= shown(&m->v[run_end], flags, 1);
			run_end += m->v[run_end].nsub + 1;
			count++;
		}
		if (show) {
			if (n++)
				puts_(b, ",");
			if (keyed)
				fp_sbuf_printf(b, "\"%s\":", name);
			if (count > 1)
				puts_(b, "[");
			for (uint32_t k = j; k < run_end; k += m->v[k].nsub + 1) {
				if (k != j)
					puts_(b, ",");
				json_tree(b, m, k, flags);
			}
			if (count > 1)
				puts_(b, "]");
		}
		j = run_end;
	}
}

static void json_tree(struct fp_sbuf *b, const struct fp_msg *m, uint32_t i, unsigned flags)
{
	const struct fp_val *v = &m->v[i];
	const struct fp_field *f = v->f;
	if ((v->vflags & FP_V_ELEM) || f->kind == FP_K_STRUCT) {
		puts_(b, "{");
		json_children(b, m, i, flags, 1);
		puts_(b, "}");
	} else if (f->kind == FP_K_ARRAY || f->kind == FP_K_EXT) {
		puts_(b, "[");
		json_children(b, m, i, flags, 0);
		puts_(b, "]");
	} else if (fp_kind_is_int(f->kind)) {
		if (f->kind == FP_K_S32 || f->kind == FP_K_S64)
			fp_sbuf_printf(b, "%" PRId64, sval(v));
		else
			fp_sbuf_printf(b, "%" PRIu64, v->u);
	} else {
		uint32_t n = f->kind == FP_K_STR ? v->len - 1 : v->len;
		if (f->kind == FP_K_STR || f->disp == FP_D_STR) {
			fp_sbuf_json_quote(b, v->p, n);
		} else if (f->disp == FP_D_STRLIST) {
			put_strlist(b, v, 1);
		} else {
			uint32_t show = flags & FP_FMT_VERBOSE ? n : (n < FP_SHOW_DATA_V ? n : FP_SHOW_DATA_V);
			fp_sbuf_printf(b, "{\"len\":%u,\"hex\":\"", n);
			put_hex(b, v->p, show);
			puts_(b, "\"}");
		}
	}
}

void fp_format_json(struct fp_sbuf *b, const struct fp_msg *m, unsigned flags)
{
	static const char *const dirs[] = {"request", "reply", "notify"};
	fp_sbuf_printf(b, "{\"ts\":%" PRIu64 ".%09" PRIu64 ",\"dir\":\"%s\",\"unique\":%" PRIu64,
		       m->ts_ns / 1000000000u, m->ts_ns % 1000000000u, dirs[m->dir], m->h.unique);
	puts_(b, ",\"op\":");
	if (m->op || m->dir != FP_REPLY) {
		struct fp_sbuf t = {0};
		put_opname(&t, m);
		fp_sbuf_json_quote(b, (const uint8_t *)(t.s ? t.s : ""), t.len);
		fp_sbuf_free(&t);
	} else {
		puts_(b, "null");
	}
	fp_sbuf_printf(b, ",\"len\":%u", m->h.len);
	if (m->dir == FP_REQUEST) {
		fp_sbuf_printf(b, ",\"opcode\":%u,\"nodeid\":%" PRIu64 ",\"uid\":%u,\"gid\":%u,\"pid\":%u",
			       m->h.opcode, m->h.nodeid, m->h.uid, m->h.gid, m->h.pid);
		if (m->h.total_extlen)
			fp_sbuf_printf(b, ",\"total_extlen\":%u", m->h.total_extlen);
	} else if (m->dir == FP_NOTIFY) {
		fp_sbuf_printf(b, ",\"code\":%d", m->h.error);
	} else {
		fp_sbuf_printf(b, ",\"error\":%d", m->h.error);
		const char *n = m->h.error ? fp_errno_name(m->h.error) : NULL;
		if (n)
			fp_sbuf_printf(b, ",\"errno\":\"%s\"", n);
		if (m->latency_ns >= 0)
			fp_sbuf_printf(b, ",\"latency_us\":%" PRId64, m->latency_ns / 1000);
	}
	if (m->linked)
		fp_sbuf_printf(b, ",\"link\":%" PRIu64, m->link);
	if (m->path_known) {
		puts_(b, ",\"path\":");
		fp_sbuf_json_quote(b, (const uint8_t *)m->path, strlen(m->path));
	}
	if (m->body != UINT32_MAX) {
		fp_sbuf_printf(b, ",\"%s\":{", m->dir == FP_REPLY ? "result" : "args");
		json_children(b, m, m->body, flags, 1);
		puts_(b, "}");
	}
	if (m->status != FP_OK) {
		fp_sbuf_printf(b, ",\"status\":\"%s\",\"offset\":%u,\"reason\":",
			       m->status == FP_TRUNCATED ? "truncated" : "invalid", m->bad_off);
		fp_sbuf_json_quote(b, (const uint8_t *)m->reason, strlen(m->reason));
	}
	if (flags & FP_FMT_HEX) {
		puts_(b, ",\"raw\":\"");
		put_hex(b, m->buf, m->buflen);
		puts_(b, "\"");
	}
	puts_(b, "}");
}
