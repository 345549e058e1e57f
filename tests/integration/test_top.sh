#!/usr/bin/env bash
# fusedump --top on a real terminal: a tmux pane (a private tmux server, read back with
# capture-pane) running fusedump --top on tests/daemons/hang_ll, which never answers a READ
# of "stuck".
#  0. without a terminal (stdin or stdout), --top refuses with exit 2 and a message;
#  1. a workload of known counts (7 cats of "hello", 13 stats of missing names) shows
#     exactly those counts (LOOKUP 14 with 13 errors, OPEN/READ/FLUSH/RELEASE 7, ENOENT 13);
#     the keys: help, sort by name and back, select, pause (counts frozen, then caught up),
#     write the screen to a file, zero; q quits: status 0, the mount gone, the pane back at
#     its prompt with the same stty settings, no alternate screen, the cursor on; -w wrote
#     a capture meanwhile;
#  2. a READ that is never answered is the first request in flight within 2 s, with its
#     path and an age that grows, while other requests come and go; a later one that is
#     never answered either comes second (oldest first); q unmounts (lazily: the readers
#     keep the mount busy) and says so; a second q closes /dev/fuse: the readers get an
#     error, fusedump ends 0, the terminal is sane;
#  2b. an OPEN that a Lua script (hang.lua) drops is the first request in flight within
#     2 s; when its program is killed, the kernel's INTERRUPT is answered and it leaves
#     the list; one q ends fusedump;
#  3. resized from 200x60 to 80x24 while busy: the frame is the 80x24 layout (header,
#     sections where they belong, nothing past column 80, no rows of the old layout);
#  4. --top -r of run 1's capture: as fast as read, the same counts and the end of the
#     capture; at --speed 2, it takes about half as long as the run took.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${DAEMONS_DIR:?}"
HANG_LL=$DAEMONS_DIR/hang_ll
[ -x "$HANG_LL" ] || fail "$HANG_LL is not built"
command -v tmux >/dev/null || fail "tmux is missing (apt-get install tmux)"

TMUX_SOCK=$WORK/tmux.sock # a private server, whose socket goes with $WORK
PROMPT='top-test$'
TOP_PID=""  # the fusedump running in the pane, not our child

tm() {
	TMUX='' tmux -S "$TMUX_SOCK" -f /dev/null "$@"
}

top_alive() {
	[ -n "$TOP_PID" ] && [ "$(cat "/proc/$TOP_PID/comm" 2>/dev/null)" = fusedump ]
}

# Before lib.sh's cleanup: end our tmux server, which hangs up the pane (fusedump takes
# SIGHUP as SIGINT and unmounts). A fusedump still there 5 s later gets SIGTERM, a second
# signal, which closes /dev/fuse and frees a reader stuck on hang_ll; then SIGKILL, after
# which its watchdog unmounts.
top_cleanup() {
	local rc=$? i
	tm kill-server 2>/dev/null
	for i in $(seq 200); do
		top_alive || break
		[ "$i" -eq 50 ] && kill -TERM "$TOP_PID"
		sleep 0.1
	done
	top_alive && kill -KILL "$TOP_PID"
	return "$rc"
}
trap 'top_cleanup; cleanup' EXIT

screen() {
	tm capture-pane -p -t top
}

# The screen's row $1 (1-based).
row() {
	screen | sed -n "${1}p"
}

# has REGEX / lacks REGEX: the screen has (no) line matching the extended REGEX; title
# REGEX, bottom REGEX: its first or its last line matches.
has() {
	screen | grep -Eq -- "$1"
}
lacks() {
	! has "$1"
}
title() {
	row 1 | grep -Eq -- "$1"
}
bottom() {
	screen | tail -1 | grep -Eq -- "$1"
}

keys() {
	tm send-keys -t top "$@"
}

type_line() {
	tm send-keys -t top -l "$1" && tm send-keys -t top Enter
}

# run_top NAME FUSEDUMP-ARGS...: start fusedump in the pane (its pid in TOP_PID); when it
# ends, its status goes to $WORK/NAME.rc, and the terminal settings from before and after
# to NAME.stty0 and NAME.stty1.
run_top() {
	local name=$1
	shift
	rm -f "$WORK/$name.pid" "$WORK/$name.rc"
	local args
	args=$(printf '%q ' "$FUSEDUMP" "$@")
	type_line "stty -g >$WORK/$name.stty0; sh -c 'echo \$\$ >\"\$0\"; exec \"\$@\"' $WORK/$name.pid $args; echo \$? >$WORK/$name.rc; stty -g >$WORK/$name.stty1"
	until_ok 10 test -s "$WORK/$name.pid" || fail "$name: fusedump did not start in the pane"
	TOP_PID=$(cat "$WORK/$name.pid")
}

# top_ended NAME SECONDS: fusedump ended with status 0 and left the terminal as it was.
top_ended() {
	local name=$1
	until_ok "$2" test -s "$WORK/$name.stty1" || { screen >&2; fail "$name: fusedump still running after $2 s"; }
	TOP_PID=""
	local rc
	rc=$(cat "$WORK/$name.rc")
	[ "$rc" -eq 0 ] || { screen >&2; fail "$name: fusedump exited $rc"; }
	cmp -s "$WORK/$name.stty0" "$WORK/$name.stty1" ||
		fail "$name: the terminal settings changed: $(cat "$WORK/$name.stty0") -> $(cat "$WORK/$name.stty1")"
	until_ok 5 at_prompt || { screen >&2; fail "$name: the pane is not back at the shell prompt"; }
	local flags
	flags=$(tm display -p -t top '#{alternate_on} #{cursor_flag} #{keypad_cursor_flag}')
	[ "$flags" = "0 1 0" ] ||
		fail "$name: alternate screen, cursor visible, keypad mode are '$flags', expected '0 1 0'"
}

at_prompt() {
	[ "$(screen | grep -v '^$' | tail -1)" = "$PROMPT" ]
}

# op_is OP REQS ERRS: the opcode table's row for OP shows these counts.
op_is() {
	screen | awk -v op="$1" -v r="$2" -v e="$3" '$1 == op { found = ($2 == r && $4 == e) } END { exit !found }'
}

expect_op() {
	until_ok 5 op_is "$@" || {
		screen >&2
		fail "$CASE: the row of $1 does not show $2 requests and $3 errors"
	}
}

# The first row under the in-flight header.
first_in_flight() {
	screen | sed -n '/^IN FLIGHT/{n;p;q}'
}

# Column $1 of the opcode table's rows, in the order shown.
op_column() {
	screen | sed -n '/^OP  /,/BUSIEST PATHS/p' | sed '1d;$d' | awk -v c="$1" '{ print $c }'
}
op_rows() {
	op_column 1
}
sorted_by_name() {
	[ "$(op_rows)" = "$(op_rows | LC_ALL=C sort)" ]
}
sorted_by_reqs() {
	op_column 2 | sort -c -n -r 2>/dev/null
}

# The READ of /stuck is the first request in flight; with an argument, the READ of
# /stuck2 the second.
stuck_first() {
	screen | sed -n '/^IN FLIGHT/{n;p;n;p;q}' >"$WORK/flight"
	sed -n 1p "$WORK/flight" | grep -Eq '^ +[0-9.]+s READ +[0-9]+ +[0-9]+  /stuck$' || return 1
	[ $# -eq 0 ] || sed -n 2p "$WORK/flight" | grep -Eq '^ +[0-9.]+s READ +[0-9]+ +[0-9]+  /stuck2$'
}

shot_written() {
	ls "$WORK"/fusedump-top-*.txt >/dev/null 2>&1
}

expect_unmounted() {
	! is_mounted "$MNT"
}

reader_ended() {
	! running "$READER" && ! running "$READER2"
}

ended() {
	! running "$1"
}

# The OPEN of /hello is the first request in flight.
open_first() {
	first_in_flight | grep -Eq '^ +[0-9.]+s OPEN +[0-9]+ +[0-9]+  /hello$'
}

wait_mounted() {
	until_ok 10 is_mounted "$MNT" || { screen >&2; fail "$CASE: $MNT not mounted after 10 s"; }
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# ---- 0: no terminal
CASE=noterm
"$FUSEDUMP" --top -- "$HANG_LL" -f "$MNT" </dev/null >"$WORK/noterm.out" 2>"$WORK/noterm.err"
rc=$?
[ "$rc" -eq 2 ] || fail "--top without a terminal exited $rc, expected 2"
grep -qx 'fusedump: --top needs a terminal (standard input and output)' "$WORK/noterm.err" ||
	fail "--top without a terminal said: $(cat "$WORK/noterm.err")"
[ ! -s "$WORK/noterm.out" ] || fail "--top without a terminal wrote to stdout"
expect_no_mount

tm new-session -d -s top -x 200 -y 60 \
	"env TERM=screen PS1='$PROMPT ' HISTFILE=/dev/null bash --norc --noprofile" ||
	fail "cannot start tmux"
until_ok 5 at_prompt || fail "no shell prompt in the tmux pane"
type_line "cd $WORK"

# stdout redirected, stdin still the terminal
type_line "$FUSEDUMP --top -- $HANG_LL -f $MNT >$WORK/noterm2.out 2>$WORK/noterm2.err; echo \$? >$WORK/noterm2.rc"
until_ok 10 test -s "$WORK/noterm2.rc" || fail "--top with stdout to a file did not end"
[ "$(cat "$WORK/noterm2.rc")" -eq 2 ] || fail "--top with stdout to a file exited $(cat "$WORK/noterm2.rc")"
grep -q 'needs a terminal' "$WORK/noterm2.err" || fail "--top with stdout to a file said: $(cat "$WORK/noterm2.err")"
expect_no_mount

# ---- 1: known counts, the keys, q
CASE=counts
T0=$(now_ms)
run_top counts --top -w "$WORK/counts.pcap" -- "$HANG_LL" -f "$MNT"
wait_mounted
until_ok 5 title "^fusedump --top  hang_ll on $MNT " || { screen >&2; fail "no title line naming the mount"; }
for i in $(seq 7); do
	[ "$(t cat "$MNT/hello")" = "Hello World!" ] || fail "cat hello failed"
done
for i in $(seq 13); do
	t stat "$MNT/missing$i" >/dev/null 2>&1 && fail "missing$i exists"
done
expect_op LOOKUP 14 13
expect_op OPEN 7 0
expect_op READ 7 0
expect_op FLUSH 7 0
expect_op RELEASE 7 0
has '^ERRORS 13 .* ENOENT 13$' || { screen >&2; fail "the errors line does not say ENOENT 13"; }
has '^req/s [0-9.]+[kMGT]?  in flight 0  ' || { screen >&2; fail "the totals line does not say 0 in flight"; }
has 'LATENCY LOOKUP' || { screen >&2; fail "no latency histogram of LOOKUP (the first row)"; }
screen | grep -A1 'BUSIEST PATHS' | tail -1 | grep -Eq '^ +[0-9]+ +0 +[0-9.]+B  /hello( |$)' ||
	{ screen >&2; fail "/hello is not the busiest path"; }

keys '?'
until_ok 3 has 'fusedump --top: keys' || fail "? shows no help"
keys x
until_ok 3 lacks 'fusedump --top: keys' || fail "a key does not close the help"

keys '<' # sort by name
until_ok 3 sorted_by_name || { screen >&2; fail "< does not sort the opcodes by name"; }
keys '>' # back to the request counts
until_ok 3 sorted_by_reqs || { screen >&2; fail "> does not sort the opcodes by requests again"; }
second=$(op_rows | sed -n 2p)
keys Down
until_ok 3 has "LATENCY $second" || { screen >&2; fail "Down does not select $second"; }

keys p
until_ok 3 title PAUSED || fail "p does not pause"
for i in $(seq 5); do
	t stat "$MNT/paused$i" >/dev/null 2>&1 && fail "paused$i exists"
done
sleep 1
op_is LOOKUP 14 13 || { screen >&2; fail "the counts moved while paused"; }
keys p
expect_op LOOKUP 19 18

keys w
until_ok 3 bottom '^write the screen to: fusedump-top-' || fail "w asks for no file name"
keys Enter
until_ok 3 shot_written || fail "w wrote no file"
shot=$(ls "$WORK"/fusedump-top-*.txt | head -1)
grep -q '^fusedump --top  hang_ll on ' "$shot" && grep -Eq '^LOOKUP +19 ' "$shot" ||
	fail "the written screen lacks the title or the LOOKUP row: $(head -20 "$shot")"
[ "$(wc -l <"$shot")" -eq 60 ] || fail "the written screen has $(wc -l <"$shot") lines, not 60"

keys z
until_ok 3 lacks '^LOOKUP ' || { screen >&2; fail "z does not zero the counts"; }
t stat "$MNT/zeroed" >/dev/null 2>&1
expect_op LOOKUP 1 1

# / a display filter: only the matching messages are counted from then on
keys /
until_ok 3 bottom '^filter \(Lua' || { screen >&2; fail "/ asks for no filter"; }
type_line 'op == "OPEN" or (dir == "reply" and error ~= 0)'
until_ok 3 lacks '^LOOKUP ' || { screen >&2; fail "a new filter does not zero the counts"; }
for i in $(seq 3); do
	[ "$(t cat "$MNT/hello")" = "Hello World!" ] || fail "cat hello failed under the filter"
	t stat "$MNT/filtered$i" >/dev/null 2>&1 && fail "filtered$i exists"
done
expect_op OPEN 3 0
expect_op LOOKUP 0 3 # the failed replies, not the requests
lacks '^READ ' || { screen >&2; fail "the filter lets READ through"; }
keys /
until_ok 3 bottom '^filter \(Lua.*op == "OPEN"' || { screen >&2; fail "/ does not start from the filter in force"; }
keys C-u
type_line 'op =='
until_ok 3 bottom '^-Y: ' || { screen >&2; fail "a filter that does not compile is not reported"; }
keys /
keys C-u Enter
until_ok 3 bottom 'no filter' || { screen >&2; fail "an empty filter does not clear it"; }
T1=$(now_ms)

keys q
top_ended counts 20
expect_no_mount
[ -s "$WORK/counts.pcap" ] || fail "-w wrote no capture while --top ran"

# ---- 2: a request never answered
CASE=hang
run_top hang --top -- "$HANG_LL" -f "$MNT"
wait_mounted
until_ok 5 has '^IN FLIGHT 0' || { screen >&2; fail "no in-flight section"; }
# other requests come and go meanwhile
(for i in $(seq 300); do stat "$MNT/busy$i" >/dev/null 2>&1; sleep 0.01; done) &
BUSY=$!
PIDS+=("$BUSY")
start=$(now_ms)
cat "$MNT/stuck" >/dev/null 2>"$WORK/stuck.err" &
READER=$!
PIDS+=("$READER")
until_ok 3 stuck_first || { screen >&2; fail "the READ of /stuck is not the first request in flight"; }
took=$(($(now_ms) - start))
[ "$took" -le 2000 ] || fail "the READ of /stuck took $took ms to show, more than 2 s"
age1=$(first_in_flight | awk '{ print $1 }')
sleep 1.5
stuck_first || { screen >&2; fail "/stuck is no longer the first in flight"; }
age2=$(first_in_flight | awk '{ print $1 }')
awk -v a="${age1%s}" -v b="${age2%s}" 'BEGIN { exit !(b >= a + 1.2) }' ||
	fail "the age of the stuck READ went from $age1 to $age2 in 1.5 s"
cat "$MNT/stuck2" >/dev/null 2>"$WORK/stuck2.err" &
READER2=$!
PIDS+=("$READER2")
until_ok 3 stuck_first 2 || { screen >&2; fail "the READs of /stuck and /stuck2 are not first and second in flight"; }
wait "$BUSY"
forget "$BUSY"
running "$READER" || fail "the reader of /stuck ended: it was answered"
keys q
until_ok 5 bottom '^quitting: unmounting \(q again: close /dev/fuse' ||
	{ screen >&2; fail "q does not say that it unmounts"; }
until_ok 5 expect_unmounted || fail "q did not unmount"
sleep 1
top_alive || fail "fusedump ended with a request in flight and its reader holding the mount"
keys q
top_ended hang 20
until_ok 10 reader_ended || fail "a reader of /stuck or /stuck2 still waits after the second q"
wait "$READER" && fail "the READ of /stuck succeeded"
wait "$READER2" && fail "the READ of /stuck2 succeeded"
forget "$READER" "$READER2"

# ---- 2b: a request dropped by a Lua script
CASE=lua
run_top lua --top -g "hang.lua op=OPEN path=^/hello$" -- "$HANG_LL" -f "$MNT"
wait_mounted
start=$(now_ms)
cat "$MNT/hello" >/dev/null 2>&1 &
READER=$!
PIDS+=("$READER")
until_ok 3 open_first || { screen >&2; fail "the dropped OPEN of /hello is not the first request in flight"; }
took=$(($(now_ms) - start))
[ "$took" -le 2000 ] || fail "the dropped OPEN took $took ms to show, more than 2 s"
sleep 1
running "$READER" || fail "the reader of /hello ended: its OPEN was answered"
open_first || { screen >&2; fail "the dropped OPEN left the list while its reader waits"; }
kill -TERM "$READER"
until_ok 5 ended "$READER" || fail "the reader of /hello did not end on SIGTERM"
forget "$READER"
until_ok 3 has '^IN FLIGHT 0' || { screen >&2; fail "the interrupted OPEN is still in flight"; }
keys q
top_ended lua 20
expect_no_mount

# ---- 3: resize while busy
CASE=resize
run_top resize --top -- "$HANG_LL" -f "$MNT"
wait_mounted
(for i in $(seq 600); do stat "$MNT/r$i" >/dev/null 2>&1; cat "$MNT/hello" >/dev/null; done) &
BUSY=$!
PIDS+=("$BUSY")
until_ok 5 has '^LOOKUP ' || { screen >&2; fail "no LOOKUP row at 200x60"; }
line=$(row 1)
[ "${#line}" -ge 190 ] || fail "the title line is not about 200 wide at 200x60: '$line'"
tm resize-window -t top -x 80 -y 24
sleep 1
running "$BUSY" || fail "the workload ended before the resize was checked: make it longer"
check_80x24() {
	local s
	s=$(screen)
	[ "$(printf '%s\n' "$s" | wc -l)" -eq 24 ] || { echo "not 24 rows"; return 1; }
	[ "$(printf '%s\n' "$s" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')" -le 80 ] ||
		{ echo "a row is wider than 80"; return 1; }
	printf '%s\n' "$s" | sed -n 1p | grep -Eq "^fusedump --top  hang_ll on .* [0-9]{2}:[0-9]{2}:[0-9]{2}$" ||
		{ echo "row 1 is not the title with the clock at column 80"; return 1; }
	printf '%s\n' "$s" | sed -n 2p | grep -q '^req/s ' || { echo "row 2 is not the totals"; return 1; }
	printf '%s\n' "$s" | sed -n 3p | grep -q '^ERRORS ' || { echo "row 3 is not the errors"; return 1; }
	printf '%s\n' "$s" | sed -n 4p | grep -q '^IN FLIGHT ' || { echo "row 4 is not the in-flight header"; return 1; }
	printf '%s\n' "$s" | sed -n 9p | grep -q '^OP  ' || { echo "row 9 is not the opcode header"; return 1; }
	[ "$(printf '%s\n' "$s" | grep -c 'BUSIEST PATHS')" -eq 1 ] || { echo "not one paths header"; return 1; }
	printf '%s\n' "$s" | sed -n 24p | grep -q 'q quit  ? help$' || { echo "row 24 is not the key line"; return 1; }
	# between the headers, only opcode rows; below, path rows (and the histogram)
	printf '%s\n' "$s" | sed -n '10,/BUSIEST PATHS/p' | sed '$d' |
		grep -Evq '^[A-Z_0-9]+ +[0-9.]+[kMGT]? +[0-9.]+[kMGT]? +[0-9.]+[kMGT]? +[0-9]+ ' &&
		{ echo "a row of the opcode table is not one"; return 1; }
	printf '%s\n' "$s" | sed -n '/BUSIEST PATHS/,$p' | sed '1d;$d' | cut -c1-47 | sed 's/ *$//' |
		grep -Evq '^( +[0-9.]+[kMGT]? +[0-9.]+[kMGT]? +[0-9.]+(B|KiB|MiB|GiB)  /[^ ]*)?$' &&
		{ echo "a row of the paths is not one"; return 1; }
	return 0
}
why=$(check_80x24) || { screen >&2; fail "after the resize to 80x24: $why"; }
keys C-l # a full redraw: it must give the same layout
sleep 0.5
why=$(check_80x24) || { screen >&2; fail "after ^L at 80x24: $why"; }
keys q
top_ended resize 20
wait "$BUSY"
forget "$BUSY"
expect_no_mount
tm resize-window -t top -x 200 -y 60

# ---- 4: the capture of run 1, read back
CASE=replay
run_top replay0 --top -r "$WORK/counts.pcap" --speed 0
until_ok 10 title 'end of capture' || { screen >&2; fail "--speed 0: no end of the capture"; }
expect_op LOOKUP 23 22
expect_op OPEN 10 0
bottom '^the end of the capture; q to quit' || { screen >&2; fail "no end-of-capture line"; }
keys q
top_ended replay0 10

span=$((T1 - T0))
start=$(now_ms)
run_top replay2 --top -r "$WORK/counts.pcap" --speed 2
until_ok 60 title 'end of capture' || { screen >&2; fail "--speed 2: no end of the capture"; }
took=$(($(now_ms) - start))
[ "$took" -ge $((span * 4 / 10)) ] ||
	fail "--speed 2 played a capture of about $span ms in $took ms: not paced"
expect_op LOOKUP 23 22
keys q
top_ended replay2 10

echo "$TEST_NAME: ok"
