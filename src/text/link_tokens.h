// Word-level links (link_grammar.h) carried onto a language model's tokens, for the loss-by-
// dependency-distance and attachment measurements of docs/METHODS.md §1c. No torch here.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "text/link_grammar.h"
#include "text/tokenizer.h"

namespace structlm::text {

using ByteSpan = std::pair<std::size_t, std::size_t>;  // [begin, end) in bytes

// Byte spans of `ids` as the tokenizer decodes them, the first token starting at `start`:
// token_bytes accumulated, so the spans tile the decoded text exactly.
std::vector<ByteSpan> token_spans(const Tokenizer& tok, const std::vector<TokenId>& ids, std::size_t start = 0);

// For each token i, the token p(i) < i its word depends on, or -1.
// - A word is represented by its first token: the token whose span holds the word's first byte
//   (with GPT-2-style tokens that is the token carrying the space before the word, " dog").
// - A link (left word, right word) gives the right word's first token the left word's first
//   token as partner: a causal model sees only the left, so the right end is where the relation
//   can be used.
// - A token with several left partners keeps the nearest (largest p). Link-grammar linkages may
//   hold cycles, such as a prepositional phrase linked both to the verb and to the noun before it
//   ("chased ... cat in": in–chased MVp and in–cat Mp); the nearest is the local attachment that a
//   dependency tree would keep, so the long-distance buckets are not inflated by the second link.
// - Links whose two words start in the same token, unlocated words and words outside the
//   spans give nothing. Tokens that start no linked word get -1.
// `token_spans` are in the coordinates of the tokenized text; the sentence starts at byte
// `sentence_offset` of it (0 when the sentence was tokenized on its own).
std::vector<int> token_partners(const LinkedSentence& sentence, const std::vector<ByteSpan>& token_spans,
                                std::size_t sentence_offset = 0);

// i − p(i) for each token with a partner, 0 for those without.
std::vector<int> partner_distances(const std::vector<int>& partners);

}  // namespace structlm::text
