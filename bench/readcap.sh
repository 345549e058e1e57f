#!/usr/bin/env bash
# The capture reading benchmark (bench/README.md, "Reading captures"): `fusedump -r` of a
# capture of MESSAGES messages (bench/mkcap: the passthrough_ll workload of tests/data/,
# replayed) to /dev/null, text and --json, in messages per second (median of RUNS runs),
# its peak RSS on that file and on one of SMALL messages (memory must not grow with the
# length of the file), and tshark with the Wireshark dissector of dissectors/ on the same
# file, for the ratio. Needs no root. A missed target is a result: exit 0 unless the
# benchmark itself could not run (or the capture did not decode cleanly).
#
# Environment: MESSAGES (1000000), SMALL (100000), RUNS (3), BUILD_DIR (build), FUSEDUMP
# (another fusedump binary to measure), LUA (the dissector: BUILD_DIR/dissectors/fuse.lua),
# TSHARK_RUNS (1: tshark takes minutes on a million messages), TSHARK_MESSAGES (MESSAGES: a
# smaller capture for tshark, its rate compared), BENCH_OUT (a file to write the table to
# too), TMPDIR (where the captures go: about 230 bytes a message).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

MKCAP=$BUILD_DIR/bench/mkcap
LUA=${LUA:-$BUILD_DIR/dissectors/fuse.lua}
MESSAGES=${MESSAGES:-1000000}
SMALL=${SMALL:-100000}
RUNS=${RUNS:-3}
TSHARK_RUNS=${TSHARK_RUNS:-1}
TSHARK_MESSAGES=${TSHARK_MESSAGES:-$MESSAGES}

# The issue's targets.
TARGET_RATE=2000000
TARGET_RATIO=50

for b in "$FUSEDUMP" "$MKCAP"; do
	[ -x "$b" ] || die "$b is not built; run make build (mkcap needs zlib)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package time): it measures peak RSS"
for v in MESSAGES SMALL RUNS TSHARK_RUNS TSHARK_MESSAGES; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[ "$MESSAGES" -ge 2 ] && [ "$SMALL" -ge 2 ] && [ "$TSHARK_MESSAGES" -ge 2 ] ||
	die "MESSAGES, SMALL and TSHARK_MESSAGES must be at least 2"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-readcap.XXXXXX") || exit 1
trap 'rm -rf --one-file-system "$WORK"' EXIT
trap 'exit 130' INT TERM

# capture N: the path of a capture of N messages, made once.
capture() {
	local f=$WORK/cap$1.pcap
	if [ ! -e "$f" ]; then
		"$MKCAP" "$1" "$f" 2>>"$WORK/mkcap.err" || die "mkcap $1 failed: $(cat "$WORK/mkcap.err")"
	fi
	echo "$f"
}

# timed OUT CMD...: run CMD with its output to /dev/null; appends "seconds peak-RSS-KiB" to
# OUT. The clock is read around /usr/bin/time, whose %e has only 10 ms.
timed() {
	local out=$1 t0 t1 rss
	shift
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>>"$WORK/run.err" || die "$* failed: $(tail -n 3 "$WORK/run.err")"
	t1=$(date +%s%N)
	rss=$(tail -n 1 "$WORK/rss")
	echo "$(((t1 - t0) / 1000)) $rss" | awk '{ printf "%.6f %d\n", $1 / 1e6, $2 }' >>"$out"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BIG=$(capture "$MESSAGES")
SMALLCAP=$(capture "$SMALL")

# The capture must decode cleanly, or the rate would be of something else: every message
# paired and valid, one line each.
"$FUSEDUMP" -r "$BIG" >"$WORK/check.txt" 2>"$WORK/check.err" || die "fusedump -r failed: $(cat "$WORK/check.err")"
lines=$(wc -l <"$WORK/check.txt")
bad=$(grep -c -E ' \[(invalid|truncated) at byte [0-9]+: ' "$WORK/check.txt")
unknown=$(grep -c -E '^#[0-9]+ \? ' "$WORK/check.txt")
[ "$lines" -eq "$MESSAGES" ] || die "fusedump -r printed $lines lines for $MESSAGES messages"
[ "$bad" -eq 0 ] && [ "$unknown" -eq 0 ] ||
	die "the capture does not decode cleanly: $bad invalid or truncated messages, $unknown unpaired replies"
rm -f "$WORK/check.txt"

echo "readcap: $RUNS runs of fusedump -r on $MESSAGES messages ($(du -h "$BIG" | cut -f1))" >&2
for i in $(seq "$RUNS"); do
	timed "$WORK/text" "$FUSEDUMP" -r "$BIG"
	timed "$WORK/json" "$FUSEDUMP" --json -r "$BIG"
	timed "$WORK/small" "$FUSEDUMP" -r "$SMALLCAP"
done

# tshark: with the dissector when it is built; without, only a floor (tshark decoding
# nothing of FUSE), on the small file, and said so.
TSHARK_WHAT=""
TSHARK_FLOOR=0
if ! command -v tshark >/dev/null; then
	echo "readcap: tshark is not installed: no comparison" >&2
elif [ -f "$LUA" ]; then
	TSHARK_N=$TSHARK_MESSAGES
	TSHARK_WHAT="tshark -X lua_script:$(basename "$LUA")"
	TSHARK_CAP=$(capture "$TSHARK_N")
	echo "readcap: $TSHARK_RUNS runs of $TSHARK_WHAT on $TSHARK_N messages (minutes)" >&2
	for i in $(seq "$TSHARK_RUNS"); do
		timed "$WORK/tshark" tshark -X "lua_script:$LUA" -r "$TSHARK_CAP"
	done
else
	TSHARK_N=$SMALL
	TSHARK_FLOOR=1
	TSHARK_WHAT="tshark without the dissector (floor)"
	echo "readcap: $LUA is not built: timing plain tshark on $SMALL messages as a floor" >&2
	for i in $(seq "$TSHARK_RUNS"); do
		timed "$WORK/tshark" tshark -r "$SMALLCAP"
	done
fi

table() {
	local t j s tt rate jrate trate ratio rss_big rss_small mark missed=()
	t=$(median "$WORK/text" 1)
	j=$(median "$WORK/json" 1)
	s=$(median "$WORK/small" 1)
	rate=$(awk -v n="$MESSAGES" -v t="$t" 'BEGIN { printf "%.0f", n / t }')
	jrate=$(awk -v n="$MESSAGES" -v t="$j" 'BEGIN { printf "%.0f", n / t }')
	rss_big=$(median "$WORK/text" 2)
	rss_small=$(median "$WORK/small" 2)
	echo "fusewire readcap: $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(uname -r), $(nproc) CPUs, fusedump $FUSEDUMP"
	echo "capture: $MESSAGES messages, $(stat -c %s "$BIG") bytes (bench/mkcap); medians of $RUNS runs, output to /dev/null"
	echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '%-52s %9s %13s %15s %s\n' what seconds messages/s target mark
	mark=ok
	awk -v r="$rate" -v l="$TARGET_RATE" 'BEGIN { exit !(r >= l) }' || { mark=MISS; missed+=(rate); }
	printf '%-52s %9.3f %13s %15s %s\n' "fusedump -r (text)" "$t" "$rate" ">= $TARGET_RATE" "$mark"
	printf '%-52s %9.3f %13s\n' "fusedump -r --json" "$j" "$jrate"
	if [ -s "$WORK/tshark" ]; then
		tt=$(median "$WORK/tshark" 1)
		trate=$(awk -v n="$TSHARK_N" -v t="$tt" 'BEGIN { printf "%.0f", n / t }')
		printf '%-52s %9.3f %13s\n' "$TSHARK_WHAT, $TSHARK_N messages" "$tt" "$trate"
		ratio=$(awk -v a="$rate" -v b="$trate" 'BEGIN { printf "%.1f", a / b }')
		if [ "$TSHARK_FLOOR" -eq 1 ]; then
			printf '%-52s %9s %12sx %15s %s\n' "ratio text / tshark (floor: no dissector)" "" \
				"$ratio" "" "(not the target's comparison)"
		else
			mark=ok
			awk -v r="$ratio" -v l="$TARGET_RATIO" 'BEGIN { exit !(r >= l) }' || { mark=MISS; missed+=(ratio); }
			printf '%-52s %9s %12sx %15s %s\n' "ratio text / tshark" "" "$ratio" \
				">= ${TARGET_RATIO}x" "$mark"
		fi
	fi
	echo
	mark=ok
	awk -v a="$rss_big" -v b="$rss_small" 'BEGIN { exit !(a <= 1.2 * b) }' || { mark=MISS; missed+=(memory); }
	printf 'peak RSS of fusedump -r (text): %d KiB for %d messages, %d KiB for %d: %sx, target flat (<= 1.2x) %s\n' \
		"$rss_big" "$MESSAGES" "$rss_small" "$SMALL" \
		"$(awk -v a="$rss_big" -v b="$rss_small" 'BEGIN { printf "%.2f", a / b }')" "$mark"
	printf 'fusedump -r on %d messages: %.3f s median\n' "$SMALL" "$s"
	say_missed "${missed[@]}"
}

finish_table
