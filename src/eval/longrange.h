// Long-range dependency tracking (docs/METHODS.md §2d), beyond loss by position:
//  - subject-verb agreement minimal pairs with 0..4 attractors (nouns of the other number between
//    subject and verb), generated from the project's own templates and word lists: accuracy is the
//    share of pairs where the model gives the agreeing verb the higher log-probability.
//  - key-value recall: a sequence of random filler tokens holding the pair "k v", then after a
//    gap of `distance` tokens "k" again: does the model predict v (recall@1, and its loss)?
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "model/gpt.h"
#include "text/tokenizer.h"

namespace structlm::eval {

struct AgreementPair {
  std::string prefix;           // "The keys near the door"
  std::string good, bad;        // " are", " is" (with their leading space)
  int attractors = 0;
};
// `per_count` pairs for each attractor count 0..max_attractors (at most 8), deterministic in
// `seed`: "The <subject>" then `attractors` nouns of the other number, each in a prepositional
// phrase (" near the doors") or, at most once per sentence, an object relative clause
// (" that the men saw"), then the verb. Even-numbered pairs of a count have a singular subject,
// odd ones a plural. No two pairs of a count are alike unless the templates run out.
std::vector<AgreementPair> agreement_pairs(int per_count = 100, int max_attractors = 4, std::uint64_t seed = 1);

struct AgreementResult {
  int attractors = 0;
  double accuracy = 0;
  double margin = 0;            // mean log p(good) - log p(bad), nats
  std::int64_t pairs = 0;
};
// Each sequence is <|endoftext|> + encode(prefix) + encode(verb) (the model then reads the prefix
// as the start of a document, as in training shards); a multi-token verb scores the sum of its
// tokens' log-probabilities, teacher-forced. A sequence longer than block_size + 1 loses tokens
// from the left. A tie counts against the pair. One result per attractor count present, ascending.
std::vector<AgreementResult> agreement_accuracy(model::CausalLM& model, const text::Tokenizer& tok,
                                                const std::vector<AgreementPair>& pairs);
inline std::vector<AgreementResult> agreement_accuracy(model::GPT& model, const text::Tokenizer& tok,
                                                       const std::vector<AgreementPair>& pairs) {
  return agreement_accuracy(*model, tok, pairs);
}

struct KeyValueOptions {
  std::vector<int> distances = {4, 16, 32, 64, 128, 256, 512};  // those that fit the context are used
  int trials = 64;              // per distance
  std::uint64_t seed = 1;
};
struct KeyValueResult {
  int distance = 0;
  double recall = 0;            // share of trials where v is the top-1 prediction after the second k
  double loss = 0;              // mean -log p(v)
  std::int64_t trials = 0;
};
constexpr int kKeyValueMinPrefix = 4;  // filler tokens at least before the first k
// Filler, keys and values are drawn from `pool` (token ids, e.g. word tokens of mid frequency;
// duplicates are ignored, at least 3 distinct ids). Layout of a trial at distance d (positions
// 0-based, L the length shared by every distance): filler, k at L-2-d, v at L-1-d, filler, k at
// L-1, the last position, where v is to be predicted. So d = position of the second k - position
// of v, with d - 1 filler tokens between them. A distance fits when it leaves at least
// kKeyValueMinPrefix filler tokens before the first k within block_size (d + 2 + 4 <= block_size);
// L = largest fitting d + 2 + kKeyValueMinPrefix. Results follow opt.distances, those that fit
// (none: empty). A tie for the top logit counts as a miss.
std::vector<KeyValueResult> key_value_recall(model::CausalLM& model, const std::vector<std::int64_t>& pool,
                                             const KeyValueOptions& opt);
inline std::vector<KeyValueResult> key_value_recall(model::GPT& model, const std::vector<std::int64_t>& pool,
                                                    const KeyValueOptions& opt) {
  return key_value_recall(*model, pool, opt);
}

// Internals, exposed for tests.
namespace detail {

// The word lists behind agreement_pairs. Verb forms carry their leading space.
struct AgreementNoun {
  const char* singular;
  const char* plural;
  bool animate;  // people: subjects of relative clauses; the others head prepositional phrases
};
struct AgreementVerb {
  const char* singular;
  const char* plural;
  bool animate_only;  // " works": only after a subject that is a person
};
struct AgreementLexicon {
  std::vector<AgreementNoun> nouns;
  std::vector<AgreementVerb> verbs;
  std::vector<const char*> prepositions;    // of the prepositional phrases
  std::vector<const char*> relative_verbs;  // past tense, so they carry no number
};
const AgreementLexicon& agreement_lexicon();

// {log p(good | prefix), log p(bad | prefix)} per pair, as agreement_accuracy scores them.
std::vector<std::array<double, 2>> agreement_logprobs(model::CausalLM& model, const text::Tokenizer& tok,
                                                      const std::vector<AgreementPair>& pairs);
inline std::vector<std::array<double, 2>> agreement_logprobs(model::GPT& model, const text::Tokenizer& tok,
                                                             const std::vector<AgreementPair>& pairs) {
  return agreement_logprobs(*model, tok, pairs);
}

struct KeyValueTrial {
  int distance = 0;
  std::vector<std::int64_t> tokens;  // the model's input; v is to be predicted after the last one
  std::int64_t key = 0, value = 0;
  std::int64_t key_pos = 0, value_pos = 0;  // first k and v; the second k is tokens.back()
};
// Every trial key_value_recall scores, grouped by distance in opt.distances order (those that
// fit block_size). Trial t draws its k, v and filler from one stream seeded by (seed, t), so
// distances are paired: they differ only in where the pair sits.
std::vector<KeyValueTrial> key_value_trials(const std::vector<std::int64_t>& pool, const KeyValueOptions& opt,
                                            std::int64_t block_size);

}  // namespace detail

}  // namespace structlm::eval
