# QuantumChain Nexus - the two commands a newcomer needs are `make run` and
# `make test`; everything else is here for developers.
#   make run     install missing packages, build, start a local single-node chain
#   make test    install, build, run every test (unit, vectors, lint, e2e), the
#                unit tests again under ASan+UBSan, and a short fuzz smoke run
#   make bench   release build, then every benchmark (figures go to BENCHMARKS.md)
#   make fuzz    long libFuzzer runs (FUZZ_SECONDS per target)
#   make format  reformat the C sources with clang-format 14

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 300

.PHONY: all deps build build-asan build-fuzz build-release run test test-unit bench fuzz format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

build-release: deps
	@cmake --preset release >/dev/null
	@cmake --build build-release -j $(JOBS)

run: build
	@scripts/run.sh

test: build build-asan build-fuzz
	@scripts/test.sh

bench: build-release
	@scripts/bench.sh

fuzz: build-fuzz
	@scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	@find src tests fuzz -name '*.[ch]' | xargs clang-format-14 -i --style=file

clean:
	rm -rf build build-asan build-fuzz build-release
