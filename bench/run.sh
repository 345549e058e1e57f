#!/usr/bin/env bash
# The fusedump overhead benchmark (see bench/README.md): libfuse's passthrough_ll mounted
# directly, behind fusedump's proxy and with fusedump --mirror (trace to /dev/null), and
# with libfuse's own -d logging (to /dev/null) as the reference, ROUNDS rounds that
# alternate them (D F M G, G M F D, ...) so that drift of a noisy machine hits all of them
# alike. Each mount runs the four workloads of fwbench; the table gives medians, the ratio
# of each way to direct and the issue's targets. A missed target is a result, not an
# error: exit 0 unless the benchmark itself could not run.
#
# Environment: ROUNDS (5), RUN_SECONDS (3, per timed workload; not SECONDS, which bash
# owns), WAYS ("fusedump mirror debug": those measured against direct), WORKLOADS ("read4k
# read1m walk par8"), BUILD_DIR (build), FUSEDUMP (another fusedump binary to measure),
# BENCH_OUT (a file to write the table to too), PIN (taskset CPU list for the filesystem
# side in every mode: the daemon, fusedump with its daemon), PIN_FUSEDUMP (the same for
# the fusedump and mirror modes only; default PIN), PIN_CLIENT (for fwbench).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-5}
RUN_SECONDS=${RUN_SECONDS:-3}
PIN=${PIN:-}
PIN_FUSEDUMP=${PIN_FUSEDUMP:-$PIN}
PIN_CLIENT=${PIN_CLIENT:-}

read -ra WORKLOADS <<<"${WORKLOADS:-read4k read1m walk par8}"
read -ra WAYS <<<"${WAYS:-fusedump mirror debug}" # each measured against direct
MODES=(direct "${WAYS[@]}")

check_mounting
for p in "$PIN" "$PIN_FUSEDUMP" "$PIN_CLIENT"; do
	[ -z "$p" ] || command -v taskset >/dev/null || die "PIN*: taskset (util-linux) is missing"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-bench.XXXXXX") || exit 1
SRC=$WORK/src
MNT=$WORK/mnt
RES=$WORK/res
mkdir "$SRC" "$MNT" "$RES"
SERVER_PID=""   # the process serving the mount now: the daemon, or fusedump

# for bench_cleanup: whether the server still runs
server_alive() {
	[ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Command prefixes that run a program on the CPUs of PIN, PIN_FUSEDUMP, PIN_CLIENT.
PIN_SERVER=()
PIN_PROXY=()
PIN_BENCH=()
[ -z "$PIN" ] || PIN_SERVER=(taskset -c "$PIN")
[ -z "$PIN_FUSEDUMP" ] || PIN_PROXY=(taskset -c "$PIN_FUSEDUMP")
[ -z "$PIN_CLIENT" ] || PIN_BENCH=(taskset -c "$PIN_CLIENT")

# mount_mode MODE: serve $MNT in MODE, in the background, and wait until it answers.
# The same daemon and options in every mode; -f (or -d) keeps it in the foreground so that
# its pid is ours to wait for. cache=never: zero entry/attribute timeouts, so that every
# walk LOOKUPs every file again (and direct_io, which O_DIRECT in fwbench gives anyway).
mount_mode() {
	local mode=$1 i
	local daemon=("$PASSTHROUGH_LL" -o "source=$SRC,cache=never")
	case $mode in
	direct)
		"${PIN_SERVER[@]}" "${daemon[@]}" -f "$MNT" 2>>"$WORK/direct.err" &
		;;
	fusedump)
		"${PIN_PROXY[@]}" "$FUSEDUMP" -o /dev/null -- "${daemon[@]}" -f "$MNT" \
			2>>"$WORK/fusedump.err" &
		;;
	mirror)
		"${PIN_PROXY[@]}" "$FUSEDUMP" --mirror -o /dev/null -- "${daemon[@]}" -f "$MNT" \
			2>>"$WORK/mirror.err" &
		;;
	debug)
		"${PIN_SERVER[@]}" "${daemon[@]}" -d "$MNT" 2>/dev/null &
		;;
	*)
		die "unknown way '$mode' (WAYS: fusedump mirror debug)"
		;;
	esac
	SERVER_PID=$!
	for i in $(seq 100); do
		is_mounted "$MNT" && break
		kill -0 "$SERVER_PID" 2>/dev/null || die "$mode: exited before mounting"
		sleep 0.1
	done
	is_mounted "$MNT" || die "$mode: $MNT not mounted after 10 s"
	# The first access waits for INIT: not part of any measurement.
	timeout 10 stat "$MNT/data/big" >/dev/null || die "$mode: the mount does not answer"
}

# unmount_mode MODE: unmount and wait for the server to exit, which it must do cleanly.
unmount_mode() {
	local mode=$1 i rc
	timeout 30 umount "$MNT" || die "$mode: umount failed"
	for i in $(seq 300); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SERVER_PID" 2>/dev/null && die "$mode: still running 30 s after umount"
	wait "$SERVER_PID"
	rc=$?
	SERVER_PID=""
	[ "$rc" -eq 0 ] || die "$mode: exited $rc after umount"
}

# run_workload MODE ROUND WORKLOAD: one measurement, its value appended to $RES/MODE.WORKLOAD.
run_workload() {
	local mode=$1 round=$2 w=$3 target line f
	case $w in
	read4k | read1m) target=$MNT/data/big ;;
	walk) target=$MNT/data/tree ;;
	par8) target=$MNT/data/par ;;
	esac
	# Bounded: a hung proxy must end the benchmark, not stall it.
	line=$(timeout 600 "${PIN_BENCH[@]}" "$FWBENCH" "$w" "$target" "$RUN_SECONDS") ||
		die "$mode: fwbench $w failed"
	printf 'round %d %-8s %s\n' "$round" "$mode" "$line" >&2
	read -r -a f <<<"$line"
	echo "${f[1]}" >>"$RES/$mode.$w"
	echo "${f[2]}" >"$RES/unit.$w"
}

# The load average before and after: other work on the machine is the main source of noise.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
mount -t tmpfs -o size=1g,mode=0755 fusewire-bench "$SRC" || die "cannot mount a tmpfs on $SRC"
"$FWBENCH" setup "$SRC/data" >&2 || die "fwbench setup failed"

echo "bench: $ROUNDS rounds of ${MODES[*]}, ${RUN_SECONDS}s per timed workload" >&2
for round in $(seq "$ROUNDS"); do
	mapfile -t order < <(round_order "$round" "${MODES[@]}")
	for mode in "${order[@]}"; do
		mount_mode "$mode"
		for w in "${WORKLOADS[@]}"; do
			run_workload "$mode" "$round" "$w"
		done
		unmount_mode "$mode"
	done
done

# The issue's targets: time ratios (fusedump/direct, lower is better) at most LIMIT for
# the first three, a throughput ratio at least LIMIT for par8.
declare -A LIMIT=([read4k]=1.15 [read1m]=1.05 [walk]=1.05 [par8]=0.95)
declare -A SENSE=([read4k]="<=" [read1m]="<=" [walk]="<=" [par8]=">=")

table() {
	local w d f g m ratio gratio mark missed=()
	echo "fusewire bench: $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(uname -r), $(nproc) CPUs," \
		"fusedump $FUSEDUMP, ROUNDS=$ROUNDS RUN_SECONDS=$RUN_SECONDS${PIN:+ PIN=$PIN}${PIN_FUSEDUMP:+ PIN_FUSEDUMP=$PIN_FUSEDUMP}${PIN_CLIENT:+ PIN_CLIENT=$PIN_CLIENT}"
	echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "medians over the rounds; ratio = mode/direct of the unit (time per op, time per"
	echo "MiB, time per walk; throughput for par8); rounds = min..max of the per-round ratios;"
	echo "fusedump = the proxy, mirror = fusedump --mirror, -d = libfuse's own debug log"
	echo
	printf '%-8s %-7s %-8s %10s %10s %7s %7s %-4s %-12s\n' workload unit mode direct value \
		ratio target mark rounds
	for w in "${WORKLOADS[@]}"; do
		d=$(median "$RES/direct.$w")
		for m in "${WAYS[@]}"; do
			f=$(median "$RES/$m.$w")
			ratio=$(awk -v a="$d" -v b="$f" 'BEGIN { printf "%.3f", b / a }')
			if [ "$m" = debug ]; then
				mark="" # the reference, not held to the target
			elif awk -v r="$ratio" -v l="${LIMIT[$w]}" -v s="${SENSE[$w]}" \
				'BEGIN { exit !(s == "<=" ? r <= l : r >= l) }'; then
				mark=ok
			else
				mark=MISS
				missed+=("$m:$w")
			fi
			printf '%-8s %-7s %-8s %10.2f %10.2f %6sx %2s%4sx %-4s %-12s\n' "$w" \
				"$(cat "$RES/unit.$w")" "${m/debug/-d}" "$d" "$f" "$ratio" "${SENSE[$w]}" \
				"${LIMIT[$w]}" "$mark" "$(spread "$RES/direct.$w" "$RES/$m.$w")"
		done
	done
	say_missed "${missed[@]}"
}

finish_table
