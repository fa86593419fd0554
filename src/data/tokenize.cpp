// Documents to one shard, in parallel. Workers take documents one at a time from a shared
// counter (documents vary a lot in length, so fixed blocks would leave a core idle) and write each
// result to the document's own slot; concatenating the slots in order makes the shard identical
// whatever the thread count or timing.
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "core/platform.h"
#include "data/shard.h"
#include "data/tokenize.h"

namespace structlm::data {

ShardStats tokenize_to_shard(const std::vector<Document>& docs, const EncodeFn& encode, std::uint32_t eot,
                             std::size_t vocab_size, const std::string& path, int threads) {
  std::vector<std::vector<std::uint32_t>> encoded(docs.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < docs.size();) encoded[i] = encode(docs[i].text);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
      next = docs.size();  // stop the others early
    }
  };
  std::size_t n = threads > 0 ? static_cast<std::size_t>(threads) : static_cast<std::size_t>(available_cores());
  n = std::max<std::size_t>(1, std::min(n, docs.size()));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < n; ++t) pool.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);

  ShardStats stats;
  std::size_t total = 0;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    total += encoded[i].size() + 1;
    stats.bytes += docs[i].text.size();
  }
  std::vector<std::uint32_t> tokens;
  tokens.reserve(total);
  for (auto& e : encoded) {
    // <|endoftext|> before every document, as GPT-2 and llm.c do: the model learns to start a
    // document from it, and generation can be prompted with it.
    tokens.push_back(eot);
    tokens.insert(tokens.end(), e.begin(), e.end());
    std::vector<std::uint32_t>().swap(e);  // free as we go: the shard is the copy that matters
  }
  stats.tokens = tokens.size();
  write_shard(path, tokens, vocab_size);
  return stats;
}

}  // namespace structlm::data
