#!/usr/bin/env bash
# fusedump's command line: --help, --version, and usage errors (exit 2) that are found
# before anything is mounted. Needs neither root nor /dev/fuse.
. "$(dirname "$0")/lib.sh"
: "${FUSEDUMP:?}"

"$FUSEDUMP" --help >"$WORK/help" || fail "--help failed"
grep -q '^usage: fusedump ' "$WORK/help" || fail "--help has no usage line"
"$FUSEDUMP" --version | grep -Eq '^fusedump \(fusewire\) [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

usage() { # usage WHAT ARGS...: fusedump ARGS must exit 2 with a message
	local what=$1 rc=0
	shift
	"$FUSEDUMP" "$@" >/dev/null 2>"$WORK/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
	grep -q '^fusedump: ' "$WORK/err" || fail "$what: no message"
}
usage "no daemon"
usage "bad -c" -c zero -- true "$MNT"
usage "unknown option" --frobnicate -- true "$MNT"
usage "no mountpoint" --devfd -- true /nonexistent-dir
usage "unknown mount option" -m frobnicate -- true "$MNT"
usage "bad max_read" -m max_read=lots -- true "$MNT"
grep -q 'needs a decimal number' "$WORK/err" || fail "bad max_read: unclear message"
! is_mounted "$MNT" || fail "a usage error mounted something"

# a daemon that ends without mounting ends fusedump with a message and its status
rc=0
timeout 20 "$FUSEDUMP" -o "$WORK/trace" -- sh -c 'exit 3' 2>"$WORK/err" || rc=$?
[ "$rc" -eq 3 ] || fail "a daemon that exits 3 before mounting: fusedump exited $rc, expected 3"
grep -q 'ended before it mounted' "$WORK/err" || fail "no message for a daemon that never mounted"
rc=0
timeout 20 "$FUSEDUMP" -o "$WORK/trace" -- true "$MNT" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a daemon that exits 0 without mounting: fusedump exited $rc, expected 1"
echo "PASS: $TEST_NAME"
