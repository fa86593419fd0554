#!/usr/bin/env bash
# Runs an experiment's plan (OUT/plan.txt, written by `structlm experiment ... --plan`) on this
# machine, one step after another, for a machine with no queue. Each step is one process capped at
# --max-minutes (train.max_minutes: a checkpointed stop), so no process outlives a sitting; a step
# that stopped on its cap runs again, resuming from its checkpoint, until it has finished. Each
# step's output goes to OUT/logs/<step>.log as it runs (appended across resumptions). Rerunning the
# script skips what has finished: `--plan` is asked again first, so plan.txt lists only what is
# left. Stops at a stage line ("# stage 2: ..."): run `--plan` and this script again for it.
#
#   scripts/run_plan.sh --config configs/cstde_e2.json --out runs/cstde-e2 [--max-minutes 40] [--only N]
#                       [--experiment cstde|hcma] [-- ARGS for `structlm experiment`, e.g. --data-dir D]
#
# --max-minutes M (default 40; decimals allowed) caps each training process; the step resumes
# until done. Other steps (HCMA's alignments) run uncapped.
# --only N runs at most N steps (then exits 0), so a sitting can take a bounded share of a plan.
# STRUCTLM=PATH runs that binary instead of build/structlm: a copy, so that rebuilding build/
# during a plan of several hours neither changes the code of later steps nor races the linker.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG="" OUT="" MINUTES=40 ONLY=0 KIND=cstde EXTRA=()
while (($#)); do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --max-minutes) MINUTES=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --experiment) KIND=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "run_plan: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -n "$CONFIG" && -n "$OUT" ]] || { echo "run_plan: --config and --out are required" >&2; usage >&2; exit 2; }
[[ "$MINUTES" =~ ^[0-9]*\.?[0-9]+$ && ! "$MINUTES" =~ ^[0.]+$ ]] || { echo "run_plan: --max-minutes takes a positive number (got '$MINUTES')" >&2; exit 2; }
[[ "$KIND" == cstde || "$KIND" == hcma ]] || { echo "run_plan: --experiment takes cstde or hcma (got '$KIND')" >&2; exit 2; }
[[ "$ONLY" =~ ^[0-9]+$ ]] || { echo "run_plan: --only takes a non-negative integer (got '$ONLY')" >&2; exit 2; }
BIN=${STRUCTLM:-$ROOT/build/structlm}
# CSTDE: each run is measured (RUN/result.json) as soon as it has finished, so results land run by
# run; --collect reuses them.
MEASURE=()
[[ "$KIND" == cstde ]] && MEASURE=(--measure)
[[ -x "$BIN" ]] || { echo "run_plan: $BIN is not built (make build)" >&2; exit 2; }

"$BIN" --root "$ROOT" experiment "$KIND" --config "$CONFIG" --out "$OUT" "${EXTRA[@]}" --plan > /dev/null
PLAN=$OUT/plan.txt
[[ -f "$PLAN" ]] || { echo "run_plan: $PLAN was not written" >&2; exit 1; }
mkdir -p "$OUT/logs"
OUT_ABS=$(cd "$OUT" && pwd)

done_steps=0
while IFS= read -r line; do
  [[ -z "$line" ]] && continue
  if [[ "$line" == "#"* ]]; then
    echo "run_plan: stopping at '$line': run this script again once the steps above have finished" >&2
    break
  fi
  if ((ONLY > 0 && done_steps >= ONLY)); then break; fi
  # A step is named by what it writes: a training run's --run-dir, an alignment's --out.
  key=--run-dir
  run=$(sed -n 's/.* --run-dir \([^ ]*\).*/\1/p' <<<"$line")
  [[ -n "$run" ]] || { key=--out; run=$(sed -n 's/.* --out \([^ ]*\).*/\1/p' <<<"$line"); }
  [[ -n "$run" ]] || { echo "run_plan: no --run-dir or --out in plan line: $line" >&2; exit 1; }
  rel=${run#"$OUT_ABS"/}
  name=${rel#runs/}
  log=$OUT/logs/${name//\//_}.log
  # A step stopped by its cap exits 0 with its checkpoint short of max_steps: run it again until
  # --plan no longer lists it.
  for attempt in $(seq 1 100); do
    echo "run_plan: $(date -u +%FT%TZ) $name (attempt $attempt, cap $MINUTES min)" | tee -a "$log" >&2
    # The plan line is a command line written by structlm itself, its first word the binary that
    # wrote it; $BIN runs in its place (STRUCTLM=a copy keeps a rebuild of build/ out of a long plan).
    read -r -a words <<<"$line"
    cap=()
    [[ " $line " == *" train "* ]] && cap=(--set "train.max_minutes=$MINUTES")
    "$BIN" "${words[@]:1}" "${cap[@]}" >> "$log" 2>&1 ||
      { echo "run_plan: $name failed (see $log)" >&2; exit 1; }
    "$BIN" --root "$ROOT" experiment "$KIND" --config "$CONFIG" --out "$OUT" "${EXTRA[@]}" --plan "${MEASURE[@]}" > /dev/null
    grep -qF -- "$key $run " "$PLAN" || break
  done
  done_steps=$((done_steps + 1))
done < <(cat "$PLAN")
echo "run_plan: $(date -u +%FT%TZ) ran $done_steps step(s)" >&2
