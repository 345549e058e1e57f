#!/usr/bin/env bash
# A daemon whose READ replies libfuse writes with splice(2) (tests/daemons/splice_ll.c):
# splice into a SOCK_SEQPACKET socket cuts a large reply into several messages, and
# fusedump must put them back together by the header's len before the kernel sees them.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${SPLICE_LL:?}"

head -c $((4 << 20)) /dev/urandom >"$WORK/data"
want=$(sha256sum <"$WORK/data")
start_fusedump splice --stats -- "$SPLICE_LL" -f -o file="$WORK/data" "$MNT"

got=$(t cat "$MNT/data" | sha256sum) || fail "cat failed"
[ "$got" = "$want" ] || fail "reading through the page cache gave other bytes"
got=$(t dd if="$MNT/data" bs=1M iflag=direct status=none | sha256sum) || fail "dd failed"
[ "$got" = "$want" ] || fail "reading with O_DIRECT gave other bytes"

t umount "$MNT" || fail "umount failed"
wait_fusedump 20
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump exited $FD_RC after umount"; }
expect_no_mount
trace_clean
n=$(sed -nE 's/.* ([0-9]+) reassembled,.*/\1/p' "$ERR")
[ -n "$n" ] && [ "$n" -gt 0 ] ||
	{ cat "$ERR" >&2; fail "no reply was reassembled: the daemon did not splice, or fusedump did not count it"; }
echo "PASS: $TEST_NAME ($n replies reassembled)"
