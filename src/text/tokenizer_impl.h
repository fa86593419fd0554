// What a Tokenizer holds. Loaders (gpt2_files.cpp) and the trainer (bpe_train.cpp) fill the
// primary fields, then call finish() to build the tables the encoder reads. Private to text/.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/normalize.h"
#include "text/pair_table.h"
#include "text/tokenizer.h"

namespace structlm::text {
namespace detail {
class Pattern;
}

// Reusable buffers for one BPE run over one pre-token (see bpe_encode.cpp).
struct BpeScratch {
  struct Candidate {  // an adjacent pair that some merge applies to
    std::uint32_t rank;
    std::int32_t pos;  // node index of the left symbol
    TokenId left, right, merged;
  };
  std::vector<TokenId> symbol;  // per node; kDead once merged into its left neighbour
  std::vector<std::int32_t> prev, next;
  std::vector<Candidate> heap, deferred;
};

// The SentencePiece kind's Metaspace pre-tokenizer, when the file has one.
struct MetaspaceSpec {
  std::string replacement;  // "▁" as UTF-8; empty: no Metaspace pre-tokenizer
  enum class Prepend { kAlways, kFirst, kNever } prepend = Prepend::kAlways;
  bool split = true;  // cut before every replacement character
};

// The SentencePiece kind's decoder, per token and then on the joined text: Replace steps
// (pattern -> content) on every token string, a byte token <0xXX> to its byte, then up to
// strip_start leading copies of strip_content removed from the joined text.
struct SpDecoder {
  std::vector<std::pair<std::string, std::string>> replace;
  std::size_t strip_start = 0;
  std::string strip_content;
};

struct Tokenizer::Impl {
  static constexpr TokenId kDead = ~TokenId(0);

  // Primary data, as in the files.
  std::vector<std::string> strings;  // id -> token string ("Ġthe")
  std::unordered_map<std::string, TokenId> ids;  // token string -> id
  std::vector<std::pair<std::string, std::string>> merges;  // rank order, as token strings
  std::vector<std::array<TokenId, 3>> merge_ids;  // per merge: left, right, merged
  TokenId eot = 0;
  // Hugging Face tokenizer.json only (tokenizer_json.cpp): its pre-tokenizer regex (nullptr:
  // GPT-2's), its added special tokens (their strings are their text, not byte-alphabet
  // strings), and Llama 3's ignore_merges (a pre-token that is itself in the vocabulary is that
  // token, whatever the merges would make of it).
  const detail::Pattern* pattern = nullptr;
  std::vector<bool> special;  // by id; empty: none
  bool ignore_merges = false;
  // Its normaliser, applied to the text before anything else (empty: none).
  std::vector<detail::NormalizerStep> normalizer;

  // SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama, Mistral v0.1), when
  // `sentencepiece` is set; tokenizer_json.cpp reads it, sp_encode.cpp encodes with it. Token
  // strings are then Unicode pieces ("▁the"), not byte-alphabet strings, and byte_ids holds
  // the ids of <0x00>..<0xFF>.
  bool sentencepiece = false;
  MetaspaceSpec metaspace;
  SpDecoder decoder;
  std::unordered_map<std::string, TokenId> piece_ids;  // model.vocab only (not added tokens)

  // Derived by finish() for the SentencePiece kind: one-character pieces by code point.
  std::array<TokenId, 128> ascii_ids{};  // kDead: not in the vocabulary
  std::unordered_map<std::uint32_t, TokenId> char_ids;  // longer characters, UTF-8 packed (char_key)
  static std::uint32_t char_key(std::string_view c) {  // 2 to 4 bytes, big-endian
    std::uint32_t k = 0;
    for (char b : c) k = (k << 8) | static_cast<unsigned char>(b);
    return k;
  }

  // Derived by finish().
  std::unordered_map<std::string, TokenId> whole_ids;  // raw bytes -> id, with ignore_merges
  std::vector<std::string> bytes;  // id -> raw bytes (" the")
  std::array<TokenId, 256> byte_ids{};
  detail::PairTable merge_table;
  std::uint64_t instance = 0;  // distinguishes tokenizers in the per-thread encode caches

  // Loading (gpt2_files.cpp); errors name the file and the entry or line. The encoder first:
  // vocab.bpe is checked against it.
  void read_encoder_json(const std::string& path);
  void read_vocab_bpe(const std::string& path, const std::string& encoder_path);
  void read_tokenizer_json(const std::string& path);
  void finish();
  void finish_sentencepiece();  // finish() for the SentencePiece kind (tokenizer.cpp)
  // Appends the ids of one pre-token, merging exactly as GPT-2's bpe() does.
  void bpe(std::string_view piece, std::vector<TokenId>& out, BpeScratch& scratch) const;
  // The SentencePiece kind (sp_encode.cpp): the normalised text after the Metaspace
  // pre-tokenizer's replacement and prepend (false: unchanged), then one piece as `tokenizers`'
  // BPE model does it: characters, byte fallback, merges.
  bool metaspace_text(std::string_view text, std::string& out) const;
  void sp_bpe(std::string_view piece, std::vector<TokenId>& out, BpeScratch& scratch) const;
};

}  // namespace structlm::text
