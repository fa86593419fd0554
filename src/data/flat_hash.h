// Compact hash tables for what grows with a corpus's documents (one entry per document): flat
// arrays with linear probing, no node per entry, so a streamed corpus of millions of documents
// keeps tens of bytes per document, not hundreds. Private to src/data. No torch here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace structlm::data::detail {

// A set of 128-bit keys (two 64-bit hashes of something: an id, a normalised text). 16 bytes a
// slot, at most 3/4 full: 21 to 43 bytes per key.
class Hash128Set {
 public:
  // True when (a, b) was not in the set (it is now).
  bool insert(std::uint64_t a, std::uint64_t b) {
    if (a == 0 && b == 0) {  // the empty slot's pattern: kept aside
      const bool fresh = !has_zero_;
      has_zero_ = true;
      size_ += fresh;
      return fresh;
    }
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    if (place(slots_, a, b)) {
      ++size_;
      return true;
    }
    return false;
  }
  bool contains(std::uint64_t a, std::uint64_t b) const {
    if (a == 0 && b == 0) return has_zero_;
    if (slots_.empty()) return false;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = std::size_t(a ^ (a >> 29)) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.a == 0 && s.b == 0) return false;
      if (s.a == a && s.b == b) return true;
    }
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t a = 0, b = 0;
  };
  static bool place(std::vector<Slot>& slots, std::uint64_t a, std::uint64_t b) {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = std::size_t(a ^ (a >> 29)) & mask;; i = (i + 1) & mask) {
      Slot& s = slots[i];
      if (s.a == 0 && s.b == 0) {
        s = {a, b};
        return true;
      }
      if (s.a == a && s.b == b) return false;
    }
  }
  void grow() {
    std::vector<Slot> bigger(slots_.empty() ? 1024 : slots_.size() * 2);
    for (const Slot& s : slots_)
      if (s.a != 0 || s.b != 0) place(bigger, s.a, s.b);
    slots_.swap(bigger);
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
  bool has_zero_ = false;
};

}  // namespace structlm::data::detail
