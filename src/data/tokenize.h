// From split text to shards: every document is encoded, prefixed with <|endoftext|> (as GPT-2
// and llm.c do), and the split is written as one shard (DIR/<split>.bin). Parallel over documents.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/split.h"
#include "text/tokenizer.h"

namespace structlm::data {

struct ShardStats {
  std::size_t tokens = 0, bytes = 0;  // bytes: UTF-8 bytes of the documents' text
};

ShardStats tokenize_to_shard(const std::vector<Document>& docs, const text::Tokenizer& tok,
                             const std::string& path);

// The same with any encoder (called from several threads at once, so it must be thread-safe):
// what the above runs, and what tests use without a trained tokenizer. threads = 0: all cores.
using EncodeFn = std::function<std::vector<std::uint32_t>(std::string_view)>;
ShardStats tokenize_to_shard(const std::vector<Document>& docs, const EncodeFn& encode, std::uint32_t eot,
                             std::size_t vocab_size, const std::string& path, int threads = 0);

// The same, streamed from a prepared split's JSONL file ({"id", "text", ...} a line) in batches
// of about 16 MB of text: memory holds one batch and its tokens whatever the corpus size, and
// the shard is the one tokenize_to_shard makes from the same documents. A non-empty `label`
// shows progress with ETA on stderr.
ShardStats tokenize_jsonl_to_shard(const std::string& jsonl, const text::Tokenizer& tok, const std::string& path,
                                   const std::string& label = "");
ShardStats tokenize_jsonl_to_shard(const std::string& jsonl, const EncodeFn& encode, std::uint32_t eot,
                                   std::size_t vocab_size, const std::string& path, int threads = 0,
                                   const std::string& label = "", std::size_t batch_bytes = 16u << 20);
}  // namespace structlm::data
