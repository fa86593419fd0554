// Evaluates one model on the held-out split of several corpora: loss, perplexity, bits per byte,
// and xz -9's bits per byte on the same text as the floor a language model must beat.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "model/gpt.h"

namespace structlm::cli {

struct CorpusEvalOptions {
  std::vector<std::string> corpora;
  std::string data_dir = "data", split = "test", tokenizer;
  std::size_t max_tokens = 0;  // per corpus; 0 = all
  bool xz = true;
};

// Returns {"corpora": [{"corpus", "split", "tokens", "bytes", "loss", "perplexity",
// "bits_per_byte", "xz_bits_per_byte"}...]} and prints a table.
json evaluate_corpora(model::GPT& model, const CorpusEvalOptions& opt);

}  // namespace structlm::cli
