// The vocabulary a llama.cpp GGUF file carries in its tokenizer.ggml.* metadata, to and from a
// Hugging Face tokenizer.json that text::Tokenizer::load_hf reads (issue 16), both kinds:
//  - byte-level BPE (tokenizer.ggml.model "gpt2"): tokens over GPT-2's byte alphabet, merges, and
//    the pre-tokenizer llama.cpp names in tokenizer.ggml.pre: "default"/"gpt-2" GPT-2's regex,
//    "llama-bpe" Llama 3's, "qwen2" Qwen2's with its NFC normaliser;
//  - SentencePiece (model "llama": Llama 2, TinyLlama): pieces, scores and token types (1 normal,
//    2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte), as the byte-fallback BPE that
//    transformers' LlamaConverter writes, its merges derived from the scores as its
//    SentencePieceExtractor does; and back, scores as SentencePiece ranks its pieces.
// Every count, type and id is checked; errors name the file and the key (or tokenizer.json field).
#pragma once
#include <cstdint>
#include <string>

#include "core/json.h"
#include "formats/gguf.h"

namespace structlm::interop {

// tokenizer.json of the file's vocabulary for a model of `rows` embedding rows (trailing UNUSED
// tokens, the converter's padding, are dropped; control, user-defined and unused tokens become
// added special tokens). Throws Error naming the file and key when it cannot be written.
json gguf_vocab_tokenizer_json(const formats::GgufFile& f, std::int64_t rows);

// Adds the vocabulary of `tokenizer_dir` to `w` as convert_hf_to_gguf.py writes it: GPT-2's files
// or a byte-level tokenizer.json whose pre-tokenizer llama.cpp names as _set_vocab_gpt2 does
// (model, pre, tokens padded to `rows` with [PADn] of type UNUSED, token_type with added tokens
// control, merges, bos and eos ids; -1: the tokenizer's end-of-text token); a SentencePiece-style
// tokenizer.json as _set_vocab_sentencepiece does (model "llama", pre "default", tokens, scores,
// token types, bos/eos (-1: <s>, </s>), unk ids, add_bos/add_eos_token from its post processor),
// refused where the scores cannot carry its merges or llama.cpp would normalise otherwise.
// Errors name `path` (the file being written) or the tokenizer file.
void add_gguf_vocab(formats::GgufWriter& w, const std::string& tokenizer_dir, std::int64_t rows, std::int64_t bos,
                    std::int64_t eos, const std::string& path);

}  // namespace structlm::interop
