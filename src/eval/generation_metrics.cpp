// Distinct-n, MTLD, seq-rep-n and sentence lengths of generated text (generation_metrics.h).
#include "eval/generation_metrics.h"

#include <cmath>
#include <unordered_set>

#include "text/sentences.h"

namespace structlm::eval {
namespace {

// Words never hold whitespace, so joining with a space names an n-gram unambiguously.
std::string ngram(const std::vector<std::string>& words, std::size_t at, std::size_t n) {
  std::string key = words[at];
  for (std::size_t k = 1; k < n; ++k) key += ' ' + words[at + k];
  return key;
}

// Adds the n-grams of `words` to `unique`; returns how many there were.
std::size_t count_ngrams(const std::vector<std::string>& words, std::size_t n, std::unordered_set<std::string>& unique) {
  if (n == 0 || words.size() < n) return 0;
  for (std::size_t i = 0; i + n <= words.size(); ++i) unique.insert(ngram(words, i, n));
  return words.size() - n + 1;
}

// Running mean of the defined (non-NaN) values.
struct DefinedMean {
  double sum = 0;
  std::size_t n = 0;
  void add(double v) {
    if (!std::isnan(v)) sum += v, ++n;
  }
  double value() const { return n ? sum / double(n) : NAN; }
};

}  // namespace

double distinct_n(const std::vector<std::vector<std::string>>& word_lists, std::size_t n) {
  std::unordered_set<std::string> unique;
  std::size_t total = 0;
  for (const auto& words : word_lists) total += count_ngrams(words, n, unique);
  return total ? double(unique.size()) / double(total) : NAN;
}

double mtld_forward(const std::vector<std::string>& words, double threshold) {
  double factors = 0;
  std::unordered_set<std::string> types;
  std::size_t tokens = 0;
  for (const auto& w : words) {
    types.insert(w);
    ++tokens;
    if (double(types.size()) / double(tokens) <= threshold) {
      factors += 1;
      types.clear();
      tokens = 0;
    }
  }
  if (tokens > 0) factors += (1.0 - double(types.size()) / double(tokens)) / (1.0 - threshold);
  return factors > 0 ? double(words.size()) / factors : NAN;
}

double mtld(const std::vector<std::string>& words, double threshold) {
  std::vector<std::string> reversed(words.rbegin(), words.rend());
  return (mtld_forward(words, threshold) + mtld_forward(reversed, threshold)) / 2;
}

double seq_rep_n(const std::vector<std::string>& words, std::size_t n) {
  std::unordered_set<std::string> unique;
  std::size_t total = count_ngrams(words, n, unique);
  return total ? 1.0 - double(unique.size()) / double(total) : NAN;
}

std::vector<int> sentence_lengths(const std::string& text) {
  std::vector<int> out;
  for (const auto& s : text::split_sentences(text)) {
    std::size_t n = text::words(s).size();
    if (n > 0) out.push_back(int(n));
  }
  return out;
}

GenerationMetrics measure_generations(const std::vector<std::string>& texts) {
  GenerationMetrics m;
  std::vector<std::vector<std::string>> word_lists;
  DefinedMean mtld_mean, rep_mean;
  for (const auto& t : texts) {
    word_lists.push_back(text::words(t));
    const auto& w = word_lists.back();
    m.words += w.size();
    mtld_mean.add(mtld(w));
    rep_mean.add(seq_rep_n(w, 4));
    auto lengths = sentence_lengths(t);
    m.sentence_lengths.insert(m.sentence_lengths.end(), lengths.begin(), lengths.end());
  }
  m.texts = texts.size();
  m.distinct1 = distinct_n(word_lists, 1);
  m.distinct2 = distinct_n(word_lists, 2);
  m.distinct3 = distinct_n(word_lists, 3);
  m.mtld = mtld_mean.value();
  m.mtld_texts = mtld_mean.n;
  m.seq_rep4 = rep_mean.value();
  m.seq_rep4_texts = rep_mean.n;
  return m;
}

}  // namespace structlm::eval
