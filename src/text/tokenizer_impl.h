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
  // Appends the ids of one pre-token, merging exactly as GPT-2's bpe() does.
  void bpe(std::string_view piece, std::vector<TokenId>& out, BpeScratch& scratch) const;
};

}  // namespace structlm::text
