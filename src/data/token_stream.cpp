// Several shards read as one token sequence, and the (seed, step)-determined training batches.
#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "data/shard.h"

namespace structlm::data {

TokenStream::TokenStream(const std::vector<std::string>& shard_paths) {
  if (shard_paths.empty()) fail("token stream", "no shard files given");
  offsets_.push_back(0);
  for (const auto& p : shard_paths) {
    shards_.emplace_back(p);
    offsets_.push_back(offsets_.back() + shards_.back().size());
  }
}

std::size_t TokenStream::size() const { return offsets_.back(); }

void TokenStream::check_ids_below(std::size_t vocab_size, const std::string& what) const {
  for (const auto& s : shards_) {
    if (s.size() == 0) continue;
    const std::uint32_t m = s.max_id();
    if (m >= vocab_size)
      fail(s.path(), "holds token id " + std::to_string(m) + ", outside " + what + " (" + std::to_string(vocab_size) +
                         " ids): the shards were made with another tokenizer");
  }
}

void TokenStream::read(std::size_t start, std::size_t n, std::int64_t* out) const {
  if (start > size() || n > size() - start)
    fail(shards_.front().path(), "read of tokens [" + std::to_string(start) + ", " + std::to_string(start + n) +
                                     ") past the end of the stream (" + std::to_string(size()) + " tokens)");
  // First shard holding `start`: the last offset <= start (empty shards are skipped naturally).
  std::size_t s = std::upper_bound(offsets_.begin(), offsets_.end(), start) - offsets_.begin() - 1;
  while (n > 0) {
    std::size_t local = start - offsets_[s];
    std::size_t take = std::min(n, shards_[s].size() - local);
    shards_[s].read(local, take, out);
    out += take;
    start += take;
    n -= take;
    ++s;
  }
}

void TokenStream::random_batch(std::uint64_t seed, std::int64_t step, int B, int T, std::int64_t* out,
                               std::size_t limit) const {
  if (B <= 0 || T <= 0) fail(shards_.front().path(), "batch shape must be positive (B " + std::to_string(B) + ", T " + std::to_string(T) + ")");
  const std::size_t window = static_cast<std::size_t>(T) + 1;
  const std::size_t n = limit > 0 ? std::min(limit, size()) : size();
  if (n < window)
    fail(shards_.front().path(), "has " + std::to_string(n) + (n < size() ? " tokens within the limit" : " tokens") +
                                     ", fewer than one window of T + 1 = " + std::to_string(window));
  // A fresh generator per step, keyed by (seed, step) only: batch k is the same whether a run
  // starts at step 0 or resumes at step k, and whatever was drawn before.
  SplitMix64 rng(mix_seed(seed, static_cast<std::uint64_t>(step)));
  const std::size_t starts = n - window + 1;
  for (int b = 0; b < B; ++b) read(rng.below(starts), window, out + static_cast<std::size_t>(b) * window);
}

void for_each_window_batch(const TokenStream& stream, std::size_t n, std::int64_t T, int batch_size, int extra,
                           const WindowBatchFn& fn) {
  if (T <= 0 || batch_size <= 0 || extra < 0) throw Error("window batches: T, batch size and extra must be positive");
  if (n + std::size_t(extra) > stream.size())
    throw Error("window batches: " + std::to_string(n + std::size_t(extra)) + " tokens asked of a stream of " +
                std::to_string(stream.size()));
  std::vector<std::int64_t> buf;
  std::size_t start = 0;
  auto length_at = [&](std::size_t s) { return std::int64_t(std::min<std::size_t>(std::size_t(T), n - s)); };
  while (start < n) {
    const std::int64_t len = length_at(start), width = len + extra;
    std::int64_t rows = 0;
    buf.clear();
    while (rows < batch_size && start < n && length_at(start) == len) {
      buf.resize(std::size_t((rows + 1) * width));
      stream.read(start, std::size_t(width), buf.data() + std::size_t(rows * width));
      start += std::size_t(len);
      ++rows;
    }
    fn(rows, len, buf);
  }
}

}  // namespace structlm::data
