#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<parser>/: small valid inputs, built here from the
formats' specifications (not by structlm's own writers, so a writer bug cannot hide a reader
bug). Reproducers of fixed findings live next to them as crash-*/regress-* files and are kept.
Run: /usr/bin/python3 fuzz/make_seeds.py (stdlib only; the output is committed)."""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(parser, name, data):
    d = os.path.join(ROOT, parser)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- safetensors: u64 LE header length, JSON header, data ------------------------------------
def safetensors(tensors, metadata=None, pad=True):
    header, data = {}, b""
    sizes = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
    for name, dtype, shape in tensors:
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + n]}
        data += bytes((i * 7 + 3) % 256 for i in range(n))
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:  # the writer's 8-byte alignment, with spaces as the format allows
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


put("safetensors", "empty", safetensors([]))
put("safetensors", "one_f32", safetensors([("w", "F32", [2, 3])]))
put("safetensors", "all_dtypes", safetensors(
    [(f"t.{d.lower()}", d, [2]) for d in ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"]],
    {"format": "pt", "config": "{\"n_layer\": 2}"}))
put("safetensors", "scalar_and_empty", safetensors([("s", "F32", []), ("z", "I64", [0, 4]), ("v", "U8", [3])], pad=False))
put("safetensors", "gpt_like", safetensors(
    [("transformer.wte.weight", "F32", [8, 4]), ("transformer.h.0.ln_1.weight", "F32", [4]),
     ("lm_head.weight", "F16", [8, 4])], {"step": "10"}))

# ---- llm.c token shards: 256 x int32 header (magic, version, count), tokens --------------------
def shard(tokens, wide=False):
    header = [20240801, 7] if wide else [20240520, 1]
    header += [len(tokens)] + [0] * 253
    return struct.pack("<256i", *header) + struct.pack(("<%dI" if wide else "<%dH") % len(tokens), *tokens)


put("shard", "u16_empty", shard([]))
put("shard", "u16_tokens", shard([50256, 15496, 995, 0, 1, 2, 65535, 11, 13, 50256]))
put("shard", "u32_tokens", shard([100000, 0, 70000, 1, 2**31], wide=True))

# ---- GPT-2 tokenizer: encoder.json NUL vocab.bpe ---------------------------------------------
def bytes_to_unicode():  # GPT-2's encoder.py
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tokenizer(merges):
    alphabet = bytes_to_unicode()
    tokens = [alphabet[b] for b in range(256)]
    for left, right in merges:
        tokens.append(left + right)
    tokens.append("<|endoftext|>")
    encoder = json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False)
    vocab = "#version: 0.2\n" + "".join(f"{l} {r}\n" for l, r in merges)
    return encoder.encode() + b"\0" + vocab.encode()


put("tokenizer", "bytes_only", tokenizer([]))
put("tokenizer", "few_merges", tokenizer([("t", "h"), ("th", "e"), ("Ġ", "the"), ("i", "n"), ("Ġ", "in"), ("e", "r")]))

# ---- Hugging Face tokenizer.json (byte-level BPE) ---------------------------------------------
def tokenizer_json(merges, pre_tokenizer, added, ignore_merges=False, pairs=False, normalizer=None):
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    added_tokens = [{"id": len(vocab) + i, "content": c, "special": True} for i, c in enumerate(added)]
    return json.dumps({"version": "1.0", "added_tokens": added_tokens, "normalizer": normalizer,
                       "pre_tokenizer": pre_tokenizer, "post_processor": None, "decoder": {"type": "ByteLevel"},
                       "model": {"type": "BPE", "dropout": None, "byte_fallback": False, "ignore_merges": ignore_merges,
                                 "vocab": vocab,
                                 "merges": [[l, r] if pairs else f"{l} {r}" for l, r in merges]}},
                      ensure_ascii=False)


LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
put("tokenizer_json", "gpt2_like", tokenizer_json(
    [("t", "h"), ("th", "e"), ("Ġ", "the")],
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}, ["<|endoftext|>"]))
put("tokenizer_json", "llama3_like", tokenizer_json(
    [("t", "h"), ("th", "e"), ("Ġ", "the"), ("1", "2")],
    {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
    ["<|begin_of_text|>", "<|end_of_text|>"], ignore_merges=True, pairs=True))

# ---- Hugging Face tokenizer.json (SentencePiece-style BPE with byte fallback, Llama 2) -------
def sp_tokenizer_json(pieces, merges, normalizer, pre_tokenizer, pairs=False):
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for p in pieces:
        vocab.setdefault(p, len(vocab))
    added = [{"id": i, "content": c, "special": True} for i, c in enumerate(["<unk>", "<s>", "</s>"])]
    decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return json.dumps({"version": "1.0", "added_tokens": added, "normalizer": normalizer,
                       "pre_tokenizer": pre_tokenizer, "post_processor": None, "decoder": decoder,
                       "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "byte_fallback": True,
                                 "fuse_unk": True, "vocab": vocab,
                                 "merges": [[l, r] if pairs else f"{l} {r}" for l, r in merges]}},
                      ensure_ascii=False)


SP_PIECES = ["\u2581", "t", "h", "e", "\u2581t", "he", "\u2581the", "\"", ":", "{", "}"]
SP_MERGES = [("h", "e"), ("\u2581", "t"), ("\u2581t", "he")]
put("tokenizer_json", "llama2_like", sp_tokenizer_json(SP_PIECES, SP_MERGES, {"type": "Sequence", "normalizers": [
    {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    None))
put("tokenizer_json", "metaspace_like", sp_tokenizer_json(SP_PIECES, SP_MERGES, None, {
    "type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}, pairs=True))
put("tokenizer_json", "qwen2_nfc_like", tokenizer_json(
    [("t", "h"), ("th", "e"), ("Ġ", "the")],
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}, ["<|endoftext|>"],
    normalizer={"type": "NFC"}))

# ---- run configs -----------------------------------------------------------------------------
put("config", "empty_object", "{}")
put("config", "model_only", json.dumps({"model": {"vocab_size": 512, "n_layer": 2, "n_head": 2, "n_embd": 64}}))
put("config", "full", json.dumps({
    "model": {"vocab_size": 4096, "block_size": 128, "n_layer": 4, "n_head": 4, "n_embd": 256, "dropout": 0.1,
              "bias": True, "tied": False},
    "train": {"batch_size": 16, "grad_accum": 2, "max_steps": 2000, "stop_at_step": 0, "lr": 0.002, "min_lr": 0.0002,
              "warmup_steps": 100, "weight_decay": 0.1, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "grad_clip": 1.0,
              "eval_every": 50, "eval_batches": 8, "ckpt_every": 250, "log_every": 10, "max_minutes": 5.5,
              "seed": 1337, "device": "cpu", "threads": 2},
    "data": {"train_shards": ["a.bin", "b.bin"], "val_shards": ["v.bin"], "tokenizer": "tok"}}, indent=1))
put("config", "null_sections", json.dumps({"model": None, "train": {"device": "auto"}, "data": None}))
put("config", "cstde", json.dumps({"model": {"n_layer": 2, "cstde": {"attention": True, "init": True, "rank": 8,
                                                                     "buckets": 16, "max_distance": 64}}}))
put("config", "llama", json.dumps({"model": {"arch": "llama", "n_layer": 2, "n_head": 4, "n_embd": 64, "n_kv_head": 2,
                                             "intermediate_size": 160, "rope_theta": 500000.0, "rms_eps": 1e-6,
                                             "qkv_bias": True, "tied": False}}))

# ---- GGUF v3 (docs/gguf.md): header, metadata, tensor infos, aligned data --------------------
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
          U64: "<Q", I64: "<q", F64: "<d"}


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gvalue(t, v):
    if t == STRING:
        return gstr(v)
    if t == ARRAY:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gvalue(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, alignment=32, version=3):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        out += gstr(key) + struct.pack("<I", t) + gvalue(t, v)
    sizes = {0: 4, 1: 2, 30: 2}
    data, infos = b"", b""
    for name, gtype, ne in tensors:
        data += b"\0" * (-len(data) % alignment)
        n = sizes[gtype]
        for d in ne:
            n *= d
        infos += gstr(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", gtype, len(data))
        data += bytes((i * 5 + 1) % 256 for i in range(n))
    out += infos
    out += b"\0" * (-len(out) % alignment)
    return out + data


put("gguf", "empty", gguf([], []))
put("gguf", "gpt2_like", gguf(
    [("general.architecture", STRING, "gpt2"), ("general.alignment", U32, 32), ("gpt2.context_length", U32, 16),
     ("gpt2.embedding_length", U32, 8), ("gpt2.block_count", U32, 1), ("gpt2.attention.head_count", U32, 2),
     ("gpt2.attention.layer_norm_epsilon", F32, 1e-5), ("tokenizer.ggml.model", STRING, "gpt2"),
     ("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b", "ab", "<|endoftext|>"])),
     ("tokenizer.ggml.token_type", ARRAY, (I32, [1, 1, 1, 3])),
     ("tokenizer.ggml.merges", ARRAY, (STRING, ["a b"])), ("tokenizer.ggml.eos_token_id", U32, 3)],
    [("token_embd.weight", 0, [8, 4]), ("position_embd.weight", 1, [8, 16]), ("output_norm.weight", 30, [8])]))
# The Llama family's other shapes (issue 16): arch qwen2 (its keys, q/k/v biases) with a byte-level
# vocabulary, and a SentencePiece vocabulary (scores F32, token types, bools) as Llama 2 carries it.
put("gguf", "qwen2_like", gguf(
    [("general.architecture", STRING, "qwen2"), ("qwen2.block_count", U32, 1), ("qwen2.context_length", U32, 16),
     ("qwen2.embedding_length", U32, 8), ("qwen2.feed_forward_length", U32, 16), ("qwen2.attention.head_count", U32, 2),
     ("qwen2.attention.head_count_kv", U32, 1), ("qwen2.rope.freq_base", F32, 1e6),
     ("qwen2.attention.layer_norm_rms_epsilon", F32, 1e-6), ("tokenizer.ggml.model", STRING, "gpt2"),
     ("tokenizer.ggml.pre", STRING, "qwen2"), ("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b", "ab", "<|endoftext|>"])),
     ("tokenizer.ggml.token_type", ARRAY, (I32, [1, 1, 1, 3])), ("tokenizer.ggml.merges", ARRAY, (STRING, ["a b"]))],
    [("token_embd.weight", 0, [8, 4]), ("blk.0.attn_q.weight", 1, [8, 8]), ("blk.0.attn_q.bias", 0, [8]),
     ("blk.0.attn_k.bias", 0, [4]), ("blk.0.attn_v.bias", 0, [4])]))
put("gguf", "llama_sentencepiece_like", gguf(
    [("general.architecture", STRING, "llama"), ("tokenizer.ggml.model", STRING, "llama"),
     ("tokenizer.ggml.pre", STRING, "default"),
     ("tokenizer.ggml.tokens", ARRAY, (STRING, ["<unk>", "<s>", "</s>", "<0x41>", "\u2581", "a", "\u2581a"])),
     ("tokenizer.ggml.scores", ARRAY, (F32, [0.0, 0.0, 0.0, 0.0, -1.0, -2.0, 0.0])),
     ("tokenizer.ggml.token_type", ARRAY, (I32, [2, 3, 3, 6, 1, 1, 1])), ("tokenizer.ggml.bos_token_id", U32, 1),
     ("tokenizer.ggml.eos_token_id", U32, 2), ("tokenizer.ggml.unknown_token_id", U32, 0),
     ("tokenizer.ggml.add_bos_token", BOOL, True), ("tokenizer.ggml.add_eos_token", BOOL, False)],
    [("token_embd.weight", 1, [8, 7])]))
# Whole llama/qwen2 files for fuzz_gguf_llama (config and vocabulary past the container): every
# hyperparameter key, a block's 9 tensors, and each vocabulary kind.
def llama_block(hidden=8, kv=4, ffn=16, bias=False):
    t = [("blk.0.attn_norm.weight", 0, [hidden]), ("blk.0.attn_q.weight", 0, [hidden, hidden]),
         ("blk.0.attn_k.weight", 0, [hidden, kv]), ("blk.0.attn_v.weight", 0, [hidden, kv]),
         ("blk.0.attn_output.weight", 0, [hidden, hidden]), ("blk.0.ffn_norm.weight", 0, [hidden]),
         ("blk.0.ffn_gate.weight", 0, [hidden, ffn]), ("blk.0.ffn_up.weight", 0, [hidden, ffn]),
         ("blk.0.ffn_down.weight", 0, [ffn, hidden]), ("output_norm.weight", 0, [hidden])]
    if bias:
        t += [("blk.0.attn_q.bias", 0, [hidden]), ("blk.0.attn_k.bias", 0, [kv]), ("blk.0.attn_v.bias", 0, [kv])]
    return t


def llama_hparams(arch):
    return [("general.architecture", STRING, arch), (arch + ".block_count", U32, 1), (arch + ".context_length", U32, 16),
            (arch + ".embedding_length", U32, 8), (arch + ".feed_forward_length", U32, 16),
            (arch + ".attention.head_count", U32, 2), (arch + ".attention.head_count_kv", U32, 1),
            (arch + ".rope.freq_base", F32, 10000.0), (arch + ".attention.layer_norm_rms_epsilon", F32, 1e-5),
            (arch + ".rope.dimension_count", U32, 4)]


def byte_alphabet():  # GPT-2's bytes_to_unicode, in byte order
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    out, n = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return [out[b] for b in range(256)]


BPE_VOCAB = [("tokenizer.ggml.model", STRING, "gpt2"), ("tokenizer.ggml.pre", STRING, "llama-bpe"),
             ("tokenizer.ggml.tokens", ARRAY, (STRING, byte_alphabet() + ["\u0120t", "<|begin_of_text|>"])),
             ("tokenizer.ggml.token_type", ARRAY, (I32, [1] * 257 + [3])),
             ("tokenizer.ggml.merges", ARRAY, (STRING, ["\u0120 t"])), ("tokenizer.ggml.bos_token_id", U32, 257)]
put("gguf_llama", "llama_bpe", gguf(llama_hparams("llama") + BPE_VOCAB,
                                    [("token_embd.weight", 0, [8, 258])] + llama_block()))
put("gguf_llama", "qwen2_bpe", gguf(llama_hparams("qwen2") + [(k, t, "qwen2" if k == "tokenizer.ggml.pre" else v)
                                                                for k, t, v in BPE_VOCAB],
                                    [("token_embd.weight", 0, [8, 258])] + llama_block(bias=True)))
# Byte fallback needs all 256 byte tokens.
SP_PIECES = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581", "a", "\u2581a"]
put("gguf_llama", "llama_sentencepiece", gguf(
    llama_hparams("llama") +
    [("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.pre", STRING, "default"),
     ("tokenizer.ggml.tokens", ARRAY, (STRING, SP_PIECES)),
     ("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * 259 + [-1.0, -2.0, 0.0])),
     ("tokenizer.ggml.token_type", ARRAY, (I32, [2, 3, 3] + [6] * 256 + [1, 1, 1])), ("tokenizer.ggml.bos_token_id", U32, 1),
     ("tokenizer.ggml.eos_token_id", U32, 2), ("tokenizer.ggml.unknown_token_id", U32, 0),
     ("tokenizer.ggml.add_bos_token", BOOL, True), ("tokenizer.ggml.add_eos_token", BOOL, False)],
    [("token_embd.weight", 0, [8, 262]), ("output.weight", 0, [8, 262])] + llama_block()))
put("gguf", "every_type", gguf(
    [("general.alignment", U32, 16), ("u8", U8, 200), ("i8", I8, -5), ("u16", U16, 60000), ("i16", I16, -3000), ("u32", U32, 4000000000),
     ("i32", I32, -7), ("f32", F32, 0.5), ("bool", BOOL, True), ("str", STRING, "héllo"), ("u64", U64, 2**63 + 5),
     ("i64", I64, -2**40), ("f64", F64, 2.25), ("arr_f64", ARRAY, (F64, [1.0, -2.0])),
     ("arr_bool", ARRAY, (BOOL, [True, False])), ("arr_u8", ARRAY, (U8, [1, 2, 3]))],
    [("t", 0, [3, 2, 1])], alignment=16) )
put("gguf", "alignment_64_v2", gguf([("general.alignment", U32, 64)], [("a", 0, [1]), ("b", 1, [3])], alignment=64,
                                     version=2))

# ---- llm.c model checkpoint: header (20240326, version, maxT, V, L, NH, C, Vp), 16 tensors ----
def llmc_model(maxT, V, L, NH, C, Vp, bf16=False):
    header = [20240326, 5 if bf16 else 3, maxT, V, L, NH, C, Vp] + [0] * 248
    counts = [Vp * C, maxT * C, L * C, L * C, L * 3 * C * C, L * 3 * C, L * C * C, L * C, L * C, L * C,
              L * 4 * C * C, L * 4 * C, L * C * 4 * C, L * C, C, C]
    n = sum(counts) * (2 if bf16 else 4)
    return struct.pack("<256i", *header) + bytes((i * 3) % 256 for i in range(n))


put("llmc_model", "f32_tiny", llmc_model(4, 5, 1, 1, 2, 8))
put("llmc_model", "bf16_tiny", llmc_model(3, 7, 2, 2, 4, 8, bf16=True))

# ---- llm.c tokenizer: header (20240328, version, count, eot), then uint8 length + bytes ------
def llmc_tokenizer(tokens, version=2, eot=None):
    header = [20240328, version, len(tokens), eot if eot is not None else len(tokens) - 1] + [0] * 252
    if version == 1:
        header[3] = 0
    return struct.pack("<256i", *header) + b"".join(bytes([len(t)]) + t for t in tokens)


toks = [bytes([b]) for b in range(256)] + [b"th", b" the", b"\xe2\x82", b"<|endoftext|>"]
put("llmc_tokenizer", "v2_bytes", llmc_tokenizer(toks))
put("llmc_tokenizer", "v1_small", llmc_tokenizer([b"a", b"b", b"ab"], version=1))

# ---- Hugging Face GPT-2 config.json ---------------------------------------------------------
put("hf_config", "gpt2", json.dumps({
    "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1, "bos_token_id": 50256,
    "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05,
    "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_inner": None, "n_layer": 12,
    "n_positions": 1024, "resid_pdrop": 0.1, "scale_attn_weights": True, "summary_activation": None,
    "tie_word_embeddings": True, "vocab_size": 50257}, indent=2))
put("hf_config", "small", json.dumps({"model_type": "gpt2", "vocab_size": 4096, "n_positions": 256, "n_embd": 256,
                                      "n_layer": 4, "n_head": 4}))
put("hf_config", "n_ctx_only", json.dumps({"vocab_size": 10, "n_ctx": 8, "n_embd": 4, "n_layer": 1, "n_head": 2,
                                           "tie_word_embeddings": False}))
