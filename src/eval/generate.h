// Sampling with a KV cache: the prompt is run once, then each new token costs one position.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/causal_lm.h"
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
  std::int64_t eot_id = -1;       // the token stop_at_eot stops at (< 0: none; sample_text: tok.eot())
  std::int64_t vocab_limit = 0;   // > 0: only ids below it are drawn (sample_text: the tokenizer's
                                  // size, so a model with a padded vocabulary never emits unknown ids)
};

// The distribution the next token is drawn from, given the last position's logits: temperature,
// then top-k, then top-p (the smallest set of most likely tokens whose mass reaches top_p). Zero
// outside the kept set, sums to 1. Greedy (temperature 0 or top_k 1) puts all mass on the first
// maximum.
std::vector<double> next_token_distribution(const std::vector<float>& logits, const SampleOptions& opt);

// Token ids in, token ids out (prompt excluded; a stopping <|endoftext|> is not included). The
// draws come from a SplitMix64 stream seeded with opt.seed: torch's global generator is untouched.
// A prompt longer than the context keeps its last block_size tokens. When the context fills, the
// oldest positions are dropped and the cache rebuilt from the last block_size - 1 tokens (learned
// positions cannot be shifted; rotary ones are recomputed the same way), leaving room for one more.
// Any architecture (model/causal_lm.h); the GPT overloads pass the module.
std::vector<text::TokenId> sample_tokens(model::CausalLM& model, const std::vector<text::TokenId>& prompt,
                                         const SampleOptions& opt);
std::string sample_text(model::CausalLM& model, const text::Tokenizer& tok, const std::string& prompt,
                        const SampleOptions& opt);
inline std::vector<text::TokenId> sample_tokens(model::GPT& model, const std::vector<text::TokenId>& prompt,
                                                const SampleOptions& opt) {
  return sample_tokens(*model, prompt, opt);
}
inline std::string sample_text(model::GPT& model, const text::Tokenizer& tok, const std::string& prompt,
                               const SampleOptions& opt) {
  return sample_text(*model, tok, prompt, opt);
}

}  // namespace structlm::eval
