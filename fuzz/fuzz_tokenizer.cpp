// GPT-2 tokenizer files: encoder.json (token -> id) and vocab.bpe (merges), through the real
// path-based loader. One input holds both: the bytes before the first NUL are encoder.json, the
// rest vocab.bpe (a NUL is never valid in either). A tokenizer that loads must encode and decode
// text losslessly: the input itself, invalid UTF-8 and all.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/harness.h"
#include "text/tokenizer.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemoryFile encoder("encoder.json"), vocab("vocab.bpe");
  const std::uint8_t* split = std::find(data, data + size, std::uint8_t(0));
  const std::string& encoder_path = encoder.hold(data, split - data);
  const std::uint8_t* rest = split == data + size ? split : split + 1;
  const std::string& vocab_path = vocab.hold(rest, data + size - rest);
  fuzz::expect_clean_error(
      [&] {
        text::Tokenizer tok = text::Tokenizer::load_gpt2(encoder_path, vocab_path);
        if (tok.eot() >= tok.vocab_size()) fuzz::finding("<|endoftext|> id outside the vocabulary");
        const std::string_view text(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 512));
        const std::vector<text::TokenId> ids = tok.encode(text);
        for (text::TokenId id : ids)
          if (id >= tok.vocab_size()) fuzz::finding("encode produced an id outside the vocabulary");
        if (tok.decode(ids) != text) fuzz::finding("decode(encode(text)) != text");
      },
      {&encoder_path, &vocab_path});
  return 0;
}
