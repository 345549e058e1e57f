#!/usr/bin/env bash
# Damaged captures: hello_ll.pcap cut at every record boundary and inside every record, and
# copies with bytes flipped. fusedump -r must print every good record (its output a
# prefix of the whole file's), then, for a cut inside a record, one error naming that
# record and its byte offset, exit 1; a cut at a boundary is a shorter good file (exit 0);
# a flipped bit is read without a crash or a sanitizer report (exit 0 or 1, at most one
# error line). FUSEDUMP: the fusedump to test (an ASan build for the sanitizer part).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUSEDUMP=${FUSEDUMP:-$ROOT/build/fusedump/fusedump}
CAP=$ROOT/captures/hello_ll.pcap
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-damage.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

fail() {
	echo "FAIL: damage: $*" >&2
	exit 1
}

"$FUSEDUMP" -r "$CAP" -v >"$WORK/full" 2>"$WORK/full.err" || fail "fusedump -r $CAP failed"
[ -s "$WORK/full.err" ] && fail "fusedump -r $CAP wrote to stderr: $(cat "$WORK/full.err")"

# the record boundaries: 24 bytes of file header, then 16 + caplen a record
mapfile -t bounds < <(python3 - "$CAP" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 24
while off < len(d):
    print(off)
    off += 16 + struct.unpack("<I", d[off + 8:off + 12])[0]
print(off)
PY
)
[ "${#bounds[@]}" -gt 10 ] || fail "cannot list the records of $CAP"

# check_prefix: the output of the damaged file is the start of the whole file's
check_prefix() {
	cmp -s "$WORK/out" <(head -c "$(stat -c %s "$WORK/out")" "$WORK/full") ||
		fail "$1: the output is not a prefix of the whole file's"
}

cuts=0
prev_lines=-1
for ((k = 0; k < ${#bounds[@]} - 1; k++)); do
	b=${bounds[k]}
	next=${bounds[k + 1]}
	# at the boundary after k records: a good, shorter file
	head -c "$b" "$CAP" >"$WORK/cut.pcap"
	"$FUSEDUMP" -r "$WORK/cut.pcap" -v >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$k" -eq 0 ]; then
		[ "$rc" -eq 0 ] || fail "a capture of only its file header: exit $rc"
	else
		[ "$rc" -eq 0 ] || fail "cut after record $k (byte $b): exit $rc: $(cat "$WORK/err")"
	fi
	[ -s "$WORK/err" ] && fail "cut after record $k: stderr: $(cat "$WORK/err")"
	check_prefix "cut after record $k"
	lines=$(wc -l <"$WORK/out")
	[ "$lines" -ge "$prev_lines" ] || fail "cut after record $k prints fewer lines than before"
	prev_lines=$lines
	# inside record k+1: in its 16-byte header, and in its data
	for at in $((b + 7)) $((b + 16 + (next - b - 16) / 2)); do
		head -c "$at" "$CAP" >"$WORK/cut.pcap"
		"$FUSEDUMP" -r "$WORK/cut.pcap" -v >"$WORK/out" 2>"$WORK/err"
		rc=$?
		[ "$rc" -eq 1 ] || fail "cut at byte $at (in record $((k + 1))): exit $rc, not 1"
		grep -q "record $((k + 1)) at byte $b " "$WORK/err" ||
			fail "cut at byte $at: the error does not name record $((k + 1)) at byte $b: $(cat "$WORK/err")"
		[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "cut at byte $at: more than one error line"
		cmp -s "$WORK/out" <(head -c "$(stat -c %s "$WORK/out")" "$WORK/full") ||
			fail "cut at byte $at: the output is not a prefix of the whole file's"
		[ "$(wc -l <"$WORK/out")" -eq "$lines" ] ||
			fail "cut at byte $at: not every good record before it was printed"
		cuts=$((cuts + 1))
	done
done

# bytes flipped anywhere past the file header: 150 copies, the same ones every run
python3 - "$CAP" "$WORK" <<'PY'
import random, sys
orig = open(sys.argv[1], "rb").read()
for i in range(1, 151):
    d = bytearray(orig)
    r = random.Random(i)
    for _ in range(r.randint(1, 4)):
        d[r.randrange(24, len(d))] ^= 1 << r.randrange(8)
    open("%s/flip%d.pcap" % (sys.argv[2], i), "wb").write(d)
PY
flips=0
for f in "$WORK"/flip*.pcap; do
	"$FUSEDUMP" -r "$f" -v >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || fail "$(basename "$f"): exit $rc: $(head -c 2000 "$WORK/err")"
	grep -qE 'Sanitizer|runtime error' "$WORK/err" && fail "$(basename "$f"): $(head -c 2000 "$WORK/err")"
	[ "$(wc -l <"$WORK/err")" -le 1 ] || fail "$(basename "$f"): more than one line on stderr: $(head -5 "$WORK/err")"
	flips=$((flips + 1))
done
[ "$flips" -eq 150 ] || fail "$flips flipped copies, not 150"
echo "PASS: damage: ${#bounds[@]} boundaries and $cuts cuts inside records of $(basename "$CAP"), $flips flipped copies"
