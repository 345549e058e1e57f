#!/usr/bin/env bash
# Transparency: the same workload (tests/tools/fwload: create, write, read back, rename and
# rename2, symlinks, hard links, chmod/chown, truncate, utimens, xattrs, mkdir/rmdir, a
# 10,000-entry readdir, a 64 MiB write and read back, fsync, flock and fcntl locks, mmap,
# O_DIRECT) gives the same output on a direct mount of passthrough_ll and on the same
# daemon behind fusedump. And the daemon received exactly the bytes the kernel sent: a
# preloaded tap (tests/daemons/fdtap.c) records every message the daemon reads from its
# socket, and each must equal the message in fusedump's -x trace, but for the INIT flags
# that fusedump clears (and says so).
. "$(dirname "$0")/lib.sh"
require_root_and_fuse
: "${FUSEDUMP:?}" "${PASSTHROUGH_LL:?}" "${TOOLS_DIR:?}" "${DAEMONS_DIR:?}"
FWLOAD=$TOOLS_DIR/fwload
TAP=$DAEMONS_DIR/libfdtap.so
[ -x "$FWLOAD" ] || fail "$FWLOAD is missing"
[ -f "$TAP" ] || fail "$TAP is missing"

SRC=$WORK/src
# xattr and flock: so that those requests reach the daemon instead of failing early
OPTS=source=$SRC,xattr,flock
SECONDS=0

# run_fwload NAME: the workload on $MNT, its output in $WORK/NAME.out.
run_fwload() {
	timeout -k 5 120 "$FWLOAD" "$MNT" >"$WORK/$1.out" 2>"$WORK/$1.fwload.err" ||
		{ tail -n 5 "$WORK/$1.out" "$WORK/$1.fwload.err" >&2; fail "$1: fwload failed"; }
	grep -qx 'end: ok' "$WORK/$1.out" || fail "$1: fwload did not finish"
}

# ---- 1. a direct mount of the daemon, libfuse's own
mkdir "$SRC"
"$PASSTHROUGH_LL" -f -o "$OPTS" "$MNT" 2>"$WORK/direct.err" &
DPID=$!
PIDS+=("$DPID")
for _ in $(seq 100); do
	is_mounted "$MNT" && break
	kill -0 "$DPID" 2>/dev/null || { cat "$WORK/direct.err" >&2; fail "passthrough_ll exited before mounting"; }
	sleep 0.1
done
is_mounted "$MNT" || fail "the direct mount did not appear in 10 s"
run_fwload direct
t umount "$MNT" || fail "umount of the direct mount failed"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DPID" 2>/dev/null && fail "passthrough_ll still running 10 s after umount"
wait "$DPID"
direct_s=$SECONDS

# ---- 2. the same daemon, with the tap, behind fusedump. `env` as the daemon command sets
# LD_PRELOAD for the daemon alone, not for fusedump.
rm -rf --one-file-system "$SRC"
mkdir "$SRC"
# fusedump's own shim is in the daemon's LD_PRELOAD already: the tap goes after it.
# -B: a trace buffer as large as the session (1 MiB WRITEs are 2 MiB of hex each): no line
# may be dropped here, however slowly the trace file is written.
start_fusedump proxied --json -x --stats -B 2097152 -- \
	env FDTAP_FILE="$WORK/tap.bin" sh -c 'LD_PRELOAD="$LD_PRELOAD $0" exec "$@"' "$TAP" \
	"$PASSTHROUGH_LL" -f -o "$OPTS" "$MNT"
run_fwload proxied
t umount "$MNT" || fail "umount of the fusedump mount failed"
wait_fusedump 30
[ "$FD_RC" -eq 0 ] || { cat "$ERR" >&2; fail "fusedump exited $FD_RC after umount"; }
expect_no_mount
proxied_s=$((SECONDS - direct_s))

# ---- the workload saw the same filesystem
diff -u "$WORK/direct.out" "$WORK/proxied.out" >&2 ||
	fail "the workload gave other results through fusedump than on the direct mount"
grep -q ' 0 refused by the socket, 0 refused by the kernel' "$ERR" ||
	{ cat "$ERR" >&2; fail "messages were refused (--stats)"; }
! grep -q '"event":"dropped"' "$TRACE" || fail "trace lines were dropped (-B too small?)"
if grep -Eq '"status":"(invalid|truncated)"' "$TRACE"; then
	grep -E '"status":"(invalid|truncated)"' "$TRACE" | head -3 | cut -c1-300 >&2
	fail "the trace has messages that did not decode cleanly"
fi

# ---- the daemon received what the kernel sent. Matched by unique (every request has its
# own), not by position: once the proxy reads the kernel with several threads, two
# requests in flight at once may reach the socket in another order than they were printed.
[ -s "$WORK/tap.bin" ] || fail "the tap recorded nothing (was it loaded?)"
perl -e '
use strict;
use warnings;
my ($trace, $tap) = @ARGV;
open(my $t, "<", $trace) or die "$trace: $!\n";
open(my $tapf, "<:raw", $tap) or die "$tap: $!\n";
my (%tpend, %bpend, %op);
my ($n, $bytes, $ooo, $rewrite_event, $init_edited, $forget_left) = (0) x 6;
my @bad;

# The INIT request: fusedump may clear flags (offset 52) and flags2 (56) in the copy it
# sends; nothing else may differ.
sub compare {
	my ($u, $th, $bh) = @_;
	$n++;
	$bytes += length($bh) / 2;
	return if $th eq $bh;
	my ($tb, $bb) = (pack("H*", $th), pack("H*", $bh));
	my @off = grep { substr($tb, $_, 1) ne substr($bb, $_, 1) } 0 .. length($tb) - 1;
	if ($op{$u} eq "INIT" && length($tb) == length($bb) && !grep { $_ < 52 || $_ >= 60 } @off) {
		$init_edited++;
		return;
	}
	push @bad, sprintf("#%s %s: kernel sent %d bytes, daemon read %d; first difference at byte %s",
			   $u, $op{$u}, length($tb), length($bb), @off ? $off[0] : "(length)");
}

# The next record of the tap: (unique, hex), or () at its end.
sub next_rec {
	my $h;
	my $r = read($tapf, $h, 4);
	return () if !$r;
	die "tap: cut record header\n" if $r != 4;
	my $len = unpack("V", $h);
	my $d = "";
	die "tap: cut record\n" if $len && read($tapf, $d, $len) != $len;
	die "tap: a $len-byte record is too short for a header\n" if $len < 16;
	return (unpack("Q<", substr($d, 8, 8)), unpack("H*", $d));
}

# Take tap records until unique $want has been matched (or the tap ends).
sub pull {
	my ($want) = @_;
	while (my ($u, $h) = next_rec()) {
		$ooo++ if defined $want && $u != $want;
		die "tap: unique $u read twice by the daemon\n" if exists $bpend{$u};
		if (exists $tpend{$u}) {
			compare($u, delete $tpend{$u}, $h);
			return if defined $want && $u == $want;
		} else {
			$bpend{$u} = $h;
		}
	}
}

while (my $l = <$t>) {
	$rewrite_event++ if $l =~ /"event":"init_rewrite".*in the request to the daemon/;
	next unless $l =~ /^\{"ts":[0-9.]+,"dir":"request","unique":(\d+),"op":"([^"]*)".*"raw":"([0-9a-f]*)"\}$/;
	my ($u, $o, $h) = ($1, $2, $3);
	die "trace: unique $u twice\n" if exists $op{$u};
	$op{$u} = $o;
	if (exists $bpend{$u}) {
		compare($u, $h, delete $bpend{$u});
		next;
	}
	$tpend{$u} = $h;
	pull($u);
}
pull(undef);
for my $u (sort { $a <=> $b } keys %tpend) {
	# Nothing waits for a FORGET: the unmount can end the daemon before it reads the last.
	if ($op{$u} =~ /^(BATCH_)?FORGET$/) {
		$forget_left++;
		next;
	}
	push @bad, "#$u $op{$u}: in the trace, never read by the daemon";
}
push @bad, "#$_: read by the daemon, not in the trace" for sort { $a <=> $b } keys %bpend;
push @bad, "INIT was edited but the trace has no init_rewrite event" if $init_edited && !$rewrite_event;
push @bad, "the trace says INIT was rewritten but the daemon got it unchanged" if $rewrite_event && !$init_edited;
push @bad, "no INIT in the trace" if !grep { $_ eq "INIT" } values %op;
if (@bad) {
	print STDERR "$_\n" for @bad[0 .. ($#bad < 9 ? $#bad : 9)];
	printf STDERR "(%d problems)\n", scalar @bad;
	exit 1;
}
printf "%d kernel messages, %d bytes, identical as read by the daemon (%d out of print order; INIT flags edited: %s; FORGETs unread at the end: %d)\n",
	$n, $bytes, $ooo, $init_edited ? "yes" : "no", $forget_left;
' "$TRACE" "$WORK/tap.bin" >"$WORK/compare.out" || fail "the daemon did not receive the bytes the kernel sent"

lines=$(wc -l <"$WORK/direct.out")
echo "PASS: $TEST_NAME ($lines workload lines identical; $(cat "$WORK/compare.out"); direct ${direct_s}s, fusedump ${proxied_s}s)"
