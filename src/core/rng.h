// Small deterministic randomness for code without tensors (splits, shuffles, sampling of
// documents). SplitMix64: tiny, fast, and the same on every platform, unlike std:: distributions.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace structlm {

struct SplitMix64 {
  std::uint64_t state;
  explicit SplitMix64(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }  // bias is negligible here
  double uniform() { return (next() >> 11) * 0x1.0p-53; }               // [0, 1)
};

// Hash of (seed, a, b): one independent stream per (seed, step, ...) without storing RNG state,
// which is what makes resumed runs reproduce uninterrupted ones exactly.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  SplitMix64 r(seed ^ (a * 0xD6E8FEB86659FD93ull) ^ (b * 0xA0761D6478BD642Full));
  return r.next();
}

template <typename T>
void shuffle(std::vector<T>& v, SplitMix64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

}  // namespace structlm
