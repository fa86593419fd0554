#include "report/document_bootstrap.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/rng.h"

namespace structlm::report {

DocumentBootstrap paired_document_bootstrap(const std::vector<DocumentPair>& seeds, int resamples,
                                            std::uint64_t rng_seed, double level) {
  DocumentBootstrap b;
  b.seeds = int(seeds.size());
  b.interval = {NAN, NAN};
  if (seeds.empty()) {
    b.mean = NAN;
    return b;
  }
  const std::size_t n = seeds.front().tokens.size();
  b.documents = n;
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    const auto& p = seeds[s];
    const std::string which = "document bootstrap, seed " + std::to_string(s + 1) + " of " + std::to_string(seeds.size());
    if (p.tokens.size() != n || p.candidate.size() != n || p.baseline.size() != n)
      throw Error(which + ": " + std::to_string(p.candidate.size()) + " candidate, " + std::to_string(p.baseline.size()) +
                  " baseline and " + std::to_string(p.tokens.size()) + " token counts; the first seed has " +
                  std::to_string(n) + " documents");
    if (p.tokens != seeds.front().tokens)
      throw Error(which + ": the documents' token counts differ from the first seed's (not the same held-out text)");
  }
  // The difference of token-weighted means under document weights w (how often each was drawn).
  auto difference = [&](const std::vector<double>& w) {
    double sum = 0;
    for (const auto& p : seeds) {
      double c = 0, base = 0, t = 0;
      for (std::size_t d = 0; d < n; ++d) {
        c += w[d] * p.candidate[d];
        base += w[d] * p.baseline[d];
        t += w[d] * double(p.tokens[d]);
      }
      sum += (c - base) / t;
    }
    return sum / double(seeds.size());
  };
  std::vector<double> w(n, 1.0);
  b.mean = n ? difference(w) : NAN;
  // One document has no spread to resample: its interval would be a point, not a finding.
  if (n < 2 || resamples < 1) return b;
  SplitMix64 rng(rng_seed);
  std::vector<double> draws(static_cast<std::size_t>(resamples));
  for (auto& x : draws) {
    std::fill(w.begin(), w.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) w[rng.below(n)] += 1;
    x = difference(w);
  }
  b.interval = percentile_interval(std::move(draws), level);
  return b;
}

}  // namespace structlm::report
