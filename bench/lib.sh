# What the bench/ scripts share; sourced after `set -u`. It sets the paths (BUILD_DIR and
# FUSEDUMP may come from the environment); scripts set WORK before calling finish_table.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
FUSEDUMP=${FUSEDUMP:-$BUILD_DIR/fusedump/fusedump}
PASSTHROUGH_LL=$BUILD_DIR/tests/daemons/passthrough_ll
FWBENCH=$BUILD_DIR/bench/fwbench
BENCH_OUT=${BENCH_OUT:-}

die() {
	echo "bench: $*" >&2
	exit 1
}

# check_mounting: what benchmarks that mount need: root, /dev/fuse, fusedump, passthrough_ll
# and fwbench built, ROUNDS and RUN_SECONDS that make sense.
check_mounting() {
	[ "$(id -u)" -eq 0 ] || die "needs root (mount(2) for tmpfs and FUSE)"
	[ -c /dev/fuse ] || die "/dev/fuse is missing"
	local b
	for b in "$FUSEDUMP" "$PASSTHROUGH_LL" "$FWBENCH"; do
		[ -x "$b" ] || die "$b is not built; run make build (with the tests: passthrough_ll is a test daemon)"
	done
	[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$ROUNDS'"
	[[ "$RUN_SECONDS" =~ ^[0-9]*\.?[0-9]+$ ]] || die "RUN_SECONDS must be a positive number, not '$RUN_SECONDS'"
}

# say_missed NAME...: the table's last line, for the targets missed (none: all met).
say_missed() {
	echo
	if [ $# -eq 0 ]; then
		echo "all targets met"
	else
		echo "MISSED targets: $*"
	fi
}

is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# bench_cleanup: the EXIT trap of the scripts that mount (WORK with SRC, a tmpfs, and
# MNT): show the logs (WORK/*.err) of a failed run, unmount, end the server (the script's
# server_alive and SERVER_PID), run the script's cleanup_extra if it has one, and remove
# WORK unless a mount is left in it.
bench_cleanup() {
	local rc=$? i f
	trap - EXIT
	if [ "$rc" -ne 0 ]; then
		for f in "$WORK"/*.err; do
			[ -s "$f" ] || continue
			echo "---- last lines of $f" >&2
			tail -n 20 "$f" >&2
		done
	fi
	if is_mounted "$MNT"; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if server_alive; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		for i in $(seq 100); do
			server_alive || break
			sleep 0.1
		done
		server_alive && kill -KILL "$SERVER_PID"
	fi
	! declare -F cleanup_extra >/dev/null || cleanup_extra
	is_mounted "$SRC" && umount "$SRC"
	if grep -q " $WORK/" /proc/mounts; then
		echo "bench: a mount under $WORK is left, not removing it" >&2
	else
		rm -rf --one-file-system "$WORK"
	fi
	exit "$rc"
}

# median FILE [COLUMN]: the median of the numbers in FILE, one a line (or in its COLUMN).
median() {
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# spread A B: min..max over the rounds of the paired ratios B[i]/A[i] (how noisy it was).
spread() {
	paste "$1" "$2" | awk 'NR == 1 || $2 / $1 < lo { lo = $2 / $1 } NR == 1 || $2 / $1 > hi { hi = $2 / $1 }
		END { printf "%.3f..%.3f", lo, hi }'
}

# round_order ROUND MODE...: the modes in the order of that round: as given in odd rounds,
# backwards in even ones (A B C, C B A, ...), so that no mode is always first or last.
round_order() {
	local round=$1 i
	shift
	local modes=("$@")
	if [ $((round % 2)) -eq 0 ]; then
		for ((i = ${#modes[@]} - 1; i >= 0; i--)); do
			echo "${modes[i]}"
		done
	else
		printf '%s\n' "${modes[@]}"
	fi
}

# finish_table: print the table that the script's table() writes, and copy it to
# BENCH_OUT; exit 0 (a missed target is a result, not an error).
finish_table() {
	table >"$WORK/table"
	cat "$WORK/table"
	if [ -n "$BENCH_OUT" ]; then
		cp "$WORK/table" "$BENCH_OUT" || die "cannot write $BENCH_OUT"
	fi
	exit 0
}
