#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace structlm::report {

Spread summarize(const std::vector<double>& values) {
  Spread s;
  s.n = int(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / s.n;
  if (s.n > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / (s.n - 1));
  }
  auto mm = std::minmax_element(values.begin(), values.end());
  s.min = *mm.first;
  s.max = *mm.second;
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

std::string format_number(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string format_spread(const Spread& s, int digits) {
  if (s.n == 0) return "n/a";
  if (s.n == 1) return format_number(s.mean, digits) + " (1 seed)";
  return format_number(s.mean, digits) + " ± " + format_number(s.sd, digits) + " (" + std::to_string(s.n) + " seeds)";
}

Verdict compare(const Spread& candidate, const Spread& baseline, bool lower_is_better) {
  if (candidate.n < 2 || baseline.n < 2) return Verdict::single_seed;
  const double c_lo = candidate.mean - candidate.sd, c_hi = candidate.mean + candidate.sd;
  const double b_lo = baseline.mean - baseline.sd, b_hi = baseline.mean + baseline.sd;
  if (c_hi >= b_lo && b_hi >= c_lo) return Verdict::no_difference;
  const bool lower = candidate.mean < baseline.mean;
  return lower == lower_is_better ? Verdict::better : Verdict::worse;
}

const char* verdict_text(Verdict v) {
  switch (v) {
    case Verdict::better: return "better";
    case Verdict::worse: return "worse";
    case Verdict::no_difference: return "no significant difference";
    case Verdict::single_seed: return "too few seeds to tell";
  }
  return "";
}

}  // namespace structlm::report
