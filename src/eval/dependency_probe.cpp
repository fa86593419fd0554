#include "eval/dependency_probe.h"

#include <algorithm>

#include "eval/mode_guard.h"
#include "text/link_tokens.h"

namespace structlm::eval {

std::vector<int> induced_heads(const torch::Tensor& matrix, int first) {
  auto m = matrix.detach().to(torch::kDouble).contiguous();
  const auto T = m.size(0);
  auto a = m.accessor<double, 2>();
  std::vector<int> heads(T, -1);
  for (std::int64_t i = 0; i < T; ++i) {
    double best = -1;
    for (std::int64_t j = first; j < i; ++j)
      if (a[i][j] > best) best = a[i][j], heads[i] = int(j);
  }
  return heads;
}

namespace {

struct Prepared {
  std::vector<text::TokenId> ids;  // <|endoftext|> then the sentence's tokens
  std::vector<int> partners;       // per sentence token: partner token index (sentence coordinates) or -1
};

}  // namespace

DependencyProbe probe_dependencies(model::GPT& model, const text::Tokenizer& tok,
                                   const std::vector<text::LinkedSentence>& sentences, int batch_size) {
  DependencyProbe out;
  std::vector<Prepared> items;
  for (const auto& s : sentences) {
    if (!s.parsed) continue;
    Prepared p;
    auto ids = tok.encode(s.text);
    if (ids.empty() || std::int64_t(ids.size()) + 1 > model->cfg.block_size) continue;
    p.partners = text::token_partners(s, text::token_spans(tok, ids));
    p.ids.push_back(tok.eot());
    p.ids.insert(p.ids.end(), ids.begin(), ids.end());
    items.push_back(std::move(p));
  }
  out.sentences = items.size();

  EvalGuard guard(model);
  const auto device = model->wte->weight.device();
  std::size_t hits_dep = 0, hits_attn = 0, hits_adjacent = 0;
  double hits_random = 0;
  const bool has_dependency = model->cfg.cstde.attention;
  for (std::size_t start = 0; start < items.size(); start += std::size_t(batch_size)) {
    const std::size_t end = std::min(items.size(), start + std::size_t(batch_size));
    std::size_t T = 0;
    for (std::size_t b = start; b < end; ++b) T = std::max(T, items[b].ids.size());
    // Right-padding with <|endoftext|>: the model is causal, so padding never changes a position
    // before it, and padded positions are never read.
    std::vector<std::int64_t> buf((end - start) * T, tok.eot());
    for (std::size_t b = start; b < end; ++b)
      std::copy(items[b].ids.begin(), items[b].ids.end(), buf.begin() + (b - start) * T);
    auto idx = torch::from_blob(buf.data(), {std::int64_t(end - start), std::int64_t(T)}, torch::kLong).to(device);
    model::ForwardTrace trace;
    auto logp_t = torch::log_softmax(model->forward(idx, nullptr, &trace).to(torch::kDouble), -1).cpu().contiguous();
    auto logp = logp_t.accessor<double, 3>();
    auto attention = trace.attention.back().cpu();
    torch::Tensor dependency = has_dependency ? trace.dependency.back().cpu() : torch::Tensor();
    for (std::size_t b = start; b < end; ++b) {
      const auto& it = items[b];
      const auto row = std::int64_t(b - start);
      const auto n = std::int64_t(it.ids.size());
      // Position 0 is <|endoftext|>; sentence token t sits at position t + 1 and is predicted
      // from position t. No link points at position 0, so heads are sought from position 1 on.
      auto attn_heads = induced_heads(attention[row].slice(0, 0, n).slice(1, 0, n), 1);
      std::vector<int> dep_heads;
      if (has_dependency) dep_heads = induced_heads(dependency[row].slice(0, 0, n).slice(1, 0, n), 1);
      for (std::size_t t = 0; t < it.partners.size(); ++t) {
        const int p = it.partners[t];
        if (p < 0) continue;
        const int pos = int(t) + 1, partner_pos = p + 1;
        auto& bucket = out.loss_by_distance[int(t) - p];
        bucket.loss_sum += -logp[row][pos - 1][std::int64_t(it.ids[pos])];
        bucket.tokens += 1;
        ++out.tokens_with_partner;
        // Heads are sought in [1, pos), so a partner (at 1 .. pos - 1) is always reachable.
        const bool attn_hit = attn_heads[pos] == partner_pos;
        const bool dep_hit = has_dependency && dep_heads[pos] == partner_pos;
        const bool adjacent_hit = pos - 1 == partner_pos;
        const double random_hit = 1.0 / double(pos - 1);
        bucket.hits_attention += attn_hit;
        bucket.hits_dependency += dep_hit;
        bucket.hits_adjacent += adjacent_hit;
        bucket.hits_random += random_hit;
        hits_attn += attn_hit;
        hits_dep += dep_hit;
        hits_adjacent += adjacent_hit;
        hits_random += random_hit;
      }
    }
  }
  if (out.tokens_with_partner) {
    out.uas_attention = double(hits_attn) / double(out.tokens_with_partner);
    out.uas_adjacent = double(hits_adjacent) / double(out.tokens_with_partner);
    out.uas_random = hits_random / double(out.tokens_with_partner);
    if (has_dependency) out.uas_dependency = double(hits_dep) / double(out.tokens_with_partner);
  }
  return out;
}

}  // namespace structlm::eval
