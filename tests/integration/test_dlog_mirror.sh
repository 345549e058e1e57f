#!/usr/bin/env bash
# test_dlog.sh with fusedump --mirror: the messages that the LD_PRELOAD library copied
# from the daemon's own /dev/fuse agree with the daemon's -d log, unique for unique.
FUSEDUMP_MODE=(--mirror)
. "$(dirname "$0")/test_dlog.sh"
