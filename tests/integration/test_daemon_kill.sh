#!/usr/bin/env bash
# The daemon dies (SIGKILL) while mounted and while a program holds a file open: the
# program gets ENOTCONN, fusedump removes the mount, reports how the daemon died and
# exits non-zero.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${HELLO_LL:?}"

# The daemon runs through a small shell of ours that writes its pid and execs hello_ll,
# so this test knows (and started) the pid it kills.
start_fusedump kill -- sh -c 'echo $$ >"$0"; exec "$1" -f "$2"' "$WORK/daemon.pid" "$HELLO_LL" "$MNT"
for i in $(seq 50); do [ -s "$WORK/daemon.pid" ] && break; sleep 0.1; done
DPID=$(cat "$WORK/daemon.pid") || fail "no daemon pid"
PIDS+=("$DPID")
[ "$(t cat "$MNT/hello")" = "Hello World!" ] || fail "cat hello failed before the kill"

# A program with hello open, that reads it again after the kill.
python3 - "$MNT/hello" "$WORK" >"$WORK/holder.out" 2>&1 <<'PY' &
import errno, os, sys, time
path, work = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDONLY)
open(work + "/ready", "w").close()
for _ in range(300):
    if os.path.exists(work + "/go"):
        break
    time.sleep(0.05)
try:
    os.pread(fd, 64, 0)
    print("read: ok")
except OSError as e:
    print("read:", errno.errorcode.get(e.errno, e.errno))
try:
    os.stat(path)
    print("stat: ok")
except OSError as e:
    print("stat:", errno.errorcode.get(e.errno, e.errno))
PY
HOLDER=$!
PIDS+=("$HOLDER")
for i in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
[ -e "$WORK/ready" ] || fail "the holder did not open the file"

kill -KILL "$DPID"
wait_fusedump 30
[ "$FD_RC" -ne 0 ] || fail "fusedump exited 0 after its daemon was killed"
[ "$FD_RC" -eq $((128 + 9)) ] || echo "note: fusedump exited $FD_RC (expected 137)" >&2
expect_no_mount

touch "$WORK/go"
timeout 30 tail --pid="$HOLDER" -f /dev/null
wait "$HOLDER" || fail "the holder failed: $(cat "$WORK/holder.out")"
grep -Eqx 'read: (ENOTCONN|ECONNABORTED)' "$WORK/holder.out" ||
	fail "reading an open file after the daemon died gave: $(cat "$WORK/holder.out")"
# the mount is gone from the namespace, so a path lookup finds the plain directory
grep -Eqx 'stat: (ENOTCONN|ENOENT)' "$WORK/holder.out" ||
	fail "stat after the daemon died gave: $(cat "$WORK/holder.out")"

trace_has '^# the daemon closed the socket .* while the filesystem was mounted' "the daemon's end"
trace_has "^# daemon pid $DPID killed by SIGKILL" "how the daemon died"
trace_has "^# unmounted $MNT" "the unmount"
grep -q "went away while mounted: killed by SIGKILL" "$ERR" ||
	{ cat "$ERR" >&2; fail "fusedump did not report the daemon's death on stderr"; }
echo "PASS: $TEST_NAME"
