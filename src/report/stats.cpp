#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "core/error.h"
#include "core/rng.h"

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

std::string format_signed(double v, int digits) { return (v >= 0 ? "+" : "-") + format_number(std::fabs(v), digits); }

std::string format_spread(const Spread& s, int digits) {
  if (s.n == 0) return "n/a";
  if (s.n == 1) return format_number(s.mean, digits) + " (1 seed)";
  if (s.geometric)
    return format_number(s.mean, digits) + " ×/÷ " + format_number(std::exp(s.sd), 4) + " (" + std::to_string(s.n) + " seeds)";
  return format_number(s.mean, digits) + " ± " + format_number(s.sd, digits) + " (" + std::to_string(s.n) + " seeds)";
}

double student_t_quantile(double q, double df) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), q);
}

double student_t_two_sided_p(double t, double df) {
  if (std::isinf(t)) return 0;
  return 2 * boost::math::cdf(boost::math::complement(boost::math::students_t_distribution<double>(df), std::fabs(t)));
}

Interval mean_t_interval(const Spread& s, double level) {
  if (s.n < 2) return {s.mean, s.mean};
  const double half = student_t_quantile(1 - (1 - level) / 2, s.n - 1) * (s.sd / std::sqrt(double(s.n)));
  if (s.geometric) return {s.mean * std::exp(-half), s.mean * std::exp(half)};
  return {s.mean - half, s.mean + half};
}

Interval wilson_interval(double p, long long n, double level) {
  if (n < 1 || !(p >= 0 && p <= 1)) return {NAN, NAN};
  const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 1 - (1 - level) / 2);
  const double nn = double(n), z2 = z * z;
  const double center = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

PairedDifference paired_difference(const std::map<long long, double>& candidate,
                                   const std::map<long long, double>& baseline, bool geometric) {
  std::vector<double> d;
  for (const auto& [seed, c] : candidate) {
    auto b = baseline.find(seed);
    if (b == baseline.end()) continue;
    if (geometric && !(c > 0 && b->second > 0))
      throw Error("paired difference: a geometric metric's value is not > 0 at seed " + std::to_string(seed));
    d.push_back(geometric ? std::log(c / b->second) : c - b->second);
  }
  PairedDifference r;
  r.geometric = geometric;
  const Spread s = summarize(d);
  r.n = s.n, r.mean = s.mean, r.sd = s.sd, r.lo = r.hi = s.mean;
  if (r.n < 2) return r;
  if (s.sd == 0) {  // every seed moved by exactly the same amount: no seed-to-seed doubt is left
    r.p = r.p_holm = s.mean == 0 ? 1.0 : 0.0;
    return r;
  }
  const double se = s.sd / std::sqrt(double(r.n));
  const Interval ci = mean_t_interval(s);
  r.lo = ci.lo, r.hi = ci.hi;
  r.p = r.p_holm = student_t_two_sided_p(s.mean / se, r.n - 1);
  return r;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size());
  double running = 0;
  const double m = double(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    running = std::max(running, std::min(1.0, (m - double(i)) * p[order[i]]));
    out[order[i]] = running;
  }
  return out;
}

Verdict verdict(const PairedDifference& d, bool lower_is_better, double alpha) {
  if (d.n < 2) return Verdict::single_seed;
  if (!(d.p_holm < alpha)) return Verdict::no_difference;
  return (d.mean < 0) == lower_is_better ? Verdict::better : Verdict::worse;
}

std::string format_difference(const PairedDifference& d, int digits) {
  if (d.n == 0) return "n/a";
  auto signed_number = [&](double v) { return format_signed(v, digits); };
  if (d.geometric) {
    std::string out = "×" + format_number(std::exp(d.mean), 4);
    if (d.n > 1) out += " [" + format_number(std::exp(d.lo), 4) + ", " + format_number(std::exp(d.hi), 4) + "]";
    return out;
  }
  std::string out = signed_number(d.mean);
  if (d.n > 1) out += " [" + signed_number(d.lo) + ", " + signed_number(d.hi) + "]";
  return out;
}

double mcnemar_exact_p(std::int64_t b, std::int64_t c) {
  const std::int64_t n = b + c;
  if (n == 0) return 1.0;
  const double tail = boost::math::cdf(boost::math::binomial_distribution<double>(double(n), 0.5), double(std::min(b, c)));
  return std::min(1.0, 2 * tail);
}

std::string format_p(double p) {
  if (std::isnan(p)) return "n/a";
  if (p < 1e-4) return "< 0.0001";
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", p);
  return b;
}

Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, std::uint64_t seed, double level) {
  if (values.empty() || resamples < 1) return {NAN, NAN};
  SplitMix64 rng(seed);
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (auto& m : means) {
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) sum += values[rng.below(values.size())];
    m = sum / double(values.size());
  }
  return percentile_interval(std::move(means), level);
}

Interval percentile_interval(std::vector<double> draws, double level) {
  if (draws.empty()) return {NAN, NAN};
  std::sort(draws.begin(), draws.end());
  // Percentiles by linear interpolation between order statistics (numpy's default).
  auto at = [&](double q) {
    const double pos = q * double(draws.size() - 1);
    const std::size_t i = std::size_t(pos);
    const double f = pos - double(i);
    return i + 1 < draws.size() ? draws[i] * (1 - f) + draws[i + 1] * f : draws[i];
  };
  return {at((1 - level) / 2), at(1 - (1 - level) / 2)};
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
