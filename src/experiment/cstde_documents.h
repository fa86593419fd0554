// The CSTDE table's held-out perplexities paired twice (issue 14, item 2): over seeds (the t
// interval of report/stats.h) and over evaluation documents (report/document_bootstrap.h), per
// evaluation corpus and variant against the baseline.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "experiment/cstde_result.h"
#include "report/document_bootstrap.h"
#include "report/stats.h"

namespace structlm::experiment {

struct DocumentPairedRow {
  std::string corpus, variant;
  report::PairedDifference seeds;        // over seeds, of the perplexity (geometric: a log ratio)
  report::DocumentBootstrap documents;   // over documents, of the loss (nats: the same log ratio)
};

using CstdeResults = std::map<std::pair<std::string, std::int64_t>, CstdeRunResult>;  // (variant, seed)

// One row per evaluation corpus and non-baseline variant, over the seeds both sides have. A
// corpus some run scored without its documents (results written before they were kept) has no
// rows; a pair scored on different documents is an Error naming the variant, seed and corpus.
std::vector<DocumentPairedRow> document_paired_rows(const CstdeResults& results, const std::vector<std::string>& variants,
                                                    const std::vector<std::int64_t>& seeds,
                                                    const std::string& baseline = "baseline", int resamples = 2000);

// The Markdown section with a sentence saying what it shows; "" when there are no rows.
std::string document_paired_markdown(const std::vector<DocumentPairedRow>& rows);

}  // namespace structlm::experiment
