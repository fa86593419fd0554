// (left id, right id) -> (merge rank, merged id), as a flat open-addressing table: the BPE inner
// loop does one lookup per adjacent pair, and std::unordered_map's node chasing dominated it.
// Private to text/.
#pragma once
#include <cstdint>
#include <vector>

namespace structlm::text::detail {

struct Merge {
  std::uint32_t rank;
  std::uint32_t merged;
};

class PairTable {
 public:
  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    mask_ = cap - 1;
    size_ = 0;
  }
  // A later insert of the same pair overwrites: a duplicated merge line takes its last rank, as
  // in GPT-2's dict(zip(merges, range(...))).
  void insert(std::uint32_t left, std::uint32_t right, Merge m) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    Slot& s = slots_[index_of(key(left, right))];
    if (s.key == kEmpty) ++size_;
    s.key = key(left, right);
    s.value = m;
  }
  const Merge* find(std::uint32_t left, std::uint32_t right) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = slots_[index_of(key(left, right))];
    return s.key == kEmpty ? nullptr : &s.value;
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t(0);  // ids are < 2^32 - 1
  struct Slot {
    std::uint64_t key;
    Merge value;
  };
  static std::uint64_t key(std::uint32_t l, std::uint32_t r) { return (std::uint64_t(l) << 32) | r; }
  std::size_t index_of(std::uint64_t k) const {
    std::size_t i = std::size_t((k * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
    while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask_;
    return i;
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    reserve(old.empty() ? 8 : old.size());
    for (const Slot& s : old)
      if (s.key != kEmpty) {
        slots_[index_of(s.key)] = s;
        ++size_;
      }
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace structlm::text::detail
