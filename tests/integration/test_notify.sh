#!/usr/bin/env bash
# Notifications (messages the daemon sends on its own, unique 0) through fusedump, with
# libfuse3's examples, each serving a file that changes every second:
#  - notify_inval_inode: current_time's content, NOTIFY_INVAL_INODE after each update. With
#    --no-notify the kernel keeps serving the first content from its cache; with
#    notifications a second read shows the new one.
#  - notify_inval_entry (in the background): a file named after the time of day,
#    NOTIFY_INVAL_ENTRY of the old name after each update. The entry is cached for 30 s,
#    so only the notification can make a lookup of the old name fail at once.
#  - notify_store_retrieve: NOTIFY_STORE puts the new content into the kernel's cache, then
#    NOTIFY_RETRIEVE asks for it back, which the kernel sends as a NOTIFY_REPLY request.
#    The content changes with no READ request, every retrieve gets its one NOTIFY_REPLY
#    with the stored bytes, and the daemon (which asserts that a reply came) exits cleanly.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${DAEMONS_DIR:?}"
for d in notify_inval_inode notify_inval_entry notify_store_retrieve; do
	[ -x "$DAEMONS_DIR/$d" ] || fail "$DAEMONS_DIR/$d is missing (tests/daemons/CMakeLists.txt builds it)"
done

# ended_clean WHAT: fusedump exited 0, nothing is mounted, the daemon (pid $daemon) is gone.
ended_clean() {
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$1: fusedump exited $FD_RC, expected 0"; }
	expect_no_mount
	! running "$daemon" || fail "$1: daemon pid $daemon is still running"
}

# no_refusal WHAT: the kernel took every notification.
no_refusal() {
	if grep -E 'refused|not delivered' "$TRACE" | head -5 | grep .; then
		fail "$1: fusedump reports messages refused or not delivered (above)"
	fi
}

spawned_pid() {
	sed -nE '1s/^# fusedump .*: mounted .*; daemon pid ([0-9]+): .*/\1/p' "$TRACE"
}

# ---- notify_inval_inode, without notifications: the cached content stays
start_fusedump inode-quiet -- "$DAEMONS_DIR/notify_inval_inode" -f --update-interval=1 --no-notify "$MNT"
daemon=$(spawned_pid)
c1=$(t cat "$MNT/current_time") || fail "inode-quiet: cat failed"
sleep 2.2
c2=$(t cat "$MNT/current_time") || fail "inode-quiet: cat failed"
[ "$c1" = "$c2" ] || fail "inode-quiet: the content changed without notifications ('$c1', '$c2'): the kernel did not cache it, the test below proves nothing"
grep -q '^NOTIFY_' "$TRACE" && fail "inode-quiet: notifications with --no-notify"
t umount "$MNT" || fail "inode-quiet: umount failed"
wait_fusedump 20
ended_clean inode-quiet

# ---- notify_inval_inode: the invalidation makes the kernel read the new content
start_fusedump inode -- "$DAEMONS_DIR/notify_inval_inode" -f --update-interval=1 "$MNT"
daemon=$(spawned_pid)
c1=$(t cat "$MNT/current_time") || fail "inode: cat failed"
[[ "$c1" == "The current time is "* ]] || fail "inode: current_time says '$c1'"
until_ok 5 grep -q '^NOTIFY_INVAL_INODE ino=2 off=0 len=0$' "$TRACE" ||
	fail "inode: no NOTIFY_INVAL_INODE ino=2 line in the trace"
sleep 0.2
c2=$(t cat "$MNT/current_time") || fail "inode: cat failed"
[ "$c1" != "$c2" ] || fail "inode: the content did not change after NOTIFY_INVAL_INODE ('$c1')"
# the new content came from a READ after the notification (the trace's line may lag the
# reply a little: its writer runs when the proxy is idle)
until_ok 5 awk '/^NOTIFY_INVAL_INODE ino=2 / { n = 1 } n && /^READ #[0-9]+ nodeid=2 / { found = 1 } END { exit !found }' \
	"$TRACE" || fail "inode: no READ of nodeid 2 after the notification"
kill -INT "$FD_PID"
wait_fusedump 20
ended_clean inode
trace_clean
no_refusal inode

# ---- notify_inval_entry, in the background: the old name is gone at once
start_fusedump entry -- "$DAEMONS_DIR/notify_inval_entry" --update-interval=1 --timeout=30 "$MNT"
# look the name up (LOOKUP, which makes the daemon notify); again if it changed meanwhile
for _ in 1 2 3; do
	name=$(t ls "$MNT") || fail "entry: ls failed"
	t stat "$MNT/$name" >/dev/null 2>&1 && break
	name=""
done
[[ "$name" == Time_is_* ]] || fail "entry: no Time_is_* name could be looked up ('$name')"
daemon=$(sed -nE 's/^# daemon pid ([0-9]+) writes the socket.*/\1/p' "$TRACE" | head -1)
[ -n "$daemon" ] || fail "entry: no '# daemon pid N writes the socket' line"
until_ok 5 grep -qF "NOTIFY_INVAL_ENTRY parent=1 namelen=${#name} flags=0 name=\"$name\"" "$TRACE" ||
	fail "entry: no NOTIFY_INVAL_ENTRY of \"$name\" in the trace"
sleep 0.2
t stat "$MNT/$name" >/dev/null 2>"$WORK/stat.err" &&
	fail "entry: $name can still be looked up after NOTIFY_INVAL_ENTRY (its entry was cached for 30 s)"
grep -q 'No such file or directory' "$WORK/stat.err" || fail "entry: stat of the old name: $(cat "$WORK/stat.err")"
n=$(grep -cE "^LOOKUP #[0-9]+ nodeid=1 \"/\" name=\"$name\"$" "$TRACE")
[ "$n" -ge 2 ] || fail "entry: the old name was not looked up again by the daemon after the notification"
t umount "$MNT" || fail "entry: umount failed"
wait_fusedump 20
ended_clean entry
trace_clean
no_refusal entry

# ---- notify_store_retrieve: the content comes from NOTIFY_STORE; retrieves get replies
start_fusedump store --json -- "$DAEMONS_DIR/notify_store_retrieve" -f --update-interval=1 "$MNT"
daemon=$(sed -nE '1s/.*; daemon pid ([0-9]+): .*/\1/p' "$TRACE")
c1=$(t cat "$MNT/current_time") || fail "store: cat failed"
until_ok 6 eval '[ "$(grep -c "\"op\":\"NOTIFY_REPLY\"" "$TRACE")" -ge 2 ]' ||
	fail "store: fewer than 2 NOTIFY_REPLY requests in the trace after 6 s"
sleep 0.2
c2=$(t cat "$MNT/current_time") || fail "store: cat failed"
[ "$c1" != "$c2" ] || fail "store: the content did not change after NOTIFY_STORE ('$c1')"
kill -TERM "$FD_PID"
# the daemon aborts (128+6) at its exit if no NOTIFY_REPLY ever reached it
wait_fusedump 20
ended_clean store
python3 - "$TRACE" "$c2" <<'PY' || fail "store: the JSON trace is wrong (above)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
second_read = sys.argv[2] + "\n"
bad = []
def check(ok, what):
    if not ok:
        bad.append(what)
reads = [m for m in lines if m["dir"] == "request" and m["op"] == "READ"]
check(len(reads) == 1, "%d READ requests, expected 1 (the rest must come from NOTIFY_STORE)" % len(reads))
stored = None       # the bytes of the last NOTIFY_STORE
stores = []
retrieves = {}      # notify_unique -> the bytes stored before it
replies = {}        # unique -> NOTIFY_REPLY requests
for m in lines:
    if m["dir"] == "notify" and m["op"] == "NOTIFY_STORE":
        a = m["args"]
        check(a["nodeid"] == 2 and a["offset"] == 0, "NOTIFY_STORE args %s" % a)
        stored = bytes.fromhex(a["data"]["hex"])
        stores.append(stored)
    elif m["dir"] == "notify" and m["op"] == "NOTIFY_RETRIEVE":
        a = m["args"]
        check(a["notify_unique"] not in retrieves, "two NOTIFY_RETRIEVE with %d" % a["notify_unique"])
        check(stored is not None, "NOTIFY_RETRIEVE before any NOTIFY_STORE")
        retrieves[a["notify_unique"]] = stored
    elif m["dir"] == "request" and m["op"] == "NOTIFY_REPLY":
        replies.setdefault(m["unique"], []).append(m)
check(len(retrieves) >= 2, "%d NOTIFY_RETRIEVE" % len(retrieves))
check(second_read.encode() in stores, "the second cat (%r) is not what a NOTIFY_STORE stored" % second_read)
last = max(retrieves) if retrieves else None
for u, want in sorted(retrieves.items()):
    got = replies.get(u, [])
    # the last retrieve may have crossed the unmount
    if u == last and not got:
        continue
    check(len(got) == 1, "NOTIFY_RETRIEVE %d has %d NOTIFY_REPLY requests" % (u, len(got)))
    for r in got:
        check(r.get("link") == u, "NOTIFY_REPLY #%d is not linked to its retrieve: %s" % (u, r.get("link")))
        check(r["nodeid"] == 2 and r["args"]["offset"] == 0, "NOTIFY_REPLY #%d args" % u)
        check(bytes.fromhex(r["args"]["data"]["hex"]) == want,
              "NOTIFY_REPLY #%d gives other bytes than were stored" % u)
for u in replies:
    check(u in retrieves, "NOTIFY_REPLY #%d answers no NOTIFY_RETRIEVE" % u)
check(not any(m.get("status") in ("truncated", "invalid") for m in lines), "undecodable messages")
# once fusedump unmounts (the SIGTERM), a notification racing the unmount may be refused
ending = next((i for i, m in enumerate(lines) if m["dir"] == "event" and "unmounting" in m["msg"]),
              len(lines))
check(not any(m["dir"] == "event" and ("refused" in m["msg"] or "not delivered" in m["msg"])
              for m in lines[:ending]), "messages refused or not delivered before the unmount")
for b in bad:
    print("store:", b, file=sys.stderr)
print("store: %d NOTIFY_STORE, %d NOTIFY_RETRIEVE, %d NOTIFY_REPLY" %
      (len(stores), len(retrieves), sum(len(v) for v in replies.values())))
sys.exit(1 if bad else 0)
PY
echo "PASS: $TEST_NAME"
