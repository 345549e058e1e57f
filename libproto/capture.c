/* Capture files: pcap written and read with libpcap, one record per FUSE message (or
 * fragment of one) behind our pseudo-header; see fuseproto/capture.h for the layout. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "fuseproto/capture.h"
#include "fuseproto/le.h"

/* Message bytes one record holds at most. */
#define FRAG_MAX (FP_CAP_SNAPLEN - FP_CAP_HDRLEN)

/* A message is at most this long (the kernel's largest is 1 MiB + some pages of headers);
 * a capture that claims more is damaged, not just big. */
#define MSG_MAX (64u << 20)

/* The stdio buffer of a capture being read. */
#define READ_BUF (256u << 10)

/* The sizes of a pcap file's header and of the header before each record. */
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u

static void say(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t n, const char *fmt, ...)
{
	if (!err || !n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

uint32_t fp_cap_snap(uint32_t len, uint32_t payload_off, uint32_t snaplen)
{
	if (!snaplen || len <= snaplen)
		return len;
	return payload_off > snaplen ? (payload_off < len ? payload_off : len) : snaplen;
}

size_t fp_cap_event_build(uint8_t *buf, size_t cap, uint64_t unique, const char *name,
			  const char *text)
{
	size_t nl = strlen(name) + 1, tl = strlen(text);
	if (cap < 8 || cap - 8 < nl || cap - 8 - nl < tl)
		return 0;
	fp_store_le(buf, 8, unique);
	memcpy(buf + 8, name, nl);
	memcpy(buf + 8 + nl, text, tl);
	return 8 + nl + tl;
}

int fp_cap_event_parse(const struct fp_cap_msg *m, uint64_t *unique, const char **name,
		       const char **text, size_t *textlen)
{
	if (m->type != FP_CAP_T_EVENT || m->len < 9)
		return -1;
	const char *nm = (const char *)m->buf + 8;
	const char *nul = memchr(nm, '\0', m->len - 8);
	if (!nul)
		return -1;
	*unique = fp_load_le(m->buf, 8);
	*name = nm;
	*text = nul + 1;
	*textlen = m->len - (size_t)(nul + 1 - (const char *)m->buf);
	return 0;
}

/* ------------------------------------------------------------------ writing */

struct fp_capw {
	pcap_t *dead;
	pcap_dumper_t *d;
	char *path;        /* as given */
	char *name;        /* the file being written */
	struct fp_capw_opts o;
	unsigned index;    /* of the file being written */
	uint64_t written;  /* bytes in it */
	uint8_t *rec;      /* one record being put together */
};

/* The name of file `i` of the rotation: PATH, PATH1, PATH2, ...; with a file count,
 * PATH0..PATH<files-1>, zero-padded to the same width (tcpdump's -C and -W). */
static char *file_name(const struct fp_capw *w, unsigned i)
{
	char *s = NULL;
	int r;
	if (!w->o.file_size || (!w->o.files && i == 0))
		r = asprintf(&s, "%s", w->path);
	else if (!w->o.files)
		r = asprintf(&s, "%s%u", w->path, i);
	else
		r = asprintf(&s, "%s%0*u", w->path, snprintf(NULL, 0, "%u", w->o.files - 1), i);
	return r < 0 ? NULL : s;
}

static int open_file(struct fp_capw *w, unsigned i, char *err, size_t n)
{
	char *name = file_name(w, i);
	if (!name) {
		say(err, n, "%s: out of memory", w->path);
		return -1;
	}
	/* close on exec: the daemon a proxy starts must not hold its capture open */
	FILE *f = strcmp(name, "-") ? fopen(name, "wbe") : NULL;
	if (strcmp(name, "-") && !f) {
		say(err, n, "%s: %s", name, strerror(errno));
		free(name);
		return -1;
	}
	pcap_dumper_t *d = f ? pcap_dump_fopen(w->dead, f) : pcap_dump_open(w->dead, name);
	if (!d) {
		say(err, n, "%s", pcap_geterr(w->dead));
		if (f)
			fclose(f);
		free(name);
		return -1;
	}
	free(w->name);
	w->name = name;
	w->d = d;
	w->index = i;
	w->written = 24; /* the file header */
	return 0;
}

static int close_file(struct fp_capw *w, char *err, size_t n)
{
	if (!w->d)
		return 0;
	/* pcap_dump_close() reports nothing: what it would fail on, the flush reports */
	int r = fp_capw_flush(w, err, n);
	pcap_dump_close(w->d);
	w->d = NULL;
	return r;
}

struct fp_capw *fp_capw_open(const char *path, const struct fp_capw_opts *opts, char *err,
			     size_t n)
{
	struct fp_capw *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->rec = malloc(FP_CAP_SNAPLEN))) {
		say(err, n, "%s: out of memory", path);
		if (w)
			free(w->path);
		free(w);
		return NULL;
	}
	if (opts)
		w->o = *opts;
	w->dead = pcap_open_dead_with_tstamp_precision(FP_CAP_LINKTYPE, FP_CAP_SNAPLEN,
							PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead) {
		say(err, n, "%s: out of memory", path);
		fp_capw_close(w, NULL, 0);
		return NULL;
	}
	if (open_file(w, 0, err, n) < 0) {
		fp_capw_close(w, NULL, 0);
		return NULL;
	}
	return w;
}

static void put_hdr(uint8_t *h, const struct fp_cap_msg *m, uint32_t flags, uint32_t fragoff,
		    uint32_t lost)
{
	memcpy(h, FP_CAP_MAGIC, 4);
	fp_store_le(h + 4, 2, FP_CAP_HDRLEN);
	h[6] = FP_CAP_VERSION;
	h[7] = m->type;
	fp_store_le(h + 8, 4, flags);
	fp_store_le(h + 12, 4, m->conn);
	fp_store_le(h + 16, 4, m->msglen);
	fp_store_le(h + 20, 4, fragoff);
	fp_store_le(h + 24, 4, lost);
	fp_store_le(h + 28, 2, m->major);
	fp_store_le(h + 30, 2, m->minor);
	fp_store_le(h + 32, 8, m->initflags);
}

int fp_capw_write(struct fp_capw *w, const struct fp_cap_msg *m, char *err, size_t n)
{
	if (!w->d) {
		say(err, n, "%s: not open (an earlier error)", w->path);
		return -1;
	}
	if (w->o.file_size && w->written > 24 && w->written + FP_CAP_HDRLEN + 16 + m->len > w->o.file_size) {
		unsigned next = w->index + 1;
		if (w->o.files && next >= w->o.files)
			next = 0;
		if (close_file(w, err, n) < 0 || open_file(w, next, err, n) < 0)
			return -1;
	}
	uint8_t *rec = w->rec;
	uint32_t off = 0;
	do {
		uint32_t take = m->len - off < FRAG_MAX ? m->len - off : FRAG_MAX;
		uint32_t flags = m->flags & ~FP_CAP_F_MORE;
		if (off + take < m->len)
			flags |= FP_CAP_F_MORE;
		put_hdr(rec, m, flags, off, off ? 0 : m->lost);
		memcpy(rec + FP_CAP_HDRLEN, m->buf + off, take);
		struct pcap_pkthdr ph;
		ph.ts.tv_sec = (time_t)(m->ts_ns / 1000000000u);
		ph.ts.tv_usec = (suseconds_t)(m->ts_ns % 1000000000u); /* nanoseconds: see open_dead */
		ph.caplen = FP_CAP_HDRLEN + take;
		/* a snapped message's last record stands for the rest of it */
		ph.len = FP_CAP_HDRLEN + ((flags & FP_CAP_F_MORE) ? take : m->msglen - off);
		pcap_dump((u_char *)w->d, &ph, rec);
		w->written += 16 + ph.caplen;
		off += take;
	} while (off < m->len);
	return 0;
}

int fp_capw_flush(struct fp_capw *w, char *err, size_t n)
{
	if (w->d && pcap_dump_flush(w->d) != 0) {
		say(err, n, "%s: %s", w->name, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

int fp_capw_close(struct fp_capw *w, char *err, size_t n)
{
	if (!w)
		return 0;
	int r = close_file(w, err, n);
	if (w->dead)
		pcap_close(w->dead);
	free(w->rec);
	free(w->name);
	free(w->path);
	free(w);
	return r;
}

/* ------------------------------------------------------------------ reading */

struct fp_capr {
	pcap_t *p;
	FILE *f;            /* the stream under p, for byte offsets */
	char *name;
	uint64_t record;    /* records read */
	int counted;        /* pcap: offsets are counted (16-byte record header + caplen), not
			     * asked of the stream, which would cost a syscall per record */
	uint64_t pos;       /* with counted: where the next record starts */
	uint32_t snap;      /* the file's snapshot length: libpcap cuts longer records to it
			     * and skips the rest, so those are measured on the stream */
	char *iobuf;        /* the stream's buffer, freed once it is closed */
	uint8_t *msg;       /* fragments put together */
	size_t cap;
};

static struct fp_capr *reader(pcap_t *p, const char *name, char *err, size_t n)
{
	if (pcap_datalink(p) != FP_CAP_LINKTYPE) {
		say(err, n, "%s: not a fusewire capture: link type %d (%s), not %d", name,
		    pcap_datalink(p), pcap_datalink_val_to_name(pcap_datalink(p)) ?
		    pcap_datalink_val_to_name(pcap_datalink(p)) : "unknown", FP_CAP_LINKTYPE);
		pcap_close(p);
		return NULL;
	}
	struct fp_capr *r = calloc(1, sizeof(*r));
	if (!r || !(r->name = strdup(name))) {
		say(err, n, "%s: out of memory", name);
		free(r);
		pcap_close(p);
		return NULL;
	}
	r->p = p;
	r->f = pcap_file(p);
	/* libpcap calls pcapng version 1.0: it has blocks of several kinds between the records,
	 * whose offsets only the stream knows */
	if (pcap_major_version(p) == 2) {
		long pos = r->f ? ftell(r->f) : -1;
		r->counted = 1;
		r->pos = pos < 0 ? PCAP_FILE_HDR : (uint64_t)pos;
		r->snap = (uint32_t)pcap_snapshot(p);
	}
	return r;
}

struct fp_capr *fp_capr_open(const char *path, char *err, size_t n)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	char *iobuf = NULL;
	if (!strcmp(path, "-")) {
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	} else {
		/* opened here, as libpcap would, for a larger buffer than stdio's 4 KiB: a file
		 * is read in READ_BUF pieces rather than in a read(2) every few records; close on
		 * exec, so that a daemon started by a reader does not hold it */
		FILE *f = fopen(path, "rbe");
		if (!f) {
			say(err, n, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if ((iobuf = malloc(READ_BUF)))
			setvbuf(f, iobuf, _IOFBF, READ_BUF);
		p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, eb);
		if (!p) {
			fclose(f);
			free(iobuf);
		}
	}
	if (!p) {
		/* libpcap's messages often start with the file name already */
		if (!strncmp(eb, path, strlen(path)))
			say(err, n, "%s", eb);
		else
			say(err, n, "%s: %s", path, eb);
		return NULL;
	}
	struct fp_capr *r = reader(p, path, err, n);
	if (r)
		r->iobuf = iobuf;
	else
		free(iobuf); /* after pcap_close(), which closed the stream */
	return r;
}

struct fp_capr *fp_capr_fopen(FILE *f, const char *name, char *err, size_t n)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p) {
		say(err, n, "%s: %s", name, eb);
		fclose(f);
		return NULL;
	}
	return reader(p, name, err, n);
}

void fp_capr_close(struct fp_capr *r)
{
	if (!r)
		return;
	pcap_close(r->p);
	free(r->iobuf);
	free(r->msg);
	free(r->name);
	free(r);
}

/* Read the next record into h/data with its number and offset: 1, 0 at the end, -1. */
static int next_record(struct fp_capr *r, struct pcap_pkthdr *h, const u_char **data,
		       uint64_t *off, uint64_t *rec, char *err, size_t n)
{
	long pos = r->counted ? (long)r->pos : r->f ? ftell(r->f) : -1;
	struct pcap_pkthdr *ph;
	int x = pcap_next_ex(r->p, &ph, data);
	*rec = ++r->record;
	*off = pos < 0 ? 0 : (uint64_t)pos;
	if (x == 1 && r->counted) {
		/* the stream knows better after the first record (is it a variant of pcap with
		 * longer record headers?) and after a record libpcap cut */
		uint64_t next = r->pos + PCAP_REC_HDR + ph->caplen;
		long now = (r->record == 1 || ph->caplen >= r->snap) && r->f ? ftell(r->f) : -1;
		if (r->record == 1 && now >= 0 && (uint64_t)now != next)
			r->counted = 0;
		r->pos = now >= 0 ? (uint64_t)now : next;
	}
	if (x == PCAP_ERROR_BREAK) {
		r->record--;
		return 0;
	}
	if (x != 1) {
		long end = -1;
		if (r->f && fseek(r->f, 0, SEEK_END) == 0)
			end = ftell(r->f);
		if (end >= 0 && (uint64_t)end > *off)
			say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 " is damaged (%" PRIu64
			    " bytes left in the file): %s", r->name, *rec, *off, (uint64_t)end - *off,
			    pcap_geterr(r->p));
		else
			say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 " is damaged: %s",
			    r->name, *rec, *off, pcap_geterr(r->p));
		return -1;
	}
	*h = *ph;
	return 1;
}

/* The pseudo-header of a record, checked. Returns 0, or -1 with err filled. */
static int parse_hdr(const struct fp_capr *r, const struct pcap_pkthdr *h, const u_char *d,
		     uint64_t rec, uint64_t off, struct fp_cap_msg *m, uint32_t *hdrlen,
		     uint32_t *fragoff, uint32_t *flags, char *err, size_t n)
{
	if (h->caplen < 8 || memcmp(d, FP_CAP_MAGIC, 4) != 0) {
		say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 " is not a fusewire record "
		    "(no \"FUSE\" pseudo-header)", r->name, rec, off);
		return -1;
	}
	uint32_t hl = (uint32_t)fp_load_le(d + 4, 2);
	if (d[6] < 1 || hl < FP_CAP_HDRLEN || hl > h->caplen) {
		say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 ": pseudo-header version %u "
		    "of %u bytes in a %u-byte record (version 1 has %u bytes)", r->name, rec, off,
		    d[6], hl, h->caplen, FP_CAP_HDRLEN);
		return -1;
	}
	if (d[7] > FP_CAP_T_EVENT) {
		say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 ": unknown record type %u",
		    r->name, rec, off, d[7]);
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
	m->type = d[7];
	*flags = (uint32_t)fp_load_le(d + 8, 4);
	m->flags = *flags & ~FP_CAP_F_MORE;
	m->conn = (uint32_t)fp_load_le(d + 12, 4);
	m->msglen = (uint32_t)fp_load_le(d + 16, 4);
	*fragoff = (uint32_t)fp_load_le(d + 20, 4);
	m->lost = (uint32_t)fp_load_le(d + 24, 4);
	m->major = (uint16_t)fp_load_le(d + 28, 2);
	m->minor = (uint16_t)fp_load_le(d + 30, 2);
	m->initflags = fp_load_le(d + 32, 8);
	m->record = rec;
	m->offset = off;
	*hdrlen = hl;
	uint32_t have = h->caplen - hl;
	if (m->msglen > MSG_MAX || *fragoff > m->msglen || have > m->msglen - *fragoff) {
		say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 ": %u bytes at offset %u of a "
		    "message of %u bytes", r->name, rec, off, have, *fragoff, m->msglen);
		return -1;
	}
	return 0;
}

int fp_capr_next(struct fp_capr *r, struct fp_cap_msg *m, char *err, size_t n)
{
	struct pcap_pkthdr h;
	const u_char *d;
	uint64_t off, rec;
	int x = next_record(r, &h, &d, &off, &rec, err, n);
	if (x <= 0)
		return x;
	uint32_t hl, fragoff, flags;
	if (parse_hdr(r, &h, d, rec, off, m, &hl, &fragoff, &flags, err, n) < 0)
		return -1;
	if (fragoff != 0) {
		say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 ": a fragment at offset %u "
		    "with no start", r->name, rec, off, fragoff);
		return -1;
	}
	uint32_t have = h.caplen - hl;
	if (!(flags & FP_CAP_F_MORE)) {
		m->buf = d + hl;
		m->len = have;
		return 1;
	}
	/* a long message: its fragments follow, in order */
	if (r->cap < m->msglen) {
		uint8_t *b = realloc(r->msg, m->msglen);
		if (!b) {
			say(err, n, "%s: out of memory for a message of %u bytes", r->name, m->msglen);
			return -1;
		}
		r->msg = b;
		r->cap = m->msglen;
	}
	memcpy(r->msg, d + hl, have);
	uint32_t len = have;
	while (flags & FP_CAP_F_MORE) {
		struct fp_cap_msg f;
		uint32_t fhl, foff;
		x = next_record(r, &h, &d, &off, &rec, err, n);
		if (x < 0)
			return -1;
		if (x == 0) {
			say(err, n, "%s: the file ends in the middle of the message of record %" PRIu64
			    " at byte %" PRIu64 " (%u of %u bytes)", r->name, m->record, m->offset,
			    len, m->msglen);
			return -1;
		}
		if (parse_hdr(r, &h, d, rec, off, &f, &fhl, &foff, &flags, err, n) < 0)
			return -1;
		if (foff != len || f.msglen != m->msglen || f.type != m->type || f.conn != m->conn) {
			say(err, n, "%s: record %" PRIu64 " at byte %" PRIu64 " does not continue the "
			    "message of record %" PRIu64 " (offset %u, expected %u)", r->name, rec, off,
			    m->record, foff, len);
			return -1;
		}
		memcpy(r->msg + len, d + fhl, h.caplen - fhl);
		len += h.caplen - fhl;
	}
	m->buf = r->msg;
	m->len = len;
	return 1;
}
