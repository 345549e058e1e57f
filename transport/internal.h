/* Private to libfusewire_transport (not installed, not under include/): helpers that more
 * than one of its source files uses. */
#ifndef FUSETRANSPORT_INTERNAL_H
#define FUSETRANSPORT_INTERNAL_H

/* Fill errbuf (FT_ERRBUF_SIZE bytes, fusetransport/kernel.h) with a printf-style message,
 * truncated to fit; nothing when errbuf is NULL. */
void ft_seterr(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
