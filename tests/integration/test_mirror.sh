#!/usr/bin/env bash
# fusedump --mirror: the daemon holds /dev/fuse itself, and the LD_PRELOAD library copies
# every message it reads or writes there into a ring that fusedump reads.
#  a. passthrough_ll in the foreground with -o clone_fd (a /dev/fuse of its own per
#     thread, each mirrored): files written and read back through the mount are right
#     (checksums), the trace pairs every reply with its request, decodes every message
#     cleanly, shows READ and WRITE data at their full length, and its counts agree with
#     --stats; umount: the daemon reads ENODEV and exits 0, fusedump exits 0;
#  b. the same daemon in its default background mode: the trace names the process that
#     went on serving; umount ends both, exit 0;
#  c. fusedump stopped (SIGSTOP) while 96 MiB are written with -x (every byte copied, a
#     64 MiB ring): the filesystem does not wait for it (the writes end while it is
#     stopped); once it goes on, the trace and --stats say how many messages it missed;
#  d. the daemon killed (SIGKILL) while a program has a file open: the program gets
#     ENOTCONN, fusedump removes the mount, says how the daemon died, exits 137;
#  e. SIGINT to fusedump: it unmounts, the daemon ends, exit 0;
#  f. refused: --mirror with --lua or --devfd (usage, exit 2); a daemon that mounts
#     through fusermount3 (gocryptfs): a clear error, no mount left;
#  g. splice both ways: splice_ll, whose READ replies libfuse writes with splice(2), read
#     with -x (every byte copied, by tee(2)): the data is right, and the trace shows every
#     byte of every reply, none lost.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}" "${HELLO_LL:?}"

SRC=$WORK/src
mkdir "$SRC"
: "${SPLICE_LL:?}"

# ended_ok WHAT: after an unmount, fusedump ends with 0, and the daemon read ENODEV and exited 0
ended_ok() {
	wait_fusedump 30
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$1: fusedump exited $FD_RC"; }
	expect_no_mount
	grep -q 'short read' "$ERR" && fail "$1: the daemon reported a short read"
	trace_has '^# the filesystem was unmounted \(the daemon read ENODEV\)' "$1: the end"
	trace_has '^# daemon pid [0-9]+ exited 0' "$1: the daemon's exit"
}

# ---- a. foreground, clone_fd
start_fusedump fg --mirror --stats -- "$PASSTHROUGH_LL" -f -o "source=$SRC,clone_fd" "$MNT"
trace_has '^# fusedump .*through mount\(2\); the daemon holds /dev/fuse, traced through the mirror\)' \
	"a: the start line"
head -c 3000000 /dev/urandom >"$WORK/data"
t mkdir "$MNT/d" || fail "a: mkdir"
for i in 1 2 3 4; do
	t dd if="$WORK/data" of="$MNT/d/f$i" bs=256k status=none || fail "a: writing f$i"
done
for i in 1 2 3 4; do
	t cmp "$WORK/data" "$MNT/d/f$i" || fail "a: f$i read back differs"
done
t dd if="$MNT/d/f1" of=/dev/null bs=64k iflag=direct status=none || fail "a: O_DIRECT read"
# clone_fd: the workers each have a /dev/fuse of their own, each mirrored
dpid=$(sed -nE '1s/.*; daemon pid ([0-9]+): .*/\1/p' "$TRACE")
nfuse=$(find "/proc/$dpid/fd" -lname /dev/fuse 2>/dev/null | wc -l)
[ "$nfuse" -ge 2 ] || fail "a: passthrough_ll (pid $dpid) holds $nfuse /dev/fuse: no clone_fd"
[ "$(t ls "$MNT/d" | wc -l)" -eq 4 ] || fail "a: the listing"
t mv "$MNT/d/f4" "$MNT/d/g4" || fail "a: rename"
[ ! -e "$MNT/d/f4" ] && [ -e "$SRC/d/g4" ] || fail "a: the rename did not happen"
t umount "$MNT" || fail "a: umount"
ended_ok a
trace_clean
if grep -E '^#[0-9]+ ' "$TRACE" | grep -Evq ' [0-9]+us$'; then
	grep -E '^#[0-9]+ ' "$TRACE" | grep -Ev ' [0-9]+us$' | head -3 | cut -c1-300 >&2
	fail "a: reply lines without a latency (not paired with their request)"
fi
sed -nE 's/^([A-Z][A-Z0-9_]*) #([0-9]+)( .*)?$/\2 \1/p' "$TRACE" | sort >"$WORK/req"
sed -nE 's/^#([0-9]+) [A-Z0-9_?]+ = .*/\1/p' "$TRACE" | sort >"$WORK/rep"
awk '$2 != "FORGET" && $2 != "BATCH_FORGET" { print $1 }' "$WORK/req" | sort | diff - "$WORK/rep" >/dev/null ||
	fail "a: requests without exactly one reply, or replies without a request"
# data at its full length, though only what the text shows was copied
trace_has '^WRITE #[0-9]+ nodeid=[0-9]+ "/d/f1" .*data=<262144 bytes ' "a: a WRITE's data"
trace_has '^#[0-9]+ READ = 0 \{data=<65536 bytes ' "a: an O_DIRECT READ's data"
trace_has '^RENAME #[0-9]+ nodeid=[0-9]+ "/d" .*oldname="f4" newname="g4"' "a: the RENAME"
nreq=$(wc -l <"$WORK/req")
nrep=$(wc -l <"$WORK/rep")
stat_in=$(sed -nE 's/^fusedump: kernel to daemon: ([0-9]+) messages.*/\1/p' "$ERR")
[ "$stat_in" = "$nreq" ] || fail "a: --stats counts $stat_in requests, the trace $nreq"
echo "a. foreground, clone_fd ($nfuse /dev/fuse fds): $nreq requests, $nrep replies, all paired, --stats agrees"

# ---- b. the daemon's default background mode
start_fusedump bg --mirror -- "$PASSTHROUGH_LL" -o "source=$SRC" "$MNT"
t cmp "$WORK/data" "$MNT/d/f1" || fail "b: read back"
until_ok 10 grep -Eq '^# daemon pid [0-9]+ writes /dev/fuse \(spawned as pid [0-9]+\)' "$TRACE" ||
	fail "b: the trace does not name the daemon that went to the background"
t umount "$MNT" || fail "b: umount"
ended_ok b
trace_has '^#[0-9]+ READ = 0 \{data=<' "b: READ replies"
echo "b. background: $(grep -c ' = ' "$TRACE") replies, the daemon named, exit 0"

# ---- c. fusedump stopped: the filesystem goes on, the missed messages are counted
start_fusedump stop --mirror -x --stats -- "$PASSTHROUGH_LL" -f -o "source=$SRC" "$MNT"
t cat "$MNT/d/f2" >/dev/null || fail "c: read before the stop"
kill -STOP "$FD_PID"
timeout -k 5 60 dd if=/dev/zero of="$MNT/zeros" bs=1M count=96 conv=fsync status=none
rc=$?
kill -CONT "$FD_PID"
[ "$rc" -eq 0 ] || fail "c: writing 96 MiB while fusedump was stopped: dd exited $rc"
[ "$(stat -c %s "$SRC/zeros")" -eq $((96 << 20)) ] || fail "c: the file has the wrong size"
t umount "$MNT" || fail "c: umount"
ended_ok c
trace_has '^# [0-9]+ messages not traced: the mirror ring was full' "c: the loss"
lost=$(sed -nE 's/.*, ([0-9]+) not traced \(the mirror ring was full\)$/\1/p' "$ERR")
[ -n "$lost" ] && [ "$lost" -gt 0 ] || { cat "$ERR" >&2; fail "c: --stats does not count the lost messages"; }
rm -f "$SRC/zeros"
echo "c. fusedump stopped: 96 MiB written meanwhile, $lost messages not traced and said so"

# ---- d. the daemon dies while mounted
start_fusedump kill --mirror -- sh -c 'echo $$ >"$0"; exec "$1" -f "$2"' "$WORK/daemon.pid" "$HELLO_LL" "$MNT"
until_ok 5 test -s "$WORK/daemon.pid" || fail "d: no daemon pid"
DPID=$(cat "$WORK/daemon.pid")
PIDS+=("$DPID")
exec 8<"$MNT/hello" || fail "d: open"
kill -KILL "$DPID"
wait_fusedump 30
forget "$DPID"
[ "$FD_RC" -eq 137 ] || { cat "$ERR" >&2; fail "d: fusedump exited $FD_RC, not 137"; }
expect_no_mount
if out=$(timeout 10 cat <&8 2>&1); then
	exec 8<&-
	fail "d: reading an open file after the daemon died worked: $out"
fi
exec 8<&-
case $out in
*"Transport endpoint is not connected"* | *"Software caused connection abort"*) ;;
*) fail "d: reading after the daemon died: $out" ;;
esac
trace_has '^# the daemon ended while the filesystem was mounted' "d: the daemon's end"
trace_has "^# daemon pid $DPID killed by SIGKILL" "d: how it died"
trace_has "^# unmounted $MNT" "d: the unmount"
grep -q "went away while mounted: killed by SIGKILL" "$ERR" || fail "d: not reported on stderr"
echo "d. daemon killed: ENOTCONN above, the mount removed, exit 137"

# ---- e. SIGINT
start_fusedump int --mirror -- "$HELLO_LL" -f "$MNT"
[ "$(t cat "$MNT/hello")" = "Hello World!" ] || fail "e: cat"
kill -INT "$FD_PID"
wait_fusedump 30
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "e: fusedump exited $FD_RC after SIGINT"; }
expect_no_mount
trace_has '^# SIGINT: unmounting ' "e: the stop"
trace_has '^# daemon pid [0-9]+ exited 0' "e: the daemon's exit"
echo "e. SIGINT: unmounted, the daemon exited 0"

# ---- f. refused
for extra in "-g $WORK/none.lua" --devfd; do
	# shellcheck disable=SC2086 # two words on purpose
	"$FUSEDUMP" --mirror $extra -- "$HELLO_LL" -f "$MNT" >/dev/null 2>"$WORK/usage.err"
	rc=$?
	[ "$rc" -eq 2 ] && grep -q -- '--mirror only watches' "$WORK/usage.err" ||
		fail "f: --mirror $extra: exit $rc, $(cat "$WORK/usage.err")"
done
command -v gocryptfs >/dev/null || fail "gocryptfs is missing (scripts/deps.sh installs it)"
mkdir "$WORK/cipher"
echo pw >"$WORK/pw"
gocryptfs -q -init -extpass "cat $WORK/pw" "$WORK/cipher" >/dev/null 2>&1 || fail "f: gocryptfs -init"
"$FUSEDUMP" --mirror -o "$WORK/go.trace" -- gocryptfs -fg -extpass "cat $WORK/pw" \
	"$WORK/cipher" "$MNT" >/dev/null 2>"$WORK/go.err" &
FD_PID=$!
PIDS+=("$FD_PID")
ERR=$WORK/go.err
wait_fusedump 30
[ "$FD_RC" -ne 0 ] || fail "f: gocryptfs under --mirror: fusedump exited 0"
grep -q -- '--mirror: the daemon mounts through fusermount' "$WORK/go.err" ||
	{ cat "$WORK/go.err" >&2; fail "f: gocryptfs: no clear error"; }
expect_no_mount
echo "f. refused: --lua, --devfd (exit 2), gocryptfs through fusermount3 (exit $FD_RC)"

# ---- g. splice both ways
head -c $((2 << 20)) /dev/urandom >"$WORK/data"
start_fusedump splice --mirror -x --stats -- "$SPLICE_LL" -f -o file="$WORK/data" "$MNT"
t cmp "$WORK/data" "$MNT/data" || fail "g: read through the page cache"
t dd if="$MNT/data" of="$WORK/data.direct" bs=1M iflag=direct status=none || fail "g: O_DIRECT read"
cmp "$WORK/data" "$WORK/data.direct" || fail "g: O_DIRECT read gave other bytes"
t umount "$MNT" || fail "g: umount"
ended_ok g
trace_clean
grep -q 'not traced' "$TRACE" "$ERR" && fail "g: messages were lost"
nread=$(grep -cE '^#[0-9]+ READ = 0 \{data=<[0-9]+ bytes' "$TRACE")
[ "$nread" -gt 0 ] || fail "g: no READ reply in the trace"
big=$(grep -cE '^#[0-9]+ READ = 0 \{data=<1048576 bytes' "$TRACE")
[ "$big" -ge 2 ] || fail "g: $big 1 MiB READ replies in the trace, expected the O_DIRECT ones"
echo "g. splice both ways: $nread READ replies, $big of 1 MiB, every byte shown, none lost"
echo "PASS: $TEST_NAME"
