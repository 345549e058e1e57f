/* fusewire/cli.h */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fusewire/cli.h"

static const char *prog_name = "fusewire";
static const char *usage_text = "";

void fw_cli_init(const char *prog, const char *usage)
{
	prog_name = prog;
	usage_text = usage;
}

void fw_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog_name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%sTry '%s --help'.\n", usage_text, prog_name);
	exit(2);
}

uint64_t fw_number(const char *arg, const char *opt, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-' || v < min || v > max) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s: '%%s' is not a number from %" PRIu64 " to %" PRIu64,
			 opt, min, max);
		fw_usage_error(msg, arg);
	}
	return v;
}
