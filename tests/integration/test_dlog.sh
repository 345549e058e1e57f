#!/usr/bin/env bash
# The trace of the transparency workload (tests/tools/fwload) agrees with the daemon's own
# account: passthrough_ll runs with -d behind fusedump, and the set of (unique, opcode) of
# the requests and (unique, error) of the replies in libfuse's debug log must equal those
# in fusedump's text trace. The trace must also pair every reply with its request (a
# latency on every reply line, a reply for every request that takes one), show the full
# path of every request's node, follow a rename, and decode every message cleanly.
# test_dlog_mirror.sh runs this with fusedump --mirror (FUSEDUMP_MODE: fusedump's options).
. "$(dirname "$0")/lib.sh"
[ -n "${FUSEDUMP_MODE+set}" ] || FUSEDUMP_MODE=()
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}" "${TOOLS_DIR:?}"
FWLOAD=$TOOLS_DIR/fwload
export LC_ALL=C # one collation for sort, comm and diff
[ -x "$FWLOAD" ] || fail "$FWLOAD is missing"

SRC=$WORK/src
DLOG=$WORK/daemon.dlog
mkdir "$SRC"
# fusedump takes the last existing directory among the daemon's arguments as the
# mountpoint, so the redirection of the -d log (stderr) lives in a wrapper that gets the
# mountpoint as its last argument.
{
	echo '#!/usr/bin/env bash'
	printf 'exec %q -f -d "$@" 2>%q\n' "$PASSTHROUGH_LL" "$DLOG"
} >"$WORK/passthrough_ll-d"
chmod +x "$WORK/passthrough_ll-d"

start_fusedump dlog "${FUSEDUMP_MODE[@]}" -- "$WORK/passthrough_ll-d" -o "source=$SRC,xattr,flock" "$MNT"
timeout -k 5 120 "$FWLOAD" "$MNT" >"$WORK/fwload.out" 2>&1 ||
	{ tail -n 5 "$WORK/fwload.out" >&2; fail "fwload failed"; }
grep -qx 'end: ok' "$WORK/fwload.out" || fail "fwload did not finish"
t umount "$MNT" || fail "umount failed"
wait_fusedump 30
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump exited $FD_RC after umount"; }
expect_no_mount

# ---- the trace on its own
trace_clean
if grep -Eq '^#[0-9]+ \? ' "$TRACE"; then
	grep -E '^#[0-9]+ \? ' "$TRACE" | head -3 >&2
	fail "the trace has replies to no known request"
fi
if grep -E '^#[0-9]+ ' "$TRACE" | grep -Evq ' [0-9]+us$'; then
	grep -E '^#[0-9]+ ' "$TRACE" | grep -Ev ' [0-9]+us$' | head -3 | cut -c1-300 >&2
	fail "reply lines without a latency (not paired with their request)"
fi
# A FORGET may come for a node that no longer has a name (unlinked, removed, replaced by
# a rename), so it may have no path; every other request on a node shows it.
nopath() {
	grep -E '^[A-Z][A-Z0-9_]* #[0-9]+ nodeid=' "$TRACE" | grep -Ev '^FORGET ' |
		grep -Ev '^[A-Z0-9_]+ #[0-9]+ nodeid=[0-9]+ "/'
}
if nopath >/dev/null; then
	nopath | head -3 | cut -c1-300 >&2
	fail "requests on a node without its full path"
fi
trace_has '^CREATE #[0-9]+ nodeid=[0-9]+ "/dir/sub" .*name="file"' "CREATE in /dir/sub"
trace_has '^WRITE #[0-9]+ nodeid=[0-9]+ "/dir/sub/file" ' "WRITE on /dir/sub/file"
trace_has '^SETXATTR #[0-9]+ nodeid=[0-9]+ "/dir/sub/file" ' "SETXATTR on /dir/sub/file"
trace_has '^RENAME #[0-9]+ nodeid=[0-9]+ "/dir/sub" .*oldname="file" newname="renamed"' "RENAME"
trace_has '^MKNOD #[0-9]+ nodeid=[0-9]+ "/many" .*name="f09999"' "MKNOD in /many"
# the node keeps its identity across the rename, and the trace follows it
node() {
	sed -nE "s|^$1 #[0-9]+ nodeid=([0-9]+) \"$2\" .*|\\1|p" "$TRACE" | head -1
}
file_node=$(node WRITE /dir/sub/file)
renamed_node=$(node OPEN /dir/sub/renamed)
[ -n "$renamed_node" ] || fail "no OPEN of /dir/sub/renamed in the trace"
[ "$file_node" = "$renamed_node" ] ||
	fail "/dir/sub/file was node $file_node, /dir/sub/renamed is node $renamed_node"
# every request that takes a reply got one (FORGET and BATCH_FORGET take none)
sed -nE 's/^([A-Z][A-Z0-9_]*) #([0-9]+)( .*)?$/\2 \1/p' "$TRACE" | sort >"$WORK/trace.req"
sed -nE 's/^#([0-9]+) ([A-Z0-9_?]+) = (-?[0-9]+)( .*)?$/\1 \3/p' "$TRACE" | sort >"$WORK/trace.rep"
awk '$2 != "FORGET" && $2 != "BATCH_FORGET" { print $1 }' "$WORK/trace.req" | sort >"$WORK/trace.req.u"
cut -d' ' -f1 "$WORK/trace.rep" | sort >"$WORK/trace.rep.u"
diff "$WORK/trace.req.u" "$WORK/trace.rep.u" >"$WORK/pairing.diff" ||
	{ head -5 "$WORK/pairing.diff" >&2; fail "requests without exactly one reply, or replies without a request"; }

# ---- the trace against the daemon's -d log. libfuse 3.14 logs, from one thread or
# another but a line at a time,
#   unique: 8, opcode: MKDIR (9), nodeid: 1, insize: 52, pid: 16067
#      unique: 8, success, outsize: 144
#      unique: 4, error: -38 (Function not implemented), outsize: 16
# for every request it reads and every reply it sends (a READ reply written with splice
# ends in "(splice)"). Nothing needs excluding: FORGET and BATCH_FORGET have no reply on
# either side, and an INTERRUPT is logged like any request.
[ -s "$DLOG" ] || fail "the daemon's -d log is empty"
sed -nE 's/^unique: ([0-9]+), opcode: ([A-Z0-9_]+) \([0-9]+\), nodeid: .*/\1 \2/p' "$DLOG" |
	sort >"$WORK/dlog.req"
sed -nE 's/^   unique: ([0-9]+), success, outsize: [0-9]+.*/\1 0/p;
	 s/^   unique: ([0-9]+), error: (-[0-9]+) \(.*\), outsize: [0-9]+.*/\1 \2/p' "$DLOG" |
	sort >"$WORK/dlog.rep"
{ [ -s "$WORK/dlog.req" ] && [ -s "$WORK/dlog.rep" ]; } || fail "no request or reply lines in the -d log"
# Requests: all of them, except FORGETs the kernel sent so late that the unmount ended the
# daemon before it read them (nothing waits for a FORGET); none is expected, but it is not
# a disagreement.
comm -23 "$WORK/trace.req" "$WORK/dlog.req" >"$WORK/only-trace.req"
comm -13 "$WORK/trace.req" "$WORK/dlog.req" >"$WORK/only-dlog.req"
late_forgets=$(grep -Ec ' (BATCH_)?FORGET$' "$WORK/only-trace.req")
if grep -Evq ' (BATCH_)?FORGET$' "$WORK/only-trace.req" || [ -s "$WORK/only-dlog.req" ]; then
	echo "in the trace only:" >&2
	grep -Ev ' (BATCH_)?FORGET$' "$WORK/only-trace.req" | head -5 >&2
	echo "in the -d log only:" >&2
	head -5 "$WORK/only-dlog.req" >&2
	fail "the requests (unique, opcode) of the trace and of the daemon's -d log differ"
fi
diff "$WORK/trace.rep" "$WORK/dlog.rep" >"$WORK/replies.diff" ||
	{ head -10 "$WORK/replies.diff" >&2; fail "the replies (unique, error) of the trace and of the daemon's -d log differ"; }

nreq=$(wc -l <"$WORK/trace.req")
nrep=$(wc -l <"$WORK/trace.rep")
nerr=$(awk '$2 != 0' "$WORK/trace.rep" | wc -l)
echo "PASS: $TEST_NAME ($nreq requests and $nrep replies ($nerr errors) agree with the -d log; FORGETs unread at the end: $late_forgets)"
