// Hugging Face GPT-2 config.json, through parse_hf_gpt2_config: JSON, field types, ranges and
// the settings structlm cannot compute. A config it accepts must survive hf_gpt2_config_json:
// the text written for it parses to the same sizes.
#include <cstdint>
#include <string>

#include "formats/hf_config.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "config.json";
  fuzz::expect_clean_error(
      [&] {
        const formats::HfGpt2Config c = formats::parse_hf_gpt2_config(data, size, name);
        if (c.n_head <= 0 || c.n_embd % c.n_head != 0) fuzz::finding("accepted n_embd not divisible by n_head");
        const std::string text = formats::hf_gpt2_config_json(c);
        const formats::HfGpt2Config b =
            formats::parse_hf_gpt2_config(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), name);
        if (b.vocab_size != c.vocab_size || b.n_positions != c.n_positions || b.n_embd != c.n_embd ||
            b.n_layer != c.n_layer || b.n_head != c.n_head || b.tie_word_embeddings != c.tie_word_embeddings)
          fuzz::finding("config changes when written and read again: " + text);
      },
      {&name});
  return 0;
}
