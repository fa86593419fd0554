"""Writes a tiny GPT-2 model in other tools' file formats, independently of structlm's C++ code,
for the import tests (tests/interop/python_reference_test.cpp).

The model is scripts/reference/gpt.py's GPT with random weights. Each file is laid out from the
formats' own descriptions with struct and json only:
  hf/model.safetensors (+ config.json, vocab.json, merges.txt): Hugging Face GPT-2 names with the
      "transformer." prefix, Conv1D [in, out] weights, the attn.bias / attn.masked_bias buffers
      transformers writes, F32;
  hf_untied/model.safetensors (+ config.json with tie_word_embeddings false): an untied model;
  hf_f16/model.safetensors: no prefix, F16, no config.json (heads must be given);
  model.gguf: GGUF v3, architecture gpt2, as llama.cpp's converter lays it out (F16 matrices, F32
      norms, biases and position table; ne[0] innermost), with a GPT-2 style tokenizer;
  model.bin / model_bf16.bin / tokenizer.bin: llm.c's train_gpt2.py write_model (version 3 and
      5, vocabulary padded to a multiple of 128) and write_tokenizer (version 2);
  shard.bin: a token shard as llm.c's dev/data/data_common.py write_datafile writes it.
Next to each, <name>.logits: float64 logits [1, T, V] of the fixed tokens in tokens.json,
computed by gpt.py from exactly the weights that file holds (after its dtype's rounding).

usage: python3 interop_files.py OUT_DIR
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import GPT, Config  # noqa: E402

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (openai/gpt-2 encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tokenizer():
    """256 byte tokens in GPT-2's order, two merges, <|endoftext|>."""
    b2u = bytes_to_unicode()
    tokens = [b2u[b] for b in b2u]  # GPT-2's encoder.json lists the bytes in this order
    merges = ["Ġ t", "h e"]
    tokens += ["Ġt", "he", "<|endoftext|>"]
    u2b = {v: k for k, v in b2u.items()}
    raw = [bytes(u2b[ch] for ch in t) if t != "<|endoftext|>" else t.encode() for t in tokens]
    return tokens, merges, raw


def make_model(tied=True):
    torch.manual_seed(7 if tied else 8)
    c = Config(vocab_size=259, block_size=16, n_layer=2, n_head=2, n_embd=16, tied=tied)
    m = GPT(c).double()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.3)
            elif name.endswith("weight"):
                p.normal_(1.0, 0.2)
            else:
                p.normal_(0.0, 0.1)
    return m.eval()


def rounded(m, keep_f32, dtype):
    """A copy whose parameters went through `dtype` unless keep_f32(name); all through float32."""
    c = GPT(m.config).double().eval()
    with torch.no_grad():
        for (name, p), (_, q) in zip(m.named_parameters(), c.named_parameters()):
            x = p.float()
            if not keep_f32(name):
                x = x.to(dtype).float()
            q.copy_(x.double())
    return c


def save_logits(m, idx, path):
    with torch.no_grad():
        logits, _ = m(idx)
    with open(path, "wb") as f:
        f.write(logits.double().numpy().astype("<f8").tobytes())


def safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype string, numpy array)."""
    header, blobs, offset = {}, [], 0
    for name, dt, arr in tensors:
        b = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def hf_files(m, out_dir, prefix, np_dtype, st_dtype, config, tokens=None, merges=None):
    os.makedirs(out_dir, exist_ok=True)
    ts = []
    T = m.config.block_size
    for name, p in m.named_parameters():
        a = p.detach().float()
        if name.endswith(CONV1D):
            a = a.t().contiguous()  # Conv1D: [in, out]
        full = name if name == "lm_head.weight" else prefix + name
        ts.append((full, st_dtype, a.numpy().astype(np_dtype)))
        if name.endswith("attn.c_attn.weight"):  # the buffers transformers saves with each block
            block = full[: -len("c_attn.weight")]
            tril = np.tril(np.ones((T, T), dtype=np.float32)).reshape(1, 1, T, T)
            ts.append((block + "bias", "F32", tril))
            ts.append((block + "masked_bias", "F32", np.array(-1e4, dtype=np.float32)))
    safetensors(os.path.join(out_dir, "model.safetensors"), ts, {"format": "pt"})
    if config is not None:
        with open(os.path.join(out_dir, "config.json"), "w") as f:
            json.dump(config, f)
    if tokens is not None:
        with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
        with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(mg + "\n" for mg in merges))


def hf_config(m):
    c = m.config
    return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
            "layer_norm_epsilon": 1e-05, "n_ctx": c.block_size, "n_positions": c.block_size, "n_embd": c.n_embd,
            "n_head": c.n_head, "n_layer": c.n_layer, "vocab_size": c.vocab_size, "tie_word_embeddings": c.tied}


# ---- GGUF ----
def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, vtype, value):
    out = gguf_str(key) + struct.pack("<I", vtype)
    if vtype == 8:
        return out + gguf_str(value)
    if vtype == 4:
        return out + struct.pack("<I", value)
    if vtype == 6:
        return out + struct.pack("<f", value)
    if vtype == 9:  # (element type, values)
        et, vals = value
        out += struct.pack("<IQ", et, len(vals))
        for v in vals:
            out += gguf_str(v) if et == 8 else struct.pack("<i", v)
        return out
    raise ValueError(vtype)


def gguf_file(m, path, tokens, merges):
    c = m.config
    kv = [("general.architecture", 8, "gpt2"), ("general.name", 8, "tiny"),
          ("gpt2.context_length", 4, c.block_size), ("gpt2.embedding_length", 4, c.n_embd),
          ("gpt2.feed_forward_length", 4, 4 * c.n_embd), ("gpt2.block_count", 4, c.n_layer),
          ("gpt2.attention.head_count", 4, c.n_head), ("gpt2.attention.layer_norm_epsilon", 6, 1e-5),
          ("general.file_type", 4, 1), ("tokenizer.ggml.model", 8, "gpt2"), ("tokenizer.ggml.pre", 8, "gpt-2"),
          ("tokenizer.ggml.tokens", 9, (8, tokens)),
          ("tokenizer.ggml.token_type", 9, (5, [3 if t == "<|endoftext|>" else 1 for t in tokens])),
          ("tokenizer.ggml.merges", 9, (8, merges)),
          ("tokenizer.ggml.bos_token_id", 4, len(tokens) - 1), ("tokenizer.ggml.eos_token_id", 4, len(tokens) - 1)]
    block = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
             "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    tensors = []
    for name, p in m.named_parameters():
        if name == "wte.weight":
            gname = "token_embd.weight"
        elif name == "wpe.weight":
            gname = "position_embd.weight"
        elif name.startswith("ln_f."):
            gname = "output_norm." + name.split(".")[-1]
        else:
            _, layer, rest = name.split(".", 2)
            mod, kind = rest.rsplit(".", 1)
            gname = f"blk.{layer}.{block[mod]}.{kind}"
        a = p.detach().float().numpy()
        f16 = a.ndim == 2 and gname != "position_embd.weight"
        tensors.append((gname, a.astype("<f2") if f16 else a.astype("<f4"), 1 if f16 else 0))
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k in kv:
        out += gguf_kv(*k)
    data, offsets = b"", []
    for _, a, _ in tensors:
        offsets.append(len(data))
        data += a.tobytes()
        data += b"\0" * ((32 - len(data) % 32) % 32)
    for (gname, a, t), off in zip(tensors, offsets):
        out += gguf_str(gname) + struct.pack("<I", a.ndim)
        for d in reversed(a.shape):  # ne[0] is the innermost dimension
            out += struct.pack("<Q", d)
        out += struct.pack("<IQ", t, off)
    out += b"\0" * ((32 - len(out) % 32) % 32)
    with open(path, "wb") as f:
        f.write(out + data)


# ---- llm.c ----
def llmc_model(m, path, dtype):
    c = m.config
    version = {torch.float32: 3, torch.bfloat16: 5}[dtype]
    vp = ((c.vocab_size + 127) // 128) * 128
    header = torch.zeros(256, dtype=torch.int32)
    header[:8] = torch.tensor([20240326, version, c.block_size, c.vocab_size, c.n_layer, c.n_head, c.n_embd, vp])
    p = {k: v.detach().float() for k, v in m.named_parameters()}
    wte = torch.zeros(vp, c.n_embd)
    wte[: c.vocab_size] = p["wte.weight"]
    L = c.n_layer
    order = [wte, p["wpe.weight"]]
    for suffix in ("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                   "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                   "mlp.c_proj.weight", "mlp.c_proj.bias"):
        order.append(torch.stack([p[f"h.{i}.{suffix}"] for i in range(L)]))
    order += [p["ln_f.weight"], p["ln_f.bias"]]
    with open(path, "wb") as f:
        f.write(header.numpy().tobytes())
        for t in order:
            t = t.to(dtype)
            if dtype == torch.bfloat16:  # numpy has no bfloat16: the top 16 bits of float32
                f.write(t.view(torch.int16).numpy().tobytes())
            else:
                f.write(t.numpy().tobytes())


def llmc_tokenizer(raw, eot, path):
    header = torch.zeros(256, dtype=torch.int32)
    header[:4] = torch.tensor([20240328, 2, len(raw), eot])
    with open(path, "wb") as f:
        f.write(header.numpy().tobytes())
        for b in raw:
            assert 0 < len(b) < 256
            f.write(struct.pack("<B", len(b)))
            f.write(b)


def shard(tokens, path):
    """dev/data/data_common.py write_datafile, gpt-2 model descriptor."""
    header = np.zeros(256, dtype=np.int32)
    header[0], header[1], header[2] = 20240520, 1, len(tokens)
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(np.array(tokens, dtype=np.uint16).tobytes())


def main(out):
    os.makedirs(out, exist_ok=True)
    tokens, merges, raw = tokenizer()
    idx = torch.tensor([[1, 5, 258, 100, 7, 3, 256, 9, 200, 257, 0, 42]])
    with open(os.path.join(out, "tokens.json"), "w") as f:
        json.dump(idx[0].tolist(), f)
    tied, untied = make_model(True), make_model(False)

    hf_files(tied, os.path.join(out, "hf"), "transformer.", "<f4", "F32", hf_config(tied), tokens, merges)
    save_logits(rounded(tied, lambda n: True, None), idx, os.path.join(out, "hf.logits"))
    hf_files(untied, os.path.join(out, "hf_untied"), "transformer.", "<f4", "F32", hf_config(untied))
    save_logits(rounded(untied, lambda n: True, None), idx, os.path.join(out, "hf_untied.logits"))
    hf_files(tied, os.path.join(out, "hf_f16"), "", "<f2", "F16", None)
    save_logits(rounded(tied, lambda n: False, torch.float16), idx, os.path.join(out, "hf_f16.logits"))

    gguf_file(tied, os.path.join(out, "model.gguf"), tokens, merges)
    keep = lambda n: not (n.endswith("weight") and ("wte" in n or "c_" in n))  # 2-D but wpe stay f32
    save_logits(rounded(tied, keep, torch.float16), idx, os.path.join(out, "model.gguf.logits"))

    llmc_model(tied, os.path.join(out, "model.bin"), torch.float32)
    save_logits(rounded(tied, lambda n: True, None), idx, os.path.join(out, "model.bin.logits"))
    llmc_model(tied, os.path.join(out, "model_bf16.bin"), torch.bfloat16)
    save_logits(rounded(tied, lambda n: False, torch.bfloat16), idx, os.path.join(out, "model_bf16.bin.logits"))
    llmc_tokenizer(raw, len(raw) - 1, os.path.join(out, "tokenizer.bin"))
    shard([50256, 15496, 995, 13, 65535, 0], os.path.join(out, "shard.bin"))


if __name__ == "__main__":
    main(sys.argv[1])
