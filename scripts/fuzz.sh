#!/usr/bin/env bash
# The parser fuzz targets (fuzz/, docs/FUZZING.md), built with clang's libFuzzer + ASan + UBSan.
#   scripts/fuzz.sh build                   configure and build them in $FUZZ_BUILD (build-fuzz)
#   scripts/fuzz.sh run [SECONDS] [NAME...] fuzz each target (default: all) for SECONDS (60), one
#                                           at a time; prints runs, coverage and corpus per target
# A run's growing corpus stays in $FUZZ_BUILD/corpus/NAME (the seeds in fuzz/corpus/NAME are only
# read); what it finds goes to $FUZZ_BUILD/artifacts/NAME/ and makes the script exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD:-build-fuzz}

build() {
  if ! command -v clang++ >/dev/null 2>&1; then
    echo "fuzz: clang++ not found; install it with: bash scripts/setup.sh --fuzz" >&2
    exit 1
  fi
  # Torch-free libraries only, each instrumented for coverage, ASan and UBSan (see CMakeLists.txt).
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DSTRUCTLM_TORCH=OFF -DSTRUCTLM_SANITIZE=ON -DSTRUCTLM_FUZZ=ON -DSTRUCTLM_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"  # tests off: the libraries and fuzz targets
}

run() {
  local seconds=${1:-60}
  shift || true
  local names=("$@")
  if ((${#names[@]} == 0)); then  # every target built
    for bin in "$BUILD_DIR"/fuzz/fuzz_*; do [ -x "$bin" ] && names+=("${bin##*/fuzz_}"); done
  fi
  local failed=0
  for name in "${names[@]}"; do
    local bin="$BUILD_DIR/fuzz/fuzz_$name" corpus="$BUILD_DIR/corpus/$name" art="$BUILD_DIR/artifacts/$name/"
    local log="$BUILD_DIR/logs/$name.log" dict=()
    [ -x "$bin" ] || { echo "fuzz: $bin missing; run: scripts/fuzz.sh build" >&2; exit 1; }
    mkdir -p "$corpus" "$art" "$(dirname "$log")"
    # fuzz/NAME.dict, or one shared by a family (fuzz/llmc.dict for llmc_model, llmc_tokenizer)
    for d in "fuzz/$name.dict" "fuzz/${name%_*}.dict"; do
      if [ -f "$d" ]; then dict=(-dict="$d"); break; fi
    done
    echo "fuzz: $name for $seconds s (log: $log)"
    # Limits from docs/FUZZING.md: an input may not make a parser take 1 GiB at once, 2 GiB in
    # all, or 10 s; inputs up to 64 KiB (the seeds are a few KiB).
    if "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$art" "${dict[@]}" \
        "$corpus" "fuzz/corpus/$name" >"$log" 2>&1; then
      status=clean
    else
      status="FINDING (see $log, reproducer in $art)"
      failed=1
    fi
    local last runs
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    echo "fuzz: $name: $status; runs ${runs:-?}; last: ${last:-none}; corpus files $(ls "$corpus" | wc -l)"
  done
  return $failed
}

case "${1:-}" in
  build) build ;;
  run) shift; run "$@" ;;
  *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
