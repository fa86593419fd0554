// tokenize_to_shard with a text::Tokenizer. Kept apart from the generic version so that code
// using only that one does not need the text library linked.
#include "data/tokenize.h"

namespace structlm::data {

ShardStats tokenize_to_shard(const std::vector<Document>& docs, const text::Tokenizer& tok, const std::string& path) {
  return tokenize_to_shard(
      docs, [&tok](std::string_view s) { return tok.encode(s); }, tok.eot(), tok.vocab_size(), path);
}

}  // namespace structlm::data
