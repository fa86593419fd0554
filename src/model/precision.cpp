#include "model/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/error.h"
#include "core/platform.h"

// torch 2.4 replaced the per-device autocast setters by ones that take the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define STRUCTLM_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace structlm::model {

PrecisionChoice resolve_precision(const std::string& name, const torch::Device& device) {
  if (!is_precision_name(name))
    throw Error("precision: unknown precision '" + name + "' (expected " + kPrecisionNames + ")");
  if (name == "fp32") return {Precision::fp32, "asked for"};
  if (name == "bf16") return {Precision::bf16, "asked for"};
  // CUDA: every GPU this project targets (Ampere and later: A100, H100, H200) has bf16 tensor
  // cores. On an older one, ask for fp32.
  if (device.is_cuda()) return {Precision::bf16, "auto: CUDA device"};
  const char* flag = cpu_has_flag("amx_bf16") ? "amx_bf16" : cpu_has_flag("avx512_bf16") ? "avx512_bf16" : nullptr;
  if (!flag) return {Precision::fp32, "auto: CPU flags show neither amx_bf16 nor avx512_bf16"};
  if (!at::hasMKLDNN()) return {Precision::fp32, std::string("auto: CPU flag ") + flag + ", but torch has no oneDNN"};
  return {Precision::bf16, std::string("auto: CPU flag ") + flag + ", torch with oneDNN"};
}

AutocastGuard::AutocastGuard(Precision precision, const torch::Device& device) {
  if (precision != Precision::bf16) return;
  active_ = true;
  cuda_ = device.is_cuda();
#ifdef STRUCTLM_AUTOCAST_BY_DEVICE_TYPE
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  was_enabled_ = at::autocast::is_autocast_enabled(type);
  was_dtype_ = at::autocast::get_autocast_dtype(type);
  at::autocast::set_autocast_enabled(type, true);
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    was_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
#endif
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();  // as torch.autocast.__exit__
#ifdef STRUCTLM_AUTOCAST_BY_DEVICE_TYPE
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, was_enabled_);
  at::autocast::set_autocast_dtype(type, was_dtype_);
#else
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(was_dtype_);
  }
#endif
}

at::ScalarType matmul_input_dtype(const torch::Tensor& x) {
  if (x.scalar_type() != at::kFloat) return x.scalar_type();
  const bool cpu = x.device().is_cpu(), cuda = x.device().is_cuda();
  if (!cpu && !cuda) return x.scalar_type();
#ifdef STRUCTLM_AUTOCAST_BY_DEVICE_TYPE
  const auto type = cuda ? at::kCUDA : at::kCPU;
  const bool on = at::autocast::is_autocast_enabled(type);
  const auto dtype = at::autocast::get_autocast_dtype(type);
#else
  const bool on = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  const auto dtype = cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
  return on && dtype == at::kBFloat16 ? at::kBFloat16 : x.scalar_type();
}

}  // namespace structlm::model
