// The geometry of an embedding table and of contextual states (docs/METHODS.md §2d):
//  - isotropy I(W) (Mu & Viswanath 2018): min_c Z(c) / max_c Z(c), Z(c) = sum_w exp(c . w), c over
//    the eigenvectors of W^T W; 1 is perfectly isotropic.
//  - IsoScore (Rudman et al. 2022): from the variances along the principal axes; 1 when every
//    dimension is used equally, ~0 when one is.
//  - contextual stability: self-similarity of a token's contextual states across its occurrences
//    (Ethayarajh 2019: mean pairwise cosine, also minus the mean cosine of random state pairs, the
//    anisotropy baseline), and the overlap of the k nearest output-vocabulary rows of those states
//    across contexts (logit lens through the frozen ln_f and output matrix, so the reference set is
//    the same for every variant of one model).
//  - WordNet neighbour retrieval: for vocabulary tokens that are WordNet lemmas, hits@k of a
//    synonym or hypernym among their k nearest embedding neighbours.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "data/shard.h"
#include "data/wordnet_relations.h"
#include "model/causal_lm.h"
#include "model/gpt.h"
#include "text/tokenizer.h"

namespace structlm::eval {

double isotropy_iw(const torch::Tensor& E);  // E [V, d]
double isoscore(const torch::Tensor& E);     // E [N, d], N > 1 points

struct ContextStabilityOptions {
  int layer = -1;               // residual stream after this many blocks; -1: the middle (n_layer / 2)
  int min_occurrences = 5;      // token types with fewer occurrences in the scanned text are skipped
  int max_occurrences = 20;     // per type, the first ones
  int max_types = 300;          // the most frequent qualifying types
  int k = 10;                   // neighbours for the overlap
  std::size_t max_tokens = 100000;  // 0: the whole stream
  std::uint64_t seed = 1;       // the random pairs of the anisotropy baseline
};
struct ContextStability {
  double self_similarity = 0;           // mean over types of the mean pairwise cosine
  double baseline_cosine = 0;           // mean cosine of random pairs of states (any types)
  double self_similarity_adjusted = 0;  // self_similarity - baseline_cosine
  double knn_overlap = 0;               // mean over types of the mean pairwise |N_a ∩ N_b| / k
  std::int64_t types = 0, occurrences = 0;
};
// States come from non-overlapping windows of block_size tokens from the stream's start (as
// evaluate() reads it), at `layer`, under no-grad and eval mode (the mode is restored). Errors:
// bad options, ids outside the model's vocabulary, no qualifying type.
ContextStability contextual_stability(model::CausalLM& model, const data::TokenStream& stream,
                                      const ContextStabilityOptions& opt);
inline ContextStability contextual_stability(model::GPT& model, const data::TokenStream& stream,
                                             const ContextStabilityOptions& opt) {
  return contextual_stability(*model, stream, opt);
}

struct NeighbourRetrieval {
  double hits = 0;            // share of queries with a related token among their k neighbours
  std::int64_t queries = 0;   // tokens that are lemmas with at least one related token in the vocabulary
  int k = 10;
};
// A token is a word when it decodes to [space]letters (ASCII, at least two); its lemma is the
// lower-cased letters, so " Dog", "dog" and " dog" share one. A query is a word token whose lemma
// has a relation that is the lemma of a word token. Neighbours: cosine on E's rows, over word
// tokens only, tokens of the query's own lemma excluded. E may have more rows than the tokenizer
// has ids (a padded vocabulary); those are ignored. hits is NaN when there is no query.
NeighbourRetrieval wordnet_neighbours(const torch::Tensor& E, const text::Tokenizer& tok,
                                      const data::WordRelations& relations, int k = 10);

}  // namespace structlm::eval
