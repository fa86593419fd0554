#!/usr/bin/env bash
# Training speed of structlm's GPT against the same model in PyTorch, in fp32 and in bf16 mixed
# precision, measured in one run.
# usage: scripts/bench.sh BUILD_DIR        (called by `make bench`)
# Environment: ROUNDS (3), STEPS (5), WARMUP (2), THREADS (2), and model shape LAYERS (6), HEADS (6),
# EMBD (384), VOCAB (8192), T (256), BATCH (8); PRECISIONS ("fp32 bf16" where /proc/cpuinfo shows
# amx_bf16 or avx512_bf16, else "fp32": emulated bf16 runs ~40x slower and its rounds would take
# most of an hour); SPLIT_SIDES (1): also structlm with the block-causal attention
# (model/attention_blocks.h) forced on (STRUCTLM_ATTENTION_BLOCK=${SPLIT_BLOCK:-128}) and forced
# off (0) in every precision, paired in the same rounds ("split speed-up"); 0 leaves those sides
# out. The plain structlm side runs the default (unsplit, or what STRUCTLM_ATTENTION_BLOCK set by
# the caller says).
#
# Fairness: both sides use the same libtorch build (Debian's libtorch and python3-torch), the same
# thread count, the same OpenBLAS core type (the one structlm picks for itself; OpenBLAS would
# otherwise run Python on its slow fallback kernels, see README, Speed on CPUs), the same shapes, steps
# and optimizer (torch's AdamW), the same malloc behaviour (structlm keeps freed memory for reuse,
# core/platform.h; the peer gets the same through glibc's MALLOC_MMAP_MAX_/MALLOC_TRIM_THRESHOLD_,
# as a PyTorch user would with jemalloc or tcmalloc). The sides (structlm and PyTorch, and
# structlm's forced-split and forced-unsplit attention, each in fp32 and bf16) rotate, ROUNDS
# processes each, so that load from other work on the machine falls on all; per-round ratios are
# compared. On a CPU without AMX-BF16 / AVX512-BF16, bf16 is emulated and its figures mean little.
#
# Lines for the record: "ratio fp32 structlm/pytorch", "ratio bf16 structlm/pytorch-bf16" (paired
# per-round ratios of tokens/s), "mfu bf16" (and fp32): model FLOPs per second over this run's
# measured matrix-product peak (2048^3, same threads; the higher of a measurement before and one
# after the rounds), with model FLOPs per token = 6 N + 12 L d T (N parameters, the tied
# embedding once; L layers, d width, T context), as nanoGPT and PaLM count them.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

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
# Four sides: structlm and PyTorch, each in fp32 and in bf16 mixed precision (structlm's
# train.precision bf16; PyTorch's torch.autocast("cpu", dtype=torch.bfloat16), its best on a CPU).
run_side() {  # IMPL BF16
  local out
  if [ "$1" = structlm ]; then out=$("$BIN" "${ARGS[@]}" --bf16 "$2"); elif [[ $1 == structlm-* ]]; then
    local block=0; [[ $1 == structlm-split ]] && block=${SPLIT_BLOCK:-128}
    out=$(STRUCTLM_ATTENTION_BLOCK=$block "$BIN" "${ARGS[@]}" --bf16 "$2" | sed "s/\"impl\": \"structlm\"/\"impl\": \"$1\"/"); else
    out=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 \
          $PY "$ROOT/scripts/reference/train_bench.py" "${ARGS[@]}" --bf16 "$2"); fi
  echo "$out" | tee -a "$results"
}
source "$(dirname "$0")/bench_precisions.sh" bench.sh
sides=()
for p in $PRECISIONS; do
  if [[ $p == fp32 ]]; then b=0; else b=1; fi
  sides+=("structlm $b" "pytorch $b")
  [[ ${SPLIT_SIDES:-1} == 0 ]] || sides+=("structlm-split $b" "structlm-unsplit $b")
done
peak() { "$BIN" --threads "$THREADS" --peak 2048 | tee -a "$results"; }
peak
for ((r = 1; r <= ROUNDS; r++)); do
  # The order rotates each round, so no side always runs first (or after the same neighbour).
  for ((i = 0; i < ${#sides[@]}; i++)); do run_side ${sides[(i + r) % ${#sides[@]}]}; done
done
peak

$PY - "$results" --layers "${LAYERS:-6}" --embd "${EMBD:-384}" --T "${T:-256}" <<'PYEOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def rates(impl, prec):
    return [x for r in runs if r["impl"] == impl and r.get("precision", "fp32") == prec for x in r["tokens_per_s"]]
sides = [(i, p) for p in ("fp32", "bf16") for i in ("structlm", "pytorch", "structlm-split", "structlm-unsplit") if rates(i, p)]
med = {s: statistics.median(rates(*s)) for s in sides}
has_bf16 = ("structlm", "bf16") in med
for s in sides:
    print(f"{s[0]:9s} {s[1]} tokens/s median {med[s]:8.1f}   runs: {', '.join(f'{x:.1f}' for x in rates(*s))}")
for k in ("structlm", "pytorch"):
    libs = sorted({r.get("blas", "") for r in runs if r["impl"] == k})
    print(f"{k:9s} BLAS: {', '.join(libs) or '(none found)'}")
    if not any("openblas" in l for l in libs):
        print(f"warning: {k} did not load OpenBLAS; with reference BLAS both sides are ~25x slower")
# Each round's runs are back to back, so their ratio is the least exposed to load that comes and
# goes on a shared machine: the median of the per-round ratios is the headline.
def paired(a, b):
    return statistics.median(x / y for x, y in zip(rates(*a), rates(*b)))
if has_bf16:
    print(f"bf16 speed-up structlm bf16/fp32: {paired(('structlm', 'bf16'), ('structlm', 'fp32')):.3f}")
    print(f"bf16 speed-up pytorch bf16/fp32: {paired(('pytorch', 'bf16'), ('pytorch', 'fp32')):.3f}")
print(f"ratio fp32 structlm/pytorch: {paired(('structlm', 'fp32'), ('pytorch', 'fp32')):.3f}")
if has_bf16:
    print(f"ratio bf16 structlm/pytorch-bf16: {paired(('structlm', 'bf16'), ('pytorch', 'bf16')):.3f}")
# The block-causal attention (model/attention_blocks.h) forced on against forced off, same
# rounds, and each one's ratio to PyTorch.
for p in ("fp32", "bf16"):
    if ("structlm-unsplit", p) in med and ("structlm-split", p) in med:
        peer, tag = ("pytorch", p), "pytorch-bf16" if p == "bf16" else "pytorch"
        print(f"split speed-up {p} structlm-split/structlm-unsplit: {paired(('structlm-split', p), ('structlm-unsplit', p)):.3f}"
              f"   (split/{tag}: {paired(('structlm-split', p), peer):.3f}, unsplit/{tag}: {paired(('structlm-unsplit', p), peer):.3f})")
# MFU: model FLOPs per second over the bf16 matrix-product peak measured in this run (the higher
# of the two measurements, before and after the rounds). Model FLOPs per token, as nanoGPT and
# PaLM count them: 6 N (forward + backward of every weight) + 12 L d T (attention scores and
# their weighted sums), N all parameters (the tied embedding once), L layers, d width, T context.
peaks = [r for r in runs if r["impl"] == "peak"]
peak_fp32 = max(p["fp32_gflops"] for p in peaks) * 1e9
peak_bf16 = max(p["bf16_gflops"] for p in peaks) * 1e9
a = dict(zip(sys.argv[2::2], map(int, sys.argv[3::2])))
n_params = next(r["params"] for r in runs if r["impl"] == "structlm")
flops_per_token = 6 * n_params + 12 * a["--layers"] * a["--embd"] * a["--T"]
print(f"matmul peak (2048^3, {peaks[0]['threads']} threads): fp32 {peak_fp32 / 1e9:.0f} GFLOP/s, bf16 {peak_bf16 / 1e9:.0f} GFLOP/s; "
      f"model {flops_per_token / 1e6:.1f} MFLOP/token")
print(f"mfu fp32: {med[('structlm', 'fp32')] * flops_per_token / peak_fp32:.3f}")
if has_bf16:
    print(f"mfu bf16: {med[('structlm', 'bf16')] * flops_per_token / peak_bf16:.3f}")
else:
    print("bf16 not measured on this CPU (no AMX-BF16 / AVX512-BF16): no bf16 ratio or mfu")
for p, pk in (("fp32", peak_fp32), ("bf16", peak_bf16)):
    for side in ("structlm-split", "structlm-unsplit"):
        if (side, p) in med:
            print(f"mfu {p} {side}: {med[(side, p)] * flops_per_token / pk:.3f}")
PYEOF

echo
echo "tokenizer_bench: GPT-2 encoding of the Brown corpus vs the reference JS encoder (node)"
"$BUILD/bench/tokenizer_bench"
