#!/usr/bin/env bash
# Golden tests: `fusedump -r` prints the real captures in captures/ and the damaged ones in
# damaged/ exactly as committed in expected/. cases.txt lists the cases (capture, expected
# output, exit status, options). Exit 1 when an output, an error message or an exit status
# differs (the diff is shown), when a capture lacks its default, -v or --json case, or when
# expected/ has a file no case uses.
#
#   tests/golden/run.sh [NAME...]     the cases named, or all
#   tests/golden/regen.sh [NAME...]   rewrite the expected outputs (says which changed)
#
# FUSEDUMP: the program to test (default: build/fusedump/fusedump; ctest passes its own).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FUSEDUMP=${FUSEDUMP:-$ROOT/build/fusedump/fusedump}
EXP=$HERE/expected
REGEN=0
if [ "${1:-}" = --regen ]; then
	REGEN=1
	shift
fi
[ -x "$FUSEDUMP" ] || { echo "golden: $FUSEDUMP is missing (make build)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-golden.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
# the captures are named relative to the top, and error messages repeat the name
cd "$ROOT" || exit 1

ncases=0 nfailed=0 nchanged=0
declare -A used=() covered=()

# same WANT GOT: GOT is WANT's content (a missing WANT stands for nothing).
same() {
	if [ -f "$1" ]; then
		cmp -s "$1" "$2"
	else
		[ ! -s "$2" ]
	fi
}

# show_diff WHAT WANT GOT: the first lines of the difference.
show_diff() {
	local want=$2
	[ -f "$want" ] || want=/dev/null
	echo "  $1 differs (- expected, + got):"
	diff -u "$want" "$3" | sed -n '3,42s/^/  /p'
}

# regen_file FILE GOT: FILE becomes GOT's content (removed when GOT is empty and FILE is
# an .err file), and says so when that changed it.
regen_file() {
	same "$1" "$2" && return 0
	if [ ! -s "$2" ] && [[ $1 == *.err ]]; then
		rm -f "$1"
	else
		cp "$2" "$1"
	fi
	echo "changed: ${1#"$ROOT"/}"
	nchanged=$((nchanged + 1))
}

exec 3<"$HERE/cases.txt"
while read -r name capture expected status opts <&3; do
	case $name in '' | '#'*) continue ;; esac
	used[$expected]=1
	used[$expected.err]=1
	covered[$capture ${opts}]=1
	if [ $# -gt 0 ]; then
		[[ " $* " == *" $name "* ]] || continue
	fi
	read -ra o <<<"$opts"
	"$FUSEDUMP" -r "$capture" "${o[@]}" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	ncases=$((ncases + 1))
	if [ "$REGEN" = 1 ]; then
		regen_file "$EXP/$expected" "$TMP/out"
		regen_file "$EXP/$expected.err" "$TMP/err"
		if [ "$rc" != "$status" ]; then
			echo "$name: exit status $rc, but cases.txt says $status" >&2
			nfailed=$((nfailed + 1))
		fi
		continue
	fi
	bad=""
	same "$EXP/$expected" "$TMP/out" || bad+=$(show_diff "stdout" "$EXP/$expected" "$TMP/out")$'\n'
	same "$EXP/$expected.err" "$TMP/err" || bad+=$(show_diff "stderr" "$EXP/$expected.err" "$TMP/err")$'\n'
	[ "$rc" = "$status" ] || bad+="  exit status $rc, expected $status"$'\n'
	if [ -n "$bad" ]; then
		echo "FAIL: $name: fusedump -r $capture${opts:+ $opts}"
		printf '%s' "$bad"
		nfailed=$((nfailed + 1))
	fi
done

if [ $# -eq 0 ]; then
	for c in captures/*.pcap; do
		for opt in "" "-v" "--json"; do
			[ -n "${covered[$c $opt]:-}" ] && continue
			echo "FAIL: no case runs fusedump -r $c${opt:+ $opt} (cases.txt)"
			nfailed=$((nfailed + 1))
		done
	done
	for f in "$EXP"/*; do
		[ -e "$f" ] || continue
		[ -n "${used[${f##*/}]:-}" ] && continue
		echo "FAIL: expected/${f##*/} belongs to no case in cases.txt"
		nfailed=$((nfailed + 1))
	done
fi

if [ "$REGEN" = 1 ]; then
	echo "$ncases cases regenerated, $nchanged files changed"
elif [ "$nfailed" -eq 0 ]; then
	echo "$ncases cases passed"
else
	echo "$nfailed of $ncases cases failed"
fi
[ "$nfailed" -eq 0 ]
