// A llama.cpp GGUF file of architecture llama or qwen2, past the container parser: its
// hyperparameters into the model's config (formats::llama_config_from_gguf) and its vocabulary
// into a tokenizer.json (interop::gguf_vocab_tokenizer_json, both kinds: byte-level BPE and
// SentencePiece), which text::Tokenizer::load_hf then reads, as `structlm import x.gguf` does.
// What the config reader accepts must be a model that can be built; what the vocabulary reader
// writes must load (or be refused naming the file) and encode within the model's rows.
#include <cstdint>
#include <string>

#include "core/json.h"
#include "formats/gguf.h"
#include "formats/gguf_llama_config.h"
#include "fuzz/harness.h"
#include "interop/gguf_vocab.h"
#include "text/tokenizer.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "input.gguf";
  static fuzz::MemoryFile tokenizer_file("tokenizer.json");
  formats::GgufFile f;
  try {
    f = formats::parse_gguf(data, size, name);
  } catch (const Error&) {
    return 0;  // the container parser's own target (fuzz_gguf) checks its errors
  }
  std::int64_t rows = 0;
  fuzz::expect_clean_error(
      [&] {
        const formats::HfLlamaConfig c = formats::llama_config_from_gguf(f);
        for (std::int64_t v : {c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.num_attention_heads,
                               c.num_key_value_heads, c.head_dim, c.max_position_embeddings, c.vocab_size})
          if (v < 1 || v > 0x7fffffff) fuzz::finding("accepted a size outside 1..2^31-1: " + std::to_string(v));
        if (c.num_attention_heads % c.num_key_value_heads != 0) fuzz::finding("accepted kv heads that do not divide the heads");
        if (c.head_dim % 2 != 0) fuzz::finding("accepted an odd head size");
        if (std::uint64_t(c.num_hidden_layers) > f.tensors.size()) fuzz::finding("accepted more layers than tensors");
        if (!(c.rope_theta > 0) || !(c.rms_norm_eps > 0)) fuzz::finding("accepted rope theta or rms eps <= 0");
        rows = c.vocab_size;
      },
      {&name});
  if (rows == 0) return 0;
  fuzz::expect_clean_error(
      [&] {
        const json tok = interop::gguf_vocab_tokenizer_json(f, rows);
        const std::string text = tok.dump();
        const std::string& path = tokenizer_file.hold(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
        fuzz::expect_clean_error(
            [&] {
              const text::Tokenizer t = text::Tokenizer::load_hf(path);
              if (t.vocab_size() > std::size_t(rows)) fuzz::finding("a vocabulary larger than the model's rows");
              for (text::TokenId id : t.encode("Hello, wörld 123!  \xff"))
                if (id >= t.vocab_size()) fuzz::finding("encoded an id outside the vocabulary");
            },
            {&path});
      },
      {&name});
  return 0;
}
