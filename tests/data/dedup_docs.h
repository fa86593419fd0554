// Planted documents for the deduplication tests (dedup_test.cpp, split_stream_test.cpp).
#pragma once
#include <cstdint>
#include <string>

#include "core/rng.h"

namespace structlm::test_util {

// A document of `n` words drawn from a 2,000-word vocabulary: two such documents share almost
// no 5-gram, so unrelated documents are far below the threshold.
inline std::string random_doc(std::uint64_t seed, int n = 200) {
  SplitMix64 rng(seed);
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + std::string("w") + std::to_string(rng.below(2000));
  return s;
}

// The same document with every `every`-th word replaced.
inline std::string edited(const std::string& doc, int every) {
  std::string out, word;
  int i = 0;
  for (std::size_t p = 0; p <= doc.size(); ++p) {
    if (p < doc.size() && doc[p] != ' ') {
      word += doc[p];
      continue;
    }
    out += (out.empty() ? "" : " ") + (++i % every == 0 ? std::string("EDIT") + std::to_string(i) : word);
    word.clear();
  }
  return out;
}

}  // namespace structlm::test_util
