# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
BUILD ?= build
JOBS  ?= $(shell nproc)
RUN   ?= runs/demo

SECONDS ?= 60

.PHONY: all setup build demo test bench clean fuzz-build fuzz sanitize

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD)/CMakeCache.txt
	@start=$$(date +%s); cmake --build $(BUILD) -j $(JOBS) && \
	  echo "build: $$(( $$(date +%s) - start )) s"

demo: build
	$(BUILD)/structlm demo --out $(RUN)

# Skipped tests are listed with their reasons after the run; in CI (CI=true) a skip for anything
# scripts/setup.sh installs fails the run (scripts/test_skips.sh).
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1500; rc=$$?; \
	  cd $(CURDIR) && bash scripts/test_skips.sh $(BUILD) $(if $(filter true,$(CI)),--strict) || rc=1; exit $$rc

bench: build
	bash scripts/bench.sh $(BUILD)
	bash scripts/bench_cstde.sh $(BUILD)
	$(BUILD)/bench/hcma_align_bench

# Parser fuzzing (docs/FUZZING.md): clang + libFuzzer, torch-free code only, in build-fuzz/.
fuzz-build:
	@bash scripts/setup.sh --fuzz
	bash scripts/fuzz.sh build

fuzz: fuzz-build
	bash scripts/fuzz.sh run $(SECONDS)

# ASan + UBSan build and tests of the torch-free code (also a ctest test of `make test`).
sanitize:
	bash scripts/sanitize.sh build-sanitize

clean:
	rm -rf $(BUILD)
