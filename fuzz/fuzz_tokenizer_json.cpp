// Hugging Face tokenizer.json (byte-level BPE, and SentencePiece-style BPE with byte fallback),
// through the real path-based loader: JSON, the vocabulary and added tokens (ids unique, without
// gaps), merges, the normaliser, the pre-tokenizer and its regex (compiled by PCRE2 from the
// file: a bad one must be a clean error), the decoder. A tokenizer that loads must encode the
// input itself, invalid UTF-8 and all, into ids in range and decode them; a lossless one
// (byte-level, no normaliser) must give the input back. (Others lose what their files say they
// lose: NFC, a leading space under Metaspace, and a file may pair a Strip with no prepend.)
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/harness.h"
#include "text/tokenizer.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemoryFile file("tokenizer.json");
  const std::string& path = file.hold(data, size);
  fuzz::expect_clean_error(
      [&] {
        text::Tokenizer tok = text::Tokenizer::load_hf(path);
        if (tok.eot() >= tok.vocab_size()) fuzz::finding("document separator outside the vocabulary");
        const std::string_view text(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 512));
        const std::vector<text::TokenId> ids = tok.encode(text);
        for (text::TokenId id : ids)
          if (id >= tok.vocab_size()) fuzz::finding("encode produced an id outside the vocabulary");
        const std::string decoded = tok.decode(ids);
        if (tok.lossless() && decoded != text) fuzz::finding("decode(encode(text)) != text");
      },
      {&path});
  return 0;
}
