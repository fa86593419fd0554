// Sampling with a KV cache: the prompt is run once, then each new token costs one position.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/gpt.h"
#include "text/tokenizer.h"

namespace structlm::eval {

struct SampleOptions {
  int max_new_tokens = 100;
  double temperature = 1.0;  // 0: greedy
  int top_k = 0;             // 0: off
  double top_p = 1.0;        // 1: off (nucleus)
  std::uint64_t seed = 0;
  bool stop_at_eot = true;
};

// Token ids in, token ids out (prompt excluded). When the context fills, the oldest positions are
// dropped and the cache rebuilt from the last block_size - 1 tokens.
std::vector<text::TokenId> sample_tokens(model::GPT& model, const std::vector<text::TokenId>& prompt,
                                         const SampleOptions& opt);
std::string sample_text(model::GPT& model, const text::Tokenizer& tok, const std::string& prompt,
                        const SampleOptions& opt);

}  // namespace structlm::eval
