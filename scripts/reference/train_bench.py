"""Training throughput of the Python reference GPT (gpt.py), the peer of bench/train_bench.cpp:
same model, shapes, optimizer (torch AdamW, decay on matrices only), steps and random tokens.

Prints one JSON line: {"impl": "pytorch", "tokens_per_s": [per repeat], "median": ...}.
Run it with Debian's /usr/bin/python3 (python3-torch, the same libtorch build as the C++ side)
and the same OPENBLAS_CORETYPE as structlm; scripts/bench.sh does both.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt  # noqa: E402


def loaded_blas():
    """Path of the BLAS library this process loaded: reference BLAS is ~25x slower than OpenBLAS."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line[line.find("/"):].strip() if "/" in line else ""
            if "blas" in path:
                return path
    return ""


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 6), ("heads", 6), ("embd", 384), ("vocab", 8192), ("T", 256), ("batch", 8),
                          ("steps", 5), ("warmup", 2), ("repeats", 1), ("threads", 2), ("seed", 0), ("bf16", 0)]:
        ap.add_argument("--" + name, type=int, default=default)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = gpt.Config(vocab_size=a.vocab, block_size=a.T, n_layer=a.layers, n_head=a.heads, n_embd=a.embd,
                     dropout=0.0, bias=True, tied=True)
    model = gpt.GPT(cfg)
    model.train()
    groups = model.optimizer_groups(weight_decay=0.1)
    # foreach=False: the one-tensor-at-a-time update; on this CPU build it is also the faster one
    # (14M parameters, 2 threads, clip + step: 39 ms against 45-49 ms with foreach=True).
    adamw = torch.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, foreach=False)

    x = torch.randint(a.vocab, (a.batch, a.T))
    y = torch.randint(a.vocab, (a.batch, a.T))
    last_loss = 0.0

    def step():
        nonlocal last_loss
        adamw.zero_grad(set_to_none=True)
        # --bf16 1: the forward under torch.autocast, PyTorch's own bf16 mixed precision.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
            _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as nanoGPT and structlm's trainer
        adamw.step()
        last_loss = loss.item()

    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps * a.batch * a.T / (time.perf_counter() - t0))

    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(json.dumps({"impl": "pytorch", "tokens_per_s": [round(r, 1) for r in rates],
                      "median": round(statistics.median(rates), 1) if rates else 0.0,
                      "threads": torch.get_num_threads(), "coretype": os.environ.get("OPENBLAS_CORETYPE", ""), "blas": loaded_blas(),
                      "params": n_params, "last_loss": round(last_loss, 4),
                      "precision": "bf16" if a.bf16 else "fp32"}))


if __name__ == "__main__":
    main()
