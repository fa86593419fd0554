#include "model/gelu.h"

namespace structlm::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class WideGeluFn : public torch::autograd::Function<WideGeluFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return torch::gelu(x.to(torch::kFloat), "tanh").to(x.scalar_type());
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    return {at::gelu_backward(grads[0].to(torch::kFloat), x.to(torch::kFloat), "tanh").to(x.scalar_type())};
  }
};

}  // namespace

torch::Tensor gelu_tanh(const torch::Tensor& x) {
  const auto t = x.scalar_type();
  if (t != torch::kBFloat16 && t != torch::kHalf) return torch::gelu(x, "tanh");
  return WideGeluFn::apply(x);
}

}  // namespace structlm::model
