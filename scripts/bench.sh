#!/usr/bin/env bash
# Training speed of structlm's GPT against the same model in PyTorch, measured in one run.
# usage: scripts/bench.sh BUILD_DIR        (called by `make bench`)
# Environment: ROUNDS (3), STEPS (5), WARMUP (2), THREADS (2), and model shape LAYERS (6), HEADS (6),
# EMBD (384), VOCAB (8192), T (256), BATCH (8).
#
# Fairness: both sides use the same libtorch build (Debian's libtorch and python3-torch), the same
# thread count, the same OpenBLAS core type (the one structlm picks for itself; OpenBLAS would
# otherwise run Python on its slow fallback kernels, see README, Speed on CPUs), the same shapes, steps
# and optimizer (torch's AdamW). The two sides alternate, ROUNDS processes each, so that load from
# other work on the machine falls on both; the medians are compared.
set -euo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/bench/train_bench
PY=/usr/bin/python3  # Debian's python3-torch, not a python3 that happens to be first on PATH
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
ARGS=(--layers "${LAYERS:-6}" --heads "${HEADS:-6}" --embd "${EMBD:-384}" --vocab "${VOCAB:-8192}"
      --T "${T:-256}" --batch "${BATCH:-8}" --steps "${STEPS:-5}" --warmup "${WARMUP:-2}"
      --threads "$THREADS" --repeats 1)

[[ -x $BIN ]] || { echo "bench.sh: $BIN not found; build it first (make build)" >&2; exit 1; }
if ! $PY -c 'import torch' 2>/dev/null; then
  echo "bench.sh: $PY cannot import torch (install Debian's python3-torch)" >&2
  exit 1
fi

CORE=$("$BIN" --print-coretype)
# OMP_WAIT_POLICY: what structlm sets for itself (core/platform.h); the peer gets the same.
export OPENBLAS_CORETYPE=$CORE OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE
echo "train_bench: ${ARGS[*]}"
echo "OPENBLAS_CORETYPE=${CORE:-<unset>}  threads=$THREADS  rounds=$ROUNDS (sides alternate)"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
run_cpp() { "$BIN" "${ARGS[@]}" | tee -a "$results"; }
run_py() { $PY "$ROOT/scripts/reference/train_bench.py" "${ARGS[@]}" | tee -a "$results"; }
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then run_cpp; run_py; else run_py; run_cpp; fi
done

$PY - "$results" <<'PYEOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rates = {impl: [x for r in runs if r["impl"] == impl for x in r["tokens_per_s"]] for impl in ("structlm", "pytorch")}
med = {k: statistics.median(v) for k, v in rates.items()}
for k in ("structlm", "pytorch"):
    print(f"{k:9s} tokens/s median {med[k]:8.1f}   runs: {', '.join(f'{x:.1f}' for x in rates[k])}")
for k in ("structlm", "pytorch"):
    libs = sorted({r.get("blas", "") for r in runs if r["impl"] == k})
    print(f"{k:9s} BLAS: {', '.join(libs) or '(none found)'}")
    if not any("openblas" in l for l in libs):
        print(f"warning: {k} did not load OpenBLAS; with reference BLAS both sides are ~25x slower")
# Each round's two runs are back to back, so their ratio is the least exposed to load that comes
# and goes on a shared machine; its median is the headline, the ratio of the medians a cross-check.
paired = [a / b for a, b in zip(rates["structlm"], rates["pytorch"])]
print(f"ratio of medians structlm/pytorch: {med['structlm'] / med['pytorch']:.3f}")
print(f"ratio structlm/pytorch (median of {len(paired)} paired rounds: {', '.join(f'{r:.3f}' for r in paired)}): "
      f"{statistics.median(paired):.3f}")
PYEOF

echo
echo "tokenizer_bench: GPT-2 encoding of the Brown corpus vs the reference JS encoder (node)"
"$BUILD/bench/tokenizer_bench"
