#!/usr/bin/env bash
# make demo: trace a sample filesystem live. libfuse3's passthrough_ll runs behind fusedump
# in a fresh temporary directory while a short workload runs on the mount; the trace goes
# to stdout as it happens. Without root or /dev/fuse it says so and decodes a recorded
# session instead. Always unmounts and removes what it made, also when something fails.
set -euo pipefail

build=${1:-build}
fusedump=$build/fusedump/fusedump
daemon=$build/tests/daemons/passthrough_ll

if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; then
	echo "demo: mounting needs root and /dev/fuse; decoding the recorded hello_ll session instead"
	exec "$build/tests/tools/hexdecode" tests/data/hello_ll.hex
fi

tmp=$(mktemp -d /tmp/fusewire-demo.XXXXXX)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
echo "hello from the source directory" >"$src/greeting.txt"
pid=
cleanup() {
	if grep -qs " $mnt fuse" /proc/mounts; then umount "$mnt" 2>/dev/null || umount -l "$mnt"; fi
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "demo: fusedump -- passthrough_ll -f -o source=$src $mnt"
"$fusedump" -- "$daemon" -f -o "source=$src" "$mnt" &
pid=$!
for _ in $(seq 100); do
	grep -qs " $mnt fuse" /proc/mounts && break
	sleep 0.1
done
grep -qs " $mnt fuse" /proc/mounts || { echo "demo: the filesystem did not come up" >&2; exit 1; }

run() { echo "demo\$ $*" >&2; "$@"; sleep 0.2; }
run ls "$mnt"
run cat "$mnt/greeting.txt"
run sh -c "echo 'written through the proxy' > '$mnt/new.txt'"
run mv "$mnt/new.txt" "$mnt/renamed.txt"
run mkdir "$mnt/dir"
run stat -c '%n %s bytes' "$mnt/renamed.txt"
run sh -c "cat '$mnt/missing' 2>&1 || true"
run umount "$mnt"
wait "$pid"
pid=
echo "demo: fusedump exited 0; nothing left mounted"
