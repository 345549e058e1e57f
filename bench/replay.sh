#!/usr/bin/env bash
# The replay benchmark (bench/README.md, "Replaying captures"): fusereplay plays the kernel's
# part of a capture of N requests (bench/mkreplay) against bench/instantd, a daemon that
# answers at once, in requests per second (median of ROUNDS runs), with fusereplay's peak
# RSS on that capture and on one of SMALL requests (memory must not grow with the length of
# the capture), and an informational run at concurrency 1. Needs no root and mounts
# nothing (--devfd). A missed target is a result: exit 0 unless the benchmark itself could
# not run, or a replay was not all equal (the rate would be of something else).
#
# Environment: ROUNDS (5), N (100000), SMALL (10000), WINDOW (32: requests in flight in
# the captures), CONCURRENCY (32), TIMEOUT (300 s per run), BUILD_DIR (build), FUSEREPLAY
# (another fusereplay binary to measure), BENCH_OUT (a file to write the table to too),
# TMPDIR (where the captures go: about 700 bytes a request).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

FUSEREPLAY=${FUSEREPLAY:-$BUILD_DIR/fusereplay/fusereplay}
INSTANTD=$BUILD_DIR/bench/instantd
MKREPLAY=$BUILD_DIR/bench/mkreplay
ROUNDS=${ROUNDS:-5}
N=${N:-100000}
SMALL=${SMALL:-10000}
WINDOW=${WINDOW:-32}
CONCURRENCY=${CONCURRENCY:-32}
TIMEOUT=${TIMEOUT:-300}

# The issue's targets; flat memory as bench/readcap.sh judges it.
TARGET_RATE=200000
FLAT=1.2

for v in ROUNDS N SMALL WINDOW CONCURRENCY TIMEOUT; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[ -x "$FUSEREPLAY" ] || die "$FUSEREPLAY is not built; run make build"
"$FUSEREPLAY" --help >/dev/null 2>&1 || die "$FUSEREPLAY --help fails: not a working fusereplay"
if [ ! -x "$INSTANTD" ] || [ ! -x "$MKREPLAY" ]; then
	cmake --build "$BUILD_DIR" --target instantd mkreplay >/dev/null ||
		die "cannot build instantd and mkreplay in $BUILD_DIR"
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package time): it measures peak RSS"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-replay.XXXXXX") || exit 1
trap 'rm -rf --one-file-system "$WORK"' EXIT
trap 'exit 130' INT TERM
# --devfd hands instantd its socket in place of this directory: nothing is mounted on it
mkdir "$WORK/dir"

# capture N: the path of a capture of N requests, made once.
capture() {
	local f=$WORK/cap$1.pcap
	if [ ! -e "$f" ]; then
		"$MKREPLAY" -w "$WINDOW" "$1" "$f" 2>>"$WORK/mkreplay.err" ||
			die "mkreplay $1 failed: $(cat "$WORK/mkreplay.err")"
	fi
	echo "$f"
}

# run NAME REQUESTS CONCURRENCY: replay the capture of REQUESTS once; check that every
# reply was equal and append "replay-seconds peak-RSS-KiB wall-seconds" to WORK/NAME.
# fusereplay's own seconds are those of the replay; the wall clock adds starting the daemon
# and opening the capture.
run() {
	local name=$1 n=$2 c=$3 cap t0 t1 rc last re
	cap=$(capture "$n") || exit 1
	t0=$(date +%s%N)
	timeout "$TIMEOUT" /usr/bin/time -f %M -o "$WORK/rss" \
		"$FUSEREPLAY" -q --devfd --concurrency "$c" "$cap" -- "$INSTANTD" "$WORK/dir" \
		>"$WORK/out" 2>"$WORK/run.err"
	rc=$?
	t1=$(date +%s%N)
	[ "$rc" -ne 124 ] || die "fusereplay on $n requests (concurrency $c) took over $TIMEOUT s"
	last=$(tail -n 1 "$WORK/out")
	[ "$rc" -eq 0 ] || die "fusereplay on $n requests (concurrency $c) exited $rc: $(tail -n 5 "$WORK/out") $(tail -n 5 "$WORK/run.err")"
	re='^fusereplay: ([0-9]+) requests sent, ([0-9]+) equal, 0 differing, 0 missing, 0 unexpected in ([0-9.]+) s'
	[[ "$last" =~ $re ]] || die "fusereplay on $n requests: not all equal, or no summary: '$last'"
	# INIT is a request of the capture too
	[ "${BASH_REMATCH[1]}" -eq $((n + 1)) ] && [ "${BASH_REMATCH[2]}" -eq $((n + 1)) ] ||
		die "fusereplay on $n requests: $last (expected $((n + 1)) sent and equal, INIT included)"
	echo "${BASH_REMATCH[3]} $(tail -n 1 "$WORK/rss") $(((t1 - t0) / 1000))" |
		awk '{ printf "%s %d %.6f\n", $1, $2, $3 / 1e6 }' >>"$WORK/$name"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BIG=$(capture "$N") || exit 1
capture "$SMALL" >/dev/null || exit 1

echo "replay: $ROUNDS rounds of fusereplay on $SMALL and $N requests ($(du -h "$BIG" | cut -f1))" >&2
for i in $(seq "$ROUNDS"); do
	for mode in $(round_order "$i" small big one); do
		case $mode in
		small) run small "$SMALL" "$CONCURRENCY" ;;
		big) run big "$N" "$CONCURRENCY" ;;
		one) run one "$N" 1 ;;
		esac
	done
done

# row NAME REQUESTS CONCURRENCY: one line of the table; sets RATE and RSS.
row() {
	local t w
	t=$(median "$WORK/$1" 1)
	w=$(median "$WORK/$1" 3)
	RSS=$(median "$WORK/$1" 2)
	RATE=$(awk -v n="$2" -v t="$t" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
	awk -v t="$t" '{ print t }' "$WORK/$1" >"$WORK/$1.median"
	printf '%9d %11d %9.3f %9.3f %12s %9d %s\n' "$2" "$3" "$t" "$w" "$RATE" "$RSS" \
		"$(spread "$WORK/$1.median" <(cut -d' ' -f1 "$WORK/$1"))"
}

table() {
	local rate rss_big rss_small ratio mark missed=()
	echo "fusewire replay: $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(uname -r), $(nproc) CPUs, fusereplay $FUSEREPLAY"
	echo "captures: bench/mkreplay, GETATTR 60 % LOOKUP 30 % READ 4 KiB 10 %, $WINDOW in flight, $(stat -c %s "$BIG") bytes for $N requests"
	echo "daemon: bench/instantd; medians of $ROUNDS rounds; seconds: fusereplay's own, wall: with start and end"
	echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '%9s %11s %9s %9s %12s %9s %s\n' requests concurrency seconds wall requests/s RSS_KiB \
		"rounds (time/median)"
	row small "$SMALL" "$CONCURRENCY"
	rss_small=$RSS
	row big "$N" "$CONCURRENCY"
	rate=$RATE
	rss_big=$RSS
	row one "$N" 1
	echo "(concurrency 1: informational)"
	echo
	mark=met
	awk -v r="$rate" -v l="$TARGET_RATE" 'BEGIN { exit !(r >= l) }' || { mark=missed; missed+=(rate); }
	echo "target $TARGET_RATE requests/s: $mark ($rate requests/s, $N requests, concurrency $CONCURRENCY)"
	ratio=$(awk -v a="$rss_big" -v b="$rss_small" 'BEGIN { printf "%.2f", a / b }')
	mark=ok
	awk -v r="$ratio" -v l="$FLAT" 'BEGIN { exit !(r <= l) }' || { mark=MISS; missed+=(memory); }
	echo "memory flat: RSS(${N})/RSS(${SMALL}) = $ratio ($rss_big / $rss_small KiB; flat: <= ${FLAT}) $mark"
	say_missed "${missed[@]}"
}

finish_table
