#!/usr/bin/env bash
# libfuse3's hello_ll behind fusedump: listing, content, ENOENT, paired LOOKUP lines in the
# trace, umount ends fusedump with status 0. Run 1 lets hello_ll go to the background and
# mount through the LD_PRELOAD shim, which turns the socket's end of file into ENODEV after
# the unmount: the daemon exits 0 by itself. Run 2 uses --json and stops fusedump with
# SIGINT. Run 3 hands over /dev/fd/N (--devfd): the backgrounded daemon is another pid than
# the one spawned, and SCM_CREDENTIALS tells fusedump whom to send SIGTERM after the unmount.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${HELLO_LL:?}"

# ---- run 1: text trace, daemon in the background, umount
start_fusedump text -- "$HELLO_LL" "$MNT"

listing=$(t ls -1 "$MNT") || fail "ls failed"
[ "$listing" = "hello" ] || fail "ls gave '$listing', expected 'hello'"
content=$(t cat "$MNT/hello") || fail "cat failed"
[ "$content" = "Hello World!" ] || fail "cat hello gave '$content'"
t python3 - "$MNT/missing" <<'PY' || fail "stat of a missing name did not give ENOENT"
import errno, os, sys
try:
    os.stat(sys.argv[1])
except OSError as e:
    sys.exit(0 if e.errno == errno.ENOENT else 1)
sys.exit(1)
PY

t umount "$MNT" || fail "umount failed"
wait_fusedump 20
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump exited $FD_RC after umount, expected 0"; }
expect_no_mount

# a LOOKUP of "hello" and its paired successful reply
n=$(grep -E '^LOOKUP #[0-9]+ nodeid=1 "/" name="hello"$' "$TRACE" | head -1 | sed -E 's/^LOOKUP #([0-9]+) .*/\1/')
[ -n "$n" ] || fail 'no LOOKUP line with name="hello"'
trace_has "^#$n LOOKUP = 0 \{nodeid=2 " "the reply to LOOKUP #$n"
trace_has '^LOOKUP #[0-9]+ nodeid=1 "/" name="missing"$' 'LOOKUP of "missing"'
trace_has '^#[0-9]+ LOOKUP = -2 ENOENT' "the ENOENT reply"
trace_has '^#[0-9]+ READ = 0 \{data=<13 bytes "Hello World!\\n">\}' "the READ reply"
if grep -Eq '^INIT #2 .*flags2=[A-Z_|]*PASSTHROUGH' "$TRACE"; then
	trace_has '^# INIT #2: cleared [A-Z_|]*PASSTHROUGH[A-Z_|]* in the request to the daemon' \
		"the INIT rewrite line"
fi
trace_has '^# fusedump [0-9.]+: mounted hello_ll on [^ ]+ \(type fuse.hello_ll, asked by pid [0-9]+ through mount\(2\)\)' \
	"the mount asked for through the LD_PRELOAD shim"
trace_has '^# daemon pid [0-9]+ writes the socket \(spawned as pid [0-9]+\)' \
	"the backgrounded daemon, seen through SCM_CREDENTIALS"
trace_has "^# closed the daemon's side of the socket: it reads ENODEV and ends" "the end of file"
trace_has '^# daemon pid [0-9]+ exited 0$' "the daemon's clean exit, without a signal"
! grep -q '^# sent SIG' "$TRACE" || fail "a signal was sent to the daemon"
trace_clean

# ---- run 2: JSON, daemon in the foreground, SIGINT
start_fusedump json --json -- "$HELLO_LL" -f "$MNT"
content=$(t cat "$MNT/hello") || fail "cat failed"
[ "$content" = "Hello World!" ] || fail "cat hello gave '$content'"
kill -INT "$FD_PID"
wait_fusedump 20
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump exited $FD_RC after SIGINT, expected 0"; }
expect_no_mount
python3 - "$TRACE" <<'PY' || fail "the JSON trace is wrong"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
reqs = {m["unique"]: m for m in lines if m["dir"] == "request"}
lookups = [m for m in reqs.values() if m["op"] == "LOOKUP" and m["args"].get("name") == "hello"]
assert lookups, "no LOOKUP of hello"
u = lookups[0]["unique"]
replies = [m for m in lines if m["dir"] == "reply" and m["unique"] == u]
assert replies and replies[0]["op"] == "LOOKUP" and replies[0]["error"] == 0, replies
assert any(m["dir"] == "event" and m["event"] == "stop" for m in lines), "no stop event"
assert not any(m.get("status") in ("truncated", "invalid") for m in lines)
PY

# ---- run 3: --devfd, daemon in the background, umount
start_fusedump devfd --devfd -- "$HELLO_LL" "$MNT"
content=$(t cat "$MNT/hello") || fail "cat failed"
[ "$content" = "Hello World!" ] || fail "cat hello gave '$content'"
t umount "$MNT" || fail "umount failed"
wait_fusedump 20
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump --devfd exited $FD_RC after umount, expected 0"; }
expect_no_mount
trace_has '^# fusedump [0-9.]+: mounted hello_ll on [^ ]+ \(type fuse.hello_ll\); daemon pid [0-9]+: [^ ]+ /dev/fd/[0-9]+$' \
	"the /dev/fd/N command line"
trace_has '^# daemon pid [0-9]+ writes the socket \(spawned as pid [0-9]+\)' \
	"the backgrounded daemon, seen through SCM_CREDENTIALS"
trace_has '^# sent SIGTERM to daemon pid [0-9]+' "SIGTERM after the unmount"
trace_clean
echo "PASS: $TEST_NAME"
