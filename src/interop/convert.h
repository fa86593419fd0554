// Conversions between structlm models and other tools' files: GGUF (llama.cpp's gpt2
// architecture), llm.c (model + tokenizer files) and Hugging Face GPT-2 safetensors. Byte-level
// parsing lives in src/formats (no torch); this layer maps tensors and names, and refuses models a
// format cannot hold exactly (see require_plain_gpt2).
#pragma once
#include <cstdint>
#include <string>

#include "interop/gpt_tensors.h"
#include "text/tokenizer.h"

namespace structlm::interop {

struct Imported {
  GptTensors model;
  bool wrote_tokenizer = false;  // the file carried a tokenizer, now in the tokenizer directory
};

// ---- GGUF (llama.cpp, architecture gpt2) ----
// dtype: matrices in f32, f16 or bf16; norms, biases and the position table stay f32 (as
// llama.cpp's converter does). The tokenizer's tokens and merges go into the file; a model with
// more rows than the tokenizer has tokens gets "[PADn]" tokens of type UNUSED (as llama.cpp's
// converter pads).
void export_gguf(const GptTensors& m, const text::Tokenizer& tok, const std::string& path, FloatType dtype,
                 const std::string& model_name);
// Recovers the model and writes the file's tokenizer (encoder.json + vocab.bpe) into tokenizer_dir.
Imported import_gguf(const std::string& path, const std::string& tokenizer_dir);

// ---- llm.c ----
// Model file (version 3 for f32, 5 for bf16; vocabulary padded to a multiple of 128 with zero
// rows) and, when tokenizer_path is not empty, llm.c's tokenizer file (version 2).
void export_llmc(const GptTensors& m, const text::Tokenizer* tok, const std::string& path,
                 const std::string& tokenizer_path, FloatType dtype);
Imported import_llmc(const std::string& path);
// Errors (naming the llm.c tokenizer file) unless its tokens are exactly `tok`'s bytes and its
// end-of-text id is `tok`'s.
void check_llmc_tokenizer(const std::string& llmc_tokenizer_path, const text::Tokenizer& tok);

// ---- Hugging Face GPT-2 safetensors ----
// Writes `path` (transformer.h.N... names, Conv1D [in, out] layout) and, in the same directory,
// config.json and, when tok is given, vocab.json + merges.txt.
void export_hf(const GptTensors& m, const text::Tokenizer* tok, const std::string& path, FloatType dtype);
// n_head: from config.json next to the file if there is one, else this value (0: unknown, an
// error). Writes vocab.json + merges.txt found next to the file into tokenizer_dir.
Imported import_hf(const std::string& path, std::int64_t n_head, const std::string& tokenizer_dir);

}  // namespace structlm::interop
