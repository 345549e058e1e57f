#!/usr/bin/env bash
# How a traced filesystem ends, with programs at work on it (test_daemon_kill.sh has the
# daemon killed under an idle open file; test_hello_ll.sh a plain umount and SIGINT):
#  1. fusermount3 -u, daemon in the background;
#  2. umount while fwstress works: EBUSY, then umount -l: fwstress finishes right;
#  3. SIGTERM while fwstress works: the same, fusedump unmounting lazily itself;
#  4. SIGINT while a program waits in the daemon (flock): it gets its lock and finishes;
#  5. SIGTERM twice while a program waits in the daemon: the second signal ends the
#     connection and the program's request fails; the daemon, stuck in flock(2), does not
#     end when told, so fusedump kills it (15 s) and exits 1;
#  6. the daemon (in the background) killed in the middle of fwstress: every thread gets
#     ECONNABORTED or ENOTCONN (or finds the mount gone), none hangs, no wrong byte;
#  7. fusedump itself killed with SIGKILL: its watchdog removes the mount and the shims'
#     directory, and the daemon ends.
# Each time: fusedump's exit status (0 after an unmount, 1 when it had to kill the daemon,
# 128+9 when the daemon is killed while mounted), no mount left, the daemon's processes
# gone, nothing waits forever.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${HELLO_LL:?}" "${PASSTHROUGH_LL:?}" "${TOOLS_DIR:?}"
FWSTRESS=$TOOLS_DIR/fwstress
command -v fusermount3 >/dev/null || fail "fusermount3 is missing (apt-get install fuse3)"

# The pid fusedump started the daemon as (the trace's first line), and the one that
# writes the socket when the daemon went to the background (waited for, up to 10 s).
spawned_pid() {
	sed -nE '1s/^# fusedump .*: mounted .*; daemon pid ([0-9]+): .*/\1/p' "$TRACE"
}
writer_pid() {
	local p
	for _ in $(seq 100); do
		p=$(sed -nE 's/^# daemon pid ([0-9]+) writes the socket.*/\1/p' "$TRACE" | head -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}

# ended_clean CASE PID...: after wait_fusedump: status 0, no mount, the daemon's pids gone.
ended_clean() {
	local what=$1 p
	shift
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$what: fusedump exited $FD_RC, expected 0"; }
	expect_no_mount
	for p in "$@"; do
		! running "$p" || fail "$what: daemon pid $p is still running after fusedump ended"
	done
}

# stress_bg NAME ARGS...: fwstress in the background, bounded, its output in
# $WORK/NAME.stress.out and .stress.err.
stress_bg() {
	local name=$1
	shift
	timeout -k 5 60 "$FWSTRESS" "$@" >"$WORK/$name.stress.out" 2>"$WORK/$name.stress.err" &
	STRESS_PID=$!
	PIDS+=("$STRESS_PID")
}

# stress_wait NAME: wait for it (60 s at most) and set STRESS_RC.
stress_wait() {
	until_ok 60 eval '! kill -0 "$STRESS_PID" 2>/dev/null' || fail "$1: fwstress hangs"
	wait "$STRESS_PID"
	STRESS_RC=$?
	forget "$STRESS_PID"
	[ "$STRESS_RC" -ne 124 ] && [ "$STRESS_RC" -ne 137 ] || fail "$1: fwstress hung (timeout)"
}

# stress_started DIR N: fwstress has created its N files and the shared one in DIR.
stress_started() {
	[ "$(find "$1" -maxdepth 1 -name 'w*' | wc -l)" -ge "$2" ] && [ -s "$1/shared" ]
}

# ---- 1. fusermount3 -u, hello_ll gone to the background
start_fusedump fusermount -- "$HELLO_LL" "$MNT"
[ "$(t cat "$MNT/hello")" = "Hello World!" ] || fail "1: cat hello failed"
spawned=$(spawned_pid)
daemon=$(writer_pid) || fail "1: no '# daemon pid N writes the socket' line"
[ "$daemon" != "$spawned" ] || fail "1: hello_ll did not go to the background"
t fusermount3 -u "$MNT" || fail "1: fusermount3 -u failed"
wait_fusedump 20
ended_clean 1 "$daemon" "$spawned"
trace_has "^# daemon pid $daemon (exited|killed)" "1: the daemon's end"

# ---- 2. umount while fwstress works: EBUSY; umount -l: it goes on and finishes right
src=$WORK/src2
mkdir "$src"
start_fusedump busy -- "$PASSTHROUGH_LL" -f -o source="$src" -o cache=never "$MNT"
daemon=$(spawned_pid)
stress_bg busy -k -t 4 -r 1 -s 3 -m "$WORK/busy.manifest" "$MNT"
until_ok 10 stress_started "$src" 4 || fail "2: fwstress did not start"
t umount "$MNT" 2>"$WORK/umount.err" && fail "2: umount of a busy mount succeeded"
grep -q busy "$WORK/umount.err" || fail "2: umount failed otherwise than busy: $(cat "$WORK/umount.err")"
is_mounted "$MNT" && kill -0 "$FD_PID" || fail "2: the failed umount ended the mount or fusedump"
t umount -l "$MNT" || fail "2: umount -l failed"
expect_no_mount
sleep 0.5
kill -0 "$STRESS_PID" 2>/dev/null || fail "2: fwstress ended early: $(cat "$WORK/busy.stress.err")"
kill -0 "$FD_PID" 2>/dev/null || fail "2: fusedump ended while fwstress still had files open"
stress_wait 2
[ "$STRESS_RC" -eq 0 ] || fail "2: fwstress failed after umount -l: $(cat "$WORK/busy.stress.err")"
wait_fusedump 20
ended_clean 2 "$daemon"
"$FWSTRESS" -C "$WORK/busy.manifest" "$src" >/dev/null || fail "2: the source directory is wrong"

# ---- 3. SIGTERM while fwstress works: fusedump unmounts lazily and serves until the end
src=$WORK/src3
mkdir "$src"
start_fusedump term -- "$PASSTHROUGH_LL" -f -o source="$src" -o cache=never "$MNT"
daemon=$(spawned_pid)
stress_bg term -k -t 4 -r 1 -s 3 -m "$WORK/term.manifest" "$MNT"
until_ok 10 stress_started "$src" 4 || fail "3: fwstress did not start"
kill -TERM "$FD_PID"
until_ok 10 eval '! is_mounted "$MNT"' || fail "3: still mounted 10 s after SIGTERM"
stress_wait 3
[ "$STRESS_RC" -eq 0 ] || fail "3: fwstress failed after fusedump's SIGTERM: $(cat "$WORK/term.stress.err")"
wait_fusedump 20
ended_clean 3 "$daemon"
trace_has '^# SIGTERM: unmounting' "3: the stop"
trace_has '^# unmounted .* lazily' "3: the lazy unmount of a busy mount"
"$FWSTRESS" -C "$WORK/term.manifest" "$src" >/dev/null || fail "3: the source directory is wrong"

# ---- 4 and 5: a program waits in the daemon (its flock(2) on the mount waits for a lock
# held in the source directory) when fusedump gets SIGINT, or SIGTERM twice.
#   waiter FILE: flock FILE through the mount, say how it went, read it.
#   holder FILE MARK GO: hold a lock on FILE (outside the mount), touch MARK, wait for GO.
# Both run in the background and exec python, so that their pid is python's own.
waiter() {
	exec python3 - "$1" <<'PY'
import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("flock: ok")
    print("read:", os.pread(fd, 64, 0).decode().strip())
except OSError as e:
    print("flock:", errno.errorcode.get(e.errno, e.errno))
PY
}
holder() {
	exec python3 - "$@" <<'PY'
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
for _ in range(1200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
PY
}

# blocked CASE: mount passthrough_ll, lock src/f outside, start a waiter on MNT/f and wait
# until its SETLKW request is in the daemon. Sets WAITER, HOLDER, GO, daemon.
blocked() {
	local src=$WORK/src$1
	mkdir "$src"
	echo "locked data" >"$src/f"
	GO=$WORK/go$1
	holder "$src/f" "$WORK/held$1" "$GO" &
	HOLDER=$!
	PIDS+=("$HOLDER")
	until_ok 10 test -e "$WORK/held$1" || fail "$1: the holder did not take its lock"
	start_fusedump "blocked$1" -- "$PASSTHROUGH_LL" -f -o source="$src" -o flock "$MNT"
	daemon=$(spawned_pid)
	waiter "$MNT/f" >"$WORK/waiter$1.out" 2>&1 &
	WAITER=$!
	PIDS+=("$WAITER")
	until_ok 10 grep -Eq '^SETLKW #[0-9]+ .*lk_flags=FLOCK' "$TRACE" ||
		fail "$1: no SETLKW request for the waiter's flock in the trace"
	sleep 0.2
	kill -0 "$WAITER" 2>/dev/null || fail "$1: the waiter did not wait: $(cat "$WORK/waiter$1.out")"
}

# 4. SIGINT: the mount goes (lazily), the waiter still waits; once the lock is free it
# gets it, reads, closes, and fusedump ends with 0.
blocked 4
kill -INT "$FD_PID"
until_ok 10 eval '! is_mounted "$MNT"' || fail "4: still mounted 10 s after SIGINT"
sleep 0.5
kill -0 "$WAITER" 2>/dev/null || fail "4: the waiter stopped waiting: $(cat "$WORK/waiter4.out")"
kill -0 "$FD_PID" 2>/dev/null || fail "4: fusedump ended while a request was in the daemon"
touch "$GO"
until_ok 10 eval '! kill -0 "$WAITER" 2>/dev/null' || fail "4: the waiter hangs after the lock was freed"
wait "$WAITER" || fail "4: the waiter failed: $(cat "$WORK/waiter4.out")"
forget "$WAITER"
grep -qx 'flock: ok' "$WORK/waiter4.out" && grep -qx 'read: locked data' "$WORK/waiter4.out" ||
	fail "4: the waiter got: $(cat "$WORK/waiter4.out")"
wait_fusedump 20
ended_clean 4 "$daemon"
trace_has '^# SIGINT: unmounting' "4: the stop"
trace_has '^#[0-9]+ SETLKW = 0' "4: the reply to the waiting SETLKW"
wait "$HOLDER"
forget "$HOLDER"

# 5. SIGTERM twice: the second one closes the connection and the waiter's request fails
# at once (ECONNABORTED: it was in flight; ENOTCONN for later ones). The daemon is told to end, but libfuse waits for its worker threads and one is in
# flock(2), which thread cancellation does not interrupt, until the lock is free: it is
# kept until the end, so fusedump must close the socket (after 5 s) then kill the daemon
# (10 s later): status 1, "when it had to be killed" (fusedump/proxy.h).
blocked 5
kill -TERM "$FD_PID"
until_ok 10 eval '! is_mounted "$MNT"' || fail "5: still mounted 10 s after SIGTERM"
sleep 0.5
kill -0 "$WAITER" 2>/dev/null || fail "5: the waiter stopped waiting: $(cat "$WORK/waiter5.out")"
kill -TERM "$FD_PID"
until_ok 10 eval '! kill -0 "$WAITER" 2>/dev/null' || fail "5: the waiter hangs after the second SIGTERM"
wait "$WAITER" || fail "5: the waiter failed: $(cat "$WORK/waiter5.out")"
forget "$WAITER"
grep -Eqx 'flock: (ENOTCONN|ECONNABORTED)' "$WORK/waiter5.out" ||
	fail "5: after the connection was closed the waiter got: $(cat "$WORK/waiter5.out")"
wait_fusedump 30
[ "$FD_RC" -eq 1 ] || { cat "$ERR" >&2; fail "5: fusedump exited $FD_RC after killing the daemon, expected 1"; }
expect_no_mount
! running "$daemon" || fail "5: the daemon is still running"
trace_has '^# SIGTERM again: closing /dev/fuse' "5: the second signal"
trace_has "^# sent SIGKILL to daemon pid $daemon" "5: the SIGKILL"
touch "$GO"
wait "$HOLDER"
forget "$HOLDER"

# ---- 6. the daemon, gone to the background, killed while 32 threads work
src=$WORK/src6
mkdir "$src"
start_fusedump kill -- "$PASSTHROUGH_LL" -o source="$src" -o cache=never "$MNT"
spawned=$(spawned_pid)
daemon=$(writer_pid) || fail "6: no '# daemon pid N writes the socket' line"
[ "$daemon" != "$spawned" ] || fail "6: passthrough_ll did not go to the background"
stress_bg kill -t 32 -r 4 -s 30 "$MNT"
until_ok 10 stress_started "$src" 32 || fail "6: fwstress did not start"
sleep 1
kill -0 "$STRESS_PID" 2>/dev/null || fail "6: fwstress ended early: $(cat "$WORK/kill.stress.err")"
kill -KILL "$daemon"
wait_fusedump 30
[ "$FD_RC" -eq $((128 + 9)) ] || { cat "$ERR" >&2; fail "6: fusedump exited $FD_RC, expected 137"; }
expect_no_mount
stress_wait 6
cat "$WORK/kill.stress.out"
[ "$STRESS_RC" -eq 1 ] || fail "6: fwstress exited $STRESS_RC, expected 1 (errors, no wrong content)"
# every thread stopped at an error: ECONNABORTED (in flight when the connection was
# aborted), ENOTCONN (after), or ENOENT when reopening by path once the mount is gone
n=$(grep -c '^fwstress: [wr][0-9]* ' "$WORK/kill.stress.err")
[ "$n" -eq 36 ] || fail "6: $n threads of 36 reported an error: $(cat "$WORK/kill.stress.err")"
if grep -Ev '^fwstress: [wr][0-9]+ ([a-z]+: (ENOTCONN|ECONNABORTED)|open: ENOENT)$' "$WORK/kill.stress.err"; then
	fail "6: unexpected errors after the daemon was killed (above)"
fi
! running "$daemon" || fail "6: the daemon is still running"
trace_has "^# daemon pid $daemon killed by SIGKILL" "6: how the daemon died"
grep -q "went away while mounted: killed by SIGKILL" "$ERR" ||
	{ cat "$ERR" >&2; fail "6: fusedump did not report the daemon's death"; }

# ---- 7. fusedump itself killed with SIGKILL: its watchdog removes the dead mount and the
# shims' directory, and the daemon (preloaded: it reads ENODEV) ends
shimdirs_before=$(ls -d "${TMPDIR:-/tmp}"/fusewire.?????? 2>/dev/null | sort)
start_fusedump sigkill -- "$HELLO_LL" "$MNT"
spawned=$(spawned_pid)
daemon=$(writer_pid) || fail "7: no '# daemon pid N writes the socket' line"
shimdir=$(comm -13 <(echo "$shimdirs_before") <(ls -d "${TMPDIR:-/tmp}"/fusewire.?????? | sort))
[ -n "$shimdir" ] || fail "7: no shims directory of fusedump's"
t cat "$MNT/hello" >/dev/null || fail "7: cat failed"
kill -KILL "$FD_PID"
wait "$FD_PID" 2>/dev/null
forget "$FD_PID"
until_ok 5 eval '! is_mounted "$MNT"' || fail "7: the mount is left 5 s after fusedump was killed"
until_ok 5 eval '! running "$daemon"' || fail "7: the daemon is still running 5 s after fusedump was killed"
until_ok 5 eval '[ ! -e "$shimdir" ]' || fail "7: $shimdir is left behind"
echo "PASS: $TEST_NAME"
