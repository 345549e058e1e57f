# fusereplay --fuzz and the lint (issue 7): from the committed captures, the fuzzer finds
# the three bugs planted in tests/daemons/buggyfs (a crash on a long MKDIR name, a hang on
# SETATTR of size and mode together, a malformed READDIR reply at offset 1), each with a
# reproducer of at most 10 requests that fusereplay replays to the same finding; the same
# daemon without its bugs gives no finding; fusedump --lint marks the bad READDIR live.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${FUSEREPLAY:?}" "${DAEMONS_DIR:?}"
BUGGYFS=$DAEMONS_DIR/buggyfs
[ -x "$BUGGYFS" ] || fail "$BUGGYFS is missing"
CAPS=$(cd "$(dirname "$0")/../../captures" && pwd)
SEEDS=("$CAPS/hello_ll.pcap" "$CAPS/passthrough_ll.pcap" "$CAPS/bindfs.pcap" "$CAPS/gocryptfs.pcap")
FOUND=$WORK/found

# ---- 1. the three planted bugs, found from the captures
SECONDS=0
timeout -k 5 400 "$FUSEREPLAY" --fuzz --seed 2 --time 300 --max-findings 3 --findings "$FOUND" \
	"${SEEDS[@]}" -- "$BUGGYFS" -f "$MNT" >"$WORK/fuzz.out" 2>"$WORK/fuzz.err"
rc=$?
cat "$WORK/fuzz.out"
echo "test_fuzz: the fuzzer ran ${SECONDS}s"
[ "$rc" -eq 1 ] || fail "fusereplay --fuzz exited $rc, expected 1 (findings)"
for sig in crash-SIGABRT-MKDIR hang-SETATTR lint-bad-dirent-READDIR; do
	line=$(grep -E "^finding [0-9]+ at [0-9:]+, run [0-9]+: $sig: " "$WORK/fuzz.out") ||
		fail "the planted bug $sig was not found"
	[[ $line =~ \;\ ([0-9]+)\ requests\ \(from ]] || fail "$sig: no request count: $line"
	n=${BASH_REMATCH[1]}
	[ "$n" -le 10 ] || fail "$sig: the reproducer has $n requests (more than 10)"
	[[ $line == *"replays to the same finding: $FOUND/$sig.pcap" ]] ||
		fail "$sig: the reproducer does not replay to the same finding: $line"
	# the reproducer is a capture: INIT and the n requests, readable by fusedump -r
	reqs=$("$FUSEDUMP" -r "$FOUND/$sig.pcap" | grep -cE '^[A-Z_0-9]+ #')
	[ "$reqs" -eq $((n + 1)) ] || fail "$sig: $reqs requests in the capture, expected $((n + 1))"
done
[ "$(grep -c '^finding ' "$WORK/fuzz.out")" -eq 3 ] || fail "findings besides the planted bugs"

# ---- 2. fusereplay of each reproducer shows the finding
replay_repro() {
	timeout -k 5 60 "$FUSEREPLAY" -q --lint --timeout 3 "$FOUND/$1.pcap" -- "$BUGGYFS" -f "$MNT" \
		>"$WORK/$1.replay" 2>"$WORK/$1.replay.err"
	local rc=$?
	[ "$rc" -eq 1 ] || { cat "$WORK/$1.replay" >&2; fail "replay of $1: exit $rc, expected 1"; }
	grep -Eq "$2" "$WORK/$1.replay" || { cat "$WORK/$1.replay" >&2; fail "replay of $1: no line /$2/"; }
}
replay_repro crash-SIGABRT-MKDIR '^daemon: exit: recorded none, live killed by SIGABRT$'
replay_repro crash-SIGABRT-MKDIR '^#[0-9]+ MKDIR .*: reply: recorded none, live none \(the daemon ended: killed by SIGABRT\)$'
replay_repro hang-SETATTR '^#[0-9]+ SETATTR .*valid=[A-Z|]*(SIZE.*MODE|MODE.*SIZE).*: reply: recorded none, live none within 3 s$'
replay_repro lint-bad-dirent-READDIR '^#[0-9]+ READDIR "/" offset=1 .*: lint bad-dirent: recorded -, live READDIR entry 0: namelen [0-9]+ runs [0-9]+ bytes past the end$'
# without the bugs, the same reproducers replay clean
for sig in crash-SIGABRT-MKDIR hang-SETATTR lint-bad-dirent-READDIR; do
	timeout -k 5 60 "$FUSEREPLAY" -q --lint --timeout 3 "$FOUND/$sig.pcap" -- "$BUGGYFS" --no-bugs \
		-f "$MNT" >"$WORK/$sig.fixed" 2>&1
	grep -q ' 0 missing, .* 0 lint violations' "$WORK/$sig.fixed" ||
		{ cat "$WORK/$sig.fixed" >&2; fail "$sig: the fixed daemon still shows a finding"; }
	! grep -q '^daemon: exit' "$WORK/$sig.fixed" || fail "$sig: the fixed daemon crashed"
done

# ---- 3. the fixed daemon: nothing to find (no false findings from the fuzzer's own mutations)
timeout -k 5 300 "$FUSEREPLAY" --fuzz --seed 3 --runs 1500 --findings "$WORK/found-fixed" \
	"${SEEDS[@]}" -- "$BUGGYFS" --no-bugs -f "$MNT" >"$WORK/fixed.out" 2>"$WORK/fixed.err"
rc=$?
cat "$WORK/fixed.out"
tail -n 1 "$WORK/fixed.err"
[ "$rc" -eq 0 ] || fail "fuzzing buggyfs --no-bugs: exit $rc, findings: $(grep '^finding' "$WORK/fixed.out")"
grep -q '^fuzz: 1500 runs' "$WORK/fixed.err" || fail "fuzzing buggyfs --no-bugs did not make its 1500 runs"

# ---- 4. fusedump --lint marks the invalid READDIR reply live
start_fusedump lint --lint -- "$BUGGYFS" -f "$MNT"
t python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
os.lseek(fd, 1, os.SEEK_SET)
try:
    os.listdir(fd)
except OSError:
    pass
os.close(fd)' "$MNT" || fail "the READDIR at offset 1 could not be made"
t ls "$MNT" >/dev/null || fail "ls of the mount failed"
t umount "$MNT" || fail "umount failed"
wait_fusedump 30
trace_has '^#[0-9]+ READDIR = 0 .*\[lint bad-dirent: "READDIR entry 0: namelen [0-9]+ runs [0-9]+ bytes past the end"\]' \
	"the bad READDIR reply marked by the lint"
[ "$(grep -c '\[lint ' "$TRACE")" -eq 1 ] || fail "lint marks on other lines too: $(grep '\[lint ' "$TRACE")"
grep -q '^fusedump: 1 lint violations$' "$ERR" || fail "fusedump does not count the violation"
echo "test_fuzz: all checks passed"
