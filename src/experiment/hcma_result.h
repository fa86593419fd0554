// What the HCMA suite measures on one checkpoint, as plain data: the suite fills it, the summary,
// the experiment's raw logs and `eval --suite hcma` read it, and it crosses files only through
// to_json / from_json (the result.json format of docs/REPORT.md, unchanged).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "eval/attacks.h"
#include "eval/geometry.h"
#include "eval/longrange.h"
#include "eval/recall.h"

namespace structlm::experiment {

struct RecallRecord {           // one (frequency bucket, k)
  std::string bucket;           // "<10", "10-99", ...
  std::int64_t min_count = 0;   // the bucket's lowest training count
  int k = 1;
  double recall = 0, loss = 0;  // NaN (null in JSON) when the bucket has no targets
  std::int64_t targets = 0;
};

// The rank of every rare target the recall scored (training count below `below`), by stream
// position: two variants measured with one seed scored the same targets, so their hits pair up
// (McNemar's test, a paired bootstrap; experiment/hcma_paired.h). Empty in older results.
struct RareRanks {
  std::int64_t below = 0;
  std::vector<eval::TargetRank> targets;
};

struct InferenceCost {
  double tokens_per_s = 0, parameter_mib = 0, peak_rss_mib = 0;
};

struct HcmaSuiteResult {
  std::string corpus, split, long_corpus;
  std::uint64_t seed = 0;
  std::string precision = "fp32";  // of the model's forward passes: fp32 or bf16
  std::vector<RecallRecord> recall;
  // The same targets bucketed by the training count of their input token (the one before them):
  // the loss after a rare input token is where re-aligned input rows can act. Empty in older results.
  std::vector<RecallRecord> after_input;
  RareRanks rare_ranks;
  std::vector<eval::PositionLoss> loss_by_position;  // loss NaN (null) for an empty bucket
  std::vector<eval::AttackResult> attacks;
  std::vector<eval::AgreementResult> agreement;
  std::vector<eval::KeyValueResult> key_value;
  eval::ContextStability stability;
  double isotropy = 0, isoscore = 0;
  eval::NeighbourRetrieval wordnet;
  std::optional<InferenceCost> inference;  // absent when the suite ran without timing
  double wall_s = 0;

  json to_json() const;
  // Missing fields keep their defaults; wrong types are errors naming `path`.
  static HcmaSuiteResult from_json(const json& j, const std::string& path);
};


}  // namespace structlm::experiment
