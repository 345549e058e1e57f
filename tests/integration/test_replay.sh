# fusereplay (issue 6): sessions captured with fusedump -w, replayed against the same
# daemons on a socket, must compare equal (hello_ll, squashfuse, passthrough_ll with the
# fwload workload after its source tree is restored); regress_ll with one regression
# switched on must give exactly that one difference, naming the request; the replays run
# as an unprivileged user in a mount namespace without /dev/fuse too; broken captures and
# daemons that die are reported, with exit status 2 and 1.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${FUSEREPLAY:?}" "${HELLO_LL:?}" "${PASSTHROUGH_LL:?}" "${TOOLS_DIR:?}" \
	"${DAEMONS_DIR:?}"
REGRESS_LL=$DAEMONS_DIR/regress_ll
FWLOAD=$TOOLS_DIR/fwload
for p in "$REGRESS_LL" "$FWLOAD"; do
	[ -x "$p" ] || fail "$p is missing"
done
for p in squashfuse mksquashfs setpriv unshare; do
	command -v "$p" >/dev/null || fail "$p is missing (scripts/deps.sh installs it)"
done

# capture NAME WORKLOAD DAEMON ARGS...: run the shell function WORKLOAD on $MNT with the
# daemon behind fusedump -w $WORK/NAME.pcap; the capture must be whole (nothing lost).
capture() {
	local name=$1 load=$2
	shift 2
	start_fusedump "$name" -w "$WORK/$name.pcap" -B 262144 -- "$@"
	"$load" || fail "$name: the workload failed"
	t umount "$MNT" || fail "$name: umount failed"
	wait_fusedump 30
	[ "$FD_RC" -eq 0 ] || fail "$name: fusedump exited $FD_RC"
	"$FUSEDUMP" -r "$WORK/$name.pcap" >"$WORK/$name.read" 2>&1 ||
		fail "$name: fusedump -r of the capture failed"
	! grep -q 'messages missing' "$WORK/$name.read" || fail "$name: the capture lost messages"
}

# replay NAME RC FUSEREPLAY-ARGS...: run fusereplay, expect exit status RC; the report in
# $WORK/NAME.out, its stderr in $WORK/NAME.err.
replay() {
	local name=$1 want=$2 rc
	shift 2
	timeout -k 5 120 "$FUSEREPLAY" -q "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		tail -n 20 "$WORK/$name.out" "$WORK/$name.err" >&2
		fail "$name: fusereplay exited $rc, expected $want"
	fi
}

# diffs NAME: the report's difference lines (everything but the header and the summary).
diffs() {
	grep -v -e '^# ' -e '^fusereplay: ' "$WORK/$1.out"
}

# all_equal NAME: 0 differing, missing, unexpected; nothing skipped; every request with a
# reply compared equal (sent minus the FORGETs, which have none).
all_equal() {
	local sum sent equal forgets
	sum=$(tail -n 1 "$WORK/$1.out")
	echo "$1: $sum"
	[[ $sum =~ ^fusereplay:\ ([0-9]+)\ requests\ sent,\ ([0-9]+)\ equal,\ 0\ differing,\ 0\ missing,\ 0\ unexpected\ in ]] ||
		fail "$1: not all equal: $sum"
	sent=${BASH_REMATCH[1]} equal=${BASH_REMATCH[2]}
	forgets=$(grep -Ec '^(BATCH_)?FORGET ' "$WORK/$2.read")
	[ "$equal" -eq $((sent - forgets)) ] ||
		fail "$1: $equal equal of $sent sent ($forgets FORGETs)"
	[ "$sent" -ge "$3" ] || fail "$1: only $sent requests sent, expected at least $3"
	[ -z "$(diffs "$1")" ] || fail "$1: difference lines in an equal replay"
}

# ---- 1a. hello_ll
load_hello() {
	ls -l "$MNT" >/dev/null && cat "$MNT/hello" >/dev/null && ! stat "$MNT/nope" 2>/dev/null
}
capture hello load_hello "$HELLO_LL" -f "$MNT"
replay hello 0 "$WORK/hello.pcap" -- "$HELLO_LL" -f "$MNT"
all_equal hello hello 5
# the same through /dev/fd/N instead of the shims
replay hello_devfd 0 --devfd "$WORK/hello.pcap" -- "$HELLO_LL" -f "$MNT"
all_equal hello_devfd hello 5

# ---- 1b. squashfuse over an image of a small tree
TREE=$WORK/tree
mkdir -p "$TREE/sub/deeper"
printf 'one\n' >"$TREE/a.txt"
head -c 300000 /dev/urandom >"$TREE/big.bin"
seq 1 20000 >"$TREE/sub/numbers"
printf 'deep\n' >"$TREE/sub/deeper/leaf"
ln -s sub/numbers "$TREE/link"
mksquashfs "$TREE" "$WORK/tree.sqfs" -quiet -noappend >/dev/null || fail "mksquashfs failed"
load_tree() {
	ls -lR "$MNT" >/dev/null && find "$MNT" -type f -exec cat {} + >/dev/null &&
		readlink "$MNT/link" >/dev/null
}
capture squash load_tree squashfuse -f "$WORK/tree.sqfs" "$MNT"
replay squash 0 "$WORK/squash.pcap" -- squashfuse -f "$WORK/tree.sqfs" "$MNT"
all_equal squash squash 20

# ---- 1c. passthrough_ll: the transparency workload (fwload, smaller) plus reads of a
# tree restored from a tar file before the capture and before the replay. The source is
# a fresh tmpfs each time, whose inode numbers then come out the same.
SRC=$WORK/src
mkdir "$SRC"
tar -C "$TREE" -cf "$WORK/tree.tar" . || fail "tar failed"
restore="umount '$SRC' 2>/dev/null; mount -t tmpfs -o size=256m tmpfs '$SRC' && tar -C '$SRC' -xf '$WORK/tree.tar'"
EXTRA_MOUNTS+=("$SRC")
sh -c "$restore" || fail "could not set up the source tree"
load_pt() {
	mkdir "$MNT/load" && t "$FWLOAD" -n 2000 -b 16 "$MNT/load" >"$WORK/fwload.out" &&
		grep -qx 'end: ok' "$WORK/fwload.out" && ls -lR "$MNT" >/dev/null &&
		cat "$MNT/a.txt" "$MNT/big.bin" "$MNT/sub/numbers" >/dev/null
}
capture pt load_pt "$PASSTHROUGH_LL" -f -o "source=$SRC,xattr,flock" "$MNT"
replay pt 0 --before "$restore" "$WORK/pt.pcap" -- "$PASSTHROUGH_LL" -f -o "source=$SRC,xattr,flock" "$MNT"
all_equal pt pt 2000
# requests that were in flight together go together: the order of creation may change,
# and with it the inode numbers
replay pt_conc 0 --concurrency 8 --ignore-ino --before "$restore" "$WORK/pt.pcap" -- \
	"$PASSTHROUGH_LL" -f -o "source=$SRC,xattr,flock" "$MNT"
all_equal pt_conc pt 2000
grep -q '^# .*ignored: .* ino$' "$WORK/pt_conc.out" || fail "the header does not list ino as ignored"
# --strict compares what is ignored by default: passthrough_ll's fh are pointers, and
# the times of a restored tree are those of the restore
replay pt_strict 1 --strict --ignore-ino --before "$restore" "$WORK/pt.pcap" -- \
	"$PASSTHROUGH_LL" -f -o "source=$SRC,xattr,flock" "$MNT"
grep -Eq '^#[0-9]+ OPEN(DIR)? .*: fh: recorded 0x[0-9a-f]+, live 0x[0-9a-f]+$' "$WORK/pt_strict.out" ||
	fail "--strict does not compare fh"
grep -Eq ': (entry\.)?attr\.[amc]time: recorded [0-9]+, live [0-9]+$' "$WORK/pt_strict.out" ||
	fail "--strict does not compare times"
grep -q '^# .*ignored: ino$' "$WORK/pt_strict.out" || fail "--strict: the header lists more than ino"
# without the restore the files exist already: CREATE and MKDIR fail, and the replay says so
replay pt_dirty 1 "$WORK/pt.pcap" -- "$PASSTHROUGH_LL" -f -o "source=$SRC,xattr,flock" "$MNT"
grep -Eq '^#[0-9]+ MKDIR "/" name="load": error: recorded 0, live -17 EEXIST$' "$WORK/pt_dirty.out" ||
	fail "replaying onto a tree not restored did not report MKDIR's EEXIST"

# ---- 2. regress_ll: each regression gives exactly its one difference
load_regress() {
	ls -l "$MNT" "$MNT/sub" >/dev/null && cat "$MNT/hello.txt" >/dev/null &&
		cat "$MNT/data.bin" >/dev/null && ! stat "$MNT/nope" 2>/dev/null && sleep 1 &&
		cat "$MNT/sub/a.txt" >/dev/null
}
capture regress load_regress "$REGRESS_LL" -f "$MNT"
replay regress 0 "$WORK/regress.pcap" -- "$REGRESS_LL" -f "$MNT"
all_equal regress regress 10
declare -A expect=(
	[size]='^#[0-9]+ READ "/hello.txt" offset=0 size=[0-9]+: data: recorded 23 bytes, live 22 bytes$'
	[errno]='^#[0-9]+ LOOKUP "/" name="nope": error: recorded -2 ENOENT, live -13 EACCES$'
	[readdir]='^#[0-9]+ READDIR(PLUS)? "/sub" offset=0 size=[0-9]+: entries\["b.txt"\]: recorded present, live missing$'
)
for kind in size errno readdir; do
	replay "regress_$kind" 1 "$WORK/regress.pcap" -- "$REGRESS_LL" --regress="$kind" -f "$MNT"
	d=$(diffs "regress_$kind")
	echo "regress_$kind: $d"
	[ "$(printf '%s\n' "$d" | wc -l)" -eq 1 ] || fail "regress_$kind: not exactly one difference"
	[[ $d =~ ${expect[$kind]} ]] || fail "regress_$kind: the difference is not the one planted"
	tail -n 1 "$WORK/regress_$kind.out" | grep -q ' 1 differing, 0 missing, 0 unexpected' ||
		fail "regress_$kind: the summary does not count one difference"
done
# --ordered-readdir: the listing without b.txt differs by position, c.txt moving up
replay regress_ordered 1 --ordered-readdir "$WORK/regress.pcap" -- "$REGRESS_LL" --regress=readdir -f "$MNT"
grep -Eq '^#[0-9]+ READDIR(PLUS)? "/sub" .*: entries\[[0-9]+\]\.(dirent\.)?name: recorded "b.txt", live "c.txt"$' \
	"$WORK/regress_ordered.out" || fail "--ordered-readdir does not compare entries by position"
# the same as JSON
replay regress_json 1 --json "$WORK/regress.pcap" -- "$REGRESS_LL" --regress=errno -f "$MNT"
grep -q '^{"type":"diff","unique":[0-9]*,"op":"LOOKUP","path":"/","request":"LOOKUP \\"/\\" name=\\"nope\\"","field":"error","recorded":"-2 ENOENT","live":"-13 EACCES"}$' \
	"$WORK/regress_json.out" || fail "--json: no diff object for the LOOKUP"
tail -n 1 "$WORK/regress_json.out" | grep -q '^{"type":"summary",.*"differing":1,"missing":0,"unexpected":0' ||
	fail "--json: no summary object"
# --ignore of the field that differs makes the replay equal
replay regress_ignore 0 --ignore data "$WORK/regress.pcap" -- "$REGRESS_LL" --regress=size -f "$MNT"
# --speed original keeps the capture's pace (the workload slept 1 s)
SECONDS=0
replay regress_pace 0 --speed original "$WORK/regress.pcap" -- "$REGRESS_LL" -f "$MNT"
[ "$SECONDS" -ge 1 ] || fail "--speed original did not wait as the capture did"

# ---- 3. as nobody, in a mount namespace whose /dev has no fuse. The programs are copied
# where nobody can reach them: the build tree may sit in a directory only root may enter
# (a clone under mktemp -d). fusereplay finds the shims in ../libexec/fusewire.
chmod 755 "$WORK"
chmod 644 "$WORK"/*.pcap
mkdir -p "$WORK/bin" "$WORK/libexec"
cp -R "$(dirname "$FUSEREPLAY")/../libexec/fusewire" "$WORK/libexec/" &&
	cp "$FUSEREPLAY" "$HELLO_LL" "$REGRESS_LL" "$WORK/bin/" ||
	fail "cannot copy the programs for nobody"
chmod -R a+rX "$WORK/bin" "$WORK/libexec"
cat >"$WORK/unpriv.sh" <<'EOF'
set -u
D=$1; shift
mount -t tmpfs tmpfs "$D" || exit 3
for n in null zero urandom; do
	touch "$D/$n" && mount --bind "/dev/$n" "$D/$n" || exit 3
done
mount --bind "$D" /dev || exit 3
[ ! -e /dev/fuse ] || { echo "/dev/fuse is still there" >&2; exit 3; }
exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
EOF
mkdir "$WORK/dev" "$WORK/mnt_u"
chmod 777 "$WORK/mnt_u"
unpriv() {
	local name=$1 want=$2 rc
	shift 2
	timeout -k 5 120 unshare -m --propagation private bash "$WORK/unpriv.sh" "$WORK/dev" \
		"$WORK/bin/fusereplay" -q "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	rc=$?
	[ "$rc" -eq "$want" ] || { cat "$WORK/$name.err" >&2; fail "$name: exit $rc, expected $want"; }
}
unpriv unpriv_id 0 --help
timeout 30 unshare -m --propagation private bash "$WORK/unpriv.sh" "$WORK/dev" \
	sh -c 'id -u; test -e /dev/fuse && echo fuse' >"$WORK/unpriv_id.out" 2>&1
[ "$(cat "$WORK/unpriv_id.out")" = 65534 ] || fail "the namespace is not unprivileged without /dev/fuse: $(cat "$WORK/unpriv_id.out")"
unpriv unpriv_hello 0 "$WORK/hello.pcap" -- "$WORK/bin/hello_ll" -f "$WORK/mnt_u"
all_equal unpriv_hello hello 5
unpriv unpriv_regress 0 "$WORK/regress.pcap" -- "$WORK/bin/regress_ll" -f "$WORK/mnt_u"
all_equal unpriv_regress regress 10
unpriv unpriv_errno 1 "$WORK/regress.pcap" -- "$WORK/bin/regress_ll" --regress=errno -f "$WORK/mnt_u"
[[ $(diffs unpriv_errno) =~ ${expect[errno]} ]] || fail "unprivileged: the planted errno is not reported"

# ---- 4. usage, broken input and daemons that fail
"$FUSEREPLAY" --help | grep -q '^usage: fusereplay ' || fail "--help has no usage line"
for args in "" "$WORK/hello.pcap" "--speed fast $WORK/hello.pcap -- true" \
	"--concurrency 0 $WORK/hello.pcap -- true" "--unmatched EWHAT --serve a b" "--serve a"; do
	# shellcheck disable=SC2086
	"$FUSEREPLAY" $args >/dev/null 2>"$WORK/usage.err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "fusereplay $args: exit $rc, expected 2"
	grep -q "^fusereplay: " "$WORK/usage.err" || fail "fusereplay $args: no message"
done
replay missing_file 2 "$WORK/none.pcap" -- "$HELLO_LL" -f "$MNT"
grep -q "none.pcap" "$WORK/missing_file.err" || fail "no message naming the missing capture"
size=$(stat -c %s "$WORK/regress.pcap")
head -c $((size - 30)) "$WORK/regress.pcap" >"$WORK/cut.pcap"
replay cut 2 "$WORK/cut.pcap" -- "$REGRESS_LL" -f "$MNT"
grep -Eq 'cut.pcap: record [0-9]+ at byte [0-9]+ is damaged' "$WORK/cut.err" ||
	fail "a truncated capture is not reported with its record"
CAPS=$(dirname "$0")/../../captures
replay snap 2 "$CAPS/passthrough_ll-snap64.pcap" -- "$PASSTHROUGH_LL" -f -o "source=$SRC" "$MNT"
grep -q 'the WRITE request is cut' "$WORK/snap.err" || fail "a capture cut with -s is not refused clearly"
replay mid 2 "$CAPS/passthrough_ll-midsession.pcap" -- "$PASSTHROUGH_LL" -f -o "source=$SRC" "$MNT"
grep -q 'starts mid-session' "$WORK/mid.err" || fail "a mid-session capture is not refused clearly"
replay before_fails 2 --before false "$WORK/hello.pcap" -- "$HELLO_LL" -f "$MNT"
grep -q "before 'false' exited 1" "$WORK/before_fails.err" || fail "--before's failure is not reported"
# a daemon that ends at once: every request is missing
replay no_daemon 1 --timeout 2 "$WORK/hello.pcap" -- sh -c 'exit 3' "$MNT"
grep -Eq '^#2 INIT: reply: recorded = 0, live none \(the daemon ended: exited 3\)$' "$WORK/no_daemon.out" ||
	fail "a daemon that exits at once is not reported"
# a daemon killed in the middle: what follows is missing, and its death is a difference
replay killed 1 --timeout 5 --speed original "$WORK/regress.pcap" -- sh -c \
	'"$0" -f "$1" & p=$!; sleep 0.5; kill -SEGV $p; wait $p; exit 139' "$REGRESS_LL" "$MNT"
grep -q 'missing' "$WORK/killed.out" || fail "requests after the daemon died are not missing"
echo "test_replay: all checks passed"
