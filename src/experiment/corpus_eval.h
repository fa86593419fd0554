// Evaluates one model on a held-out split of several corpora: loss, perplexity, bits per byte,
// and xz -9's bits per byte on the same text as the floor a language model must beat.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "eval/evaluate.h"
#include "model/gpt.h"
#include "workspace/workspace.h"

namespace structlm::experiment {

struct CorpusEvalOptions {
  std::vector<std::string> corpora;
  std::string split = "test", tokenizer;
  std::size_t max_tokens = 0;  // per corpus; 0 = all
  std::int64_t context = 0;    // scoring window; 0 = the model's context length
  bool xz = true;
  bool documents = false;  // keep each document's summed loss (CorpusScore::documents)
};

// One corpus's held-out split scored by one model.
struct CorpusScore {
  std::string corpus, split;
  std::size_t tokens = 0, bytes = 0;
  double loss = 0, perplexity = 0, bits_per_byte = 0;
  std::optional<double> xz_bits_per_byte;  // xz -9 on the same text, when asked for
  // Per document, in stream order, when asked for (CorpusEvalOptions::documents): the unit a
  // bootstrap resamples. JSON: "documents": {"nats": [...], "tokens": [...]}; absent otherwise.
  std::vector<eval::DocumentScore> documents;
  json to_json() const;
  static CorpusScore from_json(const json& j, const std::string& path);
};

// One score per corpus, in order; prints a table as it goes.
// Any architecture (model/causal_lm.h).
std::vector<CorpusScore> evaluate_corpora(model::CausalLM& model, const workspace::Workspace& ws,
                                          const CorpusEvalOptions& opt);
inline std::vector<CorpusScore> evaluate_corpora(model::GPT& model, const workspace::Workspace& ws,
                                                 const CorpusEvalOptions& opt) {
  return evaluate_corpora(*model, ws, opt);
}
// {"corpora": [score...]}: the eval.json that `eval --json`, the demo and the experiments write.
json corpus_scores_json(const std::vector<CorpusScore>& scores);

}  // namespace structlm::experiment
