// Documents to one shard, in parallel. Workers take documents one at a time from a shared
// counter (documents vary a lot in length, so fixed blocks would leave a core idle) and write each
// result to the document's own slot; concatenating the slots in order makes the shard identical
// whatever the thread count or timing.
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "core/io.h"
#include "core/platform.h"
#include "core/progress.h"
#include "data/shard.h"
#include "data/tokenize.h"

namespace structlm::data {

namespace {

// Encodes docs[0..n) into their own slots, on `threads` workers taking one document at a time.
std::vector<std::vector<std::uint32_t>> encode_all(const std::vector<Document>& docs, const EncodeFn& encode,
                                                   int threads) {
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
  return encoded;
}

// Appends one batch: <|endoftext|> before every document, as GPT-2 and llm.c do (the model learns
// to start a document from it, and generation can be prompted with it).
void append_batch(const std::vector<Document>& docs, const EncodeFn& encode, std::uint32_t eot, int threads,
                  ShardWriter& out, ShardStats& stats) {
  auto encoded = encode_all(docs, encode, threads);
  for (std::size_t i = 0; i < docs.size(); ++i) {
    out.append(&eot, 1);
    out.append(encoded[i].data(), encoded[i].size());
    stats.bytes += docs[i].text.size();
    stats.tokens += encoded[i].size() + 1;
  }
}

}  // namespace

ShardStats tokenize_to_shard(const std::vector<Document>& docs, const EncodeFn& encode, std::uint32_t eot,
                             std::size_t vocab_size, const std::string& path, int threads) {
  ShardWriter out(path, vocab_size);
  ShardStats stats;
  append_batch(docs, encode, eot, threads, out, stats);
  out.finish();
  return stats;
}

ShardStats tokenize_jsonl_to_shard(const std::string& jsonl, const EncodeFn& encode, std::uint32_t eot,
                                   std::size_t vocab_size, const std::string& path, int threads,
                                   const std::string& label, std::size_t batch_bytes) {
  ShardWriter out(path, vocab_size);
  ShardStats stats;
  const std::uint64_t total = file_size(jsonl);
  Progress progress(label.empty() ? "shard" : label, std::int64_t(total / 1000000 + 1));
  std::vector<Document> batch;
  std::size_t batch_bytes_now = 0;
  auto flush = [&] {
    append_batch(batch, encode, eot, threads, out, stats);
    batch.clear();
    batch_bytes_now = 0;
    if (!label.empty()) progress.update(std::int64_t(stats.bytes / 1000000), std::to_string(stats.tokens) + " tokens");
  };
  for_each_jsonl_document(jsonl, [&](Document&& d) {
    batch_bytes_now += d.text.size();
    batch.push_back(std::move(d));
    if (batch_bytes_now >= batch_bytes) flush();
  });
  flush();
  if (!label.empty()) progress.finish(std::to_string(stats.tokens) + " tokens");
  out.finish();
  return stats;
}

}  // namespace structlm::data
