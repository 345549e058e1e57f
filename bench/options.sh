#!/usr/bin/env bash
# What fusedump's options cost (see bench/README.md): the walk workload of fwbench (stat
# every file of a 10,000-file tree, again and again) on libfuse's passthrough_ll behind
# fusedump, several ways, in ROUNDS rounds that alternate them (P T X L, L X T P, ...):
#   plain:   fusedump -o /dev/null              (the trace, to /dev/null: bench/run.sh's mode)
#   top:     fusedump --top                     (the view instead of the trace)
#   top+o:   fusedump --top -o /dev/null        (the view and the trace)
#   lua:     fusedump -o /dev/null -g noop.lua  (a script whose hook does nothing)
#   plain2:  plain again, with CONTROL=1: its ratio to plain is the noise of the machine
# Every mode runs in a tmux pane of TOP_SIZE (a private tmux server), which draws the screen
# as a terminal would: its work is part of what --top costs. plain runs there too, although
# it draws nothing: a pane is a session of its own, which the scheduler's autogroups give a
# share of the CPUs of its own, apart from fwbench's; that alone made plain fusedump 1.35x
# slower on a 2-CPU machine than started from this script. The table gives the medians and
# the ratios to plain; the issue's target is at most 1.05. A missed target is a result:
# exit 0 unless the benchmark could not run.
#
# Environment: ROUNDS (7), RUN_SECONDS (4, per walk measurement), TOP_SIZE (200x60),
# MODES (the modes after plain, default "top top+o lua"), CONTROL (1: add plain2),
# BUILD_DIR (build), FUSEDUMP (another fusedump binary), BENCH_OUT (a file for the table too).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-7}
RUN_SECONDS=${RUN_SECONDS:-4}
TOP_SIZE=${TOP_SIZE:-200x60}
LIMIT=1.05

read -r -a extra <<<"${MODES:-top top+o lua}"
MODES=(plain "${extra[@]}")
[ "${CONTROL:-}" = 1 ] && MODES+=(plain2)
for m in "${MODES[@]}"; do
	case $m in plain | plain2 | top | top+o | lua) ;; *) echo "bench: unknown mode '$m'" >&2; exit 1 ;; esac
done

check_mounting
command -v tmux >/dev/null || die "tmux is missing (apt-get install tmux)"
[[ "$TOP_SIZE" =~ ^([0-9]+)x([0-9]+)$ ]] || die "TOP_SIZE must be COLUMNSxROWS, not '$TOP_SIZE'"
TOP_W=${BASH_REMATCH[1]}
TOP_H=${BASH_REMATCH[2]}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-benchopt.XXXXXX") || exit 1
SRC=$WORK/src
MNT=$WORK/mnt
RES=$WORK/res
mkdir "$SRC" "$MNT" "$RES"
SERVER_PID=""   # the fusedump serving the mount now
PANE=""         # where pane.sh writes the pid and the status of SERVER_PID
TMUX_SOCK=$WORK/tmux.sock # a private server, whose socket goes with $WORK
# the lua mode's script: a hook on every request that does nothing
echo 'function on_request(req) end' >"$WORK/noop.lua"

# In the tmux pane: run fusedump ("$@") with its pid in $1.pid, its standard error in
# $1.err and its exit status in $1.rc. A shell of ours waits for it: the tmux server (3.3a)
# has been seen not to reap its pane's process at times, leaving a zombie with no status.
cat >"$WORK/pane.sh" <<'EOF'
out=$1
shift
sh -c 'echo $$ >"$0"; exec "$@"' "$out.pid" "$@" 2>>"$out.err"
echo $? >"$out.rc"
EOF

tm() {
	TMUX='' tmux -S "$TMUX_SOCK" -f /dev/null "$@"
}

# Whether SERVER_PID runs: pane.sh waits for it, and it has ended once its status is
# written; before a signal, its name says that the pid is still fusedump's.
server_running() {
	[ -n "$SERVER_PID" ] && [ ! -s "$PANE.rc" ] # (the shell makes the file before it writes)
}
server_alive() {
	server_running && [ "$(cat "/proc/$SERVER_PID/comm" 2>/dev/null)" = fusedump ]
}

# for bench_cleanup: the private tmux server goes too
cleanup_extra() {
	tm kill-server 2>/dev/null
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# mount_mode MODE ROUND: serve $MNT through fusedump in MODE and wait until it answers. The same
# daemon and options as bench/run.sh: cache=never, so that every walk reaches the daemon.
mount_mode() {
	local mode=$1 i
	local cmd=("$FUSEDUMP")
	case $mode in
	plain | plain2) cmd+=(-o /dev/null) ;;
	lua) cmd+=(-o /dev/null -g "$WORK/noop.lua") ;;
	top) cmd+=(--top) ;;
	top+o) cmd+=(--top -o /dev/null) ;;
	esac
	cmd+=(-- "$PASSTHROUGH_LL" -o "source=$SRC,cache=never" -f "$MNT")
	PANE=$WORK/pane-$mode-$2
	tm new-session -d -s top -x "$TOP_W" -y "$TOP_H" "bash $WORK/pane.sh $PANE ${cmd[*]}" ||
		die "$mode: cannot start tmux"
	for i in $(seq 100); do
		[ -s "$PANE.pid" ] && break
		sleep 0.1
	done
	SERVER_PID=$(cat "$PANE.pid" 2>/dev/null) || die "$mode: fusedump did not start in tmux"
	for i in $(seq 100); do
		is_mounted "$MNT" && break
		server_running || die "$mode: exited before mounting"
		sleep 0.1
	done
	is_mounted "$MNT" || die "$mode: $MNT not mounted after 10 s"
	timeout 10 stat "$MNT/tree" >/dev/null || die "$mode: the mount does not answer"
}

# unmount_mode MODE: unmount; fusedump must exit 0.
unmount_mode() {
	local mode=$1 i rc
	[[ "$mode" != top* ]] || tm capture-pane -p -t top >"$WORK/last-screen"
	timeout 30 umount "$MNT" || die "$mode: umount failed"
	for i in $(seq 300); do
		server_running || break
		sleep 0.1
	done
	server_running && die "$mode: still running 30 s after umount"
	rc=$(cat "$PANE.rc")
	tm kill-server 2>/dev/null
	SERVER_PID=""
	[ "$rc" = 0 ] || die "$mode: exited '$rc' after umount"
}

run_walk() {
	local mode=$1 round=$2 line f
	line=$(timeout 600 "$FWBENCH" walk "$MNT/tree" "$RUN_SECONDS") || die "$mode: fwbench walk failed"
	printf 'round %d %-6s %s\n' "$round" "$mode" "$line" >&2
	read -r -a f <<<"$line"
	echo "${f[1]}" >>"$RES/$mode"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
mount -t tmpfs -o size=1g,mode=0755 fusewire-benchopt "$SRC" || die "cannot mount a tmpfs on $SRC"
"$FWBENCH" setup "$SRC" >&2 || die "fwbench setup failed"

echo "bench: $ROUNDS rounds of ${MODES[*]}, ${RUN_SECONDS}s of walks each, --top in ${TOP_SIZE}" >&2
for round in $(seq "$ROUNDS"); do
	mapfile -t order < <(round_order "$round" "${MODES[@]}")
	for mode in "${order[@]}"; do
		mount_mode "$mode" "$round"
		run_walk "$mode" "$round"
		unmount_mode "$mode"
	done
done

# A --top screen as it was at the end of a run (if --top ran): it must have shown the walk.
[ ! -e "$WORK/last-screen" ] || grep -Eq '^LOOKUP +[0-9]' "$WORK/last-screen" ||
	die "the last --top screen shows no LOOKUP row: $(cat "$WORK/last-screen")"

table() {
	local p m med ratio mark
	p=$(median "$RES/plain")
	echo "fusewire bench (fusedump options): $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(uname -r), $(nproc) CPUs," \
		"fusedump $FUSEDUMP, ROUNDS=$ROUNDS RUN_SECONDS=$RUN_SECONDS TOP_SIZE=$TOP_SIZE"
	echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "walk of 10,000 files, ms per walk: medians over the rounds; ratio = mode/plain"
	echo "(target <= ${LIMIT}x); rounds = min..max of the per-round ratios"
	echo
	printf '%-7s %10s %8s %-7s %-12s %s\n' mode ms/walk ratio mark rounds "all rounds"
	for m in "${MODES[@]}"; do
		med=$(median "$RES/$m")
		ratio=$(awk -v a="$p" -v b="$med" 'BEGIN { printf "%.3f", b / a }')
		if [ "$m" = plain ]; then
			mark=""
		elif [ "$m" = plain2 ]; then
			mark="(noise)"
		elif awk -v r="$ratio" -v l="$LIMIT" 'BEGIN { exit !(r <= l) }'; then
			mark=ok
		else
			mark=MISS
		fi
		printf '%-7s %10.2f %7sx %-7s %-12s %s\n' "$m" "$med" "$ratio" "$mark" \
			"$(spread "$RES/plain" "$RES/$m")" "$(paste -sd ' ' "$RES/$m")"
	done
}

finish_table
