/* Loading a recorded session in the hex form of tests/data/ ("K>D <hex>" for what the
 * kernel sent, "D>K <hex>" for what the daemon sent; .gz files are read through zlib),
 * shared by the tests, the tools and the fuzz seeds. */
#ifndef FP_HEXSESSION_H
#define FP_HEXSESSION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuseproto/msg.h"

struct hexmsg {
	enum fp_origin from;
	uint8_t *buf;
	size_t len;
};

struct hexsession {
	struct hexmsg *msgs;
	size_t n;
	char error[160];
};

static inline int hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline void hexsession_free(struct hexsession *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		free(hs->msgs[i].buf);
	free(hs->msgs);
	hs->msgs = NULL;
	hs->n = 0;
}

/* Load path; returns 0, or -1 with hs->error set. */
static inline int hexsession_load(struct hexsession *hs, const char *path)
{
	memset(hs, 0, sizeof(*hs));
	gzFile gz = gzopen(path, "rb");
	if (!gz) {
		snprintf(hs->error, sizeof(hs->error), "cannot open");
		return -1;
	}
	size_t cap = 0, linecap = 1 << 16;
	char *line = malloc(linecap);
	unsigned lineno = 0;
	int rc = 0;
	while (line && gzgets(gz, line, (int)linecap)) {
		size_t l = strlen(line);
		while (l == linecap - 1 && line[l - 1] != '\n') { /* a longer line: grow and go on */
			char *nl = realloc(line, linecap * 2);
			if (!nl)
				break;
			line = nl;
			if (!gzgets(gz, line + l, (int)(linecap * 2 - l)))
				break;
			linecap *= 2;
			l = strlen(line);
		}
		lineno++;
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (l == 0)
			continue;
		enum fp_origin from;
		if (!strncmp(line, "K>D ", 4))
			from = FP_FROM_KERNEL;
		else if (!strncmp(line, "D>K ", 4))
			from = FP_FROM_DAEMON;
		else {
			snprintf(hs->error, sizeof(hs->error), "line %u: expected K>D or D>K", lineno);
			rc = -1;
			break;
		}
		size_t nhex = l - 4;
		if (nhex % 2) {
			snprintf(hs->error, sizeof(hs->error), "line %u: odd number of hex digits", lineno);
			rc = -1;
			break;
		}
		uint8_t *buf = malloc(nhex / 2 ? nhex / 2 : 1);
		for (size_t i = 0; buf && i < nhex / 2; i++) {
			int hi = hex_nibble(line[4 + 2 * i]), lo = hex_nibble(line[5 + 2 * i]);
			if (hi < 0 || lo < 0) {
				snprintf(hs->error, sizeof(hs->error), "line %u: not hex", lineno);
				free(buf);
				buf = NULL;
				rc = -1;
				break;
			}
			buf[i] = (uint8_t)(hi << 4 | lo);
		}
		if (rc < 0)
			break;
		if (hs->n == cap) {
			cap = cap ? cap * 2 : 256;
			struct hexmsg *m = realloc(hs->msgs, cap * sizeof(*m));
			if (!m) {
				free(buf);
				buf = NULL;
			} else {
				hs->msgs = m;
			}
		}
		if (!buf) {
			snprintf(hs->error, sizeof(hs->error), "out of memory");
			rc = -1;
			break;
		}
		hs->msgs[hs->n++] = (struct hexmsg){from, buf, nhex / 2};
	}
	if (!line) {
		snprintf(hs->error, sizeof(hs->error), "out of memory");
		rc = -1;
	}
	free(line);
	gzclose(gz);
	if (rc < 0)
		hexsession_free(hs);
	return rc;
}

#endif
