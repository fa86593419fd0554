#!/usr/bin/env bash
# Runs an experiment's plan (OUT/plan.txt, written by `structlm experiment ... --plan`) on this
# machine, for a machine with no queue: one step after another, or --jobs N steps at once. Each
# step is one process capped at --max-minutes (train.max_minutes: a checkpointed stop), so no
# process outlives a sitting; a step that stopped on its cap runs again, resuming from its
# checkpoint, until it has finished. Each step's output goes to OUT/logs/<step>.log as it runs
# (appended across resumptions). Rerunning the script skips what has finished: `--plan` is asked
# again first, so plan.txt lists only what is left. Stops at a stage line ("# stage 2: ..."), once
# every step started before it has finished: run `--plan` and this script again for it.
#
#   scripts/run_plan.sh --config configs/cstde_e2.json --out runs/cstde-e2 [--max-minutes 40] [--only N]
#                       [--jobs N] [--threads-per-job T]
#                       [--experiment cstde|hcma] [-- ARGS for `structlm experiment`, e.g. --data-dir D]
#
# --max-minutes M (default 40; decimals allowed) caps each training process; the step resumes
# until done. Other steps (HCMA's alignments) run uncapped.
# --only N starts at most N steps (then exits 0 once they have finished), so a sitting can take a
# bounded share of a plan.
# --jobs N (default 1) runs up to N steps at once, each in its own worker with its own log, giving
# each T = max(1, cores / N) threads (cores: `nproc`): `--set train.threads=T` on a training step,
# `--threads T` on an alignment. --threads-per-job T sets T itself (also with --jobs 1); with
# --jobs 1 and no --threads-per-job each step keeps its own (the config's train.threads, the align
# line's --threads), as before. On a 2-core machine two 1-thread runs of a small model outrun one
# 2-thread run (docs/DISTRIBUTED.md). After each attempt a
# worker asks `--plan` (with `--measure` for CSTDE) holding OUT/.run_plan.lock, so no two workers
# plan or measure at once. A failed step stops new steps from starting; the others finish their
# current step and the script exits 1. Ctrl-C or SIGTERM stops every running step at a checkpoint
# (SIGINT to each worker's process group; a second Ctrl-C kills them) and exits 130.
# STRUCTLM=PATH runs that binary instead of build/structlm: a copy, so that rebuilding build/
# during a plan of several hours neither changes the code of later steps nor races the linker.
# Needs bash >= 4.3 (wait -n) and flock (util-linux).
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG="" OUT="" MINUTES=40 ONLY=0 KIND=cstde JOBS=1 PER_JOB="" EXTRA=()
while (($#)); do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --max-minutes) MINUTES=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --experiment) KIND=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --threads-per-job) PER_JOB=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "run_plan: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -n "$CONFIG" && -n "$OUT" ]] || { echo "run_plan: --config and --out are required" >&2; usage >&2; exit 2; }
[[ "$MINUTES" =~ ^[0-9]*\.?[0-9]+$ && ! "$MINUTES" =~ ^[0.]+$ ]] || { echo "run_plan: --max-minutes takes a positive number (got '$MINUTES')" >&2; exit 2; }
[[ "$KIND" == cstde || "$KIND" == hcma ]] || { echo "run_plan: --experiment takes cstde or hcma (got '$KIND')" >&2; exit 2; }
[[ "$ONLY" =~ ^[0-9]+$ ]] || { echo "run_plan: --only takes a non-negative integer (got '$ONLY')" >&2; exit 2; }
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "run_plan: --jobs takes a positive integer (got '$JOBS')" >&2; exit 2; }
[[ -z "$PER_JOB" || "$PER_JOB" =~ ^[1-9][0-9]*$ ]] || { echo "run_plan: --threads-per-job takes a positive integer (got '$PER_JOB')" >&2; exit 2; }
command -v flock > /dev/null || { echo "run_plan: flock (util-linux) is not installed" >&2; exit 2; }
BIN=${STRUCTLM:-$ROOT/build/structlm}
# CSTDE: each run is measured (RUN/result.json) as soon as it has finished, so results land run by
# run; --collect reuses them.
MEASURE=()
[[ "$KIND" == cstde ]] && MEASURE=(--measure)
[[ -x "$BIN" ]] || { echo "run_plan: $BIN is not built (make build)" >&2; exit 2; }
# Threads per step: empty leaves each step's own (the config's train.threads, the align line's
# --threads).
THREADS=$PER_JOB
if [[ -z "$THREADS" ]] && ((JOBS > 1)); then
  THREADS=$(($(nproc) / JOBS))
  ((THREADS >= 1)) || THREADS=1
fi

plan() { "$BIN" --root "$ROOT" experiment "$KIND" --config "$CONFIG" --out "$OUT" "${EXTRA[@]}" --plan "$@" > /dev/null; }
mkdir -p "$OUT/logs"
LOCK=$OUT/.run_plan.lock
# Held while --plan runs (it rewrites plan.txt and, with --measure, measures every finished run).
{ flock -x 9; plan; } 9> "$LOCK"
PLAN=$OUT/plan.txt
[[ -f "$PLAN" ]] || { echo "run_plan: $PLAN was not written" >&2; exit 1; }
OUT_ABS=$(cd "$OUT" && pwd)
mapfile -t LINES < "$PLAN"

# One step, run until it has finished, in its own process group (a worker): exit 0 when it has,
# 1 when it failed, 130 when a signal stopped it.
run_step() {
  local line=$1 key run rel name log attempt words extra i st
  local stop=0
  # Main sends SIGINT to this worker's process group: the training child stops at a checkpoint,
  # and this shell starts no further attempt.
  trap 'stop=1' INT TERM
  # A step is named by what it writes: a training run's --run-dir, an alignment's --out.
  key=--run-dir
  run=$(sed -n 's/.* --run-dir \([^ ]*\).*/\1/p' <<<"$line")
  [[ -n "$run" ]] || { key=--out; run=$(sed -n 's/.* --out \([^ ]*\).*/\1/p' <<<"$line"); }
  [[ -n "$run" ]] || { echo "run_plan: no --run-dir or --out in plan line: $line" >&2; return 1; }
  rel=${run#"$OUT_ABS"/}
  name=${rel#runs/}
  log=$OUT/logs/${name//\//_}.log
  # A step stopped by its cap exits 0 with its checkpoint short of max_steps: run it again until
  # --plan no longer lists it.
  for attempt in $(seq 1 100); do
    ((stop == 0)) || { echo "run_plan: $name stopped by a signal; rerun the script to resume it" >&2; return 130; }
    echo "run_plan: $(date -u +%FT%TZ) $name (attempt $attempt, cap $MINUTES min)" | tee -a "$log" >&2
    # The plan line is a command line written by structlm itself, its first word the binary that
    # wrote it; $BIN runs in its place (STRUCTLM=a copy keeps a rebuild of build/ out of a long plan).
    read -r -a words <<<"$line"
    extra=()
    if [[ " $line " == *" train "* ]]; then
      extra=(--set "train.max_minutes=$MINUTES")
      [[ -z "$THREADS" ]] || extra+=(--set "train.threads=$THREADS")
    elif [[ -n "$THREADS" ]]; then
      # An alignment: its --threads (every align line has one) becomes T.
      for i in "${!words[@]}"; do
        [[ "${words[$i]}" == --threads ]] && words[i + 1]=$THREADS
      done
      [[ " ${words[*]} " == *" --threads "* ]] || extra=(--threads "$THREADS")
    fi
    st=0
    "$BIN" "${words[@]:1}" "${extra[@]}" >> "$log" 2>&1 || st=$?
    ((stop == 0)) || { echo "run_plan: $name stopped by a signal; rerun the script to resume it" >&2; return 130; }
    ((st == 0)) || { echo "run_plan: $name failed (see $log)" >&2; return 1; }
    exec 9> "$LOCK"
    flock -x 9
    # Another worker's --plan never measures a run caught between its last checkpoint and the
    # cost it records on exit: until RUN/step_usage.json names the last step, the run is not
    # finished (experiment/step_plan.h).
    st=0
    plan "${MEASURE[@]}" || st=$?
    ((stop == 0)) || { echo "run_plan: $name stopped by a signal; rerun the script to resume it" >&2; return 130; }
    ((st == 0)) || { echo "run_plan: --plan failed after $name (exit $st)" >&2; return 1; }
    st=0
    grep -qF -- "$key $run " "$PLAN" || st=1
    exec 9>&-
    ((st == 0)) || break
  done
  return 0
}

declare -A running=()  # worker pid -> step name
started=0 failed=0 stopping=0
on_signal() {
  stopping=1
  echo "run_plan: stopping: ${#running[@]} running step(s) stop at a checkpoint (again: kill them)" >&2
  local pid
  for pid in "${!running[@]}"; do kill -INT -- "-$pid" 2> /dev/null || true; done
}
trap on_signal INT TERM
# Waits until a worker has finished (or a signal came) and records how each finished one ended.
reap() {
  local pid st
  wait -n 2> /dev/null || true
  for pid in "${!running[@]}"; do
    kill -0 "$pid" 2> /dev/null && continue
    st=0
    wait "$pid" 2> /dev/null || st=$?
    ((st == 0 || st == 130)) || failed=$((failed + 1))
    unset "running[$pid]"
  done
}
[[ "$JOBS" == 1 && -z "$THREADS" ]] ||
  echo "run_plan: up to $JOBS step(s) at once, ${THREADS:-their own} thread(s) each" >&2
stage=""
for line in "${LINES[@]}"; do
  [[ -z "$line" ]] && continue
  if [[ "$line" == "#"* ]]; then
    stage=$line
    break
  fi
  if ((ONLY > 0 && started >= ONLY)); then break; fi
  while ((${#running[@]} >= JOBS)); do reap; done
  ((failed == 0 && stopping == 0)) || break
  # Its own process group (job control on while it starts): a Ctrl-C reaches this script alone,
  # which stops each worker's child through that worker's group.
  set -m
  run_step "$line" < /dev/null &
  set +m
  running[$!]=$line
  started=$((started + 1))
done
while ((${#running[@]} > 0)); do reap; done
if ((stopping)); then
  echo "run_plan: $(date -u +%FT%TZ) stopped by a signal after starting $started step(s)" >&2
  exit 130
fi
if ((failed)); then
  echo "run_plan: $(date -u +%FT%TZ) $failed of $started step(s) failed" >&2
  exit 1
fi
[[ -z "$stage" ]] ||
  echo "run_plan: stopping at '$stage': run this script again once the steps above have finished" >&2
echo "run_plan: $(date -u +%FT%TZ) ran $started step(s)" >&2
