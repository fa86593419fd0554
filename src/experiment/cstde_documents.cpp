#include "experiment/cstde_documents.h"

#include <cmath>

#include "core/error.h"

namespace structlm::experiment {

namespace {

const CorpusScore* score_of(const CstdeRunResult& r, const std::string& corpus) {
  for (const auto& e : r.eval)
    if (e.corpus == corpus) return &e;
  return nullptr;
}

std::string ratio(double log_ratio) { return report::format_number(std::exp(log_ratio), 4); }

}  // namespace

std::vector<DocumentPairedRow> document_paired_rows(const CstdeResults& results, const std::vector<std::string>& variants,
                                                    const std::vector<std::int64_t>& seeds, const std::string& baseline,
                                                    int resamples) {
  std::vector<DocumentPairedRow> rows;
  const auto base_first = results.find({baseline, seeds.empty() ? 0 : seeds.front()});
  if (base_first == results.end()) return rows;
  for (const auto& corpus_score : base_first->second.eval) {
    const std::string& corpus = corpus_score.corpus;
    for (const auto& variant : variants) {
      if (variant == baseline) continue;
      DocumentPairedRow row{corpus, variant, {}, {}};
      std::map<long long, double> cand_ppl, base_ppl;
      std::vector<report::DocumentPair> pairs;
      bool every_run_has_documents = true;
      for (auto seed : seeds) {
        const auto c = results.find({variant, seed}), b = results.find({baseline, seed});
        if (c == results.end() || b == results.end()) continue;
        const CorpusScore *cs = score_of(c->second, corpus), *bs = score_of(b->second, corpus);
        if (!cs || !bs) continue;
        cand_ppl[seed] = cs->perplexity;
        base_ppl[seed] = bs->perplexity;
        if (cs->documents.empty() || bs->documents.empty()) {
          every_run_has_documents = false;
          continue;
        }
        if (cs->documents.size() != bs->documents.size())
          fail(variant + " seed " + std::to_string(seed), "corpus '" + corpus + "': " + std::to_string(cs->documents.size()) +
                                                            " documents scored, the baseline's " +
                                                            std::to_string(bs->documents.size()));
        report::DocumentPair p;
        for (std::size_t d = 0; d < cs->documents.size(); ++d) {
          if (cs->documents[d].tokens != bs->documents[d].tokens)
            fail(variant + " seed " + std::to_string(seed), "corpus '" + corpus + "': document " + std::to_string(d) +
                                                              " has " + std::to_string(cs->documents[d].tokens) +
                                                              " tokens, the baseline's " +
                                                              std::to_string(bs->documents[d].tokens));
          p.candidate.push_back(cs->documents[d].nats);
          p.baseline.push_back(bs->documents[d].nats);
          p.tokens.push_back(cs->documents[d].tokens);
        }
        pairs.push_back(std::move(p));
      }
      if (!every_run_has_documents || pairs.empty()) continue;
      row.seeds = report::paired_difference(cand_ppl, base_ppl, /*geometric=*/true);
      // One resampling stream per row, the same for every run of the table (reproducible).
      row.documents = report::paired_document_bootstrap(pairs, resamples, /*rng_seed=*/rows.size() + 1);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string document_paired_markdown(const std::vector<DocumentPairedRow>& rows) {
  if (rows.empty()) return "";
  std::string md =
      "## Held-out perplexity, paired over seeds and over documents\n\n"
      "Each variant's perplexity over the baseline's on the same held-out text, as a ratio (below 1: "
      "better), with two 95 % intervals: the paired t interval over seeds (the training draw; the main "
      "table's test, before Holm's correction) and a paired percentile bootstrap over the evaluation "
      "documents (2,000 resamples; each resample draws the documents once for every seed: the choice of "
      "test text). A ratio is told apart from 1 only where both intervals exclude it.\n\n"
      "| corpus | variant | ratio | 95 % over seeds | 95 % over documents | documents | both exclude 1 |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const auto& s = r.seeds;
    const auto& d = r.documents;
    const std::string over_seeds = s.n > 1 ? "[" + ratio(s.lo) + ", " + ratio(s.hi) + "]" : "n/a (1 seed)";
    const std::string over_docs = std::isnan(d.interval.lo)
                                      ? std::string(d.documents < 2 ? "n/a (1 document)" : "n/a")
                                      : "[" + ratio(d.interval.lo) + ", " + ratio(d.interval.hi) + "]";
    const bool seeds_exclude = s.n > 1 && (s.lo > 0 || s.hi < 0);
    const bool docs_exclude = !std::isnan(d.interval.lo) && (d.interval.lo > 0 || d.interval.hi < 0);
    md += "| " + r.corpus + " | " + r.variant + " | " + ratio(d.mean) + " | " + over_seeds + " | " + over_docs + " | " +
          std::to_string(d.documents) + " | " + (seeds_exclude && docs_exclude ? "yes" : "no") + " |\n";
  }
  return md + "\n";
}

}  // namespace structlm::experiment
