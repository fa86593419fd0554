#!/usr/bin/env bash
# Copies what an experiment measured, run by run, out of its (git-ignored) run folders into a
# folder that is committed, so results outlive the machine: for every OUT/runs/<run> that has a
# result.json (written by `--plan --measure` or the driver), its result.json, metrics.jsonl,
# config.json, requested_config.json, run_info.json and step_usage.json, and OUT/logs/<run>.log
# without its progress-bar lines (scripts/run_plan.sh's raw log). Checkpoints are never copied.
#
#   scripts/keep_results.sh runs/cstde-e2 docs/results/cstde-e2
#
# Restoring on a fresh machine (the runs' checkpoints gone): copy DEST/runs/* back into
# OUT/runs/; `--plan` then skips those runs and `--collect` reuses each result.json.
set -euo pipefail
if [[ $# -ne 2 || "$1" == -h || "$1" == --help ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  [[ $# -eq 1 && ( "$1" == -h || "$1" == --help ) ]] && exit 0
  exit 2
fi
OUT=$1 DEST=$2
[[ -d "$OUT/runs" ]] || { echo "keep_results: $OUT/runs is not a folder (not an experiment's output?)" >&2; exit 2; }
kept=0
for result in "$OUT"/runs/*/result.json; do
  [[ -f "$result" ]] || continue
  run_dir=$(dirname "$result")
  run=$(basename "$run_dir")
  mkdir -p "$DEST/runs/$run"
  for f in result.json metrics.jsonl config.json requested_config.json run_info.json step_usage.json; do
    [[ -f "$run_dir/$f" ]] && cp "$run_dir/$f" "$DEST/runs/$run/$f.tmp" && mv "$DEST/runs/$run/$f.tmp" "$DEST/runs/$run/$f"
  done
  log=$OUT/logs/$run.log
  if [[ -f "$log" ]]; then
    # The progress bar redraws one line with carriage returns: keep only the last state of each.
    tr '\r' '\n' < "$log" | grep -v '^train [0-9]*/[0-9]* (' > "$DEST/runs/$run/train.log.tmp" || true
    mv "$DEST/runs/$run/train.log.tmp" "$DEST/runs/$run/train.log"
  fi
  kept=$((kept + 1))
done
echo "keep_results: $kept measured run(s) of $OUT kept in $DEST/runs" >&2
