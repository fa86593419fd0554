// Mean and spread over seeds, and the one rule that decides whether two results differ
// (docs/METHODS.md §3: an improvement inside the spread is "no significant difference").
#pragma once
#include <string>
#include <vector>

namespace structlm::report {

struct Spread {
  double mean = 0;
  double sd = 0;  // sample standard deviation (n − 1); 0 when n < 2
  double min = 0, max = 0;
  int n = 0;      // number of seeds (values)
};

Spread summarize(const std::vector<double>& values);
double median(std::vector<double> values);  // NaN when empty; mean of the middle two when even

// "3.2100 ± 0.0120 (3 seeds)"; one seed has no spread: "3.2100 (1 seed)". `digits` after the point.
std::string format_spread(const Spread& s, int digits = 4);
std::string format_number(double v, int digits = 4);

enum class Verdict { better, worse, no_difference, single_seed };

// Candidate vs baseline. Different only if the intervals mean ± sd of the two do not overlap;
// either side with one seed gives no verdict. `lower_is_better` says which direction is a win.
Verdict compare(const Spread& candidate, const Spread& baseline, bool lower_is_better);
const char* verdict_text(Verdict v);

}  // namespace structlm::report
