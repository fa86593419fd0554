// What every converter passes around: a plain GPT-2 model as float32 tensors under structlm's own
// names (wte.weight, h.N.attn.c_attn.weight [out, in], ..., lm_head.weight when untied), plus the
// checks and byte conversions the format converters share.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include "core/json.h"
#include "formats/gguf.h"
#include "formats/gguf_llama_config.h"
#include "formats/safetensors.h"
#include "model/gpt.h"

namespace structlm::interop {

enum class FloatType { F32, F16, BF16 };
FloatType parse_float_type(const std::string& s, const std::string& option);  // "f32", "f16", "bf16"
const char* float_type_name(FloatType t);
torch::ScalarType torch_type(FloatType t);
// The same type in the two file formats the converters read and write.
formats::DType safetensors_dtype(FloatType t);
FloatType float_type_of(formats::GgmlType t);
formats::GgmlType ggml_type_of(FloatType t);
// general.file_type (llama.cpp's llama_ftype) of a file whose matrices are all `t`.
std::uint32_t gguf_file_type(FloatType t);
// ggml's ne of a tensor: its torch sizes reversed, innermost first.
std::vector<std::uint64_t> gguf_ne(const torch::Tensor& x);
// llama.cpp's token types and GGUF's integer hyperparameters (formats/gguf_llama_config.h).
using formats::gguf_hparam;
using formats::kGgufTokenControl;
using formats::kGgufTokenNormal;
using formats::kGgufTokenUnused;
using formats::kGgufTokenUserDefined;

struct GptTensors {
  model::GPTConfig config;
  std::map<std::string, torch::Tensor> tensors;  // float32, CPU, contiguous

  const torch::Tensor& at(const std::string& name) const;  // must exist (a programming error otherwise)
};

// The model's parameters as float32 copies.
GptTensors tensors_of(model::GPT& model);
// Builds the model (shapes and names checked by load_weights; errors name `source`).
model::GPT build_model(const GptTensors& m, const std::string& source);
// Writes a structlm checkpoint of the model with `meta` in its metadata.
void save_as_checkpoint(const GptTensors& m, const std::string& path, const json& meta, const std::string& source);

// Refuses, naming `path` and the setting, a model that `format` cannot hold exactly: no biases,
// untied output (unless the format has an output matrix), or any config field beyond the plain
// GPT-2 ones (e.g. a CSTDE section) switched on. Nothing is ever silently dropped.
void require_plain_gpt2(const model::GPTConfig& c, const std::string& format, const std::string& path, bool untied_ok);

// Every parameter's shape, by name, computed from the config alone (nothing allocated), so a
// file's claims can be checked before a model is built from them. Bias-free models excluded.
std::map<std::string, std::vector<std::int64_t>> parameter_shapes(const model::GPTConfig& c);

// "h.<layer>.<suffix>"
std::string layer_name(std::int64_t layer, const std::string& suffix);
// The per-layer parameter suffixes of structlm's GPT, in the order the formats list them.
extern const char* const kLayerParams[12];

// Little-endian bytes of `shape` elements of type t -> float32 tensor (the bytes are copied first,
// so they need no alignment).
torch::Tensor tensor_from_bytes(const std::uint8_t* data, FloatType t, const std::vector<std::int64_t>& shape);
// The tensor converted to t, contiguous, as bytes.
std::string tensor_bytes(const torch::Tensor& x, FloatType t);

// A tensor of the right shape, or an error naming the file and the tensor.
void check_shape(const torch::Tensor& x, const std::vector<std::int64_t>& want, const std::string& path,
                 const std::string& name);

}  // namespace structlm::interop
