// Rare-token retrieval and loss by position (docs/METHODS.md §2d): next-token recall@k of test
// targets bucketed by how often the target occurs in the model's training (or calibration) data,
// the mean loss of each bucket (so "frequent-token perplexity" is a bucket's exp(loss)), and the
// loss at each position of long windows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/gpt.h"

namespace structlm::eval {

// Targets t with min_count <= train_counts[t] <= max_count (max_count < 0: no upper bound).
struct FrequencyBucket {
  std::string label;  // "<10", "10-99", "100-999", ">=1000"
  std::int64_t min_count = 0, max_count = -1;
};
std::vector<FrequencyBucket> default_frequency_buckets();  // <10, 10-99, 100-999, >=1000

// Occurrences of each id in `stream` (size vocab_size; ids >= vocab_size are an error).
std::vector<std::int64_t> count_tokens(const data::TokenStream& stream, std::int64_t vocab_size);

struct BucketScore {
  FrequencyBucket bucket;
  std::int64_t targets = 0;
  double loss = 0;             // mean nats per target of this bucket (NaN when targets == 0)
  std::vector<double> recall;  // recall[i]: share of targets within the top ks[i] logits
};
// Scores every target of the first `max_tokens` tokens (0: all) in non-overlapping windows of
// the model's context, as evaluate() does. Ties in the logits count against the target: its rank
// is the number of other ids whose logit is >= its own, and it is within the top k when rank < k
// (so a model with all logits equal has recall@k = 0 for every k < V). A target is counted in
// every bucket whose range holds its count; ids with no entry in train_counts are an error.
std::vector<BucketScore> score_by_frequency(model::CausalLM& model, const data::TokenStream& stream,
                                            const std::vector<std::int64_t>& train_counts,
                                            const std::vector<int>& ks,
                                            const std::vector<FrequencyBucket>& buckets,
                                            std::size_t max_tokens = 0, int batch_size = 8);
inline std::vector<BucketScore> score_by_frequency(model::GPT& model, const data::TokenStream& stream,
                                                   const std::vector<std::int64_t>& train_counts, const std::vector<int>& ks,
                                                   const std::vector<FrequencyBucket>& buckets, std::size_t max_tokens = 0,
                                                   int batch_size = 8) {
  return score_by_frequency(*model, stream, train_counts, ks, buckets, max_tokens, batch_size);
}

// One scored target: its position in the stream and its rank (as above: within the top k when
// rank < k). Two models scored on the same draw have the same positions, so their hits pair up.
struct TargetRank {
  std::int64_t position = 0;
  std::int64_t rank = 0;
};
struct FrequencyScoring {
  std::size_t max_tokens = 0;  // targets to score (0: every target of the stream)
  int batch_size = 8;
  // 0: the first windows of the stream in order, as evaluate() reads them. Otherwise full windows
  // of the context drawn without replacement by this seed (SplitMix64 Fisher-Yates, then scored
  // in stream order) until max_tokens targets: each seed measures a different sample of the text
  // and every model scored with one seed the same targets, which paired tests need.
  std::uint64_t draw_seed = 0;
  // Keep the TargetRank of every target whose training count is below this (0: none).
  std::int64_t keep_ranks_below = 0;
};
std::vector<BucketScore> score_by_frequency(model::CausalLM& model, const data::TokenStream& stream,
                                            const std::vector<std::int64_t>& train_counts,
                                            const std::vector<int>& ks,
                                            const std::vector<FrequencyBucket>& buckets,
                                            const FrequencyScoring& how, std::vector<TargetRank>* kept = nullptr,
                                            std::vector<BucketScore>* by_input = nullptr);
inline std::vector<BucketScore> score_by_frequency(model::GPT& model, const data::TokenStream& stream,
                                                   const std::vector<std::int64_t>& train_counts, const std::vector<int>& ks,
                                                   const std::vector<FrequencyBucket>& buckets, const FrequencyScoring& how,
                                                   std::vector<TargetRank>* kept = nullptr,
                                                   std::vector<BucketScore>* by_input = nullptr) {
  return score_by_frequency(*model, stream, train_counts, ks, buckets, how, kept, by_input);
}
// by_input (when given): the same scores, each target bucketed by the training count of the
// token before it (the input at its position) instead of its own: the loss after a rare input
// token is where a change of the input table can act on the output.

struct PositionLoss {
  std::int64_t position = 0;  // bucket start (0-based position of the target in its window)
  double loss = 0;            // mean nats per token
  std::int64_t tokens = 0;
};
// Full windows of block_size + 1 tokens (up to max_windows of them, 0: all), the loss of the
// target at each position, averaged within buckets starting at `bucket_starts` (ascending, first 0).
std::vector<PositionLoss> loss_by_position(model::CausalLM& model, const data::TokenStream& stream,
                                           const std::vector<std::int64_t>& bucket_starts,
                                           std::size_t max_windows = 0, int batch_size = 8);
inline std::vector<PositionLoss> loss_by_position(model::GPT& model, const data::TokenStream& stream,
                                                  const std::vector<std::int64_t>& bucket_starts, std::size_t max_windows = 0,
                                                  int batch_size = 8) {
  return loss_by_position(*model, stream, bucket_starts, max_windows, batch_size);
}
// 0, 1, 2, 4, 8, ... below block_size.
std::vector<std::int64_t> log2_position_buckets(std::int64_t block_size);

namespace detail {
// Windows first .. first+count-1 of T+1 tokens, window w starting at token w*T (so consecutive
// windows share one token, as in evaluate()), as a CPU int64 tensor [count, T+1]. Ids outside the
// model's vocabulary V are an error naming `where`. The caller checks the stream is long enough.
torch::Tensor read_windows(const data::TokenStream& stream, std::size_t first, std::size_t count, std::int64_t T,
                           std::int64_t V, const std::string& where);
// Logits as scores are computed: double stays double, anything else becomes float (bf16/f16
// logits are too coarse for ranks and losses).
torch::Tensor widen(const torch::Tensor& logits);
}  // namespace detail

}  // namespace structlm::eval
