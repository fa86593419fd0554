#include "model/attention_blocks.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

namespace structlm::model {

namespace {

constexpr std::int64_t kUnset = -1;
std::atomic<std::int64_t> g_block_override{kUnset};

std::int64_t block_from_environment() {  // kUnset when the variable is not set
  static const std::int64_t value = [] {
    const char* s = std::getenv("STRUCTLM_ATTENTION_BLOCK");
    if (!s || !*s) return kUnset;
    char* end = nullptr;
    const long long n = std::strtoll(s, &end, 10);
    TORCH_CHECK(end && *end == '\0' && n >= 0, "STRUCTLM_ATTENTION_BLOCK: expected a row count >= 0 (0: off), got '", s,
                "'");
    return std::int64_t(n);
  }();
  return value;
}

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The blocks [s, e) of T query rows.
template <class F>
void for_each_block(std::int64_t T, std::int64_t block, F&& f) {
  for (std::int64_t s = 0, i = 0; s < T; s += block, ++i) f(i, s, std::min(T, s + block));
}

// Scores of every query block: mask[s:e, :e] + scale * q[:, s:e] k[:, :e]^T, one output per block.
// Backward: dq[:, s:e] = scale * g_i k[:, :e]; dk[:, :e] += scale * g_i^T q[:, s:e]. Computed in
// the gradients' dtype (autocast's, when the forward ran under it) and returned in the inputs'.
struct BlockScores : torch::autograd::Function<BlockScores> {
  static variable_list forward(AutogradContext* ctx, const Tensor& q, const Tensor& k, const Tensor& mask, double scale,
                               std::int64_t block) {
    const auto T = q.size(1);
    const auto kt = k.transpose(1, 2);
    variable_list out;
    for_each_block(T, block, [&](std::int64_t, std::int64_t s, std::int64_t e) {
      out.push_back(torch::baddbmm(mask.slice(0, s, e).slice(1, 0, e), q.slice(1, s, e), kt.slice(2, 0, e),
                                   /*beta=*/1.0, /*alpha=*/scale));
    });
    ctx->save_for_backward({q, k});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["block"] = block;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const auto saved = ctx->get_saved_variables();
    const double scale = ctx->saved_data["scale"].toDouble();
    const std::int64_t block = ctx->saved_data["block"].toInt();
    const auto dtype = g[0].scalar_type();
    const auto q = saved[0].to(dtype), k = saved[1].to(dtype);
    const auto T = q.size(1);
    std::vector<Tensor> dq_blocks;
    Tensor dk;
    // Last block first: it spans every key, so its product is dk itself; the earlier blocks add
    // into dk's first rows. Fresh products and adds: a bmm into a strided slice of dk (baddbmm_)
    // leaves oneDNN's fast path and took twice as long.
    const auto n = (T + block - 1) / block;
    for (std::int64_t i = n - 1; i >= 0; --i) {
      const auto s = i * block, e = std::min(T, s + block);
      const auto gi = g[std::size_t(i)].to(dtype);
      dq_blocks.push_back(torch::bmm(gi, k.slice(1, 0, e)));
      auto dki = torch::bmm(gi.transpose(1, 2), q.slice(1, s, e));
      if (i == n - 1) dk = dki;
      else dk.slice(1, 0, e).add_(dki);
    }
    std::reverse(dq_blocks.begin(), dq_blocks.end());
    auto dq = torch::cat(dq_blocks, 1).mul_(scale);
    dk.mul_(scale);
    return {dq.to(saved[0].scalar_type()), dk.to(saved[1].scalar_type()), Tensor(), Tensor(), Tensor()};
  }
};

// y = concat over blocks of P_i v[:, :e]. Backward: dP_i = gy[:, s:e] v[:, :e]^T;
// dv[:, :e] += P_i^T gy[:, s:e].
struct BlockValues : torch::autograd::Function<BlockValues> {
  static Tensor forward(AutogradContext* ctx, const Tensor& v, at::TensorList P) {
    std::vector<Tensor> ys;
    variable_list save{v};
    for (const auto& p : P) {
      ys.push_back(torch::bmm(p, v.slice(1, 0, p.size(2))));
      save.push_back(p);
    }
    ctx->save_for_backward(save);
    return torch::cat(ys, 1);
  }

  static variable_list backward(AutogradContext* ctx, variable_list gy) {
    const auto saved = ctx->get_saved_variables();
    const auto dtype = gy[0].scalar_type();
    const auto v = saved[0].to(dtype);
    const auto T = v.size(1);
    variable_list out(saved.size());
    Tensor dv;
    // Last block first, as dk above: its product is dv, the earlier blocks add into its first rows.
    std::int64_t end = T;
    for (std::size_t i = saved.size() - 1; i >= 1; --i) {
      const auto p = saved[i].to(dtype);
      const auto rows = p.size(1), e = p.size(2);
      const auto gi = gy[0].slice(1, end - rows, end);
      out[i] = torch::bmm(gi, v.slice(1, 0, e).transpose(1, 2)).to(saved[i].scalar_type());
      auto dvi = torch::bmm(p.transpose(1, 2), gi);
      if (i == saved.size() - 1) dv = dvi;
      else dv.slice(1, 0, e).add_(dvi);
      end -= rows;
    }
    out[0] = dv.to(saved[0].scalar_type());
    return out;
  }
};

}  // namespace

std::int64_t attention_block() {
  if (const auto o = g_block_override.load(std::memory_order_relaxed); o >= 0) return o;
  return std::max<std::int64_t>(block_from_environment(), 0);
}

void set_attention_block(std::int64_t rows) { g_block_override.store(rows >= 0 ? rows : kUnset); }

torch::Tensor block_causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& mask, double scale, std::int64_t block,
                                     const BlockProbabilities& probs) {
  TORCH_CHECK(q.dim() == 3 && k.sizes() == q.sizes() && v.sizes() == q.sizes(),
              "block_causal_attention: q, k, v must be [BH, T, hd] alike");
  TORCH_CHECK(block >= 1, "block_causal_attention: block must be >= 1");
  const auto T = q.size(1);
  TORCH_CHECK(mask.dim() == 2 && mask.size(0) >= T && mask.size(1) >= T,
              "block_causal_attention: the mask must cover [T, T]");
  const auto scores = BlockScores::apply(q, k, mask, scale, block);
  std::vector<Tensor> P;
  P.reserve(scores.size());
  for_each_block(T, block, [&](std::int64_t i, std::int64_t s, std::int64_t e) {
    P.push_back(probs(scores[std::size_t(i)], s, e));
  });
  return BlockValues::apply(v, at::TensorList(P));
}

}  // namespace structlm::model
