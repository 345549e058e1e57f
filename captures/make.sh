#!/usr/bin/env bash
# Makes the captures in this directory again (README.md lists them): each daemon runs
# behind `fusedump -w`, mounted on a fresh directory, under a fixed workload, and is
# unmounted; a capture is kept only when fusedump then exits 0. As root, after `make build`.
#
#   captures/make.sh [NAME...]     (default: all of them; NAME as in NAME.pcap)
#
# BUILD=DIR takes the programs from another build directory, OUT=DIR writes elsewhere.
# Names, contents and workloads are fixed; timestamps, pids and temporary paths differ
# from run to run, so the golden outputs (tests/golden/regen.sh) change with every remake.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(dirname "$HERE")/build}
OUT=${OUT:-$HERE}
FUSEDUMP=$BUILD/fusedump/fusedump
DAEMONS=$BUILD/tests/daemons
ALL=(hello_ll passthrough_ll passthrough_ll-snap64 passthrough_ll-midsession bindfs gocryptfs
	notify_store_retrieve)

die() {
	echo "make.sh: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run me as root: fusedump mounts with mount(2)"
for p in "$FUSEDUMP" "$DAEMONS"/{hello_ll,passthrough_ll,notify_store_retrieve}; do
	[ -x "$p" ] || die "$p is missing (make build)"
done
for p in bindfs gocryptfs python3; do
	command -v "$p" >/dev/null || die "$p is missing (scripts/deps.sh installs it)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fusewire-captures.XXXXXX") || exit 1
MNT=""    # the mount point of the capture being made
FD_PID="" # its fusedump, while it runs

is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# Unmounts and ends fusedump (only the pid we started) also when a step failed.
cleanup() {
	local rc=$? i
	trap - EXIT
	if [ -n "$MNT" ] && is_mounted "$MNT"; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [ -n "$FD_PID" ]; then
		kill -TERM "$FD_PID" 2>/dev/null
		for i in $(seq 100); do
			kill -0 "$FD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$FD_PID" 2>/dev/null
	fi
	if grep -q " $WORK/" /proc/mounts; then
		echo "make.sh: a mount under $WORK is left; not removing it" >&2
		exit 1
	fi
	rm -rf --one-file-system "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME FUSEDUMP-OPTIONS... -- DAEMON ARGS...: the daemon behind
# `fusedump -w $D/NAME.pcap OPTIONS`, in a fresh directory $D whose mount point $MNT must be
# mounted within 10 s. The daemon's arguments may name $MNT and $D (set before the call:
# see new_dir).
start() {
	local name=$1 i
	shift
	"$FUSEDUMP" -w "$D/$name.pcap" "$@" 2>"$D/fusedump.err" &
	FD_PID=$!
	for i in $(seq 100); do
		is_mounted "$MNT" && return 0
		kill -0 "$FD_PID" 2>/dev/null || die "$name: fusedump exited before mounting: $(cat "$D/fusedump.err")"
		sleep 0.1
	done
	die "$name: $MNT not mounted after 10 s"
}

# new_dir NAME: $D, a fresh directory for one capture, with the mount point $MNT in it.
new_dir() {
	D=$WORK/$1
	MNT=$D/mnt
	mkdir -p "$MNT" || die "cannot make $MNT"
}

# run NAME WORKLOAD: the shell function WORKLOAD in $MNT, with -e (a step that fails
# unexpectedly fails the capture), bounded in time: a hang must not keep the mount.
run() {
	timeout -k 5 120 bash -ec "$(declare -f "$2"); cd \"\$1\"; $2" "$2" "$MNT" >"$D/workload.out" 2>&1 ||
		die "$1: the workload failed: $(tail -n 5 "$D/workload.out")"
}

# finish NAME: unmount, and fusedump must exit 0 within 20 s.
finish() {
	local name=$1 i rc
	umount "$MNT" || die "$name: umount failed"
	for i in $(seq 200); do
		kill -0 "$FD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$FD_PID" 2>/dev/null && die "$name: fusedump still runs 20 s after the unmount"
	wait "$FD_PID"
	rc=$?
	FD_PID=""
	[ "$rc" -eq 0 ] || die "$name: fusedump exited $rc: $(cat "$D/fusedump.err")"
	MNT=""
}

# keep NAME FILE: FILE becomes $OUT/NAME.pcap.
keep() {
	cp "$2" "$OUT/$1.pcap" || die "cannot write $OUT/$1.pcap"
	echo "$1.pcap: $(stat -c %s "$2") bytes"
}

# ------------------------------------------------------------------ workloads

# hello_ll serves one read-only file, "hello".
wl_hello() {
	ls -la . >/dev/null
	[ "$(cat hello)" = "Hello World!" ]
	stat hello >/dev/null
	cat missing 2>/dev/null || true
	# hello_ll refuses to open for writing: OPEN = -13 EACCES
	sh -c ': >hello' 2>/dev/null || true
	stat -f . >/dev/null
}

# Something of every kind of request a writable filesystem gets.
wl_mixed() {
	mkdir dir dir/sub
	printf 'fusewire: a small file\n' >dir/a.txt
	cat dir/a.txt >/dev/null
	printf 'appended\n' >>dir/a.txt
	mv dir/a.txt dir/sub/b.txt
	ln -s sub/b.txt dir/link
	[ "$(readlink dir/link)" = sub/b.txt ]
	ln dir/sub/b.txt dir/hard
	chmod 600 dir/hard
	truncate -s 10 dir/sub/b.txt
	touch -d '2001-02-03 04:05:06 UTC' dir/sub/b.txt
	# EOPNOTSUPP: built as tests/daemons does, passthrough_ll has no posix_fallocate
	fallocate -l 8192 dir/sub/b.txt 2>/dev/null || true
	mkfifo dir/fifo
	ls -la dir dir/sub >/dev/null
	stat -f . >/dev/null
	# from outside the mount: python (and pyenv's shim) would look for files in the
	# current directory, lookups that are not part of the workload
	(cd / && python3 - "$OLDPWD/dir/sub/b.txt") <<'EOF'
import errno, fcntl, os, sys
f = sys.argv[1]
os.setxattr(f, "user.fusewire", b"a value")
assert os.getxattr(f, "user.fusewire") == b"a value"
assert "user.fusewire" in os.listxattr(f)
os.setxattr(f, "user.fusewire", b"replaced", os.XATTR_REPLACE)
os.removexattr(f, "user.fusewire")
try:
    os.getxattr(f, "user.fusewire")
    raise SystemExit("the removed xattr is still there")
except OSError as e:
    assert e.errno == errno.ENODATA
fd = os.open(f, os.O_RDWR)
os.pwrite(fd, b"0123456789", 0)
os.fsync(fd)
os.fdatasync(fd)
fcntl.flock(fd, fcntl.LOCK_EX)
fcntl.flock(fd, fcntl.LOCK_UN)
fd2 = os.open(f, os.O_RDONLY)
fcntl.flock(fd2, fcntl.LOCK_SH)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    raise SystemExit("flock: two locks on one file")
except OSError as e:
    assert e.errno == errno.EWOULDBLOCK
os.close(fd2)
os.close(fd)
EOF
	# one 512 KiB WRITE and one 512 KiB READ: longer than a record (256 KiB), so the
	# capture holds them in fragments
	yes fusewire | head -c 524288 | dd of=big bs=512k iflag=fullblock conv=fsync status=none
	dd if=big of=/dev/null bs=512k iflag=direct status=none
	rm dir/hard dir/link dir/fifo dir/sub/b.txt big
	rmdir dir 2>/dev/null || true # ENOTEMPTY
	rmdir dir/sub dir
	ls -la >/dev/null
}

# -s 64: file data and xattr values cut to 64 bytes.
wl_snap() {
	yes 'snapped data' | head -c 65536 | dd of=data bs=64k iflag=fullblock conv=fsync status=none
	dd if=data of=/dev/null bs=64k iflag=direct status=none
	(cd / && python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.long", b"v" * 200)
assert os.getxattr(sys.argv[1], "user.long") == b"v" * 200' "$OLDPWD/data")
	rm data
}

# Enough for two or three files of -C 16k.
wl_files() {
	local i
	mkdir d
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		printf 'file %s\n' "$i" >"d/f$i"
	done
	ls -la d >/dev/null
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		cat "d/f$i" >/dev/null
		mv "d/f$i" "d/g$i"
	done
	rm -r d
}

# A small session on a stacked filesystem.
wl_small() {
	mkdir d
	printf 'fusewire\n' >d/file
	[ "$(cat d/file)" = fusewire ]
	printf 'more\n' >>d/file
	mv d/file d/renamed
	ln -s renamed d/link
	chmod 640 d/renamed
	ls -la d >/dev/null
	cat d/missing 2>/dev/null || true
	rm d/link d/renamed
	rmdir d
}

# The file changes every second: the second read is served from what NOTIFY_STORE put
# into the kernel's cache, no READ.
wl_notify() {
	cat current_time >/dev/null
	sleep 2.5
	cat current_time >/dev/null
}

# ------------------------------------------------------------------ captures

make_hello_ll() {
	new_dir hello_ll
	start hello_ll -- "$DAEMONS/hello_ll" -f "$MNT"
	run hello_ll wl_hello
	finish hello_ll
	keep hello_ll "$D/hello_ll.pcap"
}

make_passthrough_ll() {
	new_dir passthrough_ll
	mkdir "$D/src"
	start passthrough_ll -- "$DAEMONS/passthrough_ll" -f -o "source=$D/src,xattr,flock" "$MNT"
	run passthrough_ll wl_mixed
	finish passthrough_ll
	keep passthrough_ll "$D/passthrough_ll.pcap"
}

make_passthrough_ll-snap64() {
	new_dir snap64
	mkdir "$D/src"
	start snap64 -s 64 -- "$DAEMONS/passthrough_ll" -f -o "source=$D/src,xattr" "$MNT"
	run snap64 wl_snap
	finish snap64
	keep passthrough_ll-snap64 "$D/snap64.pcap"
}

# The second file of a rotation (-C): it starts in the middle of the session, with no INIT.
make_passthrough_ll-midsession() {
	new_dir midsession
	mkdir "$D/src"
	start rot -C 16k -- "$DAEMONS/passthrough_ll" -f -o "source=$D/src" "$MNT"
	run midsession wl_files
	finish midsession
	[ -f "$D/rot.pcap1" ] || die "midsession: -C 16k made no second file"
	local files=("$D"/rot.pcap*)
	echo "midsession: -C 16k made ${#files[@]} files"
	keep passthrough_ll-midsession "$D/rot.pcap1"
}

make_bindfs() {
	new_dir bindfs
	mkdir "$D/src"
	start bindfs -- bindfs "$D/src" "$MNT"
	run bindfs wl_small
	finish bindfs
	keep bindfs "$D/bindfs.pcap"
}

make_gocryptfs() {
	new_dir gocryptfs
	mkdir "$D/cipher"
	# a small scrypt cost: the key is derived at -init and again at the mount
	gocryptfs -init -q -scryptn 10 -extpass "echo fusewire" "$D/cipher" >/dev/null ||
		die "gocryptfs -init failed"
	start gocryptfs -- gocryptfs -fg -q -extpass "echo fusewire" "$D/cipher" "$MNT"
	run gocryptfs wl_small
	finish gocryptfs
	keep gocryptfs "$D/gocryptfs.pcap"
}

make_notify_store_retrieve() {
	new_dir notify
	start notify -- "$DAEMONS/notify_store_retrieve" -f --update-interval=1 "$MNT"
	run notify wl_notify
	finish notify
	keep notify_store_retrieve "$D/notify.pcap"
}

[ $# -gt 0 ] || set -- "${ALL[@]}"
for name in "$@"; do
	declare -F "make_$name" >/dev/null || die "no capture named $name (${ALL[*]})"
done
for name in "$@"; do
	"make_$name"
done
