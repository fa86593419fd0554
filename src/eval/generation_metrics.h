// How generated text reads, for the paper's "more structured generation" claim (docs/METHODS.md
// §1c): lexical diversity (distinct-n, MTLD), repetition (seq-rep-4) and sentence lengths, the
// last compared with the reference corpus by the 1-D Wasserstein distance that the report computes
// from sentence_lengths.jsonl (report::wasserstein1, report/stats.h; the CLI links it).
// Plain strings in, numbers out: no torch here, though the eval library links it.
//
// Words are text::words (text/sentences.h): whitespace split, edge punctuation stripped,
// lowercased, as MTLD's reference implementations do; sentences are text::split_sentences.
#pragma once
#include <string>
#include <vector>

namespace structlm::eval {

struct GenerationMetrics {
  std::size_t texts = 0, words = 0;  // continuations measured, and their words in all
  // Unique n-grams / all n-grams, pooled over the continuations (an n-gram never spans two).
  // NaN when there are no n-grams.
  double distinct1 = 0, distinct2 = 0, distinct3 = 0;
  // MTLD (threshold 0.72) of each continuation, averaged over those where it is defined.
  double mtld = 0;
  std::size_t mtld_texts = 0;
  // seq-rep-4 of each continuation, averaged over those with at least one 4-gram.
  double seq_rep4 = 0;
  std::size_t seq_rep4_texts = 0;
  std::vector<int> sentence_lengths;  // every sentence of every continuation, in words
};

GenerationMetrics measure_generations(const std::vector<std::string>& texts);

// Unique n-grams / all n-grams over the word lists together; NaN when there are none.
double distinct_n(const std::vector<std::vector<std::string>>& word_lists, std::size_t n);

// McCarthy & Jarvis (2010) MTLD, one direction: walk the words keeping the type-token ratio of
// the current segment; when it falls to the threshold or below, count one factor and start a new
// segment. A last unfinished segment counts (1 − TTR) / (1 − threshold) of a factor. The result
// is words / factors; NaN when there are no factors (no word repeats: MTLD is unbounded).
double mtld_forward(const std::vector<std::string>& words, double threshold = 0.72);
// The mean of the forward pass and the backward pass (the words reversed).
double mtld(const std::vector<std::string>& words, double threshold = 0.72);

// Welleck et al. (2019) seq-rep-n of one continuation: 1 − unique n-grams / all n-grams
// (0: no n-gram repeats). Counted over words here, not over model tokens, so that models with
// different tokenizers compare. NaN when the continuation has fewer than n words.
double seq_rep_n(const std::vector<std::string>& words, std::size_t n = 4);

// Length in words of each sentence of `text`; sentences with no words (a lone "--") are skipped.
std::vector<int> sentence_lengths(const std::string& text);

}  // namespace structlm::eval
