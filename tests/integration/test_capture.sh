#!/usr/bin/env bash
# Captures (fusedump -w) of live sessions, read back with fusedump -r:
#  a. round trip: hello_ll, and passthrough_ll writing and reading back a 3 MiB file with
#     dd bs=1M (1 MiB messages: records of 256 KiB at most, so fragments), each with
#     `-w CAP --print` and each of the option sets "", -t, -v, --json, -x: `-r CAP` with
#     the same options prints the live trace byte for byte (-x: every byte of every
#     message, so the fragments were put back together exactly);
#  b. -s 100: a 64 KiB WRITE and READ; the capture is much smaller than without -s, -r
#     still shows every header field of those messages as the live trace did, and flags
#     their data as cut ("[truncated ...: data: 65536 bytes, N captured]");
#  c. -C 100k -W 3: a long workload leaves exactly FILE0..FILE2, each at most 100 KiB and
#     readable, each starting mid-session with the "assumed" note and still decoding names;
#     together they are the end of the live trace, in order. Without -W: FILE, FILE1,
#     FILE2, ..., together the whole live trace;
#  d. fusedump -w killed with SIGKILL in the middle of a workload: the capture reads up to
#     its last complete record (exit 0, or 1 with an error about the last record only),
#     the watchdog removes the mount, the daemon ends;
#  e. pcapng: `editcap -F pcapng` of a capture reads the same as the pcap (-t -x);
#  f. bad files (text, empty, cut pcap header, cut capture, another link type, missing):
#     an error naming the file (and the record and its byte offset for the cut capture),
#     the good records first, exit 1, never a crash; also with the ASan build when there
#     is one not older than FUSEDUMP (build-asan/fusedump/fusedump, or ASAN_FUSEDUMP).
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${HELLO_LL:?}" "${PASSTHROUGH_LL:?}"
command -v editcap >/dev/null || fail "editcap is missing (scripts/deps.sh installs tshark)"
command -v python3 >/dev/null || fail "python3 is missing"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ASAN_FUSEDUMP=${ASAN_FUSEDUMP:-$ROOT/build-asan/fusedump/fusedump}
# the trace may wait in memory as long as it likes: no line may be dropped here
BUFFER=(-B 1048576)
SECONDS=0

# ms: milliseconds since the epoch.
ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# pcapinfo FILE: records, messages, fragments and the largest message of a capture
# (walking the pcap records and our pseudo-headers).
pcapinfo() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, recs, msgs, frags, events, largest = 24, 0, 0, 0, 0, 0
while off + 16 <= len(d):
    caplen = struct.unpack_from("<I", d, off + 8)[0]
    h = d[off + 16:off + 16 + 40]
    if len(h) < 40:
        break
    rtype, flags = h[7], struct.unpack_from("<I", h, 8)[0]
    msglen, fragoff = struct.unpack_from("<II", h, 16)
    recs += 1
    if flags & 0x08:
        frags += 1
    if fragoff == 0:
        if rtype == 2:
            events += 1
        else:
            msgs += 1
            largest = max(largest, msglen)
    off += 16 + caplen
print("%d bytes, %d records, %d messages, %d events, %d records with more fragments after them, largest message %d bytes"
      % (len(d), recs, msgs, events, frags, largest))
PY
}

# field INFO N: the Nth number of a pcapinfo line.
field() {
	echo "$1" | grep -oE '[0-9]+' | sed -n "$2p"
}

# live NAME DAEMON WORKLOAD FUSEDUMP-OPTIONS...: DAEMON (hello or passthrough) behind
# `fusedump -w $WORK/NAME.pcap FUSEDUMP-OPTIONS` (the live trace in $WORK/NAME.trace), the
# shell function WORKLOAD on the mount, unmount; fusedump must exit 0. Sets LIVE_MS.
live() {
	local name=$1 daemon=$2 wl=$3 cmd t0
	shift 3
	case $daemon in
	hello) cmd=("$HELLO_LL" -f "$MNT") ;;
	passthrough)
		rm -rf --one-file-system "$WORK/src"
		mkdir "$WORK/src"
		cmd=("$PASSTHROUGH_LL" -f -o "source=$WORK/src" "$MNT")
		;;
	esac
	t0=$(ms)
	start_fusedump "$name" -w "$WORK/$name.pcap" "$@" -- "${cmd[@]}"
	"$wl" || fail "$name: the workload failed"
	t umount "$MNT" || fail "$name: umount failed"
	wait_fusedump 60
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$name: fusedump exited $FD_RC after umount, expected 0"; }
	expect_no_mount
	LIVE_MS=$(($(ms) - t0))
	if grep -Eq '^# .*(dropped|missing here)|"event":"(dropped|lost)"' "$TRACE"; then
		fail "$name: the live trace dropped lines or the capture lost messages (-B too small?)"
	fi
}

wl_hello() {
	t ls -la "$MNT" >/dev/null && t cat "$MNT/hello" >/dev/null &&
		! t stat "$MNT/missing" >/dev/null 2>&1
}

# 3 MiB in 1 MiB WRITEs, and read back in 1 MiB READs (O_DIRECT: no readahead, no cache).
BIG=$WORK/big.src
head -c $((3 << 20)) /dev/urandom >"$BIG"
wl_big() {
	t mkdir "$MNT/d" && t sh -c 'echo fusewire >"$1/d/small"' sh "$MNT" &&
		t cat "$MNT/d/small" >/dev/null && t mv "$MNT/d/small" "$MNT/d/renamed" &&
		t ln -s renamed "$MNT/d/link" && t ls -la "$MNT/d" >/dev/null &&
		t dd if="$BIG" of="$MNT/d/big" bs=1M conv=fsync status=none &&
		t dd if="$MNT/d/big" of="$WORK/big.back" bs=1M iflag=direct status=none &&
		cmp -s "$BIG" "$WORK/big.back" && t rm -r "$MNT/d"
}

# ---- a. round trip: -r prints what --print printed live
for daemon in hello passthrough; do
	for opts in "" "-t" "-v" "--json" "-x"; do
		read -ra o <<<"$opts"
		name=rt-$daemon${opts// /}
		wl=wl_hello
		[ "$daemon" = passthrough ] && wl=wl_big
		live "$name" "$daemon" "$wl" --print "${BUFFER[@]}" "${o[@]}"
		t0=$(ms)
		"$FUSEDUMP" -r "$WORK/$name.pcap" "${o[@]}" >"$WORK/$name.read" 2>"$WORK/$name.read.err"
		rc=$?
		read_ms=$(($(ms) - t0))
		[ "$rc" -eq 0 ] || { cat "$WORK/$name.read.err" >&2; fail "$name: -r exited $rc"; }
		[ -s "$WORK/$name.read.err" ] && { cat "$WORK/$name.read.err" >&2; fail "$name: -r wrote to stderr"; }
		if ! cmp -s "$TRACE" "$WORK/$name.read"; then
			diff "$TRACE" "$WORK/$name.read" | head -n 20 | cut -c1-300 >&2
			fail "$name: fusedump -r $opts prints otherwise than the live trace (above: < live, > -r)"
		fi
		info=$(pcapinfo "$WORK/$name.pcap")
		if [ "$daemon" = passthrough ]; then
			# 3 WRITEs and 3 READ replies of 1 MiB and more: 4 records each at least
			[ "$(field "$info" 5)" -ge 18 ] || fail "$name: too few fragments for six 1 MiB messages: $info"
			[ "$(field "$info" 6)" -gt $((1 << 20)) ] || fail "$name: no message over 1 MiB: $info"
		fi
		echo "a. $name: capture $info; live trace $(stat -c %s "$TRACE") bytes, the same from -r;" \
			"session $LIVE_MS ms, -r $read_ms ms"
	done
done

# ---- b. -s 100: a 64 KiB WRITE and READ, cut
head -c 65536 /dev/urandom >"$WORK/64k.src"
wl_64k() {
	t dd if="$WORK/64k.src" of="$MNT/f" bs=64k conv=fsync status=none &&
		t dd if="$MNT/f" of="$WORK/64k.back" bs=64k iflag=direct status=none &&
		cmp -s "$WORK/64k.src" "$WORK/64k.back"
}
live snap-full passthrough wl_64k
live snap passthrough wl_64k -s 100 --print
full=$(stat -c %s "$WORK/snap-full.pcap")
snap=$(stat -c %s "$WORK/snap.pcap")
[ "$full" -gt $((2 * 65536)) ] || fail "b: the capture without -s has $full bytes, less than the data written and read"
[ $((snap * 4)) -lt "$full" ] || fail "b: with -s 100 the capture has $snap bytes, without $full: not much smaller"
"$FUSEDUMP" -r "$WORK/snap.pcap" >"$WORK/snap.read" 2>"$WORK/snap.read.err" ||
	{ cat "$WORK/snap.read.err" >&2; fail "b: -r of the -s 100 capture failed"; }
"$FUSEDUMP" -r "$WORK/snap-full.pcap" >"$WORK/snap-full.read" || fail "b: -r of the capture without -s failed"
grep -q 'truncated' "$WORK/snap-full.read" && fail "b: the capture without -s has cut messages"
# line RE FILE: the one line of FILE matching RE.
line() {
	local l
	l=$(grep -E -- "$1" "$2")
	[ "$(printf '%s\n' "$l" | grep -c .)" -eq 1 ] || fail "b: not one line matching /$1/ in $2: $l"
	printf '%s\n' "$l"
}
wre='^WRITE #[0-9]+ nodeid=[0-9]+ "/f" fh=0x[0-9a-f]+ offset=0 size=65536 '
lw=$(line "$wre" "$TRACE")
rw=$(line "$wre" "$WORK/snap.read")
[[ $lw == *' data=<65536 bytes '* ]] || fail "b: the live WRITE line does not show 65536 bytes of data: $lw"
[ "${lw%% data=<*}" = "${rw%% data=<*}" ] ||
	fail "b: the WRITE's fields differ between the live trace and -r: '${lw%% data=<*}' and '${rw%% data=<*}'"
[[ $rw =~ \[truncated\ at\ byte\ [0-9]+:\ data:\ 65536\ bytes,\ ([0-9]+)\ captured\]$ ]] ||
	fail "b: the WRITE is not flagged as cut by -r: $rw"
[ "${BASH_REMATCH[1]}" -le 100 ] || fail "b: -s 100 kept ${BASH_REMATCH[1]} bytes of WRITE data"
rre='^READ #[0-9]+ nodeid=[0-9]+ "/f" fh=0x[0-9a-f]+ offset=0 size=65536 '
lr=$(line "$rre" "$TRACE")
[ "$lr" = "$(line "$rre" "$WORK/snap.read")" ] || fail "b: the READ request differs between the live trace and -r"
u=$(echo "$lr" | sed -E 's/^READ #([0-9]+) .*/\1/')
lp=$(line "^#$u READ = 0 " "$TRACE")
rp=$(line "^#$u READ = 0 " "$WORK/snap.read")
[[ $lp == "#$u READ = 0 {data=<65536 bytes "* ]] || fail "b: the live READ reply is not 65536 bytes: $lp"
[[ $rp =~ ^#$u\ READ\ =\ 0\ \{data=\<([0-9]+)\ bytes.*\[truncated\ at\ byte\ [0-9]+:\ data:\ 65536\ bytes,\ ([0-9]+)\ captured\]$ ]] ||
	fail "b: the READ reply is not flagged as cut by -r: $rp"
if [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] || [ "${BASH_REMATCH[2]}" -gt 100 ]; then
	fail "b: the READ reply kept ${BASH_REMATCH[1]} (says ${BASH_REMATCH[2]}) bytes with -s 100"
fi
# everything but the data is as live: the messages without data are printed alike
grep -v -E '^(WRITE|#[0-9]+ READ) ' "$TRACE" >"$WORK/snap.live.rest"
grep -v -E '^(WRITE|#[0-9]+ READ) ' "$WORK/snap.read" >"$WORK/snap.read.rest"
diff -u "$WORK/snap.live.rest" "$WORK/snap.read.rest" >&2 ||
	fail "b: with -s 100, -r prints other messages than the WRITEs and READ replies otherwise than live"
echo "b. -s 100: capture $snap bytes, $full without -s; the WRITE and READ reply keep ${BASH_REMATCH[2]} bytes of 65536, their fields as live"

# ---- c. rotation
# 400 files created, written and removed: about 600 KB of capture
wl_files() {
	t mkdir "$MNT/d" || return 1
	timeout -k 5 60 bash -c 'for i in $(seq 400); do echo "file $i" >"$1/d/f$i" || exit 1; done' sh "$MNT" &&
		t rm -r "$MNT/d"
}

# check_rotation MODE LIVE FILE...: the -r --json outputs of the files in index order
# against the live --json trace. MODE all: together they are the live trace; wrap: sorted
# by time they are its end (the first files were overwritten). Every file without INIT
# starts with the "assumed" note and decodes the name of every LOOKUP/CREATE/UNLINK, and
# every file but the last (the session's end) has such requests for the workload's files; the only
# messages not decoded cleanly are replies to requests before the file's start.
check_rotation() {
	python3 - "$@" <<'PY'
import json, re, sys
mode, live_path, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
bad = []
# a reply whose request is in an earlier file has no op in its file
def key(o):
    return (o["ts"], o["dir"], o.get("unique"), o.get("op") if o["dir"] != "reply" else None,
            o.get("event"))
live = [json.loads(l) for l in open(live_path)]
if any(o.get("status") in ("invalid", "truncated") for o in live):
    bad.append("the live trace has messages not decoded cleanly")
files = []
nameless = []  # (first time stamp, file) of the files without the workload's names
latest = max(json.loads(open(p).readline() or "{\"ts\": 0}")["ts"] for p in paths)
for p in paths:
    objs = [json.loads(l) for l in open(p)]
    if not objs:
        bad.append("%s: empty" % p)
        continue
    has_init = any(o.get("op") == "INIT" and o["dir"] == "request" for o in objs)
    assumed = [o for o in objs if o.get("event") == "assumed"]
    if has_init:
        if assumed:
            bad.append("%s: has INIT and the assumed note" % p)
    elif not (objs[0].get("event") == "assumed" and len(assumed) == 1
              and "starts after INIT" in objs[0]["msg"]):
        bad.append("%s: does not start with the assumed note" % p)
    msgs = [o for o in objs if o.get("event") != "assumed"]
    named = [o for o in msgs if o["dir"] == "request" and o["op"] in ("LOOKUP", "CREATE", "UNLINK")]
    names = [o for o in named if o.get("args", {}).get("name")]
    if len(names) != len(named):
        bad.append("%s: %d of %d LOOKUP, CREATE or UNLINK requests without their name" %
                   (p, len(named) - len(names), len(named)))
    names = [o for o in names if re.fullmatch(r"f[0-9]+", o["args"]["name"])]
    if not names:
        nameless.append((objs[0]["ts"], p))
    seen = set()
    for o in msgs:
        if o["dir"] == "request":
            seen.add(o["unique"])
        if o.get("status") in ("invalid", "truncated"):
            orphan = (o["dir"] == "reply" and o["unique"] not in seen and not has_init and
                      o.get("reason") == "reply to unique %d, which is not in flight" % o["unique"])
            if not orphan:
                bad.append("%s: not decoded cleanly: %s" % (p, json.dumps(o)[:300]))
    files.append((p, [key(o) for o in msgs], len(names)))
if mode == "wrap":
    order = sorted(range(len(files)), key=lambda i: files[i][1][0][0])
    if order != [(order[0] + i) % len(files) for i in range(len(files))]:
        bad.append("the files are not in rotation order by time: %s" % order)
    files = [files[i] for i in order]
got = [k for f in files for k in f[1]]
want = [key(o) for o in live]
if mode == "wrap":
    if len(got) >= len(want):
        bad.append("with -W the files hold the whole session (%d of %d lines): nothing was overwritten"
                   % (len(got), len(want)))
    want = want[-len(got):]
if got != want:
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    bad.append("the files together are not the %s of the live trace: %d lines against %d, first difference at %d: %s against %s"
               % ("end" if mode == "wrap" else "whole", len(got), len(want), i,
                  got[i] if i < len(got) else None, want[i] if i < len(want) else None))
# the last file written may hold only the end of the session (RMDIR, RELEASE, FORGET, ...)
for ts, p in nameless:
    if ts != latest:
        bad.append("%s: no LOOKUP, CREATE or UNLINK with its name decoded" % p)
for b in bad:
    print("c:", b, file=sys.stderr)
print("; ".join("%s: %d lines, %d names" % (p.rsplit("/", 1)[1], len(k), n) for p, k, n in files))
sys.exit(1 if bad else 0)
PY
}

# read_files NAME FILE...: -r --json of each FILE (exit 0, nothing on stderr) into FILE.json,
# each at most 100 KiB.
read_files() {
	local name=$1 f
	shift
	for f in "$@"; do
		[ "$(stat -c %s "$f")" -le 102400 ] || fail "c: $f has $(stat -c %s "$f") bytes, more than -C 100k"
		"$FUSEDUMP" -r "$f" --json >"$f.json" 2>"$f.err" || { cat "$f.err" >&2; fail "c: $name: -r $f failed"; }
		[ -s "$f.err" ] && { cat "$f.err" >&2; fail "c: $name: -r $f wrote to stderr"; }
	done
}

live rotw passthrough wl_files -C 100k -W 3 --print --json "${BUFFER[@]}"
got=$(cd "$WORK" && echo rotw.pcap*)
[ "$got" = "rotw.pcap0 rotw.pcap1 rotw.pcap2" ] || fail "c: -C 100k -W 3 left the files: $got"
read_files rotw "$WORK"/rotw.pcap{0,1,2}
summary=$(check_rotation wrap "$TRACE" "$WORK"/rotw.pcap{0,1,2}.json) || fail "c: -W 3 (above)"
echo "c. -C 100k -W 3: $(wc -l <"$TRACE") live lines; $summary"

live rot passthrough wl_files -C 100k --print --json "${BUFFER[@]}"
files=("$WORK/rot.pcap")
while [ -f "$WORK/rot.pcap${#files[@]}" ]; do
	files+=("$WORK/rot.pcap${#files[@]}")
done
n=${#files[@]}
got=$(cd "$WORK" && echo rot.pcap*)
[ "$got" = "$(cd "$WORK" && echo "${files[@]##*/}")" ] || fail "c: -C 100k made the files $got: not FILE, FILE1, FILE2, ..."
[ "$n" -ge 3 ] || fail "c: -C 100k made $n files of the session, expected 3 or more"
read_files rot "${files[@]}"
jsons=()
for f in "${files[@]}"; do jsons+=("$f.json"); done
summary=$(check_rotation all "$TRACE" "${jsons[@]}") || fail "c: -C without -W (above)"
echo "c. -C 100k: $n files, $(wc -l <"$TRACE") live lines; $summary"

# ---- d. fusedump -w killed with SIGKILL while a workload writes
rm -rf --one-file-system "$WORK/src"
mkdir "$WORK/src"
start_fusedump kill -w "$WORK/kill.pcap" --print -- "$PASSTHROUGH_LL" -f -o "source=$WORK/src" "$MNT"
daemon=$(sed -nE '1s/^# fusedump .*: mounted .*; daemon pid ([0-9]+): .*/\1/p' "$TRACE")
[ -n "$daemon" ] || fail "d: no daemon pid in the trace"
t mkdir "$MNT/w" || fail "d: mkdir failed"
# until the mount is gone (then $MNT/w is missing): writes and reads, bounded
timeout -k 5 30 bash -c 'i=0; while echo "line $i" >"$1/w/k$((i % 50))" && cat "$1/w/k$((i % 50))" >/dev/null; do i=$((i + 1)); done' sh "$MNT" 2>/dev/null &
wl=$!
PIDS+=("$wl")
sleep 1.5
kill -0 "$wl" 2>/dev/null || fail "d: the workload ended before fusedump was killed"
kill -KILL "$FD_PID"
wait "$FD_PID" 2>/dev/null
forget "$FD_PID"
until_ok 10 eval '! is_mounted "$MNT"' || fail "d: the mount is left 10 s after fusedump was killed"
until_ok 10 eval '! running "$daemon"' || fail "d: the daemon still runs 10 s after fusedump was killed"
until_ok 35 eval '! kill -0 "$wl" 2>/dev/null' || fail "d: the workload still runs"
wait "$wl"
wl_rc=$?
forget "$wl"
[ "$wl_rc" -lt 124 ] || fail "d: the workload hung (timeout, status $wl_rc)"
"$FUSEDUMP" -r "$WORK/kill.pcap" >"$WORK/kill.read" 2>"$WORK/kill.read.err"
rc=$?
nlines=$(grep -c . "$WORK/kill.read")
[ "$nlines" -gt 10 ] || fail "d: -r of the killed capture printed $nlines lines"
grep -q '^INIT #' "$WORK/kill.read" || fail "d: -r of the killed capture has no INIT"
# the offset of the last record that starts in the file, and where the complete ones end
read -r last complete < <(python3 - "$WORK/kill.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, n, last, complete = 24, 0, 24, 24
while off + 16 <= len(d):
    n += 1
    last = off
    off += 16 + struct.unpack_from("<I", d, off + 8)[0]
    if off <= len(d):
        complete = off
print("%d:%d %d" % (n, last, complete))
PY
)
size=$(stat -c %s "$WORK/kill.pcap")
case $rc in
0)
	[ -s "$WORK/kill.read.err" ] && fail "d: -r exited 0 but wrote: $(cat "$WORK/kill.read.err")"
	[ "$complete" -eq "$size" ] || fail "d: -r exited 0 but the file ends in the middle of a record"
	what="exit 0"
	;;
1)
	# "record N at byte M": the last record, the one the kill cut
	msg=$(cat "$WORK/kill.read.err")
	[[ $msg == "fusedump: $WORK/kill.pcap: record ${last%%:*} at byte ${last#*:} "* ||
		$msg == "fusedump: $WORK/kill.pcap: the file ends in the middle of the message of record "* ]] ||
		fail "d: -r exited 1 with an error that is not about the last record (${last%%:*} at byte ${last#*:}): $msg"
	what="exit 1: ${msg#fusedump: }"
	;;
*) fail "d: -r of the killed capture exited $rc: $(cat "$WORK/kill.read.err")" ;;
esac
echo "d. SIGKILL after 1.5 s: capture $size bytes, ${last%%:*} records started; -r printed $nlines lines," \
	"$what; no mount left, the daemon ended"

# ---- e. pcapng
ng=$WORK/rt-passthrough.pcapng
editcap -F pcapng "$WORK/rt-passthrough.pcap" "$ng" || fail "e: editcap -F pcapng failed"
[ "$(head -c 4 "$ng" | od -An -tx1 | tr -d ' ')" = 0a0d0d0a ] || fail "e: editcap did not write pcapng"
for opts in "" "-t -x"; do
	read -ra o <<<"$opts"
	"$FUSEDUMP" -r "$WORK/rt-passthrough.pcap" "${o[@]}" >"$WORK/e.pcap.out" || fail "e: -r of the pcap failed"
	"$FUSEDUMP" -r "$ng" "${o[@]}" >"$WORK/e.ng.out" 2>"$WORK/e.ng.err" ||
		{ cat "$WORK/e.ng.err" >&2; fail "e: -r $opts of the pcapng failed"; }
	cmp -s "$WORK/e.pcap.out" "$WORK/e.ng.out" || fail "e: -r $opts prints the pcapng otherwise than the pcap"
done
echo "e. pcapng: $(stat -c %s "$ng") bytes (pcap $(stat -c %s "$WORK/rt-passthrough.pcap")), -r and -r -t -x print it as the pcap"

# ---- f. bad files
B=$WORK/bad
mkdir "$B"
echo "not a capture at all" >"$B/text.pcap"
: >"$B/empty.pcap"
head -c 10 "$WORK/rt-hello.pcap" >"$B/header.pcap"
editcap -T ether "$WORK/rt-hello.pcap" "$B/ether.pcap" || fail "f: editcap -T ether failed"
# the hello capture cut 20 bytes into its 15th record
read -r cut_off <<<"$(python3 - "$WORK/rt-hello.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 24
for _ in range(14):
    off += 16 + struct.unpack_from("<I", d, off + 8)[0]
print(off)
PY
)"
head -c $((cut_off + 20)) "$WORK/rt-hello.pcap" >"$B/cut.pcap"

# bad PROGRAM LABEL FILE STDERR-PATTERN [GOOD]: -r FILE exits 1 with one stderr line
# matching the pattern (a glob), no sanitizer report, and prints what PROGRAM prints for
# the capture GOOD (nothing without GOOD).
bad() {
	local prog=$1 label=$2 file=$3 pat=$4 good=${5:-} rc
	: >"$WORK/good.out"
	if [ -n "$good" ]; then
		"$prog" -r "$good" >"$WORK/good.out" || fail "f: $label: -r $good failed"
	fi
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
		"$prog" -r "$file" >"$WORK/bad.out" 2>"$WORK/bad.err"
	rc=$?
	[ "$rc" -eq 1 ] || { cat "$WORK/bad.err" >&2; fail "f: $label: $file: exit $rc, expected 1"; }
	[ "$(grep -c . "$WORK/bad.err")" -eq 1 ] || { cat "$WORK/bad.err" >&2; fail "f: $label: $file: not one error line"; }
	# shellcheck disable=SC2053 # a glob on purpose
	[[ $(cat "$WORK/bad.err") == $pat ]] || fail "f: $label: $file: the error '$(cat "$WORK/bad.err")' does not match '$pat'"
	cmp -s "$WORK/good.out" "$WORK/bad.out" ||
		fail "f: $label: $file: stdout is not what -r prints for ${good:-nothing}"
}
# the first 14 records of the cut capture, whole: what -r must print before the error
head -c "$cut_off" "$WORK/rt-hello.pcap" >"$B/first14.pcap"
progs=("$FUSEDUMP")
labels=(fusedump)
# an ASan build older than the program under test may not be of the same source: skipped
if [ -x "$ASAN_FUSEDUMP" ] && [ "$ASAN_FUSEDUMP" != "$FUSEDUMP" ]; then
	if [ "$ASAN_FUSEDUMP" -ot "$FUSEDUMP" ]; then
		echo "f. not run with $ASAN_FUSEDUMP: older than $FUSEDUMP"
	else
		progs+=("$ASAN_FUSEDUMP")
		labels+=(asan)
	fi
fi
ngood=$("$FUSEDUMP" -r "$B/first14.pcap" | grep -c .)
[ "$ngood" -ge 10 ] || fail "f: 14 records of the hello capture print $ngood lines"
for i in "${!progs[@]}"; do
	p=${progs[$i]} l=${labels[$i]}
	bad "$p" "$l" "$B/text.pcap" "fusedump: $B/text.pcap: *"
	bad "$p" "$l" "$B/empty.pcap" "fusedump: $B/empty.pcap: *"
	bad "$p" "$l" "$B/header.pcap" "fusedump: $B/header.pcap: *"
	bad "$p" "$l" "$B/missing.pcap" "fusedump: $B/missing.pcap: No such file or directory"
	bad "$p" "$l" "$B/ether.pcap" "fusedump: $B/ether.pcap: not a fusewire capture: link type 1 *"
	bad "$p" "$l" "$B/cut.pcap" "fusedump: $B/cut.pcap: record 15 at byte $cut_off is damaged *" "$B/first14.pcap"
done
echo "f. bad files: text, empty, cut header, missing, link type 1, cut in record 15 ($ngood good lines first):" \
	"exit 1 with the file named (${labels[*]})"

echo "PASS: $TEST_NAME ($SECONDS s)"
