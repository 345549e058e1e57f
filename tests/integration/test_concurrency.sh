#!/usr/bin/env bash
# Many threads at once through fusedump: fwstress (32 threads each writing and reading back
# its own file, 4 more reading a shared one) for 60 s on libfuse3's passthrough_ll, which
# serves requests with several threads (libfuse's multi-threaded loop), with -o cache=never
# so that every read and write is a request. Checks: nothing hangs, no error and no wrong
# byte, every request has exactly one reply, as many READ and WRITE requests as fwstress made
# pread and pwrite calls, and the source directory ends up with exactly what fwstress wrote.
# STRESS_SECONDS=N runs fwstress N s instead of 60 (a quicker look).
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}" "${TOOLS_DIR:?}"
FWSTRESS=$TOOLS_DIR/fwstress
RUN_S=${STRESS_SECONDS:-60}

# A minute of this traffic is a trace of some 300 MB. It is not stored: awk reads it from a
# FIFO as it comes and keeps only the requests waiting for their reply, by unique. FORGET,
# BATCH_FORGET, INTERRUPT and NOTIFY_REPLY take none. A reply nobody waits for is a
# duplicate (or a reply to a request never seen); a request still waiting at the end lost
# its reply. The first line (which names the daemon's pid) is copied to $WORK/head.
PAIRS='
NR == 1 { print > head; close(head) }
/^# / {
	if (/send to the daemon failed|refused|not delivered|did not fit|bytes in its header|out of memory/) {
		bad++
		print "event: " substr($0, 1, 200)
	}
	next
}
$1 ~ /^#[0-9]+$/ {
	u = substr($1, 2)
	if (!(u in waiting)) {
		if (++stray <= 5)
			print "reply that no request waits for: " substr($0, 1, 200)
		next
	}
	if (waiting[u] != $2 && ++mismatch <= 5)
		print "reply #" u " says " $2 ", the request was " waiting[u]
	delete waiting[u]
	replies++
	next
}
$2 ~ /^#[0-9]+$/ {
	count[$1]++
	if ($1 == "FORGET" || $1 == "BATCH_FORGET" || $1 == "INTERRUPT" || $1 == "NOTIFY_REPLY")
		next
	u = substr($2, 2)
	if ((u in waiting) && ++dup <= 5)
		print "request #" u " seen twice: " substr($0, 1, 200)
	waiting[u] = $1
	requests++
	next
}
/^NOTIFY_/ { next }
{
	if (++other <= 5)
		print "line not understood: " substr($0, 1, 200)
}
END {
	for (u in waiting)
		if (++lost <= 5)
			print "no reply to " waiting[u] " #" u
	printf "requests=%d replies=%d lost=%d stray=%d dup=%d mismatch=%d bad=%d other=%d READ=%d WRITE=%d\n",
		requests, replies, lost, stray, dup, mismatch, bad, other, count["READ"], count["WRITE"]
}'

# the pid fusedump started the daemon as, from the trace's first line
daemon_pid() {
	sed -nE 's/^# fusedump .*: mounted .*; daemon pid ([0-9]+): .*/\1/p' "$WORK/head" 2>/dev/null
}

src=$WORK/src
mkdir "$src"
mkfifo "$WORK/stress.trace"
awk -v head="$WORK/head" "$PAIRS" "$WORK/stress.trace" >"$WORK/pairs.out" &
AWK_PID=$!
PIDS+=("$AWK_PID")
start_fusedump stress --stats -- "$PASSTHROUGH_LL" -f -o source="$src" -o cache=never "$MNT"

timeout -k 5 $((RUN_S + 60)) "$FWSTRESS" -t 32 -r 4 -s "$RUN_S" -m "$WORK/manifest" "$MNT" \
	>"$WORK/fwstress.out" 2>"$WORK/fwstress.err" &
STRESS_PID=$!
PIDS+=("$STRESS_PID")
# The daemon's thread count, sampled once a second, to see that it served in parallel. Its
# pid comes once awk has read the first line, which may wait for awk's input buffer to fill.
DPID=""
max_threads=0
while kill -0 "$STRESS_PID" 2>/dev/null; do
	[ -n "$DPID" ] || DPID=$(daemon_pid)
	if [ -n "$DPID" ]; then
		n=$(ls "/proc/$DPID/task" 2>/dev/null | wc -l)
		[ "$n" -gt "$max_threads" ] && max_threads=$n
	fi
	sleep 1
done
wait "$STRESS_PID"
rc=$?
cat "$WORK/fwstress.out"
head -20 "$WORK/fwstress.err" >&2
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "fwstress still running $((RUN_S + 60)) s after its start: a deadlock?"
[ "$rc" -eq 0 ] || fail "fwstress exited $rc (1: an operation failed, 2: wrong content)"
echo "the daemon had up to $max_threads threads"
[ "$max_threads" -ge 3 ] || fail "the daemon never had more than $max_threads threads: not a multi-threaded test"

t umount "$MNT" || fail "umount failed"
wait_fusedump 30
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump exited $FD_RC after umount"; }
expect_no_mount
timeout 60 tail --pid="$AWK_PID" -f /dev/null || fail "awk did not finish reading the trace"
wait "$AWK_PID" || fail "awk failed"
DPID=$(daemon_pid)
[ -n "$DPID" ] || fail "no daemon pid in the trace's first line: $(cat "$WORK/head")"
running "$DPID" && fail "daemon pid $DPID is still running"

cat "$WORK/pairs.out"
summary=$(tail -1 "$WORK/pairs.out")
field() { sed -nE "s/.*(^| )$1=([0-9]+).*/\2/p" <<<"$2"; }
for f in lost stray dup mismatch bad other; do
	[ "$(field "$f" "$summary")" = 0 ] || fail "the trace has $f=$(field "$f" "$summary") (see above)"
done
[ "$(field requests "$summary")" = "$(field replies "$summary")" ] || fail "requests and replies differ"
stress=$(tail -1 "$WORK/fwstress.out")
for op in READ WRITE; do
	calls=$(field "${op,,}s" "$stress")
	[ -n "$calls" ] && [ "$calls" -gt 1000 ] || fail "fwstress made only '$calls' ${op,,} calls"
	[ "$(field "$op" "$summary")" = "$calls" ] ||
		fail "$(field "$op" "$summary") $op requests in the trace for $calls ${op,,} calls by fwstress"
done
grep -q ' 0 not decoded cleanly, ' "$ERR" && grep -q ' 0 refused by the socket, 0 refused by the kernel, 0 not delivered' "$ERR" ||
	{ cat "$ERR" >&2; fail "messages were not decoded or refused (--stats)"; }

# what the daemon wrote to its own directory, read without FUSE
"$FWSTRESS" -C "$WORK/manifest" "$src" || fail "the source directory does not hold what fwstress wrote"
echo "PASS: $TEST_NAME"
