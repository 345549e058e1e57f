# Shared by the integration tests (sourced): skip unless root with /dev/fuse, a fresh
# directory per test, fusedump started in the background, and a cleanup trap that unmounts
# our own mount and kills only the pids this test started. Never kills by name.
#
# Environment (set by ctest, see CMakeLists.txt): FUSEDUMP, HELLO_LL, PASSTHROUGH_LL,
# SPLICE_LL: paths of the built programs; DAEMONS_DIR, TOOLS_DIR: the directories of the
# other test daemons (tests/daemons) and tools (tests/tools/*.c). KEEP_WORK=1 keeps the test's directory (traces,
# outputs) for a look afterwards.

set -u
TEST_NAME=$(basename "$0" .sh)

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# Exit 77 (ctest: skipped) with a loud message unless we can mount FUSE filesystems.
require_root_and_fuse() {
	local why=""
	if [ "$(id -u)" -ne 0 ]; then
		why="not running as root (fusedump mounts with mount(2))"
	elif [ ! -c /dev/fuse ]; then
		why="/dev/fuse is missing"
	elif ! { exec 9<>/dev/fuse; } 2>/dev/null; then
		why="/dev/fuse cannot be opened"
	fi
	exec 9>&-
	if [ -n "$why" ]; then
		echo "************************************************************" >&2
		echo "SKIPPED: $TEST_NAME: $why" >&2
		echo "************************************************************" >&2
		exit 77
	fi
}

# A command on the mount, bounded in time: a FUSE bug must fail the test, not hang it.
t() {
	timeout -k 5 30 "$@"
}

# Whether $1 is a mount point now (from /proc/mounts; our paths need no unescaping).
is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-$TEST_NAME.XXXXXX") || exit 1
MNT=$WORK/mnt
mkdir "$MNT"
PIDS=()     # pids this test started; only these are ever killed
EXTRA_MOUNTS=() # other mounts a test made under $WORK (a tmpfs), unmounted at the end
FD_PID=""   # the running fusedump
FD_RC=""    # its exit status once waited for

cleanup() {
	local rc=$?
	trap - EXIT
	local p i
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		# fusedump may take its own 5 s for a daemon to answer SIGTERM
		for i in $(seq 150); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	if is_mounted "$MNT"; then
		echo "FAIL: $TEST_NAME: $MNT still mounted at the end; unmounting it" >&2
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
		rc=1
	fi
	for p in "${EXTRA_MOUNTS[@]}"; do
		is_mounted "$p" && umount "$p"
	done
	if grep -q " $WORK/" /proc/mounts; then
		echo "FAIL: $TEST_NAME: a mount under $WORK is left:" >&2
		grep " $WORK/" /proc/mounts >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "$WORK"/*.err "$WORK"/*.trace; do
			[ -s "$f" ] || continue
			echo "---- last lines of $f" >&2
			tail -n 30 "$f" | cut -c1-300 >&2
		done
	fi
	if [ -n "${KEEP_WORK:-}" ]; then
		echo "$TEST_NAME: kept $WORK" >&2
	elif ! is_mounted "$MNT"; then
		rm -rf --one-file-system "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_fusedump NAME FUSEDUMP-ARGS...: run fusedump in the background with its trace in
# $WORK/NAME.trace and its stderr in $WORK/NAME.err, and wait until it has mounted $MNT.
start_fusedump() {
	local name=$1
	shift
	TRACE=$WORK/$name.trace
	ERR=$WORK/$name.err
	FD_RC=""
	"$FUSEDUMP" -o "$TRACE" "$@" 2>"$ERR" &
	FD_PID=$!
	PIDS+=("$FD_PID")
	wait_mounted fusedump
}

# wait_mounted WHAT: wait until $MNT is mounted, 10 s at most, while $FD_PID (WHAT, with
# its stderr in $ERR) runs.
wait_mounted() {
	local i
	for i in $(seq 100); do
		is_mounted "$MNT" && return 0
		kill -0 "$FD_PID" 2>/dev/null || { cat "$ERR" >&2; fail "$1 exited before mounting"; }
		sleep 0.1
	done
	fail "$1: $MNT not mounted after 10 s"
}

# wait_fusedump SECONDS: wait for fusedump to end; its status goes to FD_RC.
wait_fusedump() {
	local i
	for i in $(seq $(($1 * 10))); do
		kill -0 "$FD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$FD_PID" 2>/dev/null && fail "fusedump still running after $1 s"
	wait "$FD_PID"
	FD_RC=$?
	forget "$FD_PID"
}

# forget PID...: drop waited-for pids from PIDS: the system may give them to other
# processes, which the cleanup must never signal.
forget() {
	local keep=() p q
	for p in "${PIDS[@]}"; do
		for q in "$@"; do
			[ "$p" = "$q" ] && continue 2
		done
		keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# until_ok SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 after SECONDS.
until_ok() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# running PID: the process exists and has not ended (a zombie has).
running() {
	grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$1/status"
}

# expect_no_mount: our mount point is not a mount point any more.
expect_no_mount() {
	! is_mounted "$MNT" || fail "$MNT is still mounted"
}

# trace_has REGEX WHAT: the trace has a line matching the extended REGEX.
trace_has() {
	grep -Eq -- "$1" "$TRACE" || fail "the trace has no line matching /$1/ ($2)"
}

# trace_clean: no message was decoded as truncated or invalid.
trace_clean() {
	if grep -Eq '\[invalid|\[truncated' "$TRACE"; then
		grep -E '\[invalid|\[truncated' "$TRACE" | head -5 | cut -c1-300 >&2
		fail "the trace has messages that did not decode cleanly"
	fi
}
