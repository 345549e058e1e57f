/* What the command lines of fusedump and fusereplay share: a usage error that names the
 * program and shows its usage, and whole-number arguments checked against their range. */
#ifndef FUSEWIRE_CLI_H
#define FUSEWIRE_CLI_H

#include <stdint.h>

/* The program's name ("fusedump") and its usage text, for the messages below. */
void fw_cli_init(const char *prog, const char *usage);

/* Print "PROG: " and fmt with arg (one %s), the usage text, "Try 'PROG --help'.", and
 * exit 2. */
__attribute__((noreturn)) void fw_usage_error(const char *fmt, const char *arg);

/* The argument `arg` of option `opt`: a whole number from min to max, else a usage error. */
uint64_t fw_number(const char *arg, const char *opt, uint64_t min, uint64_t max);

#endif
