#!/usr/bin/env bash
# CSTDE's training overhead (targets: step time within 15 % of the plain GPT at the demo's size in
# fp32, within 10 % in bf16), measured in one run: the plain model and the CSTDE model (dependency
# attention with carry, rank R), each in fp32 and in bf16, train in rotation in separate processes,
# ROUNDS each, same shapes, data, optimizer and threads. Prints tokens/s and peak RSS medians, the ratio of the medians and
# the median of the per-round paired ratios.
# usage: scripts/bench_cstde.sh BUILD_DIR      (part of `make bench`)
# Environment: ROUNDS (5), STEPS (8), WARMUP (2), THREADS (2), RANK (32), and the demo's shape
# LAYERS (4), HEADS (4), EMBD (256), VOCAB (4096), T (128), BATCH (16); PRECISIONS as in bench.sh
# ("fp32 bf16" where the CPU does bf16, else "fp32").
set -euo pipefail

BUILD=${1:-build}
BIN=$BUILD/bench/train_bench
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-5}
ARGS=(--layers "${LAYERS:-4}" --heads "${HEADS:-4}" --embd "${EMBD:-256}" --vocab "${VOCAB:-4096}"
      --T "${T:-128}" --batch "${BATCH:-16}" --steps "${STEPS:-8}" --warmup "${WARMUP:-2}"
      --threads "${THREADS:-2}" --repeats 1)
[[ -x $BIN ]] || { echo "bench_cstde.sh: $BIN not found; build it first (make build)" >&2; exit 1; }
echo "train_bench: ${ARGS[*]}; CSTDE rank ${RANK:-32}; rounds=$ROUNDS (sides alternate)"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() {  # SIDE RANK BF16
  echo "{\"side\": \"$1\", \"bf16\": $3, \"run\": $("$BIN" "${ARGS[@]}" --cstde-rank "$2" --bf16 "$3")}" | tee -a "$results"
}
# Plain and CSTDE, each in fp32 and in bf16 (train.precision bf16); the order rotates each round.
source "$(dirname "$0")/bench_precisions.sh" bench_cstde.sh
sides=()
for p in $PRECISIONS; do
  if [[ $p == fp32 ]]; then sides+=("plain 0 0" "cstde ${RANK:-32} 0"); else sides+=("plain 0 1" "cstde ${RANK:-32} 1"); fi
done
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#sides[@]}; i++)); do run ${sides[(i + r) % ${#sides[@]}]}; done
done

$PY - "$results" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for bf16, prec in ((0, "fp32"), (1, "bf16")):
    side = {s: [r["run"] for r in rows if r["side"] == s and r["bf16"] == bf16] for s in ("plain", "cstde")}
    if not side["plain"]:
        continue  # precision not measured (PRECISIONS)
    tps = {s: [x["median"] for x in v] for s, v in side.items()}
    rss = {s: [x["peak_rss_mib"] for x in v] for s, v in side.items()}
    for s in ("plain", "cstde"):
        print(f"{prec} {s:6s} params {side[s][0]['params']:>9d}  tokens/s median {statistics.median(tps[s]):8.1f} "
              f"(runs {', '.join(f'{x:.0f}' for x in tps[s])})  peak RSS median {statistics.median(rss[s]):7.1f} MiB")
    # Step time is the inverse of tokens/s: overhead = plain rate / cstde rate.
    paired = [p / c for p, c in zip(tps["plain"], tps["cstde"])]
    print(f"{prec} step time cstde/plain: {statistics.median(tps['plain']) / statistics.median(tps['cstde']):.3f} (ratio of medians), "
          f"{statistics.median(paired):.3f} (median of {len(paired)} paired rounds, range {min(paired):.3f}-{max(paired):.3f})")
    print(f"{prec} peak RSS  cstde/plain: {statistics.median(rss['cstde']) / statistics.median(rss['plain']):.3f} (ratio of medians)")
    print(f"cstde overhead {prec}: {statistics.median(paired):.3f}")
PYEOF
