/* The error messages of libfusewire_transport: the errbuf its functions fill on failure. */
#include <stdarg.h>
#include <stdio.h>

#include "fusetransport/kernel.h"
#include "internal.h"

void ft_seterr(char *errbuf, const char *fmt, ...)
{
	if (!errbuf)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, FT_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}
