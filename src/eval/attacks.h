// Adversarial robustness (docs/METHODS.md §2d): how much the loss rises, and how often the top-1
// prediction flips, when the input is attacked.
//  - Embedding space: each input embedding row gets a perturbation of norm eps * (mean row norm
//    of the model's own input table): "random" (a Gaussian direction) or "gradient_sign" (FGSM:
//    sign of the loss gradient w.r.t. the input embeddings, scaled to that norm).
//  - Token level, on a prefix whose clean continuation is scored (the continuation's tokens are the
//    same with and without the attack, so losses compare): "typo" (character edits of words in
//    the prefix text: swap, delete, insert, substitute) and "hotflip" (greedy single-token
//    substitutions in the prefix, candidates ranked by the first-order estimate
//    (E_j - E_i) . grad, the best few checked exactly).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/gpt.h"
#include "text/tokenizer.h"

namespace structlm::eval {

struct AttackResult {
  std::string attack;          // "random", "gradient_sign", "typo", "hotflip"
  double strength = 0;         // eps (relative to mean embedding norm), or edits per sequence
  double clean_loss = 0, attacked_loss = 0;
  double loss_increase = 0;    // attacked - clean, mean nats per scored token
  double flip_rate = 0;        // share of scored positions whose argmax changed
  std::int64_t tokens = 0;     // scored positions
};

struct EmbeddingAttackOptions {
  std::vector<double> eps = {0.05, 0.1, 0.2, 0.4};
  std::size_t windows = 32;    // full windows of block_size + 1 tokens from the start of the stream
  int batch_size = 8;
  std::uint64_t seed = 1;
};
// One result per (attack, eps): "random" at every eps, then "gradient_sign" at every eps. Windows
// as in loss_by_position; the random direction of window w depends only on (seed, w), and is the
// same direction at every eps. Torch's global generator is not used.
// Scored positions: every target of every window; flips compare with the clean argmax.
std::vector<AttackResult> embedding_attacks(model::CausalLM& model, const data::TokenStream& stream,
                                            const EmbeddingAttackOptions& opt);
inline std::vector<AttackResult> embedding_attacks(model::GPT& model, const data::TokenStream& stream,
                                                   const EmbeddingAttackOptions& opt) {
  return embedding_attacks(*model, stream, opt);
}

struct TokenAttackOptions {
  std::vector<int> edits = {1, 2, 4};  // typos or substitutions per sequence
  std::size_t sequences = 32;
  int prefix_words = 40;               // typo: words of the attacked prefix
  int prefix_tokens = 48;              // hotflip: tokens of the attacked prefix
  int continuation_tokens = 16;        // scored, never attacked
  int hotflip_candidates = 8;          // exact checks per substitution
  std::uint64_t seed = 1;
};
// One result per entry of opt.edits, over the same sequences; only the continuation is scored.
// texts: held-out documents (a sequence is taken from each one long enough, in order): the first
// prefix_words whitespace-separated words are the prefix, the rest (from the whitespace after them)
// the continuation. encode(prefix) and encode(continuation) are concatenated, so the continuation's
// ids are the same with and without typos; the prefix's ids are cut from the left to fit the context.
// Edits hit random words of at least 2 characters (UTF-8 characters, never splitting one):
// swap two adjacent characters, delete one, insert a random lowercase letter, or substitute a
// different one. The edits of text i depend only on (seed, i), and the first e of them are the same
// for every e, so more edits extend fewer. Texts too short, or whose words cannot take max(edits)
// edits, are skipped.
std::vector<AttackResult> typo_attack(model::CausalLM& model, const text::Tokenizer& tok,
                                      const std::vector<std::string>& texts, const TokenAttackOptions& opt);
inline std::vector<AttackResult> typo_attack(model::GPT& model, const text::Tokenizer& tok,
                                             const std::vector<std::string>& texts, const TokenAttackOptions& opt) {
  return typo_attack(*model, tok, texts, opt);
}
// Sequences of prefix_tokens + continuation_tokens tokens at evenly spaced, disjoint offsets of the
// stream. Greedy rounds, max(opt.edits) of them, each recorded: the gradient of the continuation's
// loss w.r.t. the prefix's input embeddings ranks every (position, token) substitution by
// (E_j - E_i) . g over the whole vocabulary; the hotflip_candidates best are scored exactly and the
// worst for the model is kept. A position is substituted at most once, and a round whose best
// candidate does not raise the loss substitutes nothing, so the loss never falls with more edits
// (edits is an upper bound on substitutions).
std::vector<AttackResult> hotflip_attack(model::CausalLM& model, const data::TokenStream& stream,
                                         const TokenAttackOptions& opt);
inline std::vector<AttackResult> hotflip_attack(model::GPT& model, const data::TokenStream& stream,
                                                const TokenAttackOptions& opt) {
  return hotflip_attack(*model, stream, opt);
}

// The pieces of the attacks, exposed for tests.
namespace detail {
// [rows, dim] float64 CPU: Gaussian directions scaled to `norm` per row, deterministic in seed.
torch::Tensor random_perturbation(std::int64_t rows, std::int64_t dim, double norm, std::uint64_t seed);
// FGSM: norm / sqrt(d) * sign(grad) for grad [..., d]: exactly `norm` per row where no entry is 0.
torch::Tensor sign_perturbation(const torch::Tensor& grad, double norm);
// `edits` typos in `text` (see typo_attack); `applied` says how many could be made (fewer only
// when no word of 2 characters or more is left).
std::string typo_edits(const std::string& text, int edits, std::uint64_t seed, int& applied);

struct TypoSequence {
  std::vector<std::int64_t> clean;                  // prefix ids + continuation ids; empty: skipped
  std::vector<std::vector<std::int64_t>> attacked;  // the same with typos, one per opt.edits entry
};
// The sequences typo_attack scores for one text; at most max_len ids, the last
// opt.continuation_tokens of which are the continuation's.
TypoSequence typo_sequence(const text::Tokenizer& tok, const std::string& text, const TokenAttackOptions& opt,
                           std::size_t max_len, std::uint64_t seed);

struct HotflipTrace {
  std::vector<std::vector<std::int64_t>> sequences;  // [r]: the sequence after r rounds (0: clean)
  std::vector<double> losses;                        // [r]: its continuation loss, nats summed
  std::vector<std::vector<std::int64_t>> argmax;     // [r]: the model's argmax at each scored position
};
// `rounds` greedy HotFlip rounds on ids (prefix_tokens prefix, the rest the scored continuation).
HotflipTrace hotflip(model::CausalLM& model, const std::vector<std::int64_t>& ids, int prefix_tokens, int rounds,
                     int candidates);
inline HotflipTrace hotflip(model::GPT& model, const std::vector<std::int64_t>& ids, int prefix_tokens, int rounds,
                            int candidates) {
  return hotflip(*model, ids, prefix_tokens, rounds, candidates);
}
}  // namespace detail

}  // namespace structlm::eval
