#!/usr/bin/env bash
# Lists the tests of the last ctest run that skipped themselves (GTEST_SKIP), with the reason each
# gave, so that `make test` never reads as complete when it was not.
#   scripts/test_skips.sh BUILD_DIR [--strict]
# --strict (CI): a skip is an error unless its reason names an optional corpus. Everything else a
# test can skip for (chromium, node, python3-torch, WordNet, OpenBLAS) is installed by
# scripts/setup.sh, so a skip there means a set-up step is missing.
set -uo pipefail
build=${1:?usage: scripts/test_skips.sh BUILD_DIR [--strict]}
strict=${2:-}
log="$build/Testing/Temporary/LastTest.log"
[ -f "$log" ] || { echo "test_skips: $log: no ctest log (run ctest first)" >&2; exit 2; }

# LastTest.log holds each test's output between "Output:" and "<end of output>"; a skipped
# GoogleTest prints "file:line: Skipped", its message, then "[  SKIPPED ] Name".
skips=$(awk '
  /^Output:/ { out = ""; inout = 1; next }
  /^<end of output>/ { inout = 0; next }
  inout && /: Skipped$/ { grab = 1; reason = ""; next }
  inout && /^\[  SKIPPED \]/ {
    if (grab) { name = $4; sub(/\r$/, "", reason); printf "  %s: %s\n", name, reason }
    grab = 0; next
  }
  inout && grab { reason = reason (reason == "" ? "" : " ") $0 }
' "$log")

if [ -z "$skips" ]; then
  echo "skipped tests: none"
  exit 0
fi
echo "skipped tests ($(printf '%s\n' "$skips" | wc -l)), each with its reason:"
printf '%s\n' "$skips"
if [ "$strict" = --strict ]; then
  bad=$(printf '%s\n' "$skips" | grep -v "optional corpora" || true)
  if [ -n "$bad" ]; then
    echo "test_skips: these skipped for something scripts/setup.sh installs, so set-up is incomplete:" >&2
    printf '%s\n' "$bad" >&2
    exit 1
  fi
fi
exit 0
