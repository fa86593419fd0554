// Mean and spread over seeds, and the one rule that decides whether two results differ: a paired
// comparison over seeds with a 95 % t interval and Holm's correction over a table's family
// (docs/REPORT.md; docs/METHODS.md §3: a difference the interval does not separate from 0 is
// "no significant difference").
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace structlm::report {

// Arithmetic (summarize): mean ± sd, the interval [lo, hi] = mean ∓ sd.
// Geometric (summarize_geometric): mean = exp(mean of the logs), sd = sd of the logs, and the
// interval [lo, hi] = mean ×/÷ exp(sd). Plots draw [lo, hi] as the band; compare() tests it.
struct Spread {
  double mean = 0;
  double sd = 0;  // sample standard deviation (n − 1) of the values (of their logs if geometric); 0 when n < 2
  double min = 0, max = 0;
  double lo = 0, hi = 0;
  int n = 0;      // number of seeds (values)
  bool geometric = false;
};

// A 95 % (or other) interval: mean_t_interval, wilson_interval, the bootstrap below.
struct Interval {
  double lo = 0, hi = 0;
};

Spread summarize(const std::vector<double>& values);
Spread summarize_geometric(const std::vector<double>& values);  // every value > 0 (else an error)
double median(std::vector<double> values);  // NaN when empty; mean of the middle two when even
// 1-D Wasserstein distance between two empirical distributions (∫|F_a − F_b| dx); NaN when either is empty.
double wasserstein1(std::vector<double> a, std::vector<double> b);

// "3.2100 ± 0.0120 (3 seeds)"; geometric: "3.2100 ×/÷ 1.0037 (3 seeds)" (the factor exp(sd), 4
// digits); one seed has no spread: "3.2100 (1 seed)". `digits` after the point.
std::string format_spread(const Spread& s, int digits = 4);
std::string format_number(double v, int digits = 4);
std::string format_signed(double v, int digits = 4);  // "+0.0123", "-0.0040"

enum class Verdict { better, worse, no_difference, single_seed };
const char* verdict_text(Verdict v);

// Student's t distribution (Boost.Math): the quantile at probability q with df degrees of
// freedom, and the two-sided p of a statistic t (P(|T| >= |t|)).
double student_t_quantile(double q, double df);
double student_t_two_sided_p(double t, double df);

// Intervals of a mean or a proportion.
// The t interval of the mean of n seeds: mean ± t(1 − (1 − level)/2, n − 1) sd/√n from `s`
// (geometric: mean ×/÷ exp(t sd/√n), sd of the logs); the point [mean, mean] when n < 2.
Interval mean_t_interval(const Spread& s, double level = 0.95);
// The Wilson score interval of a proportion p observed over n trials (z the normal quantile at
// 1 − (1 − level)/2): (p + z²/2n ∓ z √(p(1 − p)/n + z²/4n²)) / (1 + z²/n); inside [0, 1]. NaNs
// when n < 1 or p is not in [0, 1].
Interval wilson_interval(double p, long long n, double level = 0.95);

// A candidate against the baseline over the seeds both have: per-seed differences d_s =
// candidate_s − baseline_s (geometric metrics: log(candidate_s / baseline_s), so the mean is a log
// ratio), their mean, sample sd, the 95 % t interval of the mean, mean ± t(0.975, n−1) sd / √n, and
// the two-sided p of the paired t test. Differences that are all equal have sd 0: p is 1 when
// they are 0 and 0 otherwise (the interval is the point). p_holm starts as p; holm_adjust sets it.
struct PairedDifference {
  int n = 0;  // seeds on both sides
  double mean = 0, sd = 0, lo = 0, hi = 0;
  double p = 1, p_holm = 1;
  bool geometric = false;
};
PairedDifference paired_difference(const std::map<long long, double>& candidate,
                                   const std::map<long long, double>& baseline, bool geometric);
// Holm's step-down adjustment of a family of p values: sorted ascending, the i-th (from 0) of m
// becomes max over j <= i of min(1, (m − j) p_(j)). Same order as given.
std::vector<double> holm_adjust(const std::vector<double>& p);
// better / worse when p_holm < alpha (which implies the 95 % interval excludes 0 when alpha is
// 0.05), in the direction `lower_is_better` names; no_difference otherwise; single_seed when
// fewer than 2 seeds pair up.
Verdict verdict(const PairedDifference& d, bool lower_is_better, double alpha = 0.05);
// "+0.0123 [-0.0040, +0.0286]"; geometric: the ratio and its interval, "×1.0230 [0.9810, 1.0670]";
// one pair: the difference alone.
std::string format_difference(const PairedDifference& d, int digits = 4);
// A p value to 3 significant digits ("0.0261", "1.00"); below 1e-4, "< 0.0001".
std::string format_p(double p);

// McNemar's exact test of paired binary outcomes: b and c are the two kinds of discordant pairs
// (only one side right); two-sided p = min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2).
// 1 when there are no discordant pairs.
double mcnemar_exact_p(std::int64_t b, std::int64_t c);

// Percentile bootstrap interval of the mean of `values` (e.g. per-document paired differences):
// `resamples` draws with replacement from a generator seeded with `seed`; level 0.95 gives the
// 2.5th and 97.5th percentiles. Empty input gives NaNs.
Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, std::uint64_t seed,
                                 double level = 0.95);
// The central `level` interval of bootstrap draws: percentiles by linear interpolation between
// order statistics (numpy's default). NaNs when empty.
Interval percentile_interval(std::vector<double> draws, double level = 0.95);

}  // namespace structlm::report
