#!/usr/bin/env bash
# ASan + UBSan over the torch-free code: builds the libraries (core, text, formats, data,
# report), their tests and the fuzz targets (as seed-corpus replayers) into DIR with
# STRUCTLM_SANITIZE=ON, then runs them there. Any sanitizer report fails the run (the build uses
# -fno-sanitize-recover=all; leaks count too). ctest runs this as the test `sanitizers`.
#   scripts/sanitize.sh DIR
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir=${1:?usage: scripts/sanitize.sh BUILD_DIR}
jobs=${JOBS:-$(nproc)}
start=$(date +%s)
# -O0: compiling is most of this test's cost, and gcc compiles the template-heavy code (JSON,
# gtest) much faster unoptimised; the tests then run slower, but they are the smaller part. The
# compiler is whatever cmake finds (gcc on Debian; clang works too).
cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g" \
  -DSTRUCTLM_TORCH=OFF -DSTRUCTLM_SANITIZE=ON -DSTRUCTLM_FUZZ=ON -DSTRUCTLM_TESTS=ON >/dev/null
cmake --build "$dir" -j "$jobs"
built=$(date +%s)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600
echo "sanitize: build $((built - start)) s, tests $(($(date +%s) - built)) s"
