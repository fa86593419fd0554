// tokenize_to_shard and tokenize_jsonl_to_shard with a text::Tokenizer. Kept apart from the generic version so that code
// using only that one does not need the text library linked.
#include "data/tokenize.h"

namespace structlm::data {

ShardStats tokenize_to_shard(const std::vector<Document>& docs, const text::Tokenizer& tok, const std::string& path) {
  return tokenize_to_shard(
      docs, [&tok](std::string_view s) { return tok.encode(s); }, tok.eot(), tok.vocab_size(), path);
}

ShardStats tokenize_jsonl_to_shard(const std::string& jsonl, const text::Tokenizer& tok, const std::string& path,
                                   const std::string& label) {
  return tokenize_jsonl_to_shard(
      jsonl, [&tok](std::string_view s) { return tok.encode(s); }, tok.eot(), tok.vocab_size(), path, 0, label);
}

}  // namespace structlm::data
