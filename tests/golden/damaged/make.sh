#!/usr/bin/env bash
# Makes the damaged captures of the golden tests from the real ones in captures/ (run it
# again after captures/make.sh, then tests/golden/regen.sh):
#  - hello_ll-cut.pcap: hello_ll.pcap cut in the middle of record 21's message;
#  - hello_ll-badmagic.pcap: hello_ll.pcap with "XUSE" for "FUSE" in record 13's
#    pseudo-header;
#  - passthrough_ll-cutfragment.pcap: passthrough_ll.pcap cut after the first fragment of
#    its first message longer than a record (the 512 KiB WRITE).
# fusedump -r must print every record before the damage, then name the record and its
# byte offset on stderr and exit 1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CAPTURES=$(cd "$HERE/../../../captures" && pwd) || exit 1
python3 - "$CAPTURES" "$HERE" <<'PY'
import struct, sys

captures, out = sys.argv[1], sys.argv[2]

def records(data):
    """(offset, pseudo-header flags) of every record of a little-endian pcap."""
    assert data[:4] == b"\x4d\x3c\xb2\xa1", "not a little-endian nanosecond pcap"
    off, recs = 24, []
    while off < len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        recs.append((off, struct.unpack_from("<I", data, off + 16 + 8)[0]))
        off += 16 + caplen
    assert off == len(data)
    return recs

def write(name, data):
    with open("%s/%s" % (out, name), "wb") as f:
        f.write(data)
    print("%s: %d bytes" % (name, len(data)))

hello = open(captures + "/hello_ll.pcap", "rb").read()
recs = records(hello)
# record 21 (from 1): 16 bytes of pcap header, 40 of pseudo-header, then 8 of the message
off = recs[20][0]
write("hello_ll-cut.pcap", hello[:off + 16 + 40 + 8])
off = recs[12][0]
bad = bytearray(hello)
bad[off + 16] = ord("X")
write("hello_ll-badmagic.pcap", bytes(bad))

pt = open(captures + "/passthrough_ll.pcap", "rb").read()
recs = records(pt)
more = next(i for i, (_, flags) in enumerate(recs) if flags & 0x08)
write("passthrough_ll-cutfragment.pcap", pt[:recs[more + 1][0]])
PY
