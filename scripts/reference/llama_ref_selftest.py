"""Self-test of llama_ref.py against computations written independently here: a numpy float64
forward pass (rotary by complex multiplication, attention one head at a time, no torch), readers
of safetensors and GGUF parsing the bytes with struct/json/numpy, the q/k row permutation built as
an index map, and llama3 frequency scaling written per frequency (the llama.cpp way).

usage: python3 llama_ref_selftest.py      (prints every check; exits 1 if any fails; ~10 s)
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_ref as L  # noqa: E402

FAILED = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (f"   [{detail}]" if detail else ""), flush=True)
    if not ok:
        FAILED.append(name)


def close(name, a, b, tol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    err = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")
    check(name, err <= tol, f"max |diff| {err:.1e}, tol {tol:g}")


def npd(t):
    return t.detach().double().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float64)


# ------------------------------------------------------------------------------------------------
# Independent computations
# ------------------------------------------------------------------------------------------------
def np_inv_freq(cfg):
    d = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    f = float(cfg["rope_theta"]) ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type") != "llama3":
        return f
    Lo = rs["original_max_position_embeddings"]
    out = []
    for fi in f:  # per frequency: keep / divide / blend, by wavelength
        w = 2 * math.pi / fi
        if w < Lo / rs["high_freq_factor"]:
            out.append(fi)
        elif w > Lo / rs["low_freq_factor"]:
            out.append(fi / rs["factor"])
        else:
            s = (Lo / w - rs["low_freq_factor"]) / (rs["high_freq_factor"] - rs["low_freq_factor"])
            out.append(fi * ((1 - s) / rs["factor"] + s))
    return np.array(out)


def np_forward(cfg, W, ids, layout="half", inv_freq=None):
    """float64 logits [B, T, V] from HF-named numpy weights W."""
    H, KV, C = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"]
    d = cfg.get("head_dim") or C // H
    eps = cfg["rms_norm_eps"]
    ids = np.asarray(ids)
    B, T = ids.shape
    inv = np_inv_freq(cfg) if inv_freq is None else inv_freq
    rot = np.exp(1j * np.arange(T)[:, None] * inv[None, :])  # [T, d/2]

    def lin(x, name):
        y = x @ W[name + ".weight"].T
        return y + W[name + ".bias"] if name + ".bias" in W else y

    def rms(x, name):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * W[name]

    def rope(t):  # t [B, T, n, d]; each rotated pair is one complex number
        if layout == "half":
            z = (t[..., : d // 2] + 1j * t[..., d // 2:]) * rot[None, :, None, :]
            return np.concatenate([z.real, z.imag], axis=-1)
        z = (t[..., 0::2] + 1j * t[..., 1::2]) * rot[None, :, None, :]
        out = np.empty_like(t)
        out[..., 0::2], out[..., 1::2] = z.real, z.imag
        return out

    x = W["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        n = rms(x, p + "input_layernorm.weight")
        q = rope(lin(n, p + "self_attn.q_proj").reshape(B, T, H, d))
        k = rope(lin(n, p + "self_attn.k_proj").reshape(B, T, KV, d))
        v = lin(n, p + "self_attn.v_proj").reshape(B, T, KV, d)
        y = np.zeros((B, T, H, d))
        for b in range(B):
            for h in range(H):
                g = h // (H // KV)
                s = q[b, :, h] @ k[b, :, g].T / math.sqrt(d)
                s[np.triu_indices(T, 1)] = -np.inf
                e = np.exp(s - s.max(axis=1, keepdims=True))
                y[b, :, h] = (e / e.sum(axis=1, keepdims=True)) @ v[b, :, g]
        x = x + lin(y.reshape(B, T, H * d), p + "self_attn.o_proj")
        n = rms(x, p + "post_attention_layernorm.weight")
        gate = lin(n, p + "mlp.gate_proj")
        x = x + lin(gate / (1 + np.exp(-gate)) * lin(n, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, "model.norm.weight")
    return x @ W.get("lm_head.weight", W["model.embed_tokens.weight"]).T


def qk_row_index(rows, n_head):
    """GGUF row r of a q/k matrix comes from HF row idx[r]: per head, 2i <- i and 2i+1 <- i + d/2."""
    d = rows // n_head
    return np.array([h * d + (j // 2) + (d // 2) * (j % 2) for h in range(n_head) for j in range(d)])


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    hb = raw[8:8 + n]
    header = json.loads(hb)
    meta = header.pop("__metadata__", None)
    data = raw[8 + n:]
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    pos, contiguous = 0, True
    for s, e in spans:
        contiguous &= s == pos
        pos = e
    out = {}
    for name, v in header.items():
        s, e = v["data_offsets"]
        buf, dt = data[s:e], v["dtype"]
        if dt == "BF16":  # bfloat16 bits are the top half of a float32
            arr = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view("<f4")
        else:
            arr = np.frombuffer(buf, {"F32": "<f4", "F16": "<f2", "I64": "<i8"}[dt])
        assert arr.size == int(np.prod(v["shape"])), name
        out[name] = (dt, arr.reshape(v["shape"]))
    info = dict(header_len=n, padded=hb[-1:] in (b"}", b" ") and hb.rstrip(b" ").endswith(b"}"),
                contiguous=contiguous and pos == len(data), meta=meta)
    return out, info


def read_hf(folder):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    idx = os.path.join(folder, "model.safetensors.index.json")
    index = json.load(open(idx)) if os.path.exists(idx) else None
    files = sorted(set(index["weight_map"].values())) if index else ["model.safetensors"]
    tensors, infos, where = {}, {}, {}
    for f in files:
        t, info = read_safetensors(os.path.join(folder, f))
        infos[f] = info
        for k, v in t.items():
            assert k not in tensors, k
            tensors[k], where[k] = v, f
    return cfg, index, tensors, infos, where


def read_gguf(path):
    raw = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, raw, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def string():
        nonlocal pos
        n = take("Q")
        pos += n
        return raw[pos - n:pos].decode("utf-8")

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return (et, [value(et) for _ in range(n)])
        return take(scalar[t])

    magic = raw[:4]
    pos = 4
    version, n_t, n_kv = take("I"), take("Q"), take("Q")
    kv, types = {}, {}
    for _ in range(n_kv):
        k = string()
        types[k] = take("I")
        kv[k] = value(types[k])
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("I")
        dims = [take("Q") for _ in range(nd)]
        infos.append(dict(name=name, ne=dims, type=take("I"), offset=take("Q")))
    align = kv.get("general.alignment", 32)
    start = pos + (-pos % align)
    tensors = {}
    for ti in infos:
        dt = {0: "<f4", 1: "<f2"}[ti["type"]]
        count = int(np.prod(ti["ne"]))
        a = np.frombuffer(raw, dt, count, start + ti["offset"])
        tensors[ti["name"]] = a.reshape(list(reversed(ti["ne"])))  # ne[0] is the innermost dimension
    return dict(magic=magic, version=version, kv=kv, types=types, infos=infos, tensors=tensors,
                align=align, start=start, pad_zero=raw[pos:start] == b"\0" * (start - pos), size=len(raw))


GGUF_LAYER = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
              "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
              "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}


def hf_name_of(g):
    top = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
           "output.weight": "lm_head.weight"}
    if g in top:
        return top[g]
    _, i, mod, kind = g.split(".")
    return f"model.layers.{i}.{GGUF_LAYER[mod]}.{kind}"


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------
def test_rope():
    g = torch.Generator().manual_seed(0)
    d, T = 16, 9
    inv = L.rope_inv_freq(L.random_model("llama", 0).config)
    for layout in ("half", "interleaved"):
        x = torch.randn(T, d, generator=g, dtype=torch.float64)
        ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        y = L.apply_rope(x, ang.cos(), ang.sin(), layout)
        close(f"rope {layout}: position 0 is the identity", y[0], x[0], 0)
        close(f"rope {layout}: norms preserved", y.norm(dim=-1), x.norm(dim=-1), 1e-12)
        q, k = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)

        def at(v, p):
            a = p * inv[None, :]
            return L.apply_rope(v[None], a.cos(), a.sin(), layout)[0]
        dots = [float(at(q, m + s) @ at(k, n + s)) for (m, n) in ((7, 3), (5, 5), (2, 9)) for s in (0, 4, 100)]
        check(f"rope {layout}: q.k depends only on the position difference",
              all(abs(dots[3 * i] - dots[3 * i + j]) < 1e-12 for i in range(3) for j in (1, 2)),
              f"{dots[0]:.6f} {dots[1]:.6f} {dots[2]:.6f}")
        check(f"rope {layout}: ... and does depend on it", abs(dots[0] - dots[3]) > 1e-3)
    # half and interleaved are the same rotation up to the row permutation of each head
    x = torch.randn(T, d, generator=g, dtype=torch.float64)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    perm = qk_row_index(d, 1)
    close("rope: interleaved(permuted x) == permuted(half(x))",
          L.apply_rope(x[:, perm], ang.cos(), ang.sin(), "interleaved"), L.apply_rope(x, ang.cos(), ang.sin(), "half")[:, perm], 1e-15)


def test_llama3():
    for arch in L.ARCHS:
        cfg = L.random_model(arch, 0).config
        close(f"inv_freq {arch} == independent per-frequency computation", L.rope_inv_freq(cfg), np_inv_freq(cfg), 1e-15)
    cfg = L.random_model("llama3", 0).config
    rs, d = cfg["rope_scaling"], L.head_dim(cfg)
    base = float(cfg["rope_theta"]) ** (-np.arange(0, d, 2) / d)
    got, wl = npd(L.rope_inv_freq(cfg)), 2 * math.pi / base
    hi = wl < rs["original_max_position_embeddings"] / rs["high_freq_factor"]
    lo = wl > rs["original_max_position_embeddings"] / rs["low_freq_factor"]
    mid = ~hi & ~lo
    check("llama3: test config has high, medium and low frequency bands", hi.any() and mid.any() and lo.any(),
          f"{hi.sum()} / {mid.sum()} / {lo.sum()}")
    check("llama3: high frequencies unchanged", np.array_equal(got[hi], base[hi]))
    close("llama3: low frequencies divided by factor", got[lo], base[lo] / rs["factor"], 1e-18)
    check("llama3: medium frequencies strictly between f/factor and f",
          bool(np.all((got[mid] > base[mid] / rs["factor"]) & (got[mid] < base[mid]))))
    close("llama3: rope_freqs factors == base / scaled", npd(L.llama3_rope_factors(cfg)), base / np_inv_freq(cfg), 1e-12)


def variants():
    return [("llama", {}), ("llama3", {}), ("mistral", {}), ("qwen2", {}), ("tinyllama-like", {}),
            ("llama", dict(attention_bias=True, mlp_bias=True)), ("qwen2", dict(tie_word_embeddings=False)),
            ("llama", dict(num_key_value_heads=4))]


def test_names():
    """HF's names and shapes, per architecture, built here from the config."""
    for arch, extra in variants():
        m = L.random_model(arch, 0, **extra)
        c, a = m.config, m.config["architectures"][0]
        H, KV, C, I = c["num_attention_heads"], c["num_key_value_heads"], c["hidden_size"], c["intermediate_size"]
        d = c.get("head_dim") or C // H
        qkv_b = a == "Qwen2ForCausalLM" or (a == "LlamaForCausalLM" and c.get("attention_bias"))
        o_b, mlp_b = a == "LlamaForCausalLM" and c.get("attention_bias"), a == "LlamaForCausalLM" and c.get("mlp_bias")
        want = {"model.embed_tokens.weight": [300, C], "model.norm.weight": [C]}
        if not c["tie_word_embeddings"]:
            want["lm_head.weight"] = [300, C]
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            want.update({p + "input_layernorm.weight": [C], p + "post_attention_layernorm.weight": [C]})
            for mod, rows, cols, b in (("self_attn.q_proj", H * d, C, qkv_b), ("self_attn.k_proj", KV * d, C, qkv_b),
                                       ("self_attn.v_proj", KV * d, C, qkv_b), ("self_attn.o_proj", C, H * d, o_b),
                                       ("mlp.gate_proj", I, C, mlp_b), ("mlp.up_proj", I, C, mlp_b), ("mlp.down_proj", C, I, mlp_b)):
                want[p + mod + ".weight"] = [rows, cols]
                if b:
                    want[p + mod + ".bias"] = [rows]
        got = {k: list(v.shape) for k, v in m.state_dict().items()}
        tag = arch + "".join(f" {k}={v}" for k, v in extra.items())
        check(f"names {tag}: exactly HF's names and shapes ({len(want)} tensors, {H} heads, {KV} kv heads)", got == want)


def test_forward():
    ids = L.fixed_tokens(300)
    for arch, extra in variants():
        m = L.random_model(arch, 3, **extra)
        tag = arch + "".join(f" {k}={v}" for k, v in extra.items())
        W = {k: npd(v) for k, v in m.state_dict().items()}
        with torch.no_grad():
            got = m(ids)[0]
            f32 = L.model_from(m.config, m.state_dict(), torch.float32)(ids)[0]
        close(f"forward {tag}: == numpy per-head reference (fp64)", got, np_forward(m.config, W, ids), 1e-10)
        close(f"forward {tag}: fp32 compute within 1e-4 of fp64", f32, got, 1e-4)
    # GQA == multi-head attention whose key/value rows are repeated per group (HF's repeat_kv)
    m = L.random_model("llama", 4)
    cfg, sd = dict(m.config), dict(m.state_dict())
    rep, d = cfg["num_attention_heads"] // cfg["num_key_value_heads"], L.head_dim(cfg)
    for i in range(cfg["num_hidden_layers"]):
        for w in ("k_proj", "v_proj"):
            t = sd[f"model.layers.{i}.self_attn.{w}.weight"].view(cfg["num_key_value_heads"], d, -1)
            sd[f"model.layers.{i}.self_attn.{w}.weight"] = t.repeat_interleave(rep, dim=0).reshape(-1, t.shape[-1])
    cfg["num_key_value_heads"] = cfg["num_attention_heads"]
    with torch.no_grad():
        close("GQA (2 kv heads) == MHA with each kv head repeated for its group", m(ids)[0],
              L.model_from(cfg, sd)(ids)[0], 1e-12)


def test_causal_cache():
    for arch in ("llama3", "qwen2"):
        m = L.random_model(arch, 5)
        ids = L.fixed_tokens(300)
        with torch.no_grad():
            full = m(ids)[0]
            close(f"causality {arch}: logits of a 7-token prefix == prefix of the logits", m(ids[:, :7])[0], full[:, :7], 1e-12)
            past, steps = None, []
            for t in range(ids.shape[1]):
                lg, past = m(ids[:, t:t + 1], past)
                steps.append(lg)
            close(f"KV cache {arch}: token-by-token decoding == full forward", torch.cat(steps, 1), full, 1e-12)
            a, past = m(ids[:, :5])
            b, _ = m(ids[:, 5:], past)
            close(f"KV cache {arch}: 5 + 7 chunks == full forward", torch.cat((a, b), 1), full, 1e-12)


def test_safetensors(tmp):
    g = torch.Generator().manual_seed(1)
    x = torch.cat([torch.randn(20000, generator=g) * 10 ** torch.randint(-30, 30, (20000,), generator=g).float() / 1e5,
                   torch.tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 1 + 2 ** -8 + 2 ** -20, 0.0, -0.0, 65504.0, 1e-40])])
    check("BF16 bits == torch .to(bfloat16) (round to nearest even, ties included)",
          np.array_equal(L.bf16_bits(x.numpy()), x.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)))
    m = L.random_model("llama", 6, attention_bias=True)
    names = list(m.state_dict())
    for dtype in ("f32", "f16", "bf16"):
        W = L.stored_tensors(m, dtype)
        ref = {k: v.float().to(L.DTYPES[dtype]).float().numpy() for k, v in m.state_dict().items()}
        for shards in (1, 3):
            out = os.path.join(tmp, f"st_{dtype}_{shards}")
            L.write_hf(out, m.config, W, dtype, shards)
            cfg, index, t, infos, where = read_hf(out)
            tag = f"HF {dtype} x{shards}:"
            st = {"f32": "F32", "f16": "F16", "bf16": "BF16"}[dtype]
            files = sorted(os.listdir(out))
            if shards == 1:
                check(f"{tag} config.json + model.safetensors, no index", files == ["config.json", "model.safetensors"])
            else:
                want = [f"model-{i:05d}-of-00003.safetensors" for i in (1, 2, 3)]
                check(f"{tag} 3 shard files + index", files == sorted(["config.json", "model.safetensors.index.json"] + want))
                check(f"{tag} index weight_map names every tensor, in the file holding it",
                      index["weight_map"] == where and set(where) == set(names))
                nbytes = sum(v[1].size * {"F32": 4, "F16": 2, "BF16": 2}[v[0]] for v in t.values())
                check(f"{tag} index metadata.total_size == tensor bytes", index["metadata"]["total_size"] == nbytes,
                      f"{index['metadata']['total_size']} / {nbytes}")
            check(f"{tag} headers: length % 8 == 0, space padded, data contiguous, format pt",
                  all(i["header_len"] % 8 == 0 and i["padded"] and i["contiguous"] and i["meta"] == {"format": "pt"}
                      for i in infos.values()))
            check(f"{tag} names, dtypes and shapes", set(t) == set(names) and all(
                t[k][0] == st and list(t[k][1].shape) == list(m.state_dict()[k].shape) for k in names))
            check(f"{tag} values == the {dtype}-rounded weights, bit for bit",
                  all(np.array_equal(t[k][1].astype(np.float32), ref[k]) for k in names))
            check(f"{tag} config.json: architectures, torch_dtype, sizes",
                  cfg["architectures"] == ["LlamaForCausalLM"] and cfg["torch_dtype"] == L.TORCH_DTYPE_NAMES[dtype]
                  and cfg["num_key_value_heads"] == 2 and cfg["tie_word_embeddings"] is False)


def test_gguf(tmp):
    cases = [("llama", "f32", 32, {}), ("llama3", "f16", 32, {}), ("mistral", "bf16", 32, {}),
             ("tinyllama-like", "f32", 64, {}), ("llama", "f16", 32, dict(attention_bias=True, mlp_bias=True))]
    ids = L.fixed_tokens(300)
    for arch, dtype, align, extra in cases:
        m = L.random_model(arch, 7, **extra)
        cfg = m.config
        W = L.stored_tensors(m, dtype)
        path = os.path.join(tmp, f"{arch}_{dtype}_{align}.gguf")
        L.write_gguf(path, cfg, W, dtype, align)
        r = read_gguf(path)
        kv, ty = r["kv"], r["types"]
        tag = f"GGUF {arch} {dtype}{' bias' if extra else ''}{f' align {align}' if align != 32 else ''}:"
        check(f"{tag} magic, version 3, counts", r["magic"] == b"GGUF" and r["version"] == 3 and len(r["tensors"]) == len(r["infos"]))
        want = {"general.architecture": (8, "llama"), "llama.context_length": (4, cfg["max_position_embeddings"]),
                "llama.embedding_length": (4, 64), "llama.block_count": (4, 2), "llama.feed_forward_length": (4, 176),
                "llama.rope.dimension_count": (4, 16), "llama.attention.head_count": (4, 4),
                "llama.attention.head_count_kv": (4, cfg["num_key_value_heads"]), "llama.vocab_size": (4, 300),
                "llama.attention.layer_norm_rms_epsilon": (6, np.float32(cfg["rms_norm_eps"])),
                "llama.rope.freq_base": (6, np.float32(cfg["rope_theta"])),
                "general.file_type": (4, 1 if dtype == "f16" else 0), "tokenizer.ggml.model": (8, "gpt2"),
                "tokenizer.ggml.bos_token_id": (4, 298), "tokenizer.ggml.eos_token_id": (4, 299)}
        if align != 32:
            want["general.alignment"] = (4, align)
        bad = [k for k, (t, v) in want.items() if ty.get(k) != t or kv.get(k) != v]
        check(f"{tag} metadata keys, types and values", not bad and isinstance(kv.get("general.name"), str), f"bad: {bad}")
        tok, tt, merges = kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.token_type"], kv["tokenizer.ggml.merges"]
        toks = set(tok[1])
        check(f"{tag} tokenizer: 300 unique tokens, int32 types, merges build tokens",
              tok[0] == 8 and len(tok[1]) == 300 == len(toks) and tt[0] == 5 and len(tt[1]) == 300
              and tt[1][298:] == [3, 3] and merges[0] == 8 and len(merges[1]) > 0 and all(
                  a in toks and b in toks and a + b in toks for a, b in (s.split(" ") for s in merges[1])))
        infos = {i["name"]: i for i in r["infos"]}
        names = {L.gguf_name(k) for k in W}
        if (cfg.get("rope_scaling") or {}).get("rope_type") == "llama3":
            names.add("rope_freqs.weight")
        check(f"{tag} tensor names (output.weight {'absent: tied' if cfg['tie_word_embeddings'] else 'present'})",
              set(infos) == names and ("output.weight" in infos) != cfg["tie_word_embeddings"])
        check(f"{tag} ne == reversed torch shape; F16 for matrices iff f16, F32 otherwise", all(
            i["ne"] == list(reversed(W[hf_name_of(n)].shape)) and i["type"] == (1 if dtype == "f16" and len(i["ne"]) == 2 else 0)
            for n, i in infos.items() if n != "rope_freqs.weight"))
        spans = sorted((i["offset"], i["offset"] + int(np.prod(i["ne"])) * (2 if i["type"] else 4)) for i in r["infos"])
        check(f"{tag} data section and offsets aligned to {align}, zero padding, no overlap",
              r["start"] % align == 0 and r["pad_zero"] and all(s % align == 0 for s, _ in spans)
              and all(a[1] <= b[0] for a, b in zip(spans, spans[1:])) and spans[-1][1] + r["start"] <= r["size"])
        G = {hf_name_of(n): a.astype(np.float64) for n, a in r["tensors"].items() if n != "rope_freqs.weight"}
        ok_plain, ok_perm, ok_unperm = True, True, True
        for k, v in W.items():
            hf = npd(v)
            if ".q_proj." in k or ".k_proj." in k:
                nh = cfg["num_attention_heads"] if ".q_proj." in k else cfg["num_key_value_heads"]
                idx = qk_row_index(hf.shape[0], nh)
                ok_perm &= np.array_equal(G[k], hf[idx])
                back = np.empty_like(G[k])
                back[idx] = G[k]
                ok_unperm &= np.array_equal(back, hf)
            else:
                ok_plain &= np.array_equal(G[k], hf)
        check(f"{tag} data == stored tensors (all but q/k)", ok_plain)
        check(f"{tag} q/k data == HF rows permuted (per head 2i <- i, 2i+1 <- i + d/2)", ok_perm)
        check(f"{tag} un-permuting q/k gives the HF tensors back exactly", ok_unperm)
        inv = float(kv["llama.rope.freq_base"]) ** (-np.arange(0, 16, 2) / 16)
        if "rope_freqs.weight" in r["tensors"]:
            inv = inv / r["tensors"]["rope_freqs.weight"].astype(np.float64)
        hf_logits = np_forward(cfg, {k: npd(v) for k, v in W.items()}, ids)
        close(f"{tag} GGUF weights + interleaved rope (numpy) == HF weights + half rope", np_forward(cfg, G, ids, "interleaved", inv),
              hf_logits, 1e-4 if "rope_freqs.weight" in r["tensors"] else 1e-10)
        with torch.no_grad():
            lg = L.model_from(cfg, {k: torch.from_numpy(v) for k, v in G.items()}, layout="interleaved",
                              inv_freq=torch.from_numpy(inv))(ids)[0]
        close(f"{tag} llama_ref with layout=interleaved on GGUF weights == HF logits", lg, hf_logits,
              1e-4 if "rope_freqs.weight" in r["tensors"] else 1e-10)
        wrong = np_forward(cfg, G, ids, "half", inv)
        check(f"{tag} control: GGUF weights with the half layout give other logits",
              np.abs(wrong - hf_logits).max() > 1e-2, f"max |diff| {np.abs(wrong - hf_logits).max():.2f}")


def test_sentencepiece(tmp):
    """The llama2 arch's SentencePiece vocabulary: the GGUF carries exactly sp_vocab (tokens, scores,
    types), and sp_merges, checked against a brute force over all pairs: a merge (a, b) for every
    pair of normal/byte pieces whose concatenation is a piece, each once, and ranked so that the
    merged pieces' scores never rise."""
    cfg = L.random_model("llama2", 7).config
    W = L.stored_tensors(L.random_model("llama2", 7), "f32")
    path = os.path.join(tmp, "llama2.gguf")
    L.write_gguf(path, cfg, W, "f32", 32, vocab="sp")
    kv = read_gguf(path)["kv"]
    pieces, scores, types = L.sp_vocab(cfg["vocab_size"])
    check("SP GGUF: tokenizer.ggml.model llama, tokens/scores/types are sp_vocab's",
          kv["tokenizer.ggml.model"] == "llama" and kv["tokenizer.ggml.tokens"] == (8, pieces)
          and kv["tokenizer.ggml.scores"][0] == 6 and kv["tokenizer.ggml.scores"][1] == scores
          and kv["tokenizer.ggml.token_type"] == (5, types) and kv["tokenizer.ggml.unknown_token_id"] == 0
          and kv["tokenizer.ggml.bos_token_id"] == 1 and kv["tokenizer.ggml.eos_token_id"] == 2)
    check("SP vocabulary: 3 specials, 256 byte pieces, unique normal pieces",
          types[:3] == [2, 3, 3] and types[3:259] == [6] * 256 and len(set(pieces)) == len(pieces) == cfg["vocab_size"])
    merges = L.sp_merges(pieces, scores)
    vocab = {p: i for i, p in enumerate(pieces)}
    mergeable = [p for p, t in zip(pieces, types) if t in (1, 6)]
    brute = {(a, b) for a in mergeable for b in mergeable if a + b in vocab}
    made = [scores[vocab[a + b]] for a, b in merges]
    check("sp_merges == all pairs whose concatenation is a piece, each once",
          set(merges) == brute and len(merges) == len(brute), f"{len(merges)} vs {len(brute)}")
    check("sp_merges ranked by the merged piece's score, highest first", made == sorted(made, reverse=True))
    tj = L.sp_tokenizer_json(cfg["vocab_size"])
    check("SP tokenizer.json: byte fallback, sp_merges as 'left right'",
          tj["model"]["byte_fallback"] is True and tj["model"]["merges"] == [f"{a} {b}" for a, b in merges])


def test_cli(tmp):
    script = os.path.join(HERE, "llama_ref.py")
    r = subprocess.run([sys.executable, script, "make", "--help"], capture_output=True, text=True)
    check("CLI: make --help", r.returncode == 0 and "--shards" in r.stdout)
    for arch, dtype, shards in (("qwen2", "f32", 2), ("llama3", "f16", 3), ("tinyllama-like", "bf16", 1)):
        out = os.path.join(tmp, f"cli_{arch}")
        r = subprocess.run([sys.executable, script, "make", "--arch", arch, "--seed", "1", "--dtype", dtype,
                            "--shards", str(shards), "--out", out], capture_output=True, text=True)
        tag = f"CLI make {arch} {dtype} x{shards}:"
        check(f"{tag} exit 0", r.returncode == 0, (r.stdout + r.stderr).strip()[-300:])
        if r.returncode:
            continue
        exp, info = read_safetensors(os.path.join(out, "expected.safetensors"))
        ids = exp["input_ids"][1]
        tokens = np.array(json.load(open(os.path.join(out, "tokens.json"))))
        check(f"{tag} expected.safetensors: input_ids I64 [2, 12] == tokens.json, logits F32 [2, 12, 300]",
              exp["input_ids"][0] == "I64" and ids.shape == (2, 12) and np.array_equal(ids, tokens)
              and exp["logits"][0] == "F32" and exp["logits"][1].shape == (2, 12, 300) and info["meta"]["arch"] == arch)
        cfg, index, t, _, _ = read_hf(os.path.join(out, "hf"))
        check(f"{tag} {shards} safetensors file(s)", len(set(index["weight_map"].values()) if index else [1]) == shards)
        W = {k: v[1].astype(np.float64) for k, v in t.items()}
        close(f"{tag} numpy forward of the HF files == expected logits", np_forward(cfg, W, ids), exp["logits"][1], 2e-5)
        has = os.path.exists(os.path.join(out, "model.gguf"))
        check(f"{tag} model.gguf {'written' if L.ARCHS[arch]['gguf'] else 'absent (not a llama GGUF arch)'}", has == L.ARCHS[arch]["gguf"])
        if has:
            r = read_gguf(os.path.join(out, "model.gguf"))
            G = {hf_name_of(n): a.astype(np.float64) for n, a in r["tensors"].items() if n != "rope_freqs.weight"}
            # Arch qwen2 (Qwen2Model): keys under "qwen2.", q/k rows as HF's, NEOX (half) rope.
            arch_key = r["kv"]["general.architecture"]
            check(f"{tag} GGUF architecture", arch_key == ("qwen2" if arch == "qwen2" else "llama"), arch_key)
            layout = "half" if arch_key == "qwen2" else "interleaved"
            inv = float(r["kv"][f"{arch_key}.rope.freq_base"]) ** (-np.arange(0, 16, 2) / 16)
            if "rope_freqs.weight" in r["tensors"]:
                inv = inv / r["tensors"]["rope_freqs.weight"].astype(np.float64)
            close(f"{tag} numpy forward of the GGUF ({layout} rope) == expected logits",
                  np_forward(cfg, G, ids, layout, inv), exp["logits"][1], 1e-4)


def main():
    t0 = time.time()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        for section in (test_rope, test_llama3, test_names, test_forward, test_causal_cache,
                        lambda: test_safetensors(tmp), lambda: test_gguf(tmp), lambda: test_sentencepiece(tmp),
                        lambda: test_cli(tmp)):
            section()
    print(f"\n{'FAILED ' + str(len(FAILED)) if FAILED else 'all checks passed'} ({time.time() - t0:.1f} s)")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
