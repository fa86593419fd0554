// Helpers of the training-run tests (trainer_test.cpp, llama_train_test.cpp): a token shard to
// train on and a run's metrics log.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "data/shard.h"

namespace structlm::testing {

// Random tokens with a little structure (a token often repeats its predecessor plus one), so the
// loss has somewhere to go. Returns the shard's path, DIR/NAME.
inline std::string random_shard(const std::string& dir, const std::string& name, std::size_t n, std::uint32_t vocab,
                                std::uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<std::uint32_t> t(n);
  for (std::size_t i = 0; i < n; ++i)
    t[i] = (i > 0 && rng.uniform() < 0.5) ? (t[i - 1] + 1) % vocab : std::uint32_t(rng.below(vocab));
  std::string path = dir + "/" + name;
  data::write_shard(path, t, vocab);
  return path;
}

// The records of RUN_DIR/metrics.jsonl.
inline std::vector<json> metrics(const std::string& run_dir) {
  std::vector<json> out;
  for (const auto& line : read_lines(run_dir + "/metrics.jsonl"))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// The fields of a metrics record that depend only on what was computed (not on wall time).
inline json computed_fields(const json& rec) {
  json out;
  for (const char* k : {"step", "loss", "lr", "grad_norm", "val_loss"})
    if (rec.contains(k)) out[k] = rec[k];
  return out;
}

}  // namespace structlm::testing
