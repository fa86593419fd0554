#include "experiment/hcma_paired.h"

#include <cmath>
#include <cstdio>

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

namespace {

// report::summarize of the values of a per-seed map.
report::Spread summarize_seeds(const std::map<long long, double>& by_seed) {
  std::vector<double> x;
  for (const auto& [seed, v] : by_seed) x.push_back(v);
  return report::summarize(x);
}

}  // namespace

std::vector<MatchedRobustness> matched_robustness(const SuiteResults& results,
                                                  const std::map<std::string, std::string>& matches) {
  std::vector<MatchedRobustness> rows;
  for (const auto& [shrink, method] : matches) {
    // (attack, strength) -> seed -> (method's, shrink's) attack result
    std::map<std::pair<std::string, double>, std::map<long long, std::pair<eval::AttackResult, eval::AttackResult>>> by;
    for (const auto& [key, r] : results) {
      if (key.first != method) continue;
      const auto other = results.find({shrink, key.second});
      if (other == results.end()) continue;
      for (const auto& a : r.attacks)
        for (const auto& b : other->second.attacks)
          if (a.attack == b.attack && a.strength == b.strength) by[{a.attack, a.strength}][key.second] = {a, b};
    }
    for (const auto& [what, pairs] : by) {
      MatchedRobustness row;
      row.method = method;
      row.shrink = shrink;
      row.attack = what.first;
      row.strength = what.second;
      row.seeds = int(pairs.size());
      std::map<long long, double> am, as;
      std::vector<double> cm, cs;
      for (const auto& [seed, ab] : pairs) {
        am[seed] = ab.first.attacked_loss;
        as[seed] = ab.second.attacked_loss;
        cm.push_back(ab.first.clean_loss);
        cs.push_back(ab.second.clean_loss);
      }
      const auto sm = summarize_seeds(am), ss = summarize_seeds(as);
      row.attacked_method = sm.mean, row.attacked_method_sd = sm.sd;
      row.attacked_shrink = ss.mean, row.attacked_shrink_sd = ss.sd;
      row.difference = report::paired_difference(am, as, /*geometric=*/false);
      row.clean_method = report::summarize(cm).mean;
      row.clean_shrink = report::summarize(cs).mean;
      rows.push_back(row);
    }
  }
  // Holm over the rows that have a test (2 seeds or more): the section is one family.
  std::vector<double> p;
  for (const auto& r : rows)
    if (r.difference.n >= 2) p.push_back(r.difference.p);
  const auto adjusted = report::holm_adjust(p);
  std::size_t i = 0;
  for (auto& r : rows) {
    if (r.difference.n >= 2) r.difference.p_holm = adjusted[i++];
    r.verdict = report::verdict_text(report::verdict(r.difference, /*lower_is_better=*/true));
  }
  return rows;
}

std::string matched_robustness_markdown(const std::vector<MatchedRobustness>& rows) {
  if (rows.empty()) return "";
  std::string md =
      "\n## Robustness at matched clean loss\n\nEach method next to the shrink whose a was matched to its clean-loss "
      "cost on the validation split: at the same clean loss, a lower attacked loss is robustness the shrink does not "
      "give. Attacked loss in nats/token (mean ± sd over seeds); difference = method − shrink, paired by seed, with "
      "its 95 % t interval; clean = both models' loss on the same attack windows (the match was made on validation). "
      "A verdict other than \"no significant difference\" needs the paired t test to hold after Holm's correction "
      "over this section's rows (2 seeds or more; docs/HCMA.md).\n\n"
      "| method | matched shrink | attack | strength | seeds | clean (method / shrink) | attacked, method | "
      "attacked, shrink | difference [95 % interval] | p (Holm) | verdict |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& r : rows) {
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %s | %s | %g | %d | %.4f / %.4f | %.4f ± %.4f | %.4f ± %.4f | %s | %s | %s |\n",
                  r.method.c_str(), r.shrink.c_str(), r.attack.c_str(), r.strength, r.seeds, r.clean_method,
                  r.clean_shrink, r.attacked_method, r.attacked_method_sd, r.attacked_shrink, r.attacked_shrink_sd,
                  report::format_difference(r.difference).c_str(),
                  r.difference.n >= 2 ? report::format_p(r.difference.p_holm).c_str() : "n/a", r.verdict.c_str());
    md += line;
  }
  return md;
}

}  // namespace structlm::experiment
