// llm.c tokenizer files: header (magic, version, count, end-of-text id) and the length-prefixed
// tokens, through parse_llmc_tokenizer. A tokenizer it accepts must be written back by
// llmc_tokenizer_bytes and read again to the same tokens.
#include <cstdint>
#include <string>

#include "formats/llmc.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "input_tokenizer.bin";
  fuzz::expect_clean_error(
      [&] {
        const formats::LlmcTokenizer t = formats::parse_llmc_tokenizer(data, size, name);
        for (const std::string& tok : t.tokens)
          if (tok.empty() || tok.size() > 255) fuzz::finding("accepted a token of length " + std::to_string(tok.size()));
        if (t.version == 2 && (t.eot < 0 || static_cast<std::size_t>(t.eot) >= t.tokens.size()))
          fuzz::finding("accepted an end-of-text id outside the vocabulary");
        formats::LlmcTokenizer v2 = t;
        if (v2.version != 2) {  // the writer writes version 2, which needs an end-of-text id
          v2.version = 2;
          v2.eot = t.tokens.empty() ? -1 : 0;
        }
        if (v2.tokens.empty()) return;
        const std::string bytes = formats::llmc_tokenizer_bytes(v2, name);
        const formats::LlmcTokenizer back =
            formats::parse_llmc_tokenizer(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), name);
        if (back.tokens != v2.tokens || back.eot != v2.eot || back.version != 2)
          fuzz::finding("tokenizer changes when written and read again");
      },
      {&name});
  return 0;
}
