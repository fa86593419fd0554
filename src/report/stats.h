// Mean and spread over seeds, and the one rule that decides whether two results differ
// (docs/METHODS.md §3: an improvement inside the spread is "no significant difference").
#pragma once
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

Spread summarize(const std::vector<double>& values);
Spread summarize_geometric(const std::vector<double>& values);  // every value > 0 (else an error)
double median(std::vector<double> values);  // NaN when empty; mean of the middle two when even
// 1-D Wasserstein distance between two empirical distributions (∫|F_a − F_b| dx); NaN when either is empty.
double wasserstein1(std::vector<double> a, std::vector<double> b);

// "3.2100 ± 0.0120 (3 seeds)"; geometric: "3.2100 ×/÷ 1.0037 (3 seeds)" (the factor exp(sd), 4
// digits); one seed has no spread: "3.2100 (1 seed)". `digits` after the point.
std::string format_spread(const Spread& s, int digits = 4);
std::string format_number(double v, int digits = 4);

enum class Verdict { better, worse, no_difference, single_seed };

// Candidate vs baseline. Different only if the intervals [lo, hi] of the two do not overlap;
// either side with one seed gives no verdict. `lower_is_better` says which direction is a win.
Verdict compare(const Spread& candidate, const Spread& baseline, bool lower_is_better);
const char* verdict_text(Verdict v);

}  // namespace structlm::report
