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
usage "no mountpoint" -- true /nonexistent-dir
usage "unknown mount option" -m frobnicate -- true "$MNT"
usage "bad max_read" -m max_read=lots -- true "$MNT"
grep -q 'needs a decimal number' "$WORK/err" || fail "bad max_read: unclear message"
! is_mounted "$MNT" || fail "a usage error mounted something"
echo "PASS: $TEST_NAME"
