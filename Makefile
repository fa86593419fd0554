# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
BUILD ?= build
JOBS  ?= $(shell nproc)
RUN   ?= runs/demo

.PHONY: all setup build demo test bench clean

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

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1500

bench: build
	bash scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
