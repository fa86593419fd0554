// A paired difference of held-out loss with its interval from a bootstrap over evaluation
// documents (issue 14, item 2), beside the t interval over seeds: the seeds say how much the
// training draw moves the result, the documents how much the choice of test text does. Tokens
// within a document are not independent, so the document, not the token, is what is resampled.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "report/stats.h"

namespace structlm::report {

// One seed's two runs scored on the same documents (the same held-out stream): each document's
// summed loss (nats) under the candidate and the baseline, and its scored tokens.
struct DocumentPair {
  std::vector<double> candidate, baseline;
  std::vector<std::size_t> tokens;
};

struct DocumentBootstrap {
  // The mean over seeds of candidate minus baseline loss, each the token-weighted mean over the
  // documents (nats per token; exp of it is the perplexity ratio).
  double mean = 0;
  Interval interval;           // 95 % percentile interval (NaN below 2 documents: nothing to resample)
  std::size_t documents = 0;   // per seed
  int seeds = 0;
};

// Each resample draws the documents once, with replacement, and applies the same draw to every
// seed (the seeds were scored on the same documents), then takes the mean over seeds of the
// resampled difference. Seeds with another number of documents, or documents whose token counts
// differ between the two sides or across seeds, are an Error naming the seed's index.
DocumentBootstrap paired_document_bootstrap(const std::vector<DocumentPair>& seeds, int resamples = 2000,
                                            std::uint64_t rng_seed = 1, double level = 0.95);

}  // namespace structlm::report
