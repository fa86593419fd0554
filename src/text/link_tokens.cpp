// Carrying word links onto tokens: the rules are in link_tokens.h.
#include "text/link_tokens.h"

#include <algorithm>

namespace structlm::text {
namespace {

// Index of the token whose span holds byte `b`, or -1. Spans are sorted and do not overlap.
int token_at(const std::vector<ByteSpan>& spans, std::size_t b) {
  auto it = std::upper_bound(spans.begin(), spans.end(), b,
                             [](std::size_t x, const ByteSpan& s) { return x < s.first; });
  if (it == spans.begin()) return -1;
  --it;
  return b < it->second ? int(it - spans.begin()) : -1;
}

}  // namespace

std::vector<ByteSpan> token_spans(const Tokenizer& tok, const std::vector<TokenId>& ids, std::size_t start) {
  std::vector<ByteSpan> spans;
  spans.reserve(ids.size());
  for (TokenId id : ids) {
    std::size_t end = start + tok.token_bytes(id).size();
    spans.emplace_back(start, end);
    start = end;
  }
  return spans;
}

std::vector<int> token_partners(const LinkedSentence& sentence, const std::vector<ByteSpan>& spans,
                                std::size_t sentence_offset) {
  std::vector<int> first_token(sentence.words.size(), -1);
  for (std::size_t w = 0; w < sentence.words.size(); ++w)
    if (sentence.words[w].located())
      first_token[w] = token_at(spans, sentence_offset + std::size_t(sentence.words[w].begin));
  std::vector<int> partner(spans.size(), -1);
  for (const WordLink& link : sentence.links) {
    if (link.left < 0 || link.right < 0 || std::size_t(link.right) >= first_token.size()) continue;
    int i = first_token[link.right], p = first_token[link.left];
    if (i < 0 || p < 0 || p >= i) continue;
    partner[i] = std::max(partner[i], p);  // the nearest left partner
  }
  return partner;
}

std::vector<int> partner_distances(const std::vector<int>& partners) {
  std::vector<int> d(partners.size(), 0);
  for (std::size_t i = 0; i < partners.size(); ++i)
    if (partners[i] >= 0) d[i] = int(i) - partners[i];
  return d;
}

}  // namespace structlm::text
