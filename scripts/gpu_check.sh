#!/usr/bin/env bash
# The one script to run on a lent GPU machine (one H100/H200, 16 cores, no network, a python3 with
# PyTorch 2.x + CUDA and transformers). Whole run under ~8 minutes; every section independent,
# each under its own `timeout`, everything logged under $OUT (default ./gpu_check_out).
#
# usage: scripts/gpu_check.sh [--cpu-smoke] [--out DIR] [--sections "build gputests bench hf dist"]
#
# Sections:
#   build    (issue 12.5) structlm built against the python3's libtorch (torch.utils.cmake_prefix_path,
#            its C++ ABI), in build-gpu/, Release, -j16, `make -k structlm train_bench`; compile errors
#            are listed (OUT/build_errors.txt) and the other sections go on with what got built.
#   gputests (issue 12.5) the tests that need CUDA (tests/ files mentioning cuda and GTEST_SKIP),
#            built and run; skipped when there are none.
#   bench    (issue 12.5) GPT-2-124M shape (12 layers, 768 wide, 12 heads, T 1024, batch 16, vocab
#            50304), bf16 autocast, full training steps: structlm (bench/train_bench --device cuda)
#            against the same model in PyTorch eager (SDPA attention) and under torch.compile
#            (scripts/reference/train_bench.py), order structlm, eager, eager, structlm, compile; the
#            measured bf16 matmul peak (8192^3, cuda-synchronized) before and after; tokens/s and
#            MFU = tokens/s x (6N + 12 L d T) / peak for each.
#   hf       (issue 16.3) random tiny LlamaForCausalLM (plain, and Llama 3 rope scaling + tied),
#            MistralForCausalLM (sliding window = the context: a shorter one is refused by import),
#            Qwen2ForCausalLM (q/k/v biases) from transformers,
#            save_pretrained (safetensors), `structlm import`, then `structlm eval --precision fp32`
#            (cpu, and cuda when there) against transformers' f32 loss on the very tokens eval
#            scored (its test shard's first context+1 tokens, one window): |diff| < 1e-4.
#            No logits dump command exists, so this compares the loss, not the logits.
#   dist     (issue 17.4) NCCL if the code has it (it does not: "NCCL: not implemented (Gloo only)"),
#            then a 2-rank Gloo `structlm launch --nproc 2 -- train` smoke on the CPUs.
#
# --cpu-smoke: the same logic here, in a minute: tiny sizes, device cpu, /usr/bin/python3 (Debian's
# torch; no transformers, so hf says skipped), the existing build/ instead of a new one.
#
# Environment: OUT, PY (python3 to use; default python3, or /usr/bin/python3 in --cpu-smoke),
# BUILD_DIR (build-gpu; build in --cpu-smoke), JOBS (16), TOTAL_S (475: the whole script's budget),
# T_BUILD (250) T_GPUTESTS (30) T_BENCH (150) T_HF (45) T_DIST (25): per-section seconds, each also
# cut to what is left of TOTAL_S; STEPS (10), WARMUP (3).
# Output: OUT/gpu_check.log (everything), OUT/<section>.log, OUT/<section>.result, and a summary
# at the end: one line per section, ok / failed / skipped with its key numbers. Exit status 1 when
# a section failed.
# On a lent machine whose runner exports OUT (the folder that comes back), plain
# `scripts/gpu_check.sh` writes straight into it; give the command ~560 s.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF="$ROOT/scripts/gpu_check.sh"

# ---------------------------------------------------------------- the sections (run as children)
result() {  # STATUS DETAIL: the section's line for the summary
  printf '%s\t%s\n' "$1" "$2" > "$OUT/$SECTION.result"
  echo "[$SECTION] $1: $2"
}
left() { echo $(( DEADLINE - $(date +%s) )); }  # seconds left of this section
within() {  # RESERVE CMD...: CMD under a timeout leaving RESERVE seconds of the section
  local t=$(( $(left) - $1 )); shift
  if (( t < 5 )); then echo "(no time left for: $*)"; return 124; fi
  timeout -k 5 "$t" "$@"
}

sec_build() {
  if [[ $SMOKE == 1 ]]; then
    local missing=""
    for b in structlm bench/train_bench; do [[ -x $BUILD/$b ]] || missing+=" $b"; done
    if [[ -n $missing ]]; then result failed "cpu smoke: $BUILD lacks$missing"; else result ok "cpu smoke: existing $BUILD (not rebuilt)"; fi
    return
  fi
  # Never the shared build/ of the CPU checkout: another configure there (other prefix, flags)
  # would make everyone's next build start from scratch.
  if [[ $BUILD -ef $ROOT/build ]]; then result failed "refusing to configure $BUILD (the CPU build); use BUILD_DIR=build-gpu"; return; fi
  local prefix abi cuda
  prefix=$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)') || { result failed "$PY cannot import torch"; return; }
  abi=$($PY -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  cuda=$($PY -c 'import torch; print(torch.version.cuda, torch.cuda.is_available())')
  echo "torch $($PY -c 'import torch; print(torch.__version__)') at $prefix; CUDA $cuda; _GLIBCXX_USE_CXX11_ABI=$abi"
  echo "nvcc: $(command -v nvcc || echo 'not on PATH (find_package(Torch) may need the CUDA toolkit)')"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  # The ABI flag for everything, not only for the targets that link torch: the torch-free
  # libraries pass std::string to the torch ones. (Debian's own C++ libraries are ABI 1; a
  # mismatch shows up as undefined references at link time, listed below.)
  local cfg=(-S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
             -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi")
  echo "cmake ${cfg[*]}"
  if ! within 5 cmake "${cfg[@]}" > "$OUT/build_cmake.log" 2>&1; then
    tail -40 "$OUT/build_cmake.log"
    result failed "cmake configure failed (OUT/build_cmake.log)"; return
  fi
  local t0=$(date +%s)
  within 5 make -C "$BUILD" -k -j "$JOBS" structlm train_bench > "$OUT/build_make.log" 2>&1
  local rc=$?
  grep -E 'error:|error [0-9]|undefined reference|\*\*\*' "$OUT/build_make.log" | sort -u > "$OUT/build_errors.txt"
  if [[ -s $OUT/build_errors.txt ]]; then
    echo "=== COMPILE/LINK ERRORS ($(wc -l < "$OUT/build_errors.txt") lines; first 40; all in OUT/build_errors.txt) ==="
    head -40 "$OUT/build_errors.txt"
    echo "=== files with errors ==="
    grep -oE '^[^: ]+\.(cpp|h):' "$OUT/build_errors.txt" | sort | uniq -c | sort -rn | head -20
  fi
  local built=""
  for b in structlm bench/train_bench; do [[ -x $BUILD/$b ]] && built+=" $b"; done
  if [[ $rc == 0 ]]; then result ok "built structlm, train_bench in $(( $(date +%s) - t0 )) s ($BUILD)"
  else result failed "make rc $rc after $(( $(date +%s) - t0 )) s; built:${built:- nothing}; $(wc -l < "$OUT/build_errors.txt") error lines"; fi
}

sec_gputests() {
  local files
  files=$(grep -rliE 'cuda' "$ROOT/tests" --include='*.cpp' | xargs -r grep -l 'GTEST_SKIP' || true)
  if [[ -z $files ]]; then result skipped "no test needs CUDA (no tests/*.cpp mentions cuda and GTEST_SKIP)"; return; fi
  echo "tests that mention cuda and skip:"; echo "$files"
  local targets suites
  targets=$(for f in $files; do echo "test_$(basename "$(dirname "$f")")"; done | sort -u)
  suites=$(grep -hoE '^TEST(_F|_P)?\(\s*[A-Za-z0-9_]+' $files | sed -E 's/.*\(\s*//' | sort -u | sed 's/.*/&.*:*\/&.*/' | tr '\n' ':')
  [[ $SMOKE == 1 ]] || within 10 make -C "$BUILD" -k -j "$JOBS" $targets > "$OUT/gputests_make.log" 2>&1
  local failed=0 ran=0 skipped=0 out
  for t in $targets; do
    [[ -x $BUILD/tests/$t ]] || { echo "$t not built"; failed=$((failed + 1)); continue; }
    out=$(STRUCTLM_ROOT=$ROOT within 5 "$BUILD/tests/$t" --gtest_filter="$suites" 2>&1); local rc=$?
    echo "$out" | tail -30
    ran=$((ran + $(echo "$out" | grep -c '^\[       OK \]'))); skipped=$((skipped + $(echo "$out" | grep -c '^\[  SKIPPED \]')))
    [[ $rc == 0 ]] || failed=$((failed + 1))
  done
  if [[ $failed == 0 ]]; then result ok "$ran passed, $skipped skipped ($targets)"; else result failed "$failed binaries failed; $ran passed, $skipped skipped"; fi
}

sec_bench() {
  local dev=cuda shape=(--layers 12 --heads 12 --embd 768 --T 1024 --batch 16 --vocab 50304) peak_n=8192
  if [[ $SMOKE == 1 ]]; then dev=cpu shape=(--layers 1 --heads 2 --embd 64 --T 32 --batch 2 --vocab 512) peak_n=512; fi
  local common=("${shape[@]}" --steps "${STEPS:-10}" --warmup "${WARMUP:-3}" --repeats 1 --threads "$(nproc)" --bf16 1 --device "$dev")
  local J="$OUT/bench.jsonl"; : > "$J"
  # On a CPU, both sides on the OpenBLAS core type structlm picks (as scripts/bench.sh does).
  if [[ $dev == cpu && -x $BUILD/bench/train_bench ]]; then export OPENBLAS_CORETYPE=$("$BUILD/bench/train_bench" --print-coretype); fi
  local sdpa=0
  $PY -c 'import torch, sys; sys.exit(0 if hasattr(torch.nn.functional, "scaled_dot_product_attention") else 1)' && sdpa=1
  local has_compile=0
  $PY -c 'import torch, sys; sys.exit(0 if hasattr(torch, "compile") else 1)' && has_compile=1
  echo "shape: ${common[*]}  (pytorch: sdpa=$sdpa, torch.compile available=$has_compile)"
  peak() {
    within 10 $PY - "$dev" "$peak_n" <<'EOF' | tee -a "$J"
import json, sys, time, torch
dev, n = sys.argv[1], int(sys.argv[2])
a = torch.randn(n, n, device=dev, dtype=torch.bfloat16); b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
for _ in range(3): a @ b
sync(); best = 0.0
for _ in range(5):  # best of 5 timings of ~10 products each
    t0 = time.perf_counter()
    for _ in range(10): a @ b
    sync(); best = max(best, 10 * 2 * n ** 3 / (time.perf_counter() - t0))
print(json.dumps({"impl": "peak", "n": n, "device": dev, "bf16_flops": best}))
EOF
  }
  side() {  # NAME RESERVE: one process of one side
    local name=$1 reserve=$2 out rc
    case $name in
      structlm) out=$(within "$reserve" "$BUILD/bench/train_bench" "${common[@]}" 2>>"$OUT/bench.log") ;;
      eager) out=$(within "$reserve" $PY "$ROOT/scripts/reference/train_bench.py" "${common[@]}" --sdpa $sdpa 2>>"$OUT/bench.log") ;;
      compile) out=$(within "$reserve" $PY "$ROOT/scripts/reference/train_bench.py" "${common[@]}" --sdpa $sdpa --compile 1 2>>"$OUT/bench.log") ;;
    esac
    rc=$?
    if [[ $rc == 0 && $out == \{* ]]; then echo "$out" | sed "s/^{/{\"side\": \"$name\", /" | tee -a "$J"
    else echo "bench $name: rc $rc (stderr in OUT/bench.log)"; echo "{\"side\": \"$name\", \"failed\": $rc}" >> "$J"; fi
  }
  peak
  local have_bin=0; [[ -x $BUILD/bench/train_bench ]] && have_bin=1
  [[ $have_bin == 1 ]] || echo "bench: $BUILD/bench/train_bench missing (build failed): structlm side skipped"
  # ABBA: structlm, eager, eager, structlm; torch.compile last (its compilation is the slow part,
  # and a timeout there loses nothing else); each run leaves time for the ones after it.
  [[ $have_bin == 1 ]] && side structlm 100
  side eager 80
  side eager 70
  [[ $have_bin == 1 ]] && side structlm 60
  if [[ $has_compile == 1 ]]; then side compile 20; else echo '{"side": "compile", "skipped": "no torch.compile in this torch"}' >> "$J"; fi
  peak
  local summary
  summary=$($PY - "$J" "${shape[@]}" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
a = dict(zip(sys.argv[2::2], map(int, sys.argv[3::2])))
peaks = [r["bf16_flops"] for r in runs if r.get("impl") == "peak"]
peak = max(peaks) if peaks else 0.0
ok = [r for r in runs if "tokens_per_s" in r]
n_params = next((r["params"] for r in ok if r["side"] == "structlm"), next((r["params"] for r in ok), 0))
fpt = 6 * n_params + 12 * a["--layers"] * a["--embd"] * a["--T"]
print(f"bench matmul peak bf16 {next((r['n'] for r in runs if r.get('impl') == 'peak'), '?')}^3: {peak / 1e12:.1f} TFLOP/s "
      f"(best of {len(peaks)} measurements)")
print(f"bench model: {n_params / 1e6:.1f} M parameters, {fpt / 1e6:.1f} MFLOP/token (6N + 12 L d T)")
med = {}
for side in ("structlm", "eager", "compile"):
    rates = [x for r in ok if r["side"] == side for x in r["tokens_per_s"]]
    fails = [r for r in runs if r.get("side") == side and ("failed" in r or "skipped" in r)]
    if not rates:
        why = fails[0].get("skipped") or f"failed (rc {fails[0]['failed']})" if fails else "not run"
        print(f"bench {side:8s} bf16: {why}")
        continue
    med[side] = statistics.median(rates)
    mfu = med[side] * fpt / peak if peak else float("nan")
    print(f"bench {side:8s} bf16: tokens/s {med[side]:10.1f}  MFU {mfu:.3f}  (runs: {', '.join(f'{x:.1f}' for x in rates)})")
for peer in ("eager", "compile"):
    if "structlm" in med and peer in med:
        print(f"bench ratio structlm/{peer}: {med['structlm'] / med[peer]:.3f}")
key = "; ".join(f"{s} {med[s]:.0f} tok/s MFU {med[s] * fpt / peak:.3f}" for s in med if peak) or "no side ran"
print(f"KEY peak {peak / 1e12:.1f} TFLOP/s; {key}")
print("STATUS " + ("ok" if "structlm" in med and "eager" in med else "failed"))
EOF
)
  echo "$summary" | grep -v '^KEY\|^STATUS'
  local st key
  st=$(echo "$summary" | sed -n 's/^STATUS //p'); key=$(echo "$summary" | sed -n 's/^KEY //p')
  result "${st:-failed}" "${key:-no summary}"
}

sec_hf() {
  if ! $PY -c 'import transformers' 2>/dev/null; then result skipped "$PY has no transformers"; return; fi
  [[ -x $BUILD/structlm ]] || { result failed "$BUILD/structlm missing (build failed)"; return; }
  local devs=cpu
  [[ $SMOKE == 1 ]] || devs="cpu cuda"
  local work="$OUT/hf_work"; rm -rf "$work"; mkdir -p "$work"
  (within 5 $PY - "$work" "$BUILD/structlm" "$devs" <<'EOF'
import json, os, random, struct, subprocess, sys
import numpy as np, torch, transformers
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)
work, structlm, devs = sys.argv[1], sys.argv[2], sys.argv[3].split()
print(f"transformers {transformers.__version__}, torch {torch.__version__}")
CTX = 64

def bytes_to_unicode():
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n); n += 1
    return table

def tokenizer_json(vocab):
    """Byte-level BPE without merges: the 256 byte tokens, reserved control tokens, then bos, eos."""
    b2u = bytes_to_unicode()
    normal = [b2u[b] for b in range(256)]
    controls = [f"<|reserved_{i}|>" for i in range(256, vocab - 2)] + ["<|begin_of_text|>", "<|end_of_text|>"]
    added = [{"id": 256 + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(controls)]
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": bl, "post_processor": None, "decoder": dict(bl),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": {t: i for i, t in enumerate(normal)}, "merges": []}}

def variants():
    r = random.Random(1616)
    def common(vocab):
        heads = r.choice([4, 8]); kv = r.choice([h for h in (1, 2, 4) if heads % h == 0])
        return dict(vocab_size=vocab, hidden_size=heads * r.choice([8, 16]), intermediate_size=r.choice([96, 176, 200]),
                    num_hidden_layers=r.choice([2, 3]), num_attention_heads=heads, num_key_value_heads=kv,
                    max_position_embeddings=256, rms_norm_eps=r.choice([1e-5, 1e-6]),
                    rope_theta=r.choice([10000.0, 500000.0, 1e6]), bos_token_id=vocab - 2, eos_token_id=vocab - 1)
    yield "llama", LlamaConfig, LlamaForCausalLM, dict(common(r.randint(300, 400)), tie_word_embeddings=False)
    yield "llama3-rope-tied", LlamaConfig, LlamaForCausalLM, dict(
        common(r.randint(300, 400)), tie_word_embeddings=True,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 32})
    # structlm refuses a sliding window shorter than max_position_embeddings (it cannot represent
    # one): the window is the whole context here.
    yield "mistral", MistralConfig, MistralForCausalLM, dict(common(r.randint(300, 400)), sliding_window=256,
                                                             tie_word_embeddings=False)
    yield "qwen2", Qwen2Config, Qwen2ForCausalLM, dict(common(r.randint(300, 400)), tie_word_embeddings=r.choice([False, True]),
                                                       use_sliding_window=False)

docs = [{"id": f"d{d}", "text": " ".join(f"the {w} sat on the mat {d * 37 + s} times, caf\u00e9!"
                                         for s, w in enumerate(["cat", "dog", "tree", "tent", "rain", "song"] * 4))}
        for d in range(12)]
fails, worst = 0, 0.0
for seed, (name, Cfg, Model, kw) in enumerate(variants()):
    d = os.path.join(work, name)
    try:
        cfg = Cfg(**kw)
        cfg._attn_implementation = "eager"  # the plain masked softmax, sliding window included
        torch.manual_seed(seed)
        m = Model(cfg).float().eval()
        with torch.no_grad():  # transformers' init is small (0.02): widen it so the logits are not all ~0
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        m.save_pretrained(d, safe_serialization=True)
        json.dump(tokenizer_json(cfg.vocab_size), open(os.path.join(d, "tokenizer.json"), "w"))
        with open(os.path.join(d, "c.jsonl"), "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in docs)
        run = lambda *a: subprocess.run([structlm, *a], capture_output=True, text=True, timeout=120)
        p = run("import", d, "--out", os.path.join(d, "m.safetensors"))
        print(p.stdout.strip().splitlines()[0] if p.stdout.strip() else p.stderr.strip())
        if p.returncode:
            raise RuntimeError(f"import failed: {p.stderr.strip()[-400:]}")
        for dev in devs:
            e = os.path.join(d, f"eval-{dev}.json")
            p = run("eval", os.path.join(d, "m.safetensors"), "--corpus", os.path.join(d, "c.jsonl"), "--data-dir",
                    os.path.join(d, "data"), "--context", str(CTX), "--max-tokens", str(CTX), "--no-xz", "--json", e,
                    "--device", dev, "--precision", "fp32")
            if p.returncode:
                raise RuntimeError(f"eval --device {dev} failed: {(p.stdout + p.stderr).strip()[-400:]}")
            ours = json.load(open(e))["corpora"][0]
            assert ours["tokens"] == CTX, ours
            # The tokens eval scored: its test shard (llm.c format: 256 int32 header, then ids), one
            # window of CTX inputs and CTX targets.
            shard = next(os.path.join(r, f) for r, _, fs in os.walk(os.path.join(d, "data")) for f in fs if f == "test.bin")
            raw = open(shard, "rb").read()
            hdr = np.frombuffer(raw[:1024], dtype=np.int32)
            ids = torch.from_numpy(np.frombuffer(raw[1024:], dtype=np.uint16 if hdr[1] == 1 else np.uint32)
                                   .astype(np.int64))[: CTX + 1].view(1, -1)
            with torch.no_grad():
                logits = m(input_ids=ids[:, :CTX]).logits
            theirs = torch.nn.functional.cross_entropy(logits[0].double(), ids[0, 1:]).item()
            diff = abs(ours["loss"] - theirs)
            worst = max(worst, diff)
            ok = diff < 1e-4
            fails += not ok
            print(f"hf {name:18s} {dev:4s}: structlm loss {ours['loss']:.7f}  transformers f32 {theirs:.7f}  "
                  f"|diff| {diff:.2e}  {'ok' if ok else 'FAILED (> 1e-4)'}")
    except Exception as ex:  # one model's failure does not stop the others
        fails += 1
        print(f"hf {name:18s}: FAILED: {type(ex).__name__}: {ex}")
print(f"KEY worst |diff| {worst:.2e} over {len(devs)} device(s), {fails} failed")
sys.exit(1 if fails else 0)
EOF
  ) | tee "$OUT/hf_py.log"
  local rc=${PIPESTATUS[0]}
  local key; key=$(grep -h '^KEY ' "$OUT/hf_py.log" | tail -1 | sed 's/^KEY //')
  if [[ $rc == 0 ]]; then result ok "${key:-?}"; else result failed "rc $rc; ${key:-no summary}"; fi
}

sec_dist() {
  if grep -rqiE 'nccl' "$ROOT/src" --include='*.cpp' --include='*.h'; then
    echo "NCCL: the code mentions NCCL (src/); no NCCL run is scripted here yet: check src/dist by hand"
  else
    echo "NCCL: not implemented (Gloo only)"
  fi
  [[ -x $BUILD/structlm ]] || { result failed "NCCL: not implemented (Gloo only); $BUILD/structlm missing"; return; }
  local w="$OUT/dist_work"; rm -rf "$w"; mkdir -p "$w"
  $PY - "$w/toy.jsonl" <<'EOF'
import json, sys
words = ["the", "cat", "sees", "a", "dog", "river", "runs", "king", "finds", "bird"]
with open(sys.argv[1], "w") as f:
    for d in range(30):
        doc = "".join(words[(d * 7 + i * 3 + i // 5) % 10] + (". " if i % 9 == 8 else " ") for i in range(200))
        f.write(json.dumps({"id": f"d{d}", "text": doc}) + "\n")
EOF
  cat > "$w/cfg.json" <<'EOF'
{"model": {"block_size": 32, "n_layer": 1, "n_head": 2, "n_embd": 32, "dropout": 0.0},
 "train": {"batch_size": 4, "max_steps": 8, "warmup_steps": 2, "lr": 0.005, "eval_every": 4,
           "eval_batches": 2, "ckpt_every": 8, "log_every": 1, "threads": 1, "device": "cpu"},
 "data": {}}
EOF
  within 5 "$BUILD/structlm" tokenizer train "$w/toy.jsonl" --data-dir "$w/data" --vocab-size 280 --out "$w/tok" > "$w/tok.log" 2>&1 \
    || { tail -20 "$w/tok.log"; result failed "tokenizer train failed"; return; }
  local t0=$(date +%s)
  within 5 "$BUILD/structlm" launch --nproc 2 --grace 5 -- train --config "$w/cfg.json" --corpus "$w/toy.jsonl" \
      --tokenizer "$w/tok" --data-dir "$w/data" --run-dir "$w/run" > "$w/launch.log" 2>&1
  local rc=$?
  tail -15 "$w/launch.log"
  local loss
  loss=$(tail -1 "$w/run/metrics.jsonl" 2>/dev/null | $PY -c 'import json,sys; r=json.loads(sys.stdin.read() or "{}"); print(r.get("loss", r.get("train_loss", "?")))' 2>/dev/null)
  if [[ $rc == 0 ]] && grep -q "launch: 2 ranks finished" "$w/launch.log"; then
    result ok "NCCL: not implemented (Gloo only); Gloo 2 ranks x 8 steps in $(( $(date +%s) - t0 )) s, last loss ${loss:-?}"
  else
    result failed "NCCL: not implemented (Gloo only); Gloo launch rc $rc (OUT/dist_work/launch.log)"
  fi
}

# ---------------------------------------------------------------- the driver
SMOKE=0 SECTIONS="build gputests bench hf dist" SECTION=""
while (( $# )); do
  case $1 in
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    --cpu-smoke) SMOKE=1 ;;
    --out) OUT=$2; shift ;;
    --sections) SECTIONS=$2; shift ;;
    --section) SECTION=$2; shift ;;  # internal: run one section (the driver's child)
    *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ -n $SECTION ]]; then  # a child: its settings come from the driver's environment
  SMOKE=$GC_SMOKE
  "sec_$SECTION"
  exit 0
fi

OUT=${OUT:-./gpu_check_out}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
if [[ $SMOKE == 1 ]]; then PY=${PY:-/usr/bin/python3} BUILD=${BUILD_DIR:-$ROOT/build}
else PY=${PY:-python3} BUILD=${BUILD_DIR:-$ROOT/build-gpu}; fi
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
export GC_SMOKE=$SMOKE OUT PY BUILD JOBS=${JOBS:-16} STEPS=${STEPS:-10} WARMUP=${WARMUP:-3}
[[ $SMOKE == 1 ]] && export STEPS=${STEPS_SMOKE:-2} WARMUP=1
rm -f "$OUT"/*.result
exec > >(tee "$OUT/gpu_check.log") 2>&1
START=$(date +%s) TOTAL=${TOTAL_S:-475}
echo "gpu_check: $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) mode=$([[ $SMOKE == 1 ]] && echo cpu-smoke || echo gpu)"
echo "OUT=$OUT PY=$PY BUILD=$BUILD sections: $SECTIONS (budget ${TOTAL}s)"
for s in $SECTIONS; do
  case $s in build) t=${T_BUILD:-250} ;; gputests) t=${T_GPUTESTS:-30} ;; bench) t=${T_BENCH:-150} ;;
             hf) t=${T_HF:-45} ;; dist) t=${T_DIST:-25} ;; *) echo "unknown section $s"; continue ;; esac
  rest=$(( START + TOTAL - $(date +%s) ))
  (( t > rest )) && t=$rest
  echo; echo "======== $s (timeout ${t}s) ========"
  if (( t < 10 )); then printf 'skipped\tno time left of the %ss budget\n' "$TOTAL" > "$OUT/$s.result"; continue; fi
  s0=$(date +%s)
  DEADLINE=$(( s0 + t - 3 )) SECTION=$s timeout -k 5 "$t" bash "$SELF" --section "$s" 2>&1 | tee "$OUT/$s.log"
  rc=${PIPESTATUS[0]}
  if [[ ! -s $OUT/$s.result ]]; then
    if [[ $rc == 124 || $rc == 137 ]]; then printf 'failed\ttimed out after %ss\n' "$t" > "$OUT/$s.result"
    else printf 'failed\texited %s without a result\n' "$rc" > "$OUT/$s.result"; fi
  fi
  echo "[$s] $(( $(date +%s) - s0 )) s"
done

echo; echo "======== summary ($(( $(date +%s) - START )) s; logs in $OUT) ========"
fail=0
for s in $SECTIONS; do
  [[ -f $OUT/$s.result ]] || continue
  IFS=$'\t' read -r st detail < "$OUT/$s.result"
  printf '%-9s %-8s %s\n' "$s" "$st" "$detail"
  [[ $st == failed ]] && fail=1
done
grep -h '^bench \|^hf \|^NCCL' "$OUT"/bench.log "$OUT"/hf.log "$OUT"/dist.log 2>/dev/null | grep -v '^bench: ' || true
exit $fail
