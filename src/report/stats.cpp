#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

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
  s.lo = s.mean - s.sd;
  s.hi = s.mean + s.sd;
  return s;
}

Spread summarize_geometric(const std::vector<double>& values) {
  std::vector<double> logs;
  for (double v : values) {
    if (!(v > 0)) throw Error("geometric mean of a value that is not > 0: " + std::to_string(v));
    logs.push_back(std::log(v));
  }
  const Spread l = summarize(logs);
  Spread s = l;
  s.geometric = true;
  s.mean = std::exp(l.mean);
  s.min = std::exp(l.min);
  s.max = std::exp(l.max);
  s.lo = std::exp(l.mean - l.sd);
  s.hi = std::exp(l.mean + l.sd);
  if (s.n == 0) s.mean = s.min = s.max = s.lo = s.hi = 0;
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
  if (s.geometric)
    return format_number(s.mean, digits) + " ×/÷ " + format_number(std::exp(s.sd), 4) + " (" + std::to_string(s.n) + " seeds)";
  return format_number(s.mean, digits) + " ± " + format_number(s.sd, digits) + " (" + std::to_string(s.n) + " seeds)";
}

Verdict compare(const Spread& candidate, const Spread& baseline, bool lower_is_better) {
  if (candidate.n < 2 || baseline.n < 2) return Verdict::single_seed;
  if (candidate.hi >= baseline.lo && baseline.hi >= candidate.lo) return Verdict::no_difference;
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

double wasserstein1(std::vector<double> a, std::vector<double> b) {
  if (a.empty() || b.empty()) return NAN;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  // Walk the union of sample points; between consecutive points both CDFs are constant.
  std::size_t i = 0, k = 0;
  double prev = std::min(a[0], b[0]), area = 0;
  while (i < a.size() || k < b.size()) {
    double next = (k >= b.size() || (i < a.size() && a[i] <= b[k])) ? a[i] : b[k];
    area += std::fabs(double(i) / a.size() - double(k) / b.size()) * (next - prev);
    while (i < a.size() && a[i] == next) ++i;
    while (k < b.size() && b[k] == next) ++k;
    prev = next;
  }
  return area;
}

}  // namespace structlm::report
