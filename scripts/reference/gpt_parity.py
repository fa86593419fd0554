"""Checks structlm's C++ GPT against the independent Python model in gpt.py.

Usage: /usr/bin/python3 scripts/reference/gpt_parity.py DIR [--tol T]

DIR holds what the C++ test exported: manifest.json and one raw little-endian binary file.
manifest.json:
  {"config": {GPTConfig fields}, "data": "tensors.bin",
   "tensors": {NAME: {"dtype": "f64"|"f32"|"i64", "shape": [...], "offset": BYTES}, ...}}
with NAME one of "param:<parameter name>" (every trainable parameter), "idx", "targets" ([B, T]
int64), "logits", "loss" (C++ outputs) and "grad:<parameter name>" (d loss / d parameter).

Loads the parameters into gpt.GPT (names must match both ways), runs the same input, and compares
logits, loss and each exported gradient: max |python - c++| / max |c++| per tensor must be <= tol.
Prints one line per tensor and exits 0 on match, 1 on mismatch, 2 on a malformed export.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt  # noqa: E402

DTYPES = {"f64": torch.float64, "f32": torch.float32, "i64": torch.int64}


def load_export(d):
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(d, manifest["data"]), "rb") as f:
        blob = bytearray(f.read())
    tensors = {}
    for name, info in manifest["tensors"].items():
        dtype = DTYPES[info["dtype"]]
        shape = info["shape"]
        count = 1
        for s in shape:
            count *= s
        t = torch.frombuffer(blob, dtype=dtype, count=count, offset=info["offset"]) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.clone().view(shape)
    return manifest["config"], tensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--tol", type=float, default=None, help="default: 1e-10 for float64, 1e-5 for float32")
    args = ap.parse_args()

    try:
        cfg_json, t = load_export(args.dir)
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        print(f"gpt_parity: cannot read export in {args.dir}: {e}", file=sys.stderr)
        return 2
    cfg = gpt.Config(**cfg_json)
    params = {k[len("param:"):]: v for k, v in t.items() if k.startswith("param:")}
    dtype = next(iter(params.values())).dtype
    tol = args.tol if args.tol is not None else (1e-10 if dtype == torch.float64 else 1e-5)

    model = gpt.GPT(cfg).to(dtype)
    ours = dict(model.named_parameters())
    if set(ours) != set(params):
        print(f"gpt_parity: parameter names differ: only in python {sorted(set(ours) - set(params))}, "
              f"only in c++ {sorted(set(params) - set(ours))}", file=sys.stderr)
        return 2
    with torch.no_grad():
        for name, p in ours.items():
            if tuple(p.shape) != tuple(params[name].shape):
                print(f"gpt_parity: {name}: shape {tuple(params[name].shape)} from c++, python has {tuple(p.shape)}",
                      file=sys.stderr)
                return 2
            p.copy_(params[name])

    model.eval()  # dropout off (the export uses dropout 0 anyway)
    logits, loss = model(t["idx"], t["targets"])
    loss.backward()

    checks = [("logits", logits.detach(), t["logits"]), ("loss", loss.detach().reshape(t["loss"].shape), t["loss"])]
    for k in sorted(t):
        if k.startswith("grad:"):
            name = k[len("grad:"):]
            checks.append((k, ours[name].grad, t[k]))

    # A gradient that cancels to nearly 0 (a sum of terms of the usual size) carries the rounding
    # of those terms, not of its own size: its error is measured against a floor of 1e-3 of the
    # largest gradient, so a scalar like a carry gate's gradient at 2e-6 is not held to 1e-5 of
    # itself in float32. A wrong gradient is off by its own size, far above the floor.
    grad_floor = 1e-3 * max([w.abs().max().item() for k, _, w in checks if k.startswith("grad:")] or [0.0])
    worst, ok = 0.0, True
    for name, got, want in checks:
        if got is None or got.shape != want.shape:
            print(f"MISMATCH {name}: python {None if got is None else tuple(got.shape)} vs c++ {tuple(want.shape)}")
            ok = False
            continue
        err = (got - want).abs().max().item()
        scale = max(want.abs().max().item(), grad_floor if name.startswith("grad:") else 0.0, 1e-30)
        rel = err / scale
        worst = max(worst, rel)
        status = "ok" if rel <= tol else "MISMATCH"
        ok = ok and rel <= tol
        print(f"{status:8s} {name:40s} max_abs_err {err:.3e}  scale {scale:.3e}  rel {rel:.3e}")
    print(f"{'PARITY OK' if ok else 'PARITY FAIL'}: worst relative error {worst:.3e} (tolerance {tol:.1e}, "
          f"{len(checks)} tensors, dtype {str(dtype).replace('torch.', '')})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
