#!/usr/bin/env bash
# fusereplay --serve: mount a capture and answer the kernel with the recorded replies.
#  a. a passthrough_ll session captured with fusedump -w over a small tree (files of
#     0, 13 and 5000 bytes and of 300 KiB, a subdirectory, a symlink): `ls -lR`, `cat` of
#     every file, `readlink` of the symlink; corrupt.lua flips the first byte of the
#     small file on its way to the kernel (the capture holds the reply twice, as the
#     daemon sent it and as the kernel got it). Served with --unmatched EROFS on the same
#     mountpoint, the same commands print byte for byte the same (sizes and times come
#     from the recorded attrs, data from the recorded READs as the kernel got them);
#  b. requests the capture never saw reach the daemon and get the chosen errno: `stat` of
#     a name never looked up and `mkdir` fail with "Read-only file system"; after umount
#     fusereplay exits 0 and lists both LOOKUPs as unmatched, by name, and nothing else
#     (every request of a. was answered from the capture);
#  c. a fresh mount of the same capture, with requests the live session never made: a
#     300 KiB file read with O_DIRECT in 100000-byte READs (put together from the two
#     recorded READs, the last one cut at the recorded end of the file), `cat` of a file in
#     the subdirectory with no `ls` first (LOOKUPs the capture never saw: answered with the
#     entries of its READDIRPLUS replies), fstat of an open file after the attr timeout
#     (a GETATTR never recorded: answered with the attrs of a READDIRPLUS entry): the same
#     bytes, size and mtime as the source, and nothing unmatched. A name that the live
#     session looked up before (ENOENT) and after it was created: the same two answers in
#     that order, and the second one again to a third LOOKUP;
#  d. SIGTERM: fusereplay unmounts, lists what was unmatched (with the default errno,
#     ENOSYS, which the request got) and exits 0;
#  e. a capture cut in the middle of a record: exit 2, a message naming the file and the
#     record, nothing mounted; a capture that starts after INIT (no INIT reply): exit 2
#     with a message saying so.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}"
FUSEREPLAY=${FUSEREPLAY:-$(dirname "$FUSEDUMP")/../fusereplay/fusereplay}
[ -x "$FUSEREPLAY" ] || fail "fusereplay is not built: $FUSEREPLAY"
command -v python3 >/dev/null || fail "python3 is missing"
SECONDS=0

SRC=$WORK/src
mkdir -p "$SRC/sub"
: >"$SRC/empty"
echo "hello, world" >"$SRC/small.txt"
head -c 5000 /dev/urandom >"$SRC/sub/mid.bin"
head -c $((300 << 10)) /dev/urandom >"$SRC/big.bin"
ln -s sub/mid.bin "$SRC/link"
# fixed times, so that ls shows what the capture recorded and not "a moment ago"
touch -h -d '2024-01-02 03:04:05' "$SRC/empty" "$SRC/small.txt" "$SRC/sub/mid.bin" \
	"$SRC/big.bin" "$SRC/link" "$SRC/sub"
FILES=(empty small.txt sub/mid.bin big.bin)

# workload OUT: ls -lR, cat of every file, readlink, each into OUT.*
workload() {
	(cd "$MNT" && t ls -lR) >"$1.ls" || fail "$1: ls -lR failed"
	local f
	for f in "${FILES[@]}"; do
		t cat "$MNT/$f" || fail "$1: cat $f failed"
	done >"$1.cat"
	t readlink "$MNT/link" >"$1.readlink" || fail "$1: readlink failed"
}

# ---- capture
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
start_fusedump live -w "$WORK/cap.pcap" -g "$ROOT/lua/scripts/corrupt.lua path=^/small.txt$ at=0" \
	-- "$PASSTHROUGH_LL" -f -o "source=$SRC" "$MNT"
workload "$WORK/orig"
t stat "$MNT/late" >/dev/null 2>&1 && fail "late exists before it was made"
touch "$SRC/late"
t stat "$MNT/late" >/dev/null || fail "stat of late after it was made failed"
t umount "$MNT" || fail "umount of the live session failed"
wait_fusedump 30
[ "$FD_RC" -eq 0 ] || fail "fusedump exited $FD_RC"
expect_no_mount
# the session really did what is compared below (with the byte corrupt.lua flipped)
{ cat "$SRC/empty"; printf '\227ello, world\n'; cat "$SRC/sub/mid.bin" "$SRC/big.bin"; } |
	cmp -s - "$WORK/orig.cat" || fail "the live session read other data than expected"
grep -q 'big.bin' "$WORK/orig.ls" || fail "the live ls -lR misses big.bin: $(cat "$WORK/orig.ls")"
[ "$(cat "$WORK/orig.readlink")" = sub/mid.bin ] || fail "live readlink: $(cat "$WORK/orig.readlink")"

# start_serve NAME CAPTURE ARGS...: fusereplay --serve in the background (stderr in
# $WORK/NAME.err), until $MNT is mounted.
start_serve() {
	local name=$1 cap=$2
	shift 2
	ERR=$WORK/$name.err
	"$FUSEREPLAY" --serve "$@" "$cap" "$MNT" 2>"$ERR" &
	FD_PID=$!
	PIDS+=("$FD_PID")
	wait_mounted "$name: fusereplay"
}

# refused WHAT CAPTURE MESSAGE: --serve of CAPTURE exits 2, mounts nothing, and says
# MESSAGE (a grep pattern) on stderr.
refused() {
	local what=$1 cap=$2 rc
	t "$FUSEREPLAY" --serve "$cap" "$MNT" 2>"$WORK/refused.err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2: $(cat "$WORK/refused.err")"
	grep -q "$3" "$WORK/refused.err" || fail "$what: $(cat "$WORK/refused.err")"
	expect_no_mount
}

# ---- a. the same output from the capture alone
cp "$SRC/big.bin" "$WORK/big.copy"
cp "$SRC/sub/mid.bin" "$WORK/mid.copy"
rm -rf --one-file-system "$SRC" # nothing but the capture is left to answer from
start_serve serve "$WORK/cap.pcap" --unmatched EROFS
# (said right after the mount: it may come a moment after /proc/mounts shows it)
until_ok 5 grep -q "^fusereplay: serving $WORK/cap.pcap ([0-9]* recorded replies) on $MNT\$" "$ERR" ||
	fail "no start line: $(cat "$ERR")"
src=$(awk -v m="$MNT" '$2 == m { print $1 }' /proc/mounts)
[ "$src" = fusereplay ] || fail "the mount's source is $src, expected fusereplay"
workload "$WORK/serve"
for out in ls cat readlink; do
	if ! cmp -s "$WORK/orig.$out" "$WORK/serve.$out"; then
		diff <(cat -A "$WORK/orig.$out" | cut -c1-200) <(cat -A "$WORK/serve.$out" | cut -c1-200) | head -20 >&2
		fail "served $out differs from the live session's"
	fi
done

# ---- b. what the capture never saw: the chosen errno
out=$(t stat "$MNT/not-recorded" 2>&1) && fail "stat of a name never recorded succeeded: $out"
grep -q 'Read-only file system' <<<"$out" || fail "stat of a name never recorded: $out, expected EROFS"
out=$(t mkdir "$MNT/new" 2>&1) && fail "mkdir succeeded: $out"
grep -q 'Read-only file system' <<<"$out" || fail "mkdir: $out, expected EROFS"
t umount "$MNT" || fail "umount of the served capture failed"
wait_fusedump 10
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusereplay exited $FD_RC after umount, expected 0"; }
expect_no_mount
grep -q '^fusereplay: 2 unmatched requests (answered EROFS):$' "$ERR" ||
	{ cat "$ERR" >&2; fail "the unmatched list is not exactly the 2 requests made to miss"; }
for name in not-recorded new; do
	grep -q "^  1x LOOKUP \"/\" name=\"$name\"\$" "$ERR" ||
		{ cat "$ERR" >&2; fail "the unmatched LOOKUP of $name is not listed"; }
done

# ---- c. requests the live session never made, on a fresh mount
start_serve fresh "$WORK/cap.pcap" -v
t stat "$MNT/late" >/dev/null 2>&1 && fail "late: the first recorded answer, ENOENT, was not served first"
t stat "$MNT/late" >/dev/null || fail "late: the second recorded answer was not served second"
# O_DIRECT: straight to the daemon, in READs of 100000 bytes
t dd if="$MNT/big.bin" of="$WORK/big.direct" bs=100000 iflag=direct status=none ||
	fail "dd iflag=direct of big.bin failed"
cmp "$WORK/big.copy" "$WORK/big.direct" || fail "big.bin read in 100000-byte READs differs"
t cat "$MNT/sub/mid.bin" >"$WORK/mid.fresh" || fail "cat sub/mid.bin on a fresh mount failed"
cmp "$WORK/mid.copy" "$WORK/mid.fresh" || fail "sub/mid.bin differs on a fresh mount"
# passthrough_ll's attrs are valid for 1 s: the fstat after 1.2 s asks again
out=$(t python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
time.sleep(1.2)
st = os.fstat(fd)
print(st.st_size, int(st.st_mtime))' "$MNT/small.txt") || fail "fstat of small.txt failed"
[ "$out" = "13 $(date -d '2024-01-02 03:04:05' +%s)" ] || fail "fstat of small.txt: $out"
# its entry has expired too: looked up again, and answered like the last time
t stat "$MNT/late" >/dev/null || fail "late: the last recorded answer was not served again"
t umount "$MNT" || fail "umount of the fresh mount failed"
wait_fusedump 10
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusereplay exited $FD_RC after umount, expected 0"; }
expect_no_mount
grep -q '^fusereplay: [0-9]* requests, none unmatched$' "$ERR" ||
	{ grep -A20 'unmatched request' "$ERR" >&2; fail "unmatched requests on the fresh mount"; }
grep -Eq '^  put together from 2 recorded READs: #[0-9]+ READ = 0 \{data=<100000 bytes' "$ERR" ||
	fail "no READ put together from two recorded ones (-v)"
grep -Eq '^  put together from 1 recorded READ: #[0-9]+ READ = 0 \{data=<7200 bytes' "$ERR" ||
	fail "no READ cut at the end of the file (-v)"
grep -A1 '^LOOKUP .* "/sub" name="mid.bin"$' "$ERR" | grep -q '^  entry from a recorded READDIRPLUS: ' ||
	fail "the LOOKUP of sub/mid.bin was not answered from the READDIRPLUS (-v)"
grep -A1 '^GETATTR .* "/small.txt" ' "$ERR" | grep -q '^  attrs from a recorded READDIRPLUS: ' ||
	fail "the GETATTR of small.txt was not answered from the READDIRPLUS (-v)"
late=$(grep -A1 '^LOOKUP .* name="late"$' "$ERR" | grep -o '^  recorded [0-9/]*' | tr -s ' \n' ' ')
[ "$late" = " recorded 1/2 recorded 2/2 recorded 2/2 " ] ||
	fail "the LOOKUPs of late were answered: $late (-v), expected 1/2, 2/2, 2/2"

# ---- d. SIGTERM
start_serve term "$WORK/cap.pcap"
out=$(t stat "$MNT/nothing" 2>&1) && fail "stat of a name never recorded succeeded: $out"
grep -q 'Function not implemented' <<<"$out" || fail "stat of a name never recorded: $out, expected ENOSYS"
kill -TERM "$FD_PID"
wait_fusedump 10
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusereplay exited $FD_RC after SIGTERM, expected 0"; }
expect_no_mount
# (stat(1) asks twice: when statx fails with ENOSYS, it tries fstatat)
n=$(grep -c '^  [0-9]*x ' "$ERR")
grep -q "^fusereplay: [12] unmatched requests\\? (answered ENOSYS):\$" "$ERR" && [ "$n" -eq 1 ] &&
	grep -q '^  [12]x LOOKUP "/" name="nothing"$' "$ERR" ||
	{ cat "$ERR" >&2; fail "after SIGTERM: no list of the LOOKUP of nothing alone"; }

# ---- e. captures that cannot be served
# cut in the middle of the file, and never right at the end of a record (the pcap record
# headers say where they are)
cut=$(python3 - "$WORK/cap.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, mid = 24, len(d) // 2
while off + 16 <= len(d) and off + 16 + struct.unpack_from("<I", d, off + 8)[0] <= mid:
    off += 16 + struct.unpack_from("<I", d, off + 8)[0]
print(mid + 20 if off == mid else mid)
PY
) || fail "cannot walk the capture's records"
head -c "$cut" "$WORK/cap.pcap" >"$WORK/cut.pcap"
refused "a cut capture (the message must name the file and record)" "$WORK/cut.pcap" \
	"^fusereplay: $WORK/cut.pcap: .*record [0-9]* at byte [0-9]*"

# the second half of a rotated capture has no INIT: fusedump -C writes one like that
mkdir -p "$WORK/rsrc/d"
touch "$WORK/rsrc/d/"{a,b,c,d,e,f,g,h}
start_fusedump rot -w "$WORK/rot.pcap" -C 20k -- "$PASSTHROUGH_LL" -f -o "source=$WORK/rsrc" "$MNT"
for i in $(seq 20); do
	t ls -lR "$MNT" >/dev/null || fail "ls on the rotated capture's session failed"
done
t umount "$MNT" || fail "umount of the rotated capture's session failed"
wait_fusedump 30
[ -s "$WORK/rot.pcap1" ] || fail "fusedump -C 20k wrote no second file"
refused "a capture without INIT" "$WORK/rot.pcap1" \
	"^fusereplay: $WORK/rot.pcap1: no successful INIT reply"

echo "$TEST_NAME: ok (${SECONDS}s)"
