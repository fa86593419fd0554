#include "eval/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "eval/mode_guard.h"

namespace structlm::eval {

std::vector<double> next_token_distribution(const std::vector<float>& logits_in, const SampleOptions& opt) {
  std::size_t V = logits_in.size();
  if (opt.vocab_limit > 0 && std::size_t(opt.vocab_limit) < V) V = std::size_t(opt.vocab_limit);
  if (V == 0) throw Error("sample: no logits to sample from");
  const float* logits = logits_in.data();
  std::vector<double> dist(logits_in.size(), 0.0);

  if (opt.temperature <= 0 || opt.top_k == 1) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < V; ++i)
      if (logits[i] > logits[best]) best = i;  // ties go to the lower id
    dist[best] = 1.0;
    return dist;
  }

  // Candidate ids, most likely first (ties by id), but only sorted when a filter needs the order.
  std::vector<std::size_t> order(V);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::size_t keep = V;
  const bool need_order = (opt.top_k > 0 && std::size_t(opt.top_k) < V) || opt.top_p < 1.0;
  if (need_order) {
    auto more_likely = [&](std::size_t a, std::size_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
    if (opt.top_k > 0 && std::size_t(opt.top_k) < V) {
      keep = std::size_t(opt.top_k);
      std::partial_sort(order.begin(), order.begin() + keep, order.end(), more_likely);
    } else {
      std::sort(order.begin(), order.end(), more_likely);
    }
  }

  // Softmax of logits / temperature over the kept ids, in double, shifted by the maximum.
  double max_logit = -INFINITY;
  for (std::size_t i = 0; i < keep; ++i) max_logit = std::max(max_logit, double(logits[order[i]]));
  std::vector<double> p(keep);
  double sum = 0;
  for (std::size_t i = 0; i < keep; ++i) sum += p[i] = std::exp((double(logits[order[i]]) - max_logit) / opt.temperature);

  if (opt.top_p < 1.0) {
    // Nucleus: the shortest prefix of the sorted ids whose probability reaches top_p (at least one).
    double cum = 0;
    std::size_t n = 0;
    while (n < keep) {
      cum += p[n] / sum;
      ++n;
      if (cum >= opt.top_p) break;
    }
    keep = n;
    sum = 0;
    for (std::size_t i = 0; i < keep; ++i) sum += p[i];
  }
  for (std::size_t i = 0; i < keep; ++i) dist[order[i]] = p[i] / sum;
  return dist;
}

namespace {

// Inverse-CDF draw; rounding can leave u just above the total, so fall back to the last kept id.
std::size_t draw(const std::vector<double>& dist, double u) {
  double cum = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < dist.size(); ++i) {
    if (dist[i] <= 0) continue;
    cum += dist[i];
    last = i;
    if (u < cum) return i;
  }
  return last;
}

// Runs `ids` through the model on top of `cache` and returns the last position's logits.
std::vector<float> step_logits(model::CausalLM& model, const std::vector<text::TokenId>& ids, std::size_t from,
                               model::KVCache& cache, torch::Device device) {
  std::vector<std::int64_t> v(ids.begin() + std::ptrdiff_t(from), ids.end());
  auto idx = torch::tensor(v, torch::kLong).view({1, -1}).to(device);
  auto last = model.next_token_logits(idx, &cache).select(1, -1).squeeze(0).to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(last.data_ptr<float>(), last.data_ptr<float>() + last.numel());
}

}  // namespace

std::vector<text::TokenId> sample_tokens(model::CausalLM& model, const std::vector<text::TokenId>& prompt,
                                         const SampleOptions& opt) {
  if (prompt.empty()) throw Error("sample: the prompt must hold at least one token");
  const std::int64_t V = model.vocabulary_rows();
  const std::size_t ctx = std::size_t(model.context_length());
  for (auto id : prompt)
    if (std::int64_t(id) >= V)
      throw Error("sample: prompt token " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
  std::vector<text::TokenId> out;
  if (opt.max_new_tokens <= 0) return out;

  EvalGuard guard(model);
  const torch::Device device = model.module().parameters().front().device();
  SplitMix64 rng(opt.seed);
  std::vector<text::TokenId> seq = prompt;
  model::KVCache cache;
  std::vector<float> logits = step_logits(model, seq, seq.size() > ctx ? seq.size() - ctx : 0, cache, device);

  for (int i = 0; i < opt.max_new_tokens; ++i) {
    const double u = rng.uniform();  // drawn every step, so greedy and sampled runs stay aligned
    const auto id = text::TokenId(draw(next_token_distribution(logits, opt), u));
    if (opt.stop_at_eot && opt.eot_id >= 0 && std::int64_t(id) == opt.eot_id) break;
    out.push_back(id);
    seq.push_back(id);
    if (i + 1 == opt.max_new_tokens) break;
    if (cache.length() + 1 <= std::int64_t(ctx)) {
      logits = step_logits(model, seq, seq.size() - 1, cache, device);
    } else {
      // Full: positions are learned and absolute, so the cache cannot slide; rebuild it from the
      // most recent block_size - 1 tokens, which leaves room for the next one.
      cache.clear();
      const std::size_t keep = ctx > 1 ? ctx - 1 : 1;
      logits = step_logits(model, seq, seq.size() - keep, cache, device);
    }
  }
  return out;
}

std::string sample_text(model::CausalLM& model, const text::Tokenizer& tok, const std::string& prompt,
                        const SampleOptions& opt) {
  // An empty prompt starts from <|endoftext|>, as GPT-2's unconditional samples do.
  std::vector<text::TokenId> ids = prompt.empty() ? std::vector<text::TokenId>{tok.eot()} : tok.encode(prompt);
  SampleOptions o = opt;
  if (o.eot_id < 0) o.eot_id = std::int64_t(tok.eot());
  if (o.vocab_limit <= 0) o.vocab_limit = std::int64_t(tok.vocab_size());
  return tok.decode(sample_tokens(model, ids, o));
}

}  // namespace structlm::eval
