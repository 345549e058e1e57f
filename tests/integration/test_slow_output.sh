#!/usr/bin/env bash
# Printing never holds up the filesystem: with the trace going to a pipe that nobody reads
# for a while, a workload on the mount finishes at full speed, fusedump drops the lines its
# buffer (-B 64 KiB here) cannot hold, says where and how many, and loses none of the
# others' order; the reader then gets everything that was kept. test_slow_output_mirror.sh
# runs this with fusedump --mirror (FUSEDUMP_MODE: fusedump's options), which queues the
# lines of each read of its ring together and drops them together.
. "$(dirname "$0")/lib.sh"
[ -n "${FUSEDUMP_MODE+set}" ] || FUSEDUMP_MODE=()
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}"

SRC=$WORK/src
mkdir "$SRC"
mkfifo "$WORK/pipe"
# the reader sleeps until the workload is over (it waits for $WORK/go), then drains
( exec 3<"$WORK/pipe"; while [ ! -e "$WORK/go" ]; do sleep 0.1; done; cat <&3 >"$WORK/slow.trace" ) &
PIDS+=("$!")
READER=$!
"$FUSEDUMP" -B 64 "${FUSEDUMP_MODE[@]}" -- "$PASSTHROUGH_LL" -o source="$SRC" "$MNT" >"$WORK/pipe" 2>"$WORK/slow.err" &
FD_PID=$!
PIDS+=("$FD_PID")
for i in $(seq 100); do is_mounted "$MNT" && break; sleep 0.1; done
is_mounted "$MNT" || fail "not mounted"

# 1,000 files created, written, read back and removed while nobody reads the trace
start=$SECONDS
t bash -c 'for i in $(seq 1000); do echo "$i" >"$1/f$i" && [ "$(cat "$1/f$i")" = "$i" ] && rm "$1/f$i" || exit 1; done' _ "$MNT" ||
	fail "the workload failed or took more than 30 s while the trace pipe was full"
took=$((SECONDS - start))

t umount "$MNT" || fail "umount failed"
touch "$WORK/go"
wait_fusedump 20
[ "$FD_RC" -eq 0 ] || { cat "$WORK/slow.err" >&2; fail "fusedump exited $FD_RC"; }
wait "$READER"
TRACE=$WORK/slow.trace
grep -q 'trace lines dropped: stdout was slower than the traffic' "$WORK/slow.err" ||
	fail "no count of dropped lines on stderr"
dropped=$(sed -En 's/^fusedump: ([0-9]+) trace lines dropped.*/\1/p' "$WORK/slow.err")
trace_has '^# [0-9]+ trace lines dropped here: the output was too slow$' "the line where lines went missing"
in_trace=$(sed -En 's/^# ([0-9]+) trace lines dropped here.*/\1/p' "$TRACE" | awk '{s += $1} END {print s + 0}')
# the last drop may be told only on stderr (nothing was printed after it)
[ "$in_trace" -le "$dropped" ] || fail "the trace says $in_trace lines were dropped, stderr $dropped"
kept=$(grep -c '^[A-Z#]' "$TRACE")
[ "$dropped" -gt 1000 ] || fail "only $dropped lines dropped: the pipe was not full?"
trace_has '^# daemon pid [0-9]+ exited 0$' "the end of the trace, after the drops"
echo "PASS: $TEST_NAME (1000 files in ${took}s with the trace blocked; $dropped lines dropped, $kept kept)"
