#!/usr/bin/env bash
# Rewrites the expected outputs of the golden tests (tests/golden/expected/) with what
# fusedump prints now, and names each file that changed: after a change to the output
# format (check the diff of each before committing) or after captures/make.sh.
#   tests/golden/regen.sh [NAME...]   (FUSEDUMP=path as for run.sh)
exec bash "$(dirname "$0")/run.sh" --regen "$@"
