#!/usr/bin/env bash
# The Wireshark dissector (build/dissectors/fuse.lua) in tshark: over captures made from the
# recorded sessions in tests/data by tests/tools/hex2pcap, over damaged and hand-made
# records, and (as root with /dev/fuse) over a live `fusedump -w` capture of hello_ll.
# Opcode names, body fields and filters, replies paired with their requests and response
# times, errors, expert info where a record is damaged and nowhere else, no Lua errors, and
# a field prefix for every row of libproto's opcode table. Skipped (77) only without tshark.
. "$(dirname "$0")/lib.sh"
: "${TOOLS_DIR:?}"

if ! command -v tshark >/dev/null; then
	echo "SKIPPED: $TEST_NAME: tshark is not installed (Debian: apt-get install tshark)" >&2
	exit 77
fi
BUILD=$(cd "$TOOLS_DIR/../.." && pwd)
LUA=$BUILD/dissectors/fuse.lua
GEN=$BUILD/dissectors/gen
DATA=$(cd "$(dirname "$0")/../data" && pwd)
HEX2PCAP=$TOOLS_DIR/hex2pcap
[ -s "$LUA" ] || fail "$LUA was not built"
[ -x "$GEN" ] || fail "$GEN was not built"

# dis OUT TSHARK-ARGS...: tshark with the dissector, its output in $WORK/OUT. A Lua error
# while loading the dissector only shows on stderr: it fails the test.
dis() {
	local out=$1
	shift
	timeout -k 5 200 tshark -X lua_script:"$LUA" "$@" >"$WORK/$out" 2>"$WORK/$out.err" ||
		fail "tshark $* failed: $(grep -v 'Running as user' "$WORK/$out.err" | head -5)"
	if grep -q 'Lua' "$WORK/$out.err"; then
		head -5 "$WORK/$out.err" >&2
		fail "tshark $*: Lua error"
	fi
}

# frames CAPTURE FILTER: FOUND gets the numbers of the records that match, on one line (two
# passes, so that requests know their replies). Not in $(...): fail must end the test.
frames() {
	dis frames.out -r "$1" -2 -Y "$2" -T fields -e frame.number
	FOUND=$(tr '\n' ' ' <"$WORK/frames.out" | sed 's/ $//')
}

# expect_frames CAPTURE FILTER "N N ...": exactly these records match.
expect_frames() {
	frames "$1" "$2"
	[ "$FOUND" = "$3" ] || fail "$(basename "$1"): '$2' matches records [$FOUND], expected [$3]"
}

# some_frames CAPTURE FILTER WHAT: at least one record matches.
some_frames() {
	frames "$1" "$2"
	[ -n "$FOUND" ] || fail "$(basename "$1"): no record matches '$2' ($3)"
}

# expect_value CAPTURE FRAME FIELD VALUE: the field's value(s) in that record.
expect_value() {
	dis value.out -r "$1" -2 -Y "frame.number == $2" -T fields -e "$3"
	[ "$(cat "$WORK/value.out")" = "$4" ] ||
		fail "$(basename "$1"): record $2 has $3 '$(cat "$WORK/value.out")', expected '$4'"
}

# clean CAPTURE: every record decoded (two passes, whole trees) with no Lua error, nothing
# malformed, no expert info above a note; the tree is left in $WORK/<capture>.V.
clean() {
	local name
	name=$(basename "$1").V
	dis "$name" -r "$1" -2 -V
	if grep -Eq 'Lua Error|Malformed|Expert Info \((Error|Warning)/' "$WORK/$name"; then
		grep -E 'Lua Error|Malformed|Expert Info \((Error|Warning)/' "$WORK/$name" | head -5 >&2
		fail "$(basename "$1") does not decode cleanly"
	fi
	local records decoded
	records=$(grep -c '^Frame [0-9]*:' "$WORK/$name")
	decoded=$(grep -c '^FUSE (fusewire capture), ' "$WORK/$name")
	[ "$records" -gt 0 ] && [ "$records" -eq "$decoded" ] ||
		fail "$(basename "$1"): $decoded of $records records decoded"
}

# ---- every row of libproto's table has its fields, and its name in the value strings
"$GEN" --list >"$WORK/rows" || fail "gen --list failed"
grep -q '^LOOKUP 1 fuse.lookup$' "$WORK/rows" || fail "gen --list has no LOOKUP row"
grep -q '^CUSE_INIT 4096 fuse.cuse_init$' "$WORK/rows" || fail "gen --list has no CUSE_INIT row"
grep -q '^NOTIFY_STORE 4 fuse.notify_store$' "$WORK/rows" || fail "gen --list has no NOTIFY_STORE row"
timeout 60 tshark -G fields -X lua_script:"$LUA" 2>/dev/null |
	awk -F'\t' '$1 == "F" && $3 ~ /^fuse/ { print $3 }' >"$WORK/fields"
timeout 60 tshark -G values -X lua_script:"$LUA" 2>/dev/null |
	awk -F'\t' '$1 == "V" && $2 ~ /^fuse\.(opcode|notify_code)$/ { print $2, $3, $4 }' \
		>"$WORK/values"
rows=0
while read -r name code prefix; do
	rows=$((rows + 1))
	grep -qxF "$prefix" "$WORK/fields" || fail "no field $prefix for the row $name"
	if [[ $name == NOTIFY_* && $name != NOTIFY_REPLY ]]; then
		grep -qxF "fuse.notify_code $code $name" "$WORK/values" ||
			fail "fuse.notify_code does not name $code $name"
	else
		grep -qxF "$prefix.reply" "$WORK/fields" || fail "no field $prefix.reply for $name"
		grep -qxF "fuse.opcode $code $name" "$WORK/values" ||
			fail "fuse.opcode does not name $code $name"
	fi
done <"$WORK/rows"
for f in fuse.lookup.name fuse.read.offset fuse.write.data fuse.lookup.reply.attr.mode.type \
	fuse.getxattr.reply.size fuse.getxattr.reply.value fuse.init.reply.flags.async_read \
	fuse.readdirplus.reply.entries.dirent.name fuse.ext.supp_groups.groups.gid \
	fuse.notify_inval_entry.name fuse.error fuse.unique fuse.nodeid fuse.response_in \
	fuse.request_in fuse.time fuse.cap.conn fuse.event.name; do
	grep -qxF "$f" "$WORK/fields" || fail "no field $f"
done
echo "$TEST_NAME: $rows rows, $(wc -l <"$WORK/fields") fields"

# ---- hello_ll: ls -la, cat hello, stat of a missing name; records stamped with the version
"$HEX2PCAP" -n -e mount="/mnt fuse.hello_ll" "$DATA/hello_ll.hex" "$WORK/hello.pcap" ||
	fail "hex2pcap hello_ll.hex"
H=$WORK/hello.pcap
clean "$H"
dis hello.txt -r "$H" -2
grep -q ' kernel → daemon .* LOOKUP #12 nodeid=1 name="hello"$' "$WORK/hello.txt" ||
	fail "no summary line of LOOKUP #12"
grep -q ' daemon → kernel .* #12 LOOKUP = 0 nodeid=2 .* 10us$' "$WORK/hello.txt" ||
	fail "no summary line of the reply to LOOKUP #12"
grep -q '#26 LOOKUP = -2 ENOENT 10us$' "$WORK/hello.txt" || fail "no ENOENT line"
expect_frames "$H" 'fuse.lookup.name == "hello"' "12"
expect_frames "$H" 'fuse.opcode == 1' "12 13 26 27"
expect_frames "$H" 'fuse.error == -2' "27"
expect_frames "$H" 'fuse.read.offset == 0 && fuse.read.size == 4096' "20"
expect_frames "$H" 'fuse.read.reply.data == "Hello World!\n"' "21"
expect_frames "$H" 'fuse.response_in == 27' "26"
expect_frames "$H" 'fuse.readdir.reply.entries.name == "hello"' "11"
expect_frames "$H" 'fuse.lookup.reply.attr.mode.type == 8 && fuse.lookup.reply.attr.size == 13' "13"
expect_frames "$H" 'fuse.event.name == "mount"' "1"
expect_frames "$H" 'fuse.kind == 1 && !fuse.request_in' ""
expect_value "$H" 27 fuse.request_in 26
expect_value "$H" 27 fuse.time 0.000010000
expect_value "$H" 3 fuse.decode_minor 45 # the INIT reply: before INIT, the newest version
expect_value "$H" 4 fuse.decode_minor 31 # after it, the negotiated one
frames "$H" 'fuse.kind == 1'
expect_frames "$H" 'fuse.time > 0' "$FOUND"

# without the stamps, the dissector follows INIT itself
"$HEX2PCAP" "$DATA/hello_ll.hex" "$WORK/plain.pcap" || fail "hex2pcap hello_ll.hex"
expect_value "$WORK/plain.pcap" 3 fuse.cap.minor 0
expect_value "$WORK/plain.pcap" 3 fuse.decode_minor 31

# two connections with the same uniques, interleaved (mergecap comes with tshark): replies
# are paired within their own connection
"$HEX2PCAP" -c 1 "$DATA/hello_ll.hex" "$WORK/conn1.pcap" || fail "hex2pcap -c 1"
mergecap -w "$WORK/two.pcap" "$WORK/plain.pcap" "$WORK/conn1.pcap" || fail "mergecap"
dis two.txt -r "$WORK/two.pcap" -2 -T fields -e frame.number -e fuse.cap.conn -e fuse.kind \
	-e fuse.request_in
awk -F'\t' '{ conn[$1] = $2 }
	$3 == 1 { replies++; if ($4 != "" && conn[$4] == $2) ok++ }
	END { exit !(replies == 26 && ok == 26) }' "$WORK/two.txt" ||
	fail "replies of two connections not paired within their connection"

# ---- hand-made records: an extension area, reply layouts chosen by the request, a
# notification with a counted name (appended to the hello_ll session, after its INIT)
# msg DIR HEX...: one line of the hex format, from pieces
msg() {
	local dir=$1
	shift
	printf '%s %s\n' "$dir" "$(printf '%s' "$@")"
}
{
	cat "$DATA/hello_ll.hex"
	# MKDIR "dir1" mode 040755 with the extension records {secctx: none} {groups: 100};
	# the answer: -EEXIST
	msg 'K>D' 4d000000 09000000 0010000000000000 0100000000000000 00000000 00000000 \
		01000000 0300 0000 ed410000 12000000 6469723100 \
		0800000000000000 1000000020000000 0100000064000000
	msg 'D>K' 10000000 efffffff 0010000000000000
	# GETXATTR "user.a" with size 0 (the answer: the length, 5), then with size 64 (the value)
	msg 'K>D' 37000000 16000000 0210000000000000 0100000000000000 00000000 00000000 \
		01000000 0000 0000 00000000 00000000 757365722e6100
	msg 'D>K' 18000000 00000000 0210000000000000 05000000 00000000
	msg 'K>D' 37000000 16000000 0410000000000000 0100000000000000 00000000 00000000 \
		01000000 0000 0000 40000000 00000000 757365722e6100
	msg 'D>K' 15000000 00000000 0410000000000000 68656c6c6f
	# NOTIFY_INVAL_ENTRY parent 1, namelen 3, "ooo"
	msg 'D>K' 24000000 03000000 0000000000000000 0100000000000000 03000000 00000000 6f6f6f00
} >"$WORK/made.hex"
M=$WORK/made.pcap
"$HEX2PCAP" -n "$WORK/made.hex" "$M" || fail "hex2pcap made.hex"
clean "$M"
expect_frames "$M" 'fuse.mkdir.name == "dir1" && fuse.mkdir.mode.type == 4' "27"
expect_frames "$M" 'fuse.ext.supp_groups.groups.gid == 100 && fuse.ext.secctx_header.nr_secctx == 0' "27"
expect_frames "$M" 'fuse.error == -17 && fuse.opcode == 9' "28"
expect_frames "$M" 'fuse.getxattr.reply.size == 5' "30"
expect_frames "$M" 'fuse.getxattr.reply.value == "hello"' "32"
expect_frames "$M" 'fuse.notify_inval_entry.name == "ooo" && fuse.notify_inval_entry.parent == 1' "33"

# ---- damaged records: each has its expert info, the others none
awk 'NR == 4 { $2 = substr($2, 1, 120) }         # GETATTR reply: 60 of its 120 bytes
     NR == 11 { $2 = "40" substr($2, 3) }         # LOOKUP "hello": len 64, not 46
     NR == 19 { $2 = substr($2, 1, 8) "99" substr($2, 11) } # READ: opcode 153
     NR == 25 { next }                            # LOOKUP "nope" gone: its reply is alone
     { print }' "$DATA/hello_ll.hex" >"$WORK/damaged.hex"
D=$WORK/damaged.pcap
"$HEX2PCAP" -n "$WORK/damaged.hex" "$D" || fail "hex2pcap damaged.hex"
dis damaged.V -r "$D" -2 -V
! grep -q 'Lua Error' "$WORK/damaged.V" || fail "Lua errors on the damaged capture"
expect_frames "$D" 'fuse.malformed.len' "4 11"
expect_frames "$D" 'fuse.malformed.truncated' "4 11"
expect_frames "$D" 'fuse.unknown_opcode' "19"
expect_frames "$D" 'fuse.no_request' "25"
expect_frames "$D" '_ws.expert.severity >= 6291456' "4 11 19 25"
grep -q 'Expert Info (Error/Malformed): the header says 64 bytes, the record holds a message of 46' \
	"$WORK/damaged.V" || fail "no length mismatch text"
# a record that is not ours: no "FUSE" pseudo-header
"$HEX2PCAP" -e mount=x /dev/null "$WORK/bad.pcap" || fail "hex2pcap of one event"
printf 'X' | dd of="$WORK/bad.pcap" bs=1 seek=43 conv=notrunc status=none
expect_frames "$WORK/bad.pcap" 'fuse.malformed.pseudo_header' "1"

# ---- passthrough_ll's mixed workload: 20,280 messages, one of them a 1 MiB WRITE in
# fragments; every reply paired
P=$WORK/workload.pcap
"$HEX2PCAP" -n "$DATA/passthrough_ll-workload.hex.gz" "$P" || fail "hex2pcap workload"
start=$(date +%s)
dis workload.V -r "$P" -2 -V
echo "$TEST_NAME: the workload, two passes with trees: $(($(date +%s) - start)) s"
if grep -Eq 'Lua Error|Malformed|Expert Info \((Error|Warning)/' "$WORK/workload.V"; then
	grep -E 'Lua Error|Malformed|Expert Info \((Error|Warning)/' "$WORK/workload.V" | head -5 >&2
	fail "the workload does not decode cleanly"
fi
dis workload.txt -r "$P" -2 -T fields -e frame.number -e fuse.kind -e fuse.request_in \
	-e fuse.first_fragment_in -e fuse.write.size -e fuse.readdirplus.reply.entries.dirent.name
replies=$(awk -F'\t' '$2 == 1' "$WORK/workload.txt" | wc -l)
paired=$(awk -F'\t' '$2 == 1 && $3 != ""' "$WORK/workload.txt" | wc -l)
cont=$(awk -F'\t' '$2 == 4 && $4 == 20179' "$WORK/workload.txt" | wc -l)
[ "$replies" -eq 10139 ] && [ "$paired" -eq 10139 ] ||
	fail "$paired of $replies replies paired, expected 10139"
[ "$cont" -eq 4 ] || fail "$cont continuation records linked to record 20179, expected 4"
[ "$(awk -F'\t' '$5 == 1048576 { print $1 }' "$WORK/workload.txt")" = 20179 ] ||
	fail "record 20179 is not the WRITE of 1 MiB"
grep -q 'Expert Info (Note/Reassemble): data: 1048576 bytes, 262024 captured' "$WORK/workload.V" ||
	fail "the first fragment of the 1 MiB WRITE has no note"
awk -F'\t' '$6 ~ /(^|,)big(,|$)/' "$WORK/workload.txt" | grep -q . ||
	fail "no READDIRPLUS entry named big"

# ---- notify_store_retrieve: notifications and the NOTIFY_REPLY requests that answer
N=$WORK/notify.pcap
"$HEX2PCAP" "$DATA/notify_store_retrieve.hex" "$N" || fail "hex2pcap notify_store_retrieve.hex"
clean "$N"
expect_frames "$N" 'fuse.retrieve_in' "17 26 33"
expect_frames "$N" 'fuse.notify_reply_in' "16 25 32"
expect_frames "$N" 'fuse.notify_store.size == 29' "15 24 31 44 46 48 50"

# ---- the captures fusedump made of real daemons (captures/, see its README.md)
ncap=0
for c in "$DATA"/../../captures/*.pcap; do
	[ -e "$c" ] || continue
	ncap=$((ncap + 1))
	clean "$c"
	# every reply paired, but in a capture that starts in the middle of the session
	[[ $c == *midsession* ]] || expect_frames "$c" 'fuse.kind == 1 && !fuse.request_in' ""
	# messages are decoded at the version the writer stamped on them
	expect_frames "$c" 'fuse.cap.major != 0 && fuse.kind < 3 && fuse.cap.minor != fuse.decode_minor' ""
	# a long message: its first record decoded as far as it goes, the others linked to it
	frames "$c" 'fuse.cap.flags.more == 1 && fuse.cap.fragoff == 0'
	for f in $FOUND; do
		expect_frames "$c" "fuse.partial && frame.number == $f" "$f"
		some_frames "$c" "fuse.first_fragment_in == $f" "the fragments after record $f"
	done
	# a payload cut by -s: decoded as far as it was kept, with a note
	frames "$c" 'fuse.cap.flags.snapped == 1'
	snapped=$FOUND
	[ -z "$snapped" ] || expect_frames "$c" 'fuse.cap.flags.snapped == 1 && fuse.partial' "$snapped"
	# as many requests of each opcode, replies and notifications as fusedump -r counts (the
	# copies fusedump forwarded after changing them are not messages of their own)
	if [ -n "${FUSEDUMP:-}" ]; then
		dis counts.txt -r "$c" -2 -Y 'fuse.kind < 3 && fuse.cap.fragoff == 0 && fuse.cap.flags.modified == 0' \
			-T fields -e fuse.kind -e fuse.opcode
		awk -F'\t' '{ print ($1 == 0 ? "request " $2 : $1 == 1 ? "reply" : "notify") }' \
			"$WORK/counts.txt" | sort | uniq -c >"$WORK/counts.tshark"
		"$FUSEDUMP" -r "$c" --json >"$WORK/counts.json" || fail "fusedump -r $c failed"
		python3 - "$WORK/counts.json" <<'PY' | sort | uniq -c >"$WORK/counts.fusedump"
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["dir"] == "request":
        print("request %d" % m["opcode"])
    elif m["dir"] in ("reply", "notify"):
        print(m["dir"])
PY
		diff "$WORK/counts.tshark" "$WORK/counts.fusedump" >&2 ||
			fail "$(basename "$c"): tshark and fusedump -r count other messages (above: < tshark, > fusedump)"
	fi
done
echo "$TEST_NAME: $ncap captures of captures/"

# ---- a live capture: fusedump -w of hello_ll (root and /dev/fuse only)
if [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && [ -n "${FUSEDUMP:-}" ] && [ -n "${HELLO_LL:-}" ] &&
	"$FUSEDUMP" --help 2>&1 | grep -q -- '--write'; then
	start_fusedump live -w "$WORK/live.pcap" -- "$HELLO_LL" "$MNT"
	t ls -l "$MNT" >/dev/null || fail "ls failed"
	[ "$(t cat "$MNT/hello")" = "Hello World!" ] || fail "cat hello"
	! t stat "$MNT/missing" >/dev/null 2>&1 || fail "stat of a missing name succeeded"
	t umount "$MNT" || fail "umount failed"
	wait_fusedump 20
	[ "$FD_RC" -eq 0 ] || fail "fusedump exited $FD_RC"
	L=$WORK/live.pcap
	clean "$L"
	some_frames "$L" 'fuse.lookup.name == "hello"' "LOOKUP hello"
	some_frames "$L" 'fuse.lookup.name == "missing" && fuse.response_in' "answered LOOKUP missing"
	some_frames "$L" 'fuse.error == -2 && fuse.opcode == 1 && fuse.time > 0' "ENOENT reply"
	some_frames "$L" 'fuse.read.reply.data == "Hello World!\n"' "READ reply with the content"
	some_frames "$L" 'fuse.event.name == "start"' "the start event"
	expect_frames "$L" 'fuse.kind == 1 && !fuse.request_in' ""
	# fusedump's note that it changed INIT is about the INIT request
	frames "$L" 'fuse.event.name == "init_rewrite"'
	[ -z "$FOUND" ] || expect_frames "$L" 'fuse.event.name == "init_rewrite" && fuse.event.request_in' "$FOUND"
else
	echo "$TEST_NAME: no live capture (needs root, /dev/fuse and fusedump -w)"
fi
echo "PASS: $TEST_NAME"
