#!/usr/bin/env bash
# fusedump -g (Lua scripts in the proxy) on real mounts of libfuse3's passthrough_ll: the
# programs above the mount see exactly the fault a script injects, and nothing else.
#  1. the ready scripts: errno.lua (EIO on one file only), enospc.lua (ENOSPC past 64 KiB),
#     delay.lua (one LOOKUP held 1.5 s while another goes on), shortread.lua, corrupt.lua
#     (exactly the chosen bytes inverted), nth.lua (the 3rd WRITE fails), readonly.lua
#     (EROFS for every change, reads go on), nosync.lua (fsync succeeds, never reaches
#     the daemon);
#  2. an answered request never reaches the daemon (passthrough_ll -d logs every unique it
#     gets: the injected ones are missing, their neighbours are not);
#  3. hang.lua: a dropped OPEN stays in flight; the program blocked on it ends on SIGINT,
#     the kernel's INTERRUPT answered -EINTR by fusedump;
#  4. a script that raises an error, one that loops, one that eats memory (--lua-mem 32):
#     reported with file, line and traceback, the filesystem keeps serving; with
#     --lua-fail-closed the erroring request fails with EIO;
#  5. -Y live and with -r, and a filter that fails on some messages;
#  6. -w with -o: reading the capture back (-r) prints the live trace, [injected] and
#     [modified] lines included;
#  7. fuse.notify from a timer;
#  8. --lua-seed: the same seed fails the same random LOOKUPs, another seed others.
# After every run: no sanitizer report in fusedump's stderr (for the ASan build).
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}"

SRC=$WORK/src
SECONDS=0
DFLAG=-f

# mount_pt NAME FUSEDUMP-ARGS...: passthrough_ll over $SRC on $MNT behind fusedump.
# DFLAG=-d before the call: the daemon logs every request it gets to stderr ($ERR).
mount_pt() {
	local name=$1
	shift
	start_fusedump "$name" "$@" -- "$PASSTHROUGH_LL" "$DFLAG" -o source="$SRC" "$MNT"
}

# unmount_pt: unmount, fusedump ends with 0, its stderr has no sanitizer report.
unmount_pt() {
	t umount "$MNT" || fail "$TRACE: umount failed"
	wait_fusedump 30
	no_sanitizer_report "$ERR"
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$TRACE: fusedump exited $FD_RC after umount"; }
	expect_no_mount
}

no_sanitizer_report() {
	if grep -Eq 'Sanitizer|runtime error:' "$1"; then
		grep -E -A5 'Sanitizer|runtime error:' "$1" | head -30 >&2
		fail "$1: a sanitizer report"
	fi
}

# count REGEX: how many trace lines match the extended REGEX.
count() {
	grep -Ec -- "$1" "$TRACE"
}

# daemon_got UNIQUE: the daemon's -d log has the request.
daemon_got() {
	grep -q "^unique: $1, opcode: " "$ERR"
}

# expect_err WHAT TEXT CMD...: CMD fails and says TEXT on stderr.
expect_err() {
	local what=$1 text=$2 out
	shift 2
	if out=$(t "$@" 2>&1); then
		fail "$what: succeeded, expected '$text'"
	fi
	[[ $out == *"$text"* ]] || fail "$what: expected '$text', got: $out"
}

# ended PID: the process has ended (a zombie has).
ended() {
	! running "$1"
}

# ms_since START: milliseconds since START (an $EPOCHREALTIME).
ms_since() {
	local now=$EPOCHREALTIME
	echo $(((${now//[.,]/} - ${1//[.,]/}) / 1000))
}

mkdir -p "$SRC/d" "$SRC/slow" "$SRC/fast" "$SRC/ro" "$SRC/r"
echo "bad data" >"$SRC/d/bad"
echo "good data" >"$SRC/d/good"
touch "$SRC/slow/x" "$SRC/fast/y"
head -c 1000 /dev/urandom >"$SRC/sr"
head -c 8192 /dev/urandom >"$SRC/cor"
echo "keep me" >"$SRC/ro/keep"
for f in boom spin hog hog2 ok; do echo "$f" >"$SRC/$f"; done
for i in $(seq 1 2 39); do touch "$SRC/r/n$i"; done

# ---- 1 and 2: errno.lua on one file, nosync.lua; the daemon's -d log shows what it got
DFLAG=-d mount_pt errno -g "errno.lua path=^/d/bad$" -g nosync.lua
expect_err "errno.lua: cat of the chosen file" "Input/output error" cat "$MNT/d/bad"
[ "$(t cat "$MNT/d/good")" = "good data" ] || fail "errno.lua: the other file in the dir did not read"
t dd if=/dev/zero of="$MNT/d/synced" bs=4k count=4 conv=fsync status=none ||
	fail "nosync.lua: dd conv=fsync failed"
unmount_pt
trace_has '^# lua: errno\.lua path=\^/d/bad\$, nosync\.lua; seed [0-9]+' "the scripts and seed"
trace_has '^#[0-9]+ LOOKUP = -5 EIO .*\[injected\]$' "errno.lua's injected EIO"
trace_has '^#[0-9]+ FSYNC = 0 .*\[injected\]$' "nosync.lua's injected FSYNC reply"
[ "$(stat -c %s "$SRC/d/synced")" -eq 16384 ] || fail "nosync.lua: the file was not written"
grep -q '^unique: [0-9]*, opcode: INIT' "$ERR" || fail "passthrough_ll -d logged no requests"
mapfile -t reqs < <(sed -nE 's/^[A-Z_0-9]+ #([0-9]+) .*/\1/p' "$TRACE")
for what in 'LOOKUP = -5 EIO' 'FSYNC = 0'; do
	u=$(sed -nE "s/^#([0-9]+) $what .*\[injected\]\$/\1/p" "$TRACE")
	[ -n "$u" ] || fail "no injected '$what' reply"
	daemon_got "$u" && fail "#$u ($what, answered by a script) reached the daemon"
	i=0
	while [ "$i" -lt "${#reqs[@]}" ] && [ "${reqs[$i]}" != "$u" ]; do
		i=$((i + 1))
	done
	[ "$i" -gt 0 ] && [ $((i + 1)) -lt "${#reqs[@]}" ] || fail "#$u: no request line, or no neighbours"
	daemon_got "${reqs[$((i - 1))]}" || fail "#${reqs[$((i - 1))]}, before #$u, not in the daemon's log"
	daemon_got "${reqs[$((i + 1))]}" || fail "#${reqs[$((i + 1))]}, after #$u, not in the daemon's log"
done
grep -q 'opcode: FSYNC' "$ERR" && fail "an FSYNC reached the daemon under nosync.lua"

# ---- 1: enospc.lua
mount_pt enospc -g "enospc.lua bytes=64k"
expect_err "enospc.lua: dd of 256 KiB" "No space left on device" \
	dd if=/dev/zero of="$MNT/full" bs=16k count=16 status=none
unmount_pt
size=$(stat -c %s "$SRC/full")
[ "$size" -gt 0 ] && [ "$size" -le 65536 ] || fail "enospc.lua: the backing file holds $size bytes"
trace_has '^#[0-9]+ WRITE = -28 ENOSPC .*\[injected\]$' "enospc.lua's ENOSPC"

# ---- 1: delay.lua: the LOOKUP of /slow/x held 1.5 s, one of /fast/y meanwhile is not
mount_pt delay -g "delay.lua op=LOOKUP path=^/slow/ ms=1500"
t stat "$MNT/slow" "$MNT/fast" >/dev/null || fail "delay.lua: stat of the directories failed"
start=$EPOCHREALTIME
(t stat "$MNT/slow/x" >/dev/null && ms_since "$start" >"$WORK/slow.ms") &
slow_pid=$!
PIDS+=("$slow_pid")
t stat "$MNT/fast/y" >/dev/null || fail "delay.lua: stat of /fast/y failed"
fast_ms=$(ms_since "$start")
wait "$slow_pid"
forget "$slow_pid"
slow_ms=$(cat "$WORK/slow.ms" 2>/dev/null) || fail "delay.lua: stat of /slow/x failed"
unmount_pt
[ "$slow_ms" -ge 1500 ] || fail "delay.lua: stat of /slow/x took $slow_ms ms, less than the delay"
[ "$fast_ms" -lt 700 ] || fail "delay.lua: stat of /fast/y took $fast_ms ms while /slow/x was held"
trace_has '^# #[0-9]+ held back 1500\.000 ms by .*delay\.lua$' "the held LOOKUP"
[ "$(count '^# #[0-9]+ held back')" -eq 1 ] || fail "delay.lua: other requests were held too"

# ---- 1: shortread.lua and corrupt.lua
mount_pt shortread -g "shortread.lua path=^/sr$ max=100"
n=$(t dd if="$MNT/sr" bs=4096 count=1 status=none | wc -c)
[ "$n" -eq 100 ] || fail "shortread.lua: a read of 4096 bytes gave $n, not 100"
unmount_pt
trace_has '^#[0-9]+ READ = 0 \{data=<100 bytes .*\[modified\]$' "the shortened READ"

mount_pt corrupt -g "corrupt.lua path=^/cor$ at=10,4097"
t cat "$MNT/cor" >"$WORK/cor.out" || fail "corrupt.lua: cat failed"
unmount_pt
[ "$(stat -c %s "$WORK/cor.out")" -eq 8192 ] || fail "corrupt.lua: the file read back has another size"
cmp -l "$SRC/cor" "$WORK/cor.out" >"$WORK/cor.cmp"
[ "$(awk '{ print $1 }' "$WORK/cor.cmp" | tr '\n' ' ')" = "11 4098 " ] ||
	{ cat "$WORK/cor.cmp" >&2; fail "corrupt.lua: other bytes differ than offsets 10 and 4097"; }
while read -r _ a b; do
	[ $((8#$a ^ 8#$b)) -eq 255 ] || fail "corrupt.lua: byte $a became $b (octal), not inverted"
done <"$WORK/cor.cmp"

# ---- 1: nth.lua: the 3rd WRITE fails, the others succeed
mount_pt nth -g "nth.lua op=WRITE path=^/nth$ n=3"
for i in 1 2 3 4 5; do
	if [ "$i" -eq 3 ]; then
		expect_err "nth.lua: the 3rd write" "Input/output error" bash -c "echo line$i >>'$MNT/nth'"
	else
		t bash -c "echo line$i >>'$MNT/nth'" || fail "nth.lua: write $i failed"
	fi
done
unmount_pt
[ "$(tr '\n' ' ' <"$SRC/nth")" = "line1 line2 line4 line5 " ] ||
	fail "nth.lua: the file holds: $(tr '\n' ' ' <"$SRC/nth")"
[ "$(count '^#[0-9]+ WRITE = -5 EIO .*\[injected\]$')" -eq 1 ] || fail "nth.lua: not exactly one WRITE failed"
trace_has '^# .*nth\.lua: failing WRITE #[0-9]+ the 3th matching request$' "nth.lua's log line"

# ---- 1: readonly.lua: every change fails with EROFS, reads go on
before=$(ls -la --time-style=+%s.%N "$SRC/ro")
mount_pt readonly -g readonly.lua
expect_err "readonly.lua: touch of a new file" "Read-only file system" touch "$MNT/ro/new"
expect_err "readonly.lua: touch of a file" "Read-only file system" touch "$MNT/ro/keep"
expect_err "readonly.lua: mkdir" "Read-only file system" mkdir "$MNT/ro/dir"
expect_err "readonly.lua: rm" "Read-only file system" rm -f "$MNT/ro/keep"
expect_err "readonly.lua: echo >" "Read-only file system" bash -c "echo new >'$MNT/ro/keep'"
[ "$(t cat "$MNT/ro/keep")" = "keep me" ] || fail "readonly.lua: cat did not work"
unmount_pt
[ "$(ls -la --time-style=+%s.%N "$SRC/ro")" = "$before" ] || fail "readonly.lua: the source directory changed"
[ "$(cat "$SRC/ro/keep")" = "keep me" ] || fail "readonly.lua: the file changed"

echo "$TEST_NAME: part 1 and 2 done after ${SECONDS}s"

# ---- 3: hang.lua: a dropped OPEN stays in flight until the program gets a signal
echo "stuck" >"$SRC/stuck"
mount_pt hang -g "hang.lua op=OPEN path=^/stuck"
# A background job of a script ignores SIGINT: perl gives cat the default action back.
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' cat "$MNT/stuck" >/dev/null 2>&1 &
cat_pid=$!
PIDS+=("$cat_pid")
until_ok 10 grep -q '^OPEN #[0-9]* .*"/stuck"' "$TRACE" || fail "hang.lua: no OPEN of /stuck in the trace"
u=$(sed -nE 's|^OPEN #([0-9]+) .*"/stuck".*|\1|p' "$TRACE")
sleep 0.5
running "$cat_pid" || fail "hang.lua: cat ended while its OPEN was dropped"
grep -q "^#$u " "$TRACE" && fail "hang.lua: the dropped OPEN #$u has a reply"
trace_has "^# OPEN #$u dropped by .*hang\\.lua: the kernel waits" "the drop"
start=$EPOCHREALTIME
kill -INT "$cat_pid"
until_ok 5 ended "$cat_pid" || fail "hang.lua: cat still blocked 5 s after SIGINT"
int_ms=$(ms_since "$start")
wait "$cat_pid"
cat_rc=$?
forget "$cat_pid"
[ "$cat_rc" -ne 0 ] || fail "hang.lua: cat of the stuck file succeeded"
t cat "$MNT/ok" >/dev/null || fail "hang.lua: the filesystem stopped serving"
unmount_pt
trace_has "^INTERRUPT #[0-9]+ unique=$u\$" "the kernel's INTERRUPT"
trace_has "^# INTERRUPT of #$u, which a script dropped: answering -EINTR\$" "the EINTR event"
trace_has "^#$u OPEN = -4 EINTR .*\\[injected\\]\$" "the EINTR answer"

# ---- 4: a script that raises an error, one that loops, one that eats memory
cat >"$WORK/boom.lua" <<'EOF'
function on_request(req)
	if req.op == "LOOKUP" and req.name == "boom" then
		error("no " .. req.name .. " here")
	end
end
EOF
cat >"$WORK/spin.lua" <<'EOF'
function on_request(req)
	if req.op == "LOOKUP" and req.name == "spin" then
		while true do end
	end
end
EOF
cat >"$WORK/hog.lua" <<'EOF'
function on_request(req)
	if req.op == "LOOKUP" and req.name:match("^hog") then
		local t = {}
		while true do t[#t + 1] = string.rep("x", 65536) end
	end
end
EOF
mount_pt errors --lua-mem 32 -g "$WORK/boom.lua" -g "$WORK/spin.lua" -g "$WORK/hog.lua"
for f in boom spin hog; do
	[ "$(t cat "$MNT/$f")" = "$f" ] || fail "$f.lua: cat of /$f failed"
done
# switched off: a second LOOKUP that would run away again is not reported again
[ "$(t cat "$MNT/hog2")" = "hog2" ] || fail "hog.lua: cat of /hog2 failed"
t stat "$MNT/d/good" >/dev/null || fail "the filesystem stopped serving after the script errors"
[ "$(t cat "$MNT/ok")" = "ok" ] || fail "cat after the script errors failed"
unmount_pt
trace_has "^# $WORK/boom\\.lua: on_request on LOOKUP #[0-9]+: $WORK/boom\\.lua:3: no boom here \\| stack traceback: .*boom\\.lua:3: in function" \
	"boom.lua's error with file, line and traceback"
trace_has "^# $WORK/spin\\.lua: on_request on LOOKUP #[0-9]+: [^ ]*spin\\.lua:3: stopped after [0-9]+ instructions.* \\| stack traceback: .*spin\\.lua:3: .*\\(script switched off\\)\$" \
	"spin.lua stopped and switched off"
trace_has "^# $WORK/hog\\.lua: on_request on LOOKUP #[0-9]+: not enough memory" "hog.lua out of memory"
errors_trace=$TRACE

mount_pt failclosed --lua-fail-closed -g "$WORK/boom.lua"
expect_err "--lua-fail-closed: stat of /boom" "Input/output error" stat "$MNT/boom"
[ "$(t cat "$MNT/ok")" = "ok" ] || fail "--lua-fail-closed: cat of another file failed"
unmount_pt
trace_has "^# $WORK/boom\\.lua: on_request on LOOKUP #[0-9]+: .*boom\\.lua:3: no boom here" "the error"
trace_has '^#[0-9]+ LOOKUP = -5 EIO .*\[injected\]$' "the EIO answer of --lua-fail-closed"

echo "$TEST_NAME: parts 3 and 4 done after ${SECONDS}s"

# ---- 5: -Y live
# only_lookups FILE: every message line of FILE is a LOOKUP request or reply, and both are there
only_lookups() {
	if grep -v '^#[^0-9]' "$1" | grep -Ev '^(LOOKUP #[0-9]+ |#[0-9]+ LOOKUP )' | grep -q .; then
		grep -v '^#[^0-9]' "$1" | grep -Ev '^(LOOKUP #[0-9]+ |#[0-9]+ LOOKUP )' | head -5 >&2
		fail "$1: -Y 'op == \"LOOKUP\"' printed other messages"
	fi
	grep -q '^LOOKUP #[0-9]* ' "$1" || fail "$1: no LOOKUP request"
	grep -q '^#[0-9]* LOOKUP = ' "$1" || fail "$1: no LOOKUP reply"
}
mount_pt filter -Y 'op == "LOOKUP"' -g "errno.lua path=^/d/bad$"
t cat "$MNT/d/good" "$MNT/ok" >/dev/null || fail "-Y: cat failed"
t stat "$MNT/d/bad" >/dev/null 2>&1 && fail "-Y: stat of /d/bad succeeded under errno.lua"
unmount_pt
only_lookups "$TRACE"
trace_has '^#[0-9]+ LOOKUP = -5 EIO .*\[injected\]$' "-Y: the injected LOOKUP reply"
trace_has '^# lua: ' "-Y: event lines"

# ---- 6: a capture of injected and modified traffic reads back as the live trace
mount_pt capture -w "$WORK/cap" -g "errno.lua path=^/d/bad$" -g "shortread.lua path=^/sr$ max=100"
t cat "$MNT/d/bad" >/dev/null 2>&1 && fail "capture: cat of /d/bad succeeded under errno.lua"
t cat "$MNT/sr" >/dev/null || fail "capture: cat of /sr failed"
t cat "$MNT/d/good" >/dev/null || fail "capture: cat of /d/good failed"
unmount_pt
live=$TRACE
trace_has '\[injected\]$' "capture: injected lines"
trace_has '\[modified\]$' "capture: modified lines"
t "$FUSEDUMP" -r "$WORK/cap" -o "$WORK/read.trace" 2>"$WORK/read.err" ||
	{ cat "$WORK/read.err" >&2; fail "fusedump -r of the capture failed"; }
no_sanitizer_report "$WORK/read.err"
cmp "$live" "$WORK/read.trace" ||
	{ diff "$live" "$WORK/read.trace" | head -20 >&2; fail "-r printed the capture otherwise than the live trace"; }

# ---- 5: -Y with -r, and a filter that fails on the messages without a name
t "$FUSEDUMP" -r "$WORK/cap" -Y 'op == "LOOKUP"' -o "$WORK/readY.trace" 2>"$WORK/readY.err" ||
	{ cat "$WORK/readY.err" >&2; fail "fusedump -r -Y failed"; }
no_sanitizer_report "$WORK/readY.err"
only_lookups "$WORK/readY.trace"
[ "$(grep -c '^#[0-9]* LOOKUP = -5 EIO .*\[injected\]$' "$WORK/readY.trace")" -eq 1 ] ||
	fail "-r -Y: the injected LOOKUP reply is missing"
t "$FUSEDUMP" -r "$WORK/cap" -Y 'name:find("o") ~= nil' -o "$WORK/readbad.trace" 2>"$WORK/readbad.err" ||
	{ cat "$WORK/readbad.err" >&2; fail "fusedump -r with a filter that fails on some messages failed"; }
no_sanitizer_report "$WORK/readbad.err"
grep -q '^LOOKUP #[0-9]* .*name="good"' "$WORK/readbad.trace" ||
	fail "a filter that fails on some messages: the messages where it holds are missing"
grep -Ev '^#[^0-9]' "$WORK/readbad.trace" | grep -qv 'name="' &&
	fail "a filter that fails on some messages: messages without a name printed"
grep -q 'fusedump: -Y: an error on some messages' "$WORK/readbad.err" ||
	fail "a filter that fails on some messages: no word of the error on stderr"

mount_pt filterbad -Y 'name:find("o") ~= nil'
t cat "$MNT/d/good" "$MNT/ok" >/dev/null || fail "-Y live with a failing filter: cat failed"
unmount_pt
trace_has '^LOOKUP #[0-9]+ .*name="good"' "-Y live with a failing filter: a matching message"
grep -q 'fusedump: -Y: an error on some messages' "$ERR" ||
	fail "-Y live with a failing filter: no word of the error on stderr"

# ---- 7: fuse.notify from a timer
cat >"$WORK/notify.lua" <<'EOF'
fuse.after(200, function()
	local ok, err = fuse.notify("INVAL_INODE", {ino = 1, off = 0, len = -1})
	fuse.log("notify", ok, err)
end)
EOF
mount_pt notify -g "$WORK/notify.lua"
until_ok 5 grep -q 'notify\.lua: notify ' "$TRACE" || fail "the timer's notification did not come"
t stat "$MNT/ok" >/dev/null || fail "notify: stat failed"
unmount_pt
trace_has '^NOTIFY_INVAL_INODE ino=1 off=0 len=-1.*\[injected\]$' "the injected notification"
trace_has "^# $WORK/notify\\.lua: notify true" "the notification accepted by the kernel"

echo "$TEST_NAME: parts 5 to 7 done after ${SECONDS}s"

# ---- 8: --lua-seed: errno.lua with p=0.5 on the LOOKUPs of 40 names (half of them exist).
# path=^/r/: only those LOOKUPs draw random numbers, whatever else the kernel looks up.
# failed_names SEED: FAILED gets the names whose stat failed with EIO, on one line
failed_names() {
	local i out failed=()
	mount_pt "seed$1" --lua-seed "$1" -g "errno.lua op=LOOKUP path=^/r/ p=0.5"
	for i in $(seq 40); do
		out=$(t stat "$MNT/r/n$i" 2>&1)
		[[ $out == *"Input/output error"* ]] && failed+=("n$i")
	done
	unmount_pt
	trace_has "^# lua: .*; seed $1 " "the seed in the trace"
	FAILED=${failed[*]}
}
failed_names 42
a=$FAILED
failed_names 42
b=$FAILED
failed_names 4242
c=$FAILED
n=$(wc -w <<<"$a")
[ "$n" -gt 0 ] && [ "$n" -lt 40 ] || fail "--lua-seed 42: $n of 40 LOOKUPs failed with p=0.5"
[ "$a" = "$b" ] || fail "--lua-seed 42 failed other names the second time: '$a' then '$b'"
[ "$a" != "$c" ] || fail "--lua-seed 4242 failed the same names as 42: '$a'"

# Checked last, so that a failure here leaves the rest checked: a script out of memory is
# switched off like one that ran away (the LOOKUP of /hog2 ran it no more).
TRACE=$errors_trace
trace_has "^# $WORK/hog\\.lua: on_request on LOOKUP #[0-9]+: not enough memory.*\\(script switched off\\)\$" \
	"hog.lua switched off"
[ "$(count "^# $WORK/hog\\.lua: ")" -eq 1 ] ||
	{ grep "^# $WORK/hog\\.lua: " "$TRACE" >&2; fail "hog.lua was not switched off after running out of memory"; }

echo "PASS: $TEST_NAME (${SECONDS}s; delay: held ${slow_ms} ms, other ${fast_ms} ms; SIGINT to end ${int_ms} ms; seed 42 failed $n of 40)"
