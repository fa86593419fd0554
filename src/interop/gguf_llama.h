// GGUF files of llama.cpp's `llama` and `qwen2` architectures into model::LlamaForCausalLM and
// back (issue 16): the names, dims and (llama only) q/k row permutation of llama.cpp's converter
// undone on import and applied on export; Qwen2's q/k/v biases and tied output as its Qwen2Model
// writes them; the file's vocabulary (byte-level BPE, or SentencePiece with scores and token
// types) written as a tokenizer.json, and a tokenizer directory's vocabulary written into the
// file (gguf_vocab.h). Errors name the file and the key or tensor. Llama 3's rope scaling travels
// as the converter's rope_freqs.weight, both ways: written from the config, and read back into
// the config (llama3_rope_from_factors), since GGUF keeps only the per-frequency factors and the
// model computes them from config.json's four numbers; factors of any other form are refused.
// Not yet: quantized tensors (the GGUF parser refuses them by type).
#pragma once
#include <string>
#include <vector>

#include "interop/hf_llama.h"

namespace structlm::interop {

// general.architecture of a GGUF file (parsed and checked whole).
std::string gguf_architecture(const std::string& path);

// The model of a `llama` or `qwen2` file (float32, eval mode); with `tokenizer_dir` not empty,
// the file's tokenizer as tokenizer_dir/tokenizer.json when this reader can write it (else
// tokenizer_problem says why).
ImportedLlama import_gguf_llama(const std::string& path, const std::string& tokenizer_dir);

// `c` with Llama 3's rope scaling (rope_factor, rope_low_freq_factor, rope_high_freq_factor,
// rope_original_max_positions) that gives `factors`, GGUF's rope_freqs.weight (llama.cpp's angle
// is pos * freq_base^(-2i/d) / factors[i]), at each of the head_dim / 2 frequencies within 1e-6
// relative; uses c.head_dim and c.rope_theta. Factors all 1: no scaling (rope_factor 0).
// Otherwise factor = the largest; factors 1 are the kept band, factors == factor the divided one,
// and each factor f between gives s = (1/f - 1/factor) / (1 - 1/factor), which Llama 3's rule
// makes linear in 1/wavelength: s = (L / w - low) / (high - low). Two or more such points fix the
// band's edges L/high and L/low (through the outermost two). One point fixes one relation: the
// ratio high/low = 4 of every released Llama 3.x is taken where it keeps the neighbours out, else
// the widest band that does, halved. None: the ratio 4 centred in the gap between the last kept
// and the first divided frequency, else the gap's middle third. Then L = round(1 / edge of the
// divided band), so that low is near 1 (Llama 3.1's file gives back 8192, 1, 4, 8), and low, high,
// factor rounded to 6 digits where that still gives the factors. The result is checked with
// model::llama_inv_freq; Error naming `path` and the tensor when no Llama 3 rule gives the
// factors (wrong count, a factor < 1 or not finite, points off one line).
model::LlamaConfig llama3_rope_from_factors(model::LlamaConfig c, const std::vector<double>& factors,
                                            const std::string& path);

// Writes `path` as convert_hf_to_gguf.py writes a llama model (a qwen2 one for model_type qwen2):
// its metadata keys, llama.cpp's tensor names, q/k rows permuted into adjacent pairs (llama only),
// 1-D tensors F32 and matrices `dtype`, the vocabulary of `tokenizer_dir` (add_gguf_vocab: GPT-2's
// files, a byte-level BPE tokenizer.json whose pre-tokenizer is GPT-2's, Llama 3's or Qwen2's, or
// a SentencePiece-style one), and Llama 3's rope scaling as rope_freqs.weight. Refused, naming
// why: no tokenizer, a vocabulary GGUF cannot carry, a Qwen2 model with what llama.cpp's qwen2
// does not compute (MLP biases, rope scaling).
void export_gguf_llama(model::LlamaForCausalLM& model, const std::string& tokenizer_dir, const std::string& path,
                       FloatType dtype, const std::string& name);

}  // namespace structlm::interop
