// Byte string -> a short list of uint32 values, open addressing. Used for the per-thread BPE
// cache (piece -> its token ids) and for counting words in training. A lookup takes a
// string_view, never allocates, and touches two cache lines: the slot (which keeps 32 bits of
// the hash, so most mismatches stop there) and one record holding key and values side by side.
// Once a corpus' vocabulary outgrows the CPU caches, memory latency is what an encoder spends
// its time on, so this layout matters more than the hash function. Private to text/.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

namespace structlm::text::detail {

class StringTable {
 public:
  static std::uint64_t hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

  // The values stored for `key` (and their number in `n`), or nullptr.
  std::uint32_t* find(std::string_view key, std::uint64_t h, std::uint32_t& n) {
    if (slots_.empty()) return nullptr;
    const std::uint64_t s = slots_[probe(key, h)];
    if (!s) return nullptr;
    std::uint32_t* rec = &arena_[std::uint32_t(s) - 1];
    n = rec[1];
    return rec + 2;
  }
  // Stores `n` values for `key`, which must be absent; returns where they are stored.
  std::uint32_t* insert(std::string_view key, std::uint64_t h, const std::uint32_t* values,
                        std::uint32_t n) {
    if (2 * (records_ + 1) > slots_.size()) rehash(slots_.empty() ? 1024 : 2 * slots_.size());
    std::uint64_t& slot = slots_[probe(key, h)];
    const std::size_t at = arena_.size();
    // Offsets live in the low 32 bits of a slot; keeping the table small is the caller's job
    // (the cache clears itself far below this; training counts distinct words, not bytes).
    if (at + 2 + n + key.size() / 4 + 1 >= 0xFFFFFFFFu) return nullptr;
    arena_.push_back(std::uint32_t(key.size()));
    arena_.push_back(n);
    arena_.insert(arena_.end(), values, values + n);
    const std::size_t key_at = arena_.size();
    arena_.resize(key_at + (key.size() + 3) / 4);
    if (!key.empty()) std::memcpy(&arena_[key_at], key.data(), key.size());
    slot = (h & kTagMask) | (at + 1);
    ++records_;
    return &arena_[at + 2];
  }

  // Hints for a lookup coming soon: first the slot, then (once the slot is likely loaded) the
  // record it points to.
  void prefetch_slot(std::uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  void prefetch_record(std::uint64_t h) const {
    if (slots_.empty()) return;
    const std::uint64_t s = slots_[h & (slots_.size() - 1)];
    if (s && (s & kTagMask) == (h & kTagMask)) __builtin_prefetch(&arena_[std::uint32_t(s) - 1]);
  }

  std::size_t size() const { return records_; }
  std::size_t memory_bytes() const { return arena_.size() * 4 + slots_.size() * 8; }
  void clear() {
    slots_.clear();
    arena_.clear();
    records_ = 0;
  }
  // Visits (key, values, n) in insertion order.
  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t at = 0; at < arena_.size();) {
      const std::uint32_t len = arena_[at], n = arena_[at + 1];
      const char* key = reinterpret_cast<const char*>(&arena_[at + 2 + n]);
      f(std::string_view(key, len), &arena_[at + 2], n);
      at += 2 + n + (len + 3) / 4;
    }
  }

 private:
  static constexpr std::uint64_t kTagMask = 0xFFFFFFFF00000000ull;

  std::size_t probe(std::string_view key, std::uint64_t h) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const std::uint64_t s = slots_[i];
      if (!s) return i;
      if ((s & kTagMask) != (h & kTagMask)) continue;
      const std::uint32_t* rec = &arena_[std::uint32_t(s) - 1];
      if (rec[0] == key.size() &&
          std::memcmp(rec + 2 + rec[1], key.data(), key.size()) == 0)
        return i;
    }
  }
  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> old(capacity, 0);
    old.swap(slots_);
    const std::size_t mask = capacity - 1;
    for (std::uint64_t s : old) {
      if (!s) continue;
      // The slot keeps only the high half of the hash, so recompute it from the key.
      const std::uint32_t* rec = &arena_[std::uint32_t(s) - 1];
      const std::uint64_t h =
          hash(std::string_view(reinterpret_cast<const char*>(rec + 2 + rec[1]), rec[0]));
      std::size_t i = h & mask;
      while (slots_[i]) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<std::uint64_t> slots_;  // 0: empty; else hash tag (high 32) | record offset + 1
  std::vector<std::uint32_t> arena_;  // records: key length, n, n values, key bytes (padded)
  std::size_t records_ = 0;
};

}  // namespace structlm::text::detail
