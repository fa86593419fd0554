#include "experiment/hcma_paired.h"

#include <cmath>

#include "core/error.h"

namespace structlm::experiment {

std::vector<PairedRecall> paired_rare_recall(const SuiteResults& results, const std::string& original,
                                             const std::vector<int>& ks, int resamples, std::uint64_t bootstrap_seed) {
  std::vector<PairedRecall> out;
  std::vector<std::string> variants;
  for (const auto& [key, _] : results)
    if (key.first != original && (variants.empty() || variants.back() != key.first)) variants.push_back(key.first);
  for (const auto& variant : variants)
    for (int k : ks) {
      PairedRecall row;
      row.variant = variant;
      row.k = k;
      std::vector<double> differences;  // per target: variant hit - original hit
      std::int64_t hits_original = 0, hits_variant = 0;
      for (const auto& [key, mine] : results) {
        if (key.first != variant) continue;
        auto base = results.find({original, key.second});
        if (base == results.end()) continue;
        const auto& a = base->second.rare_ranks.targets;
        const auto& b = mine.rare_ranks.targets;
        if (a.empty() || b.empty()) continue;
        const std::string where = variant + " seed " + std::to_string(key.second);
        check(a.size() == b.size(), where,
              "scored " + std::to_string(b.size()) + " rare targets where " + original + " scored " +
                  std::to_string(a.size()) + " at the same seed: measured with other settings, cannot pair");
        for (std::size_t i = 0; i < a.size(); ++i) {
          check(a[i].position == b[i].position, where, "rare target " + std::to_string(i) + " is at position " +
                                                           std::to_string(b[i].position) + ", " + original +
                                                           "'s at " + std::to_string(a[i].position) + ": cannot pair");
          const bool hit_a = a[i].rank < k, hit_b = b[i].rank < k;
          hits_original += hit_a;
          hits_variant += hit_b;
          row.gained += hit_b && !hit_a;
          row.lost += hit_a && !hit_b;
          differences.push_back(double(hit_b) - double(hit_a));
        }
      }
      if (differences.empty()) continue;
      row.targets = std::int64_t(differences.size());
      row.recall_original = double(hits_original) / double(row.targets);
      row.recall_variant = double(hits_variant) / double(row.targets);
      row.difference = report::bootstrap_mean_interval(differences, resamples, bootstrap_seed);
      row.p = report::mcnemar_exact_p(row.gained, row.lost);
      out.push_back(row);
    }
  std::vector<double> p;
  for (const auto& r : out) p.push_back(r.p);
  const auto adjusted = report::holm_adjust(p);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].p_holm = adjusted[i];
    const bool better = out[i].gained > out[i].lost;
    out[i].verdict = !(out[i].p_holm < 0.05) ? report::Verdict::no_difference
                     : better               ? report::Verdict::better
                                            : report::Verdict::worse;
  }
  return out;
}

std::string paired_recall_markdown(const std::vector<PairedRecall>& rows, std::int64_t below) {
  if (rows.empty()) return "";
  std::string md = "\nRare-token recall (targets seen fewer than " + std::to_string(below) +
                   " times in training), paired over targets against the original: the same drawn targets per "
                   "seed, pooled over seeds; gained / lost = targets only the variant / only the original gets "
                   "within the top k; McNemar's exact test on those, Holm's correction over the " +
                   std::to_string(rows.size()) + " rows; the interval is a paired bootstrap over targets.\n\n"
                   "| variant | k | targets | recall original | recall variant | difference [95 % bootstrap] | "
                   "gained | lost | p (McNemar) | p (Holm) | verdict |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    auto signed_number = [](double v) { return report::format_signed(v, 4); };
    md += "| " + r.variant + " | " + std::to_string(r.k) + " | " + std::to_string(r.targets) + " | " +
          report::format_number(r.recall_original, 4) + " | " + report::format_number(r.recall_variant, 4) + " | " +
          signed_number(r.recall_variant - r.recall_original) + " [" + signed_number(r.difference.lo) + ", " +
          signed_number(r.difference.hi) + "] | " + std::to_string(r.gained) + " | " + std::to_string(r.lost) + " | " +
          report::format_p(r.p) + " | " + report::format_p(r.p_holm) + " | " + report::verdict_text(r.verdict) + " |\n";
  }
  return md;
}

}  // namespace structlm::experiment
