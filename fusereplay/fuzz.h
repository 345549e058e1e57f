/* fusereplay --fuzz: mutate captured requests through libproto's field tables, replay
 * them against a fresh daemon each run, and keep what crashes it, hangs it or makes it
 * break the protocol, minimized, as captures that fusereplay replays. */
#ifndef FUSEREPLAY_FUZZ_H
#define FUSEREPLAY_FUZZ_H

#include <stdint.h>

#include "replay.h"

struct fr_fuzz_opts {
	char **captures;        /* the seeds */
	unsigned ncaptures;
	struct fr_replay_opts run; /* argv, devfd, timeout (a hang), lint */
	uint64_t seed;          /* --seed: the same seed, captures and daemon give the same runs */
	uint64_t seconds;       /* --time (0: no limit) */
	uint64_t runs;          /* --runs (0: no limit) */
	unsigned max_findings;  /* --max-findings: stop after that many (0: no limit) */
	int unsafe_names;       /* --unsafe-names: names with '/' and "..", which lead a
				 * passthrough daemon out of its directory */
	const char *findings;   /* --findings: the directory for reproducers */
	int progress;           /* a status line on a terminal */
};

/* Fuzz until the time or the runs are used up, or SIGINT/SIGTERM. One line per finding
 * on stdout, then a summary. Returns 0 when nothing was found, 1 with findings, 2 for
 * unusable seeds or a daemon that cannot be started. */
int fr_fuzz(const struct fr_fuzz_opts *o);

#endif
