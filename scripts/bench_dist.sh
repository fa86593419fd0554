#!/usr/bin/env bash
# Data-parallel training on one machine (issue 17, item 4): the same steps (B windows of T tokens
# per step, demo's model shape, Brown) trained by one process with all THREADS threads and
# grad_accum 2, and by `structlm launch --nproc 2` with THREADS/2 threads per rank, its gradients
# all-reduced in one bucket after the backward pass (bucket_mb 0) or in buckets during it
# (bucket_mb 1 and 4). The sides rotate for ROUNDS rounds. Prints per side the median tokens/s
# (metrics.jsonl's log lines after the first, which holds start-up), the mean all-reduce wait per
# step (allreduce_s: what the backward pass did not hide), and each side's rate over the one
# process's, paired by round.
# usage: scripts/bench_dist.sh BUILD_DIR
# Environment: ROUNDS (3), STEPS (40), THREADS (2), BATCH (16 windows per step), T (128),
# LAYERS (4), EMBD (256), HEADS (4), VOCAB (4096), BUCKETS ("0 1 4"), PRECISION (fp32).
set -euo pipefail

BUILD=${1:-build}
BIN=$(realpath "$BUILD/structlm")
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-3} STEPS=${STEPS:-40} THREADS=${THREADS:-2} BATCH=${BATCH:-16}
[[ -x $BIN ]] || { echo "bench_dist.sh: $BIN not found; build it first (make build)" >&2; exit 1; }
(( THREADS >= 2 && BATCH % 2 == 0 )) || { echo "bench_dist.sh: THREADS >= 2 and an even BATCH are needed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=(--data-dir "$work/data")
"$BIN" tokenizer train brown "${data[@]}" --vocab-size "${VOCAB:-4096}" --out "$work/tok" >/dev/null 2>&1
cat >"$work/cfg.json" <<EOF
{"model": {"block_size": ${T:-128}, "n_layer": ${LAYERS:-4}, "n_head": ${HEADS:-4}, "n_embd": ${EMBD:-256}, "dropout": 0.0},
 "train": {"batch_size": $((BATCH / 2)), "max_steps": $STEPS, "warmup_steps": 5, "lr": 0.002, "eval_every": 0,
           "eval_batches": 1, "ckpt_every": 0, "log_every": 5, "precision": "${PRECISION:-fp32}"},
 "data": {}}
EOF
train=(train --config "$work/cfg.json" --corpus brown --tokenizer "$work/tok" "${data[@]}")

results="$work/results.jsonl"
run() {  # SIDE ROUND
  local dir="$work/run-$1-$2"
  case $1 in
    one) "$BIN" "${train[@]}" --run-dir "$dir" --set train.grad_accum=2 --set train.threads="$THREADS" >"$dir.log" 2>&1 ;;
    b*) "$BIN" launch --nproc 2 -- "${train[@]}" --run-dir "$dir" --set train.grad_accum=1 \
          --set train.threads=$((THREADS / 2)) --set train.bucket_mb="${1#b}" >"$dir.log" 2>&1 ;;
  esac || { echo "bench_dist.sh: side $1 failed:" >&2; tail -20 "$dir.log" >&2; exit 1; }
  echo "{\"side\": \"$1\", \"round\": $2, \"log\": \"$dir/metrics.jsonl\", \"buckets\": \"$(grep -o 'gradients in [0-9]* buckets' "$dir.log" || true)\"}" >>"$results"
}
# Prepares the shards once, outside the timing.
"$BIN" "${train[@]}" --run-dir "$work/warm" --set train.max_steps=1 >/dev/null 2>&1
sides=(one)
for b in ${BUCKETS:-0 1 4}; do sides+=("b$b"); done
echo "bench_dist: $STEPS steps of $BATCH x ${T:-128} tokens, ${LAYERS:-4} layers x ${EMBD:-256}, $THREADS threads in all; sides ${sides[*]}; $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#sides[@]}; i++)); do run "${sides[(i + r) % ${#sides[@]}]}" "$r"; done
done

$PY - "$results" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def measure(path):
    lines = [json.loads(l) for l in open(path) if '"tokens_per_s"' in l]
    lines = lines[1:]  # the first log line holds start-up
    tps = statistics.median(l["tokens_per_s"] for l in lines)
    wait = [l["allreduce_s"] for l in lines if "allreduce_s" in l]
    return tps, (statistics.mean(wait) if wait else None)
by = {}
for r in rows:
    by.setdefault(r["side"], {})[r["round"]] = (*measure(r["log"]), r["buckets"])
one = by["one"]
for side, runs in by.items():
    tps = [v[0] for v in runs.values()]
    waits = [v[1] for v in runs.values() if v[1] is not None]
    paired = [runs[k][0] / one[k][0] for k in runs if k in one]
    name = "1 process" if side == "one" else f"2 ranks, bucket_mb {side[1:]}"
    extra = f", all-reduce wait {1000 * statistics.mean(waits):.1f} ms/step ({list(runs.values())[0][2]})" if waits else ""
    print(f"{name:24s} tokens/s median {statistics.median(tps):8.1f} (runs {', '.join(f'{x:.0f}' for x in tps)}){extra}; "
          f"vs 1 process {statistics.median(paired):.3f} (paired median, range {min(paired):.3f}-{max(paired):.3f})")
PYEOF
