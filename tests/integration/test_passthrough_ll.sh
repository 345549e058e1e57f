#!/usr/bin/env bash
# libfuse3's passthrough_ll behind fusedump: the same workload (create, write, read back,
# rename, mkdir, rmdir, symlink, a 4 MiB write and read) run on the mount and on a plain
# directory gives the same output, the source directory ends up like the plain one, and
# every message decodes cleanly. Twice: with the page cache (128 KiB WRITEs), then with
# -o cache=never, where 1 MiB WRITE requests and READ replies cross the socket (the
# EMSGSIZE trap of a default-sized socket buffer).
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}"

head -c $((4 << 20)) /dev/urandom >"$WORK/big.in"

# workload DIR: operations and what they show; the output must not depend on DIR.
workload() {
	local d=$1
	set -e
	echo "hello through fuse" >"$d/a.txt"
	cat "$d/a.txt"
	printf 'second line\n' >>"$d/a.txt"
	cat "$d/a.txt"
	mv "$d/a.txt" "$d/b.txt"
	ls "$d"
	mkdir "$d/dir"
	mkdir "$d/dir/sub"
	echo x >"$d/dir/sub/f"
	rm "$d/dir/sub/f"
	rmdir "$d/dir/sub"
	ls -a "$d/dir"
	ln -s b.txt "$d/link"
	readlink "$d/link"
	cat "$d/link"
	dd if="$WORK/big.in" of="$d/big" bs=1M conv=fsync status=none
	sha256sum <"$d/big"
	dd if="$d/big" bs=1M status=none | sha256sum
	stat -c '%n %F %s %a' "$d/b.txt" "$d/dir" "$d/link" "$d/big" | sed "s|^$d/||"
	truncate -s 1000 "$d/big"
	sha256sum <"$d/big"
	rm "$d/link"
	ls "$d"
}

# tree DIR: names, types, sizes, link targets and contents of everything below DIR.
tree() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "$f link $(readlink "$f")"
		elif [ -d "$f" ]; then
			echo "$f dir"
		else
			echo "$f file $(stat -c %s "$f") $(sha256sum <"$f" | cut -c1-16)"
		fi
	done)
}

for mode in cached direct; do
	src=$WORK/src-$mode
	ref=$WORK/ref-$mode
	mkdir "$src" "$ref"
	extra=()
	[ "$mode" = direct ] && extra=(-o cache=never)
	start_fusedump "$mode" --stats -- "$PASSTHROUGH_LL" -f -o source="$src" "${extra[@]}" "$MNT"

	(workload "$ref") >"$WORK/ref-$mode.out" 2>&1 || fail "$mode: the workload failed on a plain directory"
	(t bash -c "$(declare -f workload); WORK='$WORK'; workload '$MNT'") >"$WORK/mnt-$mode.out" 2>&1 ||
		{ cat "$WORK/mnt-$mode.out" >&2; fail "$mode: the workload failed on the mount"; }
	diff -u "$WORK/ref-$mode.out" "$WORK/mnt-$mode.out" >&2 ||
		fail "$mode: the mount gave other results than a plain directory"
	big_sum=$(sha256sum <"$WORK/big.in")
	grep -qx -- "$big_sum" "$WORK/mnt-$mode.out" || fail "$mode: the 4 MiB file read back differs"
	mnt_tree=$(t bash -c "$(declare -f tree); tree '$MNT'") || fail "$mode: listing the mount failed"

	t umount "$MNT" || fail "$mode: umount failed"
	wait_fusedump 30
	[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "$mode: fusedump exited $FD_RC after umount"; }
	expect_no_mount

	[ "$(tree "$src")" = "$(tree "$ref")" ] ||
		{ diff <(tree "$ref") <(tree "$src") >&2; fail "$mode: the source directory differs from the plain one"; }
	[ "$mnt_tree" = "$(tree "$ref")" ] || fail "$mode: the mount showed another tree than the plain directory"

	trace_clean
	trace_has '^CREATE #[0-9]+ .*name="a.txt"' "CREATE"
	trace_has '^RENAME #[0-9]+ .*oldname="a.txt" newname="b.txt"' "RENAME"
	trace_has '^SYMLINK #[0-9]+ .*' "SYMLINK"
	trace_has '^RMDIR #[0-9]+ .*name="sub"' "RMDIR"
	trace_has '^#[0-9]+ WRITE = 0 \{size=' "WRITE replies"
	if [ "$mode" = direct ]; then
		trace_has '^WRITE #[0-9]+ .* size=1048576 ' "1 MiB WRITE requests"
		trace_has '^#[0-9]+ READ = 0 \{data=<1048576 bytes' "1 MiB READ replies"
	fi
	grep -q ' 0 refused by the socket, 0 refused by the kernel' "$ERR" ||
		{ cat "$ERR" >&2; fail "$mode: messages were refused (--stats)"; }
done
echo "PASS: $TEST_NAME"
