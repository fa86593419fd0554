// From split text to shards: every document is encoded, prefixed with <|endoftext|> (as GPT-2
// and llm.c do), and the split is written as one shard (DIR/<split>.bin). Parallel over documents.
#pragma once
#include <string>

#include "data/split.h"
#include "text/tokenizer.h"

namespace structlm::data {

struct ShardStats {
  std::size_t tokens = 0, bytes = 0;  // bytes: UTF-8 bytes of the documents' text
};

ShardStats tokenize_to_shard(const std::vector<Document>& docs, const text::Tokenizer& tok,
                             const std::string& path);

}  // namespace structlm::data
