#!/usr/bin/env bash
# test_slow_output.sh with fusedump --mirror: a trace nobody reads holds up neither the
# filesystem nor the reading of the ring; whole batches of lines are dropped and counted.
FUSEDUMP_MODE=(--mirror)
. "$(dirname "$0")/test_slow_output.sh"
