#!/usr/bin/env bash
# Install the Debian 12 packages that fusewire's build, tests and tools need.
# As root: installs what is missing (apt-get). Otherwise: prints the command
# to run and exits 1. Prints one line saying what it did.
set -euo pipefail

PACKAGES=(
  build-essential       # gcc, make, libc headers (+ libasan/libubsan via gcc)
  cmake
  pkg-config
  clang
  libclang-rt-14-dev    # libclang_rt.fuzzer / asan / ubsan for clang 14
  zlib1g-dev            # tests read *.hex.gz
  libcmocka-dev         # unit tests
  libpcap-dev           # capture files
  libncurses-dev        # fusedump live view (ncursesw)
  liblua5.4-dev         # Lua filters
  libfuse3-dev          # mounting
  fuse3                 # fusermount3, /etc/fuse.conf
  tshark                # the Wireshark dissector's tests (Wireshark 4.0); editcap
  tmux                  # fusedump --top's tests drive it in a terminal
  python3               # small helpers in the integration tests (getdents at an offset, ...)
  time                  # /usr/bin/time: peak RSS in the benchmarks
  # daemons of the integration tests (tests/integration/test_daemons.sh)
  squashfuse squashfs-tools   # libfuse3, and mksquashfs for its image
  fuse-overlayfs              # libfuse3
  bindfs                      # libfuse2
  fuse-zip zip                # libfuse2
  gocryptfs                   # go-fuse, mounts through fusermount3
)

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -qx 'install ok installed'
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    installed "$p" || printf '%s\n' "$p"
  done
}

mapfile -t missing < <(missing_packages)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

# Wait for another apt/dpkg run (unattended-upgrades, a parallel job) rather
# than failing on the lock.
apt_opts=(-o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
apt-get "${apt_opts[@]}" update -q
apt-get "${apt_opts[@]}" install -y -q "${missing[@]}" </dev/null

mapfile -t still < <(missing_packages)
if [ "${#still[@]}" -ne 0 ]; then
  echo "deps: apt-get did not install: ${still[*]}" >&2
  exit 1
fi
echo "deps: installed ${#missing[@]} missing package(s): ${missing[*]}"
