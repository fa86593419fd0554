// CSTDE's dependency-retention measurements (docs/METHODS.md §1c) on held-out sentences whose
// link-grammar links are mapped onto the model's tokens (text/link_tokens.h):
// - the model's loss on each token whose link partner is k tokens to its left, bucketed by k;
// - the unlabeled attachment score of the model's induced heads against those partners: the
//   argmax of the last layer's dependency distribution D (CSTDE attention only) and, for every
//   model, the argmax of the last layer's head-averaged attention; beside them two trivial
//   baselines a structural claim must beat: the previous token as head (most link-grammar
//   partners are adjacent) and a uniformly random earlier token (its expected score, exactly);
//   all of them also per partner distance.
// Each sentence is scored on its own, after <|endoftext|> as documents start in training.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "model/gpt.h"
#include "text/link_grammar.h"
#include "text/tokenizer.h"

namespace structlm::eval {

// The induced head of each position i of one sequence from a [T, T] row-stochastic matrix:
// argmax over j in [first, i) (earlier positions only, never the token itself; `first` skips a
// prefix such as <|endoftext|> that no link can point to), -1 when that range is empty.
std::vector<int> induced_heads(const torch::Tensor& matrix, int first = 0);

struct DistanceLoss {
  double loss_sum = 0;  // nats
  std::size_t tokens = 0;
  // Tokens whose induced head is the partner: attention, D (0 without D), the previous token;
  // and the expected count for a head drawn uniformly from the earlier sentence tokens.
  std::size_t hits_attention = 0, hits_dependency = 0, hits_adjacent = 0;
  double hits_random = 0;
};

struct DependencyProbe {
  std::size_t sentences = 0, tokens_with_partner = 0;
  std::map<int, DistanceLoss> loss_by_distance;  // key: distance k = i - p(i)
  double uas_dependency = -1;  // share of partnered tokens whose D-argmax is the partner; -1: no D
  double uas_attention = 0;    // the same with the head-averaged attention of the last layer
  double uas_adjacent = 0;     // baseline: the previous token as head
  double uas_random = 0;       // baseline: a uniformly random earlier sentence token (expected)
};

// Sentences that did not parse, or whose tokens exceed the context, are skipped.
DependencyProbe probe_dependencies(model::GPT& model, const text::Tokenizer& tok,
                                   const std::vector<text::LinkedSentence>& sentences, int batch_size = 16);

}  // namespace structlm::eval
