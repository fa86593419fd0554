#include "data/dedup.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "core/rng.h"

namespace structlm::data {

namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// SplitMix64's finaliser: a cheap, well-mixed permutation of 64-bit values (one per MinHash).
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Hashes of the word k-gram shingles of a normalised text (one shingle of all words when there
// are fewer than k), as a set.
std::vector<std::uint64_t> shingle_hashes(const std::string& norm, int k) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < norm.size(); ++i)
    if (i == 0 || norm[i - 1] == ' ') starts.push_back(i);
  std::vector<std::uint64_t> out;
  if (starts.empty()) return out;
  const std::size_t n = starts.size(), K = std::size_t(std::max(1, k));
  auto end_of = [&](std::size_t w) { return w + 1 < n ? starts[w + 1] - 1 : norm.size(); };
  if (n < K) {
    out.push_back(fnv1a(norm));
  } else {
    for (std::size_t i = 0; i + K <= n; ++i)
      out.push_back(fnv1a(std::string_view(norm).substr(starts[i], end_of(i + K - 1) - starts[i])));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::uint64_t> hash_seeds() {
  std::vector<std::uint64_t> s(Deduplicator::kHashes);
  SplitMix64 rng(0x5eed0fd3d00bull);  // fixed: the same signatures on every machine and run
  for (auto& x : s) x = rng.next();
  return s;
}

double agreement(const std::uint32_t* a, const std::uint32_t* b) {
  int same = 0;
  for (int i = 0; i < Deduplicator::kHashes; ++i) same += a[i] == b[i];
  return double(same) / double(Deduplicator::kHashes);
}

std::uint64_t band_key(const std::uint32_t* sig, int band) {
  std::uint64_t h = 0xcbf29ce484222325ull ^ std::uint64_t(band);
  for (int r = 0; r < Deduplicator::kRows; ++r) {
    h ^= sig[band * Deduplicator::kRows + r];
    h *= 0x100000001b3ull;
  }
  return mix(h);
}

}  // namespace

std::string normalize_for_dedup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (unsigned char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

Deduplicator::Deduplicator(DedupOptions options) : opt_(options), seeds_(hash_seeds()), bands_(kBands) {}

Deduplicator::Signature Deduplicator::signature(const std::string& norm) const {
  Signature sig(kHashes, std::numeric_limits<std::uint32_t>::max());
  for (std::uint64_t h : shingle_hashes(norm, opt_.shingle_words))
    for (int i = 0; i < kHashes; ++i) sig[std::size_t(i)] = std::min(sig[std::size_t(i)], std::uint32_t(mix(h ^ seeds_[std::size_t(i)]) >> 32));
  return sig;
}

void Deduplicator::band_insert(int band, std::uint64_t key, std::uint32_t index) {
  auto& table = bands_[std::size_t(band)];
  auto place = [](std::vector<std::uint64_t>& t, std::uint64_t key_bits, std::uint64_t slot) {
    const std::size_t mask = t.size() - 1;
    std::size_t i = std::size_t(key_bits) & mask;
    while (t[i] != 0) i = (i + 1) & mask;
    t[i] = slot;
  };
  if ((counts_.kept + 1) * 4 > table.size() * 3) {  // grow: 3/4 full at most
    std::vector<std::uint64_t> bigger(table.empty() ? 1024 : table.size() * 2);
    for (std::uint64_t slot : table)
      if (slot) place(bigger, band_key(kept_sig(std::uint32_t(slot) - 1), band), slot);
    table.swap(bigger);
  }
  place(table, key, (key >> 32) << 32 | (std::uint64_t(index) + 1));
}

Deduplicator::Verdict Deduplicator::add(std::string_view text) {
  const std::string norm = normalize_for_dedup(text);
  const std::uint64_t h1 = fnv1a(norm), h2 = mix(fnv1a(norm, 0x84222325cbf29ce4ull) ^ norm.size());
  if (text_keys_.contains(h1, h2)) {
    ++counts_.exact;
    return Verdict::exact_duplicate;
  }
  const Signature sig = signature(norm);
  // Every kept document sharing a band with this one is a candidate; the first whose estimate
  // reaches the threshold makes it a near duplicate (the verdict does not depend on the order).
  std::unordered_set<std::uint32_t> tried;
  std::uint64_t keys[kBands];
  for (int b = 0; b < kBands; ++b) {
    const std::uint64_t key = keys[b] = band_key(sig.data(), b);
    const auto& table = bands_[std::size_t(b)];
    if (table.empty()) continue;
    const std::size_t mask = table.size() - 1;
    for (std::size_t i = std::size_t(key) & mask; table[i] != 0; i = (i + 1) & mask) {
      if ((table[i] >> 32) != (key >> 32)) continue;
      const std::uint32_t index = std::uint32_t(table[i]) - 1;
      const std::uint32_t* other = kept_sig(index);
      if (band_key(other, b) != key || !tried.insert(index).second) continue;
      if (agreement(sig.data(), other) >= opt_.threshold) {
        ++counts_.near;
        return Verdict::near_duplicate;
      }
    }
  }
  text_keys_.insert(h1, h2);
  const std::size_t index = counts_.kept;
  if (index % kBlock == 0) blocks_.emplace_back(new std::uint32_t[kBlock * std::size_t(kHashes)]);
  std::copy(sig.begin(), sig.end(), blocks_.back().get() + (index % kBlock) * std::size_t(kHashes));
  for (int b = 0; b < kBands; ++b) band_insert(b, keys[b], std::uint32_t(index));
  ++counts_.kept;
  return Verdict::keep;
}

double estimated_similarity(std::string_view a, std::string_view b, const DedupOptions& options) {
  const Deduplicator d(options);
  return agreement(d.signature(normalize_for_dedup(a)).data(), d.signature(normalize_for_dedup(b)).data());
}

double shingle_jaccard(std::string_view a, std::string_view b, int shingle_words) {
  auto sa = shingle_hashes(normalize_for_dedup(a), shingle_words), sb = shingle_hashes(normalize_for_dedup(b), shingle_words);
  std::vector<std::uint64_t> both;
  std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(both));
  const std::size_t uni = sa.size() + sb.size() - both.size();
  return uni ? double(both.size()) / double(uni) : 1.0;
}

}  // namespace structlm::data
