# fusewire: thin wrapper around cmake/ctest. The build itself is CMakeLists.txt.
#
#   make deps     install the Debian packages the build needs (scripts/deps.sh)
#   make build    configure and build into build/
#   make test     build/ + ctest, build-asan/ + ctest, build-fuzz/ + every fuzzer
#   make demo     build, then trace a sample filesystem live (scripts/demo.sh)
#   make bench    build, then time direct mounts against fusedump (bench/run.sh, as root)
#   make bench-read  build, then time fusedump -r of a big capture against tshark
#   make bench-replay  build, then time fusereplay against an instant daemon
#                 (bench/replay.sh)
#                 (bench/readcap.sh)
#   make clean    remove the build directories
#
# Overrides: FUZZ_SECONDS=60 (per harness), FUZZ_TIMEOUT=25 (per input),
# JOBS=$(nproc), BUILD_TYPE=RelWithDebInfo, FUZZ_CC=clang, CMAKE_ARGS=...

FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 25
# Inputs up to 64 KiB cover every layout; the 1 MiB WRITE seed would otherwise make
# libFuzzer try inputs that large and run several times slower.
FUZZ_MAX_LEN ?= 65536
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_TYPE   ?= RelWithDebInfo
FUZZ_CC      ?= clang
CMAKE        ?= cmake
CTEST        ?= ctest
CMAKE_ARGS   ?=

BUILD_DIR := build
ASAN_DIR  := build-asan
FUZZ_DIR  := build-fuzz

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

MAKEFLAGS += --no-print-directory

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
# The steps of `make test` share the machine (each build uses JOBS jobs) and
# must run in order, even under `make -j`.
.NOTPARALLEL:

.PHONY: all deps build configure test test-unit test-asan test-fuzz fuzz-build \
        demo bench bench-read bench-replay clean

all: build

deps:
	@bash scripts/deps.sh

configure: deps
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

build: configure
	$(CMAKE) --build $(BUILD_DIR) -j$(JOBS)

# (1) normal build + unit tests
test-unit: build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# (2) ASan + UBSan build + unit tests
test-asan: deps
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFP_SANITIZE=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(ASAN_DIR) -j$(JOBS)
	$(ASAN_ENV) $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS)

# (3) libFuzzer build; every harness runs FUZZ_SECONDS on a copy of its
# committed corpus (tests/fuzz/corpus/<harness>/ is never written to). New
# inputs go to build-fuzz/corpus/<harness>/, crash/leak/timeout reproducers to
# build-fuzz/artifacts/<harness>/. Any finding fails the target.
fuzz-build: deps
	CC=$(FUZZ_CC) $(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFP_FUZZ=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(FUZZ_DIR) -j$(JOBS)

test-fuzz: fuzz-build
	@shopt -s nullglob; \
	srcs=(tests/fuzz/fuzz_*.c); \
	if [ $${#srcs[@]} -eq 0 ]; then \
	  echo "test-fuzz: no fuzz harness yet (tests/fuzz/fuzz_*.c), nothing to run"; \
	  exit 0; \
	fi; \
	for src in "$${srcs[@]}"; do \
	  name=$$(basename "$$src" .c); \
	  bin=$(FUZZ_DIR)/tests/fuzz/$$name; \
	  corpus=$(FUZZ_DIR)/corpus/$$name; \
	  artifacts=$(FUZZ_DIR)/artifacts/$$name; \
	  if [ ! -x "$$bin" ]; then echo "test-fuzz: $$bin was not built" >&2; exit 1; fi; \
	  rm -rf "$$corpus" "$$artifacts"; mkdir -p "$$corpus" "$$artifacts"; \
	  if [ -d "tests/fuzz/corpus/$$name" ]; then \
	    cp -R "tests/fuzz/corpus/$$name/." "$$corpus/"; \
	  else \
	    echo "test-fuzz: $$name: no committed corpus (tests/fuzz/corpus/$$name/), starting empty"; \
	  fi; \
	  echo "test-fuzz: $$name for $(FUZZ_SECONDS)s ($$(ls -A "$$corpus" | wc -l) seed inputs)"; \
	  if ! "$$bin" -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) -max_len=$(FUZZ_MAX_LEN) \
	       -print_final_stats=1 -artifact_prefix="$$artifacts/" "$$corpus" </dev/null; then \
	    echo "test-fuzz: $$name FAILED; reproducers in $$artifacts/:" >&2; \
	    ls -l "$$artifacts" >&2; \
	    echo "reproduce with: $$bin $$artifacts/<file>" >&2; \
	    exit 1; \
	  fi; \
	done; \
	echo "test-fuzz: $${#srcs[@]} harness(es) ran $(FUZZ_SECONDS)s each without findings"

# Prerequisites run in this order (.NOTPARALLEL); any failure stops make.
test: deps test-unit test-asan test-fuzz
	@n_unit=$$($(CTEST) --test-dir $(BUILD_DIR) -N | sed -n 's/^Total Tests: //p'); \
	n_asan=$$($(CTEST) --test-dir $(ASAN_DIR) -N | sed -n 's/^Total Tests: //p'); \
	n_fuzz=$$(shopt -s nullglob; f=(tests/fuzz/fuzz_*.c); echo $${#f[@]}); \
	echo "make test: PASSED: $${n_unit:-0} tests, unit and integration ($(BUILD_DIR)), $${n_asan:-0} under ASan+UBSan ($(ASAN_DIR)), $$n_fuzz fuzz harnesses x $(FUZZ_SECONDS)s without findings ($(FUZZ_DIR))"

demo: build
	bash scripts/demo.sh $(BUILD_DIR)

# ROUNDS=5, RUN_SECONDS=3, BENCH_OUT=FILE, PIN=CPUS... are read by bench/run.sh.
bench: build
	BUILD_DIR=$(BUILD_DIR) bash bench/run.sh

# MESSAGES=1000000, SMALL=100000, RUNS=3, TSHARK_RUNS=1, TSHARK_MESSAGES, BENCH_OUT=FILE...
# are read by bench/readcap.sh.
bench-read: build
	BUILD_DIR=$(BUILD_DIR) bash bench/readcap.sh

# ROUNDS=5, N=100000, SMALL=10000, WINDOW=32, CONCURRENCY=32, BENCH_OUT=FILE... are read by
# bench/replay.sh.
bench-replay: build
	BUILD_DIR=$(BUILD_DIR) bash bench/replay.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
