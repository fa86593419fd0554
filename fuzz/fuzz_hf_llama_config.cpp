// Llama-family config.json and safetensors index JSON, through parse_hf_llama_config and
// parse_safetensors_index: JSON, field types, ranges, refusals. What the config parser accepts
// must be a model that can be built: heads divisible by kv heads, an even head size, sizes > 0;
// what the index parser accepts names only plain file names.
#include <cstdint>
#include <string>

#include "formats/hf_llama_config.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "config.json";
  fuzz::expect_clean_error(
      [&] {
        const formats::HfLlamaConfig c = formats::parse_hf_llama_config(data, size, name);
        if (c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads != 0)
          fuzz::finding("accepted kv heads that do not divide the heads");
        if (c.head_dim <= 0 || c.head_dim % 2 != 0) fuzz::finding("accepted an odd or empty head size");
        if (c.rope_factor != 0 && c.rope_high_freq_factor <= c.rope_low_freq_factor)
          fuzz::finding("accepted llama3 rope scaling with high <= low frequency factor");
      },
      {&name});
  static const std::string index = "model.safetensors.index.json";
  fuzz::expect_clean_error(
      [&] {
        for (const auto& [tensor, file] : formats::parse_safetensors_index(data, size, index))
          if (file.empty() || file.find('/') != std::string::npos || file == "..")
            fuzz::finding("accepted a shard outside the folder: " + file);
      },
      {&index});
  return 0;
}
