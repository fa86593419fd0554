#!/usr/bin/env bash
# Copies what an experiment measured out of its (git-ignored) output folder into a folder that is
# committed, so results outlive the machine: for every OUT/runs/<run> that has a result.json
# (written by `--plan --measure` or the driver) or whose training has ended (a learning-rate sweep
# run), its result.json, metrics.jsonl, configs, run_info.json, step_usage.json and
# OUT/logs/<run>.log (scripts/run_plan.sh's raw log) without its progress-bar lines; and every other JSON, JSONL and Markdown file under OUT up to 512 KB (the
# tables and raw logs, HCMA's alignment reports), with HCMA's step logs.
# Checkpoints, the tokenizer and plan.txt are never copied. Rerun it any time: it overwrites.
#
#   scripts/keep_results.sh runs/cstde-e2 docs/results/cstde-e2
#
# Restoring on a fresh machine (the runs' checkpoints gone): copy DEST/runs/* back into
# OUT/runs/; `--plan` then skips those runs (a sweep run counts as trained for the choice of the
# learning rate) and `--collect` reuses each result.json.
set -euo pipefail
if [[ $# -ne 2 || "$1" == -h || "$1" == --help ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  [[ $# -eq 1 && ( "$1" == -h || "$1" == --help ) ]] && exit 0
  exit 2
fi
OUT=$1 DEST=$2
[[ -f "$OUT/plan.txt" || -d "$OUT/runs" || -d "$OUT/hcma" || -d "$OUT/cstde" ]] ||
  { echo "keep_results: $OUT does not look like an experiment's output (no plan.txt, runs/, cstde/ or hcma/)" >&2; exit 2; }
kept=0
# Stripped of its progress-bar lines: the bar redraws one line with carriage returns.
keep_log() {
  tr '\r' '\n' < "$1" | grep -v -E '^(train|align|[a-z -]+) [0-9]+/[0-9]+ \(' > "$2.tmp" || true
  mv "$2.tmp" "$2"
}
copy() {  # atomic: a reader never sees half a file
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
}
# The number KEY ($2) of a JSON file written by structlm ($1: pretty-printed, one key a line).
json_number() { sed -n 's/^ *"'"$2"'": *\([^,]*\),\{0,1\}$/\1/p' "$1" | head -n 1; }
# Training runs (CSTDE's OUT/runs/<run>): the measured ones (result.json), and those whose train
# step has ended without being measured (step_usage.json's step at the config's max_steps: E1's
# learning-rate sweep runs at a rate not chosen), so that a restored run is one --plan skips.
for run_dir in "$OUT"/runs/*/; do
  run_dir=${run_dir%/}
  run=$(basename "$run_dir")
  if [[ ! -f "$run_dir/result.json" ]]; then
    [[ -f "$run_dir/step_usage.json" && -f "$run_dir/config.json" ]] || continue
    step=$(json_number "$run_dir/step_usage.json" step)
    max=$(json_number "$run_dir/config.json" max_steps)
    [[ -n "$step" && -n "$max" ]] && ((step >= max)) || continue
  fi
  for f in result.json metrics.jsonl config.json requested_config.json run_info.json step_usage.json; do
    [[ -f "$run_dir/$f" ]] && copy "$run_dir/$f" "$DEST/runs/$run/$f"
  done
  [[ -f "$OUT/logs/$run.log" ]] && keep_log "$OUT/logs/$run.log" "$DEST/runs/$run/train.log"
  kept=$((kept + 1))
done
# Everything else the experiment wrote as text (its tables and raw logs, HCMA's alignment reports
# and tuning), up to KEEP_MAX_KB (default 512) a file: no checkpoint, tokenizer or plan. Larger
# files are per-target detail (HCMA's per-variant result.json holds every rare target's rank, 0.6
# MB each, 99 of them in the mix experiment) that the tables already summarise: named, not kept.
max_kb=${KEEP_MAX_KB:-512}
skipped=0
while IFS= read -r -d '' f; do
  if (( $(stat -c %s "$f") > max_kb * 1024 )); then
    skipped=$((skipped + 1))
    continue
  fi
  copy "$f" "$DEST/${f#"$OUT"/}"
  kept=$((kept + 1))
done < <(find "$OUT" \( -path "$OUT/runs" -o -name checkpoints -o -path "$OUT/tokenizer" -o -path "$OUT/logs" \) -prune -o \
  -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.md' \) -print0)
((skipped == 0)) || echo "keep_results: $skipped file(s) over ${max_kb} KB left out (KEEP_MAX_KB=N keeps larger ones)" >&2
# The step logs of an experiment without training runs of its own (HCMA: its model and alignments).
if [[ ! -d "$OUT/runs" && -d "$OUT/logs" ]]; then
  for log in "$OUT"/logs/*.log; do
    [[ -f "$log" ]] && mkdir -p "$DEST/logs" && keep_log "$log" "$DEST/logs/$(basename "$log")"
  done
fi
echo "keep_results: $kept file(s) and run(s) of $OUT kept in $DEST" >&2
