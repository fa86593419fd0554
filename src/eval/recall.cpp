#include "eval/recall.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/rng.h"
#include "eval/mode_guard.h"

namespace structlm::eval {

namespace F = torch::nn::functional;

namespace detail {

torch::Tensor read_windows(const data::TokenStream& stream, std::size_t first, std::size_t count, std::int64_t T,
                           std::int64_t V, const std::string& where) {
  auto out = torch::empty({std::int64_t(count), T + 1}, torch::kLong);
  std::int64_t* p = out.data_ptr<std::int64_t>();
  for (std::size_t w = 0; w < count; ++w) stream.read((first + w) * std::size_t(T), std::size_t(T) + 1, p + w * (T + 1));
  for (std::int64_t i = 0; i < out.numel(); ++i)
    if (p[i] < 0 || p[i] >= V)
      fail(where, "token id " + std::to_string(p[i]) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
  return out;
}

torch::Tensor widen(const torch::Tensor& logits) {
  return logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
}

}  // namespace detail

std::vector<FrequencyBucket> default_frequency_buckets() {
  return {{"<10", 0, 9}, {"10-99", 10, 99}, {"100-999", 100, 999}, {">=1000", 1000, -1}};
}

std::vector<std::int64_t> count_tokens(const data::TokenStream& stream, std::int64_t vocab_size) {
  const std::string where = "token counts";
  if (vocab_size <= 0) fail(where, "vocabulary size must be > 0, got " + std::to_string(vocab_size));
  std::vector<std::int64_t> counts(std::size_t(vocab_size), 0);
  // Chunks: the stream is memory-mapped and may be far larger than memory.
  std::vector<std::int64_t> buf(1 << 16);
  for (std::size_t start = 0; start < stream.size(); start += buf.size()) {
    const std::size_t n = std::min(buf.size(), stream.size() - start);
    stream.read(start, n, buf.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] < 0 || buf[i] >= vocab_size)
        fail(where, "token id " + std::to_string(buf[i]) + " at position " + std::to_string(start + i) +
                        " is outside the vocabulary (" + std::to_string(vocab_size) + ")");
      ++counts[std::size_t(buf[i])];
    }
  }
  return counts;
}

std::vector<BucketScore> score_by_frequency(model::CausalLM& model, const data::TokenStream& stream,
                                            const std::vector<std::int64_t>& train_counts,
                                            const std::vector<int>& ks,
                                            const std::vector<FrequencyBucket>& buckets,
                                            std::size_t max_tokens, int batch_size) {
  FrequencyScoring how;
  how.max_tokens = max_tokens;
  how.batch_size = batch_size;
  return score_by_frequency(model, stream, train_counts, ks, buckets, how);
}

std::vector<BucketScore> score_by_frequency(model::CausalLM& model, const data::TokenStream& stream,
                                            const std::vector<std::int64_t>& train_counts,
                                            const std::vector<int>& ks,
                                            const std::vector<FrequencyBucket>& buckets,
                                            const FrequencyScoring& how, std::vector<TargetRank>* kept,
                                            std::vector<BucketScore>* by_input) {
  const std::size_t max_tokens = how.max_tokens;
  const int batch_size = how.batch_size;
  const std::string where = "frequency scoring";
  const std::size_t N = stream.size();
  if (N < 2) fail(where, "has " + std::to_string(N) + " tokens; scoring needs at least 2");
  if (batch_size <= 0) fail(where, "batch size must be > 0");
  if (ks.empty()) fail(where, "needs at least one k for recall@k");
  for (int k : ks) check(k >= 1, where, "recall@k needs k >= 1, got " + std::to_string(k));
  if (buckets.empty()) fail(where, "needs at least one frequency bucket");
  for (const auto& b : buckets)
    check(b.min_count >= 0 && (b.max_count < 0 || b.max_count >= b.min_count), where,
          "bucket '" + b.label + "' has an empty or negative count range");
  std::size_t n_targets = N - 1;
  if (max_tokens > 0 && max_tokens < n_targets) n_targets = max_tokens;

  EvalGuard guard(model);
  const torch::Device device = model.module().parameters().front().device();
  const std::int64_t T = model.context_length(), V = model.vocabulary_rows();

  std::vector<BucketScore> out(buckets.size());
  std::vector<double> nats(buckets.size(), 0.0);
  std::vector<std::vector<std::int64_t>> hits(buckets.size(), std::vector<std::int64_t>(ks.size(), 0));
  for (std::size_t b = 0; b < buckets.size(); ++b) out[b].bucket = buckets[b];
  // The same tallies with targets bucketed by their input token's count.
  std::vector<BucketScore> in(buckets.size());
  std::vector<double> in_nats(buckets.size(), 0.0);
  std::vector<std::vector<std::int64_t>> in_hits(buckets.size(), std::vector<std::int64_t>(ks.size(), 0));
  for (std::size_t b = 0; b < buckets.size(); ++b) in[b].bucket = buckets[b];
  auto in_bucket = [&](std::size_t b, std::int64_t c) {
    return c >= buckets[b].min_count && (buckets[b].max_count < 0 || c <= buckets[b].max_count);
  };

  // Scores one batch of windows: rows x (len + 1) tokens in `buf`, row r starting at stream
  // position starts[r].
  auto score = [&](std::int64_t rows, std::int64_t len, const std::vector<std::int64_t>& buf,
                   const std::vector<std::int64_t>& starts) {
    for (std::int64_t id : buf) {
      if (id < 0 || id >= V) fail(where, "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
      if (std::size_t(id) >= train_counts.size())
        fail(where, "token id " + std::to_string(id) + " has no training count (the counts cover " +
                        std::to_string(train_counts.size()) + " ids)");
    }
    auto batch = torch::from_blob(const_cast<std::int64_t*>(buf.data()), {rows, len + 1}, torch::kLong)
                     .to(device, false, /*copy=*/true);
    auto targets = batch.slice(1, 1, len + 1).reshape({-1});
    auto logits = detail::widen(model.next_token_logits(batch.slice(1, 0, len), nullptr)).reshape({-1, V});
    auto loss = F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kNone))
                    .to(torch::kCPU, torch::kDouble).contiguous();
    // Rank = other ids scoring at least as high as the target (the target itself is the -1).
    auto rank = ((logits >= logits.gather(1, targets.unsqueeze(1))).sum(1) - 1).to(torch::kCPU).contiguous();
    auto tgt = targets.to(torch::kCPU).contiguous();
    auto inputs = batch.slice(1, 0, len).reshape({-1}).to(torch::kCPU).contiguous();
    const std::int64_t* inp = inputs.data_ptr<std::int64_t>();
    const double* l = loss.data_ptr<double>();
    const std::int64_t* r = rank.data_ptr<std::int64_t>();
    const std::int64_t* t = tgt.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < tgt.numel(); ++i) {
      const std::int64_t c = train_counts[std::size_t(t[i])];
      if (kept && c < how.keep_ranks_below) kept->push_back({starts[std::size_t(i / len)] + i % len + 1, r[i]});
      for (std::size_t b = 0; b < buckets.size(); ++b) {
        if (c < buckets[b].min_count || (buckets[b].max_count >= 0 && c > buckets[b].max_count)) continue;
        ++out[b].targets;
        nats[b] += l[i];
        for (std::size_t k = 0; k < ks.size(); ++k) hits[b][k] += r[i] < ks[k];
      }
      if (!by_input) continue;
      const std::int64_t ci = train_counts[std::size_t(inp[i])];
      for (std::size_t b = 0; b < buckets.size(); ++b) {
        if (!in_bucket(b, ci)) continue;
        ++in[b].targets;
        in_nats[b] += l[i];
        for (std::size_t k = 0; k < ks.size(); ++k) in_hits[b][k] += r[i] < ks[k];
      }
    }
  };

  if (how.draw_seed == 0) {
    // The windows of evaluate(): window w covers tokens [w*T, w*T + len + 1), the last one ragged.
    std::int64_t next_start = 0;
    data::for_each_window_batch(stream, n_targets, T, batch_size, 1, [&](std::int64_t rows, std::int64_t len,
                                                                        const std::vector<std::int64_t>& buf) {
      std::vector<std::int64_t> starts;
      for (std::int64_t r = 0; r < rows; ++r, next_start += T) starts.push_back(next_start);
      score(rows, len, buf, starts);
    });
  } else {
    // Full windows w (tokens [w*T, w*T + T + 1)) drawn by the seed; the text's last partial
    // window is never drawn.
    const std::size_t windows = (N - 1) / std::size_t(T);
    if (windows == 0)
      fail(where, "has " + std::to_string(N) + " tokens; a drawn window of the model's context needs " + std::to_string(T + 1));
    std::vector<std::int64_t> order(windows);
    for (std::size_t w = 0; w < windows; ++w) order[w] = std::int64_t(w);
    SplitMix64 rng(how.draw_seed);
    for (std::size_t i = windows - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    std::size_t take = std::min(windows, (n_targets + std::size_t(T) - 1) / std::size_t(T));
    if (max_tokens == 0) take = windows;
    order.resize(take);
    std::sort(order.begin(), order.end());
    for (std::size_t first = 0; first < take; first += std::size_t(batch_size)) {
      const std::size_t rows = std::min(take - first, std::size_t(batch_size));
      std::vector<std::int64_t> buf(rows * std::size_t(T + 1)), starts;
      for (std::size_t r = 0; r < rows; ++r) {
        starts.push_back(order[first + r] * T);
        stream.read(std::size_t(starts.back()), std::size_t(T) + 1, buf.data() + r * std::size_t(T + 1));
      }
      score(std::int64_t(rows), T, buf, starts);
    }
  }

  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const double n = double(out[b].targets);
    out[b].loss = out[b].targets ? nats[b] / n : std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < ks.size(); ++k) out[b].recall.push_back(out[b].targets ? double(hits[b][k]) / n : 0.0);
    if (!by_input) continue;
    const double ni = double(in[b].targets);
    in[b].loss = in[b].targets ? in_nats[b] / ni : std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < ks.size(); ++k) in[b].recall.push_back(in[b].targets ? double(in_hits[b][k]) / ni : 0.0);
  }
  if (by_input) *by_input = std::move(in);
  return out;
}

std::vector<PositionLoss> loss_by_position(model::CausalLM& model, const data::TokenStream& stream,
                                           const std::vector<std::int64_t>& bucket_starts,
                                           std::size_t max_windows, int batch_size) {
  const std::string where = "loss by position";
  const std::int64_t T = model.context_length(), V = model.vocabulary_rows();
  const std::size_t N = stream.size();
  if (batch_size <= 0) fail(where, "batch size must be > 0");
  std::size_t n_windows = N > 0 ? (N - 1) / std::size_t(T) : 0;
  if (n_windows == 0)
    fail(where, "has " + std::to_string(N) + " tokens; a full window of the model's context needs " + std::to_string(T + 1));
  if (max_windows > 0) n_windows = std::min(n_windows, max_windows);
  if (bucket_starts.empty() || bucket_starts[0] != 0) fail(where, "position buckets must start at 0");
  for (std::size_t i = 0; i < bucket_starts.size(); ++i) {
    check(bucket_starts[i] < T, where, "position bucket " + std::to_string(bucket_starts[i]) + " is not below the context (" + std::to_string(T) + ")");
    check(i == 0 || bucket_starts[i] > bucket_starts[i - 1], where, "position buckets must be strictly ascending");
  }

  EvalGuard guard(model);
  const torch::Device device = model.module().parameters().front().device();
  auto per_position = torch::zeros({T}, torch::kDouble);  // summed over windows
  for (std::size_t w = 0; w < n_windows; w += std::size_t(batch_size)) {
    const std::size_t rows = std::min<std::size_t>(std::size_t(batch_size), n_windows - w);
    auto batch = detail::read_windows(stream, w, rows, T, V, where).to(device);
    auto logits = detail::widen(model.next_token_logits(batch.slice(1, 0, T), nullptr)).reshape({-1, V});
    auto nll = F::cross_entropy(logits, batch.slice(1, 1, T + 1).reshape({-1}),
                                F::CrossEntropyFuncOptions().reduction(torch::kNone));
    per_position += nll.to(torch::kCPU, torch::kDouble).view({std::int64_t(rows), T}).sum(0);
  }

  std::vector<PositionLoss> out;
  const double* s = per_position.data_ptr<double>();
  for (std::size_t i = 0; i < bucket_starts.size(); ++i) {
    const std::int64_t lo = bucket_starts[i], hi = i + 1 < bucket_starts.size() ? bucket_starts[i + 1] : T;
    PositionLoss p;
    p.position = lo;
    p.tokens = std::int64_t(n_windows) * (hi - lo);
    double sum = 0;
    for (std::int64_t t = lo; t < hi; ++t) sum += s[t];
    p.loss = sum / double(p.tokens);
    out.push_back(p);
  }
  return out;
}

std::vector<std::int64_t> log2_position_buckets(std::int64_t block_size) {
  if (block_size <= 0) fail("position buckets", "block size must be > 0, got " + std::to_string(block_size));
  std::vector<std::int64_t> out{0};
  for (std::int64_t p = 1; p < block_size; p *= 2) out.push_back(p);
  return out;
}

}  // namespace structlm::eval
