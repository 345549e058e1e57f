#!/usr/bin/env bash
# Real daemons behind fusedump, each with its normal command line, in its default
# background mode and in the foreground: passthrough_ll and hello_ll (libfuse3's
# examples), squashfuse and fuse-overlayfs (libfuse3), bindfs and fuse-zip (libfuse2),
# gocryptfs (go-fuse: mounts through fusermount3). Each case runs twice from the same
# data: mounted directly, then under fusedump. The two runs must agree on all that is
# seen through the mount (names, types, sizes, modes, checksums, statfs, writes read back,
# the errors of what fails), on the backing store after the unmount (fuse-zip writes its
# zip then), and on the mount's source, type and options in /proc/mounts: fusedump mounts
# with the options the daemon asked for. Under fusedump the trace names the daemon and the
# hand-over (mount(2) caught by the preload library, or the fusermount3 stand-in),
# decodes cleanly and pairs every request with its reply; after umount fusedump exits 0
# within 5 s, no mount is left and the daemon's processes are gone (the backgrounded one
# too). One summary line per case.
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${HELLO_LL:?}" "${PASSTHROUGH_LL:?}"
for p in squashfuse mksquashfs fuse-overlayfs bindfs fuse-zip zip unzip gocryptfs fusermount3; do
	command -v "$p" >/dev/null || fail "$p is missing (scripts/deps.sh installs it)"
done
DAEMONS=(hello_ll passthrough_ll squashfuse fuse-overlayfs bindfs fuse-zip gocryptfs)
DATA=$WORK/data # the pristine data, made once
RUN=$WORK/run   # a fresh copy of it for every mount: the same paths for direct and proxied
SECONDS=0



# ms: milliseconds since the epoch.
ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# secs MS: milliseconds as seconds with two decimals.
secs() {
	printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10))
}

# none_running PID...: none of them runs any more.
none_running() {
	local p
	for p in "$@"; do
		running "$p" && return 1
	done
	return 0
}


# mnt_daemons: the running processes that have $MNT as an argument: a daemon that went to
# the background is not our child, and its command line is all that names it. $MNT is
# unique to this test, and no other program of ours runs on it meanwhile.
mnt_daemons() {
	local f p
	grep -lzxF -- "$MNT" /proc/[0-9]*/cmdline 2>/dev/null | while read -r f; do
		p=${f#/proc/}
		p=${p%/cmdline}
		running "$p" && echo "$p"
	done
}

# mount_line: source, type and options of $MNT in /proc/mounts.
mount_line() {
	awk -v m="$MNT" '$2 == m { print $1, $3, $4 }' /proc/mounts
}

# tree DIR: names, types, sizes, modes, link targets and checksums of all below DIR.
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %s %m %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# inspect DIR: all that is compared, seen through the mount at DIR: listing, checksums,
# statfs, a missing name, then writes, read back (on read-only filesystems they fail, and
# their errors are compared), and the listing again. Run in a bounded child shell.
inspect() {
	cd "$1" || return 1
	step() {
		echo "\$ $*"
		"$@" 2>&1
		echo "rc=$?"
	}
	listing() {
		find . -printf '%p %y %s %m %n %U:%G %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	}
	echo "== listing"
	listing
	step stat -f -c 'namelen=%l bsize=%s frsize=%S' .
	step cat known.txt
	step cat missing
	step stat -c '%n %F %s %a' sub/deep/n.txt link
	echo "== writes"
	step sh -c 'echo "written through the mount" >new.txt'
	step cat new.txt
	step sh -c 'echo appended >>known.txt'
	step cat known.txt
	step mkdir newdir
	step sh -c 'head -c 70000 sub/data.bin >newdir/part.bin'
	step sha256sum newdir/part.bin
	step mv new.txt newdir/moved.txt
	step chmod 640 newdir/moved.txt
	step cat newdir/moved.txt
	step rm empty
	step truncate -s 1000 sub/data.bin
	echo "== listing after the writes"
	listing
}

# ---- the data: a tree, its squashfs image, its zip, its gocryptfs copy, overlay dirs
mkdir -p "$DATA/src/sub/deep" "$DATA/upper" "$DATA/work" "$DATA/ciph"
echo "fusewire known contents" >"$DATA/src/known.txt"
: >"$DATA/src/empty"
printf '#!/bin/sh\necho run\n' >"$DATA/src/run.sh"
chmod 755 "$DATA/src/run.sh"
echo "read only" >"$DATA/src/ro.txt"
chmod 444 "$DATA/src/ro.txt"
echo "deep down" >"$DATA/src/sub/deep/n.txt"
head -c 300000 /dev/urandom >"$DATA/src/sub/data.bin"
ln -s known.txt "$DATA/src/link"
mksquashfs "$DATA/src" "$DATA/img.sqfs" -quiet -noappend >/dev/null || fail "mksquashfs failed"
(cd "$DATA/src" && zip -qry "$DATA/z.zip" .) || fail "zip failed"
echo "fusewire test password" >"$DATA/pass"
# a small scrypt cost: every mount derives the key again
gocryptfs -init -q -scryptn 10 -passfile "$DATA/pass" "$DATA/ciph" >/dev/null || fail "gocryptfs -init failed"
gocryptfs -q -passfile "$DATA/pass" "$DATA/ciph" "$MNT" 2>"$WORK/gocryptfs-fill.log" ||
	fail "mounting gocryptfs to fill it failed: $(cat "$WORK/gocryptfs-fill.log")"
mapfile -t filler < <(mnt_daemons)
t cp -a "$DATA/src/." "$MNT/" || fail "filling the gocryptfs directory failed"
t umount "$MNT" || fail "unmounting the filled gocryptfs failed"
until_ok 10 none_running "${filler[@]}" || fail "gocryptfs did not end after its unmount"

# set_case DAEMON MODE: its command line in CMD (the foreground flag right after the
# program), HANDOVER, and whether it can be written (WRITABLE).
set_case() {
	local prog=$1 fg=-f args
	HANDOVER="mount(2)"
	WRITABLE=1
	case $1 in
	hello_ll) prog=$HELLO_LL WRITABLE=0 args=("$MNT") ;;
	passthrough_ll) prog=$PASSTHROUGH_LL args=(-o "source=$RUN/src" "$MNT") ;;
	squashfuse) WRITABLE=0 args=("$RUN/img.sqfs" "$MNT") ;;
	fuse-overlayfs) args=(-o "lowerdir=$RUN/src,upperdir=$RUN/upper,workdir=$RUN/work" "$MNT") ;;
	bindfs) args=("$RUN/src" "$MNT") ;;
	fuse-zip) args=("$RUN/z.zip" "$MNT") ;;
	gocryptfs) fg=-fg HANDOVER=fusermount3 args=(-q -passfile "$RUN/pass" "$RUN/ciph" "$MNT") ;;
	esac
	CMD=("$prog")
	[ "$2" = fg ] && CMD+=("$fg")
	CMD+=("${args[@]}")
}

# store DAEMON: the backing store after the unmount.
store() {
	case $1 in
	passthrough_ll | bindfs) tree "$RUN/src" ;;
	fuse-overlayfs) tree "$RUN/upper" && tree "$RUN/src" ;;
	fuse-zip)
		rm -rf "$WORK/unzipped"
		unzip -q "$RUN/z.zip" -d "$WORK/unzipped" && tree "$WORK/unzipped"
		;;
	gocryptfs)
		# no contents (random nonces), and no names in the directories made on the
		# mount: each has a new random IV for its names
		(cd "$RUN/ciph" && find . -mindepth 1 -printf '%h\t%f\t%y %s %m %l\n') |
			while IFS=$'\t' read -r dir name rest; do
				[ -d "$DATA/ciph/$dir" ] || name="(a name under a new IV)"
				echo "$dir/$name $rest"
			done | LC_ALL=C sort
		;;
	esac
}

reset_data() {
	rm -rf "$RUN"
	cp -a "$DATA" "$RUN"
}

# run_inspect OUT: inspect $MNT into OUT, bounded.
run_inspect() {
	timeout -k 5 60 bash -c "$(declare -f inspect); inspect \"\$1\"" inspect "$MNT" >"$1" ||
		fail "$CASE: inspecting the mount failed or hung"
}

# direct: CMD mounted directly (no fusedump): mount line, inspection, unmount, the
# daemon's end, the backing store; in $WORK/$CASE.direct.*.
direct() {
	local pid rc daemons
	reset_data
	"${CMD[@]}" >"$WORK/$CASE.direct.out.log" 2>"$WORK/$CASE.direct.err" &
	pid=$!
	PIDS+=("$pid")
	until_ok 10 is_mounted "$MNT" || fail "$CASE: the direct mount did not appear in 10 s: $(cat "$WORK/$CASE.direct.err")"
	if [ "$MODE" = fg ]; then
		running "$pid" || fail "$CASE: ${CMD[0]} did not stay in the foreground"
		daemons=("$pid")
	else
		until_ok 10 eval '! kill -0 "$pid" 2>/dev/null' || fail "$CASE: ${CMD[0]} did not go to the background"
		wait "$pid"
		rc=$?
		forget "$pid"
		[ "$rc" -eq 0 ] || fail "$CASE: ${CMD[0]} exited $rc going to the background"
		mapfile -t daemons < <(mnt_daemons)
		[ "${#daemons[@]}" -gt 0 ] || fail "$CASE: no process left to serve the direct mount"
	fi
	mount_line >"$WORK/$CASE.direct.mount"
	run_inspect "$WORK/$CASE.direct.inspect"
	t umount "$MNT" || fail "$CASE: umount of the direct mount failed"
	until_ok 10 none_running "${daemons[@]}" || fail "$CASE: the daemon still runs 10 s after umount (direct)"
	DIRECT_RC=""
	if [ "$MODE" = fg ]; then
		wait "$pid"
		DIRECT_RC=$?
		forget "$pid"
	fi
	expect_no_mount
	store "$1" >"$WORK/$CASE.direct.store" || fail "$CASE: reading the backing store failed (direct)"
}

# proxied: the same under fusedump, in $WORK/$CASE.proxied.* and $WORK/$CASE.trace.
proxied() {
	local first spawned writers daemon fstype src p rc
	reset_data
	start_fusedump "$CASE" -- "${CMD[@]}"
	mount_line >"$WORK/$CASE.proxied.mount"
	run_inspect "$WORK/$CASE.proxied.inspect"

	first=$(head -n 1 "$TRACE")
	read -r src fstype _ <"$WORK/$CASE.proxied.mount"
	[[ $first == "# fusedump "*": mounted $src on $MNT (type $fstype, asked by pid "*" through $HANDOVER); daemon pid "*": ${CMD[*]}" ]] ||
		fail "$CASE: the first trace line is not the expected start line: $first"
	spawned=$(sed -nE '1s/.*; daemon pid ([0-9]+): .*/\1/p' "$TRACE")
	mapfile -t writers < <(sed -nE 's/^# daemon pid ([0-9]+) writes the socket \(spawned as pid [0-9]+\)$/\1/p' "$TRACE")
	if [ "$MODE" = fg ]; then
		running "$spawned" || fail "$CASE: the daemon did not stay in the foreground under fusedump"
		[ "${#writers[@]}" -eq 0 ] || fail "$CASE: a foreground daemon but another pid writes the socket: ${writers[*]}"
		daemon=$spawned
	else
		[ "${#writers[@]}" -eq 1 ] && [ "${writers[0]}" != "$spawned" ] ||
			fail "$CASE: no single backgrounded daemon in the trace (spawned $spawned, writers: ${writers[*]})"
		daemon=${writers[0]}
	fi

	t umount "$MNT" || fail "$CASE: umount under fusedump failed"
	wait_fusedump 5
	forget "$FD_PID"
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$CASE: fusedump exited $FD_RC after umount, expected 0"; }
	expect_no_mount
	[ "$MODE" = fg ] || trace_has "^# spawned pid $spawned exited 0\$" "$CASE: the launcher's exit once in the background"
	for p in "$spawned" "${writers[@]}"; do
		! running "$p" || fail "$CASE: daemon pid $p still runs after fusedump ended"
	done
	if [ "$HANDOVER" = "mount(2)" ]; then
		# preloaded: reads ENODEV like from /dev/fuse and ends by itself
		trace_has "^# closed the daemon's side of the socket: it reads ENODEV and ends\$" "$CASE: the end of file"
		! grep -q '^# sent SIG' "$TRACE" || fail "$CASE: fusedump had to signal a preloaded daemon"
	fi
	# The daemon ends as after a direct umount: with the status of the direct run in the
	# foreground; in the background (that status is not ours to see) with 0, as the
	# launcher did and as each of these daemons does in the foreground.
	rc=${DIRECT_RC:-0}
	if ! grep -Eq "^# daemon pid $daemon exited $rc( |\$)" "$TRACE"; then
		grep -E "^# (sent SIG|daemon pid $daemon (exited|killed))" "$TRACE" >&2
		fail "$CASE: the daemon did not exit $rc as after a direct umount"
	fi
	trace_clean
	awk -v out="$WORK/$CASE.counts" '
		/^# / { next }
		/^[A-Z][A-Z0-9_]* #[0-9]+( |$)/ {
			nreq++
			# no reply to these
			if ($1 != "FORGET" && $1 != "BATCH_FORGET" && $1 != "INTERRUPT" && $1 != "NOTIFY_REPLY")
				req[substr($2, 2)] = $1
			next
		}
		/^#[0-9]+ [A-Z][A-Z0-9_]* = / {
			nrep++
			u = substr($1, 2)
			if (!(u in req) || req[u] != $2) {
				print "a reply without its request: " $0
				bad = 1
			}
			delete req[u]
			next
		}
		/^NOTIFY_[A-Z_]+( |$)/ { nnot++; next }
		{ print "an unexpected line: " $0; bad = 1 }
		END {
			for (u in req) {
				print "no reply to " req[u] " #" u
				bad = 1
			}
			print nreq + 0, nrep + 0, nnot + 0 >out
			exit bad
		}' "$TRACE" | head -n 10 | cut -c1-300 >"$WORK/$CASE.pairing"
	[ -s "$WORK/$CASE.pairing" ] && { cat "$WORK/$CASE.pairing" >&2; fail "$CASE: requests and replies do not pair"; }
	store "$1" >"$WORK/$CASE.proxied.store" || fail "$CASE: reading the backing store failed (proxied)"
}

# same WHAT EXT: the direct and proxied files $WORK/$CASE.{direct,proxied}.EXT are equal.
same() {
	diff -u "$WORK/$CASE.direct.$2" "$WORK/$CASE.proxied.$2" >"$WORK/$CASE.$2.diff" ||
		{ cat "$WORK/$CASE.$2.diff" >&2; fail "$CASE: $1 differ between the direct mount and fusedump"; }
}

for d in "${DAEMONS[@]}"; do
	for MODE in bg fg; do
		CASE=$d.$MODE
		set_case "$d" "$MODE"
		t0=$(ms)
		direct "$d"
		t1=$(ms)
		proxied "$d"
		t2=$(ms)

		in=$WORK/$CASE.direct.inspect
		# the direct run did what it should, so that agreeing means something
		if [ "$d" = hello_ll ]; then
			grep -qx './hello f 13 444 1 0:0 ' "$in" || fail "$CASE: no hello file in the listing"
		else
			grep -qx 'fusewire known contents' "$in" || fail "$CASE: known.txt does not read back"
			grep -Eq '^\./sub/deep/n\.txt f 10 ' "$in" || fail "$CASE: sub/deep/n.txt is not listed"
		fi
		if [ "$WRITABLE" = 1 ]; then
			grep -qx 'written through the mount' "$in" || fail "$CASE: the written file does not read back"
			[ "$d" = fuse-zip ] && { grep -q '^\./newdir/moved\.txt f ' "$WORK/$CASE.direct.store" ||
				fail "$CASE: the zip does not have the file written through the mount"; }
		else
			! grep -qx 'written through the mount' "$in" || fail "$CASE: a read-only filesystem took a write"
		fi
		[ -s "$WORK/$CASE.direct.mount" ] || fail "$CASE: no /proc/mounts line for the direct mount"

		same "the /proc/mounts source, type and options" mount
		same "what is seen through the mount" inspect
		same "the backing stores after the unmount" store

		read -r nreq nrep nnot <"$WORK/$CASE.counts"
		nbefore=$(sed -n '/^== listing$/,/^\$ /p' "$in" | grep -c '^\./')
		nafter=$(sed -n '/^== listing after the writes$/,$p' "$in" | grep -c '^\./')
		nstore=$(grep -c '^\./' "$WORK/$CASE.direct.store")
		echo "$CASE: $((nreq + nrep + nnot)) messages ($nreq requests, $nrep replies, $nnot notifications);" \
			"compared $nbefore entries, $nafter after the writes, $nstore in the backing store;" \
			"$(cut -d' ' -f2- "$WORK/$CASE.direct.mount"); direct $(secs $((t1 - t0))) s, fusedump $(secs $((t2 - t1))) s"
	done
done
echo "PASS: $TEST_NAME ($SECONDS s)"
