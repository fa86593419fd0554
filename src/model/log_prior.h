// Attention logits plus a per-head multiple of one shared log-prior, as CSTDE's heads use it
// (docs/METHODS.md §1b): out[b, h, t, s] = att[b, h, t, s] + beta[h] * log(D[b, t, s] + eps).
//
// The forward is torch's (log, then addcmul broadcasting D over the heads). The backward is one
// pass over the incoming gradient G instead of autograd's four: per row (b, t) it sums
// beta[h] * G[b, h, t, :] over the heads into dL/dD and G * log(D + eps) into each head's dL/dbeta,
// where autograd writes two [B, H, T, Tk] temporaries (G * beta, G * log D) and reduces each.
// Measured by bench/ops_bench ("log-prior" lines).
#pragma once
#include <torch/torch.h>

namespace structlm::model {

// att: [B, H, T, Tk]; beta: [H]; D: [B, T, Tk] (a distribution over keys, >= 0). Differentiable
// in all three; the result's dtype is addcmul's (att's promoted with beta's and D's).
torch::Tensor add_log_prior(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D, double eps);

// The same through autograd's own ops (the reference of the tests and the bench).
torch::Tensor add_log_prior_unfused(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D,
                                    double eps);

}  // namespace structlm::model
