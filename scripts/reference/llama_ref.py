"""An independent reference for the Llama block family (issue 16), written with torch only, that
structlm's C++ import/export and forward code is tested against. It stands alone: no transformers,
safetensors or gguf package, and nothing from the rest of this project.

The model (Hugging Face's LlamaForCausalLM, and the members of the family that share its block):
    h = embed_tokens[ids]
    per layer:  h = h + o_proj(attention(rope(q_proj(n)), rope(k_proj(n)), v_proj(n)))   n = RMSNorm1(h)
                h = h + down_proj(silu(gate_proj(n)) * up_proj(n))                       n = RMSNorm2(h)
    logits = RMSNorm_f(h) @ W_out^T        (W_out = embed_tokens when tie_word_embeddings)
  RMSNorm(x) = x / sqrt(mean(x^2) + rms_norm_eps) * weight.
  Attention is causal and grouped-query: num_key_value_heads divides num_attention_heads and query
  head h reads key/value head h // (heads / kv_heads) (HF's repeat_kv), scores scaled by 1/sqrt(d).
  Rotary embeddings, inv_freq[i] = rope_theta^(-2i/d), i < d/2, angle = position * inv_freq[i]:
    layout "half" (HF, the rotate_half convention): dimension i is paired with i + d/2;
    layout "interleaved" (Meta's original checkpoints, and llama.cpp's LLAMA rope): 2i with 2i+1.
  rope_scaling {"rope_type": "llama3", ...} rescales inv_freq as transformers'
  modeling_rope_utils._compute_llama3_parameters does (see llama3_inv_freq).
Variants, all read from an HF-style config dict:
  LlamaForCausalLM    attention_bias -> q/k/v/o biases, mlp_bias -> gate/up/down biases;
  MistralForCausalLM  no biases; sliding_window is only checked (sequences must fit inside it);
  Qwen2ForCausalLM    q/k/v biases always, o_proj without; sliding window likewise only checked.
Parameter names are exactly HF's (model.embed_tokens.weight, model.layers.{i}.self_attn.q_proj.weight,
..., lm_head.weight absent when tied): state_dict() gives them as they are written.

Files, written from the formats' own descriptions with struct/json/numpy:
  Hugging Face folder: config.json; model.safetensors, or model-0000k-of-0000N.safetensors shards and
    model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"}); F32, F16 or BF16.
    safetensors: u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}
    with "__metadata__": {"format": "pt"}, padded with spaces to a multiple of 8 bytes; then the
    tensors' bytes, back to back, offsets relative to the end of the header.
  GGUF v3, architecture "llama", or "qwen2" for Qwen2 (llama.cpp's convert_hf_to_gguf.py, LlamaModel
    and Qwen2Model, is the model for names, keys and the q/k permutation; see write_gguf).

Command line:  python3 llama_ref.py make --arch qwen2 --seed 1 --dtype f32 --shards 2 --out DIR
writes DIR/hf/ (with a tokenizer.json of a tiny byte-level BPE vocabulary, Qwen2's normaliser and
pre-tokenizer for qwen2; for llama2 a SentencePiece BPE vocabulary with byte fallback, its merges
derived from the pieces' scores as transformers' LlamaConverter derives them), DIR/model.gguf, DIR/tokens.json and DIR/expected.safetensors (input_ids
I64 [2, 12], logits F32 [2, 12, V] computed in float64 from exactly the stored weights, greedy I64 [12]: the greedy
continuation of input_ids[0, :5], decoded through the KV cache).
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- Configurations ----
# The tiny test models. `gguf`: whether the reference writes model.gguf, as llama.cpp's converter
# does: GGUF arch "llama" for Llama and Mistral (LlamaModel: q/k rows permuted), arch "qwen2" for
# Qwen2 (Qwen2Model: NEOX rope, so no permutation; its own key prefix; see gguf_arch).
ARCHS = {
    "llama": dict(gguf=True, config=dict(
        architectures=["LlamaForCausalLM"], model_type="llama", rope_theta=10000.0, rms_norm_eps=1e-5,
        attention_bias=False, mlp_bias=False, tie_word_embeddings=False, rope_scaling=None)),
    "llama3": dict(gguf=True, config=dict(
        architectures=["LlamaForCausalLM"], model_type="llama", rope_theta=500000.0, rms_norm_eps=1e-5,
        attention_bias=False, mlp_bias=False, tie_word_embeddings=False,
        # original_max_position_embeddings is small so that, with head_dim 16, the three llama3
        # bands (kept, smoothed, divided by factor) are all present: wavelengths 6.3, 32, 167, ...
        # against 64/4 = 16 and 64/1 = 64.
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
        # The same value at the top level too: the convert_hf_to_gguf.py read for this file takes it
        # from there (default 8192) when it computes rope_freqs. HF ignores the top-level copy.
        original_max_position_embeddings=64)),
    "mistral": dict(gguf=True, config=dict(
        architectures=["MistralForCausalLM"], model_type="mistral", rope_theta=1000000.0, rms_norm_eps=1e-5,
        sliding_window=None, head_dim=16, tie_word_embeddings=False)),
    "qwen2": dict(gguf=True, config=dict(
        architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_theta=1000000.0, rms_norm_eps=1e-6,
        use_sliding_window=False, sliding_window=None, tie_word_embeddings=True)),
    # Llama 2's shape with Llama 2's kind of vocabulary: SentencePiece BPE with byte fallback (sp_vocab),
    # in GGUF as tokenizer.ggml.model "llama" (tokens, scores, token types), <s> 1 and </s> 2.
    "llama2": dict(gguf=True, vocab="sp", config=dict(
        architectures=["LlamaForCausalLM"], model_type="llama", rope_theta=10000.0, rms_norm_eps=1e-5,
        attention_bias=False, mlp_bias=False, tie_word_embeddings=False, rope_scaling=None,
        bos_token_id=1, eos_token_id=2, vocab_size=340)),  # 340: the most pieces BPE_TEXT gives
    "tinyllama-like": dict(gguf=True, config=dict(
        architectures=["LlamaForCausalLM"], model_type="llama", rope_theta=10000.0, rms_norm_eps=1e-5,
        attention_bias=False, mlp_bias=False, tie_word_embeddings=True, rope_scaling=None,
        num_key_value_heads=1)),  # multi-query: one key/value head for four query heads
}
SIZES = dict(hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, vocab_size=300, max_position_embeddings=256)
# Real models' shapes for the scale checks (issue 16: info, eval and align of a 0.5B model within
# 24 GiB): `make --shape NAME --no-expected` writes a random model of that size, no GGUF and no
# expected logits (a float64 forward of it is the reference's own memory problem, not the test's).
SHAPES = {
    "qwen2-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                       num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768),
}


def arch_of(cfg):
    return cfg["architectures"][0]


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def biases(cfg):
    """(q/k/v bias, o_proj bias, MLP bias) for the config's architecture."""
    a = arch_of(cfg)
    if a == "Qwen2ForCausalLM":
        return True, False, False
    if a == "LlamaForCausalLM":
        ab = bool(cfg.get("attention_bias", False))
        return ab, ab, bool(cfg.get("mlp_bias", False))
    if a == "MistralForCausalLM":
        return False, False, False
    raise ValueError(f"unsupported architecture {a}")


def sliding_window(cfg):
    a = arch_of(cfg)
    if a == "MistralForCausalLM" or (a == "Qwen2ForCausalLM" and cfg.get("use_sliding_window")):
        return cfg.get("sliding_window")
    return None


# ---- Rotary position embeddings ----
def llama3_inv_freq(inv_freq, rs):
    """Llama 3.1 frequency rescaling. With wavelength w = 2 pi / f, L = original_max_position_embeddings:
    w < L / high_freq_factor: f kept; w > L / low_freq_factor: f / factor; in between f is blended,
    s = (L / w - low) / (high - low), f' = (1 - s) f / factor + s f."""
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    out = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    blended = (1 - smooth) * out / factor + smooth * out
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, blended, out)


def rope_inv_freq(cfg):
    """inv_freq [d/2], float64 (HF computes it in float32; the difference is ~1e-7 relative)."""
    d = head_dim(cfg)
    inv = 1.0 / (float(cfg.get("rope_theta", 10000.0)) ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "llama3":
            return llama3_inv_freq(inv, rs)
        if kind != "default":
            raise NotImplementedError(f"rope_scaling type {kind}")
    return inv


def apply_rope(x, cos, sin, layout):
    """Rotates x [..., T, d] by cos/sin [T, d/2] (float64 angles already cast to x's dtype)."""
    h = x.shape[-1] // 2
    if layout == "half":  # HF: x * cat(cos, cos) + rotate_half(x) * cat(sin, sin)
        x1, x2 = x[..., :h], x[..., h:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
    if layout == "interleaved":  # pairs (2i, 2i+1)
        xe, xo = x[..., 0::2], x[..., 1::2]
        return torch.stack((xe * cos - xo * sin, xe * sin + xo * cos), dim=-1).flatten(-2)
    raise ValueError(layout)


# ---- The model ----
class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head, self.n_kv, self.d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
        assert self.n_head % self.n_kv == 0, "num_key_value_heads must divide num_attention_heads"
        qkv_bias, o_bias, _ = biases(cfg)
        C = cfg["hidden_size"]
        self.q_proj = nn.Linear(C, self.n_head * self.d, bias=qkv_bias)
        self.k_proj = nn.Linear(C, self.n_kv * self.d, bias=qkv_bias)
        self.v_proj = nn.Linear(C, self.n_kv * self.d, bias=qkv_bias)
        self.o_proj = nn.Linear(self.n_head * self.d, C, bias=o_bias)

    def forward(self, x, rope, past):
        B, T, _ = x.shape
        q = rope(self.q_proj(x).view(B, T, self.n_head, self.d).transpose(1, 2))  # [B, H, T, d]
        k = rope(self.k_proj(x).view(B, T, self.n_kv, self.d).transpose(1, 2))    # [B, KV, T, d]
        v = self.v_proj(x).view(B, T, self.n_kv, self.d).transpose(1, 2)
        if past is not None:  # cached keys/values of the earlier positions (already rotated)
            k, v = torch.cat((past[0], k), dim=2), torch.cat((past[1], v), dim=2)
        present = (k, v)
        S, P = k.shape[2], k.shape[2] - T
        rep = self.n_head // self.n_kv  # query head h reads key/value head h // rep
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.d)
        allowed = torch.arange(S)[None, :] <= (P + torch.arange(T))[:, None]  # key j <= query position
        scores = scores.masked_fill(~allowed, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(B, T, self.n_head * self.d)), present


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, I, b = cfg["hidden_size"], cfg["intermediate_size"], biases(cfg)[2]
        self.gate_proj = nn.Linear(C, I, bias=b)
        self.up_proj = nn.Linear(C, I, bias=b)
        self.down_proj = nn.Linear(I, C, bias=b)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = MLP(cfg)

    def forward(self, x, rope, past):
        a, present = self.self_attn(self.input_layernorm(x), rope, past)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Backbone(nn.Module):  # HF's LlamaModel: the "model." prefix of every name
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    """layout: "half" for HF-layout q/k weights, "interleaved" for GGUF/Meta-layout ones.
    inv_freq: overrides the frequencies computed from cfg (e.g. from GGUF freq_base and rope_freqs)."""

    def __init__(self, cfg, layout="half", inv_freq=None):
        super().__init__()
        self.config, self.layout = dict(cfg), layout
        self.model = Backbone(cfg)
        self.lm_head = None if cfg.get("tie_word_embeddings") else nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        # A plain attribute, not a buffer: never saved, never cast by .to(dtype).
        self.inv_freq = (rope_inv_freq(cfg) if inv_freq is None else inv_freq).to(torch.float64)

    def forward(self, ids, past=None):
        """ids [B, T] -> (logits [B, T, V], present). past: the present of an earlier call (KV cache)."""
        B, T = ids.shape
        P = 0 if past is None else past[0][0].shape[2]
        window = sliding_window(self.config)
        assert window is None or P + T <= window, "sequences longer than sliding_window are not modelled"
        x = self.model.embed_tokens(ids)
        angles = torch.arange(P, P + T, dtype=torch.float64)[:, None] * self.inv_freq[None, :]
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        rope = lambda t: apply_rope(t, cos, sin, self.layout)  # noqa: E731
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, p = layer(x, rope, None if past is None else past[i])
            presents.append(p)
        w = self.model.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return F.linear(self.model.norm(x), w), presents


def init_random(model, seed):
    """Deterministic weights, chosen so that every part of the model shows in the logits: matrices
    N(0, 1/fan_in); embeddings N(0, 0.1^2), small so that rms_norm_eps matters (x10 moves logits by
    ~3e-2); norm weights N(1, 0.1^2); biases N(0, 0.1^2)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 1.0 / math.sqrt(p.shape[1]) if p.dim() == 2 and "embed_tokens" not in name else 0.1
            mean = 1.0 if "norm" in name else 0.0
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * std + mean)
    return model


def random_model(arch, seed, **sizes):
    """A tiny float64 model of `arch` (a key of ARCHS); sizes override any config key (SIZES, or
    e.g. attention_bias=True, tie_word_embeddings=False). Returns the model; its config is .config."""
    cfg = dict(SIZES)
    cfg.update(ARCHS[arch]["config"])  # an architecture may differ from SIZES (tinyllama-like: 1 kv head)
    cfg.update(sizes)
    V = cfg["vocab_size"]
    if "bos_token_id" not in ARCHS[arch]["config"]:  # the tiny byte-level vocabulary's last two tokens
        cfg.update(bos_token_id=V - 2, eos_token_id=V - 1)
    cfg.update(hidden_act="silu", initializer_range=0.02)
    return init_random(LlamaForCausalLM(cfg).double().eval(), seed)


DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
TORCH_DTYPE_NAMES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def stored_tensors(model, dtype):
    """name -> float64 tensor holding exactly the values a `dtype` file stores (through float32)."""
    return {k: v.detach().float().to(DTYPES[dtype]).double() for k, v in model.state_dict().items()}


def model_from(cfg, tensors, dtype=torch.float64, layout="half", inv_freq=None):
    m = LlamaForCausalLM(cfg, layout, inv_freq).to(dtype).eval()
    m.load_state_dict({k: v.to(dtype) for k, v in tensors.items()}, strict=True)
    return m


def fixed_tokens(vocab_size):
    """The fixed batch [2, 12] the expected logits are for: bos first, the vocabulary's ends included."""
    g = torch.Generator().manual_seed(20240616)
    ids = torch.randint(0, vocab_size, (2, 12), generator=g)
    ids[:, 0] = vocab_size - 2
    ids[0, 5], ids[1, 7], ids[1, 11] = 0, vocab_size - 1, 1
    return ids


# ---- safetensors and the Hugging Face folder ----
def bf16_bits(a):
    """float32 array -> uint16 bfloat16 bit patterns: the upper half of the float32 bits, rounded to
    nearest, ties to even (what torch's .to(torch.bfloat16) does; NaNs are not handled)."""
    u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")


ST_ELEMENT = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}


def st_bytes(t, st_dtype):
    a = t.detach().cpu()
    if st_dtype == "I64":
        return a.to(torch.int64).numpy().astype("<i8").tobytes()
    a = a.to(torch.float32).numpy()
    if st_dtype == "F32":
        return a.astype("<f4").tobytes()
    if st_dtype == "F16":
        return a.astype("<f2").tobytes()
    if st_dtype == "BF16":
        return bf16_bits(a).tobytes()
    raise ValueError(st_dtype)


def write_safetensors(path, items, metadata=None):
    """items: list of (name, safetensors dtype, tensor). Returns the data bytes written."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, t in items:
        b = st_bytes(t, dt)
        assert len(b) == t.numel() * ST_ELEMENT[dt]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the tensor data then starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return offset


def shard_groups(sizes, n):
    """Splits tensor indices, in order, into n non-empty runs of roughly equal bytes."""
    assert 1 <= n <= len(sizes)
    groups, cum, total = [[]], 0, sum(sizes)
    for i, s in enumerate(sizes):
        need, left = n - len(groups), len(sizes) - i
        if groups[-1] and need > 0 and (cum >= total * len(groups) / n or left <= need):
            groups.append([])
        groups[-1].append(i)
        cum += s
    assert len(groups) == n
    return groups


def write_hf(out_dir, cfg, tensors, dtype="f32", shards=1):
    """config.json plus model.safetensors (shards == 1) or N shards and model.safetensors.index.json."""
    os.makedirs(out_dir, exist_ok=True)
    st = {"f32": "F32", "f16": "F16", "bf16": "BF16"}[dtype]
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(dict(cfg, torch_dtype=TORCH_DTYPE_NAMES[dtype]), f, indent=2)
    names = list(tensors)
    if shards == 1:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), [(k, st, tensors[k]) for k in names], {"format": "pt"})
        return
    sizes = [tensors[k].numel() * ST_ELEMENT[st] for k in names]
    weight_map, total = {}, 0
    for s, group in enumerate(shard_groups(sizes, shards)):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        total += write_safetensors(os.path.join(out_dir, fname), [(names[i], st, tensors[names[i]]) for i in group], {"format": "pt"})
        weight_map.update({names[i]: fname for i in group})
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)


# ---- A tiny byte-level BPE vocabulary (GPT-2 style) for the GGUF tokenizer metadata ----
BPE_TEXT = ("the cat sat on the mat and the dog sat on the log then the cat and the dog ran to the "
            "tree in the rain where the rain fell on the tent and the cat sang a song to the dog "
            "there is a theory that the weather in the north is better than the weather in the south")


def bytes_to_unicode():
    """GPT-2's byte -> printable character table: printable Latin-1 bytes map to themselves, the
    others to U+0100 onwards in byte order (so a space is 'Ġ')."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


def apply_merge(words, best):
    """Joins every occurrence of the pair `best` in each word (a list of symbols), left to right."""
    for w in words:
        i = 0
        while i < len(w) - 1:
            if (w[i], w[i + 1]) == best:
                w[i:i + 2] = [w[i] + w[i + 1]]
            i += 1


def tiny_vocab(vocab_size):
    """(tokens, token_types, merges, bos, eos). Ids 0..255: the 256 byte tokens in the table's order
    (printable bytes first, as GPT-2's encoder.json); then BPE merges learnt greedily from BPE_TEXT
    (most frequent adjacent pair, ties to the smallest pair); then "<|reserved_k|>" control tokens if
    the text runs out of pairs; last "<|begin_of_text|>" (bos) and "<|end_of_text|>" (eos), control.
    token types as llama.cpp: 1 normal, 3 control."""
    b2u = bytes_to_unicode()
    tokens = [b2u[b] for b in list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))]
    tokens += [b2u[b] for b in range(256) if b2u[b] not in tokens]
    n_learn = vocab_size - 258
    assert n_learn >= 0, "the vocabulary needs at least 258 entries"
    words = [[b2u[b] for b in (w if i == 0 else " " + w).encode()] for i, w in enumerate(BPE_TEXT.split(" "))]
    merges, seen = [], set(tokens)
    while len(tokens) < 256 + n_learn:
        counts = {}
        for w in words:
            for pair in zip(w, w[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(f"{best[0]} {best[1]}")
        if best[0] + best[1] not in seen:
            tokens.append(best[0] + best[1])
            seen.add(tokens[-1])
        apply_merge(words, best)
    types = [1] * len(tokens)
    while len(tokens) < vocab_size - 2:
        tokens.append(f"<|reserved_{len(tokens)}|>")
        types.append(3)
    tokens += ["<|begin_of_text|>", "<|end_of_text|>"]
    types += [3, 3]
    return tokens, types, merges, vocab_size - 2, vocab_size - 1


# Qwen2's pre-tokenizer regex (its tokenizer.json's Split; llama.cpp's `tokenizer.ggml.pre` "qwen2"):
# Llama 3's with single digits, \p{N} instead of \p{N}{1,3}.
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")


def tokenizer_json(vocab_size, style="gpt2"):
    """The same tiny vocabulary as a Hugging Face tokenizer.json (byte-level BPE; the control tokens
    as added special tokens), written from the format's description: {"model": {"type": "BPE",
    "vocab", "merges"}, ...}. style "gpt2": GPT-2's regex through a lone ByteLevel pre-tokenizer;
    "qwen2": as Qwen2's file, an NFC normaliser and Sequence[Split(QWEN2_REGEX), ByteLevel]."""
    tokens, types, merges, _, _ = tiny_vocab(vocab_size)
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, (t, k) in enumerate(zip(tokens, types)) if k == 3]
    vocab = {t: i for i, (t, k) in enumerate(zip(tokens, types)) if k != 3}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    normalizer, pre = None, byte_level
    if style == "qwen2":
        normalizer = {"type": "NFC"}
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
            dict(byte_level, use_regex=False)]}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
            "pre_tokenizer": pre, "post_processor": None, "decoder": dict(byte_level),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": vocab, "merges": merges}}


# ---- A tiny SentencePiece BPE vocabulary (Llama 2 style) ----
SP_SPACE = "\u2581"  # SentencePiece's space, "▁"


def sp_vocab(vocab_size):
    """(pieces, scores, types) as a SentencePiece BPE model holds them and llama.cpp's converter
    writes them: <unk> (type 2 unknown), <s>, </s> (3 control), <0x00>..<0xFF> (6 byte), all score 0;
    then the normal pieces (type 1): the merged pieces in the order learnt, then the single
    characters of the text (most frequent first), scored 0, -1, -2, ... in that order (a piece's
    score is minus its rank, as SentencePiece's BPE trainer scores them). The merges are learnt
    greedily from BPE_TEXT written as SentencePiece sees it ("▁" before every word: the legacy
    normaliser's Prepend and Replace): the most frequent adjacent pair within a word, ties to the
    smallest pair, until the pieces fill vocab_size."""
    pieces = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    words = [[SP_SPACE] + list(w) for w in BPE_TEXT.split(" ")]
    counts = {}
    for w in words:
        for ch in w:
            counts[ch] = counts.get(ch, 0) + 1
    chars = sorted(counts, key=lambda c: (-counts[c], c))
    n_merged = vocab_size - len(pieces) - len(chars)
    assert n_merged > 0, "the vocabulary is too small for the text's characters"
    merged = []
    while len(merged) < n_merged:
        pairs = {}
        for w in words:
            for pair in zip(w, w[1:]):
                pairs[pair] = pairs.get(pair, 0) + 1
        assert pairs, "the text ran out of pairs"
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if best[0] + best[1] not in merged:
            merged.append(best[0] + best[1])
        apply_merge(words, best)
    normal = merged + chars
    assert len(set(normal)) == len(normal)
    return pieces + normal, [0.0] * len(pieces) + [float(-k) for k in range(len(normal))], types + [1] * len(normal)


def sp_merges(pieces, scores):
    """Hugging Face's SentencePieceExtractor.extract(vocab_scores), which its LlamaConverter uses to
    write tokenizer.json from a SentencePiece model: for every piece, in id order, each split into
    two pieces of the vocabulary (left, right), those of one piece ordered by (id of left, id of
    right); then all of them sorted by the merged piece's score, highest first (a stable sort:
    equal scores keep that order)."""
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = []
    for piece, score in zip(pieces, scores):
        local = [(piece[:k], piece[k:], score) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        merges.extend(sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]])))
    merges = sorted(merges, key=lambda m: m[2], reverse=True)
    return [(a, b) for a, b, _ in merges]


def sp_tokenizer_json(vocab_size):
    """The sp_vocab as the tokenizer.json transformers' LlamaConverter writes (legacy form, as Llama 2's
    and TinyLlama's files): BPE with byte_fallback, every piece in model.vocab, the merges of
    sp_merges, <unk> the unknown token; <unk>, <s>, </s> added special tokens; the normaliser
    Prepend("▁") then Replace(" " -> "▁"), no pre-tokenizer; <s> added before a text (the post
    processor: llama.cpp's add_bos_token); the decoder Replace, ByteFallback, Fuse, Strip."""
    pieces, scores, types = sp_vocab(vocab_size)
    added = [{"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, (p, t) in enumerate(zip(pieces, types)) if t in (2, 3)]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": SP_SPACE},
                {"type": "Replace", "pattern": {"String": " "}, "content": SP_SPACE}]},
            "pre_tokenizer": None,
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "<s>", "type_id": 1}},
                                        {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": SP_SPACE}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                      "ignore_merges": False, "vocab": {p: i for i, p in enumerate(pieces)},
                      "merges": [f"{a} {b}" for a, b in sp_merges(pieces, scores)]}}


def greedy(model, prompt, n):
    """n greedy tokens after `prompt` (a list of ids), decoded one position at a time through the
    KV cache (past/present), each step checked against a full forward of the whole sequence."""
    seq, out = list(prompt), []
    with torch.no_grad():
        logits, past = model(torch.tensor([seq]))
        for _ in range(n):
            nxt = int(torch.argmax(logits[0, -1]))
            full = model(torch.tensor([seq]))[0][0, -1]
            assert torch.allclose(full, logits[0, -1], atol=1e-9), "KV-cached logits differ from a full forward"
            out.append(nxt)
            seq.append(nxt)
            logits, past = model(torch.tensor([[nxt]]), past)
    return out


# ---- GGUF v3 ----
# Metadata value types (gguf.md): 4 UINT32, 5 INT32, 6 FLOAT32, 7 BOOL, 8 STRING, 9 ARRAY, 10 UINT64.
# Tensor types (ggml_type): 0 F32, 1 F16.
GGUF_LAYER = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
              "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
              "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
              "mlp.down_proj": "ffn_down"}


def gguf_name(hf_name):
    """HF tensor name -> llama.cpp's GGUF name."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf_name in fixed:
        return fixed[hf_name]
    _, _, layer, rest = hf_name.split(".", 3)  # model.layers.{i}.<module>.<weight|bias>
    module, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{GGUF_LAYER[module]}.{kind}"


def permute_qk(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute, for q (n_head = attention heads) and k (n_head =
    key/value heads), weights and biases: within each head, HF's row order [0..d/2) ++ [d/2..d)
    becomes (0, d/2, 1, d/2+1, ...), i.e. new row 2i = old row i, new row 2i+1 = old row i + d/2.
    HF checkpoints rotate dimension i with i + d/2 (rotate_half); llama.cpp's LLAMA rope rotates
    adjacent pairs (2i, 2i+1), so the converter regroups the rows (undoing the permutation that
    transformers' convert_llama_weights_to_hf.py applied to Meta's interleaved weights). q.k per
    head is unchanged because q and k get the same permutation."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def llama3_rope_factors(cfg):
    """rope_freqs.weight as the converter writes it for rope_type llama3: per frequency, the divisor
    llama.cpp applies (theta_i = pos * freq_base^(-2i/d) / factor_i)."""
    d = head_dim(cfg)
    base = 1.0 / (float(cfg["rope_theta"]) ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    return base / rope_inv_freq(cfg)


def _gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _gval(vtype, value):
    if vtype == 8:
        return _gstr(value)
    if vtype == 9:
        et, vals = value
        return struct.pack("<IQ", et, len(vals)) + b"".join(_gval(et, v) for v in vals)
    return struct.pack({4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 12: "<d"}[vtype], value)


def gguf_arch(cfg):
    """The GGUF architecture convert_hf_to_gguf.py gives the config's model: Qwen2Model writes "qwen2",
    LlamaModel (Llama, Mistral) "llama"."""
    return "qwen2" if arch_of(cfg) == "Qwen2ForCausalLM" else "llama"


def gguf_metadata(cfg, file_type, alignment, name="structlm-tiny", vocab="bpe"):
    """(key, type, value) in the order convert_hf_to_gguf.py writes them: the base class's keys
    (block_count .. layer_norm_rms_epsilon, key/value_length when config.json has head_dim,
    file_type), then LlamaModel's own vocab_size and rope.dimension_count (Qwen2Model adds none),
    then the vocabulary: vocab "bpe" the tiny byte-level one as _set_vocab_gpt2 writes it (Qwen2's
    pre-tokenizer is llama.cpp's "qwen2"); "sp" the SentencePiece one as _set_vocab_sentencepiece
    does (model "llama", pre "default", tokens, scores, token types, then the special vocabulary:
    bos, eos, unk ids, add_bos_token true, add_eos_token false, as Llama 2's tokenizer_config)."""
    V, L = cfg["vocab_size"], gguf_arch(cfg)
    tokens, types, merges, bos, eos = tiny_vocab(V)
    kv = [("general.architecture", 8, L), ("general.name", 8, name),
          (f"{L}.block_count", 4, cfg["num_hidden_layers"]),
          (f"{L}.context_length", 4, cfg["max_position_embeddings"]),
          (f"{L}.embedding_length", 4, cfg["hidden_size"]),
          (f"{L}.feed_forward_length", 4, cfg["intermediate_size"]),
          (f"{L}.attention.head_count", 4, cfg["num_attention_heads"]),
          (f"{L}.attention.head_count_kv", 4, cfg["num_key_value_heads"]),
          (f"{L}.rope.freq_base", 6, float(cfg["rope_theta"])),
          (f"{L}.attention.layer_norm_rms_epsilon", 6, float(cfg["rms_norm_eps"]))]
    if cfg.get("head_dim") is not None:  # the converter adds these when config.json has head_dim
        kv += [(f"{L}.attention.key_length", 4, cfg["head_dim"]), (f"{L}.attention.value_length", 4, cfg["head_dim"])]
    kv += [("general.file_type", 4, file_type)]
    if L == "llama":
        kv += [(f"{L}.vocab_size", 4, V), (f"{L}.rope.dimension_count", 4, head_dim(cfg))]
    if vocab == "sp":
        pieces, scores, sp_types = sp_vocab(V)
        kv += [("tokenizer.ggml.model", 8, "llama"), ("tokenizer.ggml.pre", 8, "default"),
               ("tokenizer.ggml.tokens", 9, (8, pieces)), ("tokenizer.ggml.scores", 9, (6, scores)),
               ("tokenizer.ggml.token_type", 9, (5, sp_types)),
               ("tokenizer.ggml.bos_token_id", 4, cfg["bos_token_id"]), ("tokenizer.ggml.eos_token_id", 4, cfg["eos_token_id"]),
               ("tokenizer.ggml.unknown_token_id", 4, 0),
               ("tokenizer.ggml.add_bos_token", 7, True), ("tokenizer.ggml.add_eos_token", 7, False)]
    else:
        kv += [("tokenizer.ggml.model", 8, "gpt2"), ("tokenizer.ggml.pre", 8, "qwen2" if L == "qwen2" else "default"),
               ("tokenizer.ggml.tokens", 9, (8, tokens)), ("tokenizer.ggml.token_type", 9, (5, types)),
               ("tokenizer.ggml.merges", 9, (8, merges)),
               ("tokenizer.ggml.bos_token_id", 4, bos), ("tokenizer.ggml.eos_token_id", 4, eos)]
    kv += [("general.quantization_version", 4, 2)]
    if alignment != 32:
        kv.append(("general.alignment", 4, alignment))
    return kv


def gguf_tensors(cfg, tensors, dtype):
    """[(gguf name, numpy array in torch's row-major order, ggml type)] as the converter lays them out:
    q/k rows (weights and biases) permuted for arch llama only (qwen2's NEOX rope rotates i with
    i + d/2, HF's own layout), 1-D tensors F32, 2-D F16 when dtype == "f16", rope_freqs for llama3
    scaling."""
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    permute = gguf_arch(cfg) == "llama"
    out = []
    for hf, t in tensors.items():
        t = t.detach().to(torch.float64)
        if permute and ".self_attn.q_proj." in hf:
            t = permute_qk(t, n_head)
        elif permute and ".self_attn.k_proj." in hf:
            t = permute_qk(t, n_kv)
        a = t.float().numpy()
        f16 = dtype == "f16" and a.ndim == 2
        out.append((gguf_name(hf), a.astype("<f2") if f16 else a.astype("<f4"), 1 if f16 else 0))
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type", rs.get("type")) == "llama3":
        out.append(("rope_freqs.weight", llama3_rope_factors(cfg).float().numpy().astype("<f4"), 0))
    return out


def write_gguf(path, cfg, tensors, dtype="f32", alignment=32, vocab="bpe"):
    """GGUF v3, arch llama or qwen2 (gguf_arch). Layout: "GGUF", u32 version 3, u64 tensor count, u64 KV count; the KVs
    (key string, u32 type, value); per tensor: name, u32 n_dims, u64 ne[n_dims] (ne[0] the innermost,
    fastest-varying dimension: torch shape [out, in] is written [in, out]), u32 ggml type, u64 offset
    (relative to the data section, a multiple of `alignment`); zero padding to `alignment`; the data.
    Strings are u64 length + UTF-8 bytes without a terminator. dtype "f16": 2-D tensors F16 (file_type
    1, MOSTLY_F16), else everything F32 (file_type 0; bf16 models are stored as F32, exactly)."""
    assert arch_of(cfg) in ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"), "GGUF arch llama or qwen2"
    ts = gguf_tensors(cfg, tensors, dtype)
    kv = gguf_metadata(cfg, 1 if dtype == "f16" else 0, alignment, vocab=vocab)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(ts), len(kv))
    head += b"".join(_gstr(k) + struct.pack("<I", t) + _gval(t, v) for k, t, v in kv)
    data = b""
    for name, a, gtype in ts:
        head += _gstr(name) + struct.pack("<I", a.ndim) + b"".join(struct.pack("<Q", n) for n in reversed(a.shape))
        head += struct.pack("<IQ", gtype, len(data))
        data += a.tobytes()
        data += b"\0" * (-len(data) % alignment)
    head += b"\0" * (-len(head) % alignment)
    with open(path, "wb") as f:
        f.write(head + data)


# ---- Command line ----
def make(arch, seed, dtype, shards, out, alignment=32, shape=None, expected=True):
    model = random_model(arch, seed, **(SHAPES[shape] if shape else {}))
    cfg = model.config
    W = stored_tensors(model, dtype)
    write_hf(os.path.join(out, "hf"), cfg, W, dtype, shards)
    vocab = ARCHS[arch].get("vocab", "bpe")
    with open(os.path.join(out, "hf", "tokenizer.json"), "w", encoding="utf-8") as f:
        if vocab == "sp":
            json.dump(sp_tokenizer_json(cfg["vocab_size"]), f, indent=1, ensure_ascii=False)
        else:
            json.dump(tokenizer_json(cfg["vocab_size"], "qwen2" if gguf_arch(cfg) == "qwen2" else "gpt2"), f, indent=1)
    if not expected:
        return model, W, None, None
    if ARCHS[arch]["gguf"]:
        write_gguf(os.path.join(out, "model.gguf"), cfg, W, dtype, alignment, vocab)
    ids = fixed_tokens(cfg["vocab_size"])
    stored = model_from(cfg, W, torch.float64)
    with torch.no_grad():
        logits = stored(ids)[0]
    # Greedy decoding from the first row's first 5 tokens: what `structlm sample -t 0` must emit.
    cont = torch.tensor(greedy(stored, ids[0, :5].tolist(), 12), dtype=torch.int64)
    with open(os.path.join(out, "tokens.json"), "w") as f:
        json.dump(ids.tolist(), f)
    meta = {"format": "pt", "arch": arch, "seed": str(seed), "dtype": dtype, "computed_in": "float64"}
    write_safetensors(os.path.join(out, "expected.safetensors"),
                      [("input_ids", "I64", ids), ("logits", "F32", logits), ("greedy", "I64", cont)], meta)
    return model, W, ids, logits


def main(argv=None):
    p = argparse.ArgumentParser(description="Independent torch reference for the Llama family: tiny random "
                                "models written as a Hugging Face folder and GGUF, with expected logits.")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help="write DIR/hf/, DIR/model.gguf, DIR/tokens.json, DIR/expected.safetensors")
    m.add_argument("--arch", choices=sorted(ARCHS), default="llama")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--dtype", choices=sorted(DTYPES), default="f32",
                   help="stored weight type (GGUF: f16 -> F16 matrices, else F32)")
    m.add_argument("--shards", type=int, default=1, help="safetensors shards (1: a single model.safetensors)")
    m.add_argument("--gguf-alignment", type=int, default=32, help="written as general.alignment unless 32")
    m.add_argument("--out", required=True)
    m.add_argument("--shape", choices=sorted(SHAPES), help="a real model's sizes instead of the tiny ones")
    m.add_argument("--no-expected", action="store_true", help="write the folder only: no GGUF, no expected logits")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    model, W, ids, logits = make(a.arch, a.seed, a.dtype, a.shards, a.out, a.gguf_alignment, a.shape,
                                 not a.no_expected)
    files = sorted(os.listdir(os.path.join(a.out, "hf")))
    if logits is None:
        print(f"{a.arch} {a.shape or 'tiny'} seed {a.seed} {a.dtype}: {len(W)} tensors -> {a.out}/hf/ ({', '.join(files)})")
        return
    print(f"{a.arch} seed {a.seed} {a.dtype}: {len(W)} tensors -> {a.out}/hf/ ({', '.join(files)})"
          + (", model.gguf" if ARCHS[a.arch]["gguf"] else "") + f"; logits {list(logits.shape)}")


if __name__ == "__main__":
    main()
