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


def sdpa_forward(self, x, dep_log=None):
    """gpt.CausalSelfAttention.forward through F.scaled_dot_product_attention (flash / memory-
    efficient kernels on a GPU), as nanoGPT and a PyTorch user on a GPU run it; same weights, same
    result up to rounding. --sdpa 1 installs it (structlm's GPT uses the same fused op)."""
    assert dep_log is None, "--sdpa: no CSTDE dependency term"
    B, T, C = x.shape
    q, k, v = self.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
    y = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, dropout_p=self.attn_dropout.p if self.training else 0.0, is_causal=True)
    return self.resid_dropout(self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)))


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 6), ("heads", 6), ("embd", 384), ("vocab", 8192), ("T", 256), ("batch", 8),
                          ("steps", 5), ("warmup", 2), ("repeats", 1), ("threads", 2), ("seed", 0), ("bf16", 0)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    ap.add_argument("--compile", type=int, default=0, help="1: the model under torch.compile (PyTorch 2.x)")
    ap.add_argument("--sdpa", type=int, default=0,
                    help="1: attention through F.scaled_dot_product_attention (PyTorch 2.x) instead of gpt.py's "
                         "explicit masked softmax")
    a = ap.parse_args()
    device = torch.device(a.device)
    cuda = device.type == "cuda"

    if a.sdpa:
        if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
            sys.exit(f"train_bench.py: --sdpa 1 needs PyTorch 2.x (this is {torch.__version__})")
        gpt.CausalSelfAttention.forward = sdpa_forward
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = gpt.Config(vocab_size=a.vocab, block_size=a.T, n_layer=a.layers, n_head=a.heads, n_embd=a.embd,
                     dropout=0.0, bias=True, tied=True)
    model = gpt.GPT(cfg).to(device)
    model.train()
    groups = model.optimizer_groups(weight_decay=0.1)
    # foreach=False: the one-tensor-at-a-time update; on this CPU build it is also the faster one
    # (14M parameters, 2 threads, clip + step: 39 ms against 45-49 ms with foreach=True). On a GPU,
    # PyTorch's default (foreach, the multi-tensor kernels), as a PyTorch user gets it.
    adamw = torch.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, foreach=None if cuda else False)
    # --compile 1: the forward (and so its backward) compiled; the warm-up steps pay the compilation.
    fwd = torch.compile(model) if a.compile else model

    # Drawn on the CPU whatever the device, as bench/train_bench.cpp does.
    x = torch.randint(a.vocab, (a.batch, a.T)).to(device)
    y = torch.randint(a.vocab, (a.batch, a.T)).to(device)
    last_loss = 0.0

    def step():
        nonlocal last_loss
        adamw.zero_grad(set_to_none=True)
        # --bf16 1: the forward under torch.autocast, PyTorch's own bf16 mixed precision.
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bool(a.bf16)):
            _, loss = fwd(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as nanoGPT and structlm's trainer
        adamw.step()
        last_loss = loss.item()  # a device sync: the timing covers the GPU's work

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
                      "precision": "bf16" if a.bf16 else "fp32", "device": str(device),
                      "compile": bool(a.compile), "sdpa": bool(a.sdpa)}))


if __name__ == "__main__":
    main()
