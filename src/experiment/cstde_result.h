// Everything `experiment cstde` measures on one trained run, as plain data: measured once,
// tabulated from the typed record, and crossing files only through to_json / from_json (the
// runs/<variant>-seed<N>/result.json format, unchanged).
#pragma once
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "experiment/corpus_eval.h"
#include "report/learning_curve.h"

namespace structlm::experiment {

struct DistanceBucket {  // tokens whose link partner is `distance`.. tokens to the left
  int distance = 0;
  double loss = 0;  // mean nats
  std::size_t tokens = 0;
  // UAS over this bucket's tokens: the attention heads, the previous-token and random-head
  // baselines (NaN in results written before they were measured), and D where the model has it.
  double uas_attention = NAN, uas_adjacent = NAN, uas_random = NAN;
  std::optional<double> uas_dependency;
};

struct GenerationResult {  // one fixed decoder over the prompts x sample seeds
  double distinct1 = 0, distinct2 = 0, distinct3 = 0, mtld = 0, seq_rep4 = 0;  // NaN: undefined
  std::size_t texts = 0;
  std::vector<int> sentence_lengths;  // complete sentences of prompt + continuation
  std::vector<std::string> samples;
};

struct CstdeRunResult {
  std::string variant;
  std::int64_t seed = 0, params = 0;
  double step_ms = 0, peak_rss_mib = 0, train_wall_s = 0;
  std::vector<CorpusScore> eval;  // held-out perplexity and bits/byte per corpus
  std::size_t sentences_probed = 0, tokens_with_partner = 0;
  double uas_attention = 0;
  std::optional<double> uas_dependency;  // only models with dependency attention have D
  // The trivial baselines beside them (eval/dependency_probe.h): the previous token as head, and
  // a uniformly random earlier token (expected). Absent from results written before.
  std::optional<double> uas_adjacent, uas_random;
  // How much the trained model uses its prior: the mean |beta_h| over layers and heads (the
  // log-prior's weight on the attention logits, 0 at the start), and the mean carry gate gamma_l
  // over the layers that carry. Only models with dependency attention (and carry) have them.
  std::optional<double> prior_weight, carry_gate;
  std::vector<DistanceBucket> loss_by_distance;
  GenerationResult generation;
  // The run's validation curve over training tokens (metrics.jsonl's val_loss lines; log-spaced
  // with train.eval_log_points): the token multiplier's input. Empty in results written before.
  std::vector<report::CurvePoint> curve;

  json to_json() const;
  static CstdeRunResult from_json(const json& j, const std::string& path);  // errors name `path`
};

}  // namespace structlm::experiment
